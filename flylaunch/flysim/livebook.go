package flysim

import (
	"crypto/sha256"
	"crypto/subtle"
	"html/template"
	"net/http"
)

// livebookPasswordSecret is the app secret the stand-in Livebook checks.
const livebookPasswordSecret = "LIVEBOOK_PASSWORD"

var livebookPage = template.Must(template.New("livebook").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Livebook - {{.App}}</title></head>
<body>
{{if .OK}}<main data-test="livebook-ok"><h1>Livebook</h1><p>Welcome to {{.App}}.</p></main>
{{else}}<main data-test="livebook-login"><h1>Authentication required</h1>
{{if .Failed}}<p role="alert" data-test="livebook-error">Invalid password.</p>{{end}}
<form method="post">
<input type="password" name="password" autocomplete="current-password" required>
<button type="submit">Authenticate</button>
</form></main>{{end}}
</body>
</html>
`))

type livebookData struct {
	App        string
	OK, Failed bool
}

// livebookMachine returns the newest started machine of {app} (under a
// strict Profile, the newest one actually serving Livebook behind its
// services), answering 404 for an unknown app and 503 when there is none.
// Callers hold s.mu.
func (s *Server) livebookMachine(w http.ResponseWriter, r *http.Request) *machine {
	a, ok := s.st.Apps[r.PathValue("app")]
	if !ok {
		http.Error(w, "app not found", http.StatusNotFound)
		return nil
	}
	now := s.now()
	var best *machine
	for _, m := range a.Machines {
		if s.stateAt(m, now) != stateStarted || (s.prof.StrictMachines && !servesLivebook(m)) {
			continue
		}
		if best == nil || m.StartAt.After(*best.StartAt) {
			best = m
		}
	}
	if best == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "livebook is not running", http.StatusServiceUnavailable)
	}
	return best
}

// livebookHealth serves GET /livebook/{app}/public/health.
func (s *Server) livebookHealth(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.livebookMachine(w, r)
	s.mu.Unlock()
	if m == nil {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// livebookLogin serves GET and POST /livebook/{app}/: the login form, and
// its check against the LIVEBOOK_PASSWORD the machine was launched with.
func (s *Server) livebookLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	m := s.livebookMachine(w, r)
	var want string
	var set bool
	if m != nil {
		want, set = envOf(m, livebookPasswordSecret)
	}
	s.mu.Unlock()
	if m == nil {
		return
	}
	data := livebookData{App: r.PathValue("app")}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		data.OK = set && passwordEqual(r.PostForm.Get("password"), want)
		if !data.OK {
			data.Failed = true
			status = http.StatusUnauthorized
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = livebookPage.Execute(w, data)
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
