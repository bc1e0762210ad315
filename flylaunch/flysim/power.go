package flysim

import (
	"fmt"
	"net/http"
	"strconv"

	fly "github.com/superfly/fly-go"
)

// startMachine serves POST /v1/apps/{app}/machines/{id}/start.
func (s *Server) startMachine(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	now := s.now().UTC()
	prev := s.stateAt(m, now)
	switch prev {
	case fly.MachineStateDestroyed, fly.MachineStateDestroying:
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: machine is destroyed")
		return
	case fly.MachineStateCreated, fly.MachineStateStopped:
		if m.StartAt == nil || m.StoppedAt != nil {
			m.StartAt, m.StoppedAt, m.UpdatedAt = &now, nil, now
			m.InstanceID = s.randULID()
		}
	}
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, fly.MachineStartResponse{Status: "success", PreviousState: prev})
}

// stopMachine serves POST /v1/apps/{app}/machines/{id}/stop.
func (s *Server) stopMachine(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	if m.DestroyedAt != nil {
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: machine is destroyed")
		return
	}
	s.markStopped(m)
	if !s.commit(w) {
		return
	}
	writeOK(w)
}

// signalMachine serves POST /v1/apps/{app}/machines/{id}/signal; SIGKILL
// and SIGTERM (9, 15) stop the machine, others are accepted and ignored.
func (s *Server) signalMachine(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Signal any `json:"signal"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	sig := fmt.Sprint(in.Signal)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	if m.DestroyedAt != nil {
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: machine is destroyed")
		return
	}
	switch sig {
	case "9", "15", "SIGKILL", "SIGTERM":
		s.markStopped(m)
	}
	if !s.commit(w) {
		return
	}
	writeOK(w)
}

// destroyMachine serves DELETE /v1/apps/{app}/machines/{id}. A machine that
// is not stopped is destroyed only with force=true (or fly-go's kill=true);
// otherwise Fly answers 412.
func (s *Server) destroyMachine(w http.ResponseWriter, r *http.Request) {
	kill, _ := strconv.ParseBool(r.URL.Query().Get("kill"))
	force, _ := strconv.ParseBool(r.URL.Query().Get("force"))
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	now := s.now().UTC()
	if m.DestroyedAt != nil {
		writeOK(w)
		return
	}
	if idle := m.StoppedAt != nil || m.StartAt == nil; !idle && !kill && !force {
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: unable to destroy machine, not currently stopped, suspended or destroyed")
		return
	}
	m.DestroyedAt, m.UpdatedAt, m.Lease = &now, now, nil
	if !s.commit(w) {
		return
	}
	writeOK(w)
}

// markStopped records that m stopped now, unless it already had.
func (s *Server) markStopped(m *machine) {
	if m.StoppedAt == nil {
		now := s.now().UTC()
		m.StoppedAt, m.UpdatedAt = &now, now
	}
}
