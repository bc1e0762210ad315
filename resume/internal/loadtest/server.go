package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"

	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

// keyBaseEnv carries the key base from the parent to the server child, so
// that the restarted server opens the blobs the first one sealed.
const keyBaseEnv = "SEALKIT_LOADTEST_KEY_BASE"

// clientState is the state each client gets sealed: its own id and secret.
type clientState struct {
	ID     int    `json:"id"`
	Secret string `json:"secret"`
}

// loadApp stores what a client sends with "store" and answers a resumed
// client with a snapshot of its state.
type loadApp struct{}

func (loadApp) Open(ctx context.Context, c *resume.Conn[clientState], r resume.Result[clientState]) error {
	if r.Status == resume.StatusResumed {
		return c.Snapshot(ctx, 1, r.State)
	}
	return nil
}

func (loadApp) Action(ctx context.Context, c *resume.Conn[clientState], name string, data json.RawMessage) error {
	if name != "store" {
		return fmt.Errorf("unknown action %q", name)
	}
	var s clientState
	if err := json.Unmarshal(data, &s); err != nil {
		return errors.New("bad state")
	}
	return c.Store(ctx, s)
}

// memStats is what GET /debug/mem reports, after a GC.
type memStats struct {
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	Goroutines int    `json:"goroutines"`
}

func serveMem(w http.ResponseWriter, _ *http.Request) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(memStats{HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Goroutines: runtime.NumGoroutine()})
}

// runServer is the child process: it serves /resume and /debug/mem on addr,
// prints "listening <addr>" once ready, and exits when its stdin closes
// (the parent died) or it is killed.
func runServer(addr string) error {
	keyBase, err := hex.DecodeString(os.Getenv(keyBaseEnv))
	if err != nil {
		return fmt.Errorf("key base: %w", err)
	}
	sealer, err := seal.New(keyBase)
	if err != nil {
		return err
	}
	h, err := resume.New(sealer, resume.App[clientState](loadApp{}), resume.Options{Key: "loadtest"})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/resume", h)
	mux.HandleFunc("/debug/mem", serveMem)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Printf("listening %s\n", ln.Addr())
	return (&http.Server{Handler: mux}).Serve(ln)
}
