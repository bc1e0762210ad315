package flysim

import (
	"time"

	fly "github.com/superfly/fly-go"
)

// events lists m's lifecycle events, newest first as Fly does. A
// crash-looping machine reports its latest exits the way flyd does (exit
// code, whether it is restarting, the restart count), which is what
// flyctl's isConstantlyRestarting reads.
func (s *Server) events(m *machine, now time.Time) []*fly.MachineEvent {
	out := []*fly.MachineEvent{event("launch", "created", "user", m.CreatedAt)}
	if m.StartAt != nil {
		out = append(out, s.bootEvents(m, now)...)
	}
	if m.StoppedAt != nil {
		e := event("exit", "stopped", "user", *m.StoppedAt)
		e.Request = &fly.MachineRequest{ExitEvent: &fly.MachineExitEvent{RequestedStop: true, ExitedAt: m.StoppedAt.UTC()}}
		if m.Suspended {
			e = event("suspend", "suspended", "user", *m.StoppedAt)
		}
		out = append(out, e)
	}
	if m.DestroyedAt != nil {
		out = append(out, event("destroy", "destroyed", "user", *m.DestroyedAt))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func event(typ, status, source string, at time.Time) *fly.MachineEvent {
	return &fly.MachineEvent{Type: typ, Status: status, Source: source, Timestamp: at.UnixMilli()}
}

// bootEvents are the events of m's latest start, up to now (or up to its
// stop, if it was stopped).
func (s *Server) bootEvents(m *machine, now time.Time) []*fly.MachineEvent {
	if m.StoppedAt != nil && m.StoppedAt.Before(now) {
		now = *m.StoppedAt
	}
	el := bootEl(m, s.simElapsed(now, *m.StartAt))
	at := func(sim time.Duration) time.Time { return m.StartAt.Add(s.realDuration(bootMark(m, sim))) }
	if !s.prof.StrictMachines {
		if el < startedAfter {
			return nil
		}
		return []*fly.MachineEvent{event("start", "started", "flyd", at(startedAfter))}
	}
	p := programOf(m)
	switch {
	case el < startingAfter:
		return nil
	case !p.known:
		out := []*fly.MachineEvent{event(bootEventType(m), "failed", "flyd", at(startingAfter))}
		if m.Boot == bootLaunch || m.Boot == "" {
			if el >= startingAfter+launchFailedFor {
				out = append(out, event("destroy", "destroyed", "flyd", at(startingAfter+launchFailedFor)))
			}
		}
		return out
	case el < startedAfter:
		return nil
	case p.crash == "":
		return []*fly.MachineEvent{event("start", "started", "flyd", at(startedAfter))}
	}
	return crashEvents(crashLoopAt(el-startedAfter, restartLimit(m.Config)), restartLimit(m.Config), func(sim time.Duration) time.Time {
		return at(startedAfter + sim)
	})
}

func bootEventType(m *machine) string {
	if m.Boot == bootUpdate {
		return "update"
	}
	if m.Boot == bootStart {
		return "start"
	}
	return "launch"
}

// crashEvents lists the starts and exits of a crash loop so far (the
// latest maxExitEvents of them); at maps time since the first start to a
// timestamp.
func crashEvents(c crashLoop, limit int, at func(time.Duration) time.Time) []*fly.MachineEvent {
	cycle := crashRun + restartGap
	first := max(1, c.exits-maxExitEvents+1)
	var out []*fly.MachineEvent
	for n := first; n <= c.exits+1; n++ {
		start := time.Duration(n-1) * cycle
		if n > c.exits && (c.stopped || !c.running) {
			break
		}
		out = append(out, event("start", "started", "flyd", at(start)))
		if n > c.exits {
			break
		}
		exitAt := at(start + crashRun)
		restarting := limit == 0 || n < limit
		e := event("exit", "stopped", "flyd", exitAt)
		e.Request = &fly.MachineRequest{
			ExitEvent:    &fly.MachineExitEvent{ExitCode: 1, Restarting: restarting, ExitedAt: exitAt.UTC()},
			RestartCount: n - 1,
		}
		out = append(out, e)
	}
	return out
}
