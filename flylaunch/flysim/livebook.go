package flysim

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sync"
	"time"
)

// livebookPasswordSecret is the app secret the stand-in Livebook checks.
const livebookPasswordSecret = "LIVEBOOK_PASSWORD"

// livebookKeyBaseSecret signs the stand-in Livebook's session cookie, as
// Livebook's LIVEBOOK_SECRET_KEY_BASE signs its sessions. Livebook's
// README: without it, a random one is generated on every boot, so every
// boot (an autostopped machine woken up by a request) logs everyone out.
const livebookKeyBaseSecret = "LIVEBOOK_SECRET_KEY_BASE"

// livebookSessionCookie is the stand-in Livebook's session cookie.
const livebookSessionCookie = "livebook_session"

var livebookPage = template.Must(template.New("livebook").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Livebook - {{.App}}</title>
<style>
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f7f7fb; color: #1b1f2a;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { width: min(22rem, calc(100vw - 2rem)); background: #fff; border: 1px solid #e3e5ee; border-radius: 12px;
  padding: 1.75rem; box-shadow: 0 8px 24px rgba(16, 24, 40, .06); }
h1 { font-size: 1.35rem; margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin-bottom: .35rem; }
input { box-sizing: border-box; width: 100%; font: inherit; padding: .6rem .75rem; border: 1px solid #c9cedb; border-radius: 8px; }
button { margin-top: 1rem; width: 100%; font: inherit; font-weight: 600; padding: .65rem; border: 0; border-radius: 8px;
  background: #6d4aff; color: #fff; cursor: pointer; }
[role=alert] { background: #fef3f2; color: #b42318; border: 1px solid #fecdca; border-radius: 8px; padding: .6rem .8rem; }
</style></head>
<body>
{{if .OK}}<main data-test="livebook-ok"><h1>Livebook</h1><p>Welcome to {{.App}}.</p></main>
{{else}}<main data-test="livebook-login"><h1>Authentication required</h1>
{{if .Failed}}<p role="alert" data-test="livebook-error">Invalid password.</p>{{end}}
<form method="post">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Authenticate</button>
</form></main>{{end}}
</body>
</html>
`))

type livebookData struct {
	App        string
	OK, Failed bool
}

// autostartWait bounds, in simulated time, how long the proxy holds a
// request while the machine it started boots.
const autostartWait = startedAfter + 10*time.Second

// backend is what a request through the proxy reaches: the started
// machine's LIVEBOOK_PASSWORD, as the process sees it, and the key that
// signs its sessions. done ends the request's load on the machine; call
// it once the answer is written.
type backend struct {
	password string
	set      bool
	// sessionKey is LIVEBOOK_SECRET_KEY_BASE, or without it a key of
	// this boot of the machine (Livebook draws a random one per boot).
	sessionKey string
	done       func()
}

// sessionKeyOf is the key m's Livebook signs sessions with in its current
// boot.
func sessionKeyOf(m *machine) string {
	if kb, ok := envOf(m, livebookKeyBaseSecret); ok && kb != "" {
		return "key-base " + kb
	}
	return fmt.Sprintf("boot %s %d", m.ID, m.StartAt.UnixNano())
}

// session is the value of the session cookie of app under key.
func session(key, app string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(app))
	return hex.EncodeToString(mac.Sum(nil))
}

// proxy does what Fly's proxy does for a request to the stand-in Livebook
// of {app}: it answers 404 for an unknown app, and for one the edge does
// not route to yet (edgeKnows), picks the newest started
// machine (under a strict Profile, the newest one actually serving
// Livebook behind its services) and notes the request on it. With none,
// it starts a stopped machine whose service autostarts (see autostart) and
// holds the request until that one serves; otherwise, or when that takes
// longer than autostartWait, it answers 503.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request) (backend, bool) {
	give := time.NewTimer(s.realDuration(autostartWait))
	defer give.Stop()
	for {
		s.mu.Lock()
		a, ok := s.st.Apps[r.PathValue("app")]
		if !ok {
			s.mu.Unlock()
			http.Error(w, "app not found", http.StatusNotFound)
			return backend{}, false
		}
		now := s.now()
		s.settle(a, now)
		if at, known := s.edgeKnows(a); !known || now.Before(at) {
			s.mu.Unlock()
			http.Error(w, "app not found", http.StatusNotFound)
			return backend{}, false
		}
		if m := s.livebookMachine(a, now); m != nil {
			b := backend{done: s.served(m)}
			b.password, b.set = envOf(m, livebookPasswordSecret)
			b.sessionKey = sessionKeyOf(m)
			s.mu.Unlock()
			return b, true
		}
		booting := s.autostart(a, now)
		changed := s.changed
		s.mu.Unlock()
		if !booting || s.hold(r, give.C, changed) != nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "livebook is not running", http.StatusServiceUnavailable)
			return backend{}, false
		}
	}
}

// served counts a request on m as load until the returned func is called,
// which notes its end as m's last request. Callers hold s.mu.
func (s *Server) served(m *machine) func() {
	at := s.now().UTC()
	m.LastRequestAt = &at
	m.open++
	_ = s.changedLocked()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			m.open--
			at := s.now().UTC()
			m.LastRequestAt = &at
			_ = s.changedLocked()
		})
	}
}

// edgeKnows returns when Fly's edge starts to route to a (Profile.EdgeDelay
// after its first machine reached "started"); known is false while no
// machine of a has been started, when the edge has nothing to route to.
// Without an EdgeDelay the edge knows every app at once. Callers hold s.mu.
func (s *Server) edgeKnows(a *app) (at time.Time, known bool) {
	if s.prof.EdgeDelay <= 0 {
		return time.Time{}, true
	}
	for _, m := range a.Machines {
		if m.StartAt == nil {
			continue
		}
		// CreatedAt, not StartAt: a restart (autostart after autostop)
		// does not make the edge forget the app.
		if !known || m.CreatedAt.Before(at) {
			at, known = m.CreatedAt, true
		}
	}
	return at.Add(s.realDuration(startedAfter + s.prof.EdgeDelay)), known
}

// hold returns nil after a state change or waitPoll (the clock may have
// moved), or an error when give fires, the request ends or the server
// closes.
func (s *Server) hold(r *http.Request, give <-chan time.Time, changed <-chan struct{}) error {
	tick := time.NewTimer(waitPoll)
	defer tick.Stop()
	select {
	case <-tick.C:
	case <-changed:
	case <-give:
		return errGaveUp
	case <-r.Context().Done():
		return r.Context().Err()
	case <-s.done:
		return errClosed
	}
	return nil
}

var errGaveUp = errors.New("flysim: the machine did not start in time")

// livebookMachine returns the newest started machine of a that serves
// Livebook, or nil. Callers hold s.mu.
func (s *Server) livebookMachine(a *app, now time.Time) *machine {
	var best *machine
	for _, m := range a.Machines {
		if s.stateAt(m, now) != stateStarted || (s.prof.StrictMachines && !servesLivebook(m)) {
			continue
		}
		if best == nil || m.StartAt.After(*best.StartAt) {
			best = m
		}
	}
	return best
}

// livebookHealth serves GET /livebook/{app}/public/health.
func (s *Server) livebookHealth(w http.ResponseWriter, r *http.Request) {
	b, ok := s.proxy(w, r)
	if !ok {
		return
	}
	defer b.done()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// livebookLogin serves GET and POST /livebook/{app}/: the login form, and
// its check against the LIVEBOOK_PASSWORD the machine was launched with,
// which sets a session cookie; a GET with a valid one is signed in. The
// cookie is signed with LIVEBOOK_SECRET_KEY_BASE, or without it with a
// key of the machine's current boot: then a stop and start (autostop and
// the next request) signs everyone out, as in Livebook.
func (s *Server) livebookLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
	}
	b, ok := s.proxy(w, r)
	if !ok {
		return
	}
	defer b.done()
	data := livebookData{App: r.PathValue("app")}
	status := http.StatusOK
	want := session(b.sessionKey, data.App)
	if c, err := r.Cookie(livebookSessionCookie); err == nil && hmac.Equal([]byte(c.Value), []byte(want)) {
		data.OK = true // signed in this boot, or with the same key base
	}
	if r.Method == http.MethodPost {
		data.OK = b.set && passwordEqual(r.PostForm.Get("password"), b.password)
		if !data.OK {
			data.Failed = true
			status = http.StatusUnauthorized
		} else {
			http.SetCookie(w, &http.Cookie{Name: livebookSessionCookie, Value: want, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = livebookPage.Execute(w, data)
}

// livebookLive serves GET /livebook/{app}/live, the stand-in for the
// LiveView WebSocket an open Livebook tab keeps (/live/websocket): it
// answers 200, sends one line, then holds the request open until the
// client goes away or the simulator closes. The machine has load for as
// long. It asks for no password: it stands for the connection, not for
// what goes over it.
func (s *Server) livebookLive(w http.ResponseWriter, r *http.Request) {
	b, ok := s.proxy(w, r)
	if !ok {
		return
	}
	defer b.done()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("connected\n"))
	_ = http.NewResponseController(w).Flush()
	select {
	case <-r.Context().Done():
	case <-s.done:
	}
}

// passwordEqual compares in constant time, independent of lengths.
func passwordEqual(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	h := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], h[:]) == 1
}

// servesLivebook reports whether m runs the stand-in Livebook and every
// service of m reaches it.
func servesLivebook(m *machine) bool {
	p := programOf(m)
	if !p.known || p.crash != "" {
		return false
	}
	for _, svc := range m.Config.Services {
		if svc.InternalPort != p.port {
			return false
		}
	}
	return true
}
