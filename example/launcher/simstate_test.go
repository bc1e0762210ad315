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
	out := map[string]int{}
	for name, a := range readSimState(t, dir).Apps {
		out[name] = 0
		for _, m := range a.Machines {
			if m.DestroyedAt == nil {
				out[name]++
			}
		}
	}
	return out
}

// simStateFile reads the simulator's state file in dir, as far as the
// tests look into it.
type simStateFile struct {
	Apps map[string]struct {
		ID       string `json:"id"`
		Machines map[string]struct {
			Config struct {
				Metadata map[string]string `json:"metadata"`
				Mounts   []struct {
					Volume string `json:"volume"`
				} `json:"mounts"`
			} `json:"config"`
			StoppedAt   *string `json:"stopped_at"`
			DestroyedAt *string `json:"destroyed_at"`
		} `json:"machines"`
		Volumes map[string]struct {
			DestroyedAt *string `json:"destroyed_at"`
		} `json:"volumes"`
		// Secrets hold their values: the simulator keeps them for its
		// stand-in Livebook (its API never returns them).
		Secrets map[string]struct {
			Value string `json:"value"`
		} `json:"secrets"`
	} `json:"apps"`
}

func readSimState(t testing.TB, dir string) simStateFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "flysim.json"))
	require.NoError(t, err)
	var st simStateFile
	require.NoError(t, json.Unmarshal(b, &st))
	return st
}

// simMachineStopped reports whether app's machines that are not destroyed
// are all stopped, as the simulator's state file records it.
func simMachineStopped(t testing.TB, dir, app string) bool {
	t.Helper()
	a, ok := readSimState(t, dir).Apps[app]
	require.True(t, ok, "app %s", app)
	live := 0
	for _, m := range a.Machines {
		if m.DestroyedAt != nil {
			continue
		}
		live++
		if m.StoppedAt == nil {
			return false
		}
	}
	return live > 0
}

// simVolumes counts the volumes in the simulator's state file in dir that
// are not deleted, across apps.
func simVolumes(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	for _, a := range readSimState(t, dir).Apps {
		for _, v := range a.Volumes {
			if v.DestroyedAt == nil {
				n++
			}
		}
	}
	return n
}

// jsonState returns the state of a blob's JSON envelope, to seal again.
func jsonState(t testing.TB, doc []byte) json.RawMessage {
	t.Helper()
	var env struct {
		State json.RawMessage `json:"state"`
	}
	require.NoError(t, json.Unmarshal(doc, &env))
	return env.State
}
