package resume_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

// job is the private state the example keeps in the browser.
type job struct {
	App      string `json:"app" etf:"app"`
	Password string `json:"-" etf:"password"` // sealed, never shown to the page
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
	return c.Store(ctx, job{App: req.App, Password: "generated-secret"})
}

// Example runs a resume handler, stores a sealed job state through one
// connection, and resumes it on a second one, as after a page refresh.
func Example() {
	sealer, err := seal.New([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	h, err := resume.New(sealer, resume.App[job](jobApp{}), resume.Options{Key: "launch", MaxAge: time.Hour})
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
	var blob any // the client's sessionStorage entry; nil when empty
	for range 2 {
		ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{resume.Subprotocol}})
		if err != nil {
			panic(err)
		}
		read := func() map[string]any {
			_, b, err := ws.Read(ctx)
			if err != nil {
				panic(err)
			}
			var f map[string]any
			_ = json.Unmarshal(b, &f)
			return f
		}
		write := func(f map[string]any) {
			b, _ := json.Marshal(f)
			_ = ws.Write(ctx, websocket.MessageText, b)
		}
		fmt.Println(read()["t"]) // welcome
		fmt.Println(read()["t"]) // restore
		write(map[string]any{"t": "restored", "v": 1, "key": "launch", "data": blob})
		fmt.Println("result:", read()["status"]) // fresh, then resumed
		if blob == nil {
			write(map[string]any{"t": "action", "id": "1", "name": "launch", "data": map[string]string{"app": "livebook"}})
			st := read()
			blob = st["data"]
			fmt.Println(st["t"], strings.HasPrefix(blob.(string), "XCP."))
			rep := read()
			fmt.Println(rep["t"], rep["ok"])
		} else {
			snap := read()
			fmt.Println(snap["t"], snap["data"])
		}
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}
	// Output:
	// welcome
	// restore
	// result: fresh
	// store true
	// reply true
	// welcome
	// restore
	// result: resumed
	// snapshot map[app:livebook phase:running]
}

// allowHosts answers 421 Misdirected Request to a request whose Host is
// not one of the application's own names, before next sees it. Without
// it, DNS rebinding turns any page into a "same-origin" client.
func allowHosts(next http.Handler, hosts ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			name = h
		}
		if !slices.Contains(hosts, strings.ToLower(name)) {
			http.Error(w, "unknown host", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ExampleHandler_hostValidation puts the handler behind a Host check, so
// that "same origin" means the application's own origin: a page on
// attacker.example that re-points its name at the server (DNS rebinding)
// sends Host and Origin attacker.example, and is turned away.
func ExampleHandler_hostValidation() {
	sealer, err := seal.New([]byte("example-key-base-at-least-32-bytes-long!!"))
	if err != nil {
		panic(err)
	}
	h, err := resume.New(sealer, resume.App[job](jobApp{}), resume.Options{Key: "launch"})
	if err != nil {
		panic(err)
	}
	srv := allowHosts(h, "launch.example.com", "localhost")
	for _, host := range []string{"launch.example.com", "attacker.example:8080"} {
		r := httptest.NewRequest(http.MethodGet, "http://"+host+"/resume", nil)
		r.Header.Set("Origin", "http://"+host)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r) // a plain GET: the handler asks for a WebSocket upgrade
		fmt.Println(host, w.Code)
	}
	// Output:
	// launch.example.com 426
	// attacker.example:8080 421
}
