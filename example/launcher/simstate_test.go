package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// simApps reads the simulator's state file in dir and returns, per app, its
// machines that are not destroyed.
func simApps(t testing.TB, dir string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "flysim.json"))
	require.NoError(t, err)
	var st struct {
		Apps map[string]struct {
			Machines map[string]struct {
				DestroyedAt *string `json:"destroyed_at"`
			} `json:"machines"`
		} `json:"apps"`
	}
	require.NoError(t, json.Unmarshal(b, &st))
	out := map[string]int{}
	for name, a := range st.Apps {
		out[name] = 0
		for _, m := range a.Machines {
			if m.DestroyedAt == nil {
				out[name]++
			}
		}
	}
	return out
}
