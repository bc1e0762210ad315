package flysim

import (
	"fmt"
	"net/http"

	"github.com/superfly/fly-go/flaps"
)

// assignIP serves POST /v1/apps/{app}/ip_assignments. "v6" allocates a new
// dedicated IPv6 every time (so duplicates show in Counts); "shared_v4"
// hands out the app's shared IPv4, once; "private_v6" a Flycast address.
// The organization the request names (org_slug, which flyctl sends:
// internal/command/deploy/deploy_first.go provisionIpsOnFirstDeploy) is
// recorded, not required: Fly's own example of this call sends none
// (https://fly.io/docs/blueprints/warm-pool-user-machines/). Read it with
// [Server.IPAssignmentOrg].
func (s *Server) assignIP(w http.ResponseWriter, r *http.Request) {
	var in flaps.AssignIPRequest
	if !decodeJSON(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	ip := flaps.IPAssignment{Region: "global", ServiceName: in.ServiceName, CreatedAt: s.now().UTC().Truncate(0)}
	if in.Region != "" {
		ip.Region = in.Region
	}
	switch in.Type {
	case "v6":
		ip.IP = fmt.Sprintf("2a09:8280:1::%x:%x", s.rng.IntN(0xffff)+1, s.rng.IntN(0xffff)+1)
	case "shared_v4":
		for _, have := range a.IPs {
			if have.Shared {
				writeError(w, http.StatusUnprocessableEntity, "app already has a shared IPv4 address")
				return
			}
		}
		ip.IP = fmt.Sprintf("66.241.%d.%d", 124+s.rng.IntN(2), s.rng.IntN(254)+1)
		ip.Shared = true
	case "private_v6":
		ip.IP = fmt.Sprintf("fdaa:0:%x:0:1::%x", orgNumericID(a.Org)&0xffff, s.rng.IntN(0xffff)+1)
	default:
		writeError(w, http.StatusBadRequest, "invalid ip type, must be one of v6, shared_v4, private_v6")
		return
	}
	for _, have := range a.IPs {
		if have.IP == ip.IP {
			writeError(w, http.StatusConflict, "ip address already assigned")
			return
		}
	}
	a.IPs = append(a.IPs, ip)
	if a.IPOrgs == nil {
		a.IPOrgs = map[string]string{}
	}
	a.IPOrgs[ip.IP] = in.Organization
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, ip)
}

// listIPs serves GET /v1/apps/{app}/ip_assignments.
func (s *Server) listIPs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	ips := append([]flaps.IPAssignment{}, a.IPs...)
	writeJSON(w, http.StatusOK, flaps.ListIPAssignmentsResponse{IPs: ips})
}

// deleteIP serves DELETE /v1/apps/{app}/ip_assignments/{ip}.
func (s *Server) deleteIP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r)
	if a == nil {
		return
	}
	want := r.PathValue("ip")
	for i, have := range a.IPs {
		if have.IP == want {
			a.IPs = append(a.IPs[:i], a.IPs[i+1:]...)
			if !s.commit(w) {
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, http.StatusNotFound, "ip assignment not found")
}

// IPAssignmentOrg reports the organization slug the request that assigned
// address ip to appName named ("" if none), and whether the app has that
// assignment.
func (s *Server) IPAssignmentOrg(appName, ip string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.st.Apps[appName]
	if !ok {
		return "", false
	}
	for _, have := range a.IPs {
		if have.IP == ip {
			return a.IPOrgs[ip], true
		}
	}
	return "", false
}
