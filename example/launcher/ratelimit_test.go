package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRefusedLaunchCostsNoToken is finding 4 of issue 8: a token was taken
// before Fly refused the name, so refused launches used up the client's
// launches. Only launches that start cost one now.
func TestRefusedLaunchCostsNoToken(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	s.fly.sim.ReserveName("someone-elses")
	c, _ := s.connect(t, "")
	c.read()
	for i := range launchBurst + 2 {
		r := c.action("launch", map[string]any{"app": "someone-elses", "region": "iad", "size": "small"})
		require.False(t, r.OK)
		require.Contains(t, r.Error, "is taken", "refusal %d", i)
	}
	for i := range launchBurst {
		c, _ := s.connect(t, "")
		c.read()
		r := c.action("launch", map[string]any{"app": fmt.Sprintf("after-refusals-%d", i), "region": "iad", "size": "small"})
		require.True(t, r.OK, "launch %d: %s", i, r.Error)
	}
}
