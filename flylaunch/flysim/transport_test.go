package flysim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
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
