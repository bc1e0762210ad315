package main

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	flygo "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// TestReplayedBlobMintsNoManageLink is defect 5 of the multi-instance
// issue: the launch's first blob, handed back after the launch ended,
// resumed it as done and sealed a new 30-day manage link. A link is issued
// once, to the page that watched the launch finish; a replay, on the
// instance that ran the launch or on any other, shows the summary without
// one.
func TestReplayedBlobMintsNoManageLink(t *testing.T) {
	w := newSimWorld(t)
	ran := w.launcher(t)
	blobs, done := launchBlobs(t, ran, "linked-once")
	first := blobs[0]
	require.NotEmpty(t, done.Manage, "the page that watched the launch gets the link")

	for name, s := range map[string]*testServer{"same instance": ran, "another instance": w.launcher(t)} {
		t.Run(name, func(t *testing.T) {
			v := resumeOnce(t, s, first)
			require.Equal(t, phaseDone, v.Phase, v.Error)
			assert.Equal(t, done.Password, v.Password)
			assert.Empty(t, v.Manage, "no new manage link")
			assert.True(t, v.ManageIssued)
		})
	}
}

// TestStaleManageLinkSparesANewApp is defect 4: launch, delete the
// Livebook with its own link, keep the link; the name is created again in
// the org, with a volume and no machine. The old link opens as gone, and a
// delete sent over the protocol (the page hides the button) leaves the new
// app and its volume alone.
func TestStaleManageLinkSparesANewApp(t *testing.T) {
	s := newTestServer(t, 100, 0)
	user := s.fly.client // the org's owner, with flyctl
	_, done := launchToDone(t, s, "reborn-app")
	tok := manageToken(t, done)
	c, _, _ := openManage(t, s, tok)
	r := c.action("delete", map[string]string{"confirm": "reborn-app"})
	require.True(t, r.OK, r.Error)
	viewUntil(t, c, "gone")
	c.conn.CloseNow()

	ctx := waitCtx(t)
	app := createVisibleApp(t, ctx, user, "reborn-app")
	var vol *flygo.Volume
	require.NoError(t, untilVisible(ctx, func() (err error) {
		vol, err = user.CreateVolume(ctx, "reborn-app", flygo.CreateVolumeRequest{Name: "reborn_app", Region: "ams", SizeGb: new(1)})
		return err
	}))
	require.NoError(t, untilVisible(ctx, func() error { _, err := user.GetVolume(ctx, "reborn-app", vol.ID); return err }))

	c, result, v := openManage(t, s, tok)
	require.Equal(t, "resumed", result.Status)
	assert.Equal(t, "gone", v.State)
	r = c.action("delete", map[string]string{"confirm": "reborn-app"})
	if r.OK {
		v = nextView(t, c) // deleting…
		for v.Busy {
			v = nextView(t, c)
		}
	}
	c.conn.CloseNow()
	s.quiesce(t)
	got, err := user.GetApp(ctx, "reborn-app")
	require.NoError(t, err, "the new app survives")
	assert.Equal(t, app.ID, got.ID)
	_, err = user.GetVolume(ctx, "reborn-app", vol.ID)
	require.NoError(t, err, "its volume survives")
}

// createVisibleApp creates app in the world's org as its owner would, and
// waits until Fly shows it.
func createVisibleApp(t *testing.T, ctx context.Context, c *flaps.Client, name string) *flaps.App {
	t.Helper()
	app, err := c.CreateApp(ctx, flaps.CreateAppRequest{Name: name, Org: defaultOrg})
	require.NoError(t, err)
	require.NoError(t, untilVisible(ctx, func() error { _, err := c.GetApp(ctx, name); return err }))
	return app
}

// untilVisible calls fn until Fly stops answering 404 or 401 (what it
// says of a resource it has not caught up with) or 429 (its rate limit),
// a bounded number of times, and returns fn's last error.
func untilVisible(ctx context.Context, fn func() error) error {
	var err error
	for range 3000 {
		var fe *flaps.FlapsError
		if err = fn(); !errors.As(err, &fe) || ctx.Err() != nil {
			return err
		}
		switch fe.ResponseStatusCode {
		case http.StatusNotFound, http.StatusUnauthorized, http.StatusTooManyRequests:
		default:
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}
