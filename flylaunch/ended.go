package flylaunch

import "time"

// Bounds of the memory of ended deploys.
const (
	// endedTTL is how long an ended deploy answers Resume and Attach: long
	// enough that replays of a blob arriving while or just after its deploy
	// ends cost nothing, short enough that a resume later checks Fly again.
	endedTTL = time.Minute
	// maxEnded bounds the ended deploys remembered at once.
	maxEnded = 1024
)

// endedDeploys remembers recently ended deploys by launch ID, so that a
// replayed record finds the outcome instead of driving Fly again. Guarded
// by Launcher.mu.
type endedDeploys struct {
	byID  map[string]endedDeploy
	order []endedKey // in the order they ended, oldest first
}

type endedKey struct {
	id string
	at time.Time
}

type endedDeploy struct {
	dep *Deploy
	at  time.Time
}

// add remembers dep, forgetting expired entries and, past maxEnded, the
// oldest.
func (e *endedDeploys) add(id string, dep *Deploy, now time.Time) {
	for len(e.order) > 0 {
		oldest := e.order[0]
		if now.Sub(oldest.at) < endedTTL && len(e.byID) < maxEnded {
			break
		}
		e.order = e.order[1:]
		if ed, ok := e.byID[oldest.id]; ok && ed.at.Equal(oldest.at) {
			delete(e.byID, oldest.id) // not re-added since
		}
	}
	e.byID[id] = endedDeploy{dep: dep, at: now}
	e.order = append(e.order, endedKey{id: id, at: now})
}

// get returns the deploy of id if it ended less than endedTTL ago.
func (e *endedDeploys) get(id string, now time.Time) *Deploy {
	ed, ok := e.byID[id]
	if !ok || now.Sub(ed.at) >= endedTTL {
		return nil
	}
	return ed.dep
}
