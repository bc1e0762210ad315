package sealkit_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/sealkit/sealkit/hooks"
	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

// Job is what a page keeps, sealed, while its job runs. It is sealed as
// JSON: tags apply, and a time.Time keeps its instant.
type Job struct {
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
}

// jobs starts a job on the "start" action and re-attaches a page that
// comes back with one.
type jobs struct{}

func (jobs) Open(ctx context.Context, c *resume.Conn[Job], r resume.Result[Job]) error {
	if r.Status != resume.StatusResumed { // fresh, or a blob that expired, was altered, …
		return c.Snapshot(ctx, 0, map[string]any{"phase": "idle"})
	}
	// Re-attach to job r.State.ID here: the blob is a claim, not a command,
	// so look the job up before acting on it. seq belongs to the job: a
	// snapshot carries the seq of its last event; Event refuses older ones.
	if err := c.Snapshot(ctx, 1, map[string]any{"phase": "running", "started": r.State.Started}); err != nil {
		return err
	}
	go follow(c.Context(), c, r.State) // outlives Open, not the connection
	return nil
}

func (jobs) Action(ctx context.Context, c *resume.Conn[Job], name string, _ json.RawMessage) error {
	if _, running := c.State(); running || name != "start" {
		return fmt.Errorf("cannot %s now", name) // the page's action promise rejects with it
	}
	// Start the job here, then hand its state to the page: sealed, it goes
	// to the browser and nowhere else, and comes back on every reconnect.
	return c.Store(ctx, Job{ID: rand.Text(), Started: time.Now()})
}

// follow sends the page an event every second until the connection
// ends, which cancels ctx (Conn.Context); a real job sends its progress.
func follow(ctx context.Context, c *resume.Conn[Job], j Job) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for seq := uint64(2); ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if c.Event(ctx, seq, map[string]any{"phase": "running", "started": j.Started}) != nil {
			return
		}
	}
}

// Config is what one instance of the app is told at start.
type Config struct {
	// KeyBase seals every page's job: the bytes of a secret string as they
	// are, not decoded (SECRET_KEY_BASE, as Phoenix's secret_key_base), at
	// least 32 of them and the same on every instance.
	KeyBase []byte
	Addr    string   // the listen address, ":8080"
	Hosts   []string // the names the app is reached under, "jobs.example.com"
	// ProxyHeader is where a trusted reverse proxy puts the client's
	// address ("X-Forwarded-For", or "Fly-Client-IP" on Fly.io); "" when
	// clients connect directly.
	ProxyHeader string
}

// page is the app's page: the import map names the JavaScript client, so
// the page's module imports it as "sealkit-resume".
var page = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8"><title>Job</title>
{{.}}
<p id="phase">connecting</p><button id="start">Start</button>
<script type="module">
import {connectResume} from "sealkit-resume";
const phase = document.getElementById("phase");
const client = connectResume({key: "job", url: "/resume",
  onResult: (r) => console.log(r.status), // fresh, resumed, expired, invalid, unbound
  onSnapshot: (seq, data) => { phase.textContent = data.phase; },
  onEvent: (seq, data) => { phase.textContent = data.phase; }});
document.getElementById("start").onclick = () => client.action("start").catch((e) => alert(e.message));
</script>
`))

// newServer serves the page, the resume endpoint and the JavaScript
// client, and answers only to the app's own host names.
func newServer(cfg Config) (http.Handler, error) {
	sealer, err := seal.New(cfg.KeyBase)
	if err != nil {
		return nil, err
	}
	h, err := resume.New(sealer, jobs{}, resume.Options{
		Key:               "job",
		MaxAge:            time.Hour,
		ClientAddr:        resume.ClientAddrFrom(cfg.ProxyHeader), // the peer when ""
		MaxConnsPerClient: 32,                                     // per IPv4 address or IPv6 /64
	})
	if err != nil {
		return nil, err
	}
	js := hooks.New()
	importMap, err := js.ImportMap("/hooks")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { _ = page.Execute(w, importMap) })
	mux.Handle("/resume", h)  // WebSocket
	mux.Handle("/resume/", h) // fallback: /resume/stream and /resume/send
	mux.Handle("/hooks/", http.StripPrefix("/hooks", js))
	hosts, err := resume.ListenHosts(cfg.Addr) // localhost and the like
	if err != nil {
		return nil, err
	}
	return resume.AllowHosts(mux, append(hosts, cfg.Hosts...)...) // 421 for others: no DNS rebinding
}

// Example serves newServer (the README's code), starts a job from one
// connection and resumes it from another, as after a page refresh: what
// the page's module does in the browser, here done in Go.
func Example() {
	srv, err := newServer(Config{
		KeyBase: []byte("example-key-base-at-least-32-bytes-long!!"),
		Addr:    "127.0.0.1:8080",
		Hosts:   []string{"jobs.example.com"},
	})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	for _, host := range []string{"jobs.example.com", "attacker.example"} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		fmt.Println(host+":", res.Status, strings.Contains(string(body), `<script type="importmap">`))
	}

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/resume"
	var blob any // the page's sessionStorage entry: none at first
	for _, action := range []string{"start", "start"} {
		ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{resume.Subprotocol}})
		if err != nil {
			panic(err)
		}
		next(ctx, ws) // welcome
		next(ctx, ws) // restore
		send(ctx, ws, map[string]any{"t": "restored", "v": resume.Version, "key": "job", "data": blob})
		fmt.Println("result:", next(ctx, ws)["status"], "phase:", next(ctx, ws)["data"].(map[string]any)["phase"])
		send(ctx, ws, map[string]any{"t": "action", "id": "1", "name": action})
		if f := next(ctx, ws); f["t"] == "store" {
			blob = f["data"]
			f = next(ctx, ws)
			fmt.Println("stored; reply ok:", f["ok"])
		} else {
			fmt.Println("reply:", f["error"])
		}
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}
	// Output:
	// jobs.example.com: 200 OK true
	// attacker.example: 421 Misdirected Request false
	// result: fresh phase: idle
	// stored; reply ok: true
	// result: resumed phase: running
	// reply: cannot start now
}

// next returns the next frame other than ping and the running job's
// events.
func next(ctx context.Context, ws *websocket.Conn) map[string]any {
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			panic(err)
		}
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			panic(err)
		}
		if f["t"] != "ping" && f["t"] != "event" {
			return f
		}
	}
}

func send(ctx context.Context, ws *websocket.Conn, f map[string]any) {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		panic(err)
	}
}
