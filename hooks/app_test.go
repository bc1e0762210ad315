package hooks_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sealkit/sealkit/resume"
)

// jobState is the private state the test App seals into the browser: which
// job to re-attach to, a secret only the server may read, and when the job
// started (a time, which must come back from the browser to the nanosecond).
type jobState struct {
	JobID   string    `json:"job"`
	Secret  string    `json:"secret"`
	Started time.Time `json:"started"`
}

// backend plays the outside world that runs jobs (Fly.io in the launcher):
// it outlives every server instance, so a restarted server finds its jobs
// there. It counts job starts, so a test can see a job started twice.
type backend struct {
	mu     sync.Mutex
	starts int
	jobs   map[string]*fakeJob
}

func newBackend() *backend { return &backend{jobs: map[string]*fakeJob{}} }

func (b *backend) start() *fakeJob {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.starts++
	j := &fakeJob{id: rand.Text()[:8], secret: rand.Text(), started: time.Now().UTC().Round(0), changed: make(chan struct{})}
	b.jobs[j.id] = j
	return j
}

func (b *backend) job(id string) *fakeJob {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.jobs[id]
}

func (b *backend) startCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.starts
}

// fakeJob emits numbered events when the test says so: no clocks involved.
type fakeJob struct {
	id, secret string
	started    time.Time
	mu         sync.Mutex
	seq        uint64
	changed    chan struct{} // closed and replaced at every emit
}

func (j *fakeJob) state() jobState {
	return jobState{JobID: j.id, Secret: j.secret, Started: j.started}
}

// emit makes the job produce its next event.
func (j *fakeJob) emit() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	close(j.changed)
	j.changed = make(chan struct{})
}

func (j *fakeJob) current() (uint64, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seq, j.changed
}

// testApp is the resume.App of the browser tests: "launch" starts a job and
// stores its state, "finish" clears the blob; a resumed connection re-attaches
// to its job and streams it (a snapshot, then the events).
type testApp struct {
	be     *backend
	wg     sync.WaitGroup // the followers; Wait after the handler shut down
	mu     sync.Mutex
	opened []resume.Result[jobState]
}

func (a *testApp) Open(ctx context.Context, c *resume.Conn[jobState], r resume.Result[jobState]) error {
	a.mu.Lock()
	a.opened = append(a.opened, r)
	a.mu.Unlock()
	if r.Status != resume.StatusResumed {
		return nil
	}
	j := a.be.job(r.State.JobID)
	if j == nil || j.secret != r.State.Secret {
		return c.Clear(ctx)
	}
	a.follow(ctx, c, j)
	return nil
}

func (a *testApp) Action(ctx context.Context, c *resume.Conn[jobState], name string, _ json.RawMessage) error {
	switch name {
	case "launch":
		j := a.be.start()
		if err := c.Store(ctx, j.state()); err != nil {
			return err
		}
		a.follow(ctx, c, j)
		return nil
	case "finish":
		return c.Clear(ctx)
	}
	return fmt.Errorf("unknown action %q", name)
}

// follow streams the job to the connection until it ends: a snapshot of
// where the job is, a replay of events the snapshot covers, then every event
// after it.
func (a *testApp) follow(ctx context.Context, c *resume.Conn[jobState], j *fakeJob) {
	ctx = context.WithoutCancel(ctx) // outlives the App call; ends with the connection
	a.wg.Go(func() {
		seq, changed := j.current()
		if c.Snapshot(ctx, seq, map[string]any{"job": j.id, "seq": seq}) != nil {
			return
		}
		// Replay the last two events, as a server that cannot tell what the
		// page has seen would: the snapshot covers them, so Event refuses
		// them (resume.ErrStaleSeq) and the page never sees them.
		for n := max(seq, 2) - 1; n <= seq && n > 0; n++ {
			if err := c.Event(ctx, n, map[string]any{"n": n}); !errors.Is(err, resume.ErrStaleSeq) {
				return
			}
		}
		for {
			select {
			case <-c.Done():
				return
			case <-changed:
			}
			var now uint64
			now, changed = j.current()
			for ; seq < now; seq++ {
				if c.Event(ctx, seq+1, map[string]any{"n": seq + 1}) != nil {
					return
				}
			}
		}
	})
}

func (a *testApp) results() []resume.Result[jobState] {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]resume.Result[jobState](nil), a.opened...)
}
