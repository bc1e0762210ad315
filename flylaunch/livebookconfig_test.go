package flylaunch

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// TestMachineStopsWithSIGTERM reads the config flysim received: Fly sends
// SIGINT by default (autostop included), which is the Erlang VM's break
// handler, not a shutdown; SIGTERM runs init:stop/0, which lets Livebook
// shut down cleanly.
func TestMachineStopsWithSIGTERM(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	spec := testSpec("graceful-livebook")
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)

	m, err := e.client.Get(waitCtx(t), spec.App, res.Record.MachineID)
	require.NoError(t, err)
	require.NotNil(t, m.Config.StopConfig, "the machine names its stop signal")
	require.NotNil(t, m.Config.StopConfig.Signal)
	assert.Equal(t, "SIGTERM", *m.Config.StopConfig.Signal)
	require.NotNil(t, m.Config.StopConfig.Timeout)
	assert.GreaterOrEqual(t, m.Config.StopConfig.Timeout.Duration, 10*time.Second, "time to shut down before the kill")
	assert.LessOrEqual(t, m.Config.StopConfig.Timeout.Duration, 5*time.Minute, "within Fly's kill_timeout limit")
}

// signedIn reports whether browser's session opens app's stand-in
// Livebook signed in.
func signedIn(t *testing.T, e *simEnv, browser *http.Client, app string) bool {
	t.Helper()
	res, err := browser.Get(e.srv.URL + "/livebook/" + app + "/")
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	return strings.Contains(string(b), `data-test="livebook-ok"`)
}

// A Livebook launched without LIVEBOOK_SECRET_KEY_BASE draws a new one at
// every boot: each wake-up after autostop signs the user out. The deploy
// sets one, generated per launch, as an app secret: a session survives a
// stop and a start, and the key base reaches no log, event or record.
func TestLivebookKeepsSessionsAcrossStopAndStart(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	keyBase := "KB-" + strings.Repeat("s3cr3t-key-base-", 5) // 83 characters
	generated := 0
	l.keyBase = func() (string, error) { generated++; return keyBase, nil }
	spec := testSpec("session-livebook")
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	evs := collect(t, d)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, 1, generated, "one key base per launch")

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	res2, err := browser.PostForm(e.srv.URL+"/livebook/"+spec.App+"/", url.Values{"password": {testPassword}})
	require.NoError(t, err)
	require.NoError(t, res2.Body.Close())
	require.Equal(t, http.StatusOK, res2.StatusCode)
	require.True(t, signedIn(t, e, browser, spec.App))

	lb, err := l.Livebook(res.Record)
	require.NoError(t, err)
	_, err = lb.Stop(waitCtx(t))
	require.NoError(t, err)
	_, err = lb.Start(waitCtx(t))
	require.NoError(t, err)
	assert.True(t, signedIn(t, e, browser, spec.App), "the session outlives the reboot")

	assert.NotContains(t, e.logs.String(), keyBase, "logs")
	for _, ev := range evs {
		assert.NotContains(t, ev.Message, keyBase, "event %d", ev.Seq)
		if ev.Record != nil {
			assert.NotContains(t, fmt.Sprintf("%+v", *ev.Record), keyBase, "record of event %d", ev.Seq)
		}
	}
	assertNoSecret(t, e, evs, nil)
}

// A key base the caller chose is the one set; none is generated.
func TestLivebookKeyBaseFromSpec(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	l.keyBase = func() (string, error) { return "", errors.New("must not be called") }
	spec := testSpec("chosen-key-base")
	spec.Secrets = Secrets{"LIVEBOOK_PASSWORD": testPassword, LivebookKeyBase: strings.Repeat("c", 64)}
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
	have, err := e.client.ListAppSecrets(waitCtx(t), spec.App, nil, false)
	require.NoError(t, err)
	var names []string
	for _, s := range have {
		names = append(names, s.Name)
	}
	assert.ElementsMatch(t, []string{"LIVEBOOK_PASSWORD", LivebookKeyBase}, names)
}

func TestNewKeyBase(t *testing.T) {
	a, err := newKeyBase()
	require.NoError(t, err)
	b, err := newKeyBase()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(a), 64, "Livebook wants at least 64 characters")
	assert.NotEqual(t, a, b, "one per launch")
	assert.Regexp(t, `^[A-Za-z0-9_-]+$`, a, "safe in an environment variable")
}

// Fly's edge routes <app>.fly.dev to a new app a while after its machine
// passed its health checks. With Options.Public a deploy is done only once
// the public URL answers: the first visit after Done works.
func TestDoneWaitsForThePublicURL(t *testing.T) {
	prof := flysim.Realistic()
	prof.EdgeDelay = 10 * time.Minute // 1.2 s at speed 500, far past the checks
	e := newSimEnv(t, envOptions{profile: prof})
	l := e.launcher(t, func(o *Options) { o.StartDeadline = time.Minute })
	spec := testSpec("public-livebook")
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	evs := collect(t, d)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)

	resp, err := http.Get(e.srv.URL + "/livebook/" + spec.App + "/public/health")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the public URL answers when the deploy says Done")
	assert.Equal(t, StepHealthy, res.Record.Step)

	waited := false
	for _, ev := range evs {
		if ev.Step == StepHealthy && strings.Contains(ev.Message, "waiting for https://public-livebook.fly.dev to answer (HTTP 404)") {
			waited = true
		}
	}
	assert.True(t, waited, "the deploy said what it waits for")
}

// An edge that never routes to the app ends the deploy with
// ErrNotReachable at the start deadline; the record stays short of
// StepHealthy (the launch is not finished).
func TestPublicURLThatNeverAnswers(t *testing.T) {
	e := newSimEnv(t, envOptions{profile: flysim.Instant()})
	never := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Header: http.Header{}}, nil
	})}
	l := e.launcher(t, func(o *Options) { o.Public, o.StartDeadline = never, 2*time.Second })
	d, err := l.Start(waitCtx(t), testSpec("unreached-livebook"))
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.ErrorIs(t, err, ErrNotReachable)
	assert.NotErrorIs(t, err, ErrStartTimeout)
	assert.False(t, d.Record().Finished())
	assert.Equal(t, StepStarted, d.Record().Step)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
