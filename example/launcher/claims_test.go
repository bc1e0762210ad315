package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	flygo "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/seal"
)

// simWorld is a standalone flysim that launcher instances and the test
// (standing in for the user, with flyctl) all talk to through fly-go.
type simWorld struct {
	sim    *flysim.Server
	url    string
	client *flaps.Client // the user's own client
}

const worldToken = "world-token"

// worldSpeed is the world's time scale. The launcher polls a -fly-api Fly
// every second or more, as it would Fly.io: at 100 that is 100 simulated
// seconds, well within the 5 idle minutes after which Fly's proxy stops a
// machine (at 1000 a poll would sleep through the machine's whole life).
const worldSpeed = 100

func newSimWorld(t *testing.T) *simWorld {
	t.Helper()
	sim, err := flysim.New(flysim.Options{Speed: worldSpeed, Token: worldToken, Seed: 3})
	require.NoError(t, err)
	ts := httptest.NewServer(sim)
	t.Cleanup(func() {
		_ = sim.Close()
		ts.Close()
	})
	client, err := flylaunch.NewClient(context.Background(), worldToken, flysim.Transport(ts.URL, nil))
	require.NoError(t, err)
	return &simWorld{sim: sim, url: ts.URL, client: client}
}

// launcher starts an in-process launcher instance on the world, as another
// process would be; quiesce waits for its watchers and cleanups to finish
// without cancelling them.
func (w *simWorld) launcher(t *testing.T) *testServer {
	t.Helper()
	api, err := url.Parse(w.url)
	require.NoError(t, err)
	c := config{dataDir: t.TempDir(), simSpeed: 1000, flyOrg: defaultOrg, flyAPI: api, flyToken: worldToken}
	return startTestServer(t, c, func(*config) {})
}

// quiesce waits until the launcher's watchers and cleanups have all run to
// their end (the test's connections must be closed first).
func (s *testServer) quiesce(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		s.srv.jobs.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		require.FailNow(t, "the launcher's goroutines did not finish", s.logs.String())
	}
}

// launchToDone launches app on s and returns the last blob the page was
// given (the record of the finished launch) and the final view.
func launchToDone(t *testing.T, s *testServer, app string) (string, view) {
	t.Helper()
	blobs, done := launchBlobs(t, s, app)
	return blobs[len(blobs)-1], done
}

// launchBlobs launches app on s to done and returns every blob the page was
// given, in order, and the final view.
func launchBlobs(t *testing.T, s *testServer, app string) ([]string, view) {
	t.Helper()
	blobs, done := launchAs(t, s, app, "", "")
	require.NotEmpty(t, blobs)
	return blobs, done
}

// resumeOnce hands blob back on a new connection and returns the final
// view the page gets.
func resumeOnce(t *testing.T, s *testServer, blob string) view {
	t.Helper()
	c, result := s.connect(t, blob)
	require.Equal(t, "resumed", result.Status)
	frames := c.readUntil(func(f frame) bool { return f.T == "clear" })
	c.conn.CloseNow()
	require.GreaterOrEqual(t, len(frames), 2)
	return viewOf(t, frames[len(frames)-2])
}

// TestOldBlobNeverDestroysUsersMachine is the data-loss sequence of the
// safe-resume issue, end to end through fly-go against flysim: launch to
// done, the user adds a machine of their own to the app and deletes the
// launch's machine, then an old copy of the blob comes back. The launcher
// reports the Livebook gone, and the user's machine and the app survive:
// before, the failure path destroyed the whole app.
func TestOldBlobNeverDestroysUsersMachine(t *testing.T) {
	w := newSimWorld(t)
	blob, done := launchToDone(t, w.launcher(t), "kept-app")
	require.Equal(t, phaseDone, done.Phase)
	s := w.launcher(t) // the page comes back to another instance, or after a restart

	ctx := waitCtx(t)
	ms, err := w.client.List(ctx, "kept-app", "")
	require.NoError(t, err)
	require.Len(t, ms, 1)
	// The user's own Livebook, without the launch's ID (an image Fly
	// cannot run would end launch_failed and be destroyed by Fly itself).
	mine, err := w.client.Launch(ctx, "kept-app", flygo.LaunchMachineInput{Region: "ams", Config: &flygo.MachineConfig{Image: flylaunch.DefaultImage}})
	require.NoError(t, err)
	require.NoError(t, w.client.Destroy(ctx, "kept-app", flygo.RemoveMachineInput{ID: ms[0].ID, Kill: true}, ""))

	v := resumeOnce(t, s, blob)
	assert.Equal(t, phaseFailed, v.Phase)
	assert.Contains(t, v.Error, "no longer exists")
	s.quiesce(t)

	var got *flygo.Machine
	require.Eventually(t, func() bool { // a new machine is invisible to Get for a moment
		got, err = w.client.Get(ctx, "kept-app", mine.ID)
		return err == nil
	}, 5*time.Second, 5*time.Millisecond, "the user's machine survives")
	assert.True(t, got.IsActive())
	_, _, exists := w.sim.Counts("kept-app")
	assert.True(t, exists, "the app survives")
	assert.Zero(t, w.sim.Calls()["DELETE /v1/apps/{app}"])
}

// TestReplayedBlobCostsOneResume replays one blob of a finished launch 200
// times at once, after the user deleted the app, and counts the Fly API
// calls at flysim: no more than one resume of it costs on a fresh
// instance, and nothing is re-created.
func TestReplayedBlobCostsOneResume(t *testing.T) {
	w := newSimWorld(t)
	blob, _ := launchToDone(t, w.launcher(t), "replayed-app")
	require.NoError(t, w.client.DeleteApp(waitCtx(t), "replayed-app"))

	s := w.launcher(t)
	before := w.sim.Calls()
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			c, _, err := tryResume(s.http.URL, blob)
			if err != nil {
				return // refused (rate limit, connection cap): costs Fly nothing
			}
			defer c.CloseNow()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for { // until the outcome or the end of the connection
				_, b, err := c.Read(ctx)
				if err != nil || strings.Contains(string(b), `"t":"clear"`) {
					return
				}
			}
		})
	}
	wg.Wait()
	s.quiesce(t)
	replays := callsSince(w.sim, before)

	before = w.sim.Calls()
	v := resumeOnce(t, w.launcher(t), blob)
	assert.Contains(t, v.Error, "no longer exists")
	one := callsSince(w.sim, before)
	require.NotEmpty(t, one)

	assert.LessOrEqual(t, total(replays), total(one), "200 replays %v, one resume %v", replays, one)
	for k := range replays {
		assert.True(t, strings.HasPrefix(k, "GET "), "replays only read: %s", k)
	}
	_, _, exists := w.sim.Counts("replayed-app")
	assert.False(t, exists, "the deleted app is not re-created")
}

// TestBlobNamingAnotherOrgIsRefused is finding 8: a validly sealed blob
// naming another org created the app in that org. The org comes from the
// server's configuration; a blob naming another opens as invalid and
// nothing reaches Fly: in the current blob format (refused by Check, which
// says why in the log), in the format before it (the envelope as Erlang
// terms, which no longer opens), and with the state of the version before
// finding 8's fix (a whole flylaunch.Record, org included) in either
// format.
func TestBlobNamingAnotherOrgIsRefused(t *testing.T) {
	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	type etfEnvelope[S any] struct { // blob format 1
		State S      `etf:"state"`
		Bind  string `etf:"bind"`
	}
	type oldState struct { // the state before finding 8's fix
		Record   flylaunch.Record `etf:"record"`
		Password string           `etf:"password"`
		Size     string           `etf:"size"`
	}
	id := strings.Repeat("ef", 16)
	elsewhere := oldState{
		Record: flylaunch.Record{LaunchID: id, App: "elsewhere-app", Org: "someone-elses-org", Region: "ams"}, Password: "a-password-0123456", Size: "small",
	}
	current := launchState{
		Record: flylaunch.Record{LaunchID: id, App: "elsewhere-app", Org: "someone-elses-org", Region: "ams"}, Size: "small", Password: "a-password-0123456",
	}
	format1 := func(state any) string {
		blob, err := sealer.Encrypt(resumeKey, etfEnvelope[any]{State: state}, seal.MaxAge(time.Hour))
		require.NoError(t, err)
		return blob
	}

	w := newSimWorld(t)
	s := w.launcher(t)
	// The launcher's own readiness probe (the form says whether launching
	// is available) is not the blob's doing: know it first.
	status, _ := getReadyz(t, s)
	require.Equal(t, http.StatusOK, status)
	probed := w.sim.Calls()
	for name, blob := range map[string]string{
		"current format":              sealBlob(t, sealer, current),
		"current format, older state": sealBlob(t, sealer, elsewhere),
		"format 1":                    format1(current),
		"format 1, older state":       format1(elsewhere),
	} {
		t.Run(name, func(t *testing.T) {
			c, result := s.connect(t, blob)
			assert.Equal(t, "invalid", result.Status)
			assert.Equal(t, "clear", c.read().T)
			c.conn.CloseNow()
		})
	}
	s.quiesce(t)
	assert.Equal(t, probed, w.sim.Calls(), "nothing reached Fly")
	assert.Contains(t, s.logs.String(), errForeignOrg.Error(), "the current format is refused for its org")
}

// TestResumeCostsALaunch is finding 2's cost half at the launcher: a
// resume that has to drive Fly passes the same per-client limit as a
// launch. Once the client spent its burst on launches, a blob this
// instance does not run is turned away (the page keeps it and retries
// later) without a Fly call; one it runs still attaches for free.
func TestResumeCostsALaunch(t *testing.T) {
	w := newSimWorld(t)
	blob, _ := launchToDone(t, w.launcher(t), "metered-app")

	s := w.launcher(t)
	var running string
	for i := range launchBurst {
		b, _ := launchToDone(t, s, "burst-"+string(rune('a'+i)))
		if i == 0 {
			running = b // ended here within the minute: attaches for free
		}
	}
	before := w.sim.Calls()
	c, result := s.connect(t, blob)
	require.Equal(t, "resumed", result.Status)
	v := viewOf(t, c.read())
	assert.Contains(t, v.Step, sentence(errRateLimited.Error()))
	e := c.read()
	assert.Equal(t, "error", e.T, "the connection ends; the page retries later")
	assert.Empty(t, callsSince(w.sim, before), "a refused resume costs Fly nothing")

	c2, result := s.connect(t, running)
	require.Equal(t, "resumed", result.Status)
	assert.Equal(t, phaseDone, viewOf(t, c2.read()).Phase, "attaching to a deploy this instance ran is free")
	assert.Empty(t, callsSince(w.sim, before))
}

// waitCtx bounds a test's waiting so a bug fails instead of hanging.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// callsSince returns the simulator's API calls since the snapshot before.
func callsSince(sim *flysim.Server, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range sim.Calls() {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func total(calls map[string]int) int {
	n := 0
	for _, v := range calls {
		n += v
	}
	return n
}

// tryResume opens a resume connection and answers restore with blob,
// without failing the test when the server refuses.
func tryResume(baseURL, blob string) (*websocket.Conn, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(baseURL, "http")+"/resume", &websocket.DialOptions{Subprotocols: []string{"sealkit.resume.v1"}})
	if err != nil {
		return nil, "", err
	}
	for range 2 { // welcome, restore
		if _, _, err := c.Read(ctx); err != nil {
			c.CloseNow()
			return nil, "", err
		}
	}
	b, _ := json.Marshal(map[string]any{"t": "restored", "v": 1, "key": resumeKey, "data": blob})
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		c.CloseNow()
		return nil, "", err
	}
	_, res, err := c.Read(ctx)
	if err != nil {
		c.CloseNow()
		return nil, "", err
	}
	return c, string(res), nil
}

// TestRestartKeepsTheStepTimer is the rough edge end to end: the
// page's running step showed 15 s before a server restart and 1 s after,
// since the restarted server had none of the deploy's history. Another
// instance (as good as a restarted one) picks the page up mid-step and
// times the step from when it began, as the sealed state says.
func TestRestartKeepsTheStepTimer(t *testing.T) {
	sim, err := flysim.New(flysim.Options{Speed: 5, Token: worldToken, Seed: 4}) // the start wait takes ~4 s
	require.NoError(t, err)
	ts := httptest.NewServer(sim)
	t.Cleanup(func() {
		_ = sim.Close()
		ts.Close()
	})
	w := &simWorld{sim: sim, url: ts.URL}
	a, b := w.launcher(t), w.launcher(t)

	c, _ := a.connect(t, "")
	c.read()
	require.True(t, c.action("launch", map[string]any{"app": "timed-app", "region": "ams", "size": "small"}).OK)
	blob := ""
	c.readUntil(func(f frame) bool {
		if f.T == "store" {
			require.NoError(t, json.Unmarshal(f.Data, &blob))
		}
		if f.T != "event" && f.T != "snapshot" {
			return false
		}
		v := viewOf(t, f)
		return len(v.Steps) == len(flylaunch.Steps()) && v.Steps[5].State == "running"
	})
	c.conn.CloseNow()
	const waited = 700 * time.Millisecond
	time.Sleep(waited) // the step runs on while the page is away

	c2, result := b.connect(t, blob)
	require.Equal(t, "resumed", result.Status)
	var v view
	c2.readUntil(func(f frame) bool {
		if f.T != "event" && f.T != "snapshot" {
			return false
		}
		v = viewOf(t, f)
		return len(v.Steps) == len(flylaunch.Steps()) && v.Steps[5].State != "pending"
	})
	require.Equal(t, "running", v.Steps[5].State, "still waiting for the machine to start")
	require.NotNil(t, v.Steps[5].MS)
	assert.GreaterOrEqual(t, *v.Steps[5].MS, waited.Milliseconds(), "the step is timed from its start, not from the restart")
}
