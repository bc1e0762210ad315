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
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw)
		_ = pw.CloseWithError(io.EOF)
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		require.NoError(t, <-done)
		t.Fatalf("no URL printed: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
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
	return strings.TrimSpace(line), stop
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
