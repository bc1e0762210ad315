package etf_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

func TestTupleElements(t *testing.T) {
	big := make([]any, 300)
	for i := range big {
		big[i] = int64(i)
	}
	tests := []struct {
		name  string
		value any
	}{
		{"empty", etf.Tuple{}},
		{"payload", etf.Tuple{map[string]any{"app": "lb-1"}, int64(1700000000000), int64(86400)}},
		{"nested", etf.Tuple{etf.Tuple{etf.Atom("ok"), []any{"a", 1.5}}, etf.Atom("infinity")}},
		{"large tuple", etf.Tuple(big)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := etf.Marshal(tt.value)
			require.NoError(t, err)
			got, err := etf.TupleElements(b)
			require.NoError(t, err)
			var want []etf.RawTerm
			require.NoError(t, etf.Unmarshal(b, &want))
			require.Len(t, got, len(want))
			for i := range want {
				assert.Equal(t, want[i], got[i], "element %d", i)
			}
			if len(got) > 0 {
				// Aliasing, not copying: the element shares b's memory,
				// and appending to it cannot overwrite its neighbour.
				last := got[len(got)-1]
				require.Same(t, &b[len(b)-len(last)], &last[0])
				assert.Equal(t, len(got[0]), cap(got[0]))
			}
		})
	}
}

func TestTupleElementsErrors(t *testing.T) {
	tuple, err := etf.Marshal(etf.Tuple{"a", int64(1)})
	require.NoError(t, err)
	list, err := etf.Marshal([]any{"a"})
	require.NoError(t, err)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, etf.ErrSyntax},
		{"no version byte", tuple[1:], etf.ErrSyntax},
		{"truncated", tuple[:len(tuple)-1], etf.ErrSyntax},
		{"trailing byte", append(append([]byte{}, tuple...), 0), etf.ErrSyntax},
		{"not a tuple", list, etf.ErrType},
		{"claimed arity beyond input", []byte{131, 105, 0xff, 0xff, 0xff, 0xff, 97, 1}, etf.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := etf.TupleElements(tt.in)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, got)
		})
	}
}
