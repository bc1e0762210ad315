package resume

import (
	"errors"
	"fmt"
	"time"
)

const (
	// maxPendingJobs bounds the App calls queued on one connection; a
	// client that sends actions faster than the App handles them is slowed
	// down (its frames are read no faster than they are handled).
	maxPendingJobs = 16
	// maxHeldActions bounds the actions a client may send before answering
	// the restore request; they run after Open.
	maxHeldActions = 16
	// maxReplyError bounds the error text of a reply frame.
	maxReplyError = 1 << 10
)

// session is the inbound protocol state of a connection, guarded by Conn.in.
type session struct {
	restored bool
	held     []clientFrame // actions received before restored
}

// start greets the client and asks for its blob, then arms the keepalive
// and the restore deadline.
func (c *Conn[S]) start() error {
	if err := c.sendFrame(c.ctx, welcomeFrame{T: "welcome", V: Version, Conn: c.id}, nil); err != nil {
		return err
	}
	if err := c.sendFrame(c.ctx, restoreFrame{T: "restore", Key: c.h.opts.Key}, nil); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ErrClosed
	}
	c.pingTimer = time.AfterFunc(c.h.opts.PingInterval, c.onPing)
	c.restoreTimer = time.AfterFunc(c.h.opts.RestoreTimeout, c.onRestoreTimeout)
	return nil
}

func (c *Conn[S]) stopTimers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.restoreTimer != nil {
		c.restoreTimer.Stop()
	}
}

// enter registers the calling goroutine with the connection unless it has
// ended; the caller must call c.bg.Done when enter returns true.
func (c *Conn[S]) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trackLocked()
}

// trackLocked adds one goroutine to c.bg unless the connection has ended
// (end sets ended under c.mu before wait may call bg.Wait). c.mu is held.
func (c *Conn[S]) trackLocked() bool {
	if c.ended {
		return false
	}
	c.bg.Add(1)
	return true
}

func (c *Conn[S]) onPing() {
	if !c.enter() {
		return
	}
	defer c.bg.Done()
	if c.send(c.ctx, pingFrame, nil) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ended {
		c.pingTimer.Reset(c.h.opts.PingInterval)
	}
}

func (c *Conn[S]) onRestoreTimeout() {
	if !c.enter() {
		return
	}
	defer c.bg.Done()
	c.in.Lock()
	restored := c.session.restored
	c.in.Unlock()
	if !restored {
		c.end(closeProtocol, codeBadFrame, fmt.Sprintf("no restored frame within %s", c.h.opts.RestoreTimeout))
	}
}

// receive handles one raw client frame. A protocol violation ends the
// connection with an error frame and is returned as a *protocolError.
func (c *Conn[S]) receive(b []byte) error {
	f, err := decodeFrame(b, c.h.opts.MaxFrameSize)
	if err != nil {
		return c.fail(err)
	}
	c.in.Lock()
	defer c.in.Unlock()
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	switch f.Type {
	case typeRestored:
		return c.onRestored(f)
	case typeAction:
		if !c.session.restored {
			if len(c.session.held) >= maxHeldActions {
				return c.fail(protoErr(codeBadFrame, "more than %d actions before restored", maxHeldActions))
			}
			c.session.held = append(c.session.held, f)
			return nil
		}
		c.enqueue(func() { c.runAction(f) })
	}
	return nil // pong
}

func (c *Conn[S]) fail(err error) error {
	var pe *protocolError
	if !errors.As(err, &pe) {
		pe = protoErr(codeInternal, "internal error")
	}
	c.end(closeProtocol, pe.Code, pe.Message)
	return pe
}

func (c *Conn[S]) onRestored(f clientFrame) error {
	if c.session.restored {
		return c.fail(protoErr(codeBadFrame, "duplicate restored frame"))
	}
	if f.Key != c.h.opts.Key {
		return c.fail(protoErr(codeBadFrame, "restored key %q does not match %q", truncate(f.Key), c.h.opts.Key))
	}
	c.session.restored = true
	c.mu.Lock()
	if c.restoreTimer != nil {
		c.restoreTimer.Stop()
	}
	c.mu.Unlock()
	res := c.h.openState(f.Token, f.HasToken, c.bind)
	c.enqueue(func() { c.runOpen(res) })
	for _, a := range c.session.held {
		c.enqueue(func() { c.runAction(a) })
	}
	c.session.held = nil
	return nil
}

// runOpen reports the result to the client (a resumed state becomes the
// connection's), clears a rejected blob, and hands the connection to
// App.Open.
func (c *Conn[S]) runOpen(res Result[S]) {
	keepResumed := func() error {
		if res.Status == StatusResumed {
			c.keepState(res.State, true)
		}
		return nil
	}
	result := resultFrame{T: "result", Status: res.Status, Message: resultMessages[res.Status]}
	if c.sendFrame(c.ctx, result, keepResumed) != nil {
		return
	}
	if res.Err != nil {
		c.h.opts.Logger.Info("resume: blob rejected", "conn", c.tag, "status", res.Status)
		if c.Clear(c.ctx) != nil {
			return
		}
	}
	if err := c.h.app.Open(c.ctx, c, res); err != nil {
		if c.ctx.Err() == nil {
			c.h.opts.Logger.Error("resume: open failed", "conn", c.tag, "err", err)
		}
		c.end(closeProtocol, codeInternal, "open failed")
	}
}

func (c *Conn[S]) runAction(f clientFrame) {
	reply := replyFrame{T: "reply", ID: f.ID, OK: true}
	if err := c.h.app.Action(c.ctx, c, f.Name, f.Data); err != nil {
		reply.OK = false
		reply.Error = err.Error()
		if len(reply.Error) > maxReplyError {
			reply.Error = reply.Error[:maxReplyError]
		}
	}
	_ = c.sendFrame(c.ctx, reply, nil) // fails only when the connection ended
}

// The App calls of a connection run one at a time, in frame order, on a
// worker goroutine that exists only while there are calls to make (an idle
// connection costs no goroutine). Invariant: every job in c.jobs will be
// run, because enqueue checks c.working under c.mu after queuing a job, and
// a worker clears c.working only under c.mu, after finding c.jobs empty.

// enqueue queues an App call, blocking while maxPendingJobs are queued
// (slowing the reader down), and starts a worker unless one is running.
func (c *Conn[S]) enqueue(job func()) {
	select {
	case c.jobs <- job:
	case <-c.ctx.Done():
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.working && c.trackLocked() {
		c.working = true
		go c.work()
	}
}

// work runs queued jobs in order until the queue is empty.
func (c *Conn[S]) work() {
	defer c.bg.Done()
	for job := c.nextJob(); job != nil; job = c.nextJob() {
		if c.ctx.Err() == nil {
			c.run(job)
		}
	}
}

// nextJob returns the next queued job or, when there is none, nil after
// marking the worker gone.
func (c *Conn[S]) nextJob() func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case job := <-c.jobs:
		return job
	default:
		c.working = false
		return nil
	}
}

// run calls job, turning an App panic into an internal error for this
// connection instead of a crashed server.
func (c *Conn[S]) run(job func()) {
	defer func() {
		if p := recover(); p != nil {
			c.h.opts.Logger.Error("resume: app panic", "conn", c.tag, "panic", fmt.Sprint(p))
			c.end(closeProtocol, codeInternal, "internal error")
		}
	}()
	job()
}
