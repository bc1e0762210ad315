package flysim

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"
)

// defaultRegion is where machines land when the launch names no region.
const defaultRegion = "iad"

var (
	regionPattern      = regexp.MustCompile(`^[a-z]{3}$`)
	machineNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)
)

// launchMachine serves POST /v1/apps/{app}/machines (flaps Launch).
func (s *Server) launchMachine(w http.ResponseWriter, r *http.Request) {
	var in fly.LaunchMachineInput
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.Config == nil || strings.TrimSpace(in.Config.Image) == "" {
		writeError(w, http.StatusBadRequest, "invalid_argument: config.image is required")
		return
	}
	region := in.Region
	if region == "" {
		region = defaultRegion
	}
	if !regionPattern.MatchString(region) {
		writeError(w, http.StatusBadRequest, "invalid_argument: unknown region "+quoteName(region))
		return
	}
	if in.Name != "" && !machineNamePattern.MatchString(in.Name) {
		writeError(w, http.StatusBadRequest, "invalid_argument: invalid machine name "+quoteName(in.Name))
		return
	}
	if in.LeaseTTL < 0 {
		writeError(w, http.StatusBadRequest, "invalid_argument: lease_ttl must not be negative")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	if s.refuseForCapacity(w, region, a.Org) || !s.checkMounts(w, a, in.Config, region, "") {
		return
	}
	if v := in.MinSecretsVersion; v != nil && *v > a.SecretsVersion {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("failed_precondition: secrets version %d is not available yet (latest is %d)", *v, a.SecretsVersion))
		return
	}
	now := s.now().UTC()
	m := &machine{
		ID:         s.newMachineID(a),
		Name:       in.Name,
		Region:     region,
		InstanceID: s.randULID(),
		PrivateIP:  fmt.Sprintf("fdaa:0:%x:a7b:%x:%x:%x:2", orgNumericID(canonicalOrg(a.Org))&0xffff, s.rng.IntN(0xffff), s.rng.IntN(0xffff), s.rng.IntN(0xffff)),
		Config:     in.Config,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if m.Name == "" {
		m.Name = s.machineName()
	}
	if other := s.machineNamed(a, m.Name, now); other != nil {
		writeError(w, http.StatusConflict, "already_exists: unique machine name violation, a machine named "+quoteName(m.Name)+" already exists")
		return
	}
	if !in.SkipLaunch {
		m.StartAt, m.Boot = &now, bootLaunch
	}
	m.VisibleAt = s.propagatedAt(now, s.prof.MachinePropagation)
	m.ListedAt = s.propagatedAt(now, s.prof.ListLag)
	if !in.SkipSecrets {
		m.SecretEnv = map[string]string{}
		for name, sec := range a.Secrets {
			m.SecretEnv[name] = sec.Value
		}
	}
	var nonce string
	if in.LeaseTTL > 0 {
		m.Lease = s.newLease(m, in.LeaseTTL)
		nonce = m.Lease.Nonce
	}
	if m.StartAt != nil {
		s.boot(a, m)
	}
	a.Machines[m.ID] = m
	if !s.commit(w) {
		return
	}
	out := s.view(m, s.now())
	out.LeaseNonce = nonce
	writeJSON(w, http.StatusOK, out)
}

// newMachineID returns a fresh 14-hex-digit machine ID. Callers hold s.mu.
func (s *Server) newMachineID(a *app) string {
	for {
		id := s.randHex(14)
		if _, dup := a.Machines[id]; !dup {
			return id
		}
	}
}

var (
	nameAdjectives = []string{"bitter", "calm", "damp", "eager", "falling", "gentle", "hidden", "late", "misty", "quiet", "restless", "snowy", "wild", "young"}
	nameNouns      = []string{"bird", "brook", "cloud", "dawn", "dust", "field", "fire", "frost", "leaf", "moon", "river", "sea", "snow", "wave"}
)

// machineName returns a Fly-style generated name. Callers hold s.mu.
func (s *Server) machineName() string {
	return fmt.Sprintf("%s-%s-%04d", nameAdjectives[s.rng.IntN(len(nameAdjectives))], nameNouns[s.rng.IntN(len(nameNouns))], s.rng.IntN(10000))
}

// machineNamed returns the active machine of a called name as the
// uniqueness check sees it: through the machine list, so a machine still
// within the Profile's ListLag is not seen. Callers hold s.mu.
func (s *Server) machineNamed(a *app, name string, now time.Time) *machine {
	for _, other := range a.Machines {
		if other.Name != name || !visible(other.ListedAt, now) {
			continue
		}
		if st := s.stateAt(other, now); st != stateDestroyed && st != stateDestroying {
			return other
		}
	}
	return nil
}

// findMachine looks up {app} and {id}, answering 404 when either is
// missing or the machine has not propagated yet. Callers hold s.mu.
func (s *Server) findMachine(w http.ResponseWriter, r *http.Request) (*app, *machine) {
	a := s.findApp(w, r)
	if a == nil {
		return nil, nil
	}
	m, ok := a.Machines[r.PathValue("id")]
	if !ok || !visible(m.VisibleAt, s.now()) {
		writeError(w, http.StatusNotFound, "machine not found")
		return nil, nil
	}
	return a, m
}

// getMachine serves GET /v1/apps/{app}/machines/{id}.
func (s *Server) getMachine(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.view(m, s.now()))
}

// listMachines serves GET /v1/apps/{app}/machines. Filters, as flyctl and
// the Machines API spell them: metadata.KEY=VALUE (repeatable, all must
// match), region=, state= (comma-separated or repeated; a bare state name
// as the whole query, as flaps' List sends it, works too) and
// include_deleted=true to see destroyed machines.
// Machines still within the Profile's ListLag are left out, whatever the
// filters.
func (s *Server) listMachines(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid query string")
		return
	}
	includeDeleted, _ := strconv.ParseBool(q.Get("include_deleted"))
	states := map[string]bool{}
	for _, v := range q["state"] {
		for _, st := range strings.Split(v, ",") {
			if st != "" {
				states[st] = true
			}
		}
	}
	meta := map[string]string{}
	for k, vs := range q {
		if key, ok := strings.CutPrefix(k, "metadata."); ok && key != "" {
			meta[key] = vs[0]
		}
		if isMachineState(k) && len(vs) == 1 && vs[0] == "" {
			states[k] = true
		}
	}
	region := q.Get("region")

	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	now := s.now()
	out := make([]*fly.Machine, 0, len(a.Machines))
	for _, m := range a.Machines {
		if !visible(m.ListedAt, now) {
			continue
		}
		st := s.stateAt(m, now)
		if !includeDeleted && len(states) == 0 && st == stateDestroyed {
			continue
		}
		if len(states) > 0 && !states[st] {
			continue
		}
		if region != "" && m.Region != region {
			continue
		}
		if !metadataMatches(m.Config, meta) {
			continue
		}
		out = append(out, s.view(m, now))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreatedAt != out[j].CreatedAt {
			return out[i].CreatedAt < out[j].CreatedAt
		}
		return out[i].ID < out[j].ID
	})
	writeJSON(w, http.StatusOK, out)
}

func metadataMatches(c *fly.MachineConfig, want map[string]string) bool {
	for k, v := range want {
		if c == nil || c.Metadata[k] != v {
			return false
		}
	}
	return true
}

// updateMachine serves POST /v1/apps/{app}/machines/{id} (flaps Update):
// the new config replaces the old, the machine gets a new version and
// restarts unless it was stopped or the update says skip_launch.
func (s *Server) updateMachine(w http.ResponseWriter, r *http.Request) {
	var in fly.LaunchMachineInput
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.Config == nil || strings.TrimSpace(in.Config.Image) == "" {
		writeError(w, http.StatusBadRequest, "invalid_argument: config.image is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, m := s.findMachine(w, r)
	if m == nil || !s.leaseAllows(w, r, m) {
		return
	}
	now := s.now().UTC()
	if s.gone(m, now) {
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: machine is destroyed")
		return
	}
	if in.Region != "" && in.Region != m.Region {
		writeError(w, http.StatusBadRequest, "invalid_argument: a machine cannot change region")
		return
	}
	if !s.checkMounts(w, a, in.Config, m.Region, m.ID) {
		return
	}
	m.Config, m.UpdatedAt, m.InstanceID = in.Config, now, s.randULID()
	if in.Name != "" {
		m.Name = in.Name
	}
	if !in.SkipSecrets {
		m.SecretEnv = map[string]string{}
		for name, sec := range a.Secrets {
			m.SecretEnv[name] = sec.Value
		}
	}
	if m.StoppedAt == nil && !in.SkipLaunch {
		m.StartAt, m.Boot = &now, bootUpdate
		s.boot(a, m)
	}
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, s.view(m, s.now()))
}
