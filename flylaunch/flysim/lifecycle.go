package flysim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"
)

// Simulated durations at Speed 1: a launch reaches "starting" after
// startingAfter, "started" after startedAfter, and its health checks pass
// healthyAfter later (plus each check's grace period) — 30-60 s overall.
const (
	startingAfter   = 2 * time.Second
	startedAfter    = 20 * time.Second
	healthyAfter    = 15 * time.Second
	destroyingFor   = 1 * time.Second
	defaultLeaseTTL = 30
)

// simElapsed is the simulated time since t.
func (s *Server) simElapsed(now, t time.Time) time.Duration {
	return time.Duration(float64(now.Sub(t)) * s.speed)
}

// realDuration converts a simulated duration to wall time.
func (s *Server) realDuration(sim time.Duration) time.Duration {
	return time.Duration(float64(sim) / s.speed)
}

// stateAt is the machine's state at now.
func (s *Server) stateAt(m *machine, now time.Time) string {
	switch {
	case m.DestroyedAt != nil:
		if s.simElapsed(now, *m.DestroyedAt) < destroyingFor {
			return fly.MachineStateDestroying
		}
		return fly.MachineStateDestroyed
	case m.StoppedAt != nil:
		return fly.MachineStateStopped
	case m.StartAt == nil:
		return fly.MachineStateCreated
	}
	el := s.simElapsed(now, *m.StartAt)
	switch {
	case el < startingAfter:
		return fly.MachineStateCreated
	case el < startedAfter:
		return "starting"
	default:
		return fly.MachineStateStarted
	}
}

// nextChange is the wall time until m's state or checks may next change
// on their own; 0 if they never will.
func (s *Server) nextChange(m *machine, now time.Time) time.Duration {
	var marks []time.Duration
	var base time.Time
	switch {
	case m.DestroyedAt != nil:
		base, marks = *m.DestroyedAt, []time.Duration{destroyingFor}
	case m.StoppedAt != nil || m.StartAt == nil:
		return 0
	default:
		base = *m.StartAt
		marks = []time.Duration{startingAfter, startedAfter}
		for _, c := range checkSpecs(m.Config) {
			marks = append(marks, startedAfter+healthyAfter+c.grace)
		}
	}
	el := s.simElapsed(now, base)
	best := time.Duration(0)
	for _, mk := range marks {
		if d := mk - el; d > 0 && (best == 0 || d < best) {
			best = d
		}
	}
	if best == 0 {
		return 0
	}
	return s.realDuration(best) + time.Millisecond
}

type checkSpec struct {
	name  string
	grace time.Duration
}

// checkSpecs lists the health checks in a config: top-level checks by name,
// and service checks named like Fly's "servicecheck-NN-type-port".
func checkSpecs(c *fly.MachineConfig) []checkSpec {
	if c == nil {
		return nil
	}
	var out []checkSpec
	names := make([]string, 0, len(c.Checks))
	for n := range c.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, checkSpec{name: n, grace: durationOf(c.Checks[n].GracePeriod)})
	}
	n := 0
	for _, svc := range c.Services {
		for _, chk := range svc.Checks {
			typ := "tcp"
			if chk.Type != nil {
				typ = *chk.Type
			}
			port := svc.InternalPort
			if chk.Port != nil {
				port = *chk.Port
			}
			out = append(out, checkSpec{name: fmt.Sprintf("servicecheck-%02d-%s-%d", n, typ, port), grace: durationOf(chk.GracePeriod)})
			n++
		}
	}
	return out
}

func durationOf(d *fly.Duration) time.Duration {
	if d == nil || d.Duration < 0 {
		return 0
	}
	return d.Duration
}

// checksAt reports m's health checks at now: critical until healthyAfter
// (plus grace) past "started", then passing. Stopped and destroyed
// machines report none.
func (s *Server) checksAt(m *machine, now time.Time) []*fly.MachineCheckStatus {
	specs := checkSpecs(m.Config)
	if len(specs) == 0 || m.StartAt == nil || m.StoppedAt != nil || m.DestroyedAt != nil {
		return nil
	}
	el := s.simElapsed(now, *m.StartAt)
	out := make([]*fly.MachineCheckStatus, 0, len(specs))
	for _, c := range specs {
		st := fly.ConsulCheckStatus("critical")
		output := "connection refused"
		at := m.StartAt.Add(s.realDuration(startingAfter))
		if pass := startedAfter + healthyAfter + c.grace; el >= pass {
			st, output = fly.Passing, "Success"
			at = m.StartAt.Add(s.realDuration(pass))
		}
		at = at.UTC()
		out = append(out, &fly.MachineCheckStatus{Name: c.name, Status: st, Output: output, UpdatedAt: &at})
	}
	return out
}

// view renders m as the API returns it.
func (s *Server) view(m *machine, now time.Time) *fly.Machine {
	st := s.stateAt(m, now)
	out := &fly.Machine{
		ID:         m.ID,
		Name:       m.Name,
		State:      st,
		Region:     m.Region,
		ImageRef:   imageRef(m.Config),
		InstanceID: m.InstanceID,
		Version:    m.InstanceID,
		PrivateIP:  m.PrivateIP,
		CreatedAt:  m.CreatedAt.UTC().Format(time.RFC3339),
		UpdatedAt:  m.UpdatedAt.UTC().Format(time.RFC3339),
		Config:     m.Config,
		Checks:     s.checksAt(m, now),
		HostStatus: fly.HostStatusOk,
		Events:     s.events(m, now),
	}
	return out
}

// events lists m's lifecycle events, newest first as Fly does.
func (s *Server) events(m *machine, now time.Time) []*fly.MachineEvent {
	ev := func(typ, status string, at time.Time) *fly.MachineEvent {
		return &fly.MachineEvent{Type: typ, Status: status, Source: "user", Timestamp: at.UnixMilli()}
	}
	out := []*fly.MachineEvent{ev("launch", "created", m.CreatedAt)}
	if m.StartAt != nil && s.simElapsed(now, *m.StartAt) >= startedAfter {
		e := ev("start", "started", m.StartAt.Add(s.realDuration(startedAfter)))
		e.Source = "flyd"
		out = append(out, e)
	}
	if m.StoppedAt != nil {
		out = append(out, ev("exit", "stopped", *m.StoppedAt))
	}
	if m.DestroyedAt != nil {
		out = append(out, ev("destroy", "destroyed", *m.DestroyedAt))
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// imageRef splits config.image the way Fly reports it.
func imageRef(c *fly.MachineConfig) fly.MachineImageRef {
	if c == nil || c.Image == "" {
		return fly.MachineImageRef{}
	}
	img := c.Image
	ref := fly.MachineImageRef{Registry: "docker-hub-mirror.fly.io"}
	if i := strings.Index(img, "@"); i >= 0 {
		ref.Digest, img = img[i+1:], img[:i]
	}
	if first, rest, ok := strings.Cut(img, "/"); ok && strings.ContainsAny(first, ".:") {
		ref.Registry, img = first, rest
	} else if !ok {
		img = "library/" + img
	}
	if i := strings.LastIndex(img, ":"); i >= 0 {
		ref.Tag, img = img[i+1:], img[:i]
	} else if ref.Digest == "" {
		ref.Tag = "latest"
	}
	ref.Repository = img
	if ref.Digest == "" {
		sum := sha256.Sum256([]byte(c.Image))
		ref.Digest = "sha256:" + hex.EncodeToString(sum[:])
	}
	return ref
}
