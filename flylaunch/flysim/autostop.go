package flysim

import (
	"slices"
	"time"

	fly "github.com/superfly/fly-go"
)

// Fly Proxy's autostop and autostart
// (https://fly.io/docs/reference/fly-proxy-autostop-autostart/): a
// machine whose service says autostop "stop" (or "suspend") is stopped (or
// suspended) once the app has been idle for several minutes, keeping
// min_machines_running started; a request to the app starts a stopped
// machine whose service says autostart, and waits for it before it is
// answered. The proxy of the simulator is the stand-in Livebook path,
// /livebook/{app}/: only requests there count as traffic.

// autostopMode is what m's services ask the proxy to do when idle:
// fly.MachineAutostopOff, Stop or Suspend, and the largest
// min_machines_running among them.
func autostopMode(m *machine) (fly.MachineAutostop, int) {
	mode, keep := fly.MachineAutostopOff, 0
	if m.Config == nil {
		return mode, keep
	}
	for _, svc := range m.Config.Services {
		if svc.Autostop != nil && *svc.Autostop > mode {
			mode = *svc.Autostop
		}
		if svc.MinMachinesRunning != nil {
			keep = max(keep, *svc.MinMachinesRunning)
		}
	}
	return mode, keep
}

// autostarts reports whether one of m's services lets the proxy start it.
func autostarts(m *machine) bool {
	if m.Config == nil {
		return false
	}
	for _, svc := range m.Config.Services {
		if svc.Autostart != nil && *svc.Autostart {
			return true
		}
	}
	return false
}

// idleStopAt is when the proxy stops m for want of traffic: the Profile's
// AutostopIdle after the later of the end of its last proxied request and
// the moment it started. ok is false when m is not started and
// autostopping, or is serving a request now.
func (s *Server) idleStopAt(m *machine, now time.Time) (time.Time, bool) {
	mode, _ := autostopMode(m)
	if mode == fly.MachineAutostopOff || s.prof.AutostopIdle <= 0 || m.StartAt == nil || m.StoppedAt != nil || m.DestroyedAt != nil || m.open > 0 {
		return time.Time{}, false
	}
	since := m.StartAt.Add(s.realDuration(bootMark(m, startedAfter)))
	if m.LastRequestAt != nil && m.LastRequestAt.After(since) {
		since = *m.LastRequestAt
	}
	at := since.Add(s.realDuration(s.prof.AutostopIdle))
	if now.Before(at) || s.stateAt(m, at) != stateStarted {
		return time.Time{}, false
	}
	return at, true
}

// settle applies the proxy's autostop to a's machines up to now, oldest
// due first, leaving min_machines_running of them started. It only
// records what the timestamps already decide, so it needs no commit: a
// simulator restarted on the same state settles the same way. Callers
// hold s.mu.
func (s *Server) settle(a *app, now time.Time) {
	type due struct {
		m  *machine
		at time.Time
	}
	var stops []due
	started := 0
	for _, m := range a.Machines {
		if s.stateAt(m, now) == stateStarted {
			started++
		}
		if at, ok := s.idleStopAt(m, now); ok {
			stops = append(stops, due{m, at})
		}
	}
	slices.SortFunc(stops, func(x, y due) int { return x.at.Compare(y.at) })
	for _, d := range stops {
		mode, keep := autostopMode(d.m)
		if started <= keep {
			continue
		}
		at := d.at.UTC()
		d.m.StoppedAt, d.m.UpdatedAt, d.m.Suspended = &at, at, mode == fly.MachineAutostopSuspend
		started--
	}
}

// autostart is the proxy's answer to a request for a that no started
// machine serves: it reports whether a machine is booting after an
// autostart, starting the most recently used stopped or suspended machine
// whose service autostarts if none is. Callers hold s.mu.
func (s *Server) autostart(a *app, now time.Time) bool {
	var pick *machine
	for _, m := range a.Machines {
		if !autostarts(m) {
			continue
		}
		switch s.stateAt(m, now) {
		case stateCreated, stateStarting, stateReplacing:
			if m.StartAt != nil && m.Boot == bootStart {
				return true
			}
		case stateStopped, stateSuspended:
			if pick == nil || m.UpdatedAt.After(pick.UpdatedAt) {
				pick = m
			}
		}
	}
	if pick == nil {
		return false
	}
	at := now.UTC()
	pick.StartAt, pick.StoppedAt, pick.Suspended, pick.UpdatedAt, pick.Boot = &at, nil, false, at, bootStart
	pick.InstanceID = s.randULID()
	s.boot(a, pick)
	_ = s.changedLocked()
	return true
}
