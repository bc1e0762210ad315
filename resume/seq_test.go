package resume_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/sealkit/sealkit/resume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStaleEventSeq sends snapshots and events on one connection: an event
// whose seq is not above the last seq sent (which the client would drop
// without a word) is not sent, and Event says so with ErrStaleSeq; the
// connection goes on.
func TestStaleEventSeq(t *testing.T) {
	type send struct {
		kind  string // "snapshot" or "event"
		seq   uint64
		stale bool
	}
	tests := []struct {
		name  string
		sends []send
	}{
		{"the reported case: snapshot 1, then event 0", []send{{"snapshot", 1, false}, {"event", 0, true}, {"event", 2, false}}},
		{"an event repeats the snapshot's seq", []send{{"snapshot", 5, false}, {"event", 5, true}, {"event", 6, false}}},
		{"an event repeats an event", []send{{"event", 3, false}, {"event", 3, true}, {"event", 2, true}, {"event", 4, false}}},
		{"the first event may be 0", []send{{"event", 0, false}, {"event", 1, false}}},
		{"a snapshot may go back", []send{{"event", 9, false}, {"snapshot", 2, false}, {"event", 3, false}, {"event", 3, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, app := serveConns[launchState](t, resume.Options{})
			c := dial(t, wsKind, url, nil)
			handshake(t, c, testKey, nil)
			receive(t, app.opened)
			conn := receive(t, app.conns)
			ctx := context.Background()
			var sent []uint64
			for _, s := range tt.sends {
				send := conn.Event
				if s.kind == "snapshot" {
					send = conn.Snapshot
				}
				err := send(ctx, s.seq, s.seq)
				if s.stale {
					require.ErrorIs(t, err, resume.ErrStaleSeq, "%s %d", s.kind, s.seq)
					continue
				}
				require.NoError(t, err, "%s %d", s.kind, s.seq)
				sent = append(sent, s.seq)
			}
			require.NoError(t, conn.Snapshot(ctx, 1000, "end"))
			var got []uint64
			for {
				f, ok := c.next(t)
				require.True(t, ok, "connection closed")
				if f.Seq == 1000 {
					break
				}
				got = append(got, f.Seq)
			}
			assert.Equal(t, sent, got, "only the events above the last seq reached the client")
		})
	}
}

// TestActionReadsState asks Conn.State from Action on a fresh connection,
// after Store, after Clear, and on a connection that resumed a blob.
func TestActionReadsState(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			srv := startServer(t, newSealer(t), resume.Options{})
			c := freshConn(t, kind, srv)
			state := func(id string) (bool, launchState) {
				t.Helper()
				send(t, c, map[string]any{"t": "action", "id": id, "name": "state"})
				var got struct {
					OK    bool
					State launchState
				}
				require.NoError(t, json.Unmarshal(expect(t, c, "snapshot").Data, &got))
				expect(t, c, "reply")
				return got.OK, got.State
			}
			ok, _ := state("fresh")
			assert.False(t, ok, "a fresh connection has no state")

			send(t, c, map[string]any{"t": "action", "id": "s", "name": "store", "data": wantState})
			tok := expect(t, c, "store").token(t)
			expect(t, c, "reply")
			ok, st := state("stored")
			assert.True(t, ok)
			assert.Equal(t, wantState, st)

			send(t, c, map[string]any{"t": "action", "id": "c", "name": "clear"})
			expect(t, c, "clear")
			expect(t, c, "reply")
			ok, _ = state("cleared")
			assert.False(t, ok, "Clear forgets the state")

			c2 := dial(t, kind, srv.url, nil)
			require.Equal(t, "resumed", handshake(t, c2, testKey, &tok).Status)
			srv.app.nextOpen(t)
			expect(t, c2, "snapshot") // testApp's Open
			c = c2
			ok, st = state("resumed")
			assert.True(t, ok, "a resumed state is the connection's")
			assert.Equal(t, wantState, st)
		})
	}
}

// TestEveryActionIsAnswered sends a burst of actions, each fast enough for
// the worker to find the queue empty between some of them: every action
// runs, once and in order (its event carries its number), and is answered.
func TestEveryActionIsAnswered(t *testing.T) {
	const actions = 300
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			srv := startServer(t, newSealer(t), resume.Options{})
			c := freshConn(t, kind, srv)
			// The answers (about 30 KB) wait in the client's buffers.
			for n := 1; n <= actions; n++ {
				send(t, c, map[string]any{"t": "action", "id": strconv.Itoa(n), "name": "event", "data": n})
			}
			for n := 1; n <= actions; n++ {
				ev := expect(t, c, "event")
				require.Equal(t, uint64(n), ev.Seq)
				require.Equal(t, strconv.Itoa(n), expect(t, c, "reply").ID)
			}
		})
	}
}

// freshConn connects to srv without a blob and waits for Open.
func freshConn(t *testing.T, kind transportKind, srv *server) client {
	t.Helper()
	c := dial(t, kind, srv.url, nil)
	assert.Equal(t, "fresh", handshake(t, c, testKey, nil).Status)
	srv.app.nextOpen(t)
	return c
}
