package flylaunch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSteps(t *testing.T) {
	steps := Steps()
	require.Len(t, steps, 7)
	var total time.Duration
	for i, s := range steps {
		assert.Equal(t, i, s.Step.index(), "in run order")
		assert.NotEmpty(t, s.Title)
		assert.Positive(t, s.Expected)
		total += s.Expected
	}
	assert.Equal(t, StepHealthy, steps[len(steps)-1].Step)
	steps[0].Title = "changed"
	assert.Equal(t, "Create the app", Steps()[0].Title, "a copy")
	assert.InDelta(t, 76.5, total.Seconds(), 0.01, "BENCHMARKS.md: the realtime launch")
}

func TestProgress(t *testing.T) {
	const total = 76.5 // seconds, Steps' sum
	tests := []struct {
		name       string
		done       Step
		runningFor time.Duration
		now, end   float64
		left       time.Duration
	}{
		{"nothing yet", "", 0, 0, 4 / total, 4 * time.Second},
		{"first step half way", "", 2 * time.Second, 2 / total, 4 / total, 2 * time.Second},
		{"negative elapsed is none", "", -time.Second, 0, 4 / total, 4 * time.Second},
		{"overdue step stops at 95%", "", time.Minute, 3.8 / total, 4 / total, 0},
		{"short step", StepCreateApp, 0, 4 / total, 4.5 / total, 500 * time.Millisecond},
		{"long wait", StepLaunch, 10 * time.Second, 17.5 / total, 48.5 / total, 31 * time.Second},
		{"healthy running", StepStarted, 28 * time.Second, (48.5 + 26.6) / total, 1, 0},
		{"finished", StepHealthy, time.Hour, 1, 1, 0},
		{"done", StepDone, 0, 1, 1, 0},
		{"unknown counts as nothing", Step("warp"), 0, 0, 4 / total, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now, end, left := Progress(tt.done, tt.runningFor)
			assert.InDelta(t, tt.now, now, 1e-9)
			assert.InDelta(t, tt.end, end, 1e-9)
			assert.Equal(t, tt.left, left)
			assert.LessOrEqual(t, now, end)
		})
	}
}

// TestRecordSince: a deploy stamps Since when it starts and as each step
// completes; a resume keeps the record's (the running step began in the
// process that died), and stamps a record that has none.
func TestRecordSince(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	rec := launchToDone(t, e, testSpec("since-livebook"))
	require.False(t, rec.Since.IsZero())
	began := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	clock := time.Date(2026, 12, 7, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	for _, tt := range []struct {
		name  string
		since time.Time
		want  time.Time
	}{
		{"kept", began, began},
		{"stamped when missing", time.Time{}, clock.UTC().Truncate(time.Millisecond)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := e.launcher(t)
			l.clock = func() time.Time { return clock }
			r := rec
			r.Since = tt.since
			d, err := l.Resume(waitCtx(t), testSpec("since-livebook"), r)
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.Record().Since)
			res, err := d.Wait(waitCtx(t))
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Record.Since, "a finished launch is only reported")
		})
	}
}
