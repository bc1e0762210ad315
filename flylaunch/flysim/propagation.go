package flysim

import (
	"net/http"
	"time"
)

// Propagation: Fly's Machines API reads from a replicated store (Corrosion)
// that learns about a write some time after the write returns. The Profile
// bounds each delay; the simulator records when each app or machine
// becomes visible and answers as if it did not exist until then.

// propagatedAt returns when something written at now becomes visible, at
// most window (simulated) later and at least half of it; nil when window is
// 0. Callers hold s.mu.
func (s *Server) propagatedAt(now time.Time, window time.Duration) *time.Time {
	if window <= 0 {
		return nil
	}
	sim := window/2 + time.Duration(s.rng.Int64N(int64(window/2)+1))
	at := now.Add(s.realDuration(sim)).UTC()
	return &at
}

// visible reports whether something visible from at is visible at now.
func visible(at *time.Time, now time.Time) bool {
	return at == nil || !now.Before(*at)
}

// writeAppNotVisible answers for an app the API cannot see yet: 404, or
// with the Profile's AppUnauthorizedRate 401, the two answers fly-go's
// WaitForApp keeps retrying. Callers hold s.mu.
func (s *Server) writeAppNotVisible(w http.ResponseWriter) {
	if r := s.prof.AppUnauthorizedRate; r > 0 && s.rng.Float64() < r {
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	writeError(w, http.StatusNotFound, "app not found")
}
