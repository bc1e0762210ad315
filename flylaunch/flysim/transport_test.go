package flysim_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransport(t *testing.T) {
	var seen *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Clone(r.Context())
		_, _ = io.WriteString(w, "hi")
	}))
	defer srv.Close()
	tests := []struct {
		name, base, target, wantPath string
	}{
		{"host only", srv.URL, "https://api.machines.dev/v1/apps/x?wait=true", "/v1/apps/x"},
		{"trailing slash", srv.URL + "/", "https://api.machines.dev/v1/apps/x", "/v1/apps/x"},
		{"path prefix", srv.URL + "/sim", "https://api.machines.dev/v1/apps/x", "/sim/v1/apps/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &http.Client{Transport: flysim.Transport(tt.base, srv.Client().Transport)}
			res, err := c.Get(tt.target)
			require.NoError(t, err)
			defer res.Body.Close()
			assert.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, tt.wantPath, seen.URL.Path)
			assert.Equal(t, srv.Listener.Addr().String(), seen.Host)
		})
	}
	t.Run("query kept", func(t *testing.T) {
		c := &http.Client{Transport: flysim.Transport(srv.URL, srv.Client().Transport)}
		res, err := c.Get("https://api.machines.dev/v1/apps/x/machines?metadata.k=v%20w")
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, "v w", seen.URL.Query().Get("metadata.k"))
	})
	for _, bad := range []string{"", "::", "127.0.0.1:80", "ftp://host"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			c := &http.Client{Transport: flysim.Transport(bad, srv.Client().Transport)}
			_, err := c.Get("https://api.machines.dev/v1/apps/x")
			require.Error(t, err)
		})
	}
}

func TestServerTransport(t *testing.T) {
	sim, err := flysim.New(flysim.Options{Token: "tok", Profile: flysim.Instant()})
	require.NoError(t, err)
	defer sim.Close()
	client := &http.Client{Transport: sim.Transport()}
	tests := []struct {
		name, method, url, token, body string
		wantStatus                     int
		wantBody                       string
	}{
		{"unauthorized", http.MethodGet, "https://api.machines.dev/v1/apps/x", "", "", http.StatusUnauthorized, ""},
		{"create, body read", http.MethodPost, "https://api.machines.dev/v1/apps", "tok", `{"name":"in-process","org_slug":"personal"}`, http.StatusCreated, ""},
		{"any host, by path", http.MethodGet, "http://elsewhere.invalid/v1/apps/in-process", "tok", "", http.StatusOK, `"name":"in-process"`},
		{"missing", http.MethodGet, "https://api.machines.dev/v1/apps/absent", "tok", "", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, tt.url, body)
			require.NoError(t, err)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			res, err := client.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			got, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, res.StatusCode, string(got))
			assert.Equal(t, int64(len(got)), res.ContentLength)
			assert.Contains(t, string(got), tt.wantBody)
			assert.Same(t, req, res.Request)
		})
	}
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.machines.dev/v1/apps/in-process", nil)
		require.NoError(t, err)
		_, err = client.Do(req)
		require.ErrorIs(t, err, context.Canceled, "a cancelled request is not served")
	})
}
