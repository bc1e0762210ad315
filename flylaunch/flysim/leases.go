package flysim

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// leaseOwner is who the simulator says holds leases taken through it.
const leaseOwner = "flysim@example.com"

// active reports whether l is held at now.
func (l *lease) active(now time.Time) bool { return l != nil && now.Before(l.ExpiresAt) }

// newLease makes a lease on m lasting ttl seconds. Callers hold s.mu.
func (s *Server) newLease(m *machine, ttl int) *lease {
	return &lease{
		Nonce:     s.randHex(12),
		Owner:     leaseOwner,
		ExpiresAt: s.now().UTC().Truncate(time.Second).Add(time.Duration(ttl) * time.Second),
		Version:   s.randULID(),
	}
}

func leaseView(l *lease) *fly.MachineLease {
	return &fly.MachineLease{
		Status: "success",
		Data: &fly.MachineLeaseData{
			Nonce:     l.Nonce,
			ExpiresAt: l.ExpiresAt.Unix(),
			Owner:     l.Owner,
			Version:   l.Version,
		},
	}
}

// leaseAllows answers 409 and returns false when m is leased and the
// request does not carry the lease's nonce. Callers hold s.mu.
func (s *Server) leaseAllows(w http.ResponseWriter, r *http.Request, m *machine) bool {
	if !m.Lease.active(s.now()) || r.Header.Get(flaps.NonceHeader) == m.Lease.Nonce {
		return true
	}
	writeError(w, http.StatusConflict, leaseHeldMessage(m))
	return false
}

func leaseHeldMessage(m *machine) string {
	return fmt.Sprintf("failed_precondition: machine %s is currently leased by %s until %s",
		m.ID, m.Lease.Owner, m.Lease.ExpiresAt.UTC().Format(time.RFC3339))
}

// findLease serves GET /v1/apps/{app}/machines/{id}/lease.
func (s *Server) findLease(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil {
		return
	}
	if !m.Lease.active(s.now()) {
		writeError(w, http.StatusNotFound, "lease not found")
		return
	}
	writeJSON(w, http.StatusOK, leaseView(m.Lease))
}

// acquireLease serves POST /v1/apps/{app}/machines/{id}/lease[?ttl=N].
// Without a nonce header it takes a free lease (409 if held); with the
// current lease's nonce it refreshes it.
func (s *Server) acquireLease(w http.ResponseWriter, r *http.Request) {
	ttl := defaultLeaseTTL
	if v := r.URL.Query().Get("ttl"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 3600 {
			writeError(w, http.StatusBadRequest, "invalid_argument: ttl must be 1..3600 seconds")
			return
		}
		ttl = n
	}
	nonce := r.Header.Get(flaps.NonceHeader)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil {
		return
	}
	if m.DestroyedAt != nil {
		writeError(w, http.StatusPreconditionFailed, "failed_precondition: machine is destroyed")
		return
	}
	now := s.now()
	switch {
	case m.Lease.active(now) && nonce == m.Lease.Nonce:
		m.Lease.ExpiresAt = now.UTC().Truncate(time.Second).Add(time.Duration(ttl) * time.Second)
	case m.Lease.active(now):
		writeError(w, http.StatusConflict, leaseHeldMessage(m))
		return
	case nonce != "":
		writeError(w, http.StatusConflict, "failed_precondition: lease with this nonce not found or expired")
		return
	default:
		m.Lease = s.newLease(m, ttl)
	}
	if !s.commit(w) {
		return
	}
	writeJSON(w, http.StatusOK, leaseView(m.Lease))
}

// releaseLease serves DELETE /v1/apps/{app}/machines/{id}/lease with the
// lease's nonce.
func (s *Server) releaseLease(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.findMachine(w, r)
	if m == nil {
		return
	}
	if !m.Lease.active(s.now()) {
		writeError(w, http.StatusNotFound, "lease not found")
		return
	}
	if r.Header.Get(flaps.NonceHeader) != m.Lease.Nonce {
		writeError(w, http.StatusConflict, leaseHeldMessage(m))
		return
	}
	m.Lease = nil
	if !s.commit(w) {
		return
	}
	writeOK(w)
}
