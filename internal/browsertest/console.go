package browsertest

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// Console records what a tab writes to its console: calls of the console
// API, uncaught exceptions and unhandled promise rejections (through the
// DevTools protocol's Runtime events), and entries of the browser log.
type Console struct {
	mu      sync.Mutex
	msgs    []chromedp.ConsoleMessage
	changed chan struct{} // closed and replaced at every message
}

// RecordConsole records the console of the tab ctx (from [Browser.Tab]) from
// now until the test ends.
func RecordConsole(t testing.TB, ctx context.Context) *Console {
	t.Helper()
	c := &Console{changed: make(chan struct{})}
	ctx, stop := context.WithCancel(ctx)
	messages := chromedp.Console(ctx) // subscribes now, not when ranged over
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			c.add(m)
		}
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	return c
}

func (c *Console) add(m chromedp.ConsoleMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	close(c.changed)
	c.changed = make(chan struct{})
}

// Messages returns the messages recorded so far, in the order the page wrote
// them.
func (c *Console) Messages() []chromedp.ConsoleMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), c.msgs...)
}

// Exceptions returns the uncaught exceptions and unhandled promise
// rejections recorded so far.
func (c *Console) Exceptions() []chromedp.ConsoleMessage {
	var out []chromedp.ConsoleMessage
	for _, m := range c.Messages() {
		if m.IsException() {
			out = append(out, m)
		}
	}
	return out
}

// Sync writes a marker to the page's console and waits until it is
// recorded. The page's messages arrive in order, so everything the page wrote
// before Sync was called is in [Console.Messages] when it returns. The marker
// itself is recorded too, as a debug message.
func (c *Console) Sync(ctx context.Context) error {
	mark := "browsertest sync " + rand.Text()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.debug(%q)", mark)))
	if err != nil {
		return fmt.Errorf("browsertest: console sync: %w", err)
	}
	for {
		c.mu.Lock()
		changed := c.changed
		for _, m := range c.msgs {
			if m.Text == mark {
				c.mu.Unlock()
				return nil
			}
		}
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("browsertest: console sync: %w", ctx.Err())
		}
	}
}
