package flysim_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/internal/fakeclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	clock := fakeclock.At(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	open := func() (*flysim.Server, *flaps.Client, func()) {
		sim, err := flysim.New(flysim.Options{DataDir: dir, Clock: clock.Now, Token: testToken, Seed: 1, Profile: flysim.Instant()})
		require.NoError(t, err)
		srv := httptest.NewServer(sim)
		return sim, newClient(t, srv, testToken), func() {
			srv.Close()
			require.NoError(t, sim.Close())
		}
	}
	ctx := ctxT(t)

	sim, c, stop := open()
	_, err := c.CreateApp(ctx, flaps.CreateAppRequest{Name: "keep", Org: "personal"})
	require.NoError(t, err)
	pw := "persisted-password"
	_, err = c.UpdateAppSecrets(ctx, "keep", map[string]*string{"LIVEBOOK_PASSWORD": &pw})
	require.NoError(t, err)
	ip, err := c.AssignIP(ctx, "keep", flaps.AssignIPRequest{Type: "v6"})
	require.NoError(t, err)
	m, err := c.Launch(ctx, "keep", launchInput("iad"))
	require.NoError(t, err)
	clock.Advance(5 * time.Second)
	got, err := c.Get(ctx, "keep", m.ID)
	require.NoError(t, err)
	require.Equal(t, "starting", got.State)
	sim.SetCapacity("iad", true)
	stop()
	require.NoError(t, sim.Close(), "Close is idempotent")

	info, err := os.Stat(filepath.Join(dir, "flysim.json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the state file holds secret values")
	leftovers, err := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers)

	// The machine kept progressing while the simulator was down; a temp
	// file left by a crash mid-save is cleaned up.
	clock.Advance(20 * time.Second)
	stale := filepath.Join(dir, "flysim.json.tmp-123")
	require.NoError(t, os.WriteFile(stale, []byte("{half"), 0o600))
	sim, c, stop = open()
	defer stop()
	assert.NoFileExists(t, stale)
	got, err = c.Get(ctx, "keep", m.ID)
	require.NoError(t, err)
	assert.Equal(t, "started", got.State)
	assert.Equal(t, m.Config, got.Config)
	assert.Equal(t, m.InstanceID, got.InstanceID)
	secrets, err := c.ListAppSecrets(ctx, "keep", nil, false)
	require.NoError(t, err)
	require.Len(t, secrets, 1)
	ips, err := c.GetIPAssignments(ctx, "keep")
	require.NoError(t, err)
	require.Len(t, ips.IPs, 1)
	assert.Equal(t, ip.IP, ips.IPs[0].IP)
	machines, nips, exists := sim.Counts("keep")
	assert.Equal(t, 1, machines)
	assert.Equal(t, 1, nips)
	assert.True(t, exists)

	// Same seed after a restart must still give fresh IDs.
	m2, err := c.Launch(ctx, "keep", launchInput("iad"))
	require.NoError(t, err)
	assert.NotEqual(t, m.ID, m2.ID)
	assert.NotEqual(t, m.Name, m2.Name)
}

func TestPersistenceCorruptState(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"garbage", "{not json", "corrupt state file"},
		{"wrong version", `{"version": 99, "apps": {}}`, "unknown format version 99"},
		{"inconsistent app", `{"version": 1, "apps": {"a": {"name": "b"}}}`, "inconsistent"},
		{"inconsistent machine", `{"version": 1, "apps": {"a": {"name": "a", "machines": {"x": {"id": "y"}}}}}`, "inconsistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "flysim.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			_, err := flysim.New(flysim.Options{DataDir: dir})
			require.ErrorIs(t, err, flysim.ErrCorruptState)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), path)
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name string
		opts flysim.Options
	}{
		{"negative speed", flysim.Options{Speed: -1}},
		{"NaN speed", flysim.Options{Speed: math.NaN()}},
		{"token with space", flysim.Options{Token: "a b"}},
		{"data dir is a file", flysim.Options{DataDir: file}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := flysim.New(tt.opts)
			require.ErrorIs(t, err, flysim.ErrInvalidOptions)
		})
	}
	s, err := flysim.New(flysim.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// TestPersistenceGoldenState pins the state file format: a v1 file written
// by an earlier build still loads, and its machine has moved on.
func TestPersistenceGoldenState(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "state-v1.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "flysim.json"), b, 0o600))
	clock := fakeclock.At(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)) // the file was written at this instant
	clock.Advance(40 * time.Second)
	e := newEnv(t, flysim.Options{DataDir: dir, Clock: clock.Now})
	ctx := ctxT(t)

	app, err := e.client.GetApp(ctx, "golden")
	require.NoError(t, err)
	assert.Equal(t, "4835f751002f496e0a5e", app.ID)
	assert.Equal(t, "deployed", app.Status)
	secrets, err := e.client.ListAppSecrets(ctx, "golden", nil, true)
	require.NoError(t, err)
	require.Len(t, secrets, 1)
	assert.Equal(t, "ec3e1931fd8cf44e", secrets[0].Digest)
	assert.Nil(t, secrets[0].Value)
	ips, err := e.client.GetIPAssignments(ctx, "golden")
	require.NoError(t, err)
	require.Len(t, ips.IPs, 1)
	assert.Equal(t, "2a09:8280:1::8350:949c", ips.IPs[0].IP)

	m, err := e.client.Get(ctx, "golden", "ff676f2ad4db74")
	require.NoError(t, err)
	assert.Equal(t, "late-snow-5395", m.Name)
	assert.Equal(t, "fra", m.Region)
	assert.Equal(t, "started", m.State)
	require.Len(t, m.Checks, 1)
	assert.Equal(t, fly.Passing, m.Checks[0].Status)
	assert.Equal(t, 5*time.Second, m.Config.Checks["health"].GracePeriod.Duration)

	status, body := livebookLogin(t, e, "golden", "golden-password")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `data-test="livebook-ok"`)
	_, err = e.client.GetApp(ctx, "taken")
	requireFlapsError(t, err, http.StatusForbidden)
}
