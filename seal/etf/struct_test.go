package etf_test

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

type launchState struct {
	LaunchID  string
	MachineID string
	URL       string
	Step      int
	Timeout   time.Duration
	Tags      []string       `etf:"labels,omitempty"`
	Secret    string         `etf:"-"`
	Extra     map[string]any `etf:",omitempty"`
	internal  int
}

func TestStructRoundTrip(t *testing.T) {
	in := launchState{LaunchID: "l1", MachineID: "m1", URL: "https://x", Step: 3, Timeout: 2 * time.Second, Secret: "s", internal: 1}
	b, err := etf.Marshal(in)
	require.NoError(t, err)
	var m any
	require.NoError(t, etf.Unmarshal(b, &m))
	assert.Equal(t, map[any]any{
		etf.Atom("launch_id"):  "l1",
		etf.Atom("machine_id"): "m1",
		etf.Atom("url"):        "https://x",
		etf.Atom("step"):       int64(3),
		etf.Atom("timeout"):    int64(2 * time.Second),
	}, m)
	var out launchState
	require.NoError(t, etf.Unmarshal(b, &out))
	in.Secret, in.internal = "", 0
	assert.Equal(t, in, out)
	t.Log(hex.EncodeToString(b))
}
