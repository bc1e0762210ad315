package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flyProxy stands in for Fly.io's proxy in front of the machines of one
// app, as hard as Fly's where it matters here:
//
//   - it balances requests over the machines round-robin, per path, with
//     no stickiness: two consecutive POSTs of a page never reach the same
//     machine, and two consecutive page connections neither;
//   - a machine that refuses the connection is marked down and the request
//     goes to the next one (a stopped machine is taken out of rotation);
//   - it sets Fly-Client-IP to the client's address and appends the
//     client's and then the app's own address to X-Forwarded-For, as Fly
//     documents (the right-most entry is the app's address);
//   - a request with the Fly-Force-Instance-Id header goes to that machine
//     only, as Fly documents it (a machine that is unknown or down is an
//     error, no other machine is tried);
//   - it honours "fly-replay: instance=<id>" in an answer: the same request
//     (body included, at most 1 MB as Fly) goes to that machine, with a
//     Fly-Replay-Src header, and its answer goes to the client instead. A
//     replay to a machine that is unknown or down, or a replayed request
//     answered with another fly-replay, is a 502: Fly errors too.
type flyProxy struct {
	rp       *httputil.ReverseProxy
	tr       *http.Transport
	machines []*flyMachine

	// noWebSocket refuses WebSocket upgrades, so pages use the fallback.
	noWebSocket bool

	mu    sync.Mutex
	next  map[string]int // the next machine to pick, per path
	stats flyProxyStats
}

// flyMachine is one machine behind the proxy.
type flyMachine struct {
	id   string
	host string // host:port it listens on
	down bool
}

// flyProxyStats is what the proxy saw.
type flyProxyStats struct {
	// replays counts the /resume/send requests replayed on the machine a
	// fly-replay named; direct counts every request answered by the
	// machine the balancer picked, per machine.
	replays int
	direct  map[string]int
	// sendStatus counts the final statuses of /resume/send answers.
	sendStatus map[int]int
	// holder is the machine that opened the last page connection (an event
	// stream or a WebSocket).
	holder string
}

// flyAppAddr is the app's own (shared) address, the right-most entry
// Fly's proxy puts in X-Forwarded-For.
const flyAppAddr = "66.241.124.10"

// flyForceInstance is the request header that sends a request to one
// machine (https://fly.io/docs/networking/request-headers/).
const flyForceInstance = "Fly-Force-Instance-Id"

// flyReplayLimit is the largest request Fly replays.
const flyReplayLimit = 1 << 20

func newFlyProxy(t testing.TB, machines map[string]*proc) *flyProxy {
	p := &flyProxy{tr: &http.Transport{}, next: map[string]int{}, stats: flyProxyStats{direct: map[string]int{}, sendStatus: map[int]int{}}}
	t.Cleanup(p.tr.CloseIdleConnections)
	for id, m := range machines {
		p.machines = append(p.machines, &flyMachine{id: id, host: m.addr()})
	}
	p.rp = &httputil.ReverseProxy{
		Transport: p,
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "fly-app.internal" // RoundTrip picks the machine
			r.Out.Host = r.In.Host
			client, _, _ := net.SplitHostPort(r.In.RemoteAddr)
			r.Out.Header.Set("Fly-Client-IP", client)
			xff := append(r.In.Header.Values("X-Forwarded-For"), client, flyAppAddr)
			r.Out.Header.Set("X-Forwarded-For", strings.Join(xff, ", "))
			r.Out.Header.Set("X-Forwarded-Proto", "http")
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "fly proxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p
}

func (p *flyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.noWebSocket && r.Header.Get("Upgrade") != "" {
		http.Error(w, "no WebSocket here", http.StatusBadGateway)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// RoundTrip delivers one request: to the next machine up, then, if it
// answers with fly-replay, to the machine named there.
func (p *flyProxy) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readReplayable(req)
	if err != nil {
		return nil, err
	}
	forced := req.Header.Get(flyForceInstance)
	for range p.machines {
		m := p.pick(req.URL.Path)
		if forced != "" {
			if m = p.machine(forced); m == nil {
				return nil, fmt.Errorf("%s %q: no such machine up", flyForceInstance, forced)
			}
		}
		if m == nil {
			break
		}
		resp, err := p.send(req, body, m, "")
		if isRefused(err) {
			p.markDown(m)
			if forced != "" {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if replay := resp.Header.Get("Fly-Replay"); replay != "" {
			resp.Body.Close()
			return p.replay(req, body, m, replay)
		}
		p.record(req, resp, m, false)
		return resp, nil
	}
	return nil, errors.New("no machine up")
}

// replay follows a fly-replay answer of machine from.
func (p *flyProxy) replay(req *http.Request, body []byte, from *flyMachine, header string) (*http.Response, error) {
	if body == nil && req.Body != nil && req.Body != http.NoBody {
		return nil, errors.New("request too large to replay")
	}
	fields := map[string]string{}
	for _, f := range strings.Split(header, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	to := p.machine(fields["instance"])
	if to == nil || len(fields) != 1 {
		return nil, fmt.Errorf("cannot replay %q", header)
	}
	src := fmt.Sprintf("instance=%s;region=ams;t=%d", from.id, time.Now().UnixMicro())
	resp, err := p.send(req, body, to, src)
	if err != nil {
		return nil, fmt.Errorf("replay to %s: %w", to.id, err)
	}
	if resp.Header.Get("Fly-Replay") != "" {
		resp.Body.Close()
		return nil, errors.New("a replayed request asked for another replay")
	}
	p.record(req, resp, to, true)
	return resp, nil
}

// send delivers req with body to m.
func (p *flyProxy) send(req *http.Request, body []byte, m *flyMachine, replaySrc string) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Host = m.host
	switch {
	case body == nil: // too large to replay: streamed once
	case len(body) == 0:
		out.Body, out.ContentLength = http.NoBody, 0
	default:
		out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	if replaySrc != "" {
		out.Header.Set("Fly-Replay-Src", replaySrc)
	}
	return p.tr.RoundTrip(out)
}

// readReplayable reads a request body of at most flyReplayLimit, so that
// it can be sent again; a larger one is left to stream (nil).
func readReplayable(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return []byte{}, nil
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, flyReplayLimit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > flyReplayLimit {
		req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), req.Body))
		return nil, nil
	}
	return b, nil
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// pick returns the next machine up for a request to path.
func (p *flyProxy) pick(path string) *flyMachine {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.machines {
		m := p.machines[p.next[path]%len(p.machines)]
		p.next[path]++
		if !m.down {
			return m
		}
	}
	return nil
}

func (p *flyProxy) machine(id string) *flyMachine {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.machines {
		if m.id == id && !m.down {
			return m
		}
	}
	return nil
}

func (p *flyProxy) markDown(m *flyMachine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m.down = true
}

// markUp puts machine id back in rotation: it was started again on the
// same address, as Fly restarts a machine in place on a deploy.
func (p *flyProxy) markUp(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.machines {
		if m.id == id {
			m.down = false
		}
	}
}

func (p *flyProxy) record(req *http.Request, resp *http.Response, m *flyMachine, replayed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !replayed {
		p.stats.direct[m.id]++
	}
	switch {
	case strings.HasSuffix(req.URL.Path, "/resume/send"):
		p.stats.sendStatus[resp.StatusCode]++
		if replayed {
			p.stats.replays++
		}
	case strings.HasSuffix(req.URL.Path, "/resume/stream") && resp.StatusCode == http.StatusOK,
		strings.HasSuffix(req.URL.Path, "/resume") && resp.StatusCode == http.StatusSwitchingProtocols:
		p.stats.holder = m.id
	}
}

// snapshot returns a copy of the proxy's stats.
func (p *flyProxy) snapshot() flyProxyStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.direct = make(map[string]int, len(p.stats.direct))
	for k, v := range p.stats.direct {
		s.direct[k] = v
	}
	s.sendStatus = make(map[int]int, len(p.stats.sendStatus))
	for k, v := range p.stats.sendStatus {
		s.sendStatus[k] = v
	}
	return s
}

// TestFlyProxyReplays checks the stand-in itself against two plain
// servers: round-robin, Fly's client headers, replay of the body to the
// named machine with Fly-Replay-Src, 502 for a replay it cannot follow,
// and a refused machine taken out of rotation.
func TestFlyProxyReplays(t *testing.T) {
	type seen struct{ machine, body, clientIP, xff, replaySrc string }
	got := make(chan seen, 16)
	machine := func(id string) *http.Server {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- seen{id, string(b), r.Header.Get("Fly-Client-IP"), r.Header.Get("X-Forwarded-For"), r.Header.Get("Fly-Replay-Src")}
			if to := r.URL.Query().Get("replay"); to != "" && to != id {
				w.Header().Set("Fly-Replay", "instance="+to)
				w.WriteHeader(http.StatusConflict)
			}
		})}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		srv.Addr = ln.Addr().String()
		return srv
	}
	a, b := machine("a"), machine("b")
	p := newFlyProxy(t, nil)
	p.machines = []*flyMachine{{id: "a", host: a.Addr}, {id: "b", host: b.Addr}}
	front := &http.Server{Handler: p}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = front.Serve(ln) }()
	t.Cleanup(func() { _ = front.Close() })
	base := "http://" + ln.Addr().String()

	post := func(query, body string, hdr http.Header) int {
		req, err := http.NewRequest(http.MethodPost, base+"/resume/send?"+query, strings.NewReader(body))
		require.NoError(t, err)
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	require.Equal(t, http.StatusOK, post("", "1", http.Header{"X-Forwarded-For": {"10.66.0.1"}}))
	first := <-got
	require.Equal(t, "127.0.0.1", first.clientIP)
	require.Equal(t, "10.66.0.1, 127.0.0.1, "+flyAppAddr, first.xff, "Fly appends the client, then the app's address")
	require.Equal(t, http.StatusOK, post("", "2", nil))
	second := <-got
	require.NotEqual(t, first.machine, second.machine, "round-robin")

	// The next request goes to a; it names b, which gets the same body.
	require.Equal(t, "a", p.machines[p.next["/resume/send"]%2].id)
	require.Equal(t, http.StatusOK, post("replay=b", "payload", nil))
	require.Equal(t, "a", (<-got).machine)
	replayed := <-got
	require.Equal(t, "b", replayed.machine)
	require.Equal(t, "payload", replayed.body)
	require.True(t, strings.HasPrefix(replayed.replaySrc, "instance=a;"), replayed.replaySrc)
	require.Equal(t, 1, p.snapshot().replays)

	require.Equal(t, http.StatusBadGateway, post("replay=nowhere", "x", nil), "a replay to an unknown machine fails")
	<-got

	for range 2 { // whatever the balancer's turn
		require.Equal(t, http.StatusOK, post("", "forced", http.Header{flyForceInstance: {"b"}}))
		require.Equal(t, "b", (<-got).machine, "a forced request goes to that machine")
	}
	require.Equal(t, http.StatusBadGateway, post("", "x", http.Header{flyForceInstance: {"nowhere"}}), "forced to an unknown machine")

	require.NoError(t, b.Close())
	for i := range 3 {
		require.Equal(t, http.StatusOK, post("", fmt.Sprint(i), nil), "a machine that refuses is skipped")
		require.Equal(t, "a", (<-got).machine)
	}
	require.Equal(t, http.StatusBadGateway, post("", "x", http.Header{flyForceInstance: {"b"}}), "forced to a machine that is down")

	b = machine("b") // started again, on another port here: point the proxy at it
	p.mu.Lock()
	p.machines[1].host = b.Addr
	p.mu.Unlock()
	p.markUp("b")
	seenB := false
	for i := range 2 {
		require.Equal(t, http.StatusOK, post("", fmt.Sprint(i), nil))
		seenB = seenB || (<-got).machine == "b"
	}
	require.True(t, seenB, "a machine marked up is back in rotation")
}
