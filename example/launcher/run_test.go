package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runInBackground starts run with args and env and returns the URL it
// serves, its output and a stop func that cancels it and returns its error.
func runInBackground(t *testing.T, args []string, environ map[string]string) (url string, out *logBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = newLogBuffer()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, env(environ), out) }()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	url, err := out.waitMatch(wctx, servingRE, 0)
	if err != nil {
		cancel()
		t.Fatalf("run did not start: %v (returned %v); output:\n%s", err, <-done, out.String())
	}
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return url, out, stop
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestRunServesAndStops(t *testing.T) {
	dir := t.TempDir()
	url, out, stop := runInBackground(t, []string{"-addr", "127.0.0.1:0", "-data-dir", dir, "-sim-speed", "50"}, nil)

	resp, body := get(t, url)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `data-test="launch"`)
	assert.Contains(t, out.String(), "generated a key base")

	fi, err := os.Stat(filepath.Join(dir, keyBaseFile))
	require.NoError(t, err, "without SECRET_KEY_BASE the key base is kept in the data dir")
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	require.NoError(t, stop(), "a cancelled run shuts down cleanly")
	_, err = http.Get(url)
	require.Error(t, err, "nothing listens after run returns")
}

func TestRunKeyBaseFromEnv(t *testing.T) {
	const oldKeyBase = "old-key-base-0123456789abcdef0123456789"
	dir := t.TempDir()
	url, out, stop := runInBackground(t, []string{"-addr", "127.0.0.1:0", "-data-dir", dir, "-sim-speed", "500"},
		map[string]string{"SECRET_KEY_BASE": testKeyBase, "SECRET_KEY_BASE_PREVIOUS": " other-old-key-base-0123456789abcdef012 ," + oldKeyBase})
	resp, _ := get(t, url)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A page sealed under a previous key base still resumes; one sealed
	// under a key base the launcher does not know is invalid.
	st := launchState{
		Record:   flylaunch.Record{LaunchID: strings.Repeat("cd", 16), App: "rotated-key", Region: "iad"},
		Password: "rotation-test-password-0", Size: "small",
	}
	for _, tt := range []struct{ keyBase, want string }{
		{oldKeyBase, "resumed"},
		{testKeyBase, "resumed"},
		{"unknown-key-base-0123456789abcdef0123456789", "invalid"},
	} {
		sealer, err := seal.New([]byte(tt.keyBase))
		require.NoError(t, err)
		blob := sealBlob(t, sealer, st)
		c, result := dialResume(t, url, blob)
		assert.Equal(t, tt.want, result.Status, "sealed with %.10s…", tt.keyBase)
		c.conn.CloseNow()
	}

	require.NoError(t, stop())
	assert.NoFileExists(t, filepath.Join(dir, keyBaseFile))
	assert.NotContains(t, out.String(), "generated a key base")
	assert.NotContains(t, out.String(), testKeyBase, "the key base is never logged")
	assert.NotContains(t, out.String(), oldKeyBase, "nor the previous ones")
	assert.NotContains(t, out.String(), st.Password)
}

// TestHelpExitsZero: -h prints the usage and exits 0, quietly; it used to
// add "launcher: bad flags: flag: help requested" and exit 1.
func TestHelpExitsZero(t *testing.T) {
	cmd := exec.Command(bins.launcher, "-h")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "exit status 0")
	assert.Contains(t, stdout.String(), "-addr")
	assert.Empty(t, stderr.String())
}

// TestAddressInUseSaysWhy: the port is taken (by an earlier launcher that
// `go run` left behind, most often); the error says so and what to do.
func TestAddressInUseSaysWhy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	err = run(context.Background(), []string{"-data-dir", t.TempDir(), "-addr", busy.Addr().String()}, env(nil), io.Discard)
	require.ErrorIs(t, err, syscall.EADDRINUSE)
	assert.Contains(t, err.Error(), "earlier launcher")
	assert.Contains(t, err.Error(), "-addr")
}

func TestRunErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"bad flag", []string{"-bogus"}, nil, "bad flags"},
		{"short key base", []string{"-data-dir", t.TempDir()}, map[string]string{"SECRET_KEY_BASE": "tiny-kb"}, "key base"},
		{"data dir is a file", []string{"-data-dir", file}, nil, "key base"},
		{"address in use", []string{"-data-dir", t.TempDir(), "-addr", "256.0.0.1:1"}, nil, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), tt.args, env(tt.env), &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, out.String()+err.Error(), "tiny-kb", "the key base is not echoed")
		})
	}
}

// TestFreshMachine is `go run ./example/launcher` on a fresh machine: the
// built binary with default flags except the address and data dir, no
// SECRET_KEY_BASE, no Fly token, a home without anything in it.
func TestFreshMachine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startProc(t, bins.launcher, []string{"-addr", "127.0.0.1:0", "-data-dir", dir}, nil)
	assert.Regexp(t, regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`), p.URL)

	resp, body := get(t, p.URL)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self' 'sha256-", "the import map is allowed by its hash")
	assert.Contains(t, body, "Simulated Fly.io")
	m := regexp.MustCompile(`"sealkit-resume":"([^"]+)"},"integrity":\{"[^"]+":"sha384-`).FindStringSubmatch(body)
	require.NotNil(t, m, "the hooks script is pinned with SRI by the import map")
	resp, js := get(t, strings.TrimSuffix(p.URL, "/")+m[1])
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, js, "export function connectResume")

	fi, err := os.Stat(filepath.Join(dir, keyBaseFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	p.stop()
	assert.Contains(t, p.output(), "shutting down")
}

func TestServingURL(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080/"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "http://localhost:8080/"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 80}, "http://localhost:80/"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9}, "http://[::1]:9/"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, servingURL(tt.addr))
		})
	}
}

func BenchmarkServePage(b *testing.B) {
	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(b, err)
	f, err := newFly(context.Background(), config{dataDir: b.TempDir(), simSpeed: 1, flyOrg: defaultOrg}, slog.New(slog.DiscardHandler))
	require.NoError(b, err)
	srv, err := newServer(config{flyOrg: defaultOrg}, sealer, f, slog.New(slog.DiscardHandler))
	require.NoError(b, err)
	defer func() { require.NoError(b, srv.close(context.Background())) }()
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/", nil) // a host of defaultAddr
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// TestDrainStopsAcceptingFirst: on shutdown (SIGTERM in main) the
// launcher stops accepting connections before it tells its pages to
// reconnect ("going away", on both transports), so that they reconnect
// to another instance, not to this one on its way out.
func TestDrainStopsAcceptingFirst(t *testing.T) {
	url, out, stop := runInBackground(t, []string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-sim-speed", "50"},
		map[string]string{"SECRET_KEY_BASE": testKeyBase})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	ws, _ := dialResume(t, url, "")
	assert.Equal(t, phaseIdle, viewOf(t, ws.read()).Phase)
	stream := openStream(t, url)
	assert.Equal(t, "snapshot", stream.read().T)

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()

	_, _, err := ws.conn.Read(ws.ctx)
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "the WebSocket page is told to reconnect: %v", err)
	_, err = net.DialTimeout("tcp", addr, 5*time.Second)
	assert.Error(t, err, "no new connection is accepted once pages are told to reconnect")

	_, err = stream.rd.ReadString('\n')
	for err == nil { // frames written before the end, then the end
		_, err = stream.rd.ReadString('\n')
	}
	assert.ErrorIs(t, err, io.EOF, "the event stream ends cleanly")
	require.NoError(t, <-stopped)
	assert.Contains(t, out.String(), "shutting down")
}
