package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/sealkit/sealkit/hooks"
	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

// resumeKey is the sessionStorage key and seal purpose of the launch state.
const resumeKey = "launch"

// contentSecurityPolicy allows only the launcher's own scripts, styles and
// connections: no inline script, no third party, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Launch limits of one instance.
const (
	launchInterval     = 20 * time.Second // one more launch per client per interval
	launchBurst        = 5                // launches a client may make at once
	maxTrackedClients  = 10000            // rate-limit table size
	defaultMaxLaunches = 16               // concurrent launches started here
)

// serverOptions configures newServer.
type serverOptions struct {
	sealer *seal.Sealer
	fly    *fly
	org    string
	// clients says where client addresses come from (clientAddr).
	clients clientSource
	// machine is this instance's Fly machine ID (FLY_MACHINE_ID), or ""
	// off Fly: with it, a fallback POST for a stream another machine holds
	// is replayed there (flyReplay).
	machine string
	// origins are extra allowed page origins (resume.Options.OriginPatterns).
	origins []string
	// addr is the listen address and allowedHosts the -allowed-hosts
	// patterns: with the hosts of origins they are the Host values the
	// launcher answers to (see hostPolicy). An empty addr is defaultAddr.
	addr         string
	allowedHosts []string
	// maxConnsPerClient caps one client's concurrent resume connections;
	// 0 means defaultMaxConnsPerClient.
	maxConnsPerClient int
	// maxLaunches bounds the launches started here and still running;
	// 0 means defaultMaxLaunches.
	maxLaunches int
	logger      *slog.Logger
	now         func() time.Time
}

// server is the launcher's HTTP handler: the page, its assets, the hooks
// script, the resume endpoint and, in simulated mode, the simulator.
type server struct {
	mux        *http.ServeMux
	page       *template.Template
	managePage *template.Template
	app        *launchApp
	resume     *resume.Handler[launchState]
	// manage serves the manage page's connections; its blobs are the
	// manage links.
	manage *resume.Handler[manageState]
	hosts  hostPolicy
	log    *slog.Logger
	pageData
}

// pageData is what the page template needs besides the per-request bits.
type pageData struct {
	StyleSrc, AppSrc, AppIntegrity, HooksSrc string
	ManageSrc, ManageIntegrity               string
	HooksTag                                 template.HTML
	Mode                                     string
	Regions                                  []region
	Sizes                                    []size
}

// newServer builds the launcher's handler. Call shutdown to end it.
func newServer(o serverOptions) (*server, error) {
	if o.sealer == nil || o.fly == nil || o.fly.launcher == nil {
		return nil, errors.New("server: sealer and fly are required")
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.maxLaunches == 0 {
		o.maxLaunches = defaultMaxLaunches
	}
	limiter, err := newLimiter(launchInterval, launchBurst, maxTrackedClients, o.now)
	if err != nil {
		return nil, err
	}
	conns, err := newConnLimit(cmp.Or(o.maxConnsPerClient, defaultMaxConnsPerClient), o.clients)
	if err != nil {
		return nil, err
	}
	hosts, err := newHostPolicy(cmp.Or(o.addr, defaultAddr), o.origins, o.allowedHosts)
	if err != nil {
		return nil, err
	}
	s := &server{mux: http.NewServeMux(), log: o.logger, hosts: hosts}
	s.app = &launchApp{
		fly: o.fly, org: o.org, limiter: limiter, ready: newReadiness(o.fly.reachable, o.now, o.logger),
		slots: make(chan struct{}, o.maxLaunches), log: o.logger, now: o.now,
	}
	s.app.base, s.app.cancel = context.WithCancel(context.Background())
	if s.resume, err = resume.New(o.sealer, s.app, resumeOptions(o, resumeKey, stateMaxAge, "resume")); err != nil {
		return nil, err
	}
	if err := s.newManage(o); err != nil {
		return nil, err
	}
	if s.page, err = pageTemplate("web/index.html"); err != nil {
		return nil, err
	}
	if s.managePage, err = pageTemplate("web/manage.html"); err != nil {
		return nil, err
	}
	appJS, err := newAsset("web/app.js", "text/javascript; charset=utf-8")
	if err != nil {
		return nil, err
	}
	manageJS, err := newAsset("web/manage.js", "text/javascript; charset=utf-8")
	if err != nil {
		return nil, err
	}
	css, err := newAsset("web/style.css", "text/css; charset=utf-8")
	if err != nil {
		return nil, err
	}
	icon, err := newAsset("web/favicon.svg", "image/svg+xml")
	if err != nil {
		return nil, err
	}
	hk := hooks.New()
	if s.HooksTag, err = hk.ScriptTag("/hooks"); err != nil {
		return nil, err
	}
	if s.HooksSrc, err = hk.URL("/hooks", hooks.ScriptFile); err != nil {
		return nil, err
	}
	s.StyleSrc = "/static/style.css?v=" + css.etag[1:13]
	s.AppSrc = "/static/app.js?v=" + appJS.etag[1:13]
	s.AppIntegrity = appJS.integrity
	s.ManageSrc = "/static/manage.js?v=" + manageJS.etag[1:13]
	s.ManageIntegrity = manageJS.integrity
	s.Mode, s.Regions, s.Sizes = o.fly.mode, regions, sizes

	s.mux.HandleFunc("GET /{$}", s.servePage)
	s.mux.Handle("GET /static/app.js", appJS)
	s.mux.HandleFunc("GET /manage", s.serveManage)
	s.mux.Handle("GET /static/manage.js", manageJS)
	s.mux.Handle("/manage/resume", conns.wrap(s.manage))
	s.mux.Handle("/manage/resume/", conns.wrap(s.manage))
	s.mux.Handle("GET /static/style.css", css)
	s.mux.Handle("GET /favicon.svg", icon)
	s.mux.Handle("/hooks/", http.StripPrefix("/hooks", hk))
	s.mux.Handle("/resume", conns.wrap(s.resume))
	s.mux.Handle("/resume/", conns.wrap(s.resume))
	s.mux.HandleFunc("GET /healthz", liveness)
	s.mux.Handle("GET /readyz", s.app.ready)
	if o.fly.sim != nil {
		s.mux.Handle(simPrefix+"/", http.StripPrefix(simPrefix, o.fly.sim))
	}
	return s, nil
}

// ServeHTTP refuses hosts the launcher does not serve, adds the security
// headers to every launcher response (the simulator's stand-in Livebook
// keeps its own) and routes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.hosts.checkHost(w, r) {
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if !isUnder(r.URL.Path, simPrefix) {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
	}
	s.mux.ServeHTTP(w, r)
}

func isUnder(path, prefix string) bool {
	return path == prefix || len(path) > len(prefix) && path[:len(prefix)+1] == prefix+"/"
}

// page is the per-request template data.
type page struct {
	pageData
	Suggested string
}

func (s *server) servePage(w http.ResponseWriter, _ *http.Request) {
	s.render(w, s.page, page{pageData: s.pageData, Suggested: suggestAppName()})
}

// serveManage serves the manage page. The link's sealed state is in the
// URL fragment, which browsers never send: the page hands it to the
// resume handler at /manage/resume as its blob.
func (s *server) serveManage(w http.ResponseWriter, _ *http.Request) {
	s.render(w, s.managePage, page{pageData: s.pageData})
}

func (s *server) render(w http.ResponseWriter, t *template.Template, data page) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.log.Error("render page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// newManage builds the manage page's resume handler, whose blobs the
// launch page hands out as manage links.
func (s *server) newManage(o serverOptions) error {
	m, err := newManageApp(s.app)
	if err != nil {
		return err
	}
	s.manage, err = resume.New(o.sealer, m, resumeOptions(o, manageKey, manageMaxAge, "manage"))
	s.app.links = s.manage
	return err
}

// resumeOptions are the options of the launcher's resume handlers: key
// and max age of their blobs, and what both share (origins, client
// addresses, on a Fly machine the replay of fallback POSTs).
func resumeOptions(o serverOptions, key string, maxAge time.Duration, component string) resume.Options {
	ro := resume.Options{
		Key:            key,
		MaxAge:         maxAge,
		OriginPatterns: o.origins,
		ClientAddr:     func(r *http.Request) netip.Addr { return clientAddr(r, o.clients) },
		Logger:         o.logger.With("component", component),
	}
	if o.machine != "" {
		ro.Instance, ro.Replay = o.machine, flyReplay
	}
	return ro
}

// shutdown ends every page connection (pages reconnect, to this instance
// once it is back or to another one) and waits for the watchers. The
// caller closes the launcher afterwards.
func (s *server) shutdown(ctx context.Context) error {
	err := s.resume.Shutdown(ctx)
	if err != nil {
		err = fmt.Errorf("shut down resume handler: %w", err)
	}
	if merr := s.manage.Shutdown(ctx); merr != nil {
		err = errors.Join(err, fmt.Errorf("shut down manage handler: %w", merr))
	}
	return err
}
