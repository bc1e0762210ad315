package flysim

import (
	"net/http"
	"regexp"
	"sort"

	"github.com/superfly/fly-go/flaps"
)

// appNamePattern is Fly's rule for app names.
var appNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$|^[a-z0-9]$`)

// createApp serves POST /v1/apps (flaps CreateApp).
func (s *Server) createApp(w http.ResponseWriter, r *http.Request) {
	var in flaps.CreateAppRequest
	if !decodeJSON(w, r, &in) {
		return
	}
	if !appNamePattern.MatchString(in.Name) {
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: Name may only contain lowercase letters, numbers and dashes")
		return
	}
	if in.Org == "" {
		writeError(w, http.StatusBadRequest, "org_slug is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The name check is strongly consistent: an app the API cannot see
	// yet still holds its name.
	if _, taken := s.st.Apps[in.Name]; taken || s.st.Reserved[in.Name] {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: "Validation failed: Name has already been taken", Status: "name_taken"})
		return
	}
	network := in.Network
	if network == "" {
		network = "default"
	}
	now := s.now().UTC()
	a := &app{
		ID:                s.randHex(20),
		Name:              in.Name,
		InternalNumericID: int32(s.rng.Uint32() >> 1),
		Network:           network,
		Org:               canonicalOrg(in.Org),
		CreatedAt:         now,
		Secrets:           map[string]*secret{},
		Machines:          map[string]*machine{},
		Volumes:           map[string]*volume{},
		VisibleAt:         s.propagatedAt(now, s.prof.AppPropagation),
	}
	s.st.Apps[in.Name] = a
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusCreated, s.appView(a))
}

// getApp serves GET /v1/apps/{app}.
func (s *Server) getApp(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.appView(a))
}

// deleteApp serves DELETE /v1/apps/{app}: the app, its machines, volumes,
// IPs and secrets go away.
func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	delete(s.st.Apps, a.Name)
	if !s.commit(w) {
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// findApp looks up {app}, answering 404 when it does not exist, 403 for a
// name another organization holds (Fly finds the app, then refuses the
// read; 401 is for a bad token) and 404 or 401 while a new app has not
// propagated yet. Callers hold s.mu.
func (s *Server) findApp(w http.ResponseWriter, r *http.Request) *app {
	name := r.PathValue("app")
	a, ok := s.st.Apps[name]
	switch {
	case ok && visible(a.VisibleAt, s.now()):
		s.settle(a, s.now())
		return a
	case ok:
		s.writeAppNotVisible(w)
	case s.st.Reserved[name]:
		writeError(w, http.StatusForbidden, "unauthorized")
	default:
		writeError(w, http.StatusNotFound, "app not found")
	}
	return nil
}

// appView renders a as flaps.App. Callers hold s.mu.
func (s *Server) appView(a *app) flaps.App {
	now := s.now()
	var machines int64
	status := "pending"
	for _, m := range a.Machines {
		st := s.stateAt(m, now)
		if st == stateDestroyed || st == stateDestroying {
			continue
		}
		machines++
		if st == stateStarted {
			status = "deployed"
		}
	}
	return flaps.App{
		ID:                a.ID,
		Name:              a.Name,
		InternalNumericID: a.InternalNumericID,
		Network:           a.Network,
		Status:            status,
		MachineCount:      machines,
		Organization: flaps.AppOrganizationInfo{
			Name:              canonicalOrg(a.Org),
			Slug:              canonicalOrg(a.Org),
			InternalNumericID: orgNumericID(canonicalOrg(a.Org)),
		},
		CnameTarget: a.Name + ".fly.dev",
	}
}

func orgNumericID(slug string) int32 {
	var h uint32 = 2166136261
	for i := 0; i < len(slug); i++ {
		h = (h ^ uint32(slug[i])) * 16777619
	}
	return int32(h >> 1)
}

// randHex returns n random lowercase hex digits. Callers hold s.mu.
func (s *Server) randHex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[s.rng.IntN(16)]
	}
	return string(b)
}

// randULID returns a 26-character ULID-like ID. Callers hold s.mu.
func (s *Server) randULID() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 26)
	ms := uint64(s.now().UnixMilli())
	for i := 9; i >= 0; i-- {
		b[i] = alphabet[ms&31]
		ms >>= 5
	}
	for i := 10; i < 26; i++ {
		b[i] = alphabet[s.rng.IntN(32)]
	}
	return string(b)
}

// listApps serves GET /v1/apps?org_slug=ORG (flaps ListApps): the apps the
// API can see in that organization, either slug of the personal one
// naming it.
func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	org := canonicalOrg(r.URL.Query().Get("org_slug"))
	if org == "" {
		writeError(w, http.StatusBadRequest, "invalid_argument: org_slug is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	names := make([]string, 0, len(s.st.Apps))
	for n, a := range s.st.Apps {
		if canonicalOrg(a.Org) == org && visible(a.VisibleAt, now) {
			s.settle(a, now)
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := struct {
		TotalApps int         `json:"total_apps"`
		Apps      []flaps.App `json:"apps"`
	}{Apps: make([]flaps.App, 0, len(names))}
	for _, n := range names {
		out.Apps = append(out.Apps, s.appView(s.st.Apps[n]))
	}
	out.TotalApps = len(out.Apps)
	writeJSON(w, http.StatusOK, out)
}
