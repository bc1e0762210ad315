package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// start runs the command in the background and returns its base URL and a
// stop function returning run's error.
func start(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	lines, stop := startLines(t, 1, args...)
	return lines[0], stop
}

// startLines is start returning the first n lines printed (n >= 1: the
// base URL first), without their newlines.
func startLines(t *testing.T, n int, args ...string) ([]string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw)
		_ = pw.CloseWithError(io.EOF)
		done <- err
	}()
	br := bufio.NewReader(pr)
	var lines []string
	for len(lines) < n {
		line, err := br.ReadString('\n')
		if err != nil {
			cancel()
			require.NoError(t, <-done)
			t.Fatalf("printed %q, then: %v", lines, err)
		}
		lines = append(lines, strings.TrimSuffix(line, "\n"))
	}
	go func() { _, _ = io.Copy(io.Discard, br) }()
	stopped := false
	stop := func() error {
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	return lines, stop
}

func client(t *testing.T, base, token string, tr *http.Transport) *flaps.Client {
	t.Helper()
	c, err := flaps.NewWithOptions(context.Background(), flaps.NewClientOpts{
		Tokens:    tokens.Parse(token),
		Transport: flysim.Transport(base, tr),
	})
	require.NoError(t, err)
	return c
}

func TestRunServesAndPersists(t *testing.T) {
	dir := t.TempDir()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	base, stop := start(t, "-addr", "127.0.0.1:0", "-data-dir", dir, "-speed", "1000", "-token", "tok", "-profile", "instant")
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)
	c := client(t, base, "tok", tr)
	_, err := c.CreateApp(ctx, flaps.CreateAppRequest{Name: "cli", Org: "personal"})
	require.NoError(t, err)
	m, err := c.Launch(ctx, "cli", fly.LaunchMachineInput{Config: &fly.MachineConfig{Image: "nginx"}})
	require.NoError(t, err)
	require.NoError(t, c.Wait(ctx, "cli", m.ID, flaps.WithWaitStates("started")))

	_, err = client(t, base, "wrong", tr).GetApp(ctx, "cli")
	var fe *flaps.FlapsError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, http.StatusUnauthorized, fe.ResponseStatusCode)

	res, err := (&http.Client{Transport: tr}).Get(base + "/livebook/cli/public/health")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	// A wait that may be in flight does not hold up shutdown.
	m2, err := c.Launch(ctx, "cli", fly.LaunchMachineInput{Config: &fly.MachineConfig{Image: "nginx"}, SkipLaunch: true})
	require.NoError(t, err)
	waited := make(chan error, 1)
	go func() {
		waited <- c.Wait(ctx, "cli", m2.ID, flaps.WithWaitStates("started"), flaps.WithWaitTimeout(60*time.Second))
	}()
	tr.CloseIdleConnections()
	require.NoError(t, stop())
	<-waited
	_, err = os.Stat(filepath.Join(dir, "flysim.json"))
	require.NoError(t, err)
	leftovers, err := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers, "every flush finished before run returned")

	// A second run on the same data dir sees the app.
	base, stop = start(t, "-addr", "127.0.0.1:0", "-data-dir", dir, "-speed", "1000")
	app, err := client(t, base, "any", tr).GetApp(ctx, "cli")
	require.NoError(t, err)
	assert.Equal(t, "cli", app.Name)
	tr.CloseIdleConnections()
	require.NoError(t, stop())
}

func TestRunErrors(t *testing.T) {
	busy, stop := start(t, "-addr", "127.0.0.1:0")
	defer func() { require.NoError(t, stop()) }()
	corrupt := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, "flysim.json"), []byte("{"), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nope"}, "usage"},
		{"stray argument", []string{"extra"}, "unexpected argument"},
		{"bad speed", []string{"-speed", "-3"}, "Speed"},
		{"unknown profile", []string{"-profile", "kind"}, "unknown profile"},
		{"bad tenants", []string{"-tenants", "alice"}, "-tenants: entry \"alice\" has no '='"},
		{"bad address", []string{"-addr", "256.0.0.1:x"}, "listen"},
		{"address in use", []string{"-addr", strings.TrimPrefix(busy, "http://")}, "listen"},
		{"corrupt state", []string{"-addr", "127.0.0.1:0", "-data-dir", corrupt}, "corrupt state file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestRunRealistic: with -profile realistic the server is slow to agree
// and strict about machine config: a client must wait for its new app and
// retry a new machine's 404s, and only a Livebook with a password boots.
func TestRunRealistic(t *testing.T) {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base, stop := start(t, "-addr", "127.0.0.1:0", "-speed", "1000", "-token", "tok", "-profile", "realistic")
	c := client(t, base, "tok", tr)
	_, err := c.CreateApp(ctx, flaps.CreateAppRequest{Name: "real", Org: "personal"})
	require.NoError(t, err)
	require.NoError(t, c.WaitForApp(ctx, "real"))
	_, err = c.SetAppSecret(ctx, "real", "LIVEBOOK_PASSWORD", "a-long-enough-password")
	require.NoError(t, err)

	launch := func(image string) *fly.Machine {
		m, err := c.Launch(ctx, "real", fly.LaunchMachineInput{Config: &fly.MachineConfig{
			Image:    image,
			Services: []fly.MachineService{{Protocol: "tcp", InternalPort: 8080}},
		}})
		require.NoError(t, err)
		return m
	}
	// waitFor retries the wait while the new machine is not visible yet.
	waitFor := func(m *fly.Machine, state string) error {
		for {
			err := c.Wait(ctx, "real", m.ID, flaps.WithWaitStates(state), flaps.WithWaitTimeout(60*time.Second))
			var fe *flaps.FlapsError
			if !errors.As(err, &fe) || fe.ResponseStatusCode != http.StatusNotFound {
				return err
			}
			time.Sleep(time.Millisecond)
		}
	}
	require.NoError(t, waitFor(launch("nginx"), "launch_failed"), "an image flysim cannot run")
	require.NoError(t, waitFor(launch("ghcr.io/livebook-dev/livebook:latest"), "started"))
	// Fly's edge routes to a new app a while after its machine started
	// (the realistic profile's EdgeDelay): 404 until then.
	status := 0
	for try := 0; try < 2000 && status != http.StatusOK; try++ {
		if try > 0 {
			time.Sleep(5 * time.Millisecond)
		}
		res, err := (&http.Client{Transport: tr}).Get(base + "/livebook/real/public/health")
		require.NoError(t, err)
		res.Body.Close()
		status = res.StatusCode
	}
	assert.Equal(t, http.StatusOK, status)
	tr.CloseIdleConnections()
	require.NoError(t, stop())
}

func TestParseTenants(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		in   string
		want []flysim.Tenant
		err  string // a part of the error; "" for none
	}{
		{in: "", want: nil},
		{in: "alice=acme", want: []flysim.Tenant{{Name: "alice", Orgs: []string{"acme"}}}},
		{in: "alice=acme,bob=globex,carol=acme+personal", want: []flysim.Tenant{
			{Name: "alice", Orgs: []string{"acme"}},
			{Name: "bob", Orgs: []string{"globex"}},
			{Name: "carol", Orgs: []string{"acme", "personal"}},
		}},
		{in: "dave=", want: []flysim.Tenant{{Name: "dave"}}},
		{in: "0-x=a,b=b-2", want: []flysim.Tenant{{Name: "0-x", Orgs: []string{"a"}}, {Name: "b", Orgs: []string{"b-2"}}}},
		{in: long + "=" + long, want: []flysim.Tenant{{Name: long, Orgs: []string{long}}}},

		{in: ",", err: "entry 1 is empty"},
		{in: "alice=acme,", err: "entry 2 is empty"},
		{in: ",alice=acme", err: "entry 1 is empty"},
		{in: "alice", err: `entry "alice" has no '='`},
		{in: "=acme", err: `entry "=acme": the tenant name`},
		{in: "Alice=acme", err: `entry "Alice=acme": the tenant name`},
		{in: "-alice=acme", err: "the tenant name"},
		{in: "al ice=acme", err: "the tenant name"},
		{in: " alice=acme", err: "the tenant name"},
		{in: long + "a=acme", err: "the tenant name"},
		{in: "alice=acme,alice=globex", err: `tenant "alice" is listed twice`},
		{in: "alice=Acme", err: `"Acme" is not an organization slug`},
		{in: "alice=acme-", err: "is not an organization slug"},
		{in: "alice=acme ", err: "is not an organization slug"},
		{in: "alice=acme+", err: `"" is not an organization slug`},
		{in: "alice=+acme", err: `"" is not an organization slug`},
		{in: "alice=acme++globex", err: `"" is not an organization slug`},
		{in: "alice=acme,globex", err: `entry "globex" has no '='`},
		{in: "alice=a=b", err: `"a=b" is not an organization slug`},
		{in: "alice=acme;bob=globex", err: "is not an organization slug"},
		{in: "alice=" + long + "a", err: "is not an organization slug"},
		{in: "alice=acme+acme", err: `names org "acme" twice`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTenants(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.True(t, strings.HasPrefix(err.Error(), "-tenants: "), "the error names the flag: %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			if got != nil {
				_, err := flysim.New(flysim.Options{Tenants: got, Profile: flysim.Instant()})
				assert.NoError(t, err, "flysim takes what the flag takes")
			}
		})
	}
}

// TestRunTenants: with -tenants the simulator prints each tenant's token
// after the base URL, verifies them (each reaches its own orgs only), and
// takes -token as the operator's all-access token; a restart with the
// same tenants accepts the tokens printed before.
func TestRunTenants(t *testing.T) {
	dir := t.TempDir()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := []string{"-addr", "127.0.0.1:0", "-data-dir", dir, "-speed", "1000", "-profile", "instant",
		"-tenants", "alice=acme,bob=globex+personal", "-token", "operator"}
	lines, stop := startLines(t, 3, args...)
	require.True(t, strings.HasPrefix(lines[0], "http://127.0.0.1:"), lines[0])
	base := lines[0]
	tokens := map[string]string{}
	for i, name := range []string{"alice", "bob"} {
		rest, ok := strings.CutPrefix(lines[1+i], "token "+name+" ")
		require.True(t, ok, "line %d: %q", 1+i, lines[1+i])
		require.True(t, strings.HasPrefix(rest, "FlyV1 fm2_"), "a Fly macaroon token: %q", rest)
		tokens[name] = rest
	}
	assert.NotEqual(t, tokens["alice"], tokens["bob"])

	forbidden := func(t *testing.T, err error) {
		t.Helper()
		var fe *flaps.FlapsError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, http.StatusForbidden, fe.ResponseStatusCode)
	}
	alice := client(t, base, tokens["alice"], tr)
	_, err := alice.CreateApp(ctx, flaps.CreateAppRequest{Name: "alice-app", Org: "acme"})
	require.NoError(t, err)
	_, err = alice.CreateApp(ctx, flaps.CreateAppRequest{Name: "alice-elsewhere", Org: "globex"})
	forbidden(t, err)
	bob := client(t, base, tokens["bob"], tr)
	_, err = bob.CreateApp(ctx, flaps.CreateAppRequest{Name: "bob-app", Org: "personal"})
	require.NoError(t, err)
	_, err = bob.GetApp(ctx, "alice-app")
	forbidden(t, err)

	_, err = client(t, base, "not-a-token", tr).GetApp(ctx, "alice-app")
	var fe *flaps.FlapsError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, http.StatusUnauthorized, fe.ResponseStatusCode)
	op := client(t, base, "operator", tr)
	for app, org := range map[string]string{"alice-app": "acme", "bob-app": "personal"} {
		a, err := op.GetApp(ctx, app)
		require.NoError(t, err)
		assert.Equal(t, org, a.Organization.Slug)
	}
	tr.CloseIdleConnections()
	require.NoError(t, stop())

	// The same tenants again: the tokens printed before still work.
	lines, stop = startLines(t, 3, args...)
	_, err = client(t, lines[0], tokens["alice"], tr).GetApp(ctx, "alice-app")
	require.NoError(t, err)
	tr.CloseIdleConnections()
	require.NoError(t, stop())
}
