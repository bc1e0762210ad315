package flysim_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// A Livebook signs its sessions with LIVEBOOK_SECRET_KEY_BASE, or without
// it with a key drawn at boot (Livebook's README): a stop and a start, as
// autostop and the next request do, sign everyone out unless the key base
// is set.
func TestLivebookSessionSurvivesRebootOnlyWithKeyBase(t *testing.T) {
	tests := []struct {
		name    string
		keyBase string
		kept    bool
	}{
		{"without LIVEBOOK_SECRET_KEY_BASE", "", false},
		{"with LIVEBOOK_SECRET_KEY_BASE", strings.Repeat("k", 64), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, flysim.Options{})
			ctx := ctxT(t)
			_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "sess", Org: "personal"})
			require.NoError(t, err)
			pw := "correct horse battery staple"
			secrets := map[string]*string{"LIVEBOOK_PASSWORD": &pw}
			if tt.keyBase != "" {
				secrets["LIVEBOOK_SECRET_KEY_BASE"] = &tt.keyBase
			}
			_, err = e.client.UpdateAppSecrets(ctx, "sess", secrets)
			require.NoError(t, err)
			m, err := e.client.Launch(ctx, "sess", launchInput("iad"))
			require.NoError(t, err)
			e.clock.Advance(30 * time.Second)

			jar, err := cookiejar.New(nil)
			require.NoError(t, err)
			browser := &http.Client{Jar: jar, Transport: e.srv.Client().Transport}
			signedIn := func() bool {
				t.Helper()
				res, err := browser.Get(e.srv.URL + "/livebook/sess/")
				require.NoError(t, err)
				var b strings.Builder
				_, err = ioCopy(&b, res)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, res.StatusCode)
				return strings.Contains(b.String(), `data-test="livebook-ok"`)
			}
			assert.False(t, signedIn(), "not signed in yet")
			res, err := browser.PostForm(e.srv.URL+"/livebook/sess/", url.Values{"password": {pw}})
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.True(t, signedIn(), "the session cookie signs the next request in")

			require.NoError(t, e.client.Stop(ctx, "sess", fly.StopMachineInput{ID: m.ID}, ""))
			e.clock.Advance(30 * time.Second)
			_, err = e.client.Start(ctx, "sess", m.ID, "")
			require.NoError(t, err)
			e.clock.Advance(30 * time.Second)
			assert.Equal(t, tt.kept, signedIn(), "signed in after the machine rebooted")
		})
	}
}

// ioCopy reads res's body into w and closes it.
func ioCopy(w io.Writer, res *http.Response) (int64, error) {
	defer res.Body.Close()
	return io.Copy(w, res.Body)
}
