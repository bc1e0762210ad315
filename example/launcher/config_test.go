package main

import (
	"cmp"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/flylaunch"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr string
		wantIs  error // errUsage when nil
	}{
		{
			name: "defaults with XDG",
			env:  map[string]string{"XDG_DATA_HOME": "/xdg", "HOME": "/home/u"},
			want: config{addr: defaultAddr, dataDir: "/xdg/sealkit-launcher", simSpeed: 1, flyOrg: "personal", maxConnsPerClient: defaultMaxConnsPerClient, maxLaunches: defaultMaxLaunches, image: flylaunch.DefaultImage},
		},
		{
			name: "defaults with HOME only",
			env:  map[string]string{"HOME": "/home/u"},
			want: config{addr: defaultAddr, dataDir: "/home/u/.local/share/sealkit-launcher", simSpeed: 1, flyOrg: "personal", maxConnsPerClient: defaultMaxConnsPerClient, maxLaunches: defaultMaxLaunches, image: flylaunch.DefaultImage},
		},
		{
			name: "relative XDG is ignored, no HOME",
			env:  map[string]string{"XDG_DATA_HOME": "rel"},
			want: config{addr: defaultAddr, dataDir: ".data", simSpeed: 1, flyOrg: "personal", maxConnsPerClient: defaultMaxConnsPerClient, maxLaunches: defaultMaxLaunches, image: flylaunch.DefaultImage},
		},
		{
			name: "flags",
			args: []string{"-addr", "127.0.0.1:0", "-data-dir", "/d", "-sim-speed", "20"},
			want: config{addr: "127.0.0.1:0", dataDir: "/d", simSpeed: 20, flyOrg: "personal", maxConnsPerClient: defaultMaxConnsPerClient, maxLaunches: defaultMaxLaunches, image: flylaunch.DefaultImage},
		},
		{
			name: "real fly",
			env:  map[string]string{"FLY_API_TOKEN": "tok", "FLY_ORG": "acme"},
			args: []string{"-data-dir", "/d"},
			want: config{addr: defaultAddr, dataDir: "/d", simSpeed: 1, flyToken: "tok", flyOrg: "acme", maxConnsPerClient: defaultMaxConnsPerClient, maxLaunches: defaultMaxLaunches, image: flylaunch.DefaultImage},
		},
		{
			name: "origins",
			args: []string{"-data-dir", "/d", "-origin", " https://launch.example.com, *.example.org ,", "-trust-forwarded"},
			want: config{addr: defaultAddr, dataDir: "/d", simSpeed: 1, flyOrg: "personal",
				origins: []string{"https://launch.example.com", "*.example.org"}, clientIPHeader: "X-Forwarded-For", maxConnsPerClient: defaultMaxConnsPerClient, maxLaunches: defaultMaxLaunches, image: flylaunch.DefaultImage},
		},
		{
			name: "on a Fly machine",
			env:  map[string]string{"FLY_API_TOKEN": "tok", "FLY_MACHINE_ID": "148ed193b95089", "FLY_APP_NAME": "sealkit-launcher"},
			args: []string{"-data-dir", "/d", "-client-ip-header", "Fly-Client-IP", "-allowed-hosts", "launch.example.com"},
			want: config{addr: defaultAddr, dataDir: "/d", simSpeed: 1, flyToken: "tok", flyOrg: "personal",
				clientIPHeader: "Fly-Client-IP", flyMachineID: "148ed193b95089",
				allowedHosts: []string{"launch.example.com", "sealkit-launcher.fly.dev"}, maxConnsPerClient: defaultMaxConnsPerClient, maxLaunches: defaultMaxLaunches, image: flylaunch.DefaultImage},
		},
		{
			name: "allowed hosts and connection cap",
			args: []string{"-data-dir", "/d", "-allowed-hosts", "launch.example.com, *.lan.example:8443,,[2001:db8::1]", "-max-conns-per-client", "5"},
			want: config{addr: defaultAddr, dataDir: "/d", simSpeed: 1, flyOrg: "personal",
				allowedHosts: []string{"launch.example.com", "*.lan.example:8443", "[2001:db8::1]"}, maxConnsPerClient: 5, maxLaunches: defaultMaxLaunches, image: flylaunch.DefaultImage},
		},
		{
			name: "image",
			args: []string{"-data-dir", "/d", "-image", "ghcr.io/livebook-dev/livebook:0.19.7"},
			want: config{addr: defaultAddr, dataDir: "/d", simSpeed: 1, flyOrg: "personal", maxConnsPerClient: defaultMaxConnsPerClient, maxLaunches: defaultMaxLaunches, image: "ghcr.io/livebook-dev/livebook:0.19.7"},
		},
		{name: "image latest", args: []string{"-image", "ghcr.io/livebook-dev/livebook:latest"}, wantErr: "-image"},
		{name: "image without tag", args: []string{"-image", "ghcr.io/livebook-dev/livebook"}, wantErr: "-image"},
		{name: "bad origin pattern", args: []string{"-origin", "[x"}, wantErr: "-origin"},
		{name: "origin with a path", args: []string{"-origin", "https://launch.example.com/app"}, wantErr: "-origin"},
		{name: "bad allowed host pattern", args: []string{"-allowed-hosts", "[x"}, wantErr: "-allowed-hosts"},
		{name: "URL as allowed host", args: []string{"-allowed-hosts", "https://launch.example.com"}, wantErr: "-allowed-hosts"},
		{name: "two trusted proxy headers", args: []string{"-trust-forwarded", "-client-ip-header", "Fly-Client-IP"}, wantErr: "exclude each other"},
		{name: "bad client IP header", args: []string{"-client-ip-header", "Fly Client IP"}, wantErr: "-client-ip-header"},
		{name: "bad machine ID", env: map[string]string{"FLY_MACHINE_ID": "1.2"}, wantErr: "FLY_MACHINE_ID", wantIs: errEnv},
		{name: "bad app name", env: map[string]string{"FLY_APP_NAME": "Evil.example.com"}, wantErr: "FLY_APP_NAME", wantIs: errEnv},
		{name: "zero connection cap", args: []string{"-max-conns-per-client", "0"}, wantErr: "-max-conns-per-client"},
		{name: "zero launches", args: []string{"-max-launches", "0"}, wantErr: "-max-launches"},
		{name: "fly-api needs a token", args: []string{"-fly-api", "http://127.0.0.1:1"}, wantErr: "FLY_API_TOKEN"},
		{name: "fly-api must be http", env: map[string]string{"FLY_API_TOKEN": "t"}, args: []string{"-fly-api", "ftp://x"}, wantErr: "http(s) URL"},
		{name: "fly-api must have a host", env: map[string]string{"FLY_API_TOKEN": "t"}, args: []string{"-fly-api", "http://"}, wantErr: "http(s) URL"},
		{name: "zero speed", args: []string{"-sim-speed", "0"}, wantErr: "-sim-speed"},
		{name: "negative speed", args: []string{"-sim-speed", "-1"}, wantErr: "-sim-speed"},
		{name: "NaN speed", args: []string{"-sim-speed", "NaN"}, wantErr: "-sim-speed"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "bad flags"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "empty data dir", args: []string{"-data-dir", ""}, wantErr: "-data-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, cmp.Or(tt.wantIs, errUsage))
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseConfigFlyAPI(t *testing.T) {
	c, err := parseConfig([]string{"-fly-api", "http://127.0.0.1:4280"}, env(map[string]string{"FLY_API_TOKEN": "t"}), io.Discard)
	require.NoError(t, err)
	require.NotNil(t, c.flyAPI)
	assert.Equal(t, "127.0.0.1:4280", c.flyAPI.Host)
	assert.False(t, c.simulated())
}
