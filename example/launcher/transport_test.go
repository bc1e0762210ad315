package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandlerTransport(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusTeapot)
		}
		_, _ = w.Write([]byte("echo:" + string(body)))
		w.WriteHeader(http.StatusInternalServerError) // too late: ignored
	})
	client := &http.Client{Transport: handlerTransport{h}}

	tests := []struct {
		name, url, body string
		wantStatus      int
	}{
		{"get", "https://api.machines.dev/v1/apps/x", "", http.StatusOK},
		{"post with body", "https://api.machines.dev/v1/apps", `{"app_name":"x"}`, http.StatusOK},
		{"status", "https://api.machines.dev/v1/apps?fail=1", "", http.StatusTeapot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(http.MethodPost, tt.url, body)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer tok")
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, "echo:"+tt.body, string(got))
			assert.Equal(t, int64(len(got)), resp.ContentLength)
			assert.Equal(t, "/v1/apps"+map[bool]string{true: "/x"}[strings.HasSuffix(tt.url, "/x")], resp.Header.Get("X-Path"))
			assert.Equal(t, "Bearer tok", resp.Header.Get("X-Auth"))
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.machines.dev/v1/apps", nil)
	require.NoError(t, err)
	_, err = client.Do(req)
	require.ErrorIs(t, err, context.Canceled, "a cancelled request is not served")
}
