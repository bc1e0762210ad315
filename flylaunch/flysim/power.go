package flysim

import (
	"fmt"
	"net/http"
	"strconv"

	fly "github.com/superfly/fly-go"
)

// startMachine serves POST /v1/apps/{app}/machines/{id}/start. A machine
// that is created (never started), stopped, suspended or failed starts
// again; one already booting or running is left alone.
func (s *Server) startMachine(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	now := s.now().UTC()
	prev := s.stateAt(m, now)
	switch prev {
	case stateDestroyed, stateDestroying:
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: machine is destroyed")
		return
	case stateCreated, stateStopped, stateStopping, stateSuspended, stateSuspending, stateFailed:
		if m.StartAt == nil || m.StoppedAt != nil || prev != stateCreated {
			m.StartAt, m.StoppedAt, m.Suspended, m.UpdatedAt, m.Boot = &now, nil, false, now, bootStart
			m.InstanceID = s.randULID()
			s.boot(a, m)
		}
	}
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, fly.MachineStartResponse{Status: "success", PreviousState: prev})
}

// stopMachine serves POST /v1/apps/{app}/machines/{id}/stop.
func (s *Server) stopMachine(w http.ResponseWriter, r *http.Request) {
	s.haltMachine(w, r, false)
}

// suspendMachine serves POST /v1/apps/{app}/machines/{id}/suspend: like a
// stop, but the machine reports suspending, then suspended.
func (s *Server) suspendMachine(w http.ResponseWriter, r *http.Request) {
	s.haltMachine(w, r, true)
}

// haltMachine stops or suspends {id}.
func (s *Server) haltMachine(w http.ResponseWriter, r *http.Request, suspend bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	if s.gone(m, s.now()) {
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: machine is destroyed")
		return
	}
	s.markStopped(m, suspend)
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
	if s.gone(m, s.now()) {
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: machine is destroyed")
		return
	}
	switch sig {
	case "9", "15", "SIGKILL", "SIGTERM":
		s.markStopped(m, false)
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
	st := s.stateAt(m, now)
	if m.DestroyedAt != nil || st == stateDestroyed {
		writeOK(w)
		return
	}
	if !idle(m, st) && !kill && !force {
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: unable to destroy machine, not currently stopped, suspended or destroyed")
		return
	}
	m.DestroyedAt, m.UpdatedAt, m.Lease = &now, now, nil
	if !s.commit(w) {
		return
	}
	writeOK(w)
}

// idle reports whether m, in state st, may be destroyed without force:
// never started, or stopped, suspended or failed.
func idle(m *machine, st string) bool {
	switch st {
	case stateStopped, stateSuspended, stateFailed, stateLaunchFailed:
		return true
	}
	return m.StartAt == nil
}

// markStopped records that m stopped (or suspended) now, unless it already
// had.
func (s *Server) markStopped(m *machine, suspend bool) {
	if m.StoppedAt == nil {
		now := s.now().UTC()
		m.StoppedAt, m.UpdatedAt, m.Suspended = &now, now, suspend
	}
}
