package etf_test

import (
	"strings"
	"testing"

	"github.com/sealkit/sealkit/seal/etf"
)

// benchState is the shape seal seals: a few fields and a ~1 KiB string.
type benchState struct {
	LaunchID  string
	MachineID string
	Step      int64
	Done      bool
	Log       string
}

func newBenchState() benchState {
	return benchState{
		LaunchID:  "livebook-quiet-river-1234",
		MachineID: "e784e903f5e318",
		Step:      4,
		Log:       strings.Repeat("deploying machine… ", 56), // ~1 KiB
	}
}

func BenchmarkMarshalStruct(b *testing.B) {
	v := newBenchState()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = etf.AppendMarshal(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkMarshalStructNewBuffer(b *testing.B) {
	v := newBenchState()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := etf.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalStruct(b *testing.B) {
	in, err := etf.Marshal(newBenchState())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var out benchState
		if err := etf.Unmarshal(in, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealPayload is what seal does per token: encode
// {data, signed_at, max_age}, then split it into RawTerms and decode the
// data into the user's struct.
func BenchmarkSealPayload(b *testing.B) {
	v := newBenchState()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = etf.AppendMarshal(buf[:0], etf.Tuple{v, int64(1764172800000), int64(86400)})
		if err != nil {
			b.Fatal(err)
		}
		var parts []etf.RawTerm
		if err := etf.Unmarshal(buf, &parts); err != nil {
			b.Fatal(err)
		}
		var out benchState
		if err := etf.UnmarshalRaw(parts[0], &out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalAny(b *testing.B) {
	in, err := etf.Marshal(newBenchState())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var out any
		if err := etf.Unmarshal(in, &out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalMapStringAny(b *testing.B) {
	v := map[string]any{"app": "livebook-abc", "machine_id": "148e4d55f36278", "region": "ams", "step": 2, "tags": []any{"a", "b"}}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = etf.AppendMarshal(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}
