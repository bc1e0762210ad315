package main

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/hooks"
	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

//go:embed web/app.js web/manage.js web/style.css web/index.html web/manage.html web/favicon.svg
var webFS embed.FS

// server is the launcher's HTTP handler, behind resume.AllowHosts; close
// shuts all of it down.
type server struct {
	http.Handler
	fly    *fly
	launch *resume.Handler[launchState]
	manage *resume.Handler[manageState]
	jobs   *jobs
	cancel context.CancelFunc // of jobs.ctx
	log    *slog.Logger
	csp    string
	page   *template.Template
	mpage  *template.Template
	pageData
}

// jobs are the goroutines that outlive a request: ctx is canceled at
// shutdown, then close waits for them.
type jobs struct {
	ctx context.Context
	sync.WaitGroup
}

// pageData is what the page templates render.
type pageData struct {
	StyleSrc, AppSrc, AppIntegrity, ManageSrc, ManageIntegrity string
	ImportMap                                                  template.HTML
	Mode                                                       string
	Visitor                                                    bool   // the form asks for the visitor's Fly token
	DemoToken                                                  string // a simulated visitor's token, offered on the form
	Regions                                                    []region
	Sizes                                                      []size
	Suggested                                                  string // per request: a fresh app name
}

// newServer builds the launcher for c on f, which it closes: in close, or
// before it returns an error.
func newServer(c config, sealer *seal.Sealer, f *fly, log *slog.Logger) (s *server, err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, f.close())
		}
	}()
	now := c.now
	if now == nil {
		now = time.Now
	}
	admit, err := newAdmission(now, cmp.Or(c.maxLaunches, defaultMaxLaunches), log)
	if err != nil {
		return nil, err
	}
	views, err := resume.NewRateLimiter(viewInterval, viewBurst, maxTrackedClients, now)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s = &server{fly: f, jobs: &jobs{ctx: ctx}, cancel: cancel, log: log}
	m := &manageApp{
		launchers: f.as, org: c.flyOrg, admit: admit.admit, views: views, livebookURL: f.livebookURL,
		jobs: s.jobs, log: log, ops: map[string]*manageOp{},
	}
	if s.manage, err = resume.New(sealer, m, resumeOptions(c, manageKey, manageMaxAge, log.With("component", "manage"))); err != nil {
		return nil, err
	}
	ready := func(ctx context.Context) bool { return f.launcher.Ready(ctx) == nil }
	a := &launchApp{fly: f, org: c.flyOrg, admit: admit.admit, ready: ready, lookups: views.Reserve, links: s.manage, jobs: s.jobs, log: log, now: now}
	if s.launch, err = resume.New(sealer, a, resumeOptions(c, resumeKey, stateMaxAge, log.With("component", "resume"))); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	hk := hooks.New()
	if s.ImportMap, err = hk.ImportMap("/hooks"); err != nil {
		return nil, err
	}
	hash, err := hk.ImportMapHash("/hooks")
	if err != nil {
		return nil, err
	}
	// No third party, no framing, no inline script but the import map.
	s.csp = "default-src 'none'; script-src 'self' " + hash + "; style-src 'self'; connect-src 'self'; " +
		"img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	if s.page, err = template.ParseFS(webFS, "web/index.html"); err != nil {
		return nil, err
	}
	if s.mpage, err = template.ParseFS(webFS, "web/manage.html"); err != nil {
		return nil, err
	}
	for _, a := range []struct {
		path, file, ctype string
		src, integrity    *string
	}{
		{"/static/app.js", "web/app.js", "text/javascript; charset=utf-8", &s.AppSrc, &s.AppIntegrity},
		{"/static/manage.js", "web/manage.js", "text/javascript; charset=utf-8", &s.ManageSrc, &s.ManageIntegrity},
		{"/static/style.css", "web/style.css", "text/css; charset=utf-8", &s.StyleSrc, nil},
		{"/favicon.svg", "web/favicon.svg", "image/svg+xml", nil, nil},
	} {
		b, err := webFS.ReadFile(a.file)
		if err != nil {
			return nil, err
		}
		as, err := hooks.NewAsset(b, a.ctype)
		if err != nil {
			return nil, err
		}
		mux.Handle("GET "+a.path, as)
		if a.src != nil {
			*a.src = as.URL(a.path)
		}
		if a.integrity != nil {
			*a.integrity = as.Integrity()
		}
	}
	s.Mode, s.Regions, s.Sizes, s.Visitor, s.DemoToken = f.mode, regions, sizes, f.visitor, f.demoToken

	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		d := s.pageData
		d.Suggested = suggestAppName()
		s.render(w, s.page, d)
	})
	// The manage link's sealed state is in the URL fragment, which
	// browsers never send: the page hands it to /manage/resume as its blob.
	mux.HandleFunc("GET /manage", func(w http.ResponseWriter, _ *http.Request) { s.render(w, s.mpage, s.pageData) })
	mux.Handle("/manage/resume", s.manage)
	mux.Handle("/manage/resume/", s.manage)
	mux.Handle("/hooks/", http.StripPrefix("/hooks", hk))
	mux.Handle("/resume", s.launch)
	mux.Handle("/resume/", s.launch)
	mux.HandleFunc("GET /healthz", liveness)
	mux.HandleFunc("GET /readyz", s.readyz)
	if f.sim != nil {
		mux.Handle(simPrefix+"/", http.StripPrefix(simPrefix, f.sim))
	}
	hosts, err := resume.ListenHosts(cmp.Or(c.addr, defaultAddr))
	if err != nil {
		return nil, err
	}
	s.Handler, err = resume.AllowHosts(s.headers(mux), slices.Concat(hosts, c.origins, c.allowedHosts)...)
	return s, err
}

// headers adds the security headers to every response but the
// simulator's, whose stand-in Livebooks keep their own.
func (s *server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.URL.Path != simPrefix && !strings.HasPrefix(r.URL.Path, simPrefix+"/") {
			h.Set("Content-Security-Policy", s.csp)
			h.Set("X-Frame-Options", "DENY")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) render(w http.ResponseWriter, t *template.Template, data pageData) {
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

// resumeOptions are the options of the launcher's resume handlers.
func resumeOptions(c config, key string, maxAge time.Duration, log *slog.Logger) resume.Options {
	o := resume.Options{
		Key: key, MaxAge: maxAge, OriginPatterns: c.origins, Logger: log,
		ClientAddr:        resume.ClientAddrFrom(c.clientIPHeader),
		MaxConnsPerClient: cmp.Or(c.maxConnsPerClient, defaultMaxConnsPerClient),
	}
	if c.flyMachineID != "" {
		o.Instance, o.Replay = c.flyMachineID, resume.FlyReplay
	}
	return o
}

// close ends the page connections first (pages reconnect elsewhere), then
// the deploy drivers (deploys go on at Fly) and the simulator, then the
// background jobs.
func (s *server) close(ctx context.Context) error {
	var err error
	if lerr := s.launch.Shutdown(ctx); lerr != nil {
		err = fmt.Errorf("shut down resume handler: %w", lerr)
	}
	if merr := s.manage.Shutdown(ctx); merr != nil {
		err = errors.Join(err, fmt.Errorf("shut down manage handler: %w", merr))
	}
	err = errors.Join(err, s.fly.close())
	s.cancel()
	s.jobs.Wait()
	return err
}

// liveness serves GET /healthz, the check Fly's proxy routes by: 200
// whatever the Fly API does. Without it pages, manage links and resumes
// still work (only new launches cannot start), and a check that failed
// then would take every instance out of routing.
func liveness(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz serves GET /readyz, which no routing depends on (fly.toml must
// not check it): 200 once the Fly Machines API answers the launcher's
// token, 503 otherwise; the page asks it too (ready). flylaunch's Ready
// caches the probe: /readyz, which anyone can call, costs Fly little.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch err := s.fly.launcher.Ready(r.Context()); {
	case err == nil:
		_, _ = w.Write([]byte("ok\n"))
	case errors.Is(err, flylaunch.ErrTokenRefused):
		http.Error(w, "not ready: the Fly API refused the token", http.StatusServiceUnavailable)
	default:
		http.Error(w, "not ready: the Fly API did not answer", http.StatusServiceUnavailable)
	}
}
