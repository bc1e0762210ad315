package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	flygo "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// unreachable is what the manage page says while Fly does not answer.
const unreachable = "Fly.io cannot be reached right now"

// failFly makes every Machines API call of s's simulator answer 502 until
// the test ends or fixFly.
func failFly(t *testing.T, s *testServer) {
	t.Helper()
	s.fly.sim.AddFault(flysim.Fault{Status: http.StatusBadGateway})
	t.Cleanup(s.fly.sim.ClearFaults)
}

// settle reads views until one with no change under way and returns it,
// with every view read on the way.
func settle(t *testing.T, c *wsClient) (manageView, []manageView) {
	t.Helper()
	var seen []manageView
	for {
		v := nextView(t, c)
		seen = append(seen, v)
		if !v.Busy {
			return v, seen
		}
	}
}

// noDetails checks that a view says nothing of the failure's details:
// they go to the log.
func noDetails(t *testing.T, v manageView) {
	t.Helper()
	for _, text := range []string{v.Message, v.Error} {
		for _, detail := range []string{"HTTP", "502", "flylaunch", "request id", "attempts", "bad gateway"} {
			assert.NotContains(t, strings.ToLower(text), strings.ToLower(detail))
		}
	}
}

// TestManageUnknownIsNotGone: a manage page opened while every Fly call
// fails (502) says that Fly cannot be reached, not that the Livebook is
// gone; the failure's details go to the log, not to the page; and the
// server reads again by itself, sending the state once Fly answers.
func TestManageUnknownIsNotGone(t *testing.T) {
	s := newTestServer(t, 100, 0)
	_, done := launchToDone(t, s, "unknown-app")
	tok := manageToken(t, done)

	failFly(t, s)
	c, result, v := openManage(t, s, tok)
	require.Equal(t, "resumed", result.Status)
	assert.NotEqual(t, "gone", v.State, "a failed read is no proof of deletion")
	assert.Contains(t, v.Message, unreachable)
	assert.Contains(t, v.Message, "keeps trying")
	noDetails(t, v)
	assert.Equal(t, "unknown-app", v.App)
	assert.NotEmpty(t, v.URL)
	assert.Contains(t, s.logs.String(), "502", "the details are logged")
	assert.NotContains(t, s.logs.String(), c.id, "the connection ID is not logged")
	assert.NotContains(t, s.logs.String(), tok)

	s.fly.sim.ClearFaults()
	for v.State == "" || strings.Contains(v.Message, unreachable) {
		v = nextView(t, c)
		require.NotEqual(t, "gone", v.State)
	}
	assert.Contains(t, []string{"running", "stopped"}, v.State, "the server read Fly again by itself")
	assert.Empty(t, v.Error)
}

// TestManageActionsWhileFlyFails: a Stop, Start or Delete sent while every
// Fly call fails changes nothing, does not call the Livebook gone, says
// Fly cannot be reached (the details in the log only), and the page gets
// the state by itself once Fly answers again.
func TestManageActionsWhileFlyFails(t *testing.T) {
	s := newTestServer(t, 100, 0)
	_, done := launchToDone(t, s, "failing-app")
	c, _, first := openManage(t, s, manageToken(t, done))
	require.Contains(t, []string{"running", "stopped"}, first.State)

	for _, name := range []string{"stop", "start", "delete"} {
		t.Run(name, func(t *testing.T) {
			failFly(t, s)
			r := c.action(name, map[string]string{"confirm": "failing-app"})
			require.True(t, r.OK, r.Error)
			v, seen := settle(t, c)
			for _, w := range seen {
				assert.NotEqual(t, "gone", w.State)
			}
			assert.Contains(t, v.Message, unreachable)
			assert.Contains(t, v.Error, "Nothing was changed")
			noDetails(t, v)
			machines, _, exists := s.fly.sim.Counts("failing-app")
			assert.True(t, exists)
			assert.Equal(t, 1, machines)
			assert.Equal(t, 1, s.fly.sim.VolumeCount("failing-app"))

			s.fly.sim.ClearFaults()
			for v.State == "" || strings.Contains(v.Message, unreachable) {
				v = nextView(t, c)
				require.NotEqual(t, "gone", v.State)
			}
			assert.Contains(t, []string{"running", "stopped"}, v.State, "the state, read again once Fly answers (its proxy stops an idle Livebook)")
			assert.Empty(t, v.Error)
		})
	}
}

// mutations counts the calls in after that are not reads, against before.
func mutations(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range after {
		if !strings.HasPrefix(k, http.MethodGet+" ") && n > before[k] {
			out[k] = n - before[k]
		}
	}
	return out
}

// TestManageRefusesActionsOnGone: once its Livebook is deleted, a manage
// link's stop, start or delete, sent over the protocol whatever the page
// shows, is refused with a sentence, and nothing but reads reaches Fly,
// even when an app of the same name, with a volume, exists again.
func TestManageRefusesActionsOnGone(t *testing.T) {
	s := newTestServer(t, 100, 0)
	_, done := launchToDone(t, s, "reborn-app")
	tok := manageToken(t, done)
	c, _, _ := openManage(t, s, tok)
	r := c.action("delete", map[string]string{"confirm": "reborn-app"})
	require.True(t, r.OK, r.Error)
	viewUntil(t, c, "gone")

	// The name is taken again: an app of the same name with a volume and
	// no machine, as another launch or the operator makes it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.fly.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "reborn-app", Org: defaultOrg})
	require.NoError(t, err)
	size := 1
	require.Eventually(t, func() bool { // once the new app shows (Fly's propagation)
		_, err := s.fly.client.CreateVolume(ctx, "reborn-app", flygo.CreateVolumeRequest{Name: "data", Region: "ams", SizeGb: &size})
		return err == nil
	}, time.Minute, 20*time.Millisecond)

	for _, name := range []string{"stop", "start", "delete"} {
		t.Run(name, func(t *testing.T) {
			c, _, v := openManage(t, s, tok)
			require.Equal(t, "gone", v.State)
			before := s.fly.sim.Calls()
			r := c.action(name, map[string]string{"confirm": "reborn-app"})
			require.True(t, r.OK, r.Error) // admitted as before: the state is read from Fly in the change
			v, _ = settle(t, c)
			assert.Equal(t, "gone", v.State)
			assert.Contains(t, v.Error, "no longer exists")
			assert.Contains(t, v.Error, "Nothing was changed")
			assert.Empty(t, mutations(before, s.fly.sim.Calls()), "nothing but reads reached Fly")
		})
	}
	_, _, exists := s.fly.sim.Counts("reborn-app")
	assert.True(t, exists, "the app of the same name is left alone")
	assert.Equal(t, 1, s.fly.sim.VolumeCount("reborn-app"), "and its volume")
}

// TestManageStopOfStoppedReadsOnly: a stop of a stopped Livebook only
// reports its state: it reads Fly as opening the page does, no more.
func TestManageStopOfStoppedReadsOnly(t *testing.T) {
	s := newTestServer(t, 100, 0)
	_, done := launchToDone(t, s, "idle-app")
	c, _, _ := openManage(t, s, manageToken(t, done))
	r := c.action("stop", nil)
	require.True(t, r.OK, r.Error)
	viewUntil(t, c, "stopped")

	before := s.fly.sim.Calls()
	_, _, v := openManage(t, s, manageToken(t, done))
	require.Equal(t, "stopped", v.State)
	open := calls(before, s.fly.sim.Calls())

	before = s.fly.sim.Calls()
	r = c.action("stop", nil)
	require.True(t, r.OK, r.Error)
	v, _ = settle(t, c)
	assert.Equal(t, "stopped", v.State)
	assert.Empty(t, v.Error)
	assert.LessOrEqual(t, calls(before, s.fly.sim.Calls()), open, "no more calls than reading the state")
}

// calls counts the calls in after beyond before.
func calls(before, after map[string]int) int {
	n := 0
	for k, v := range after {
		n += v - before[k]
	}
	return n
}

// TestManageViewOfErrors renders each kind of outcome of a read or a
// change: only ErrGone (or a read that says gone) is gone; any other error
// keeps the state seen before and says Fly cannot be reached, and no view
// carries the error's text, which goes to the log.
func TestManageViewOfErrors(t *testing.T) {
	logs := newLogBuffer()
	m := &manageApp{
		launchers: func(context.Context, string) (*flylaunch.Launcher, error) {
			return nil, nil // a nil Launcher refuses a bad record before it needs a client
		},
		livebookURL: func(_, u string) string { return u },
		log:         slog.New(slog.NewTextHandler(logs, nil)),
		jobs:        &jobs{ctx: context.Background()},
	}
	st := manageState{Record: flylaunch.Record{App: "viewed-app"}, Issued: time.Now()}
	api := &flylaunch.APIError{Op: "list machines", Status: http.StatusBadGateway, RequestID: "req-secret-ish", Err: errors.New("bad gateway")}
	refused := &flylaunch.APIError{Op: "stop machine", Status: http.StatusPreconditionFailed, Err: errors.New("unable to stop machine from current state: 'starting'")}
	gone := flylaunch.LaunchStatus{State: flylaunch.StateGone}
	running := flylaunch.LaunchStatus{State: flylaunch.StateRunning}
	t.Run("viewOf", func(t *testing.T) {
		tests := []struct {
			name           string
			status         flylaunch.LaunchStatus
			err            error
			state, message string
			stale          bool
			errText        string
		}{
			{"running", running, nil, "running", "is running", false, ""},
			{"gone, read", gone, nil, "gone", "no longer exists", false, ""},
			{"gone, ErrGone", gone, fmt.Errorf("stop: %w", flylaunch.ErrGone), "gone", "no longer exists", false, ""},
			{"Fly fails", gone, api, "stopped", unreachable + ": this page keeps trying. Your Livebook was last seen stopped.", true, ""},
			{"Fly fails, no state", flylaunch.LaunchStatus{}, context.DeadlineExceeded, "stopped", unreachable, true, ""},
			{"Fly fails, state unknown", flylaunch.LaunchStatus{State: flylaunch.StateUnknown}, api, "stopped", unreachable, true, ""},
			{"machine failed", flylaunch.LaunchStatus{State: flylaunch.StateFailed}, fmt.Errorf("%w: launch_failed", flylaunch.ErrMachineFailed), "stopped", "failed", false, "the machine failed"},
			{"start timeout", flylaunch.LaunchStatus{State: flylaunch.StateStarting}, fmt.Errorf("wait: %w", flylaunch.ErrStartTimeout), "starting", "starting", false, "did not start in time"},
			{"known state, Fly fails", running, api, "running", "is running", false, "did not answer as expected"},
			{"stop timeout, still stopping", flylaunch.LaunchStatus{State: flylaunch.StateStopping}, fmt.Errorf("wait: %w", flylaunch.ErrStartTimeout), "stopping", "", false, "The Livebook is busy (stopping) and did not settle in time: try again in a moment."},
			{"refused while busy", flylaunch.LaunchStatus{State: flylaunch.StateStarting}, refused, "starting", "starting", false, "The Livebook is busy (starting): try again in a moment."},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := m.viewOf(st, tt.status, tt.err, "stopped")
				assert.Equal(t, tt.state, v.State)
				assert.Contains(t, v.Message, tt.message)
				assert.Equal(t, tt.stale, v.Stale)
				if tt.errText == "" {
					assert.Empty(t, v.Error)
				} else {
					assert.Contains(t, v.Error, tt.errText)
				}
				noDetails(t, v)
				assert.NotContains(t, v.Message+v.Error, "req-secret-ish")
			})
		}
	})
	t.Run("deleted", func(t *testing.T) {
		tests := []struct {
			name           string
			err            error
			state, message string
			stale          bool
		}{
			{"deleted", nil, "gone", "Deleted:", false},
			{"app kept", fmt.Errorf("%w: viewed-app still holds 2 machine(s) that launch %s did not create", flylaunch.ErrAppKept, strings.Repeat("5e", 16)),
				"gone", "The app viewed-app and its addresses were kept", false},
			{"Fly fails", api, "running", unreachable, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := m.deleted(st, tt.err, "running")
				assert.Equal(t, tt.state, v.State)
				assert.Contains(t, v.Message, tt.message)
				assert.Equal(t, tt.stale, v.Stale)
				noDetails(t, v)
				assert.NotContains(t, v.Message+v.Error, strings.Repeat("5e", 16), "the launch ID is a detail for the log")
				assert.NotContains(t, v.Message+v.Error, "machine(s)")
			})
		}
	})
	t.Run("record refused", func(t *testing.T) {
		bad := manageState{Record: flylaunch.Record{App: "viewed-app", LaunchID: "not-a-launch-id", Region: "ams"}, Issued: time.Now()}
		v := m.change(bad, "stopping")
		assert.NotEmpty(t, v.Error)
		assert.NotContains(t, v.Error, "flylaunch")
		assert.NotContains(t, v.Error, "LaunchID")
		assert.Contains(t, v.Error, "Nothing was changed")
		assert.Regexp(t, `^[A-Z].*\.$`, v.Error, "a sentence")
	})
	assert.Contains(t, logs.String(), "req-secret-ish", "the details are in the log")
	assert.Contains(t, logs.String(), strings.Repeat("5e", 16), "the details are in the log")
}
