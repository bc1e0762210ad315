package flysim

import (
	"fmt"
	"net/http"
)

// NoCapacity is one of the ways Fly refuses a machine for want of room.
// Each answers the launch with its own status code and body; a client that
// knows only one of them misreads the others.
type NoCapacity int

const (
	// InsufficientCapacity answers 412 with Fly's insufficient_capacity
	// status code, which fly-go's FlapsError.Suggestion recognizes.
	InsufficientCapacity NoCapacity = iota
	// InsufficientMemory answers 409 "aborted: could not reserve resource
	// for machine: insufficient memory available to fulfill request",
	// without a status code (a 409 that is not a name conflict).
	InsufficientMemory
	// InsufficientResources answers 412 "insufficient resources available
	// to fulfill request: ...", without a status code.
	InsufficientResources
	// OverQuota answers 403: the organization uses more memory in the
	// region than its quota allows (not an authorization failure).
	OverQuota
	// Unavailable503 answers 503 with a JSON body; fly-go resends a 503
	// three times by itself, so a region that stays full shows it four
	// times and the caller sees the last.
	Unavailable503
	// BadGateway502 answers 502 with a JSON body, resent like a 503.
	BadGateway502
)

// String names the kind, for test names and logs.
func (n NoCapacity) String() string {
	switch n {
	case InsufficientCapacity:
		return "412 insufficient_capacity"
	case InsufficientMemory:
		return "409 insufficient memory"
	case InsufficientResources:
		return "412 insufficient resources"
	case OverQuota:
		return "403 over quota"
	case Unavailable503:
		return "503 no capacity"
	case BadGateway502:
		return "502 no capacity"
	}
	return fmt.Sprintf("NoCapacity(%d)", int(n))
}

// answer returns the status and body of n for a launch in region by org.
func (n NoCapacity) answer(region, org string) (int, apiError) {
	switch n {
	case InsufficientMemory:
		return http.StatusConflict, apiError{Error: "aborted: could not reserve resource for machine: insufficient memory available to fulfill request"}
	case InsufficientResources:
		return http.StatusPreconditionFailed, apiError{Error: "insufficient resources available to fulfill request: could not reserve resource for machine: insufficient CPUs available to fulfill request"}
	case OverQuota:
		return http.StatusForbidden, apiError{Error: fmt.Sprintf("organization %q is using 1970176 MB of memory in %s which is over the allowed quota. please consider other regions", org, region)}
	case Unavailable503:
		return http.StatusServiceUnavailable, apiError{Error: "no capacity available in " + region}
	case BadGateway502:
		return http.StatusBadGateway, apiError{Error: "no capacity available in " + region}
	}
	return http.StatusPreconditionFailed, apiError{
		Error:  "insufficient resources available to fulfill request: could not reserve resource for machine in " + region,
		Status: "insufficient_capacity",
	}
}

// SetCapacity sets whether a region can host new machines; launches in a
// region set to false answer 412 with Fly's insufficient_capacity status
// (see [Server.SetNoCapacity] for Fly's other answers). Capacity is not
// persisted: every region has room after a restart.
func (s *Server) SetCapacity(region string, ok bool) {
	if ok {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.full, region)
		return
	}
	s.SetNoCapacity(region, InsufficientCapacity)
}

// SetNoCapacity makes launches in region fail the way how says, until
// SetCapacity(region, true). Not persisted.
func (s *Server) SetNoCapacity(region string, how NoCapacity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.full[region] = how
}

// refuseForCapacity answers a launch in a full region and reports whether
// it did. Callers hold s.mu.
func (s *Server) refuseForCapacity(w http.ResponseWriter, region, org string) bool {
	how, full := s.full[region]
	if !full {
		return false
	}
	status, body := how.answer(region, canonicalOrg(org))
	writeJSON(w, status, body)
	return true
}
