package resume_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

// job is the private state the example keeps in the browser, sealed as
// JSON: the page never reads it.
type job struct {
	App      string    `json:"app"`
	Password string    `json:"password"`
	Started  time.Time `json:"started"`
}

// jobApp launches a job on the "launch" action and re-attaches on resume.
type jobApp struct{}

func (jobApp) Open(ctx context.Context, c *resume.Conn[job], r resume.Result[job]) error {
	if r.Status == resume.StatusResumed {
		return c.Snapshot(ctx, 1, map[string]string{"app": r.State.App, "phase": "running"})
	}
	return nil
}

func (jobApp) Action(ctx context.Context, c *resume.Conn[job], name string, data json.RawMessage) error {
	var req struct{ App string }
	if err := json.Unmarshal(data, &req); err != nil || name != "launch" {
		return fmt.Errorf("bad request")
	}
	if _, running := c.State(); running {
		return errors.New("this page already runs a job")
	}
	return c.Store(ctx, job{App: req.App, Password: "generated-secret", Started: time.Now()})
}

// Example runs a resume handler, stores a sealed job state through one
// connection, and resumes it on a second one, as after a page refresh.
func Example() {
	sealer, err := seal.New([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	h, err := resume.New(sealer, jobApp{}, resume.Options{Key: "launch", MaxAge: time.Hour})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/resume", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer func() { _ = h.Shutdown(context.Background()) }()

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/resume"
	ws, status, err := connect(ctx, url, nil, "") // a first visit: no blob
	if err != nil {
		panic(err)
	}
	fmt.Println("result:", status)
	write(ctx, ws, map[string]any{"t": "action", "id": "1", "name": "launch", "data": map[string]string{"app": "livebook"}})
	store := read(ctx, ws)
	blob := store["data"].(string) // the page keeps it in sessionStorage
	fmt.Println(store["t"], strings.HasPrefix(blob, "XCP."))
	fmt.Println(read(ctx, ws)["t"])
	_ = ws.Close(websocket.StatusNormalClosure, "")

	ws, status, err = connect(ctx, url, nil, blob) // the page reloaded
	if err != nil {
		panic(err)
	}
	fmt.Println("result:", status)
	fmt.Println(read(ctx, ws)["data"])
	_ = ws.Close(websocket.StatusNormalClosure, "")
	// Output:
	// result: fresh
	// store true
	// reply
	// result: resumed
	// map[app:livebook phase:running]
}

// connect plays the JavaScript client's part: it opens a WebSocket to the
// resume endpoint at url, answers the restore request with blob ("" for
// none) and returns the result's status.
func connect(ctx context.Context, url string, hdr http.Header, blob string) (*websocket.Conn, string, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{resume.Subprotocol}, HTTPHeader: hdr})
	if err != nil {
		return nil, "", err
	}
	read(ctx, ws) // welcome
	restore := read(ctx, ws)
	var data any // null when there is no blob
	if blob != "" {
		data = blob
	}
	write(ctx, ws, map[string]any{"t": "restored", "v": resume.Version, "key": restore["key"], "data": data})
	return ws, read(ctx, ws)["status"].(string), nil
}

// read returns the next frame other than ping, or an empty one once the
// connection has ended.
func read(ctx context.Context, ws *websocket.Conn) map[string]any {
	for {
		_, b, err := ws.Read(ctx)
		var f map[string]any
		if err != nil || json.Unmarshal(b, &f) != nil {
			return map[string]any{}
		}
		if f["t"] != "ping" {
			return f
		}
	}
}

func write(ctx context.Context, ws *websocket.Conn, f map[string]any) {
	b, _ := json.Marshal(f)
	_ = ws.Write(ctx, websocket.MessageText, b)
}

// sessionID is the example's Options.Bind: a blob is bound to the
// session cookie of the page that stored it.
func sessionID(r *http.Request) (string, error) {
	c, err := r.Cookie("session")
	if err != nil {
		return "", err // no session: the connection is refused (403)
	}
	return c.Value, nil
}

// whoApp reports, for every connection, its result and what the Conn
// kept of the request that opened it.
type whoApp struct{ seen chan<- string }

func (a whoApp) Open(ctx context.Context, c *resume.Conn[job], r resume.Result[job]) error {
	host, _, _ := net.SplitHostPort(c.Host())
	a.seen <- fmt.Sprintf("%s, client %v, host %s", r.Status, c.ClientAddr(), host)
	if r.Status == resume.StatusFresh {
		return c.Store(ctx, job{App: "livebook"})
	}
	return nil
}

func (whoApp) Action(context.Context, *resume.Conn[job], string, json.RawMessage) error {
	return nil
}

// ExampleOptions configures a Handler for production behind a proxy: blobs
// bound to the session cookie, the client's address from the proxy's
// header, and timings that suit the proxy. A blob carried to another
// session opens as "unbound"; a request without a session is refused.
func ExampleOptions() {
	sealer, err := seal.New([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	seen := make(chan string, 4)
	h, err := resume.New(sealer, whoApp{seen: seen}, resume.Options{
		Key:               "launch",
		MaxAge:            30 * time.Minute,                       // a job never takes longer
		Bind:              sessionID,                              // a copied blob is useless elsewhere
		ClientAddr:        resume.ClientAddrFrom("Fly-Client-IP"), // Fly.io's proxy sets it
		MaxConnsPerClient: 32,                                     // by ClientKey: a few dozen tabs
		OriginPatterns:    []string{"*.example.com"},              // pages on these hosts may connect
		PingInterval:      20 * time.Second,                       // below the proxy's 30 s idle timeout
		WriteTimeout:      5 * time.Second,                        // drop a client that stops reading
		RestoreTimeout:    10 * time.Second,                       // a page answers at once or not at all
		MaxFrameSize:      16 << 10,                               // states and events are small
		Logger:            slog.New(slog.DiscardHandler),          // or the app's logger
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer func() { _ = h.Shutdown(context.Background()) }()

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/resume"
	page := func(session string) http.Header {
		return http.Header{"Cookie": {"session=" + session}, "Fly-Client-IP": {"203.0.113.7"}}
	}
	ws, _, err := connect(ctx, url, page("alice"), "")
	if err != nil {
		panic(err)
	}
	blob := read(ctx, ws)["data"].(string)
	fmt.Println(<-seen)
	_ = ws.CloseNow()
	for _, session := range []string{"alice", "mallory"} {
		ws, _, err := connect(ctx, url, page(session), blob)
		if err != nil {
			panic(err)
		}
		fmt.Println(<-seen)
		_ = ws.CloseNow()
	}
	_, _, err = connect(ctx, url, http.Header{"Fly-Client-IP": {"203.0.113.7"}}, "")
	fmt.Println("no session:", err != nil)
	// Output:
	// fresh, client 203.0.113.7, host 127.0.0.1
	// resumed, client 203.0.113.7, host 127.0.0.1
	// unbound, client 203.0.113.7, host 127.0.0.1
	// no session: true
}

// ClientAddrFrom reads the client's address from the header a trusted
// proxy sets: the right-most X-Forwarded-For entry is the one the proxy
// appended, whatever the client sent before it.
func ExampleClientAddrFrom() {
	clientAddr := resume.ClientAddrFrom("X-Forwarded-For") // for Options.ClientAddr
	r := httptest.NewRequest(http.MethodGet, "/resume", nil)
	r.RemoteAddr = "10.0.0.2:41234"                  // the proxy
	r.Header.Add("X-Forwarded-For", "198.51.100.66") // forged by the client
	r.Header.Add("X-Forwarded-For", "203.0.113.7")   // appended by the proxy
	fmt.Println(clientAddr(r))
	fmt.Println(resume.ClientAddrFrom("")(r)) // no header trusted: the peer
	// Output:
	// 203.0.113.7
	// 10.0.0.2
}

// ClientKey counts an IPv6 client by its /64, which one subscriber or one
// machine usually holds whole, and an IPv4 client by its address.
func ExampleClientKey() {
	for _, a := range []string{"203.0.113.7", "2001:db8:7:7::1", "2001:db8:7:7:ffff::2"} {
		fmt.Println(resume.ClientKey(netip.MustParseAddr(a)))
	}
	// Output:
	// 203.0.113.7/32
	// 2001:db8:7:7::/64
	// 2001:db8:7:7::/64
}

// ExampleRateLimiter lets each client start two jobs at once, then one a
// minute. The addresses of one IPv6 /64 are one client, and a job refused
// after the check gives its token back. In an App's Action, meter
// c.ClientAddr().
func ExampleRateLimiter() {
	jobs, err := resume.NewRateLimiter(time.Minute, 2, 10_000, nil)
	if err != nil {
		panic(err)
	}
	for _, a := range []string{"2001:db8:7:7::1", "2001:db8:7:7:ffff::2", "2001:db8:7:7::3", "203.0.113.7"} {
		_, ok := jobs.Reserve(netip.MustParseAddr(a))
		fmt.Println(a, ok)
	}
	client := netip.MustParseAddr("203.0.113.7")
	cancel, _ := jobs.Reserve(client)
	cancel() // the job did not start after all: it costs nothing
	_, ok := jobs.Reserve(client)
	fmt.Println(client, ok)
	// Output:
	// 2001:db8:7:7::1 true
	// 2001:db8:7:7:ffff::2 true
	// 2001:db8:7:7::3 false
	// 203.0.113.7 true
	// 203.0.113.7 true
}

// ExampleAllowHosts puts the handler behind a Host check, so that "same
// origin" means the application's own origin: a page on attacker.example
// that re-points its name at the server (DNS rebinding) sends Host and
// Origin attacker.example, and is turned away with 421.
func ExampleAllowHosts() {
	sealer, err := seal.New([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	h, err := resume.New(sealer, jobApp{}, resume.Options{Key: "launch"})
	if err != nil {
		panic(err)
	}
	hosts, err := resume.ListenHosts("localhost:8080") // localhost, 127.0.0.1, ::1
	if err != nil {
		panic(err)
	}
	srv, err := resume.AllowHosts(h, append(hosts, "launch.example.com")...)
	if err != nil {
		panic(err)
	}
	for _, host := range []string{"launch.example.com", "localhost:8080", "attacker.example:8080"} {
		r := httptest.NewRequest(http.MethodGet, "http://"+host+"/resume", nil)
		r.Header.Set("Origin", "http://"+host)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r) // a plain GET: the handler asks for a WebSocket upgrade
		fmt.Println(host, w.Code)
	}
	// Output:
	// launch.example.com 426
	// localhost:8080 426
	// attacker.example:8080 421
}

// ListenHosts names what a server answers to on its listen address: a
// loopback address answers to the loopback names, a wildcard one to them
// and to every IP literal, as a health checker or a user on the LAN sends.
func ExampleListenHosts() {
	for _, addr := range []string{"127.0.0.1:8080", ":8080", "launcher.internal:8080"} {
		hosts, err := resume.ListenHosts(addr)
		if err != nil {
			panic(err)
		}
		fmt.Println(addr, hosts)
	}
	// Output:
	// 127.0.0.1:8080 [127.0.0.1 localhost ::1]
	// :8080 [127.0.0.1 localhost ::1 0.0.0.0/0 ::/0]
	// launcher.internal:8080 [launcher.internal]
}

// tickApp streams a job from a goroutine of the connection (Conn.Go),
// which runs after Open has returned and stops when the connection ends.
type tickApp struct{ stopped chan<- error }

func (a tickApp) Open(_ context.Context, c *resume.Conn[job], _ resume.Result[job]) error {
	c.Go(func(ctx context.Context) { // ctx ends with the connection
		for seq := uint64(1); ctx.Err() == nil; seq++ {
			_ = c.Event(ctx, seq, map[string]uint64{"step": seq})
			time.Sleep(10 * time.Millisecond)
		}
		a.stopped <- ctx.Err()
	})
	return nil
}

func (tickApp) Action(context.Context, *resume.Conn[job], string, json.RawMessage) error {
	return nil
}

// Conn.Go runs work that outlives an App call for the connection's
// lifetime: the page goes away, the streaming goroutine stops.
func ExampleConn_Go() {
	sealer, err := seal.New([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	stopped := make(chan error, 1)
	h, err := resume.New(sealer, tickApp{stopped: stopped}, resume.Options{Key: "launch"})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer func() { _ = h.Shutdown(context.Background()) }()

	ctx := context.Background()
	ws, _, err := connect(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/resume", nil, "")
	if err != nil {
		panic(err)
	}
	fmt.Println(read(ctx, ws)["data"], read(ctx, ws)["data"])
	_ = ws.Close(websocket.StatusNormalClosure, "") // the page goes away
	fmt.Println("stream stopped:", <-stopped)
	// Output:
	// map[step:1] map[step:2]
	// stream stopped: context canceled
}

// MaxConnsPerClient refuses a client's connection over the cap with 429
// and an error frame; another client is not affected.
func ExampleOptions_maxConnsPerClient() {
	sealer, err := seal.New([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	h, err := resume.New(sealer, jobApp{}, resume.Options{
		Key:               "launch",
		ClientAddr:        resume.ClientAddrFrom("X-Forwarded-For"), // behind a proxy
		MaxConnsPerClient: 1,                                        // for the example: say 32
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer func() { _ = h.Shutdown(context.Background()) }()

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/resume"
	from := func(addr string) *websocket.DialOptions {
		return &websocket.DialOptions{Subprotocols: []string{resume.Subprotocol}, HTTPHeader: http.Header{"X-Forwarded-For": {addr}}}
	}
	first, _, err := websocket.Dial(ctx, url, from("2001:db8:7:7::1"))
	if err != nil {
		panic(err)
	}
	defer first.CloseNow()
	_, resp, _ := websocket.Dial(ctx, url, from("2001:db8:7:7::2")) // the same /64
	var refusal struct{ Code string }
	_ = json.NewDecoder(resp.Body).Decode(&refusal)
	fmt.Println(resp.StatusCode, refusal.Code)
	other, _, err := websocket.Dial(ctx, url, from("203.0.113.7"))
	if err != nil {
		panic(err)
	}
	defer other.CloseNow()
	fmt.Println("another client connects")
	// Output:
	// 429 too_many_connections
	// another client connects
}

// FlyReplay answers a POST for a stream another machine holds with the
// header that makes Fly's proxy deliver it there, once: a request Fly has
// replayed already is left to the Handler, which answers 404 unknown_conn.
func ExampleFlyReplay() {
	for _, replayed := range []bool{false, true} {
		r := httptest.NewRequest(http.MethodPost, "/resume/send", strings.NewReader(`{}`))
		if replayed {
			r.Header.Set("Fly-Replay-Src", "instance=9080e6f3a12387;region=ams")
		}
		w := httptest.NewRecorder()
		ok := resume.FlyReplay(w, r, "148ed193b95089")
		fmt.Println(ok, w.Code, w.Header().Get("Fly-Replay"))
	}
	// Output:
	// true 409 instance=148ed193b95089
	// false 200
}

// ExampleOptions_replay runs two instances of one application, as two Fly
// machines, with the fallback transport: the page's stream is on the first,
// and a POST that the load balancer sends to the second is answered with a
// replay to the first, named in the connection ID.
func ExampleOptions_replay() {
	sealer, err := seal.New([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	machine := func(id string) *httptest.Server {
		// On Fly, Instance comes from the FLY_MACHINE_ID environment variable.
		h, err := resume.New(sealer, jobApp{}, resume.Options{Key: "launch", Instance: id, Replay: resume.FlyReplay})
		if err != nil {
			panic(err)
		}
		return httptest.NewServer(h)
	}
	a, b := machine("148ed193b95089"), machine("9080e6f3a12387")
	defer b.Close()
	defer a.Close() // after the stream below has ended

	// The page opens its event stream; the load balancer picks machine a.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.URL+"/resume/stream", strings.NewReader(`{"v":1}`))
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer stream.Body.Close()
	var welcome struct{ Conn string }
	line, _ := bufio.NewReader(stream.Body).ReadString('\n')
	_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &welcome)
	fmt.Println("connection ID names machine a:", strings.HasPrefix(welcome.Conn, "148ed193b95089."))

	// Its answer to restore goes as a POST, which lands on machine b.
	body := `{"conn":"` + welcome.Conn + `","frame":{"t":"restored","v":1,"key":"launch","data":null}}`
	resp, err := http.Post(b.URL+"/resume/send", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("machine b:", resp.StatusCode, resp.Header.Get("Fly-Replay"))

	// Fly's proxy replays the same request on machine a, which holds the stream.
	resp, err = http.Post(a.URL+"/resume/send", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("machine a:", resp.StatusCode)
	// Output:
	// connection ID names machine a: true
	// machine b: 409 instance=148ed193b95089
	// machine a: 204
}

// ExampleServe runs a resume app until ctx is done, then drains it: no
// new connection is accepted, the pages are told to reconnect (to another
// instance, behind a load balancer), requests in flight end.
func ExampleServe() {
	sealer, err := seal.New([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	h, err := resume.New(sealer, jobApp{}, resume.Options{Key: "launch", MaxAge: time.Hour})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background()) // signal.NotifyContext in a main
	stop()                                                // here: drain at once
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	err = resume.Serve(ctx, srv, ln, 10*time.Second, h.Shutdown)
	fmt.Println("drained:", err)
	// Output: drained: <nil>
}
