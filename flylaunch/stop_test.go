package flylaunch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
