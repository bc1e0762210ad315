package flysim

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"sort"
	"time"

	fly "github.com/superfly/fly-go"
)

// secretNamePattern is Fly's rule for secret names (environment variables).
var secretNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,255}$`)

// digest is the non-reversible fingerprint Fly reports for a secret.
func digest(value string) string {
	sum := sha256.Sum256([]byte("flysim-secret\x00" + value))
	return hex.EncodeToString(sum[:8])
}

func secretView(name string, sec *secret) fly.AppSecret {
	c := sec.CreatedAt.UTC().Format(time.RFC3339)
	u := sec.UpdatedAt.UTC().Format(time.RFC3339)
	return fly.AppSecret{Name: name, Digest: sec.Digest, CreatedAt: &c, UpdatedAt: &u}
}

// secretViews lists a's secrets by name: names, digests and times only,
// never values (the simulator's secrets are write-only, even with
// show_secrets). Callers hold s.mu.
func secretViews(a *app) []fly.AppSecret {
	names := make([]string, 0, len(a.Secrets))
	for n := range a.Secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]fly.AppSecret, 0, len(names))
	for _, n := range names {
		out = append(out, secretView(n, a.Secrets[n]))
	}
	return out
}

// setSecretLocked stores one value. Callers hold s.mu.
func (s *Server) setSecretLocked(a *app, name, value string) *secret {
	now := s.now().UTC()
	sec, ok := a.Secrets[name]
	if !ok {
		sec = &secret{CreatedAt: now}
		a.Secrets[name] = sec
	}
	sec.Value, sec.Digest, sec.UpdatedAt = value, digest(value), now
	return sec
}

// updateSecrets serves POST /v1/apps/{app}/secrets: set non-null values,
// delete null ones, one new version for the batch.
func (s *Server) updateSecrets(w http.ResponseWriter, r *http.Request) {
	var in fly.UpdateAppSecretsRequest
	if !decodeJSON(w, r, &in) {
		return
	}
	for name := range in.Values {
		if !secretNamePattern.MatchString(name) {
			writeError(w, http.StatusBadRequest, "invalid secret name "+quoteName(name))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	for name, v := range in.Values {
		if v == nil {
			delete(a.Secrets, name)
			continue
		}
		s.setSecretLocked(a, name, *v)
	}
	a.SecretsVersion++
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, fly.UpdateAppSecretsResp{Secrets: secretViews(a), Version: a.SecretsVersion})
}

// listSecrets serves GET /v1/apps/{app}/secrets.
func (s *Server) listSecrets(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	writeJSON(w, http.StatusOK, fly.ListAppSecretsResp{Secrets: secretViews(a)})
}

// getSecret serves GET /v1/apps/{app}/secrets/{name}.
func (s *Server) getSecret(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	name := r.PathValue("name")
	sec, ok := a.Secrets[name]
	if !ok {
		writeError(w, http.StatusNotFound, "secret not found")
		return
	}
	writeJSON(w, http.StatusOK, secretView(name, sec))
}

// setSecret serves POST /v1/apps/{app}/secrets/{name}.
func (s *Server) setSecret(w http.ResponseWriter, r *http.Request) {
	var in fly.SetAppSecretRequest
	if !decodeJSON(w, r, &in) {
		return
	}
	name := r.PathValue("name")
	if !secretNamePattern.MatchString(name) {
		writeError(w, http.StatusBadRequest, "invalid secret name "+quoteName(name))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	sec := s.setSecretLocked(a, name, in.Value)
	a.SecretsVersion++
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, fly.SetAppSecretResp{AppSecret: secretView(name, sec), Version: a.SecretsVersion})
}

// deleteSecret serves DELETE /v1/apps/{app}/secrets/{name}.
func (s *Server) deleteSecret(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	name := r.PathValue("name")
	if _, ok := a.Secrets[name]; !ok {
		writeError(w, http.StatusNotFound, "secret not found")
		return
	}
	delete(a.Secrets, name)
	a.SecretsVersion++
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, fly.DeleteAppSecretResp{Version: a.SecretsVersion})
}

// quoteName quotes a client-supplied name for an error message, bounded.
func quoteName(name string) string {
	if len(name) > 64 {
		name = name[:64] + "..."
	}
	return "\"" + name + "\""
}
