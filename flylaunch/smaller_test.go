package flylaunch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAddressesNameTheOrg is issue 18's item 10: every address request
// names the launch's organization, as flyctl's does; the test reads what
// flysim received.
func TestAddressesNameTheOrg(t *testing.T) {
	cases := []struct{ name, org, want string }{
		{"default org", "", DefaultOrg},
		{"named org", "acme-labs", "acme-labs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSimEnv(t, envOptions{})
			spec := testSpec("addressed-livebook")
			spec.Org = tc.org
			res, _, err := launchOn(t, e, spec)
			require.NoError(t, err)
			ips, err := e.client.GetIPAssignments(waitCtx(t), res.Record.App)
			require.NoError(t, err)
			require.Len(t, ips.IPs, 2)
			for _, ip := range ips.IPs {
				org, ok := e.sim.IPAssignmentOrg(res.Record.App, ip.IP)
				require.True(t, ok, ip.IP)
				assert.Equal(t, tc.want, org, ip.IP)
			}
		})
	}
}

// TestMixInstallCacheOnVolume is issue 18's item 10: Mix.install's cache
// (compiled dependencies of notebooks) goes on the volume unless the spec
// says otherwise; the test reads the config flysim received.
func TestMixInstallCacheOnVolume(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default", nil, "/data/.cache/mix/installs"},
		{"the spec's own", map[string]string{"MIX_INSTALL_DIR": "/tmp/mix"}, "/tmp/mix"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSimEnv(t, envOptions{})
			spec := testSpec("cached-livebook")
			for k, v := range tc.env {
				spec.Env[k] = v
			}
			res, _, err := launchOn(t, e, spec)
			require.NoError(t, err)
			m, err := e.client.Get(waitCtx(t), spec.App, res.Record.MachineID)
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.Config.Env["MIX_INSTALL_DIR"])
		})
	}
}
