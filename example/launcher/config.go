package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/sealkit/sealkit/flylaunch"
)

// defaultAddr is where the launcher listens without -addr: loopback only.
const defaultAddr = "127.0.0.1:8080"

// defaultOrg is the Fly organization used when FLY_ORG is unset.
const defaultOrg = "personal"

// errUsage reports bad command-line flags; the flag package has already
// printed the details.
var errUsage = errors.New("bad flags")

// errEnv reports an environment variable the launcher cannot use.
var errEnv = errors.New("bad environment")

// config is the launcher's configuration, from flags and the environment.
type config struct {
	addr     string
	dataDir  string
	simSpeed float64
	flyAPI   *url.URL // nil: Fly.io itself, or the in-process simulator
	flyToken string   // empty: the in-process simulator
	flyOrg   string
	// clients says where client addresses come from: -trust-forwarded,
	// -client-ip-header, or the peer address.
	clients clientSource
	// flyMachineID is FLY_MACHINE_ID, set by Fly.io on its machines: this
	// instance's name in the connection IDs it hands out, so that Fly's
	// proxy can replay a fallback POST to the machine holding its stream.
	flyMachineID string
	// origins are extra page origins the resume endpoint accepts, for a
	// proxy that does not pass the Host header through.
	origins []string
	// allowedHosts are host names (or patterns) the launcher answers to
	// besides its listen host and the hosts of origins.
	allowedHosts []string
	// maxConnsPerClient caps one client's concurrent resume connections.
	maxConnsPerClient int
	// image is the Livebook image launched (pinned: a tag or digest).
	image string
}

// simulated reports whether the launcher runs its own in-process simulator.
func (c config) simulated() bool { return c.flyToken == "" && c.flyAPI == nil }

// parseConfig reads the flags in args and the variables getenv returns.
// Flag errors and usage go to out.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("launcher", flag.ContinueOnError)
	fs.SetOutput(out)
	c := config{}
	var origins, allowedHosts string
	var flyAPI string
	fs.StringVar(&c.addr, "addr", defaultAddr, "address to listen on")
	fs.StringVar(&c.dataDir, "data-dir", defaultDataDir(getenv), "directory for the key base and the simulator's state")
	fs.Float64Var(&c.simSpeed, "sim-speed", 1, "time scale of the simulated Fly: 1 is real time (30-60 s a launch), 10 is ten times faster")
	fs.StringVar(&flyAPI, "fly-api", "", "URL of a Fly Machines API to use (token from FLY_API_TOKEN), e.g. a standalone example/flysim")
	fs.StringVar(&origins, "origin", "", "comma-separated extra origins allowed to connect (e.g. https://launch.example.com), for a proxy that rewrites Host")
	fs.StringVar(&allowedHosts, "allowed-hosts", "", "comma-separated host names the launcher answers to besides its listen host and the -origin hosts (e.g. launch.example.com)")
	fs.BoolVar(&c.clients.forwarded, "trust-forwarded", false, "behind one trusted reverse proxy: take the client address from the right-most X-Forwarded-For entry")
	fs.StringVar(&c.clients.header, "client-ip-header", "", "behind a trusted proxy that sets this header to the client address: take it from there (on Fly.io: Fly-Client-IP)")
	fs.IntVar(&c.maxConnsPerClient, "max-conns-per-client", defaultMaxConnsPerClient, "concurrent page connections one client address (an IPv6 /64) may hold")
	fs.StringVar(&c.image, "image", flylaunch.DefaultImage, "Livebook image to launch, pinned to a tag or digest (never latest)")
	if err := fs.Parse(args); err != nil {
		return config{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if !(c.simSpeed > 0 && c.simSpeed <= 10000) { // NaN fails too
		return config{}, fmt.Errorf("%w: -sim-speed must be in (0, 10000], got %g", errUsage, c.simSpeed)
	}
	if c.dataDir == "" {
		return config{}, fmt.Errorf("%w: -data-dir must not be empty", errUsage)
	}
	if c.maxConnsPerClient < 1 {
		return config{}, fmt.Errorf("%w: -max-conns-per-client must be at least 1, got %d", errUsage, c.maxConnsPerClient)
	}
	if err := c.clients.validate(); err != nil {
		return config{}, err
	}
	if err := (flylaunch.Spec{App: "image-check", Region: "iad", Image: c.image}).Validate(); err != nil {
		return config{}, fmt.Errorf("%w: -image: %w", errUsage, err)
	}
	var err error
	if c.origins, err = splitHosts("-origin", origins, originHost); err != nil {
		return config{}, err
	}
	if c.allowedHosts, err = splitHosts("-allowed-hosts", allowedHosts, func(h string) string { return h }); err != nil {
		return config{}, err
	}
	if err := c.readFly(getenv); err != nil {
		return config{}, err
	}
	c.flyToken = getenv("FLY_API_TOKEN")
	c.flyOrg = getenv("FLY_ORG")
	if c.flyOrg == "" {
		c.flyOrg = defaultOrg
	}
	if flyAPI != "" {
		u, err := url.Parse(flyAPI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return config{}, fmt.Errorf("%w: -fly-api must be an http(s) URL, got %q", errUsage, flyAPI)
		}
		if c.flyToken == "" {
			return config{}, fmt.Errorf("%w: -fly-api needs FLY_API_TOKEN", errUsage)
		}
		c.flyAPI = u
	}
	return c, nil
}

// splitHosts splits the comma-separated list of the flag name and checks
// that the host of each entry (hostOf) is a host name or pattern.
func splitHosts(name, list string, hostOf func(string) string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(list, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if _, err := path.Match(e, ""); err != nil {
			return nil, fmt.Errorf("%w: %s %q: %w", errUsage, name, e, err)
		}
		if _, err := hostPattern(hostOf(e)); err != nil {
			return nil, fmt.Errorf("%w: %s %q: %w", errUsage, name, e, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// defaultDataDir follows the XDG base directory spec, falling back to ./.data.
func defaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "sealkit-launcher")
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "share", "sealkit-launcher")
	}
	return ".data"
}

// validate checks the -trust-forwarded and -client-ip-header flags: one
// trusted proxy header at most, and a header name that is an HTTP token.
func (s clientSource) validate() error {
	switch {
	case s.forwarded && s.header != "":
		return fmt.Errorf("%w: -trust-forwarded and -client-ip-header exclude each other: trust one proxy header", errUsage)
	case s.header != "" && strings.IndexFunc(s.header, notNameRune) >= 0:
		return fmt.Errorf("%w: -client-ip-header %q is not a header name", errUsage, s.header)
	}
	return nil
}

func notNameRune(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
}

// readFly reads what Fly.io tells a machine about itself (both set by Fly,
// on Fly only): FLY_MACHINE_ID names this instance in connection IDs, and
// FLY_APP_NAME adds the app's own name, <app>.fly.dev, to the hosts the
// launcher answers to.
func (c *config) readFly(getenv func(string) string) error {
	c.flyMachineID = getenv("FLY_MACHINE_ID")
	if c.flyMachineID != "" && (len(c.flyMachineID) > 64 || strings.IndexFunc(c.flyMachineID, notNameRune) >= 0) {
		return fmt.Errorf("%w: FLY_MACHINE_ID %q is not a machine ID (1 to 64 letters, digits, '-' or '_')", errEnv, c.flyMachineID)
	}
	app := getenv("FLY_APP_NAME")
	if app == "" {
		return nil
	}
	if err := flylaunch.ValidateAppName(app); err != nil {
		return fmt.Errorf("%w: FLY_APP_NAME: %w", errEnv, err)
	}
	c.allowedHosts = append(c.allowedHosts, app+".fly.dev")
	return nil
}
