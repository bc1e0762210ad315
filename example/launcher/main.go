package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp): // -h: the usage is printed, all is well
		stop()
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "launcher:", err)
		stop()
		os.Exit(1)
	}
}

const (
	defaultAddr              = "127.0.0.1:8080" // loopback only
	defaultOrg               = "personal"       // when FLY_ORG is unset
	defaultMaxConnsPerClient = 32               // a user with a few dozen tabs stays under it
	defaultMaxLaunches       = 16               // deploys driven here at once
	// shutdownTimeout bounds a graceful stop. Fly's kill_timeout in
	// deploy/fly.toml leaves a few seconds more (TestFlyTomlMatchesTheLauncher).
	shutdownTimeout = 10 * time.Second
)

var (
	errUsage = errors.New("bad flags")       // the flag package printed the details
	errEnv   = errors.New("bad environment") // a variable the launcher cannot use
)

// config is the launcher's whole configuration, from flags and the
// environment; newServer and newFly take it as it is.
type config struct {
	addr           string
	dataDir        string
	simSpeed       float64
	flyAPI         *url.URL // nil: Fly.io itself, or the in-process simulator
	flyToken       string   // empty: the in-process simulator
	flyOrg         string
	clientIPHeader string // resume.ClientAddrFrom's; "" is the peer address
	// flyMachineID names this instance in connection IDs, for fly-replay.
	flyMachineID          string
	origins, allowedHosts []string // with the listen host, the names it answers to
	maxConnsPerClient     int      // per resume handler (page, manage page)
	maxLaunches           int
	image                 string           // the Livebook image, pinned
	visitorTokens         bool             // launch with each visitor's own token
	now                   func() time.Time // nil: time.Now
}

func (c config) simulated() bool { return c.flyToken == "" && c.flyAPI == nil }

// parseConfig reads the flags in args and the variables getenv returns.
// Flag errors and usage go to out.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("launcher", flag.ContinueOnError)
	fs.SetOutput(out)
	c := config{}
	var origins, allowedHosts, flyAPI string
	var forwarded bool
	fs.StringVar(&c.addr, "addr", defaultAddr, "address to listen on")
	fs.StringVar(&c.dataDir, "data-dir", defaultDataDir(getenv), "directory for the key base and the simulator's state")
	fs.Float64Var(&c.simSpeed, "sim-speed", 1, "time scale of the simulated Fly: 1 is real time (30-60 s a launch), 10 is ten times faster")
	fs.StringVar(&flyAPI, "fly-api", "", "URL of a Fly Machines API to use (token from FLY_API_TOKEN), e.g. a standalone example/flysim; https://"+flyMachinesHost+" is Fly.io itself")
	fs.BoolVar(&c.visitorTokens, "visitor-tokens", false, "launch into each visitor's own Fly.io account with the token the visitor pastes (sealed in the visitor's tab, never kept here); FLY_API_TOKEN and FLY_ORG are not used")
	fs.StringVar(&origins, "origin", "", "comma-separated extra origins allowed to connect (e.g. https://launch.example.com), for a proxy that rewrites Host")
	fs.StringVar(&allowedHosts, "allowed-hosts", "", "comma-separated host names (path.Match patterns) the launcher answers to besides its listen host and the -origin hosts")
	fs.BoolVar(&forwarded, "trust-forwarded", false, "behind one trusted reverse proxy: take the client address from the right-most X-Forwarded-For entry")
	fs.StringVar(&c.clientIPHeader, "client-ip-header", "", "behind a trusted proxy that sets this header to the client address: take it from there (on Fly.io: Fly-Client-IP, since the right-most X-Forwarded-For entry there is the app's own address)")
	fs.IntVar(&c.maxConnsPerClient, "max-conns-per-client", defaultMaxConnsPerClient, "concurrent connections (WebSockets, fallback streams) one client may hold on each of the two resume endpoints; more are answered 429")
	fs.IntVar(&c.maxLaunches, "max-launches", defaultMaxLaunches, "launches and manage actions this instance drives at once")
	fs.StringVar(&c.image, "image", flylaunch.DefaultImage, "Livebook image to launch, pinned to a tag or digest (never latest)")
	if err := fs.Parse(args); err != nil {
		return config{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	case !(c.simSpeed > 0 && c.simSpeed <= 10000): // NaN fails too
		err = fmt.Errorf("-sim-speed must be in (0, 10000], got %g", c.simSpeed)
	case c.dataDir == "":
		err = errors.New("-data-dir must not be empty")
	case c.maxConnsPerClient < 1:
		err = fmt.Errorf("-max-conns-per-client must be at least 1, got %d", c.maxConnsPerClient)
	case c.maxLaunches < 1:
		err = fmt.Errorf("-max-launches must be at least 1, got %d", c.maxLaunches)
	case forwarded && c.clientIPHeader != "":
		err = errors.New("-trust-forwarded and -client-ip-header exclude each other: trust one proxy header")
	case !isName(c.clientIPHeader):
		err = fmt.Errorf("-client-ip-header %q is not a header name", c.clientIPHeader)
	}
	if err == nil {
		if err = flylaunch.ValidateImage(c.image); err != nil {
			err = fmt.Errorf("-image: %w", err)
		}
	}
	if err != nil {
		return config{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	if forwarded {
		c.clientIPHeader = "X-Forwarded-For"
	}
	if c.origins, err = hostList("-origin", origins, true); err != nil {
		return config{}, err
	}
	if c.allowedHosts, err = hostList("-allowed-hosts", allowedHosts, false); err != nil {
		return config{}, err
	}
	if err := c.readEnv(getenv); err != nil {
		return config{}, err
	}
	if flyAPI != "" {
		u, err := url.Parse(flyAPI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return config{}, fmt.Errorf("%w: -fly-api must be an http(s) URL, got %q", errUsage, flyAPI)
		}
		if c.flyToken == "" && !c.visitorTokens {
			return config{}, fmt.Errorf("%w: -fly-api needs FLY_API_TOKEN", errUsage)
		}
		c.flyAPI = u
	}
	if c.visitorTokens {
		c.flyToken, c.flyOrg = "", "" // the visitors' tokens and orgs only
	}
	return c, nil
}

// hostList splits the comma-separated list of the flag name and checks
// its entries as resume.AllowHosts will take them; only -origin may name
// a scheme.
func hostList(name, list string, schemes bool) ([]string, error) {
	var out []string
	for e := range strings.SplitSeq(list, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	if out == nil {
		return nil, nil
	}
	_, err := resume.AllowHosts(http.NotFoundHandler(), out...)
	if err == nil && !schemes && strings.Contains(list, "://") {
		err = errors.New("a host name, not a URL")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errUsage, name, err)
	}
	return out, nil
}

// readEnv reads the Fly token and org and what Fly.io tells a machine
// about itself: FLY_MACHINE_ID names this instance, FLY_APP_NAME adds
// <app>.fly.dev to the hosts the launcher answers to.
func (c *config) readEnv(getenv func(string) string) error {
	c.flyToken = getenv("FLY_API_TOKEN")
	c.flyOrg = cmp.Or(getenv("FLY_ORG"), defaultOrg)
	c.flyMachineID = getenv("FLY_MACHINE_ID")
	if len(c.flyMachineID) > 64 || !isName(c.flyMachineID) {
		return fmt.Errorf("%w: FLY_MACHINE_ID %q is not a machine ID (1 to 64 letters, digits, '-' or '_')", errEnv, c.flyMachineID)
	}
	if app := getenv("FLY_APP_NAME"); app != "" {
		if err := flylaunch.ValidateAppName(app); err != nil {
			return fmt.Errorf("%w: FLY_APP_NAME: %w", errEnv, err)
		}
		c.allowedHosts = append(c.allowedHosts, app+".fly.dev")
	}
	return nil
}

// isName: only letters, digits, '-' and '_'.
func isName(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	})
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

// run is the whole launcher: it parses args and the environment, serves
// until ctx is done, and shuts down gracefully. It prints the URL it serves
// and its logs to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	kb, generated, err := loadKeyBases(getenv, c.dataDir)
	if err != nil {
		return err
	}
	if generated {
		log.Info("generated a key base; set SECRET_KEY_BASE to share it between instances", "file", filepath.Join(c.dataDir, keyBaseFile))
	}
	sealer, err := seal.New(kb.current, seal.PreviousKeyBases(kb.previous...))
	if err != nil {
		return fmt.Errorf("key base: %w", err)
	}
	f, err := newFly(ctx, c, log)
	if err != nil {
		return err
	}
	srv, err := newServer(c, sealer, f, log) // closes f on error
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", c.addr)
	if err != nil {
		return errors.Join(listenError(c.addr, err), srv.close(context.Background()))
	}
	hs := newHTTPServer(srv, defaultHTTPLimits(), log)
	fmt.Fprintf(stdout, "sealkit launcher serving %s (%s, data in %s)\n", servingURL(l.Addr()), f.mode, c.dataDir)
	return resume.Serve(ctx, hs, l, shutdownTimeout, func(ctx context.Context) error {
		log.Info("shutting down")
		return srv.close(ctx)
	})
}

// httpLimits are the per-connection bounds of the HTTP server.
type httpLimits struct {
	readHeader, read, idle time.Duration
	maxHeaderBytes         int
}

// defaultHTTPLimits are the launcher's HTTP server bounds. Every request
// it takes is small (a page, a POST B/stream of 1 KiB, a POST B/send of 65
// KiB, a simulator call): headers within 10 s; the whole request within
// 30 s, which fits 65 KiB at 2 KB/s and does not end long-lived requests
// (net/http clears the read deadline on a hijacked WebSocket and once a
// streaming POST's body is read: TestLongLivedConnectionsOutliveReadTimeout);
// keep-alive idle 60 s; 32 KiB of headers, room for a parent domain's
// cookies. No write timeout: resume bounds each frame write itself.
func defaultHTTPLimits() httpLimits {
	return httpLimits{readHeader: 10 * time.Second, read: 30 * time.Second, idle: 60 * time.Second, maxHeaderBytes: 32 << 10}
}

func newHTTPServer(h http.Handler, l httpLimits, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler: h, ReadHeaderTimeout: l.readHeader, ReadTimeout: l.read, IdleTimeout: l.idle,
		MaxHeaderBytes: l.maxHeaderBytes, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// listenError explains a failed listen; a port in use is most often an
// earlier launcher still running: killing `go run` does not kill the
// program it started.
func listenError(addr string, err error) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	return fmt.Errorf("%w: another process holds %s, most likely an earlier launcher "+
		"(stopping `go run` with kill -9 leaves the launcher it started running: "+
		"stop that process, or run the built binary, or pick another -addr)", err, addr)
}

// servingURL is the URL to open for a listener: a wildcard address (":8080")
// is reachable at localhost.
func servingURL(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return "http://" + net.JoinHostPort("localhost", strconv.Itoa(tcp.Port)) + "/"
	}
	return "http://" + addr.String() + "/"
}
