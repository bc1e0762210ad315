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
// gracefully. The first line written to stdout is the base URL; with
// -tenants, a "token NAME TOKEN" line per tenant follows it.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("flysim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:4280", "listen address (host:port; port 0 picks one)")
	dataDir := fs.String("data-dir", "", "directory for flysim.json state (empty: in memory)")
	speed := fs.Float64("speed", 1, "time scale: 1 realistic, 100 a hundred times faster")
	token := fs.String("token", "", "the only bearer token accepted (empty: any); with -tenants, the operator's all-access token beside the tenants' (empty: none)")
	profile := fs.String("profile", "realistic", "realistic (slow to agree after a write, strict about machine config, as Fly is) or instant (agrees at once, runs any image)")
	tenantList := fs.String("tenants", "", "issue Fly macaroon tokens to these tenants, printed on stdout: NAME=ORG[+ORG...], comma-separated (e.g. alice=acme,bob=globex); -token is then the operator's all-access token")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w (flags: -addr, -data-dir, -speed, -token, -profile, -tenants, -v)", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	tenants, err := parseTenants(*tenantList)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	prof, err := flysim.ProfileNamed(*profile)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	sim, err := flysim.New(flysim.Options{DataDir: *dataDir, Speed: *speed, Token: *token, Tenants: tenants, Logger: logger, Profile: prof})
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
	// The tenants' tokens follow the base URL, one line each: a
	// simulator's tokens are fake, and its user needs them to paste.
	banner := fmt.Sprintf("http://%s\n", ln.Addr())
	for _, t := range tenants {
		tok, err := sim.Token(t.Name)
		if err != nil {
			return errors.Join(err, ln.Close(), sim.Close())
		}
		banner += fmt.Sprintf("token %s %s\n", t.Name, tok)
	}
	if _, err := io.WriteString(stdout, banner); err != nil {
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
