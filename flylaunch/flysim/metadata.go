package flysim

import (
	"net/http"
	"regexp"

	fly "github.com/superfly/fly-go"
)

var metadataKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// getMetadata serves GET /v1/apps/{app}/machines/{id}/metadata.
func (s *Server) getMetadata(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil {
		return
	}
	out := map[string]string{}
	if m.Config != nil {
		for k, v := range m.Config.Metadata {
			out[k] = v
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// setMetadata serves POST /v1/apps/{app}/machines/{id}/metadata/{key}.
func (s *Server) setMetadata(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Value *string `json:"value"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	key := r.PathValue("key")
	if !metadataKeyPattern.MatchString(key) {
		writeError(w, http.StatusBadRequest, "invalid_argument: invalid metadata key "+quoteName(key))
		return
	}
	if in.Value == nil {
		writeError(w, http.StatusBadRequest, "invalid_argument: value is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	if m.Config == nil {
		m.Config = &fly.MachineConfig{}
	}
	if m.Config.Metadata == nil {
		m.Config.Metadata = map[string]string{}
	}
	m.Config.Metadata[key] = *in.Value
	if !s.commit(w) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteMetadata serves DELETE /v1/apps/{app}/machines/{id}/metadata/{key}.
func (s *Server) deleteMetadata(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	key := r.PathValue("key")
	if m.Config == nil || m.Config.Metadata == nil {
		writeError(w, http.StatusNotFound, "metadata key not found")
		return
	}
	if _, ok := m.Config.Metadata[key]; !ok {
		writeError(w, http.StatusNotFound, "metadata key not found")
		return
	}
	delete(m.Config.Metadata, key)
	if !s.commit(w) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
