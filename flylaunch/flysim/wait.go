package flysim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Wait bounds, in simulated seconds, as the Machines API enforces them.
const (
	defaultWaitTimeout = 60
	maxWaitTimeout     = 300
	// waitPoll bounds how long a waiter sleeps between looks, so an
	// injected Clock moved forward by a test is noticed promptly.
	waitPoll = 20 * time.Millisecond
)

// waitMachine serves GET /v1/apps/{app}/machines/{id}/wait?state=S&timeout=N.
// It answers 200 {"ok":true} once the machine is in one of the states
// (repeated or comma-separated; default "started") and 408 when timeout
// simulated seconds pass first. Progress follows Options.Clock; the timeout
// elapses in wall time divided by Options.Speed.
func (s *Server) waitMachine(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	want := map[string]bool{}
	for _, v := range q["state"] {
		for _, st := range strings.Split(v, ",") {
			if st == "" {
				continue
			}
			if !isMachineState(st) {
				writeError(w, http.StatusBadRequest, "invalid_argument: invalid state "+quoteName(st))
				return
			}
			want[st] = true
		}
	}
	if len(want) == 0 {
		want["started"] = true
	}
	timeout := defaultWaitTimeout
	if v := q.Get("timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxWaitTimeout {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid_argument: timeout must be 1..%d seconds", maxWaitTimeout))
			return
		}
		timeout = n
	}
	if s.prof.WaitNeedsInstance && !s.waitInstanceOK(w, r, want) {
		return
	}
	deadline := time.NewTimer(s.realDuration(time.Duration(timeout) * time.Second))
	defer deadline.Stop()
	for {
		s.mu.Lock()
		_, m := s.findMachine(w, r)
		if m == nil {
			s.mu.Unlock()
			return
		}
		now := s.now()
		st := s.stateAt(m, now)
		next := s.nextChange(m, now)
		changed := s.changed
		s.mu.Unlock()
		if want[st] {
			writeOK(w)
			return
		}
		if next <= 0 || next > waitPoll {
			next = waitPoll
		}
		tick := time.NewTimer(next)
		select {
		case <-tick.C:
		case <-changed:
		case <-deadline.C:
			tick.Stop()
			writeError(w, http.StatusRequestTimeout, fmt.Sprintf("deadline_exceeded: machine %s did not reach state %s within %ds (currently %s)", r.PathValue("id"), stateList(want), timeout, st))
			return
		case <-r.Context().Done():
			tick.Stop()
			return
		case <-s.done:
			tick.Stop()
			writeError(w, http.StatusServiceUnavailable, "unavailable: simulator shutting down")
			return
		}
		tick.Stop()
	}
}

// waitInstanceOK checks the wait's instance_id as Fly's Machines API
// reference documents it: "Required when waiting for Machine to be in
// stopped state", a "filter for a specific Machine instance_id". It
// answers 400 to a stopped-wait without one, and (flysim's reading of the
// filter) to an instance_id that is not the machine's current instance,
// which no wait could see reach a state. fly-go v0.9.3's WithWaitVersion
// sends "version", a name the reference does not give: it is not taken
// for instance_id. A machine not found is left to the wait's own 404.
func (s *Server) waitInstanceOK(w http.ResponseWriter, r *http.Request, want map[string]bool) bool {
	inst := r.URL.Query().Get("instance_id")
	if inst == "" {
		if want[stateStopped] {
			writeError(w, http.StatusBadRequest, "invalid_argument: instance_id is required when waiting for the stopped state")
			return false
		}
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.st.Apps[r.PathValue("app")]
	if !ok {
		return true
	}
	m, ok := a.Machines[r.PathValue("id")]
	if !ok || m.InstanceID == inst {
		return true
	}
	writeError(w, http.StatusBadRequest, "invalid_argument: instance_id "+quoteName(inst)+" is not the current instance of machine "+m.ID)
	return false
}

func stateList(want map[string]bool) string {
	var out []string
	for _, st := range machineStates() {
		if want[st] {
			out = append(out, st)
		}
	}
	return strings.Join(out, "|")
}
