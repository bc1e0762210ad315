package flysim_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// requireFlapsError asserts err wraps a *flaps.FlapsError with status and a
// request ID, returning it.
func requireFlapsError(t *testing.T, err error, status int) *flaps.FlapsError {
	t.Helper()
	require.Error(t, err)
	var fe *flaps.FlapsError
	require.True(t, errors.As(err, &fe), "want *flaps.FlapsError, got %T: %v", err, err)
	assert.Equal(t, status, fe.ResponseStatusCode, "body: %s", fe.ResponseBody)
	assert.NotEmpty(t, fe.FlyRequestId)
	return fe
}

func TestConformanceApps(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)

	created, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "lb-one", Org: "personal"})
	require.NoError(t, err)
	assert.Equal(t, "lb-one", created.Name)
	assert.NotEmpty(t, created.ID)
	assert.Equal(t, "personal", created.Organization.Slug)
	assert.Equal(t, "default", created.Network)
	assert.Equal(t, "pending", created.Status)

	got, err := e.client.GetApp(ctx, "lb-one")
	require.NoError(t, err)
	assert.Equal(t, created, got)

	_, err = e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "lb-one", Org: "personal"})
	fe := requireFlapsError(t, err, http.StatusUnprocessableEntity)
	assert.Contains(t, fe.Error(), "already been taken")

	_, err = e.client.GetApp(ctx, "nope")
	fe = requireFlapsError(t, err, http.StatusNotFound)
	assert.Equal(t, "app not found", fe.Error())
	assert.ErrorIs(t, err, flaps.ErrFlapsNotFound)

	e.sim.ReserveName("someone-elses")
	_, err = e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "someone-elses", Org: "personal"})
	requireFlapsError(t, err, http.StatusUnprocessableEntity)
	_, err = e.client.GetApp(ctx, "someone-elses")
	fe = requireFlapsError(t, err, http.StatusForbidden)
	assert.Equal(t, "unauthorized", fe.Error(), "Fly's body for another organization's app")

	require.NoError(t, e.client.DeleteApp(ctx, "lb-one"))
	_, _, exists := e.sim.Counts("lb-one")
	assert.False(t, exists)
	_, err = e.client.GetApp(ctx, "lb-one")
	requireFlapsError(t, err, http.StatusNotFound)
}

func TestConformanceUnauthorized(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	for name, tok := range map[string]string{"wrong token": "not-the-token", "no token": ""} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, e.srv, tok)
			_, err := c.GetApp(ctx, "any")
			fe := requireFlapsError(t, err, http.StatusUnauthorized)
			assert.Equal(t, "unauthorized", fe.Error())
		})
	}
}

func TestConformanceTokens(t *testing.T) {
	tests := []struct {
		name, want, sent string
		ok               bool
	}{
		{"any token when unset", "", "whatever", true},
		{"no token when unset", "", "", false},
		{"macaroon with FlyV1 scheme", "fm2_abc,fm2_def", "fm2_abc,fm2_def", true},
		{"other macaroon", "fm2_abc,fm2_def", "fm2_abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, err := flysim.New(flysim.Options{Token: tt.want, Profile: flysim.Instant()})
			require.NoError(t, err)
			srv := httptest.NewServer(sim)
			defer func() {
				srv.Close()
				require.NoError(t, sim.Close())
			}()
			_, err = newClient(t, srv, tt.sent).GetApp(ctxT(t), "x")
			if tt.ok {
				requireFlapsError(t, err, http.StatusNotFound)
			} else {
				requireFlapsError(t, err, http.StatusUnauthorized)
			}
		})
	}
}

func TestConformanceSecrets(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "sec", Org: "personal"})
	require.NoError(t, err)

	pw, other := "hunter2-very-secret", "another-secret-value"
	up, err := e.client.UpdateAppSecrets(ctx, "sec", map[string]*string{"LIVEBOOK_PASSWORD": &pw, "OTHER": &other})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), up.Version)
	require.Len(t, up.Secrets, 2)
	assert.Equal(t, "LIVEBOOK_PASSWORD", up.Secrets[0].Name)
	assert.Equal(t, "OTHER", up.Secrets[1].Name)
	for _, s := range up.Secrets {
		assert.Nil(t, s.Value)
		assert.NotEmpty(t, s.Digest)
		assert.NotNil(t, s.CreatedAt)
	}
	assert.NotEqual(t, up.Secrets[0].Digest, up.Secrets[1].Digest)

	list, err := e.client.ListAppSecrets(ctx, "sec", nil, true)
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, s := range list {
		assert.Nil(t, s.Value, "show_secrets must not reveal values")
	}

	set, err := e.client.SetAppSecret(ctx, "sec", "THIRD", "third-value")
	require.NoError(t, err)
	assert.Equal(t, uint64(2), set.Version)
	assert.Equal(t, "THIRD", set.Name)
	assert.Nil(t, set.Value)

	one, err := e.client.GetAppSecrets(ctx, "sec", "THIRD", nil, true)
	require.NoError(t, err)
	assert.Nil(t, one.Value)
	assert.Equal(t, set.Digest, one.Digest)

	del, err := e.client.DeleteAppSecret(ctx, "sec", "OTHER")
	require.NoError(t, err)
	assert.Equal(t, uint64(3), del.Version)
	_, err = e.client.DeleteAppSecret(ctx, "sec", "OTHER")
	requireFlapsError(t, err, http.StatusNotFound)

	up, err = e.client.UpdateAppSecrets(ctx, "sec", map[string]*string{"THIRD": nil})
	require.NoError(t, err)
	assert.Equal(t, uint64(4), up.Version)
	require.Len(t, up.Secrets, 1)
	assert.Equal(t, "LIVEBOOK_PASSWORD", up.Secrets[0].Name)

	_, err = e.client.UpdateAppSecrets(ctx, "missing-app", map[string]*string{"A": &pw})
	requireFlapsError(t, err, http.StatusNotFound)

	// No API response ever carries a value, even with show_secrets.
	for _, path := range []string{
		"/v1/apps/sec/secrets?show_secrets=true",
		"/v1/apps/sec/secrets/LIVEBOOK_PASSWORD?show_secrets=true",
	} {
		_, body := e.rawDo(t, http.MethodGet, path, "", nil)
		assert.NotContains(t, body, pw)
	}
	_, body := e.rawDo(t, http.MethodPost, "/v1/apps/sec/secrets", `{"values":{"X":"`+pw+`"}}`, nil)
	assert.NotContains(t, body, pw)
	_, body = e.rawDo(t, http.MethodPost, "/v1/apps/sec/secrets/Y", `{"value":"`+pw+`"}`, nil)
	assert.NotContains(t, body, pw)
}

func TestConformanceIPs(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "ips", Org: "personal"})
	require.NoError(t, err)

	v6, err := e.client.AssignIP(ctx, "ips", flaps.AssignIPRequest{Type: "v6"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(v6.IP, "2a09:"), v6.IP)
	assert.False(t, v6.Shared)
	assert.Equal(t, "global", v6.Region)

	v4, err := e.client.AssignIP(ctx, "ips", flaps.AssignIPRequest{Type: "shared_v4"})
	require.NoError(t, err)
	assert.True(t, v4.Shared)
	assert.True(t, strings.HasPrefix(v4.IP, "66.241."), v4.IP)

	_, err = e.client.AssignIP(ctx, "ips", flaps.AssignIPRequest{Type: "shared_v4"})
	requireFlapsError(t, err, http.StatusUnprocessableEntity)
	_, err = e.client.AssignIP(ctx, "ips", flaps.AssignIPRequest{Type: "bogus"})
	requireFlapsError(t, err, http.StatusBadRequest)

	list, err := e.client.GetIPAssignments(ctx, "ips")
	require.NoError(t, err)
	require.Len(t, list.IPs, 2)
	assert.Equal(t, v6.IP, list.IPs[0].IP)
	assert.True(t, v6.CreatedAt.Equal(list.IPs[0].CreatedAt))
	assert.Equal(t, v4.IP, list.IPs[1].IP)
	_, ips, _ := e.sim.Counts("ips")
	assert.Equal(t, 2, ips)

	require.NoError(t, e.client.DeleteIPAssignment(ctx, "ips", v6.IP))
	requireFlapsError(t, e.client.DeleteIPAssignment(ctx, "ips", v6.IP), http.StatusNotFound)
	list, err = e.client.GetIPAssignments(ctx, "ips")
	require.NoError(t, err)
	require.Len(t, list.IPs, 1)
}

func launchInput(region string) fly.LaunchMachineInput {
	port := 8080
	typ := "http"
	path := "/public/health"
	return fly.LaunchMachineInput{
		Region: region,
		Config: &fly.MachineConfig{
			Image:    "ghcr.io/livebook-dev/livebook:0.14.5",
			Env:      map[string]string{"LIVEBOOK_PORT": "8080"},
			Metadata: map[string]string{"sealkit_launch": "abc123", "fly_process_group": "app"},
			Guest:    &fly.MachineGuest{CPUKind: "shared", CPUs: 1, MemoryMB: 1024},
			Checks: map[string]fly.MachineCheck{
				"health": {Port: &port, Type: &typ, HTTPPath: &path, GracePeriod: &fly.Duration{Duration: 5 * time.Second}},
			},
		},
	}
}

func TestConformanceMachines(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "mach", Org: "personal"})
	require.NoError(t, err)
	pw := "pw"
	up, err := e.client.UpdateAppSecrets(ctx, "mach", map[string]*string{"LIVEBOOK_PASSWORD": &pw})
	require.NoError(t, err)

	in := launchInput("fra")
	in.MinSecretsVersion = &up.Version
	m, err := e.client.Launch(ctx, "mach", in)
	require.NoError(t, err)
	assert.Len(t, m.ID, 14)
	assert.NotEmpty(t, m.Name)
	assert.Equal(t, "fra", m.Region)
	assert.Equal(t, "created", m.State)
	assert.Equal(t, in.Config.Image, m.Config.Image)
	assert.Equal(t, in.Config.Env, m.Config.Env)
	assert.Equal(t, in.Config.Metadata, m.Config.Metadata)
	assert.Equal(t, 1024, m.Config.Guest.MemoryMB)
	assert.Equal(t, "ghcr.io", m.ImageRef.Registry)
	assert.Equal(t, "livebook-dev/livebook", m.ImageRef.Repository)
	assert.Equal(t, "0.14.5", m.ImageRef.Tag)
	assert.NotEmpty(t, m.InstanceID)
	assert.Equal(t, m.InstanceID, m.Version)
	assert.True(t, strings.HasPrefix(m.PrivateIP, "fdaa:"), m.PrivateIP)
	assert.Equal(t, fly.HostStatusOk, m.HostStatus)

	got, err := e.client.Get(ctx, "mach", m.ID)
	require.NoError(t, err)
	assert.Equal(t, m.ID, got.ID)
	assert.Equal(t, m.Name, got.Name)
	assert.Equal(t, m.Config, got.Config)

	_, err = e.client.Get(ctx, "mach", "0000000000dead")
	fe := requireFlapsError(t, err, http.StatusNotFound)
	assert.Equal(t, "machine not found", fe.Error())

	second, err := e.client.Launch(ctx, "mach", fly.LaunchMachineInput{Region: "ams", Config: &fly.MachineConfig{
		Image: "nginx", Metadata: map[string]string{"sealkit_launch": "other"},
	}})
	require.NoError(t, err)
	assert.Equal(t, "docker-hub-mirror.fly.io", second.ImageRef.Registry)
	assert.Equal(t, "library/nginx", second.ImageRef.Repository)
	assert.Equal(t, "latest", second.ImageRef.Tag)

	all, err := e.client.List(ctx, "mach", "")
	require.NoError(t, err)
	assert.Len(t, all, 2)
	filtered, err := e.client.List(ctx, "mach", "metadata.sealkit_launch=abc123")
	require.NoError(t, err)
	require.Len(t, filtered, 1)
	assert.Equal(t, m.ID, filtered[0].ID)
	none, err := e.client.List(ctx, "mach", "metadata.sealkit_launch=zzz")
	require.NoError(t, err)
	assert.Empty(t, none)
	byRegion, err := e.client.List(ctx, "mach", "region=ams")
	require.NoError(t, err)
	require.Len(t, byRegion, 1)
	assert.Equal(t, second.ID, byRegion[0].ID)
	for _, q := range []string{"state=created", "created", "state=started,created&region=fra"} {
		byState, err := e.client.List(ctx, "mach", q)
		require.NoError(t, err, q)
		assert.Len(t, byState, map[string]int{"state=created": 2, "created": 2, "state=started,created&region=fra": 1}[q], q)
	}
	started, err := e.client.List(ctx, "mach", "state=started")
	require.NoError(t, err)
	assert.Empty(t, started)
	active, err := e.client.ListActive(ctx, "mach")
	require.NoError(t, err)
	assert.Len(t, active, 2)

	// Wait succeeds once the clock has moved past the start.
	e.clock.Advance(25 * time.Second)
	require.NoError(t, e.client.Wait(ctx, "mach", m.ID, flaps.WithWaitStates("started"), flaps.WithWaitTimeout(time.Second)))
	got, err = e.client.Get(ctx, "mach", m.ID)
	require.NoError(t, err)
	assert.Equal(t, "started", got.State)
	require.Len(t, got.Checks, 1)
	assert.Equal(t, "health", got.Checks[0].Name)
	assert.Equal(t, fly.ConsulCheckStatus("critical"), got.Checks[0].Status)

	// Destroy of a running machine needs kill/force.
	err = e.client.Destroy(ctx, "mach", fly.RemoveMachineInput{ID: m.ID}, "")
	requireFlapsError(t, err, http.StatusPreconditionFailed)
	require.NoError(t, e.client.Destroy(ctx, "mach", fly.RemoveMachineInput{ID: m.ID, Kill: true}, ""))
	got, err = e.client.Get(ctx, "mach", m.ID)
	require.NoError(t, err)
	assert.Equal(t, "destroying", got.State)
	e.clock.Advance(2 * time.Second)
	require.NoError(t, e.client.Wait(ctx, "mach", m.ID, flaps.WithWaitStates("destroyed"), flaps.WithWaitTimeout(time.Second)))
	all, err = e.client.List(ctx, "mach", "")
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, second.ID, all[0].ID)
	machines, _, _ := e.sim.Counts("mach")
	assert.Equal(t, 1, machines)

	// Kill stops the other one; then plain destroy works.
	require.NoError(t, e.client.Kill(ctx, "mach", second.ID))
	got, err = e.client.Get(ctx, "mach", second.ID)
	require.NoError(t, err)
	assert.Equal(t, "stopped", got.State)
	require.NoError(t, e.client.Destroy(ctx, "mach", fly.RemoveMachineInput{ID: second.ID}, ""))
}

func TestConformanceLaunchErrors(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "errs", Org: "personal"})
	require.NoError(t, err)
	future := uint64(7)
	noImage := launchInput("iad")
	noImage.Config.Image = ""
	tooNew := launchInput("iad")
	tooNew.MinSecretsVersion = &future
	tests := []struct {
		name   string
		app    string
		in     fly.LaunchMachineInput
		status int
		want   string
	}{
		{"unknown app", "ghost", launchInput("iad"), http.StatusNotFound, "app not found"},
		{"missing image", "errs", noImage, http.StatusBadRequest, "image is required"},
		{"bad region", "errs", launchInput("Frankfurt"), http.StatusBadRequest, "unknown region"},
		{"secrets version not yet there", "errs", tooNew, http.StatusUnprocessableEntity, "secrets version 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.Launch(ctx, tt.app, tt.in)
			fe := requireFlapsError(t, err, tt.status)
			assert.Contains(t, fe.Error(), tt.want)
		})
	}
	t.Run("no capacity", func(t *testing.T) {
		e.sim.SetCapacity("syd", false)
		_, err := e.client.Launch(ctx, "errs", launchInput("syd"))
		fe := requireFlapsError(t, err, http.StatusPreconditionFailed)
		require.NotNil(t, fe.StatusCode())
		assert.Equal(t, flaps.StatusCode("insufficient_capacity"), *fe.StatusCode())
		assert.NotEmpty(t, fe.Suggestion())
		e.sim.SetCapacity("syd", true)
		_, err = e.client.Launch(ctx, "errs", launchInput("syd"))
		require.NoError(t, err)
	})
}

// testWait408: a wait whose timeout passes first answers 408; a wait on a
// machine that does not exist, 404.
func testWait408(t *testing.T) {
	e := newEnv(t, flysim.Options{Speed: 50})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "wt", Org: "personal"})
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "wt", launchInput("iad"))
	require.NoError(t, err)
	// The fake clock never moves, so the machine never starts.
	err = e.client.Wait(ctx, "wt", m.ID, flaps.WithWaitStates("started"), flaps.WithWaitTimeout(time.Second))
	fe := requireFlapsError(t, err, http.StatusRequestTimeout)
	assert.Contains(t, fe.Error(), "deadline_exceeded")

	err = e.client.Wait(ctx, "wt", "00000000000000")
	requireFlapsError(t, err, http.StatusNotFound)
}

func TestConformanceMetadata(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "meta", Org: "personal"})
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "meta", launchInput("iad"))
	require.NoError(t, err)

	require.NoError(t, e.client.SetMetadata(ctx, "meta", m.ID, "owner", "alice"))
	md, err := e.client.GetMetadata(ctx, "meta", m.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"sealkit_launch": "abc123", "fly_process_group": "app", "owner": "alice"}, md)

	byOwner, err := e.client.List(ctx, "meta", "metadata.owner=alice")
	require.NoError(t, err)
	require.Len(t, byOwner, 1)

	require.NoError(t, e.client.DeleteMetadata(ctx, "meta", m.ID, "owner"))
	md, err = e.client.GetMetadata(ctx, "meta", m.ID)
	require.NoError(t, err)
	assert.NotContains(t, md, "owner")
	requireFlapsError(t, e.client.DeleteMetadata(ctx, "meta", m.ID, "owner"), http.StatusNotFound)
	got, err := e.client.Get(ctx, "meta", m.ID)
	require.NoError(t, err)
	assert.NotContains(t, got.Config.Metadata, "owner")
}

func TestConformanceLeases(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "lease", Org: "personal"})
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "lease", launchInput("iad"))
	require.NoError(t, err)

	_, err = e.client.FindLease(ctx, "lease", m.ID)
	requireFlapsError(t, err, http.StatusNotFound)

	ttl := 60
	l, err := e.client.AcquireLease(ctx, "lease", m.ID, &ttl)
	require.NoError(t, err)
	require.NotNil(t, l.Data)
	assert.Equal(t, "success", l.Status)
	assert.NotEmpty(t, l.Data.Nonce)
	assert.Equal(t, "flysim@example.com", l.Data.Owner)
	assert.Equal(t, e.clock.Now().Add(60*time.Second).Unix(), l.Data.ExpiresAt)
	assert.NotEmpty(t, l.Data.Version)

	found, err := e.client.FindLease(ctx, "lease", m.ID)
	require.NoError(t, err)
	assert.Equal(t, l.Data, found.Data)

	// Mutations without the nonce are refused while leased.
	err = e.client.SetMetadata(ctx, "lease", m.ID, "k", "v")
	fe := requireFlapsError(t, err, http.StatusConflict)
	assert.Contains(t, fe.Error(), "leased")
	_, err = e.client.RefreshLease(ctx, "lease", m.ID, &ttl, "wrong-nonce")
	requireFlapsError(t, err, http.StatusConflict)
	requireFlapsError(t, e.client.ReleaseLease(ctx, "lease", m.ID, "wrong-nonce"), http.StatusConflict)

	e.clock.Advance(30 * time.Second)
	ttl2 := 120
	r, err := e.client.RefreshLease(ctx, "lease", m.ID, &ttl2, l.Data.Nonce)
	require.NoError(t, err)
	assert.Equal(t, l.Data.Nonce, r.Data.Nonce)
	assert.Equal(t, e.clock.Now().Add(120*time.Second).Unix(), r.Data.ExpiresAt)

	// The nonce holder may mutate (fly-go's Destroy sends the nonce).
	require.NoError(t, e.client.Destroy(ctx, "lease", fly.RemoveMachineInput{ID: m.ID, Kill: true}, l.Data.Nonce))

	m2, err := e.client.Launch(ctx, "lease", launchInput("iad"))
	require.NoError(t, err)
	l2, err := e.client.AcquireLease(ctx, "lease", m2.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, e.clock.Now().Add(30*time.Second).Unix(), l2.Data.ExpiresAt, "default TTL")
	require.NoError(t, e.client.ReleaseLease(ctx, "lease", m2.ID, l2.Data.Nonce))
	_, err = e.client.FindLease(ctx, "lease", m2.ID)
	requireFlapsError(t, err, http.StatusNotFound)
	require.NoError(t, e.client.SetMetadata(ctx, "lease", m2.ID, "k", "v"))

	// An expired lease no longer blocks anyone.
	l3, err := e.client.AcquireLease(ctx, "lease", m2.ID, &ttl)
	require.NoError(t, err)
	assert.NotEqual(t, l2.Data.Nonce, l3.Data.Nonce)
	e.clock.Advance(61 * time.Second)
	_, err = e.client.FindLease(ctx, "lease", m2.ID)
	requireFlapsError(t, err, http.StatusNotFound)
	require.NoError(t, e.client.SetMetadata(ctx, "lease", m2.ID, "k", "w"))

	// Launch with lease_ttl hands back the nonce.
	in := launchInput("iad")
	in.LeaseTTL = 10
	m3, err := e.client.Launch(ctx, "lease", in)
	require.NoError(t, err)
	require.NotEmpty(t, m3.LeaseNonce)
	found, err = e.client.FindLease(ctx, "lease", m3.ID)
	require.NoError(t, err)
	assert.Equal(t, m3.LeaseNonce, found.Data.Nonce)
}

// testDestroyForce: a running machine is destroyed only with force (or
// fly-go's kill).
func testDestroyForce(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "force", Org: "personal"})
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "force", launchInput("iad"))
	require.NoError(t, err)
	res, body := e.rawDo(t, http.MethodDelete, "/v1/apps/force/machines/"+m.ID+"?force=false", "", nil)
	assert.Equal(t, http.StatusPreconditionFailed, res.StatusCode, body)
	res, body = e.rawDo(t, http.MethodDelete, "/v1/apps/force/machines/"+m.ID+"?force=true", "", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.JSONEq(t, `{"ok":true}`, body)
	machines, _, _ := e.sim.Counts("force")
	assert.Zero(t, machines)
	deleted, err := e.client.List(ctx, "force", "include_deleted=true")
	require.NoError(t, err)
	require.Len(t, deleted, 1)
	assert.False(t, deleted[0].IsActive())
}

func TestErrorShape(t *testing.T) {
	prof := flysim.Realistic()
	prof.AppUnauthorizedRate = 0 // a new app answers 404 here; 401 is testAppPropagation's
	// The table sends a dozen creates in one simulated instant, which Fly
	// answers 429 past the third (testRateLimits shows that shape); here
	// every other shape is checked.
	prof.RateLimits = false
	e := newEnv(t, flysim.Options{Profile: prof})
	ctx := ctxT(t)
	e.sim.ReserveName("theirs")
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "mine", Org: "personal"})
	require.NoError(t, err)
	e.clock.Advance(10 * time.Second)
	for region, how := range map[string]flysim.NoCapacity{
		"cap": flysim.InsufficientCapacity, "mem": flysim.InsufficientMemory, "res": flysim.InsufficientResources,
		"quo": flysim.OverQuota, "una": flysim.Unavailable503, "bad": flysim.BadGateway502,
	} {
		e.sim.SetNoCapacity(region, how)
	}
	launch := func(region string) string { return `{"region":"` + region + `","config":{"image":"nginx"}}` }
	_, err = e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "fresh", Org: "personal"})
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "mine", livebookMachine())
	require.NoError(t, err)
	tests := []struct {
		method, path, body string
		status             int
		code               string // Fly's "status" field, if any
	}{
		{http.MethodGet, "/v1/apps/nope", "", http.StatusNotFound, ""},
		{http.MethodPost, "/v1/apps", "{", http.StatusBadRequest, ""},
		{http.MethodPost, "/v1/apps", `{"name":"Bad_Name","org_slug":"personal"}`, http.StatusUnprocessableEntity, ""},
		{http.MethodPost, "/v1/apps", `{"name":"ok"}`, http.StatusBadRequest, ""},
		{http.MethodGet, "/v1/nothing/here", "", http.StatusNotFound, ""},
		{http.MethodGet, "/v1/apps", "", http.StatusBadRequest, ""},
		{http.MethodPost, "/v1/apps", `{"name":"theirs","org_slug":"personal"}`, http.StatusUnprocessableEntity, "name_taken"},
		{http.MethodPost, "/v1/apps", `{"name":"mine","org_slug":"personal"}`, http.StatusUnprocessableEntity, "name_taken"},
		{http.MethodGet, "/v1/apps/theirs", "", http.StatusForbidden, ""},
		{http.MethodGet, "/v1/apps/fresh/secrets", "", http.StatusNotFound, ""},
		{http.MethodGet, "/v1/apps/mine/machines/" + m.ID, "", http.StatusNotFound, ""},
		{http.MethodGet, "/v1/apps/mine/machines/" + m.ID + "/wait?state=started", "", http.StatusNotFound, ""},
		{http.MethodPost, "/v1/apps/mine/machines", launch("cap"), http.StatusPreconditionFailed, "insufficient_capacity"},
		{http.MethodPost, "/v1/apps/mine/machines", launch("mem"), http.StatusConflict, ""},
		{http.MethodPost, "/v1/apps/mine/machines", launch("res"), http.StatusPreconditionFailed, ""},
		{http.MethodPost, "/v1/apps/mine/machines", launch("quo"), http.StatusForbidden, ""},
		{http.MethodPost, "/v1/apps/mine/machines", launch("una"), http.StatusServiceUnavailable, ""},
		{http.MethodPost, "/v1/apps/mine/machines", launch("bad"), http.StatusBadGateway, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.body, func(t *testing.T) {
			res, body := e.rawDo(t, tt.method, tt.path, tt.body, nil)
			assert.Equal(t, tt.status, res.StatusCode, body)
			assert.NotEmpty(t, res.Header.Get("Fly-Request-Id"))
			assert.Equal(t, "application/json; charset=utf-8", res.Header.Get("Content-Type"))
			var shape struct{ Error, Status string }
			require.NoError(t, json.Unmarshal([]byte(body), &shape), body)
			assert.NotEmpty(t, shape.Error)
			assert.Equal(t, tt.code, shape.Status)
		})
	}
	res, _ := e.rawDo(t, http.MethodGet, "/v1/apps/nope", "", nil)
	res2, _ := e.rawDo(t, http.MethodGet, "/v1/apps/nope", "", nil)
	assert.NotEqual(t, res.Header.Get("Fly-Request-Id"), res2.Header.Get("Fly-Request-Id"))
}

func TestListApps(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	for _, a := range []flaps.CreateAppRequest{{Name: "b", Org: "o1"}, {Name: "a", Org: "o1"}, {Name: "c", Org: "o2"}} {
		_, err := e.client.CreateApp(ctx, a)
		require.NoError(t, err)
	}
	apps, err := e.client.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: "o1"})
	require.NoError(t, err)
	require.Len(t, apps, 2)
	assert.Equal(t, "a", apps[0].Name)
	assert.Equal(t, "b", apps[1].Name)
}

// TestConformanceRealistic runs a whole Livebook launch and teardown
// through fly-go against the realistic profile, the way a client that
// copes with Fly must: WaitForApp after the create, /wait retried on 404,
// checks polled, the machine list polled until it shows the launch. Every
// answer decodes into fly-go's types; fake time (testing/synctest) makes
// the windows free.
func TestConformanceRealistic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim, c := newBubbleEnv(t, flysim.Options{Profile: flysim.Realistic(), Seed: 9})
		ctx := t.Context()
		poll := func(what string, done func() (bool, error)) {
			t.Helper()
			for range 600 {
				ok, err := done()
				require.NoError(t, err, what)
				if ok {
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
			t.Fatalf("%s: never", what)
		}
		notFound := func(err error) (bool, error) {
			if statusOf(t, err) == http.StatusNotFound {
				return false, nil
			}
			return err == nil, err
		}

		app, err := c.CreateApp(ctx, flaps.CreateAppRequest{Name: "real", Org: flysim.PersonalOrgRawSlug})
		require.NoError(t, err)
		assert.Equal(t, "personal", app.Organization.Slug)
		require.NoError(t, c.WaitForApp(ctx, "real"))
		secrets, err := c.UpdateAppSecrets(ctx, "real", map[string]*string{"LIVEBOOK_PASSWORD": &[]string{goodPassword}[0]})
		require.NoError(t, err)
		for _, typ := range []string{"v6", "shared_v4"} {
			_, err = c.AssignIP(ctx, "real", flaps.AssignIPRequest{Type: typ})
			require.NoError(t, err)
		}
		in := livebookMachine()
		in.MinSecretsVersion = &secrets.Version
		m, err := c.Launch(ctx, "real", in)
		require.NoError(t, err)
		assert.Equal(t, "created", m.State)

		poll("wait started", func() (bool, error) {
			return notFound(c.Wait(ctx, "real", m.ID, flaps.WithWaitStates("started"), flaps.WithWaitTimeout(60*time.Second)))
		})
		poll("checks passing", func() (bool, error) {
			got, err := c.Get(ctx, "real", m.ID)
			return err == nil && got.AllHealthChecks().AllPassing(), err
		})
		poll("listed by launch ID", func() (bool, error) {
			list, err := c.List(ctx, "real", "metadata.sealkit_launch=abc123")
			return len(list) == 1, err
		})
		poll("the edge routes to the app", func() (bool, error) {
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/livebook/real/public/health", nil))
			return rec.Code == http.StatusOK, nil
		})
		req := httptest.NewRequest(http.MethodPost, "/livebook/real/", stringsReader("password="+goodPassword))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusOK, rec.Code, "the stand-in Livebook takes the password")

		require.NoError(t, c.Suspend(ctx, "real", m.ID, ""))
		require.NoError(t, c.Wait(ctx, "real", m.ID, flaps.WithWaitStates("suspended"), flaps.WithWaitTimeout(10*time.Second)))
		res, err := c.Start(ctx, "real", m.ID, "")
		require.NoError(t, err)
		assert.Equal(t, "suspended", res.PreviousState)
		require.NoError(t, c.Wait(ctx, "real", m.ID, flaps.WithWaitStates("started"), flaps.WithWaitTimeout(60*time.Second)))
		require.NoError(t, c.Stop(ctx, "real", fly.StopMachineInput{ID: m.ID}, ""))
		got, err := c.Get(ctx, "real", m.ID)
		require.NoError(t, err)
		require.NoError(t, c.Wait(ctx, "real", m.ID, flaps.WithWaitStates("stopped"), flaps.WithWaitVersion(got.InstanceID), flaps.WithWaitTimeout(10*time.Second)), "a stopped-wait names the instance")
		require.NoError(t, c.Destroy(ctx, "real", fly.RemoveMachineInput{ID: m.ID}, ""))
		require.NoError(t, c.Wait(ctx, "real", m.ID, flaps.WithWaitStates("destroyed"), flaps.WithWaitTimeout(10*time.Second)))
		require.NoError(t, c.DeleteApp(ctx, "real"))
		_, _, exists := sim.Counts("real")
		assert.False(t, exists)
	})
}
