package flysim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"
)

// Hosts. A Fly Volume is a slice of a drive on one server, and a machine
// that mounts it runs on that server (https://fly.io/docs/volumes/overview/):
// flysim gives every volume a host, and a machine the host of the volume
// it mounts (or one of hostsPerRegion of its region, from its ID, if it
// mounts none). A host has room for a machine or not (see
// [Profile.VolumeHostFullRate]) and pulls each image once (see
// [Profile.ImagePull]).

// hostsPerRegion is how many hosts a region has for machines without a
// volume; which one a machine lands on follows from its ID.
const hostsPerRegion = 8

// Fly's default guest, which a config without one gets: shared-cpu-1x with
// 256 MB (https://fly.io/docs/machines/api/machines-resource/, guest).
const (
	defaultGuestCPUs     = 1
	defaultGuestMemoryMB = 256
)

// hash64 is a stable hash of the server's seed and parts, so that what
// flysim derives from an ID repeats with the same [Options.Seed] without
// drawing from the seeded generator (whose sequence other behaviours use).
func (s *Server) hash64(parts ...string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(s.seed))
	_, _ = h.Write(b[:])
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// placeVolume picks v's host: with a compute hint, one with room for the
// hinted guest; without, under a Profile with VolumeHostFullRate, one
// that may have room for the volume only. Callers hold s.mu.
func (s *Server) placeVolume(v *volume, hint *fly.MachineGuest, image string) {
	v.Host = fmt.Sprintf("%s-vh%04x", v.Region, s.hash64("volume-host", v.ID)&0xffff)
	v.ComputeImage = image
	if s.fillVol > 0 {
		s.fillVol--
		v.HostFull = true
	}
	if hint != nil {
		cpus, mem := guestSize(hint)
		v.Hint = &guestRoom{CPUs: cpus, MemoryMB: mem}
		return
	}
	if rate := s.prof.VolumeHostFullRate; rate > 0 {
		draw := float64(s.hash64("volume-full", v.ID)>>11) / (1 << 53)
		v.HostFull = draw < rate
	}
}

// guestRoom is what a volume's host was chosen to have room for.
type guestRoom struct {
	CPUs     int `json:"cpus"`
	MemoryMB int `json:"memory_mb"`
}

// guestSize is g's CPUs and memory, Fly's default for what it leaves out.
func guestSize(g *fly.MachineGuest) (cpus, memoryMB int) {
	cpus, memoryMB = defaultGuestCPUs, defaultGuestMemoryMB
	if g != nil && g.CPUs > 0 {
		cpus = g.CPUs
	}
	if g != nil && g.MemoryMB > 0 {
		memoryMB = g.MemoryMB
	}
	return cpus, memoryMB
}

// refuseForHost answers a launch or update of a machine with guest g on
// v's host when the host has no room for it, and reports whether it did:
// 412 "insufficient resources ... could not reserve resource for machine:
// insufficient memory (CPUs) available", without a status code, as Fly
// answers for a host (not a region) without room; flyctl's deploy reads
// "could not reserve resource for machine" and knows that a machine with a
// volume cannot move off its host (internal/command/deploy/
// machines_deploymachinesapp.go). Callers hold s.mu.
func refuseForHost(w http.ResponseWriter, v *volume, g *fly.MachineGuest) bool {
	cpus, mem := guestSize(g)
	short := ""
	switch {
	case v.HostFull:
		short = "memory"
	case v.Hint != nil && mem > v.Hint.MemoryMB:
		short = "memory"
	case v.Hint != nil && cpus > v.Hint.CPUs:
		short = "CPUs"
	default:
		return false
	}
	writeError(w, http.StatusPreconditionFailed, "insufficient resources available to fulfill request: could not reserve resource for machine: insufficient "+short+" available to fulfill request")
	return true
}

// machineHost is where m runs: the host of the volume it mounts, or one of
// its region's hosts. Callers hold s.mu.
func (s *Server) machineHost(a *app, m *machine) string {
	if m.Config != nil {
		for _, mt := range m.Config.Mounts {
			if v := a.Volumes[mt.Volume]; v != nil && v.Host != "" {
				return v.Host
			}
		}
	}
	return fmt.Sprintf("%s-h%d", m.Region, s.hash64("machine-host", m.ID)%hostsPerRegion)
}

// boot prepares m's start that was just requested: on a host that has
// not pulled m's image yet, the pull (Profile.ImagePull) comes first; on
// a volume no machine has booted on yet, the volume's setup
// (Profile.FreshVolumeBoot). Both are remembered, so a restart on the
// same host and volume is as fast as before. Callers hold s.mu.
func (s *Server) boot(a *app, m *machine) {
	m.Host = s.machineHost(a, m)
	m.PullFor, m.FormatFor = 0, 0
	if m.Config == nil || !knownImage(m.Config) {
		return // an image flysim cannot run fails before any of this
	}
	key := m.Host + " " + m.Config.Image
	if !s.st.Pulled[key] && s.prof.ImagePull > 0 {
		m.PullFor = s.prof.ImagePull
	}
	if s.prof.ImagePull > 0 {
		s.st.Pulled[key] = true
	}
	for _, mt := range m.Config.Mounts {
		if v := a.Volumes[mt.Volume]; v != nil && !v.Booted {
			v.Booted = true
			m.FormatFor = s.prof.FreshVolumeBoot
		}
	}
}

// hold maps el, the simulated time since a start, onto the plain boot
// model (startingAfter, startedAfter, ...) when the boot stands still for
// d at mark: just before mark while it lasts, d earlier after it.
func hold(el, mark, d time.Duration) time.Duration {
	switch {
	case d <= 0 || el < mark:
		return el
	case el < mark+d:
		return mark - time.Nanosecond
	}
	return el - d
}

// bootEl is el, the simulated time since m's latest start, on the plain
// boot model: the image pull holds the machine before startingAfter, the
// new volume's setup before startedAfter.
func bootEl(m *machine, el time.Duration) time.Duration {
	return hold(hold(el, startingAfter, m.PullFor), startedAfter, m.FormatFor)
}

// bootMark is when, in simulated time since m's latest start, the plain
// boot model's mark happens: bootEl's inverse.
func bootMark(m *machine, mark time.Duration) time.Duration {
	out := mark
	if mark >= startingAfter {
		out += m.PullFor
	}
	if mark >= startedAfter {
		out += m.FormatFor
	}
	return out
}

// VolumeInfo is what flysim knows of a volume beyond what the API shows:
// where it was placed and what its create asked for.
type VolumeInfo struct {
	ID   string
	Host string
	// HostFull says the host has room for the volume but for no machine.
	HostFull bool
	// ComputeCPUs and ComputeMemoryMB are the guest the create's compute
	// hint named (0 without a hint); ComputeImage the image it named.
	ComputeCPUs     int
	ComputeMemoryMB int
	ComputeImage    string
	// Deleted says the volume was deleted.
	Deleted bool
}

// Volumes reports every volume appName has or had, as it is (no
// propagation window hides one), ordered by ID.
func (s *Server) Volumes(appName string) []VolumeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.st.Apps[appName]
	if !ok {
		return nil
	}
	out := make([]VolumeInfo, 0, len(a.Volumes))
	for _, v := range a.Volumes {
		vi := VolumeInfo{ID: v.ID, Host: v.Host, HostFull: v.HostFull, ComputeImage: v.ComputeImage, Deleted: v.DestroyedAt != nil}
		if v.Hint != nil {
			vi.ComputeCPUs, vi.ComputeMemoryMB = v.Hint.CPUs, v.Hint.MemoryMB
		}
		out = append(out, vi)
	}
	slices.SortFunc(out, func(x, y VolumeInfo) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// FillVolumeHosts makes the next n volumes created (in any app) land on
// hosts that have no room for a machine by the time one is launched on
// them, with a compute hint or without: Fly's hosts fill up between a
// volume's placement and a machine's launch too, and a hint only says what
// to leave room for. 0 undoes it. Not persisted.
func (s *Server) FillVolumeHosts(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fillVol = max(n, 0)
}
