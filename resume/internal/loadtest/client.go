package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// backoff is the JS client's reconnect policy: exponential, full jitter,
// capped.
type backoff struct{ base, max time.Duration }

func (b backoff) delay(attempt int) time.Duration {
	d := b.max
	if attempt < 30 && b.base<<attempt < b.max {
		d = b.base << attempt
	}
	return rand.N(d) + 1
}

type frame struct {
	T      string          `json:"t"`
	Status string          `json:"status,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
	OK     bool            `json:"ok,omitempty"`
	Error  string          `json:"error,omitempty"`
	Code   string          `json:"code,omitempty"`
}

// loadClient is one simulated page: it keeps its blob like sessionStorage
// and reconnects by itself.
type loadClient struct {
	id    int
	state clientState
	url   string
	bo    backoff
	phase *atomic.Int32 // 2 once the server has been killed

	token    string
	stored   chan struct{} // closed once the server stored the state
	resumed  chan struct{} // closed once resumed after the kill
	resumeAt time.Time
	failure  atomic.Value // string: last wrong outcome, if any
}

func (c *loadClient) run(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		progressed, err := c.session(ctx)
		if progressed {
			attempt = 0
		}
		if err != nil && ctx.Err() == nil && !isDrop(err) {
			c.failure.Store(err.Error())
		}
		t := time.NewTimer(c.bo.delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		attempt++
	}
}

// errOutcome marks a protocol outcome that is wrong, as opposed to a
// dropped connection.
var errOutcome = errors.New("wrong outcome")

func isDrop(err error) bool { return !errors.Is(err, errOutcome) }

// session runs one connection until it drops; progressed reports that the
// server answered the restore.
func (c *loadClient) session(ctx context.Context) (progressed bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ws, _, err := websocket.Dial(dctx, c.url, &websocket.DialOptions{Subprotocols: []string{"sealkit.resume.v1"}})
	cancel()
	if err != nil {
		return false, err
	}
	defer func() { _ = ws.CloseNow() }()
	if _, err := c.expect(ctx, ws, "welcome"); err != nil {
		return false, err
	}
	if _, err := c.expect(ctx, ws, "restore"); err != nil {
		return false, err
	}
	var tok any
	if c.token != "" {
		tok = c.token
	}
	if err := c.send(ctx, ws, map[string]any{"t": "restored", "v": 1, "key": "loadtest", "data": tok}); err != nil {
		return false, err
	}
	res, err := c.expect(ctx, ws, "result")
	if err != nil {
		return false, err
	}
	switch {
	case c.token == "" && res.Status == "fresh":
		if err := c.store(ctx, ws); err != nil {
			return true, err
		}
	case c.token != "" && res.Status == "resumed":
		if err := c.checkSnapshot(ctx, ws); err != nil {
			return true, err
		}
	default:
		return true, fmt.Errorf("%w: result %q", errOutcome, res.Status)
	}
	for { // idle until the connection drops
		if _, _, err := ws.Read(ctx); err != nil {
			return true, err
		}
	}
}

func (c *loadClient) store(ctx context.Context, ws *websocket.Conn) error {
	if err := c.send(ctx, ws, map[string]any{"t": "action", "id": "store", "name": "store", "data": c.state}); err != nil {
		return err
	}
	st, err := c.expect(ctx, ws, "store")
	if err != nil {
		return err
	}
	var tok string
	if err := json.Unmarshal(st.Data, &tok); err != nil || tok == "" {
		return fmt.Errorf("%w: bad store frame", errOutcome)
	}
	rep, err := c.expect(ctx, ws, "reply")
	if err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("%w: store refused: %s", errOutcome, rep.Error)
	}
	c.token = tok
	close(c.stored)
	return nil
}

func (c *loadClient) checkSnapshot(ctx context.Context, ws *websocket.Conn) error {
	snap, err := c.expect(ctx, ws, "snapshot")
	if err != nil {
		return err
	}
	var got clientState
	if err := json.Unmarshal(snap.Data, &got); err != nil || got != c.state {
		return fmt.Errorf("%w: resumed someone else's state", errOutcome)
	}
	if c.phase.Load() == 2 && c.resumeAt.IsZero() {
		c.resumeAt = time.Now()
		close(c.resumed)
	}
	return nil
}

func (c *loadClient) send(ctx context.Context, ws *websocket.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ws.Write(ctx, websocket.MessageText, b)
}

// expect reads the next non-ping frame and checks its type.
func (c *loadClient) expect(ctx context.Context, ws *websocket.Conn, typ string) (frame, error) {
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return frame{}, err
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			return f, fmt.Errorf("%w: bad frame", errOutcome)
		}
		switch f.T {
		case "ping":
			continue
		case typ:
			return f, nil
		case "error":
			return f, fmt.Errorf("%w: error frame %s", errOutcome, f.Code)
		}
		return f, fmt.Errorf("%w: got %q, want %q", errOutcome, f.T, typ)
	}
}
