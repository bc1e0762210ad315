package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
)

// newVisitorServer is an in-process launcher in visitor mode on its own
// simulator, which issues demoTenants' tokens.
func newVisitorServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWith(t, 100, func(c *config) { c.visitorTokens, c.flyOrg = true, "" })
}

// visitorToken is the simulated token of a demo tenant.
func visitorToken(t *testing.T, s *testServer, tenant string) string {
	t.Helper()
	tok, err := s.fly.sim.Token(tenant)
	require.NoError(t, err)
	return tok
}

// tokenTexts is every piece of a Fly token that must never show: the
// whole token and each macaroon's body.
func tokenTexts(token string) []string {
	body := strings.TrimPrefix(token, "FlyV1 ")
	out := []string{body}
	for _, m := range strings.Split(body, ",") {
		if _, raw, ok := strings.Cut(m, "_"); ok && len(raw) > 40 {
			out = append(out, raw[:40], raw[len(raw)-40:])
		}
	}
	return out
}

func assertNoToken(t *testing.T, text string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		for _, part := range tokenTexts(tok) {
			assert.NotContains(t, text, part, "a visitor token leaked")
		}
	}
}

// openSealed opens a sealed launch or manage state with the test key base,
// as an attacker holding the blob and the key would.
func openSealed[S any](t *testing.T, purpose, blob string) S {
	t.Helper()
	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	var doc []byte
	require.NoError(t, sealer.Decrypt(purpose, blob, &doc))
	var env struct {
		State S `json:"state"`
	}
	require.NoError(t, json.Unmarshal(doc, &env))
	return env.State
}

// TestVisitorTokens: in visitor mode the page lists the organizations the
// visitor's token reaches, launches there with that token (sealed in the
// blob while the launch runs), and the manage link carries the token
// narrowed to the launched app: it stops, starts and deletes that app and
// nothing else. The operator's own client only observes.
func TestVisitorTokens(t *testing.T) {
	s := newVisitorServer(t)
	demo, guest := visitorToken(t, s, "demo"), visitorToken(t, s, "guest")
	require.Equal(t, demo, s.fly.demoToken, "the page offers the demo tenant's token")

	c, _ := s.connect(t, "")
	c.read()
	r := c.action("orgs", map[string]string{"token": demo})
	require.True(t, r.OK, r.Error)
	v := viewOf(t, c.read())
	assert.Equal(t, []viewOrg{{Slug: "demo-team", Name: "demo-team"}, {Slug: "personal", Name: "Personal"}}, v.Orgs)

	blobs, done := launchAs(t, s, "team-book", demo, "demo-team")
	require.Equal(t, phaseDone, done.Phase, done.Error)
	_, guestDone := launchAs(t, s, "guest-book", guest, "guest-org")
	require.Equal(t, phaseDone, guestDone.Phase, guestDone.Error)
	for app, org := range map[string]string{"team-book": "demo-team", "guest-book": "guest-org"} {
		a, err := s.fly.client.GetApp(t.Context(), app) // the simulator's state
		require.NoError(t, err)
		assert.Equal(t, org, a.Organization.Slug, "%s lands in its visitor's org", app)
	}
	st := openSealed[launchState](t, resumeKey, blobs[0])
	assert.Equal(t, demo, st.Token, "the blob carries the visitor's token while the launch runs")
	assert.Equal(t, "demo-team", st.Org)

	link := openSealed[manageState](t, manageKey, manageToken(t, done))
	require.NotEmpty(t, link.Token)
	assert.NotEqual(t, demo, link.Token, "the link's token is narrowed")
	assert.Equal(t, "demo-team", link.Org)

	t.Run("the link's token reaches only its app", func(t *testing.T) {
		scoped, err := flylaunch.NewClient(t.Context(), link.Token, s.fly.transport)
		require.NoError(t, err)
		_, err = scoped.GetApp(t.Context(), "team-book")
		require.NoError(t, err)
		err = scoped.DeleteApp(t.Context(), "guest-book")
		var fe *flaps.FlapsError
		require.ErrorAs(t, err, &fe)
		assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, fe.ResponseStatusCode)
	})
	t.Run("manage: stop, start, delete with the link's token", func(t *testing.T) {
		mc, result, mv := openManage(t, s, manageToken(t, done))
		require.Equal(t, "resumed", result.Status)
		assert.Contains(t, []string{"running", "stopped"}, mv.State)
		for action, state := range map[string]string{"stop": "stopped", "start": "running"} {
			r := mc.action(action, nil)
			require.True(t, r.OK, r.Error)
			viewUntil(t, mc, state)
		}
		r := mc.action("delete", map[string]string{"confirm": "team-book"})
		require.True(t, r.OK, r.Error)
		viewUntil(t, mc, "gone")
		_, _, exists := s.fly.sim.Counts("team-book")
		assert.False(t, exists)
		_, _, exists = s.fly.sim.Counts("guest-book")
		assert.True(t, exists, "the other visitor's app is untouched")
	})
	assertNoToken(t, s.logs.String(), demo, guest, link.Token)
}

// launchAs launches app (into org with a visitor's token, in visitor
// mode) and returns every blob the page was given, in order, and the
// final view.
func launchAs(t *testing.T, s *testServer, app, token, org string) ([]string, view) {
	t.Helper()
	c, _ := s.connect(t, "")
	c.read()
	r := c.action("launch", map[string]any{"app": app, "region": "ams", "size": "small", "token": token, "org": org})
	require.True(t, r.OK, r.Error)
	var blobs []string
	frames := c.readUntil(func(f frame) bool {
		if f.T == "store" {
			var blob string
			require.NoError(t, json.Unmarshal(f.Data, &blob))
			blobs = append(blobs, blob)
		}
		return f.T == "clear"
	})
	c.conn.CloseNow()
	return blobs, viewOf(t, frames[len(frames)-2])
}

// TestVisitorTokenRefused: a token Fly refuses (malformed, tampered,
// revoked, reaching no org) or an org the token does not reach gets a
// clear sentence on the page, and nothing is created.
func TestVisitorTokenRefused(t *testing.T) {
	s := newVisitorServer(t)
	demo, guest := visitorToken(t, s, "demo"), visitorToken(t, s, "guest")
	require.NoError(t, s.fly.sim.Revoke("guest"))
	tests := []struct {
		name, token, org, want string
	}{
		{"empty", "", "personal", errTokenRefused.Error()},
		{"not a Fly token", "hello", "personal", errTokenRefused.Error()},
		{"tampered", demo[:len(demo)-6] + "AAAAAA", "personal", errTokenRefused.Error()},
		{"revoked", guest, "guest-org", errTokenRefused.Error()},
		{"org not reached", demo, "guest-org", errOrgNotReached.Error()},
		{"tampered, no org picked", demo[:len(demo)-6] + "AAAAAA", "", errTokenRefused.Error()},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := "refused-" + string(rune('a'+i))
			c, _ := s.connect(t, "")
			c.read()
			r := c.action("launch", map[string]any{"app": app, "region": "ams", "size": "small", "token": tt.token, "org": tt.org})
			assert.False(t, r.OK)
			assert.Equal(t, sentence(tt.want), r.Error)
			if tt.name != "org not reached" {
				r = c.action("orgs", map[string]string{"token": tt.token})
				assert.False(t, r.OK)
				assert.Equal(t, sentence(tt.want), r.Error)
			}
			_, _, exists := s.fly.sim.Counts(app)
			assert.False(t, exists, "nothing created")
		})
	}
	assertNoToken(t, s.logs.String(), demo, guest)
}

// TestVisitorStateIsNotOperatorState: a blob or link sealed by a launcher
// of one mode opens as invalid on a launcher of the other (same key base):
// an operator's launch never runs with a visitor's token and the reverse.
func TestVisitorStateIsNotOperatorState(t *testing.T) {
	op := newTestServer(t, 100, 0)
	vis := newVisitorServer(t)
	opBlob, opDone := launchToDone(t, op, "operator-book")
	_, result := vis.connect(t, opBlob)
	assert.Equal(t, "invalid", result.Status)
	_, result, _ = openManage(t, vis, manageToken(t, opDone))
	assert.Equal(t, "invalid", result.Status)

	visBlobs, visDone := launchAs(t, vis, "visitor-book", visitorToken(t, vis, "demo"), "personal")
	_, result = op.connect(t, visBlobs[0])
	assert.Equal(t, "invalid", result.Status)
	_, result, _ = openManage(t, op, manageToken(t, visDone))
	assert.Equal(t, "invalid", result.Status)
}

// TestVisitorLinkTokenConfined plays the attacker who holds a manage link
// and the key base: the visitor's token taken out of the link is refused
// by Fly (the simulator, verifying its caveats) for another app of the
// same visitor and org, for an app re-created under the link's app name,
// and, for the link's own app, once the link's window has passed.
func TestVisitorLinkTokenConfined(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	s := newTestServerWith(t, 100, func(c *config) { c.visitorTokens, c.flyOrg, c.now = true, "", clock })
	demo := visitorToken(t, s, "demo")
	_, doneA := launchAs(t, s, "link-app", demo, "demo-team")
	require.Equal(t, phaseDone, doneA.Phase, doneA.Error)
	_, doneB := launchAs(t, s, "sibling-app", demo, "demo-team")
	require.Equal(t, phaseDone, doneB.Phase, doneB.Error)
	stolen := openSealed[manageState](t, manageKey, manageToken(t, doneA)).Token
	attacker, err := flylaunch.NewClient(t.Context(), stolen, s.fly.transport)
	require.NoError(t, err)
	owner, err := flylaunch.NewClient(t.Context(), demo, s.fly.transport)
	require.NoError(t, err)
	refused := func(t *testing.T, err error) {
		t.Helper()
		var fe *flaps.FlapsError
		require.ErrorAs(t, err, &fe)
		assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, fe.ResponseStatusCode)
	}

	_, err = attacker.GetApp(t.Context(), "link-app")
	require.NoError(t, err, "the link's own app, within the window")
	t.Run("another app of the same visitor and org", func(t *testing.T) {
		_, err := attacker.GetApp(t.Context(), "sibling-app")
		refused(t, err)
		refused(t, attacker.DeleteApp(t.Context(), "sibling-app"))
		_, _, exists := s.fly.sim.Counts("sibling-app")
		assert.True(t, exists)
	})
	t.Run("after the window", func(t *testing.T) {
		offset.Store(int64(manageMaxAge + time.Hour))
		defer offset.Store(0)
		_, err := attacker.GetApp(t.Context(), "link-app")
		refused(t, err)
		refused(t, attacker.DeleteApp(t.Context(), "link-app"))
		_, _, exists := s.fly.sim.Counts("link-app")
		assert.True(t, exists)
	})
	t.Run("an app re-created under the link's app name", func(t *testing.T) {
		require.NoError(t, owner.DeleteApp(t.Context(), "link-app"))
		require.NoError(t, untilVisible(t.Context(), func() error {
			_, err := owner.CreateApp(t.Context(), flaps.CreateAppRequest{Name: "link-app", Org: "demo-team"})
			return err
		}))
		require.NoError(t, untilVisible(t.Context(), func() error { _, err := owner.GetApp(t.Context(), "link-app"); return err }))
		_, err := attacker.GetApp(t.Context(), "link-app")
		refused(t, err)
		refused(t, attacker.DeleteApp(t.Context(), "link-app"))
		_, _, exists := s.fly.sim.Counts("link-app")
		assert.True(t, exists)
	})
}
