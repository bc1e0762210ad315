package resume

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// Conn is one client connection, over either transport. Its send methods
// are safe for concurrent use, deliver frames in call order, and return an
// error wrapping ErrClosed once the connection has ended; a send waits at
// most Options.WriteTimeout for a slow client (which is then disconnected);
// its ctx bounds the wait for the frame's turn, never a frame on the wire.
type Conn[S any] struct {
	h      *Handler[S]
	id     string // the capability of a fallback connection: never logged
	tag    string // what logs carry instead of id
	bind   string
	client netip.Addr
	host   string
	stream bool // opened by POST B/stream: POST B/send may speak for it
	tr     transport

	ctx    context.Context // canceled when the connection ends
	cancel context.CancelFunc
	wsem   chan struct{} // write semaphore: one frame at a time

	// Guarded by wsem, so that they follow the order of frames on the wire.
	lastSeq uint64 // seq of the last snapshot or event written
	seqSent bool   // whether one was

	stateMu  sync.Mutex // guards state and hasState, set under wsem too
	state    S
	hasState bool

	mu      sync.Mutex // guards ended, working, goer and bg.Add
	ended   bool
	working bool           // a worker goroutine is running jobs (session.go)
	goer    *runner        // the goroutine Go started last
	bg      sync.WaitGroup // worker, timer and Go goroutines
	endOnce sync.Once

	in      sync.Mutex // serializes inbound frames (the fallback may POST concurrently)
	session session
	jobs    chan func() // App calls, in frame order, for the worker

	pingTimer    *time.Timer
	restoreTimer *time.Timer
}

func newConn[S any](h *Handler[S], p peer, tr transport) *Conn[S] {
	ctx, cancel := context.WithCancel(context.Background())
	id := newID(h.opts.Instance)
	_, stream := tr.(*sseTransport)
	return &Conn[S]{
		h: h, id: id, tag: tagOf(id), bind: p.bind, client: p.client, host: p.host, stream: stream, tr: tr,
		ctx: ctx, cancel: cancel,
		wsem: make(chan struct{}, 1),
		jobs: make(chan func(), maxPendingJobs),
	}
}

// Tag returns a short tag that identifies the connection in logs. It is
// derived from the connection ID by a one-way hash: the ID itself (on the
// fallback transport, the capability to send frames for the connection)
// is never exposed to the App or written to a log.
func (c *Conn[S]) Tag() string { return c.tag }

// ClientAddr returns the client's address, as Options.ClientAddr (by
// default the peer address of the request) found it when the connection
// opened. It is the invalid netip.Addr if none could be parsed.
func (c *Conn[S]) ClientAddr() netip.Addr { return c.client }

// Host returns the Host of the request that opened the connection.
func (c *Conn[S]) Host() string { return c.host }

// Done returns a channel closed when the connection ends.
func (c *Conn[S]) Done() <-chan struct{} { return c.ctx.Done() }

// Context returns a context canceled when the connection ends, the one
// [App.Open] and [App.Action] get: for work that must stop with the page
// but runs elsewhere (a call made on the page's behalf). A goroutine that
// follows the page, such as one streaming a job's events, is better
// started with [Conn.Go], which Shutdown waits for.
func (c *Conn[S]) Context() context.Context { return c.ctx }

// Go runs fn on a goroutine of the connection, in place of the one Go
// started before, if any: that one's ctx is canceled, and fn starts only
// once it has returned, so the page never gets a frame from it after
// fn's. fn's ctx ends when the connection ends, at [Handler.Shutdown]
// (which waits for fn, as for the App's calls) or when the next Go
// replaces it: it is the place for work that follows a page, such as
// streaming a job's events or retrying a read while the page is open.
// fn may call Go itself. A nil fn stops the one running; Go on an ended
// connection does nothing.
func (c *Conn[S]) Go(fn func(ctx context.Context)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	prev := c.goer
	if prev != nil {
		prev.cancel()
	}
	ctx, cancel := context.WithCancel(c.ctx)
	r := &runner{cancel: cancel, done: make(chan struct{})}
	c.goer = r
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		defer close(r.done)
		defer cancel()
		if prev != nil {
			<-prev.done
		}
		if fn != nil && ctx.Err() == nil {
			fn(ctx)
		}
	}()
}

// runner is a goroutine started by Go.
type runner struct {
	cancel context.CancelFunc
	done   chan struct{} // closed once it has returned
}

// State returns the state last stored on the connection ([Conn.Store]) or
// resumed into it (the State of a StatusResumed [Result]), and whether
// there is one: false on a fresh connection and after [Conn.Clear]. It is
// safe to call at any time, from Action included.
func (c *Conn[S]) State() (S, bool) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	return c.state, c.hasState
}

// keepState records what the client holds; it runs with the frame that
// tells it so.
func (c *Conn[S]) keepState(s S, ok bool) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	c.state, c.hasState = s, ok
}

// Store seals s and sends it to the client, which keeps it and hands it
// back on every reconnect. s is sealed as JSON (encoding/json, so JSON tags
// apply and a time.Time keeps its instant), bound to the connection's
// binding value, for Options.Key and valid for Options.MaxAge. A state that
// does not encode gives an error naming S and the field at fault.
func (c *Conn[S]) Store(ctx context.Context, s S) error {
	tok, err := c.h.sealState(s, c.bind)
	if err != nil {
		return err
	}
	return c.sendFrame(ctx, storeFrame{T: "store", Key: c.h.opts.Key, Data: tok}, func() error {
		c.keepState(s, true)
		return nil
	})
}

// Clear tells the client to forget its blob.
func (c *Conn[S]) Clear(ctx context.Context) error {
	return c.sendFrame(ctx, clearFrame{T: "clear", Key: c.h.opts.Key}, func() error {
		var none S
		c.keepState(none, false)
		return nil
	})
}

// Snapshot sends the job's full state as of seq, the seq of the last event
// it includes. The client then takes only events above seq, even if seq is
// lower than before (a snapshot is the truth, e.g. after a restart).
func (c *Conn[S]) Snapshot(ctx context.Context, seq uint64, data any) error {
	return c.sendSeq(ctx, "snapshot", seq, data)
}

// Event sends one job event. seq belongs to the job, not to the
// connection: number the job's events 1, 2, 3… as they happen (a counter
// kept with the job), and give a snapshot the seq of the last event it
// includes. The client drops an event whose seq is not above the last one
// it got, so a resend after a reconnect is harmless; Event refuses such an
// event before sending it, with an error wrapping [ErrStaleSeq], when its
// seq is not above that of the last snapshot or event sent on this
// connection.
func (c *Conn[S]) Event(ctx context.Context, seq uint64, data any) error {
	return c.sendSeq(ctx, "event", seq, data)
}

func (c *Conn[S]) sendSeq(ctx context.Context, t string, seq uint64, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("resume: encode %s data: %w", t, err)
	}
	return c.sendFrame(ctx, seqFrame{T: t, Seq: seq, Data: raw}, func() error {
		if t == "event" && c.seqSent && seq <= c.lastSeq {
			return fmt.Errorf("%w: event seq %d, last sent %d", ErrStaleSeq, seq, c.lastSeq)
		}
		c.lastSeq, c.seqSent = seq, true
		return nil
	})
}

// sendFrame encodes f and sends it. record, if not nil, runs under the
// write semaphore just before the frame is written, so what it records
// follows the order of frames on the wire; its error cancels the send.
func (c *Conn[S]) sendFrame(ctx context.Context, f any, record func() error) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("resume: encode frame: %w", err)
	}
	if len(b) > c.h.opts.MaxFrameSize {
		return fmt.Errorf("%w: %d bytes exceed %d", ErrFrameTooLarge, len(b), c.h.opts.MaxFrameSize)
	}
	return c.send(ctx, b, record)
}

// send writes one encoded frame; a failed write ends the connection.
func (c *Conn[S]) send(ctx context.Context, b []byte, record func() error) error {
	err := c.write(ctx, b, record)
	// ErrClosed while the connection and ctx are alive: the transport failed.
	if errors.Is(err, ErrClosed) && c.ctx.Err() == nil && ctx.Err() == nil {
		c.end(closeAbort, "", "")
	}
	return err
}

// write takes the write semaphore, runs record and writes b, bounded by
// ctx, the connection's lifetime and WriteTimeout. It does not end the
// connection.
func (c *Conn[S]) write(ctx context.Context, b []byte, record func() error) error {
	if c.ctx.Err() != nil || ctx.Err() != nil {
		return c.stopped(ctx)
	}
	select {
	case c.wsem <- struct{}{}:
	case <-ctx.Done():
		return c.stopped(ctx)
	case <-c.ctx.Done():
		return ErrClosed
	}
	defer func() { <-c.wsem }()
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	if record != nil {
		if err := record(); err != nil {
			return err
		}
	}
	// ctx bounds the wait above, not the write: a frame cut short by a
	// sender giving up (a Go goroutine replaced, a page's action done)
	// would end the connection for everyone (coder/websocket closes it).
	// A write ends within WriteTimeout, or with the connection.
	wctx, cancel := context.WithTimeout(c.ctx, c.h.opts.WriteTimeout)
	defer cancel()
	if err := c.tr.write(wctx, b); err != nil {
		return fmt.Errorf("%w: write: %w", ErrClosed, err)
	}
	return nil
}

// stopped is why a write could not start: ErrClosed once the connection
// has ended, else ctx's error. The connection's end wins because ctx is
// often the connection's own context (App.Open's), canceled with it.
func (c *Conn[S]) stopped(ctx context.Context) error {
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	return ctx.Err()
}

// end ends the connection once: for closeProtocol it first sends an error
// frame with code and msg, then closes the transport the way kind says and
// cancels the connection context.
func (c *Conn[S]) end(kind closeKind, code errorCode, msg string) {
	c.endOnce.Do(func() {
		if kind == closeProtocol {
			ctx, cancel := context.WithTimeout(context.Background(), c.h.opts.WriteTimeout)
			_ = c.write(ctx, encodeError(code, msg), nil) // best effort: the client may be gone
			cancel()
			c.h.opts.Logger.Debug("resume: protocol error", "conn", c.tag, "code", code, "message", msg)
		}
		c.mu.Lock()
		c.ended = true
		c.mu.Unlock()
		c.stopTimers()
		if kind == closeAbort {
			c.cancel()
			c.tr.close(kind, code)
			return
		}
		// Close first, then cancel: coder/websocket cuts the connection
		// without a close frame when the context of a write in flight is
		// canceled, and writes often run on the connection's own context.
		c.tr.close(kind, code)
		c.cancel()
	})
}

// wait blocks until the connection's goroutines have returned.
func (c *Conn[S]) wait() { c.bg.Wait() }
