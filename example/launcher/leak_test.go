package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder collects a tab's events of one type in order.
type recorder[E any] struct {
	mu     sync.Mutex
	events []E
	done   chan struct{}
}

// record subscribes to ev on ctx now; the recording ends with ctx.
func record[E any](ctx context.Context, ev cdp.Event[E]) *recorder[E] {
	r := &recorder[E]{done: make(chan struct{})}
	seq := chromedp.Events(ctx, ev)
	go func() {
		defer close(r.done)
		for e, err := range seq {
			if err != nil {
				return
			}
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *recorder[E]) snapshot() []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]E(nil), r.events...)
}

// TestE2EPasswordNeverLeaks checks that the password appears nowhere before
// the summary: not in sessionStorage in clear, not in any frame or response
// the page got before the final view, not in any frame it sent, and never in
// the launcher's logs.
func TestE2EPasswordNeverLeaks(t *testing.T) {
	tab := browser.Tab(t)
	ctx, stopRecording := context.WithCancel(tab)
	received := record(ctx, network.WebSocketFrameReceived)
	sent := record(ctx, network.WebSocketFrameSent)
	responses := record(ctx, network.ResponseReceived)
	l := startLauncher(t, "127.0.0.1:0", t.TempDir())

	openPage(t, ctx, l.URL)
	launch(t, ctx, "no-leak")
	var stored []string
	for _, pct := range []int{10, 35, 50} {
		waitMidDeploy(t, ctx, pct)
		stored = append(stored, storageDump(t, ctx)[resumeKey])
	}
	_, password := summary(t, ctx)

	for _, blob := range stored {
		require.True(t, strings.HasPrefix(blob, "XCP."), "sessionStorage holds a sealed token, got %.20q", blob)
		assert.NotContains(t, blob, password)
		assert.NotContains(t, blob, base64.RawURLEncoding.EncodeToString([]byte(password)))
	}

	// Frames: the first one that carries the password is the final view.
	frames := received.snapshot()
	require.NotEmpty(t, frames)
	first := -1
	for i, f := range frames {
		if strings.Contains(string(f.Response.PayloadData), password) {
			first = i
			break
		}
	}
	require.GreaterOrEqual(t, first, 0, "the summary frame carries the password")
	var final struct {
		T    string `json:"t"`
		Data view   `json:"data"`
	}
	require.NoError(t, json.Unmarshal(frames[first].Response.PayloadData, &final))
	assert.Equal(t, "snapshot", final.T)
	assert.Equal(t, phaseDone, final.Data.Phase)
	assert.Greater(t, first, 5, "the page got many frames before the summary")
	for _, f := range sent.snapshot() {
		assert.NotContains(t, string(f.Response.PayloadData), password, "the page never sends the password")
	}

	// HTTP responses: the page, its scripts and styles.
	checked := 0
	for _, r := range responses.snapshot() {
		body, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: r.RequestID})
		if err != nil || r.Response.Status != http.StatusOK {
			continue // e.g. the WebSocket upgrade has no body
		}
		assert.NotContains(t, string(body.Body), password, "response of %s", r.Response.URL)
		checked++
	}

	assert.GreaterOrEqual(t, checked, 4, "the page, its script, the hooks script and the styles were checked")

	stopRecording()
	<-received.done
	<-sent.done
	<-responses.done
	l.stop()
	l.mustNotContain(t, password)
}
