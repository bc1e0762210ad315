package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/seal"
)

// multiMachineIDs are the three machines of TestMultiInstanceTwoTabsRollingRestart.
var multiMachineIDs = []string{"148ed193b95089", "9080e6f3a12387", "3d8d9d3ec45178"}

const (
	// multiSimSpeed runs flysim's realistic profile ten times faster
	// than Fly: a launch takes seconds, long enough for a rolling
	// restart to happen in the middle of it.
	multiSimSpeed = 10
	// flyPropagation is flylaunch's default Options.Propagation, which a
	// launcher on a -fly-api Fly uses (wall-clock time): the clean-up of
	// a failed launch waits it out before it deletes the app.
	flyPropagation = 30 * time.Second
	// multiOutcomeBound bounds how long the visitors' tabs may take to
	// reach an outcome, restarts included: far above what it takes.
	multiOutcomeBound = 3 * time.Minute
	// multiMaxConns bounds the connections one tab opens.
	multiMaxConns = 40
)

// TestMultiInstanceTwoTabsRollingRestart is issue 17's multi-instance
// scenario: three launcher processes run as three machines of one Fly app
// (one key base, distinct FLY_MACHINE_IDs, fly.toml's command line) behind
// flyProxy (round-robin, no stickiness, fly-replay), on one flysim with
// its realistic profile. Eight visitors launch at once, each from its own
// address; four of them duplicate their tab once it holds the sealed
// blob, and the copy's first connection goes to another instance than the
// first tab's (Fly-Force-Instance-Id: the round-robin would do it for
// some). Once every launch has its machine, the machines are restarted
// one after another (SIGTERM, started again on the same address with the
// same machine ID, each healthy before the next, as a rolling deploy
// does): a tab whose connection drops reconnects with the latest blob it
// holds, through the round-robin, as the page does. A restart cancels the
// clean-ups its instance scheduled, so three more two-tab visitors launch
// after the deploy, on instances that keep running but one, which is
// killed (SIGKILL) while they launch and started again.
//
// Every tab must end done, both tabs of a visitor with the same password,
// the one in Fly's LIVEBOOK_PASSWORD secret; each launch leaves exactly
// one app, one volume and one machine carrying its launch ID, and nothing
// else. Once any clean-up of a failed attempt has had time to run (past
// the propagation bound, until Fly hears no more calls), nothing has been
// deleted, and no instance panicked. It logs the Fly API calls per launch.
func TestMultiInstanceTwoTabsRollingRestart(t *testing.T) {
	const (
		token        = "multi-instance-token"
		visitors     = 8 // launching at once, during the rolling restart
		twoTabs      = 4 // of them (0..3) duplicate their tab
		twoTabsAfter = 3 // two-tab visitors launching after it
		launchCount  = visitors + twoTabsAfter
	)
	simDir := t.TempDir()
	sim, err := flysim.New(flysim.Options{DataDir: simDir, Speed: multiSimSpeed, Token: token, Seed: 17, Profile: flysim.Realistic()})
	require.NoError(t, err)
	calls := &appCalls{next: sim, byApp: map[string]int{}}
	api := httptest.NewServer(calls)
	t.Cleanup(func() { // after the launchers (cleanups run last first)
		_ = sim.Close()
		api.Close()
	})

	ft := loadFlyToml(t)
	machines := map[string]*proc{}
	var incarnations []*proc // every process that ran a machine, for their logs
	for _, id := range multiMachineIDs {
		machines[id] = startFlyMachine(t, ft, id, "127.0.0.1:0", api.URL, token)
		incarnations = append(incarnations, machines[id])
	}
	proxy := newFlyProxy(t, machines)
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)

	ctx, cancel := context.WithTimeout(context.Background(), multiOutcomeBound)
	var (
		wg       sync.WaitGroup
		tabs     []*multiTab
		launches = make([]string, launchCount) // the first blob of each
	)
	t.Cleanup(func() { // before the launchers stop, on any way out
		cancel()
		wg.Wait()
	})
	// visit starts visitor v's launch in a first tab and, for a two-tab
	// visitor, its copy: started is done once the first tab holds a blob
	// and the copy has had its result; the first tab's progressed channel
	// is returned.
	visit := func(v int, twoTab bool, started *sync.WaitGroup) <-chan struct{} {
		app := fmt.Sprintf("multi-%02d", v)
		client := clientFrom(t, fmt.Sprintf("127.0.0.%d", 10+v))
		first := &multiTab{
			app: app, name: app + "/1", front: front.URL, client: client,
			force:      multiMachineIDs[v%len(multiMachineIDs)],
			launch:     map[string]any{"app": app, "region": "ams", "size": "small"},
			first:      make(chan string, 1),
			progressed: make(chan struct{}),
		}
		tabs = append(tabs, first)
		started.Add(1)
		var second *multiTab
		if twoTab {
			// The copy's first connection goes to the next machine: two
			// instances see the launch at once.
			second = &multiTab{
				app: app, name: app + "/2", front: front.URL, client: client,
				force:    multiMachineIDs[(v+1)%len(multiMachineIDs)],
				attached: make(chan struct{}),
			}
			tabs = append(tabs, second)
			started.Add(1)
		}
		firstBlob, progressed := first.first, first.progressed // the tabs' own fields are theirs while they run
		wg.Go(func() {
			first.err = first.run(ctx)
		})
		wg.Go(func() {
			var blob string
			select {
			case blob = <-firstBlob:
			case <-ctx.Done():
			}
			started.Done()
			launches[v] = blob
			if second == nil {
				return
			}
			if blob == "" {
				second.err = errors.New("the first tab never held a blob to copy")
				started.Done()
				return
			}
			second.blob = blob
			attached := second.attached
			go func() {
				select {
				case <-attached:
				case <-ctx.Done():
				}
				started.Done()
			}()
			second.err = second.run(ctx)
		})
		return progressed
	}

	// Wave one: every visitor launches at once, the first half with a
	// second tab. The machines are restarted one after another once
	// every launch has its machine (the longest steps, waiting for it to
	// start and answer, are still to come) or has ended.
	var started sync.WaitGroup
	var progress []<-chan struct{}
	for v := range visitors {
		progress = append(progress, visit(v, v < twoTabs, &started))
	}
	waitGroup(t, &started, multiOutcomeBound, "the launches did not start")
	for _, p := range progress {
		select {
		case <-p:
		case <-ctx.Done():
			require.FailNow(t, "the launches did not get their machines in time")
		}
	}
	killTimeout := ft.KillTimeout.Duration
	for _, id := range multiMachineIDs {
		old := machines[id]
		addr := old.addr()
		require.NoError(t, old.cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-old.exited:
		case <-time.After(killTimeout):
			require.FailNow(t, "a machine did not drain within fly.toml's kill_timeout", "%s %s; output:\n%s", id, killTimeout, old.output())
		}
		assert.True(t, old.cmd.ProcessState.Success(), "machine %s exits cleanly on SIGTERM: %v", id, old.cmd.ProcessState)
		p := startFlyMachine(t, ft, id, addr, api.URL, token)
		machines[id] = p
		incarnations = append(incarnations, p)
		waitHealthy(t, p)
		proxy.markUp(id) // the deploy moves on once the machine is healthy
	}
	// Wave two, after the deploy: two-tab visitors whose instances keep
	// running, so that whatever they schedule (the clean-up of a failed
	// attempt) runs to its end.
	var startedAfter sync.WaitGroup
	for v := visitors; v < visitors+twoTabsAfter; v++ {
		visit(v, true, &startedAfter)
	}
	// And one machine dies (SIGKILL) while they launch: its drivers, and
	// whatever it had scheduled, die with it; Fly starts it again.
	waitGroup(t, &startedAfter, multiOutcomeBound, "the second wave did not start")
	killed := multiMachineIDs[1]
	old := machines[killed]
	addr := old.addr()
	old.kill()
	p := startFlyMachine(t, ft, killed, addr, api.URL, token)
	machines[killed] = p
	incarnations = append(incarnations, p)
	waitHealthy(t, p)
	proxy.markUp(killed)
	waitGroup(t, &wg, multiOutcomeBound+time.Minute, "the tabs did not end")
	outcomesAt := time.Now()

	// What the pages showed.
	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	opened := func(blob string) launchState {
		var doc []byte
		require.NoError(t, sealer.Decrypt(resumeKey, blob, &doc))
		var st launchState
		require.NoError(t, json.Unmarshal(jsonState(t, doc), &st))
		return st
	}
	reconnects := 0
	passwords := map[string]string{} // by app
	shown := map[string][]string{}   // by app: the machines of the done pages' last blobs
	for _, tb := range tabs {
		reconnects += tb.conns - 1
		t.Logf("tab %s: %d connection(s), phase %q, error %q, err %v", tb.name, tb.conns, tb.final.Phase, tb.final.Error, tb.err)
		if !assert.NoError(t, tb.err, "tab %s: %s", tb.name, strings.Join(tb.trace, "; ")) {
			continue
		}
		if !assert.Equal(t, phaseDone, tb.final.Phase, "tab %s ends done; it shows %q", tb.name, tb.final.Error) {
			continue
		}
		if pw, ok := passwords[tb.app]; ok {
			assert.Equal(t, pw, tb.final.Password, "both tabs of %s show the same password", tb.app)
		} else {
			passwords[tb.app] = tb.final.Password
		}
		if tb.lastBlob == "" {
			continue
		}
		if id := opened(tb.lastBlob).MachineID; id != "" {
			shown[tb.app] = append(shown[tb.app], id)
		}
	}
	assert.Positive(t, reconnects, "the rolling restart dropped connections of running launches")
	ids := map[string]string{} // launch ID by app
	for v, blob := range launches {
		if blob != "" {
			st := opened(blob)
			require.Equal(t, fmt.Sprintf("multi-%02d", v), st.App)
			ids[st.App] = st.LaunchID
		}
	}

	// What Fly holds once any clean-up has had its time: exactly each
	// launch's app, machine and volume; and nothing of what it held when
	// the pages showed their outcome was deleted or replaced since.
	before := flyHolds(t, simDir)
	waitQuiet(t, calls, outcomesAt.Add(flyPropagation+5*time.Second))
	after := flyHolds(t, simDir)
	apps := slices.Sorted(maps.Keys(after))
	for _, app := range slices.Sorted(maps.Keys(before)) {
		b, a := before[app], after[app]
		if !assert.Contains(t, after, app, "%s: the app was deleted after the pages showed their outcome", app) {
			continue
		}
		assert.Equal(t, b.id, a.id, "%s: the app was replaced after the pages showed their outcome", app)
		assert.Subset(t, slices.Collect(maps.Keys(b.machines)), slices.Collect(maps.Keys(a.machines)), "%s: a machine appeared after the outcome", app)
		assert.Subset(t, b.volumes, a.volumes, "%s: a volume appeared after the outcome", app)
	}
	for v := range launchCount {
		app := fmt.Sprintf("multi-%02d", v)
		got, ok := after[app]
		if !assert.True(t, ok, "launch %s left its app (apps: %v)", app, apps) {
			continue
		}
		assert.Len(t, got.machines, 1, "%s: one machine", app)
		assert.Len(t, got.volumes, 1, "%s: one volume", app)
		for _, m := range got.machines {
			assert.Equal(t, ids[app], m.launchID, "%s: the machine carries the launch's ID", app)
			assert.Equal(t, got.volumes, m.mounts, "%s: the machine mounts the launch's volume", app)
		}
		for _, id := range shown[app] {
			assert.Contains(t, got.machines, id, "%s: the machine a page showed done is still there", app)
		}
		if pw, ok := passwords[app]; ok {
			assert.Equal(t, got.password, pw, "%s: the page's password is the LIVEBOOK_PASSWORD secret", app)
		}
	}
	assert.Equal(t, launchCount, len(after), "no app but the launches' (apps: %v)", apps)

	for _, p := range incarnations {
		for _, bad := range []string{"panic:", "fatal error:", "DATA RACE"} {
			assert.NotContains(t, p.output(), bad, "an instance's output")
		}
	}

	// The cost, for the report.
	per := calls.perApp(func(app string) bool { _, ok := ids[app]; return ok })
	all, most, mostApp := 0, 0, ""
	for app, n := range per {
		all += n
		if n > most {
			most, mostApp = n, app
		}
	}
	mean := 0.0
	if len(per) > 0 {
		mean = float64(all) / float64(len(per))
	}
	t.Logf("Fly API calls per launch: mean %.1f, max %d (%s), over %d launches (%d two-tab), %d calls; other API calls (probes, app lists): %d; per launch: %v",
		mean, most, mostApp, len(per), twoTabs+twoTabsAfter, all, calls.total()-all, per)
	t.Logf("tabs: %d, reconnects: %d, proxy: %+v", len(tabs), reconnects, proxy.snapshot())
}

// multiTab is one browser tab of a visitor, speaking the resume protocol
// over WebSocket through the proxy as the page does: it hands back the
// latest blob it holds on every connection and reconnects, with backoff,
// whenever a connection ends before the launch's outcome. It never fails
// the test itself (it runs on its own goroutine): run returns what went
// wrong.
type multiTab struct {
	app    string // the visitor's launch
	name   string
	front  string       // the proxy's URL
	client *http.Client // dials from the visitor's address
	force  string       // the machine its first connection goes to
	// launch is the launch a first tab starts on its fresh connection;
	// first gets the first blob it holds. A copied tab has neither and
	// starts with blob; attached is closed once its first connection has
	// its result.
	launch   map[string]any
	first    chan string
	attached chan struct{}
	// progressed is closed once the first tab's launch has its machine
	// (the view shows the launch step done) or has ended.
	progressed chan struct{}

	blob     string
	lastBlob string // the latest blob, even once cleared
	launched bool
	conns    int
	final    view // the outcome
	err      error
	trace    []string // how each connection ended, for the failure message
}

// run connects until the tab shows the launch's outcome.
func (tb *multiTab) run(ctx context.Context) error {
	defer func() { // however it ends, the test does not wait on it
		if tb.progressed != nil {
			close(tb.progressed)
		}
	}()
	tb.lastBlob = tb.blob
	backoff := 100 * time.Millisecond
	for tb.conns < multiMaxConns {
		ended, err := tb.connect(ctx)
		if ended {
			return err
		}
		tb.trace = append(tb.trace, fmt.Sprintf("connection %d: %v", tb.conns, err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("no outcome in time: %w", ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
	return fmt.Errorf("no outcome after %d connections", tb.conns)
}

// connect runs one connection; ended says the tab has its outcome (or
// cannot go on: err says why), otherwise err is why the connection ended.
func (tb *multiTab) connect(ctx context.Context) (ended bool, err error) {
	h := http.Header{}
	if tb.conns == 0 {
		h.Set(flyForceInstance, tb.force)
	}
	tb.conns++
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(tb.front, "http")+"/resume", &websocket.DialOptions{
		Subprotocols: []string{"sealkit.resume.v1"}, HTTPClient: tb.client, HTTPHeader: h,
	})
	if err != nil {
		return false, err
	}
	defer c.CloseNow()
	read := func() (frame, []byte, error) {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return frame{}, nil, err
			}
			var f frame
			if err := json.Unmarshal(b, &f); err != nil {
				return frame{}, b, err
			}
			if f.T != "ping" {
				return f, b, nil
			}
		}
	}
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return c.Write(ctx, websocket.MessageText, b)
	}
	var restore frame
	for _, want := range []string{"welcome", "restore"} {
		f, b, err := read()
		if err != nil {
			return false, err
		}
		if f.T != want {
			return false, fmt.Errorf("%s instead of %s", b, want)
		}
		restore = f
	}
	var data any
	if tb.blob != "" {
		data = tb.blob
	}
	if err := send(map[string]any{"t": "restored", "v": 1, "key": restore.Key, "data": data}); err != nil {
		return false, err
	}
	result, b, err := read()
	switch {
	case err != nil:
		return false, err
	case result.T != "result":
		return false, fmt.Errorf("%s instead of the result", b)
	case tb.blob != "" && result.Status != "resumed", tb.blob == "" && result.Status != "fresh":
		return true, fmt.Errorf("the blob it held was not resumed: %s", b)
	}
	if tb.attached != nil {
		close(tb.attached)
		tb.attached = nil
	}
	if tb.blob == "" {
		if tb.launched || tb.launch == nil {
			return true, errors.New("the tab lost its launch: it holds no blob")
		}
		if f, b, err := read(); err != nil || f.T != "snapshot" {
			return false, fmt.Errorf("no form (%s): %v", b, err)
		}
		tb.launched = true
		if err := send(map[string]any{"t": "action", "id": "1", "name": "launch", "data": tb.launch}); err != nil {
			return true, fmt.Errorf("the launch was not sent: %w", err)
		}
	}
	var last view
	cleared := false
	for {
		f, b, err := read()
		if err != nil {
			if cleared {
				return true, fmt.Errorf("the page's state was cleared without an outcome (last view %+v): %w", last, err)
			}
			return false, err
		}
		switch f.T {
		case "store":
			if err := json.Unmarshal(f.Data, &tb.blob); err != nil {
				return true, err
			}
			tb.lastBlob = tb.blob
			if tb.first != nil {
				tb.first <- tb.blob
				tb.first = nil
			}
		case "clear":
			tb.blob, cleared = "", true
		case "snapshot", "event":
			if err := json.Unmarshal(f.Data, &last); err != nil {
				return true, err
			}
			if tb.progressed != nil && (hasMachine(last) || last.Phase == phaseDone || last.Phase == phaseFailed) {
				close(tb.progressed)
				tb.progressed = nil
			}
		case "reply":
			if !f.OK {
				return true, fmt.Errorf("launch refused: %s", f.Error)
			}
		case "error":
			return false, fmt.Errorf("%s", b)
		}
		if cleared && (last.Phase == phaseDone || last.Phase == phaseFailed) {
			tb.final = last
			return true, nil
		}
	}
}

// hasMachine reports whether v shows the launch's machine launched.
func hasMachine(v view) bool {
	for i, st := range flylaunch.Steps() {
		if st.Step == flylaunch.StepLaunch {
			return i < len(v.Steps) && v.Steps[i].State == "done"
		}
	}
	return false
}

// clientFrom returns an HTTP client whose connections come from ip (a
// loopback address): each visitor is its own client to the launchers.
func clientFrom(t *testing.T, ip string) *http.Client {
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// waitGroup waits for wg, at most bound.
func waitGroup(t *testing.T, wg *sync.WaitGroup, bound time.Duration, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(bound):
		require.FailNow(t, what, "within %s", bound)
	}
}

// waitHealthy waits until the launcher p answers /healthz with 200, as
// Fly's rolling deploy waits for a machine's health check.
func waitHealthy(t *testing.T, p *proc) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(strings.TrimSuffix(p.URL, "/") + "/healthz")
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "the restarted machine never became healthy: %s", p.output())
}

// waitQuiet waits until after not before, and until Fly has heard no call
// for a while: by then any clean-up of a failed attempt has run.
func waitQuiet(t *testing.T, calls *appCalls, notBefore time.Time) {
	t.Helper()
	const quiet = 3 * time.Second
	deadline := time.Now().Add(time.Until(notBefore) + 2*time.Minute)
	last, lastAt := calls.total(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if n := calls.total(); n != last {
			last, lastAt = n, time.Now()
			continue
		}
		if time.Now().After(notBefore) && time.Since(lastAt) >= quiet {
			return
		}
	}
	require.FailNow(t, "the launchers kept calling Fly", "%d calls so far", last)
}

// flyAppHeld is what Fly holds for one app: its ID, its live machines and
// volumes, and its LIVEBOOK_PASSWORD secret.
type flyAppHeld struct {
	id       string
	machines map[string]flyMachineHeld
	volumes  []string
	password string
}

type flyMachineHeld struct {
	launchID string // flylaunch.MetadataKey
	mounts   []string
}

// flyHolds reads what the simulator whose state is in dir holds.
func flyHolds(t *testing.T, dir string) map[string]flyAppHeld {
	t.Helper()
	out := map[string]flyAppHeld{}
	for name, a := range readSimState(t, dir).Apps {
		h := flyAppHeld{id: a.ID, machines: map[string]flyMachineHeld{}, volumes: []string{}, password: a.Secrets["LIVEBOOK_PASSWORD"].Value}
		for id, m := range a.Machines {
			if m.DestroyedAt != nil {
				continue
			}
			mounts := []string{}
			for _, mt := range m.Config.Mounts {
				mounts = append(mounts, mt.Volume)
			}
			h.machines[id] = flyMachineHeld{launchID: m.Config.Metadata[flylaunch.MetadataKey], mounts: mounts}
		}
		for id, v := range a.Volumes {
			if v.DestroyedAt == nil {
				h.volumes = append(h.volumes, id)
			}
		}
		sort.Strings(h.volumes)
		out[name] = h
	}
	return out
}

// appCalls counts the Machines API calls that reach next, per app.
type appCalls struct {
	next  http.Handler
	mu    sync.Mutex
	byApp map[string]int // "" for calls that name no app
}

func (c *appCalls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v1/apps"); ok {
		app := ""
		if name, ok := strings.CutPrefix(rest, "/"); ok {
			app, _, _ = strings.Cut(name, "/")
		} else if r.Method == http.MethodPost && r.Body != nil { // CreateApp names it in the body
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			var in struct {
				AppName string `json:"app_name"`
			}
			_ = json.Unmarshal(b, &in)
			app = in.AppName
		}
		c.mu.Lock()
		c.byApp[app]++
		c.mu.Unlock()
	}
	c.next.ServeHTTP(w, r)
}

func (c *appCalls) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.byApp {
		n += v
	}
	return n
}

// perApp returns the calls of the apps keep accepts.
func (c *appCalls) perApp(keep func(string) bool) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for app, n := range c.byApp {
		if keep(app) {
			out[app] = n
		}
	}
	return out
}
