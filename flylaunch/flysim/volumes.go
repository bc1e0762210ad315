package flysim

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"
)

// Volume states as the Machines API reports them
// (https://fly.io/docs/volumes/volume-states/): created, then, once
// deleted, scheduling_destroy and pending_destroy (a soft delete kept 24
// hours). fly-go's GetVolumes drops the deleting states.
const (
	volumeCreated           = "created"
	volumeSchedulingDestroy = "scheduling_destroy"
	volumePendingDestroy    = "pending_destroy"
	// volumeSoftDeleted is how long a deleted volume stays listed as
	// pending_destroy before it is gone for good.
	volumeSoftDeleted = 24 * time.Hour
	// maxVolumeGB is the largest volume Fly creates.
	maxVolumeGB = 500
)

// volumeNamePattern is flysim's rule for volume names: 1 to 30 lowercase
// letters, digits and underscores. The rule is flysim's assumption (no
// public source states Fly's); what passes it, Fly takes.
var volumeNamePattern = regexp.MustCompile(`^[a-z0-9_]{1,30}$`)

// volume is one Fly Volume. Which machine it is attached to is not stored:
// it is the machine whose config mounts it and that is not destroyed yet.
type volume struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Region    string    `json:"region"`
	Zone      string    `json:"zone"`
	SizeGB    int       `json:"size_gb"`
	Encrypted bool      `json:"encrypted"`
	CreatedAt time.Time `json:"created_at"`
	// VisibleAt is when GetVolume starts to find the volume and ListedAt
	// when volume lists start to show it (the Profile's
	// MachinePropagation and ListLag); nil means at once.
	VisibleAt   *time.Time `json:"visible_at,omitempty"`
	ListedAt    *time.Time `json:"listed_at,omitempty"`
	DestroyedAt *time.Time `json:"destroyed_at,omitempty"`
	// Host is the server the volume is on. Hint is the guest its create
	// asked room for ("compute"), ComputeImage the image it named, and
	// HostFull says the host has room for the volume but for no machine
	// (see Server.placeVolume). Booted says a machine has booted on it
	// (its first boot set it up).
	Host         string     `json:"host,omitempty"`
	Hint         *guestRoom `json:"hint,omitempty"`
	ComputeImage string     `json:"compute_image,omitempty"`
	HostFull     bool       `json:"host_full,omitempty"`
	Booted       bool       `json:"booted,omitempty"`
}

// createVolume serves POST /v1/apps/{app}/volumes (flaps CreateVolume).
// Fly does not refuse a name an existing volume has: flyctl's
// `volumes create` only warns about it.
func (s *Server) createVolume(w http.ResponseWriter, r *http.Request) {
	var in fly.CreateVolumeRequest
	if !decodeJSON(w, r, &in) {
		return
	}
	if msg := checkCreateVolume(in); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	now := s.now().UTC()
	v := &volume{
		ID:        s.newVolumeID(a),
		Name:      in.Name,
		Region:    in.Region,
		Zone:      s.randHex(4),
		SizeGB:    *in.SizeGb,
		Encrypted: in.Encrypted == nil || *in.Encrypted,
		CreatedAt: now,
		VisibleAt: s.propagatedAt(now, s.prof.MachinePropagation),
		ListedAt:  s.propagatedAt(now, s.prof.ListLag),
	}
	s.placeVolume(v, in.ComputeRequirements, in.ComputeImage)
	if a.Volumes == nil {
		a.Volumes = map[string]*volume{}
	}
	a.Volumes[v.ID] = v
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, s.volumeView(a, v, now))
}

// checkCreateVolume returns why Fly would refuse in, or "".
func checkCreateVolume(in fly.CreateVolumeRequest) string {
	switch {
	case !volumeNamePattern.MatchString(in.Name):
		return "invalid_argument: volume name " + quoteName(in.Name) + " must be 1 to 30 lowercase letters, digits or underscores"
	case !regionPattern.MatchString(in.Region):
		return "invalid_argument: unknown region " + quoteName(in.Region)
	case in.SizeGb == nil || *in.SizeGb < 1 || *in.SizeGb > maxVolumeGB:
		return fmt.Sprintf("invalid_argument: size_gb must be 1..%d", maxVolumeGB)
	case in.SnapshotID != nil || in.SourceVolumeID != nil:
		return "invalid_argument: flysim cannot restore or fork volumes"
	}
	return ""
}

// newVolumeID returns a fresh Fly-style volume ID. Callers hold s.mu.
func (s *Server) newVolumeID(a *app) string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	for {
		b := []byte("vol_")
		for range 16 {
			b = append(b, alphabet[s.rng.IntN(len(alphabet))])
		}
		if _, dup := a.Volumes[string(b)]; !dup {
			return string(b)
		}
	}
}

// listVolumes serves GET /v1/apps/{app}/volumes: every volume, deleted
// ones included (pending_destroy for a day), but not those still within
// the Profile's ListLag. Oldest first.
func (s *Server) listVolumes(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	now := s.now()
	out := make([]fly.Volume, 0, len(a.Volumes))
	for _, v := range a.Volumes {
		if visible(v.ListedAt, now) && !s.volumeForgotten(v, now) {
			out = append(out, s.volumeView(a, v, now))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	writeJSON(w, http.StatusOK, out)
}

// findVolume looks up {app} and {id}, answering 404 when either is
// missing, the volume has not propagated yet or is gone for good.
// Callers hold s.mu.
func (s *Server) findVolume(w http.ResponseWriter, r *http.Request) (*app, *volume) {
	a := s.findApp(w, r)
	if a == nil {
		return nil, nil
	}
	now := s.now()
	v, ok := a.Volumes[r.PathValue("id")]
	if !ok || !visible(v.VisibleAt, now) || s.volumeForgotten(v, now) {
		writeError(w, http.StatusNotFound, "volume not found")
		return nil, nil
	}
	return a, v
}

// getVolume serves GET /v1/apps/{app}/volumes/{id}.
func (s *Server) getVolume(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, v := s.findVolume(w, r)
	if v == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.volumeView(a, v, s.now()))
}

// deleteVolume serves DELETE /v1/apps/{app}/volumes/{id}: a volume that a
// machine still holds (one not destroyed yet, destroying included) is
// refused with 412, as a launch onto it is; an unattached one goes to
// scheduling_destroy. A volume already deleted answers 404.
func (s *Server) deleteVolume(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, v := s.findVolume(w, r)
	if v == nil {
		return
	}
	now := s.now().UTC()
	if v.DestroyedAt != nil {
		writeError(w, http.StatusNotFound, "volume not found")
		return
	}
	if m := s.holder(a, v.ID, "", now); m != nil {
		writeError(w, http.StatusPreconditionFailed, fmt.Sprintf("failed_precondition: volume %s is attached to machine %s", v.ID, m.ID))
		return
	}
	v.DestroyedAt = &now
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, s.volumeView(a, v, now))
}

// volumeState is v's state at now.
func (s *Server) volumeState(v *volume, now time.Time) string {
	switch {
	case v.DestroyedAt == nil:
		return volumeCreated
	case s.simElapsed(now, *v.DestroyedAt) < destroyingFor:
		return volumeSchedulingDestroy
	}
	return volumePendingDestroy
}

// volumeForgotten reports a volume deleted more than a day ago.
func (s *Server) volumeForgotten(v *volume, now time.Time) bool {
	return v.DestroyedAt != nil && s.simElapsed(now, *v.DestroyedAt) >= volumeSoftDeleted
}

// volumeView renders v as the API returns it. Callers hold s.mu.
func (s *Server) volumeView(a *app, v *volume, now time.Time) fly.Volume {
	out := fly.Volume{
		ID: v.ID, Name: v.Name, State: s.volumeState(v, now), SizeGb: v.SizeGB,
		Region: v.Region, Zone: v.Zone, Encrypted: v.Encrypted, CreatedAt: v.CreatedAt.UTC(),
		HostStatus: "ok", SnapshotRetention: 5, AutoBackupEnabled: true,
	}
	if m := s.holder(a, v.ID, "", now); m != nil {
		out.AttachedMachine = &m.ID
	}
	return out
}

// holder returns the machine of a, other than except, whose config mounts
// volume id and that is not destroyed yet (destroying still holds it).
// Callers hold s.mu.
func (s *Server) holder(a *app, id, except string, now time.Time) *machine {
	for _, m := range a.Machines {
		if m.ID == except || m.Config == nil || s.stateAt(m, now) == stateDestroyed {
			continue
		}
		for _, mt := range m.Config.Mounts {
			if mt.Volume == id {
				return m
			}
		}
	}
	return nil
}

// checkMounts answers for a launch or update of machine self (""
// for a new one) in region whose config mounts volumes, and reports
// whether the mounts are fine: each names a volume of the app, in the
// machine's region, at an absolute path, that no other machine holds.
// The volume store is read as it is (placement needs the volume's host),
// so a volume created a moment ago can be mounted even if GetVolume does
// not see it yet. A volume another machine holds answers 412, the status
// Fly gives for a volume already in use. Callers hold s.mu.
func (s *Server) checkMounts(w http.ResponseWriter, a *app, c *fly.MachineConfig, region, self string) bool {
	now := s.now()
	seen := map[string]bool{}
	for _, mt := range c.Mounts {
		v := a.Volumes[mt.Volume]
		switch {
		case mt.Volume == "":
			writeError(w, http.StatusBadRequest, "invalid_argument: mounts[].volume is required")
		case !strings.HasPrefix(mt.Path, "/"):
			writeError(w, http.StatusBadRequest, "invalid_argument: mount path "+quoteName(mt.Path)+" must be absolute")
		case seen[mt.Volume]:
			writeError(w, http.StatusBadRequest, "invalid_argument: volume "+mt.Volume+" is mounted twice")
		case v == nil || v.DestroyedAt != nil:
			writeError(w, http.StatusNotFound, "volume "+quoteName(mt.Volume)+" not found")
		case v.Region != region:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid_argument: volume %s is in region %s, the machine in %s", v.ID, v.Region, region))
		default:
			if m := s.holder(a, v.ID, self, now); m != nil {
				writeError(w, http.StatusPreconditionFailed, fmt.Sprintf("failed_precondition: volume %s is already attached to machine %s", v.ID, m.ID))
				return false
			}
			if refuseForHost(w, v, c.Guest) {
				return false
			}
			seen[mt.Volume] = true
			continue
		}
		return false
	}
	return true
}

// VolumeCount reports how many volumes of an app are not deleted, as they
// are: propagation windows do not hide anything from it.
func (s *Server) VolumeCount(appName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.st.Apps[appName]
	if !ok {
		return 0
	}
	n := 0
	for _, v := range a.Volumes {
		if v.DestroyedAt == nil {
			n++
		}
	}
	return n
}
