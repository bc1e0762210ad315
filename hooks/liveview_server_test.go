package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// lvPage is the dead render of a Phoenix 1.8 root layout with one LiveView:
// the CSRF meta tag app.js reads, the bundle, and the LiveView container
// that LiveSocket joins as topic "lv:" + its id.
const lvPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="csrf-token" content="sealkit-test-csrf">
<title>ResumeHook under LiveView</title>
<script defer phx-track-static type="text/javascript" src="/assets/js/app.js"></script>
</head>
<body>
<div id="phx-sealkit" data-phx-main data-phx-session="sealkit-test-session" data-phx-static="">%s</div>
</body>
</html>
`

// probeMarkup is the element of app.js's Probe hook, which answers "ping".
const probeMarkup = `<div id="probe" phx-hook="Probe"></div>`

// lvConfig is what a LiveView of the test does.
type lvConfig struct {
	markup string // its template, rendered on every mount (after probeMarkup)
	// mountEvents are what mount/3 pushes with push_event on every mount:
	// the "e" of the join reply.
	mountEvents []lvEvent
	// errorReply tells which hook events get an error reply instead of ok.
	errorReply func(event string) bool
}

// lvEvent is a push_event: [event, payload] in a rendered diff's "e".
type lvEvent [2]any

func restoreEvent(key string) lvEvent { return lvEvent{"restore", map[string]any{"key": key}} }

// hookEvent is one pushEvent of a hook that reached the server.
type hookEvent struct {
	Event string
	Value json.RawMessage
	Mount int // the join it came in on: 1 for the first mount
}

// answer decodes a ResumeHook answer {key, data}.
func (e hookEvent) answer(t *testing.T) (key string, data *string) {
	t.Helper()
	var v struct {
		Key  string  `json:"key"`
		Data *string `json:"data"`
	}
	require.NoError(t, json.Unmarshal(e.Value, &v), "%s", e.Value)
	return v.Key, v.Data
}

// lvSite plays a Phoenix app for the real LiveView client: the dead render
// at /, the bundle at /assets/js/app.js, and a stand-in of the LiveView
// channel at /live/websocket speaking the Phoenix channel protocol V2
// (messages [join_ref, ref, topic, event, payload]). Every phx_join is a
// fresh mount, as in LiveView. Like site, its server instance can be killed
// and a new one started on the same port.
type lvSite struct {
	t    *testing.T
	addr string // 127.0.0.1:port, fixed at creation
	app  liveViewApp
	cfg  lvConfig

	mu      sync.Mutex
	cur     *lvInstance
	channel *lvChannel // the last joined LiveView channel
	joins   int
	got     []hookEvent   // every hook event, in arrival order
	changed chan struct{} // closed and replaced when joins or got change
	pings   int
}

// lvInstance is one running server process, as far as the page can tell.
type lvInstance struct {
	srv      *http.Server
	served   chan struct{}
	handlers sync.WaitGroup
	mu       sync.Mutex
	conns    map[*websocket.Conn]struct{}
}

// lvChannel is a joined LiveView channel.
type lvChannel struct {
	conn           *websocket.Conn
	joinRef, topic string
}

func newLVSite(t *testing.T, app liveViewApp, cfg lvConfig) *lvSite {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &lvSite{t: t, addr: ln.Addr().String(), app: app, cfg: cfg, changed: make(chan struct{})}
	s.serve(ln)
	t.Cleanup(s.kill)
	return s
}

func (s *lvSite) url() string { return "http://" + s.addr + "/" }

func (s *lvSite) serve(ln net.Listener) {
	in := &lvInstance{served: make(chan struct{}), conns: map[*websocket.Conn]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, lvPage, probeMarkup+s.cfg.markup)
	})
	mux.HandleFunc("GET /assets/js/app.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(s.app.bundle)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /live/websocket", func(w http.ResponseWriter, r *http.Request) {
		in.handlers.Add(1)
		defer in.handlers.Done()
		s.socket(in, w, r)
	})
	in.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(in.served)
		_ = in.srv.Serve(ln)
	}()
	s.mu.Lock()
	s.cur = in
	s.mu.Unlock()
}

// kill ends the running instance as a crash does: the listener and every
// connection close at once, WebSockets without a close frame (LiveView
// reloads the page on a clean close 1000, but reconnects after a crash).
func (s *lvSite) kill() {
	s.mu.Lock()
	in := s.cur
	s.cur = nil
	s.channel = nil
	s.mu.Unlock()
	if in == nil {
		return
	}
	_ = in.srv.Close()
	in.mu.Lock()
	for c := range in.conns {
		_ = c.CloseNow()
	}
	in.mu.Unlock()
	<-in.served
	in.handlers.Wait()
}

// start runs a new instance on the same port after kill.
func (s *lvSite) start() {
	ln, err := net.Listen("tcp", s.addr)
	require.NoError(s.t, err, "listen again on %s", s.addr)
	s.serve(ln)
}

func (s *lvSite) restart() {
	s.kill()
	s.start()
}

// socket serves one WebSocket of the Phoenix socket at /live.
func (s *lvSite) socket(in *lvInstance, w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	in.mu.Lock()
	if s.current() != in { // killed while accepting
		in.mu.Unlock()
		_ = c.CloseNow()
		return
	}
	in.conns[c] = struct{}{}
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		delete(in.conns, c)
		in.mu.Unlock()
		_ = c.CloseNow()
	}()
	ctx := context.Background() // kill ends Read by closing the connection
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := s.message(ctx, c, b); err != nil {
			if errors.Is(err, errBadMessage) {
				s.t.Errorf("live socket: %v", err)
			}
			return // or the connection went away: the page reconnects
		}
	}
}

func (s *lvSite) current() *lvInstance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// errBadMessage is a message the stand-in does not understand: a test failure.
var errBadMessage = errors.New("bad message")

// phxMessage is a decoded V2 message.
type phxMessage struct {
	joinRef, ref *string
	topic, event string
	payload      json.RawMessage
}

func decodeMessage(b []byte) (phxMessage, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil || len(parts) != 5 {
		return phxMessage{}, fmt.Errorf("%w: not V2: %.200s", errBadMessage, b)
	}
	var m phxMessage
	for _, f := range []struct {
		raw json.RawMessage
		dst any
	}{{parts[0], &m.joinRef}, {parts[1], &m.ref}, {parts[2], &m.topic}, {parts[3], &m.event}} {
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			return phxMessage{}, fmt.Errorf("%w: %.200s: %w", errBadMessage, b, err)
		}
	}
	m.payload = parts[4]
	return m, nil
}

func send(ctx context.Context, c *websocket.Conn, joinRef, ref *string, topic, event string, payload any) error {
	b, err := json.Marshal([]any{joinRef, ref, topic, event, payload})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b)
}

func reply(ctx context.Context, c *websocket.Conn, m phxMessage, status string, response any) error {
	return send(ctx, c, m.joinRef, m.ref, m.topic, "phx_reply", map[string]any{"status": status, "response": response})
}

// message answers one message of the page, as Phoenix.Socket and
// Phoenix.LiveView.Channel do for what the test uses.
func (s *lvSite) message(ctx context.Context, c *websocket.Conn, b []byte) error {
	m, err := decodeMessage(b)
	if err != nil {
		return err
	}
	switch {
	case m.event == "phx_join" && strings.HasPrefix(m.topic, "lv:"):
		rendered := map[string]any{"s": []string{probeMarkup + s.cfg.markup}}
		if len(s.cfg.mountEvents) > 0 {
			rendered["e"] = s.cfg.mountEvents
		}
		err := reply(ctx, c, m, "ok", map[string]any{"rendered": rendered, "liveview_version": s.app.version})
		if err == nil { // only now may the test push: a diff must not overtake the join reply
			s.joined(&lvChannel{conn: c, joinRef: deref(m.joinRef), topic: m.topic})
		}
		return err
	case m.event == "event":
		var p struct {
			Type  string          `json:"type"`
			Event string          `json:"event"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(m.payload, &p); err != nil || p.Type != "hook" {
			return fmt.Errorf("%w: not a hook event: %s", errBadMessage, m.payload)
		}
		s.record(p.Event, p.Value)
		if s.cfg.errorReply != nil && s.cfg.errorReply(p.Event) {
			return reply(ctx, c, m, "error", map[string]any{"reason": "refused by the test"})
		}
		return reply(ctx, c, m, "ok", map[string]any{})
	default: // heartbeat on "phoenix", phx_leave
		return reply(ctx, c, m, "ok", map[string]any{})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *lvSite) joined(ch *lvChannel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channel = ch
	s.joins++
	s.notify()
}

func (s *lvSite) record(event string, value json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, hookEvent{Event: event, Value: value, Mount: s.joins})
	s.notify()
}

// notify wakes waiters; s.mu is held.
func (s *lvSite) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// push sends push_event(socket, event, payload) to the joined LiveView: a
// "diff" message whose "e" holds the event.
func (s *lvSite) push(event string, payload any) {
	s.t.Helper()
	s.mu.Lock()
	ch := s.channel
	s.mu.Unlock()
	require.NotNil(s.t, ch, "no LiveView joined")
	joinRef := ch.joinRef
	err := send(s.t.Context(), ch.conn, &joinRef, nil, ch.topic, "diff", map[string]any{"e": []lvEvent{{event, payload}}})
	require.NoError(s.t, err)
}

// waitFor waits until cond holds for the joins and hook events so far.
func (s *lvSite) waitFor(what string, cond func(joins int, got []hookEvent) bool) {
	s.t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		joins, got, changed := s.joins, append([]hookEvent(nil), s.got...), s.changed
		s.mu.Unlock()
		if cond(joins, got) {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			s.t.Fatalf("waiting for %s: %d joins, hook events %s", what, joins, eventsString(got))
		}
	}
}

// waitJoins waits for the n-th mount.
func (s *lvSite) waitJoins(n int) {
	s.t.Helper()
	s.waitFor(fmt.Sprintf("mount %d", n), func(joins int, _ []hookEvent) bool { return joins >= n })
}

// waitAnswer waits for a restore answer for key that arrived after the
// first `from` hook events.
func (s *lvSite) waitAnswer(from int, key string) {
	s.t.Helper()
	s.waitFor("a restore answer for "+key, func(_ int, got []hookEvent) bool {
		return len(answers(s.t, got[min(from, len(got)):], key)) > 0
	})
}

// roundTrip pushes "ping" to the page and waits for its "pong": every hook
// event the page pushed before it handled the ping has then arrived.
func (s *lvSite) roundTrip() {
	s.t.Helper()
	s.mu.Lock()
	s.pings++
	n := s.pings
	s.mu.Unlock()
	s.push("ping", map[string]any{"n": n})
	want := fmt.Sprintf(`{"n":%d}`, n)
	s.waitFor("pong "+want, func(_ int, got []hookEvent) bool {
		for _, e := range got {
			if e.Event == "pong" && string(e.Value) == want {
				return true
			}
		}
		return false
	})
}

// events returns the hook events so far.
func (s *lvSite) events() []hookEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hookEvent(nil), s.got...)
}

// answers returns the restore answers for key among events.
func answers(t *testing.T, events []hookEvent, key string) []hookEvent {
	t.Helper()
	var out []hookEvent
	for _, e := range events {
		if e.Event != "restore" {
			continue
		}
		if k, _ := e.answer(t); k == key {
			out = append(out, e)
		}
	}
	return out
}

func eventsString(events []hookEvent) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "\n  mount %d: %s %s", e.Mount, e.Event, e.Value)
	}
	return b.String()
}
