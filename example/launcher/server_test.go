package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/hooks"
	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testServer is an in-process launcher with its own simulator.
type testServer struct {
	srv  *server
	fly  *fly
	http *httptest.Server
	logs *logBuffer
}

func newTestServer(t *testing.T, speed float64, maxLaunches int, origins ...string) *testServer {
	t.Helper()
	return newTestServerWith(t, speed, func(o *config) { o.maxLaunches, o.origins = maxLaunches, origins })
}

// newTestServerWith is newTestServer with the options configure sets.
func newTestServerWith(t *testing.T, speed float64, configure func(*config)) *testServer {
	t.Helper()
	return startTestServer(t, config{dataDir: t.TempDir(), simSpeed: speed, flyOrg: defaultOrg}, configure)
}

// startTestServer runs an in-process launcher on the Fly that c names.
func startTestServer(t *testing.T, c config, configure func(*config)) *testServer {
	t.Helper()
	logs := newLogBuffer()
	log := slog.New(slog.NewTextHandler(logs, nil))
	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	c.addr = "127.0.0.1:0"
	configure(&c)
	f, err := newFly(context.Background(), c, log)
	require.NoError(t, err)
	srv, err := newServer(c, sealer, f, log)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, srv.close(ctx))
		ts.Close()
	})
	return &testServer{srv: srv, fly: f, http: ts, logs: logs}
}

// wsClient speaks the resume protocol like the page does.
type wsClient struct {
	id   string // the connection ID from the welcome frame
	t    *testing.T
	conn *websocket.Conn
	ctx  context.Context
	next int
	// held are frames that arrived while action waited for its reply,
	// read again first: a fast action's outcome may come before its reply.
	held []frame
}

type frame struct {
	T      string          `json:"t"`
	Key    string          `json:"key"`
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data"`
	Seq    uint64          `json:"seq"`
	ID     string          `json:"id"`
	Conn   string          `json:"conn"`
	OK     bool            `json:"ok"`
	Error  string          `json:"error"`
}

// connect opens a connection with blob (empty: none) and reads up to the
// result.
func (s *testServer) connect(t *testing.T, blob string) (*wsClient, frame) {
	t.Helper()
	return dialResume(t, s.http.URL, blob)
}

// dialResume connects to the resume endpoint of the launcher at baseURL.
func dialResume(t *testing.T, baseURL, blob string) (*wsClient, frame) {
	t.Helper()
	return dialResumeHeader(t, baseURL, blob, nil)
}

// dialResumeHeader is dialResume with the request header h.
func dialResumeHeader(t *testing.T, baseURL, blob string, h http.Header) (*wsClient, frame) {
	t.Helper()
	return dialPath(t, baseURL, "/resume", blob, h)
}

// dialPath connects to the resume handler at path of the launcher at
// baseURL, hands it blob ("" for none) and reads up to the result.
func dialPath(t *testing.T, baseURL, path, blob string, h http.Header) (*wsClient, frame) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(strings.TrimSuffix(baseURL, "/"), "http")+path, &websocket.DialOptions{
		Subprotocols: []string{"sealkit.resume.v1"},
		HTTPHeader:   h,
	})
	require.NoError(t, err)
	t.Cleanup(func() { conn.CloseNow() })
	c := &wsClient{t: t, conn: conn, ctx: ctx}
	welcome := c.read()
	require.Equal(t, "welcome", welcome.T)
	c.id = welcome.Conn
	restore := c.read()
	require.Equal(t, "restore", restore.T)
	var data any
	if blob != "" {
		data = blob
	}
	c.send(map[string]any{"t": "restored", "v": 1, "key": restore.Key, "data": data})
	result := c.read()
	require.Equal(t, "result", result.T)
	return c, result
}

func (c *wsClient) read() frame {
	c.t.Helper()
	if len(c.held) > 0 {
		f := c.held[0]
		c.held = c.held[1:]
		return f
	}
	for {
		_, b, err := c.conn.Read(c.ctx)
		require.NoError(c.t, err)
		var f frame
		require.NoError(c.t, json.Unmarshal(b, &f))
		if f.T != "ping" {
			return f
		}
	}
}

// readUntil reads frames until one of type typ, returning all of them.
func (c *wsClient) readUntil(match func(frame) bool) []frame {
	c.t.Helper()
	var out []frame
	for {
		f := c.read()
		out = append(out, f)
		if match(f) {
			return out
		}
	}
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	require.NoError(c.t, err)
	require.NoError(c.t, c.conn.Write(c.ctx, websocket.MessageText, b))
}

// action sends an action and returns its reply; frames that come before
// it are held for the next reads.
func (c *wsClient) action(name string, data any) frame {
	c.t.Helper()
	c.next++
	id := strings.Repeat("a", c.next)
	c.send(map[string]any{"t": "action", "id": id, "name": name, "data": data})
	fs := c.readUntil(func(f frame) bool { return f.T == "reply" && f.ID == id })
	c.held = append(c.held, fs[:len(fs)-1]...)
	return fs[len(fs)-1]
}

func viewOf(t *testing.T, f frame) view {
	t.Helper()
	var v view
	require.NoError(t, json.Unmarshal(f.Data, &v))
	return v
}

func TestServerHeadersAndAssets(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	resp, body := get(t, s.http.URL)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, s.srv.csp, resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.NotContains(t, body, "<script>", "no inline script")
	for _, attr := range []string{`data-test="launch"`, `data-test="progress"`, `data-test="step"`, `data-test="summary"`,
		`data-test="url"`, `data-test="password"`, `data-test="manage-link"`, `data-test="error"`, `aria-live="polite"`, `<label for="app">`} {
		assert.Contains(t, body, attr)
	}

	resp, body = get(t, s.http.URL+"/manage")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, s.srv.csp, resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.NotContains(t, body, "<script>", "no inline script")
	assert.Contains(t, html.UnescapeString(body), `integrity="`+s.srv.ManageIntegrity+`"`)
	for _, attr := range []string{`data-test="manage-state"`, `data-test="stop"`, `data-test="start"`, `data-test="delete"`,
		`data-test="confirm-delete"`, `data-test="error"`} {
		assert.Contains(t, body, attr)
	}

	for _, path := range []string{s.srv.AppSrc, s.srv.ManageSrc, s.srv.StyleSrc, hooksSrc(t), "/favicon.svg", "/healthz"} {
		t.Run(path, func(t *testing.T) {
			resp, body := get(t, s.http.URL+path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.NotEmpty(t, body)
			if etag := resp.Header.Get("ETag"); etag != "" {
				req, err := http.NewRequest(http.MethodGet, s.http.URL+path, nil)
				require.NoError(t, err)
				req.Header.Set("If-None-Match", etag)
				again, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				again.Body.Close()
				assert.Equal(t, http.StatusNotModified, again.StatusCode)
			}
		})
	}

	resp, _ = get(t, s.http.URL+"/flysim/livebook/nope/")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the simulator's stand-in Livebook is mounted")
	assert.Empty(t, resp.Header.Get("Content-Security-Policy"), "and keeps its own headers")
	resp, _ = get(t, s.http.URL+"/flysim/v1/apps/nope")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the simulated Machines API needs the launcher's token")
	resp, _ = get(t, s.http.URL+"/nope")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestResumeRejectsForeignOrigin(t *testing.T) {
	s := newTestServer(t, 1000, 0, "launch.example.com")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	allowed, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.http.URL, "http")+"/resume", &websocket.DialOptions{
		Subprotocols: []string{"sealkit.resume.v1"},
		HTTPHeader:   http.Header{"Origin": {"https://launch.example.com"}},
	})
	require.NoError(t, err, "an origin given with -origin may connect")
	allowed.CloseNow()

	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.http.URL, "http")+"/resume", &websocket.DialOptions{
		Subprotocols: []string{"sealkit.resume.v1"},
		HTTPHeader:   http.Header{"Origin": {"https://evil.example"}},
	})
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	req, err := http.NewRequest(http.MethodPost, s.http.URL+"/resume/stream", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("Origin", "https://evil.example")
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	assert.Equal(t, http.StatusForbidden, r.StatusCode, "the fallback checks Origin too")
}

func TestLaunchActionValidates(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	ok := map[string]any{"app": "valid-name", "region": "iad", "size": "small"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		action  string
		data    any
		wantErr string
	}{
		{"unknown action", "destroy", ok, "unknown action"},
		{"malformed", "launch", "not an object", "malformed"},
		{"bad name", "launch", with("app", "Bad_Name"), "invalid app name"},
		{"empty name", "launch", with("app", ""), "at least 2 characters"},
		{"unknown region", "launch", with("region", "xyz"), "unknown region"},
		{"unknown size", "launch", with("size", "huge"), "unknown size"},
	}
	c, result := s.connect(t, "")
	require.Equal(t, "fresh", result.Status)
	assert.Equal(t, phaseIdle, viewOf(t, c.read()).Phase)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			r := c.action(tt.action, tt.data)
			assert.False(t, r.OK)
			assert.Contains(t, strings.ToLower(r.Error), tt.wantErr)
		})
	}
	c.t = t
	assert.NotContains(t, s.logs.String(), "valid-name", "nothing was launched")
}

func TestLaunchAndResumeOverWebSocket(t *testing.T) {
	s := newTestServer(t, 200, 0)
	c, _ := s.connect(t, "")
	c.read() // idle snapshot
	r := c.action("launch", map[string]any{"app": "ws-launch", "region": "ams", "size": "medium"})
	require.True(t, r.OK, r.Error)
	store := c.readUntil(func(f frame) bool { return f.T == "store" })
	var blob string
	require.NoError(t, json.Unmarshal(store[len(store)-1].Data, &blob))
	require.True(t, strings.HasPrefix(blob, "XCP."))
	c.conn.CloseNow()

	// Another connection with the blob resumes the same deploy to the end.
	c2, result := s.connect(t, blob)
	require.Equal(t, "resumed", result.Status)
	frames := c2.readUntil(func(f frame) bool { return f.T == "clear" })
	require.GreaterOrEqual(t, len(frames), 2)
	done := viewOf(t, frames[len(frames)-2])
	assert.Equal(t, phaseDone, done.Phase)
	assert.Equal(t, "/flysim/livebook/ws-launch/", done.URL)
	assert.Len(t, done.Password, len(rand.Text()))
	assert.Len(t, done.Steps, len(flylaunch.Steps()))
	for _, st := range done.Steps {
		assert.Equal(t, "done", st.State, st.Title)
	}
	machines, _, exists := s.fly.sim.Counts("ws-launch")
	assert.True(t, exists)
	assert.Equal(t, 1, machines)
	assert.NotContains(t, s.logs.String(), done.Password)

	// The password logs in to the stand-in Livebook.
	resp, err := http.PostForm(s.http.URL+done.URL, map[string][]string{"password": {done.Password}})
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(b), `data-test="livebook-ok"`)
}

func TestLaunchRefusals(t *testing.T) {
	s := newTestServer(t, 1, 1) // real-time simulator: the first launch keeps its slot
	s.fly.sim.ReserveName("someone-elses")
	launchOn := func(app string) frame {
		c, _ := s.connect(t, "")
		c.read()
		return c.action("launch", map[string]any{"app": app, "region": "iad", "size": "small"})
	}
	r := launchOn("someone-elses")
	assert.False(t, r.OK)
	assert.Contains(t, r.Error, "is taken")

	c, _ := s.connect(t, "")
	c.read()
	first := c.action("launch", map[string]any{"app": "first-one", "region": "iad", "size": "small"})
	require.True(t, first.OK, first.Error)
	again := c.action("launch", map[string]any{"app": "second-one", "region": "iad", "size": "small"})
	assert.False(t, again.OK)
	assert.Contains(t, again.Error, "already launching")

	r = launchOn("third-one")
	assert.False(t, r.OK)
	assert.Equal(t, sentence(errBusy.Error()), r.Error, "one launch at a time on this instance")
}

func TestLaunchRateLimitedPerClient(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	for i := range launchBurst + 1 {
		c, _ := s.connect(t, "")
		c.read()
		r := c.action("launch", map[string]any{"app": "burst-" + string(rune('a'+i)), "region": "iad", "size": "small"})
		if i < launchBurst {
			require.True(t, r.OK, "launch %d: %s", i, r.Error)
		} else {
			assert.False(t, r.OK)
			assert.Equal(t, sentence(errRateLimited.Error()), r.Error)
		}
	}
}

func TestLaunchFailureIsShownAndCleanedUp(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	s.fly.sim.SetCapacity("syd", false)
	c, _ := s.connect(t, "")
	c.read()
	r := c.action("launch", map[string]any{"app": "no-room", "region": "syd", "size": "small"})
	require.True(t, r.OK, "Fly refuses only when the machine launches: %s", r.Error)

	frames := c.readUntil(func(f frame) bool { return f.T == "clear" })
	require.GreaterOrEqual(t, len(frames), 2)
	failed := viewOf(t, frames[len(frames)-2])
	assert.Equal(t, phaseFailed, failed.Phase)
	assert.Contains(t, failed.Error, "capacity")
	assert.Empty(t, failed.Password, "a failed launch never shows the password")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := s.logs.waitMatch(ctx, regexp.MustCompile(`cleaned up failed launch" app=no-room`), 0)
	require.NoError(t, err, s.logs.String())
	_, _, exists := s.fly.sim.Counts("no-room")
	assert.False(t, exists, "the failed launch's app is destroyed, so the name can be used again")

	s.fly.sim.SetCapacity("syd", true)
	c2, _ := s.connect(t, "")
	c2.read()
	r = c2.action("launch", map[string]any{"app": "no-room", "region": "syd", "size": "small"})
	assert.True(t, r.OK, r.Error)
}

// TestLogsNeverCarryConnID launches, resumes on a second connection and
// finishes, then checks that neither connection's ID is in the log: the ID
// lets a POST to /resume/send speak for a fallback connection.
func TestLogsNeverCarryConnID(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	c, _ := s.connect(t, "")
	c.read()
	r := c.action("launch", map[string]any{"app": "quiet-logs", "region": "ams", "size": "small"})
	require.True(t, r.OK, r.Error)
	store := c.readUntil(func(f frame) bool { return f.T == "store" })
	var blob string
	require.NoError(t, json.Unmarshal(store[len(store)-1].Data, &blob))
	c.conn.CloseNow()

	c2, result := s.connect(t, blob)
	require.Equal(t, "resumed", result.Status)
	c2.readUntil(func(f frame) bool { return f.T == "clear" })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.logs.waitMatch(ctx, regexp.MustCompile(`launch finished`), 0)
	require.NoError(t, err, s.logs.String())
	require.Regexp(t, "launch (resumed|re-attached)", s.logs.String())
	for _, id := range []string{c.id, c2.id} {
		require.NotEmpty(t, id)
		assert.NotContains(t, s.logs.String(), id)
	}
}

// hooksSrc is the versioned URL of the hooks script the pages import.
func hooksSrc(t *testing.T) string {
	t.Helper()
	u, err := hooks.New().URL("/hooks", hooks.ScriptFile)
	require.NoError(t, err)
	return u
}
