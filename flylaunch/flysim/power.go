package flysim

import (
	"fmt"
	"net/http"
	"strconv"

	fly "github.com/superfly/fly-go"
)

// startMachine serves POST /v1/apps/{app}/machines/{id}/start. A machine
// that is created (never started), stopped, suspended or failed starts
// again; one already booting or running is left alone, unless the
// Profile's RefuseBusy makes Fly's 412 answer to a start from a state
// that is still changing (see busyFor).
func (s *Server) startMachine(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	now := s.now().UTC()
	prev := s.stateAt(m, now)
	if s.prof.RefuseBusy && s.refuses(w, m, prev, "start") {
		return
	}
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
	verb := "stop"
	if suspend {
		verb = "suspend"
	}
	if s.prof.RefuseBusy && s.refuses(w, m, s.stateAt(m, s.now()), verb) {
		return
	}
	s.markStopped(m, suspend)
	if !s.commit(w) {
		return
	}
	writeOK(w)
}

// refuses answers Fly's 412 to verb (start, stop or suspend) on m in state
// st when busyFor says so, and reports whether it did.
func (s *Server) refuses(w http.ResponseWriter, m *machine, st, verb string) bool {
	if !busyFor(m, st, verb) {
		return false
	}
	writeError(w, http.StatusPreconditionFailed, fmt.Sprintf("failed_precondition: unable to %s machine from current state: '%s'", verb, st))
	return true
}

// busyFor reports the states from which Fly refuses verb with 412
// "unable to <verb> machine from current state: '<state>'". Fly's answer
// has been seen for a start from replacing, created (a launch still in
// progress) and stopping (Fly docs, Machine states: these are transitions
// flyd is carrying out); flysim refuses every transitional state for both
// verbs: created while a launch or start is under way, starting,
// replacing, stopping, suspending. A stop or suspend from a machine that
// is already down (stopped, suspended, failed, launch_failed, or created
// and never started) is refused too, as flylaunch always assumed Fly
// does; a start of a started machine is accepted and changes nothing
// (the answer's previous_state says "started"). Destroyed machines have
// their own 412.
func busyFor(m *machine, st, verb string) bool {
	switch st {
	case stateStarting, stateReplacing, stateStopping, stateSuspending:
		return true
	case stateCreated:
		return m.StartAt != nil || verb != "start"
	case stateStopped, stateSuspended, stateFailed, stateLaunchFailed:
		return verb != "start" || st == stateLaunchFailed
	}
	return false
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
