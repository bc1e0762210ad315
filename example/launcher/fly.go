package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/superfly/fly-go/flaps"
)

// simPrefix is where the in-process simulator is mounted: its Machines API
// under /flysim/v1/ (bearer token only the launcher knows) and its stand-in
// Livebooks under /flysim/livebook/{app}/.
const simPrefix = "/flysim"

// fly is where launches go: a flylaunch.Launcher, and in simulated mode the
// simulator to mount.
type fly struct {
	launcher *flylaunch.Launcher
	client   *flaps.Client  // the launcher's own client (nil for visitor tokens on Fly.io)
	sim      *flysim.Server // nil unless simulated in process
	mode     string         // shown on the page
	image    string         // the Livebook image launched
	// visitor: launches go to the visitor's own account, with the token
	// the visitor gives (as); the launcher holds none of its own for them.
	visitor bool
	// transport carries the calls of visitors' tokens (as, orgs).
	transport http.RoundTripper
	// demoToken is a simulated visitor's token the page offers (in-process
	// simulator in visitor mode only).
	demoToken string
	// pace is how many times faster than Fly deploys run: the in-process
	// simulator's time scale, else 1.
	pace float64
	// livebookURL maps an app and its Fly URL to the link the summary shows.
	livebookURL func(app, flyURL string) string

	closeOnce sync.Once
	closeErr  error
}

// newFly connects to Fly.io, to the Machines API at c.flyAPI, or to an
// in-process simulator keeping its state in c.dataDir.
func newFly(ctx context.Context, c config, log *slog.Logger) (*fly, error) {
	f := &fly{image: c.image, pace: 1, visitor: c.visitorTokens}
	var transport http.RoundTripper
	// edge carries the deploy's check that the Livebook answers at
	// https://<app>.fly.dev (flylaunch.Options.Public): Fly's edge itself,
	// or the simulator's stand-in for it, where livebookURL points.
	edge := http.DefaultTransport
	token := c.flyToken
	switch {
	case c.simulated():
		token = rand.Text()
		f.pace = c.simSpeed
		opts := flysim.Options{
			DataDir: filepath.Join(c.dataDir, "flysim"),
			Speed:   c.simSpeed,
			Token:   token,
			Clock:   c.now, // nil: time.Now
			Logger:  log.With("component", "flysim"),
		}
		if c.visitorTokens {
			opts.Tenants = demoTenants
		}
		sim, err := flysim.New(opts)
		if err != nil {
			return nil, fmt.Errorf("start simulator: %w", err)
		}
		if c.visitorTokens {
			f.demoToken, _ = sim.Token(demoTenants[0].Name)
		}
		f.sim = sim
		transport = sim.Transport()
		edge = flysim.EdgeTransport("http://flysim.invalid", transport)
		f.mode = "Simulated Fly.io"
		f.livebookURL = func(app, _ string) string { return simPrefix + "/livebook/" + app + "/" }
	case c.flyAPI != nil && c.flyAPI.Host != flyMachinesHost:
		base := strings.TrimSuffix(c.flyAPI.String(), "/")
		transport = flysim.Transport(base, nil)
		edge = flysim.EdgeTransport(base, nil)
		f.mode = "Fly API at " + c.flyAPI.Host
		f.livebookURL = func(app, _ string) string { return base + "/livebook/" + app + "/" }
	default:
		f.mode = "Fly.io · " + c.flyOrg
		f.livebookURL = func(_, flyURL string) string { return flyURL }
	}
	if f.visitor {
		f.mode = strings.Replace(f.mode, "· "+c.flyOrg, "· your own account", 1)
	}
	f.transport = transport
	if token != "" { // a visitor-token launcher on Fly.io holds no token of its own
		client, err := flylaunch.NewClient(ctx, token, transport)
		if err != nil {
			f.close()
			return nil, err
		}
		f.client = client
	}
	// Done means the Livebook answers at its public URL, not only that
	// its machine passed its checks (which run on Fly's private network):
	// the page never sends a visitor to a name the edge does not route yet.
	opts := flylaunch.Options{
		Logger: log.With("component", "flylaunch"), Clock: c.now,
		Public: &http.Client{Transport: edge, Timeout: publicTimeout},
	}
	if c.simulated() {
		// The simulator runs simSpeed times faster than Fly: so do its
		// propagation windows and its machines' boot, so poll as much
		// faster (within reason).
		opts.Propagation = max(100*time.Millisecond, time.Duration(float64(30*time.Second)/c.simSpeed))
		opts.PollInterval = max(10*time.Millisecond, time.Duration(float64(time.Second)/c.simSpeed))
		// And its failures pass as much faster: back off from a failed
		// call on the simulator's clock (flylaunch's defaults, 200 ms
		// to 10 s, scaled), so a Fly that keeps failing is reported in
		// simulated seconds too.
		base := max(time.Millisecond, time.Duration(float64(200*time.Millisecond)/c.simSpeed))
		opts.Retry = flylaunch.RetryPolicy{BaseDelay: base, MaxDelay: max(base, time.Duration(float64(10*time.Second)/c.simSpeed))}
	}
	if !f.visitor { // visitors' launches run only As their own tokens
		opts.Client = f.client
	}
	l, err := flylaunch.New(opts)
	if err != nil {
		f.close()
		return nil, err
	}
	f.launcher = l
	return f, nil
}

// flyMachinesHost is Fly.io's Machines API: -fly-api naming it is Fly.io
// itself (a visitor-token launcher holds no FLY_API_TOKEN to say so).
const flyMachinesHost = "api.machines.dev"

// demoTenants are the in-process simulator's visitors in visitor mode:
// the page offers the first one's token; the others are there to try a
// second visitor with another organization (TestVisitorTokens).
var demoTenants = []flysim.Tenant{
	{Name: "demo", Orgs: []string{flysim.PersonalOrg, "demo-team"}},
	{Name: "guest", Orgs: []string{"guest-org"}},
}

// as is the Launcher that deploys with token ("": the launcher's own).
func (f *fly) as(ctx context.Context, token string) (*flylaunch.Launcher, error) {
	if token == "" {
		return f.launcher, nil
	}
	client, err := flylaunch.NewClient(ctx, token, f.transport) // a link's token lists no org: no AsToken
	if err != nil {
		return nil, err
	}
	return f.launcher.As(client), nil
}

const publicTimeout = 10 * time.Second

// close stops the deploy drivers of this process (deploys continue on Fly
// and resume when a client comes back) and flushes the simulator.
func (f *fly) close() error {
	f.closeOnce.Do(func() {
		if f.launcher != nil {
			f.closeErr = f.launcher.Close()
		}
		if f.sim != nil {
			f.closeErr = errors.Join(f.closeErr, f.sim.Close())
		}
	})
	return f.closeErr
}
