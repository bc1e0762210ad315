package main

import (
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLaunch(t *testing.T) {
	tests := []struct {
		name, data, wantErr string
		wantSize            string
	}{
		{"ok", `{"app":"my-book","region":"fra","size":"large"}`, "", "performance-2x"},
		{"extra fields ignored", `{"app":"my-book","region":"fra","size":"small","x":1}`, "", "shared-cpu-1x"},
		{"not json", `{`, "malformed", ""},
		{"wrong type", `{"app":1}`, "malformed", ""},
		{"bad name", `{"app":"-x","region":"fra","size":"small"}`, "invalid app name", ""},
		{"bad region", `{"app":"ok-name","region":"FRA","size":"small"}`, "unknown region", ""},
		{"bad size", `{"app":"ok-name","region":"fra","size":""}`, "unknown size", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, sz, err := parseLaunch([]byte(tt.data))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "my-book", req.App)
			assert.Equal(t, tt.wantSize, sz.Preset)
		})
	}
}

func FuzzParseLaunch(f *testing.F) {
	for _, s := range []string{`{"app":"my-book","region":"fra","size":"large"}`, `{`, `null`, `[]`, `{"app":"A"}`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, sz, err := parseLaunch(data)
		if err != nil {
			return
		}
		require.NoError(t, flylaunch.ValidateAppName(req.App))
		_, ok := findRegion(req.Region)
		require.True(t, ok)
		require.NotEmpty(t, sz.Preset)
		spec := flylaunch.Spec{App: req.App, Region: req.Region, Size: sz.Preset, MemoryMB: sz.MemoryMB}
		require.NoError(t, spec.Validate(), "whatever the page may send, flylaunch accepts")
	})
}

func TestSizesAreValidSpecs(t *testing.T) {
	for _, sz := range sizes {
		for _, r := range regions {
			spec := flylaunch.Spec{App: "x1", Region: r.Code, Size: sz.Preset, MemoryMB: sz.MemoryMB}
			assert.NoError(t, spec.Validate(), "%s in %s", sz.ID, r.Code)
		}
	}
}

// TestRunningView renders the progress view from nothing but the sealed
// state and the time, as a page resumed by a restarted server or another
// instance gets it: the steps up to the record's are done, with the times
// the state kept; the next runs, timed from the record's Since.
func TestRunningView(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a := &launchApp{fly: &fly{pace: 1}, now: func() time.Time { return now }}
	st := launchState{
		Record: flylaunch.Record{App: "tracked", Step: flylaunch.StepLaunch, Since: now.Add(-15 * time.Second)},
		Steps:  []stepTime{{Step: flylaunch.StepCreateApp, MS: 1500}},
	}
	v := a.running(st, flylaunch.StatusRunning)
	assert.Equal(t, phaseRunning, v.Phase)
	assert.Equal(t, "Wait for the machine to start…", v.Step)
	var states []string
	for _, s := range v.Steps {
		states = append(states, s.State)
	}
	assert.Equal(t, []string{"done", "done", "done", "done", "done", "running", "pending"}, states)
	require.NotNil(t, v.Steps[0].MS)
	assert.Equal(t, int64(1500), *v.Steps[0].MS, "timings kept in the sealed state survive")
	assert.Nil(t, v.Steps[1].MS, "a step done elsewhere without a timing shows none")
	require.NotNil(t, v.Steps[5].MS)
	assert.Equal(t, int64(15000), *v.Steps[5].MS, "the running step is timed from the record's Since")
	p, to, left := flylaunch.Progress(st.Step, 15*time.Second)
	assert.Equal(t, []int{int(100 * p), int(100 * to)}, []int{v.Progress, v.ProgressTo})
	assert.Equal(t, left.Milliseconds(), v.ETAMS)

	assert.Contains(t, a.running(st, flylaunch.StatusRetrying).Step, "retrying")

	// At ten times Fly's speed the same 15 s are 150 s of Fly's time, and
	// what is left passes ten times faster.
	a.fly.pace = 10
	v = a.running(st, flylaunch.StatusRunning)
	p, to, left = flylaunch.Progress(st.Step, 150*time.Second)
	assert.Equal(t, []int{int(100 * p), int(100 * to)}, []int{v.Progress, v.ProgressTo})
	assert.Equal(t, (left / 10).Milliseconds(), v.ETAMS)
}
