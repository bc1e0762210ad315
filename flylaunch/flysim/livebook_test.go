package flysim_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
)

func livebookGet(t *testing.T, e *env, path string) (int, string) {
	t.Helper()
	res, err := e.srv.Client().Get(e.srv.URL + path)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.NotEmpty(t, res.Header.Get("Fly-Request-Id"))
	return res.StatusCode, string(b)
}

func livebookLogin(t *testing.T, e *env, app, password string) (int, string) {
	t.Helper()
	res, err := e.srv.Client().PostForm(e.srv.URL+"/livebook/"+app+"/", url.Values{"password": {password}})
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

func TestLivebookStandIn(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, flysim.Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "lb", Org: "personal"})
	require.NoError(t, err)
	pw := "correct horse battery staple"
	_, err = e.client.UpdateAppSecrets(ctx, "lb", map[string]*string{"LIVEBOOK_PASSWORD": &pw})
	require.NoError(t, err)

	status, _ := livebookGet(t, e, "/livebook/lb/public/health")
	assert.Equal(t, http.StatusServiceUnavailable, status, "no machine yet")

	_, err = e.client.Launch(ctx, "lb", launchInput("iad"))
	require.NoError(t, err)
	e.clock.Advance(10 * time.Second)
	status, _ = livebookGet(t, e, "/livebook/lb/public/health")
	assert.Equal(t, http.StatusServiceUnavailable, status, "still starting")
	status, _ = livebookLogin(t, e, "lb", pw)
	assert.Equal(t, http.StatusServiceUnavailable, status)

	e.clock.Advance(10 * time.Second)
	status, body := livebookGet(t, e, "/livebook/lb/public/health")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ok", body)

	status, body = livebookGet(t, e, "/livebook/lb/")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<form method="post">`)
	// The password field has a label (screen readers announce it) and the
	// page is styled for any screen.
	assert.Regexp(t, `<label for="password">Password</label>\s*<input type="password" id="password" name="password"`, body)
	assert.Contains(t, body, `<meta name="viewport"`)
	assert.Contains(t, body, `<style>`)
	assert.NotContains(t, body, "livebook-ok")

	tests := []struct {
		name     string
		password string
		status   int
	}{
		{"right password", pw, http.StatusOK},
		{"wrong password", "incorrect", http.StatusUnauthorized},
		{"empty password", "", http.StatusUnauthorized},
		{"prefix of the password", pw[:5], http.StatusUnauthorized},
		{"password with suffix", pw + "x", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := livebookLogin(t, e, "lb", tt.password)
			assert.Equal(t, tt.status, status)
			if tt.status == http.StatusOK {
				assert.Contains(t, body, `data-test="livebook-ok"`)
			} else {
				assert.NotContains(t, body, "livebook-ok")
				assert.Contains(t, body, `<input type="password" id="password" name="password"`)
			}
			assert.NotContains(t, body, pw[:8], "the page never echoes the password")
		})
	}

	status, _ = livebookGet(t, e, "/livebook/ghost/public/health")
	assert.Equal(t, http.StatusNotFound, status)
	assert.NotContains(t, logs.String(), pw, "secret values never reach the logs")
	assert.Contains(t, logs.String(), "flysim request")
}

// The running machine keeps the secrets it was launched with, as on Fly:
// a password changed afterwards only applies to machines launched later.
func TestLivebookUsesSecretsFromLaunch(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "snap", Org: "personal"})
	require.NoError(t, err)
	status, _ := livebookLogin(t, e, "snap", "anything")
	assert.Equal(t, http.StatusServiceUnavailable, status)

	_, err = e.client.Launch(ctx, "snap", launchInput("iad"))
	require.NoError(t, err)
	e.clock.Advance(30 * time.Second)
	status, _ = livebookLogin(t, e, "snap", "")
	assert.Equal(t, http.StatusUnauthorized, status, "no LIVEBOOK_PASSWORD: nothing is accepted")

	_, err = e.client.SetAppSecret(ctx, "snap", "LIVEBOOK_PASSWORD", "late")
	require.NoError(t, err)
	status, _ = livebookLogin(t, e, "snap", "late")
	assert.Equal(t, http.StatusUnauthorized, status)

	_, err = e.client.Launch(ctx, "snap", launchInput("iad"))
	require.NoError(t, err)
	e.clock.Advance(30 * time.Second)
	status, body := livebookLogin(t, e, "snap", "late")
	assert.Equal(t, http.StatusOK, status)
	assert.True(t, strings.Contains(body, `data-test="livebook-ok"`))
}
