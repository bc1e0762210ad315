package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/seal"
)

// manageToken returns the sealed code of the manage link of a final view.
func manageToken(t *testing.T, v view) string {
	t.Helper()
	tok, ok := strings.CutPrefix(v.Manage, "/manage#")
	require.True(t, ok, "manage link %q", v.Manage)
	require.NotEmpty(t, tok)
	return tok
}

// openManage connects as the manage page does with token ("" for none)
// and returns the connection, its result and the first view.
func openManage(t *testing.T, s *testServer, token string) (*wsClient, frame, manageView) {
	t.Helper()
	c, result := dialPath(t, s.http.URL, "/manage/resume", token, nil)
	return c, result, nextView(t, c)
}

// nextView reads frames up to the next snapshot and returns its view.
func nextView(t *testing.T, c *wsClient) manageView {
	t.Helper()
	fs := c.readUntil(func(f frame) bool { return f.T == "snapshot" })
	var v manageView
	require.NoError(t, json.Unmarshal(fs[len(fs)-1].Data, &v))
	return v
}

// viewUntil reads views until one is in state and not busy.
func viewUntil(t *testing.T, c *wsClient, state string) manageView {
	t.Helper()
	for {
		v := nextView(t, c)
		require.Empty(t, v.Error)
		if v.State == state && !v.Busy {
			return v
		}
	}
}

// TestManageLinkInSummary: a finished launch's summary gives a manage
// link: a blob sealed for the manage purpose, valid 30 days, holding the
// launch's identity and never the password. It does not open as a launch
// blob.
func TestManageLinkInSummary(t *testing.T) {
	s := newTestServer(t, 100, 0)
	_, done := launchToDone(t, s, "linked-app")
	require.Equal(t, phaseDone, done.Phase)
	tok := manageToken(t, done)
	assert.NotContains(t, tok, done.Password)
	assert.Equal(t, time.Now().Add(manageMaxAge).Format("2 January 2006"), done.ManageUntil)

	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	var doc []byte
	require.NoError(t, sealer.Decrypt(manageKey, tok, &doc))
	assert.NotContains(t, string(doc), done.Password, "the password is not in the link")
	var env struct {
		State manageState `json:"state"`
	}
	require.NoError(t, json.Unmarshal(doc, &env))
	st := env.State
	assert.Equal(t, "linked-app", st.App)
	assert.Len(t, st.LaunchID, 32)
	assert.NotEmpty(t, st.MachineID)
	assert.True(t, strings.HasPrefix(st.VolumeID, "vol_"))
	assert.True(t, st.AppCreated, "what Delete needs to delete the app")
	assert.Empty(t, st.Org)
	for days, want := range map[int]error{29: nil, 31: seal.ErrExpired} {
		later, err := seal.New([]byte(testKeyBase), seal.WithClock(func() time.Time { return time.Now().AddDate(0, 0, days) }))
		require.NoError(t, err)
		assert.ErrorIs(t, later.Decrypt(manageKey, tok, &doc), want, "%d days on", days)
	}

	_, result := s.connect(t, tok)
	assert.Equal(t, "invalid", result.Status, "a manage link is no launch blob")
	assert.NotContains(t, s.logs.String(), tok, "the link is not logged")
}

// TestManageStopStartDelete drives a Livebook from its manage link over
// the manage page's protocol: Stop, Start, then Delete, which needs its
// confirmation; the simulator then holds nothing of the launch.
func TestManageStopStartDelete(t *testing.T) {
	s := newTestServer(t, 100, 0)
	_, done := launchToDone(t, s, "managed-app")
	c, result, v := openManage(t, s, manageToken(t, done))
	require.Equal(t, "resumed", result.Status)
	assert.Contains(t, []string{"running", "stopped"}, v.State)
	assert.Equal(t, "managed-app", v.App)
	assert.Equal(t, "/flysim/livebook/managed-app/", v.URL)

	r := c.action("stop", nil)
	require.True(t, r.OK, r.Error)
	viewUntil(t, c, "stopped")
	r = c.action("start", nil)
	require.True(t, r.OK, r.Error)
	viewUntil(t, c, "running")

	r = c.action("delete", nil)
	assert.False(t, r.OK)
	assert.Equal(t, sentence(errNotConfirmed.Error()), r.Error)
	r = c.action("delete", map[string]string{"confirm": "another-app"})
	assert.False(t, r.OK, "the confirmation names the app")
	r = c.action("delete", map[string]string{"confirm": "managed-app"})
	require.True(t, r.OK, r.Error)
	v = viewUntil(t, c, "gone")
	assert.Contains(t, v.Message, "Deleted")
	machines, ips, exists := s.fly.sim.Counts("managed-app")
	assert.False(t, exists)
	assert.Zero(t, machines+ips+s.fly.sim.VolumeCount("managed-app"))

	// The link still opens, and says so.
	_, _, v = openManage(t, s, manageToken(t, done))
	assert.Equal(t, "gone", v.State)
	assert.NotContains(t, s.logs.String(), done.Password)
}

// TestManageBadLinks: a tampered, foreign, expired or misdirected manage
// link opens with a clear message, and no action it asks for reaches Fly.
func TestManageBadLinks(t *testing.T) {
	s := newTestServer(t, 100, 0)
	blob, done := launchToDone(t, s, "guarded-app")
	good := manageToken(t, done)
	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	st := manageState{
		Record: flylaunch.Record{LaunchID: strings.Repeat("ab", 16), App: "guarded-app", Region: "ams", MachineID: "e784079b449483", AppCreated: true},
		Issued: time.Now().Add(-31 * 24 * time.Hour),
	}
	foreign := st
	foreign.Org, foreign.Issued = "someone-else", time.Now()
	tests := []struct {
		name, token, status, message string
	}{
		{"tampered", tamperToken(good), "invalid", "not valid"},
		{"garbage", "XCP.garbage", "invalid", "not valid"},
		{"another org", sealLink(t, sealer, foreign), "invalid", "not valid"},
		{"a launch blob", blob, "invalid", "not valid"},
		{"expired", sealLink(t, sealer, st, seal.SignedAt(st.Issued)), "expired", "expired"},
		{"none", "", "fresh", "Open that link"},
	}
	before := s.fly.sim.Calls()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, result, v := openManage(t, s, tt.token)
			assert.Equal(t, tt.status, result.Status)
			assert.Contains(t, v.Error, tt.message)
			assert.Empty(t, v.State)
			for _, name := range []string{"stop", "start", "delete"} {
				r := c.action(name, map[string]string{"confirm": "guarded-app"})
				assert.False(t, r.OK)
				assert.Equal(t, sentence(errNothingToManage.Error()), r.Error)
			}
		})
	}
	assert.Equal(t, before, s.fly.sim.Calls(), "no call reached Fly")
}

// tamperToken flips one character in the middle of tok.
func tamperToken(tok string) string {
	mid := len(tok) / 2
	c := byte('A')
	if tok[mid] == 'A' {
		c = 'B'
	}
	return tok[:mid] + string(c) + tok[mid+1:]
}

// TestManageActionsAreRateLimited: every action costs what a launch costs
// (a token of the client's launch bucket), and one action at a time runs
// on a Livebook.
func TestManageActionsAreRateLimited(t *testing.T) {
	s := newTestServer(t, 100, 0)
	_, done := launchToDone(t, s, "limited-app") // the first token
	c, _, _ := openManage(t, s, manageToken(t, done))
	for i, name := range []string{"stop", "start", "stop", "start"} {
		r := c.action(name, nil)
		require.True(t, r.OK, "action %d: %s", i, r.Error)
		if i == 0 {
			r2 := c.action("start", nil)
			assert.Equal(t, sentence(errChangeUnderWay.Error()), r2.Error, "one change at a time")
		}
		viewUntil(t, c, map[string]string{"stop": "stopped", "start": "running"}[name])
	}
	before := s.fly.sim.Calls()
	r := c.action("stop", nil)
	assert.False(t, r.OK)
	assert.Equal(t, sentence(errRateLimited.Error()), r.Error)
	assert.Equal(t, before, s.fly.sim.Calls(), "a refused action calls nothing")
	assert.Equal(t, http.StatusOK, loginStandIn(t, s, "limited-app", done.Password))
}

// loginStandIn posts password to the launcher's in-process stand-in
// Livebook of app and returns the status.
func loginStandIn(t *testing.T, s *testServer, app, password string) int {
	t.Helper()
	res, err := http.PostForm(s.http.URL+"/flysim/livebook/"+app+"/", map[string][]string{"password": {password}})
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	return res.StatusCode
}

// TestManageViewsAreRateLimited: every manage page that opens reads Fly,
// so opening one is charged to the client's view bucket (viewBurst at
// once); beyond it the page is told to wait, and Fly is not asked.
func TestManageViewsAreRateLimited(t *testing.T) {
	s := newTestServer(t, 100, 0)
	_, done := launchToDone(t, s, "viewed-app")
	tok := manageToken(t, done)
	for i := range viewBurst {
		c, _, v := openManage(t, s, tok)
		require.Empty(t, v.Error, "open %d", i)
		c.conn.CloseNow()
	}
	before := s.fly.sim.Calls()
	_, _, v := openManage(t, s, tok)
	assert.Contains(t, v.Error, "Too many requests")
	assert.Empty(t, v.State)
	assert.Equal(t, before, s.fly.sim.Calls(), "a refused page reads nothing")
}
