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
// Under a strict Profile, a process that cannot start runs crashRun before
// it exits and is restarted restartGap later; a launch whose image cannot
// be pulled reports launch_failed from startingAfter for launchFailedFor,
// then destroyed.
const (
	startingAfter   = 2 * time.Second
	startedAfter    = 20 * time.Second
	healthyAfter    = 15 * time.Second
	destroyingFor   = 1 * time.Second
	crashRun        = 3 * time.Second
	restartGap      = 2 * time.Second
	launchFailedFor = 30 * time.Second
	defaultLeaseTTL = 30
	// maxExitEvents bounds the exit events a crash-looping machine reports.
	maxExitEvents = 10
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
			return stateDestroying
		}
		return stateDestroyed
	case m.StoppedAt != nil:
		return s.stoppedState(m, now)
	case m.StartAt == nil:
		return stateCreated
	}
	el := bootEl(m, s.simElapsed(now, *m.StartAt))
	if s.prof.StrictMachines {
		return s.strictState(m, el)
	}
	switch {
	case el < startingAfter:
		return stateCreated
	case el < startedAfter:
		return stateStarting
	default:
		return stateStarted
	}
}

// gone reports whether m is destroying or destroyed at now.
func (s *Server) gone(m *machine, now time.Time) bool {
	st := s.stateAt(m, now)
	return st == stateDestroying || st == stateDestroyed
}

// stoppedState is the state of a machine stopped (or suspended) at
// m.StoppedAt: stopping (suspending) for the Profile's Stopping window.
func (s *Server) stoppedState(m *machine, now time.Time) string {
	settling := s.simElapsed(now, *m.StoppedAt) < s.prof.Stopping
	switch {
	case m.Suspended && settling:
		return stateSuspending
	case m.Suspended:
		return stateSuspended
	case settling:
		return stateStopping
	}
	return stateStopped
}

// strictState is where a machine is el after its latest start when its
// config decides: an image flysim cannot run fails (launch_failed, then
// destroyed, for the create; failed for a later start or update), a
// process that cannot start crash-loops under the restart policy.
func (s *Server) strictState(m *machine, el time.Duration) string {
	p := programOf(m)
	switch {
	case el < startingAfter && m.Boot == bootUpdate:
		return stateReplacing
	case el < startingAfter && m.Boot == bootStart:
		return stateStarting
	case el < startingAfter:
		return stateCreated
	case !p.known && m.Boot != bootLaunch && m.Boot != "":
		return stateFailed
	case !p.known && el < startingAfter+launchFailedFor:
		return stateLaunchFailed
	case !p.known:
		return stateDestroyed
	case el < startedAfter:
		return stateStarting
	case p.crash == "":
		return stateStarted
	}
	c := crashLoopAt(el-startedAfter, restartLimit(m.Config))
	switch {
	case c.stopped:
		return stateStopped
	case c.running:
		return stateStarted
	}
	return stateStarting
}

// crashLoop is where a process that exits crashRun after every start is.
type crashLoop struct {
	exits   int  // exits so far
	running bool // up (between a start and its exit)
	stopped bool // exited for the last time the restart policy allows
}

// crashLoopAt is the loop el after the first start, with limit exits
// allowed before the machine stays stopped (0: restarted forever).
func crashLoopAt(el time.Duration, limit int) crashLoop {
	cycle := crashRun + restartGap
	if limit > 0 && el >= time.Duration(limit-1)*cycle+crashRun {
		return crashLoop{exits: limit, stopped: true}
	}
	k, off := int(el/cycle), el%cycle
	if off < crashRun {
		return crashLoop{exits: k, running: true}
	}
	return crashLoop{exits: k + 1}
}

// nextChange is the wall time until m's state or checks may next change
// on their own; 0 if they never will or the marks are not simple (waiters
// then poll).
func (s *Server) nextChange(m *machine, now time.Time) time.Duration {
	var marks []time.Duration
	var base time.Time
	switch {
	case m.DestroyedAt != nil:
		base, marks = *m.DestroyedAt, []time.Duration{destroyingFor}
	case m.StoppedAt != nil:
		base, marks = *m.StoppedAt, []time.Duration{s.prof.Stopping}
	case m.StartAt == nil || s.prof.StrictMachines:
		return 0
	default:
		base = *m.StartAt
		marks = []time.Duration{startingAfter, bootMark(m, startingAfter), bootMark(m, startedAfter)}
		for _, c := range checkSpecs(m.Config) {
			marks = append(marks, bootMark(m, startedAfter+healthyAfter+c.grace))
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

// checkSpec is one health check as the config describes it.
type checkSpec struct {
	name                string
	grace               time.Duration
	port                int // 0 if the config names none
	typ                 string
	path, method, proto string
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
		chk := c.Checks[n]
		spec := checkSpec{name: n, grace: durationOf(chk.GracePeriod), typ: deref(chk.Type, "tcp"),
			path: deref(chk.HTTPPath, "/"), method: strings.ToUpper(deref(chk.HTTPMethod, "")), proto: deref(chk.HTTPProtocol, "http")}
		if chk.Port != nil {
			spec.port = *chk.Port
		} else if len(c.Services) > 0 {
			spec.port = c.Services[0].InternalPort
		}
		out = append(out, spec)
	}
	n := 0
	for _, svc := range c.Services {
		for _, chk := range svc.Checks {
			spec := checkSpec{grace: durationOf(chk.GracePeriod), typ: deref(chk.Type, "tcp"), port: svc.InternalPort,
				path: deref(chk.HTTPPath, "/"), method: strings.ToUpper(deref(chk.HTTPMethod, "")), proto: deref(chk.HTTPProtocol, "http")}
			if chk.Port != nil {
				spec.port = *chk.Port
			}
			spec.name = fmt.Sprintf("servicecheck-%02d-%s-%d", n, spec.typ, spec.port)
			out = append(out, spec)
			n++
		}
	}
	return out
}

func deref(p *string, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return *p
}

func durationOf(d *fly.Duration) time.Duration {
	if d == nil || d.Duration < 0 {
		return 0
	}
	return d.Duration
}

// checksAt reports m's health checks at now: critical until healthyAfter
// (plus grace) past "started", then passing — under a strict Profile only
// if the machine serves on the check's port and path (see checkVerdict).
// Stopped and destroyed machines report none.
func (s *Server) checksAt(m *machine, now time.Time) []*fly.MachineCheckStatus {
	specs := checkSpecs(m.Config)
	if len(specs) == 0 || m.StartAt == nil || m.StoppedAt != nil || m.DestroyedAt != nil {
		return nil
	}
	st := s.stateAt(m, now)
	if st == stateDestroyed || st == stateStopped {
		return nil
	}
	el := bootEl(m, s.simElapsed(now, *m.StartAt))
	out := make([]*fly.MachineCheckStatus, 0, len(specs))
	for _, c := range specs {
		status := fly.ConsulCheckStatus("critical")
		output := "connection refused"
		at := m.StartAt.Add(s.realDuration(bootMark(m, startingAfter)))
		if pass := startedAfter + healthyAfter + c.grace; el >= pass {
			ok, why := true, ""
			if s.prof.StrictMachines {
				ok, why = checkVerdict(m, c, st)
			}
			if ok {
				status, output = fly.Passing, "Success"
			} else {
				output = why
			}
			at = m.StartAt.Add(s.realDuration(bootMark(m, pass)))
		}
		at = at.UTC()
		out = append(out, &fly.MachineCheckStatus{Name: c.name, Status: status, Output: output, UpdatedAt: &at})
	}
	return out
}

// checkVerdict says whether check c passes on m (in state st) once its
// grace period is over, and what it saw if not: the process must be up,
// every service must point at the port the process listens on, and the
// check must reach that port and, over HTTP, a path served without login.
func checkVerdict(m *machine, c checkSpec, st string) (bool, string) {
	p := programOf(m)
	if !p.known || p.crash != "" || st != stateStarted {
		return false, "connection refused"
	}
	refused := func(port int) string {
		return fmt.Sprintf("dial tcp [%s]:%d: connect: connection refused", m.PrivateIP, port)
	}
	for _, svc := range m.Config.Services {
		if svc.InternalPort != p.port {
			return false, refused(svc.InternalPort)
		}
	}
	if c.port != p.port {
		return false, refused(c.port)
	}
	if c.typ != "http" {
		return true, ""
	}
	return serves(c.path, c.method, c.proto)
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
