package seal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// erlangState is a Go struct sealed for Erlang: structs travel as maps with
// atom keys.
type erlangState struct {
	App            string
	LaunchID       string
	MachineID      string
	SecretsVersion uint64
	Password       string
	Steps          []string
	Done           bool
}

// TestErlangReadsGoOutput has real Erlang/OTP check what Go writes:
// binary_to_term reads Go's ETF of every vector term and of a Go struct and
// re-encodes it to the same bytes, :crypto opens Go's XCP. tokens of the
// same terms, and Go's time.Time values decode to exactly the %DateTime{}
// Elixir builds for them (testdata/interop.escript, independent of Go's
// code).
func TestErlangReadsGoOutput(t *testing.T) {
	escript := erlangTool(t)
	keyBase := []byte("erlang-interop-key-base-0123456789-abcdefghijklmnopqrstuvwxyz-00")
	const salt = "interop"
	s, err := New(keyBase)
	require.NoError(t, err)

	var terms []any // each distinct vector term, decoded
	seen := map[string]bool{}
	for _, v := range loadVectors(t) {
		if v.DataETFHex == "" || seen[v.DataETFHex] {
			continue
		}
		seen[v.DataETFHex] = true
		b, err := hex.DecodeString(v.DataETFHex)
		require.NoError(t, err)
		var term any
		require.NoError(t, etf.Unmarshal(b, &term), v.Name)
		terms = append(terms, term)
	}
	require.NotEmpty(t, terms)

	var lines []string
	add := func(value any) {
		b, err := etf.Marshal(value)
		require.NoError(t, err)
		h := hex.EncodeToString(b)
		tok, err := s.Encrypt(salt, value, MaxAge(time.Hour))
		require.NoError(t, err)
		lines = append(lines,
			"etf "+h,
			fmt.Sprintf("xcp %x %x %s %s", keyBase, salt, tok, h))
	}
	for _, term := range terms {
		add(term)
	}
	add(erlangState{App: "lb-1", LaunchID: "lch_1", MachineID: "m1", SecretsVersion: 7,
		Password: "pässwörd", Steps: []string{"app", "secrets"}, Done: true})
	at := time.Date(2025, 11, 26, 16, 0, 0, 123456789, time.UTC)
	add(map[string]any{"at": at, "log": []time.Time{at, at.Add(time.Hour)}})

	// Go's time.Time is the DateTime Elixir builds for the same instant
	// (the escript builds it from the Unix microseconds, independently).
	datetimes := 0
	for _, tm := range []time.Time{
		at,
		time.Now(),
		time.Unix(-1, 999_999_999), // 1969-12-31T23:59:59.999999Z
		time.Unix(-14182940, 0),    // before 1970
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2024, 2, 29, 23, 30, 0, 5000, time.FixedZone("CET", 3600)), // written in UTC
		time.Date(2025, 7, 1, 2, 0, 0, 0, time.FixedZone("EDT", -4*3600)),
	} {
		b, err := etf.Marshal(tm)
		require.NoError(t, err)
		lines = append(lines, fmt.Sprintf("datetime %x %d", b, tm.UnixMicro()))
		datetimes++
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	require.NoError(t, os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, escript, filepath.Join("testdata", "interop.escript"), in).CombinedOutput()
	require.NoError(t, err, "%s", out)

	ok := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ok ") {
			ok++
			continue
		}
		var n int
		if _, err := fmt.Sscanf(line, "fail %d", &n); err == nil && n >= 1 && n <= len(lines) {
			t.Errorf("erlang rejected %q: %s", lines[n-1][:min(len(lines[n-1]), 120)], line)
			continue
		}
		t.Errorf("unexpected escript output: %s", line)
	}
	require.Equal(t, len(lines), ok, "every line checked and accepted by Erlang")
	t.Logf("erlang accepted %d ETF encodings, %d XCP. tokens and %d DateTimes",
		(ok-datetimes)/2, (ok-datetimes)/2, datetimes)
}

// TestErlangOpensCompressedTokens has real Erlang/OTP open tokens Go made
// with Compressed(), for the 40 terms of testdata/compressed-tokens.json
// and a Go struct with times: binary_to_term (what plug_crypto 2.1.1 and 2.2
// decode with) inflates each payload, Go's zlib output included, and finds
// {Data, SignedAt, MaxAge} with exactly the term Erlang encoded, for
// encrypted (XCP.) and signed (SFMyNTY.) tokens alike.
func TestErlangOpensCompressedTokens(t *testing.T) {
	escript := erlangTool(t)
	file := loadCompressedTokens(t)
	keyBase := []byte("erlang-interop-key-base-0123456789-abcdefghijklmnopqrstuvwxyz-00")
	const salt = "interop"
	s, err := New(keyBase)
	require.NoError(t, err)

	var lines []string
	compressed := 0
	add := func(data any, h string) {
		tok, err := s.Encrypt(salt, data, MaxAge(time.Hour), Compressed())
		require.NoError(t, err)
		signed, err := s.Sign(salt, data, MaxAge(time.Hour), Compressed())
		require.NoError(t, err)
		payload, err := s.openEncrypted(salt, tok, new([]byte))
		require.NoError(t, err)
		if payload[1] == 80 {
			compressed++
		}
		lines = append(lines,
			fmt.Sprintf("xcp %x %x %s %s", keyBase, salt, tok, h),
			fmt.Sprintf("hs256 %x %x %s %s", keyBase, salt, signed, h))
	}
	for _, term := range file.Terms {
		plain := plainData(t, term.Compressed["default"])
		var data any
		require.NoError(t, etf.Unmarshal(plain, &data), term.Name)
		add(data, hex.EncodeToString(plain))
	}
	at := time.Date(2025, 11, 26, 16, 0, 0, 123456000, time.UTC)
	type entry struct {
		time.Time
		Name string
		Log  []string
	}
	st := entry{Time: at, Name: "launch", Log: slices.Repeat([]string{"machine started"}, 50)}
	b, err := etf.Marshal(st)
	require.NoError(t, err)
	add(st, hex.EncodeToString(b))
	require.Greater(t, compressed, len(file.Terms)/2, "most payloads travel compressed")

	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	require.NoError(t, os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, escript, filepath.Join("testdata", "interop.escript"), in).CombinedOutput()
	require.NoError(t, err, "%s", out)
	ok := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "ok ") {
			ok++
		} else {
			t.Errorf("erlang: %s", line)
		}
	}
	require.Equal(t, len(lines), ok, "every token opened by Erlang to its term")
	t.Logf("erlang opened %d Go-made tokens with Compressed(), %d of %d payloads compressed", ok, compressed, len(lines)/2)
}

// erlangTool finds escript with :crypto, skipping when it is missing unless
// SEALKIT_REQUIRE_TOOLS=1 (make test installs Erlang and sets it).
func erlangTool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("escript")
	if err == nil {
		err = exec.Command("erl", "-noshell", "-eval", "ok = application:start(crypto), halt().").Run()
	}
	if err != nil {
		if os.Getenv("SEALKIT_REQUIRE_TOOLS") == "1" {
			t.Fatalf("Erlang with :crypto is required (apt-get install erlang-base erlang-crypto): %v", err)
		}
		t.Skipf("Erlang with :crypto not available (%v); make test installs it", err)
	}
	return path
}
