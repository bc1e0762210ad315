package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPeersRoundTrip proves every contender really seals and opens the
// state, so the benchmarks cannot measure a broken path.
func TestPeersRoundTrip(t *testing.T) {
	peers, err := Peers()
	require.NoError(t, err)
	for _, size := range Sizes {
		want := NewState(size.Bytes)
		for _, p := range peers {
			t.Run(size.Name+"/"+p.Name, func(t *testing.T) {
				tok, err := p.Seal(want)
				require.NoError(t, err)
				var got State
				require.NoError(t, p.Open(tok, &got))
				require.Equal(t, want, got)
				tampered := []byte(tok)
				tampered[len(tampered)/2] ^= 0x01
				require.Error(t, p.Open(string(tampered), new(State)))
			})
		}
	}
}

func TestFloorRoundTrip(t *testing.T) {
	f, err := NewFloor(make([]byte, 32))
	require.NoError(t, err)
	plain, err := Payload(NewState(1024))
	require.NoError(t, err)
	tok, err := f.Seal(plain)
	require.NoError(t, err)
	got, err := f.Open(tok)
	require.NoError(t, err)
	require.Equal(t, plain, got)
}

// BenchmarkRoundTrip seals a State and opens it again, per size and library.
func BenchmarkRoundTrip(b *testing.B) {
	peers, err := Peers()
	require.NoError(b, err)
	f, err := NewFloor(make([]byte, 32))
	require.NoError(b, err)
	for _, size := range Sizes {
		st := NewState(size.Bytes)
		plain, err := Payload(st)
		require.NoError(b, err)
		b.Run(size.Name+"/floor-xchacha20poly1305", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(plain)))
			for b.Loop() {
				tok, err := f.Seal(plain)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.Open(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, p := range peers {
			b.Run(size.Name+"/"+p.Name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(plain)))
				var out State
				for b.Loop() {
					tok, err := p.Seal(st)
					if err != nil {
						b.Fatal(err)
					}
					if err := p.Open(tok, &out); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
