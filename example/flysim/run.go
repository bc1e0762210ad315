package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// shutdownGrace bounds how long in-flight requests may take to finish
// after a signal.
const shutdownGrace = 10 * time.Second

// errUsage reports bad command-line arguments.
var errUsage = errors.New("usage")

// run parses args, serves the simulator until ctx is done, then shuts down
// gracefully. The first line written to stdout is the base URL.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("flysim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:4280", "listen address (host:port; port 0 picks one)")
	dataDir := fs.String("data-dir", "", "directory for flysim.json state (empty: in memory)")
	speed := fs.Float64("speed", 1, "time scale: 1 realistic, 100 a hundred times faster")
	token := fs.String("token", "", "the only bearer token accepted (empty: any)")
	profile := fs.String("profile", "realistic", "realistic (slow to agree after a write, strict about machine config, as Fly is) or instant (agrees at once, runs any image)")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w (flags: -addr, -data-dir, -speed, -token, -profile, -v)", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	prof, err := flysim.ProfileNamed(*profile)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	sim, err := flysim.New(flysim.Options{DataDir: *dataDir, Speed: *speed, Token: *token, Logger: logger, Profile: prof})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return errors.Join(fmt.Errorf("listen: %w", err), sim.Close())
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	// Pending machine waits are released at once instead of holding up
	// the shutdown.
	hookDone := make(chan struct{})
	srv.RegisterOnShutdown(func() {
		defer close(hookDone)
		_ = sim.Close()
	})
	if _, err := fmt.Fprintf(stdout, "http://%s\n", ln.Addr()); err != nil {
		return errors.Join(err, ln.Close(), sim.Close())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return errors.Join(fmt.Errorf("serve: %w", err), sim.Close())
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-hookDone // its flush must not race the process exit
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return errors.Join(err, sim.Close())
}
