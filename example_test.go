package sealkit_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/sealkit/sealkit/hooks"
	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

// Job is what a page keeps, sealed, while its job runs: the page hands it
// back on every reconnect but can neither read nor forge it.
type Job struct {
	Step   int    `json:"step"`             // steps done, of 10
	Secret string `json:"secret,omitempty"` // made by the last step
}

// jobs runs a page's job, ten steps of step each, while the page is
// connected; a reload or a restarted server goes on from the page's blob.
type jobs struct{ step time.Duration }

func (a jobs) Open(ctx context.Context, c *resume.Conn[Job], r resume.Result[Job]) error {
	if r.Status != resume.StatusResumed { // fresh, or a blob that expired, was altered, …
		return c.Snapshot(ctx, 0, nil) // no job
	}
	c.Go(func(ctx context.Context) { a.run(ctx, c, r.State) }) // here the blob is the job; a real app looks its job up
	return nil
}

func (a jobs) Action(ctx context.Context, c *resume.Conn[Job], name string, _ json.RawMessage) error {
	if _, running := c.State(); running || name != "start" {
		return fmt.Errorf("cannot %s now", name) // the page's action promise rejects with it
	}
	if err := c.Store(ctx, Job{}); err != nil { // before run: a second "start" is refused
		return err
	}
	c.Go(func(ctx context.Context) { a.run(ctx, c, Job{}) })
	return nil
}

// run shows the page its job and does the steps left, sealing the job into
// the page after each, until the job is done or the page goes away (ctx).
func (a jobs) run(ctx context.Context, c *resume.Conn[Job], j Job) {
	_ = c.Snapshot(ctx, uint64(j.Step), j)
	for j.Step < 10 {
		time.Sleep(a.step) // the step's work (hand it ctx if it can stop early)
		j.Step++
		if j.Step == 10 {
			j.Secret = rand.Text() // sealed with the last step: a page that comes back sees it again
		}
		// Sealed into the page, then shown: the page never shows a step its blob lacks.
		if c.Store(ctx, j) != nil || c.Event(ctx, uint64(j.Step), j) != nil {
			return // the page went away; it comes back with its blob
		}
	}
	_ = c.Clear(ctx) // done: the page forgets the job; the secret stays on screen
}

// page shows the job. It is executed with the hooks.Handler, whose import
// map names the JavaScript client, so the module imports "sealkit-resume".
var page = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8"><title>Job</title>{{.ImportMap "/hooks"}}
<p id="out" role="status">Connecting…</p><button id="start" hidden>Start</button>
<script type="module">
import {connectResume} from "sealkit-resume";
const out = document.getElementById("out"), start = document.getElementById("start");
function show(seq, job) { // null: no job; {step}: running; {step, secret}: done
  start.hidden = job !== null && !job.secret;
  out.textContent = !job ? "No job." : job.secret ? "Done. Your secret: " + job.secret : "Step " + job.step + " of 10…";
}
const client = connectResume({key: "job", onSnapshot: show, onEvent: show});
start.onclick = () => client.action("start").catch((e) => alert(e.message));
</script>`))

// newServer serves the page, the resume endpoint and the JavaScript client
// to the host names of the listen address addr, and to no others.
func newServer(keyBase []byte, addr string, step time.Duration) (http.Handler, error) {
	sealer, err := seal.New(keyBase)
	if err != nil {
		return nil, err
	}
	h, err := resume.New(sealer, jobs{step}, resume.Options{Key: "job", MaxConnsPerClient: 32})
	if err != nil {
		return nil, err
	}
	js := hooks.New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { _ = page.Execute(w, js) })
	mux.Handle("/resume", h)  // WebSocket
	mux.Handle("/resume/", h) // fallback: /resume/stream and /resume/send
	mux.Handle("/hooks/", http.StripPrefix("/hooks", js))
	hosts, err := resume.ListenHosts(addr) // add the public names: "jobs.example.com"
	if err != nil {
		return nil, err
	}
	return resume.AllowHosts(mux, hosts...) // 421 for others: no DNS rebinding
}

//lint:ignore U1000 the README's main: an example cannot run it, TestJobAppSurvivesKill runs the same
func main() {
	srv, err := newServer([]byte(os.Getenv("SECRET_KEY_BASE")), "localhost:8080", 2*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("localhost:8080", srv))
}

// Example serves newServer (the README's app) with a short step and plays
// its page in Go: it starts the job, goes away at step 3 as a page that
// reloads, and comes back with its blob to watch the job go on from there
// to the secret.
func Example() {
	srv, err := newServer([]byte("example-key-base-at-least-32-bytes-long!!"), "localhost:8080", 10*time.Millisecond)
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	for _, host := range []string{"localhost:8080", "attacker.example"} {
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
	ws, blob := dialJob(ctx, url, nil) // a first visit: no blob
	send(ctx, ws, map[string]any{"t": "action", "id": "1", "name": "start"})
	blob = watchJob(ctx, ws, blob, 3)
	_ = ws.Close(websocket.StatusNormalClosure, "") // the page reloads

	ws, blob = dialJob(ctx, url, blob)
	blob = watchJob(ctx, ws, blob, 11) // no step 11: until the clear
	_ = ws.Close(websocket.StatusNormalClosure, "")
	fmt.Println("blob kept:", blob != nil)
	// Output:
	// localhost:8080: 200 OK true
	// attacker.example: 421 Misdirected Request false
	// result: fresh; snapshot: null
	// step 0, step 1, step 2, step 3
	// result: resumed; snapshot: {"step":3}
	// step 4, step 5, step 6, step 7, step 8, step 9, step 10, the secret, cleared
	// blob kept: false
}

// dialJob connects as the page's module does, hands back blob (nil for
// none) and prints the result and the snapshot that follows it.
func dialJob(ctx context.Context, url string, blob any) (*websocket.Conn, any) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{resume.Subprotocol}})
	if err != nil {
		panic(err)
	}
	next(ctx, ws) // welcome
	next(ctx, ws) // restore
	send(ctx, ws, map[string]any{"t": "restored", "v": resume.Version, "key": "job", "data": blob})
	status := next(ctx, ws)["status"]
	snap, _ := json.Marshal(next(ctx, ws)["data"])
	fmt.Printf("result: %s; snapshot: %s\n", status, snap)
	return ws, blob
}

// watchJob reads the job's frames as the page does, keeping the blob the
// server stores, until the event of step last or the clear at the end,
// and prints what the page shows.
func watchJob(ctx context.Context, ws *websocket.Conn, blob any, last int) any {
	var shown []string
	defer func() { fmt.Println(strings.Join(shown, ", ")) }()
	for {
		f := next(ctx, ws)
		switch f["t"] {
		case "store":
			blob = f["data"]
		case "clear":
			shown = append(shown, "cleared")
			return nil
		case "snapshot", "event":
			j := f["data"].(map[string]any)
			step := int(j["step"].(float64))
			shown = append(shown, fmt.Sprint("step ", step))
			if secret, _ := j["secret"].(string); secret != "" {
				shown = append(shown, "the secret")
			}
			if step == last {
				return blob
			}
		}
	}
}

// next returns the next frame other than ping.
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
		if f["t"] != "ping" {
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
