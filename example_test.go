package sealkit_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
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
	return c.Snapshot(ctx, 1, map[string]any{"phase": "running", "started": r.State.Started})
}

func (jobs) Action(ctx context.Context, c *resume.Conn[Job], name string, _ json.RawMessage) error {
	if _, running := c.State(); running || name != "start" {
		return fmt.Errorf("cannot %s now", name) // the page's action promise rejects with it
	}
	// Start the job here, then hand its state to the page: sealed, it goes
	// to the browser and nowhere else, and comes back on every reconnect.
	return c.Store(ctx, Job{ID: rand.Text(), Started: time.Now()})
}

// newMux serves the resume endpoint and the JavaScript client.
func newMux(keyBase []byte) (*http.ServeMux, error) {
	sealer, err := seal.New(keyBase) // at least 32 bytes, the same on every instance
	if err != nil {
		return nil, err
	}
	h, err := resume.New(sealer, jobs{}, resume.Options{Key: "job", MaxAge: time.Hour})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/resume", h)  // WebSocket
	mux.Handle("/resume/", h) // fallback: /resume/stream and /resume/send
	mux.Handle("/hooks/", http.StripPrefix("/hooks", hooks.New()))
	return mux, nil
}

// Example serves newMux (the README's code), starts a job from one
// connection and resumes it from another, as after a page refresh: what
// sealkit-resume.js does in the browser, here done in Go.
func Example() {
	mux, err := newMux([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/hooks/sealkit-resume.js")
	if err != nil {
		panic(err)
	}
	_ = res.Body.Close()
	fmt.Println("script:", res.Status)

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/resume"
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
	// script: 200 OK
	// result: fresh phase: idle
	// stored; reply ok: true
	// result: resumed phase: running
	// reply: cannot start now
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
