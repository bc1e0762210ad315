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

func TestTracker(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	now := t0.Add(10 * time.Second)
	st := launchState{Record: flylaunch.Record{App: "tracked"}, Steps: []stepTime{{Step: flylaunch.StepCreateApp, MS: 1500}}}

	t.Run("resumed from another instance", func(t *testing.T) {
		tr := newTracker(st, func() time.Time { return now }, 1)
		tr.sync(flylaunch.Snapshot{
			Seq: 3, Step: flylaunch.StepLaunch, Status: flylaunch.StatusRunning,
			Record: flylaunch.Record{App: "tracked", Step: flylaunch.StepVolume},
		})
		v := tr.running()
		assert.Equal(t, phaseRunning, v.Phase)
		assert.Equal(t, 11, v.Progress, "4 done steps weigh 6.5 s of 54.5, the running one just began")
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
		tr := newTracker(launchState{Record: flylaunch.Record{App: "tracked"}}, func() time.Time { return now }, 1)
		assert.False(t, tr.apply(flylaunch.Event{Seq: 1, Time: t0, Step: flylaunch.StepCreateApp, Status: flylaunch.StatusRunning}))
		assert.True(t, tr.apply(flylaunch.Event{Seq: 2, Time: t0.Add(2 * time.Second), Step: flylaunch.StepCreateApp, Status: flylaunch.StatusCompleted}))
		assert.False(t, tr.apply(flylaunch.Event{Seq: 3, Time: t0.Add(3 * time.Second), Step: flylaunch.StepSecrets, Status: flylaunch.StatusRetrying}))
		v := tr.running()
		assert.Equal(t, int64(2000), *v.Steps[0].MS)
		assert.Equal(t, "running", v.Steps[1].State)
		assert.Equal(t, int64(7000), *v.Steps[1].MS, "the running step's time so far")
		assert.Contains(t, v.Step, "retrying")
	})
}

// TestProgressTracksTime replays a launch with the step durations a real
// one has (flysim's realistic profile at time scale 1) and checks that the
// bar tracks time: it used to jump to 50% within a fraction of a second,
// then sit for 20 s, then at 90% for another 28 s.
func TestProgressTracksTime(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	took := []struct {
		step flylaunch.Step
		d    time.Duration
	}{
		{flylaunch.StepCreateApp, 4100 * time.Millisecond}, {flylaunch.StepSecrets, 30 * time.Millisecond},
		{flylaunch.StepIPs, 60 * time.Millisecond}, {flylaunch.StepVolume, 40 * time.Millisecond},
		{flylaunch.StepLaunch, 30 * time.Millisecond}, {flylaunch.StepStarted, 20200 * time.Millisecond},
		{flylaunch.StepHealthy, 28300 * time.Millisecond},
	}
	var events []flylaunch.Event
	at := t0
	for _, s := range took {
		events = append(events, flylaunch.Event{Time: at, Step: s.step, Status: flylaunch.StatusRunning})
		at = at.Add(s.d)
		events = append(events, flylaunch.Event{Time: at, Step: s.step, Status: flylaunch.StatusCompleted})
	}
	end := at
	for now := t0; now.Before(end); now = now.Add(500 * time.Millisecond) {
		tr := newTracker(launchState{Record: flylaunch.Record{App: "timed"}}, func() time.Time { return now }, 1)
		for _, ev := range events {
			if ev.Time.After(now) {
				break
			}
			tr.apply(ev)
		}
		v := tr.running()
		want := 100 * now.Sub(t0).Seconds() / end.Sub(t0).Seconds()
		assert.InDelta(t, want, float64(v.Progress), 12, "at %v: %d%%", now.Sub(t0), v.Progress)
		assert.GreaterOrEqual(t, v.ProgressTo, v.Progress)
	}
}

// TestStepStartCarriedThroughTheSeal: a page resumed by a restarted server
// (which has none of the deploy's events) timed the running step from 0
// again (15 s before the restart, 1 s after). The sealed state carries when
// that step began.
func TestStepStartCarriedThroughTheSeal(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	st := launchState{Record: flylaunch.Record{App: "restarted", Step: flylaunch.StepLaunch}, StepStartedAt: now.Add(-15 * time.Second).UnixMilli()}
	tr := newTracker(st, func() time.Time { return now }, 1)
	tr.sync(flylaunch.Snapshot{Seq: 1, Step: flylaunch.StepStarted, Status: flylaunch.StatusRunning, Record: flylaunch.Record{App: "restarted", Step: flylaunch.StepLaunch}})
	v := tr.running()
	running := v.Steps[5]
	require.Equal(t, "running", running.State)
	require.NotNil(t, running.MS)
	assert.Equal(t, int64(15000), *running.MS)
	assert.Greater(t, v.Progress, 30, "15 s into the start wait")
}
