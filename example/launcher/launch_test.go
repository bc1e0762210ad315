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
		require.NoError(t, validateAppName(req.App))
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

func TestTracker(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	now := t0.Add(10 * time.Second)
	st := launchState{App: "tracked", Steps: []stepTime{{Step: flylaunch.StepCreateApp, MS: 1500}}}

	t.Run("resumed from another instance", func(t *testing.T) {
		tr := newTracker(st, func() time.Time { return now })
		tr.sync(flylaunch.Snapshot{
			Seq: 3, Step: flylaunch.StepLaunch, Status: flylaunch.StatusRunning, Percent: 40,
			Record: flylaunch.Record{App: "tracked", Step: flylaunch.StepVolume},
		})
		v := tr.running()
		assert.Equal(t, phaseRunning, v.Phase)
		assert.Equal(t, 40, v.Progress)
		assert.Equal(t, "Launch the machine…", v.Step)
		states := []string{}
		for _, s := range v.Steps {
			states = append(states, s.State)
		}
		assert.Equal(t, []string{"done", "done", "done", "done", "running", "pending", "pending"}, states)
		require.NotNil(t, v.Steps[0].MS)
		assert.Equal(t, int64(1500), *v.Steps[0].MS, "timings kept in the sealed state survive")
		assert.Nil(t, v.Steps[1].MS, "a step done elsewhere without a timing shows none")
		assert.Equal(t, []stepTime{{Step: flylaunch.StepCreateApp, MS: 1500}}, tr.stepTimes())
	})

	t.Run("events", func(t *testing.T) {
		tr := newTracker(launchState{App: "tracked"}, func() time.Time { return now })
		assert.False(t, tr.apply(flylaunch.Event{Seq: 1, Time: t0, Step: flylaunch.StepCreateApp, Status: flylaunch.StatusRunning}))
		assert.True(t, tr.apply(flylaunch.Event{Seq: 2, Time: t0.Add(2 * time.Second), Step: flylaunch.StepCreateApp, Status: flylaunch.StatusCompleted, Percent: 10}))
		assert.False(t, tr.apply(flylaunch.Event{Seq: 3, Time: t0.Add(3 * time.Second), Step: flylaunch.StepSecrets, Status: flylaunch.StatusRetrying, Percent: 10}))
		v := tr.running()
		assert.Equal(t, int64(2000), *v.Steps[0].MS)
		assert.Equal(t, "running", v.Steps[1].State)
		assert.Equal(t, int64(7000), *v.Steps[1].MS, "the running step's time so far")
		assert.Contains(t, v.Step, "retrying")
	})
}
