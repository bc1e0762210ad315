package resume

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want clientFrame
		code errorCode // "" for success
	}{
		{name: "restored null", in: `{"t":"restored","v":1,"key":"launch","data":null}`,
			want: clientFrame{Type: typeRestored, Key: "launch"}},
		{name: "restored absent data", in: `{"t":"restored","v":1,"key":"launch"}`,
			want: clientFrame{Type: typeRestored, Key: "launch"}},
		{name: "restored token", in: `{"t":"restored","v":1,"key":"launch","data":"XCP.abc"}`,
			want: clientFrame{Type: typeRestored, Key: "launch", Token: "XCP.abc", HasToken: true}},
		{name: "restored v 1.0", in: `{"t":"restored","v":1.0,"key":"k"}`, code: codeUnsupportedVersion},
		{name: "restored v -1", in: `{"t":"restored","v":-1,"key":"k"}`, code: codeUnsupportedVersion},
		{name: "restored v null", in: `{"t":"restored","v":null,"key":"k"}`, code: codeBadFrame},
		{name: "restored v bool", in: `{"t":"restored","v":true,"key":"k"}`, code: codeBadFrame},
		{name: "restored key null", in: `{"t":"restored","v":1,"key":null}`, code: codeBadFrame},
		{name: "restored data object", in: `{"t":"restored","v":1,"key":"k","data":{}}`, code: codeBadFrame},
		{name: "action", in: `{"t":"action","id":"1","name":"launch","data":{"app":"x"}}`,
			want: clientFrame{Type: typeAction, ID: "1", Name: "launch", Data: json.RawMessage(`{"app":"x"}`)}},
		{name: "action without data", in: `{"t":"action","id":"1","name":"stop"}`,
			want: clientFrame{Type: typeAction, ID: "1", Name: "stop", Data: jsonNull}},
		{name: "action long id", in: `{"t":"action","id":"` + strings.Repeat("i", maxIDLen+1) + `","name":"x"}`, code: codeBadFrame},
		{name: "unknown member ignored", in: `{"t":"pong","future":[1,2]}`, want: clientFrame{Type: typePong}},
		{name: "pong", in: `{"t":"pong"}`, want: clientFrame{Type: typePong}},
		{name: "exact member names", in: `{"T":"pong"}`, code: codeBadFrame},
		{name: "ping from client", in: `{"t":"ping"}`, code: codeBadFrame},
		{name: "trailing garbage", in: `{"t":"pong"} x`, code: codeBadFrame},
		{name: "two objects", in: `{"t":"pong"}{"t":"pong"}`, code: codeBadFrame},
		{name: "empty", in: ``, code: codeBadFrame},
		{name: "string", in: `"pong"`, code: codeBadFrame},
		{name: "number", in: `1`, code: codeBadFrame},
		{name: "deep nesting", in: strings.Repeat("[", 2000), code: codeBadFrame},
		{name: "invalid utf8", in: "{\"t\":\"\xc3\x28\"}", code: codeBadFrame},
		{name: "too large", in: `{"t":"pong","pad":"` + strings.Repeat(" ", 2048) + `"}`, code: codeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeFrame([]byte(tt.in), 2048)
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			var pe *protocolError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.code, pe.Code)
			assert.NotEmpty(t, pe.Message)
			assert.Contains(t, err.Error(), string(tt.code))
		})
	}
}

// FuzzDecodeFrame checks that decoding never panics, that every failure
// is a *protocolError with a known code and a short message, and that every
// accepted frame is well-formed.
func FuzzDecodeFrame(f *testing.F) {
	// Seeds beyond testdata/fuzz/FuzzDecodeFrame.
	for _, s := range []string{
		`{"t":"restored","v":1,"key":"launch","data":null}`,
		`{"t":"action","id":"1","name":"launch","data":{"app":"x"}}`,
		`{"t":"pong"}`,
	} {
		f.Add([]byte(s))
	}
	codes := map[errorCode]bool{codeBadFrame: true, codeTooLarge: true, codeUnsupportedVersion: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeFrame(b, 4096)
		if err != nil {
			var pe *protocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *protocolError", err)
			}
			if !codes[pe.Code] {
				t.Fatalf("unexpected code %q", pe.Code)
			}
			if len(pe.Message) > 512 || !utf8.ValidString(pe.Message) {
				t.Fatalf("message too long or not UTF-8: %q", pe.Message)
			}
			return
		}
		switch got.Type {
		case typeRestored:
			if got.Key == "" {
				t.Fatal("restored without key")
			}
		case typeAction:
			if got.ID == "" || got.Name == "" || !json.Valid(got.Data) {
				t.Fatalf("bad action %+v", got)
			}
		case typePong:
		default:
			t.Fatalf("accepted unknown type %q", got.Type)
		}
	})
}

// TestFuzzSeeds keeps the seed corpus meaningful: every seed file parses
// as a corpus entry.
func TestFuzzSeeds(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecodeFrame", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(b), "go test fuzz v1\n"), f)
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	frames := [][]byte{
		[]byte(`{"t":"restored","v":1,"key":"launch","data":"XCP.` + strings.Repeat("A", 200) + `"}`),
		[]byte(`{"t":"action","id":"42","name":"launch","data":{"app":"livebook","region":"cdg"}}`),
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames {
			if _, err := decodeFrame(f, defaultMaxFrameSize); err != nil {
				b.Fatal(err)
			}
		}
	}
}
