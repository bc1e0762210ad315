package flylaunch

import (
	"time"

	fly "github.com/superfly/fly-go"
)

// launchInput builds the machine launch request for spec: guest, env,
// services on 80 (http, forced to https) and 443 (tls+http) to the internal
// port that Fly's proxy stops when idle and starts on the next request
// (autostop "stop", autostart, no minimum of running machines), an HTTP
// health check, the restart policy, a stop with SIGTERM (stopSignal),
// metadata carrying the launch ID and,
// with volumeID, that volume mounted at /data holding Livebook's home and
// data. Secret values are not part of it: the machine reads them as app
// secrets no older than secretsVersion (when non-zero).
//
// The service's concurrency type is "requests", chosen rather than left
// to Fly's default ("connections"). It decides what Fly's proxy counts as
// load, and the proxy stops an autostopping machine only with no load
// (https://fly.io/docs/reference/fly-proxy-autostop-autostart/): with
// "requests" the load is the HTTP requests in flight, and the proxy may
// pool and reuse its connections to the machine, which Fly recommends for
// web services (https://fly.io/docs/apps/concurrency/). A Livebook tab
// holds one request open for as long as it is open (LiveView's
// WebSocket), under either type. What it means for the bill: the machine
// runs, and is billed, while any tab on the Livebook is open, even an
// idle one in the background, and for the idle period (several minutes)
// after the last one closes; then it stops and only its volume is billed
// until the next visit starts it. That is on purpose: stopping under an
// open tab would drop the running notebooks' state without a word. The
// soft limit is Fly's default (20); there is no hard limit, so a busy
// Livebook is never refused for load.
func launchInput(spec Spec, launchID string, secretsVersion uint64, volumeID string) (fly.LaunchMachineInput, error) {
	guest, err := spec.guest()
	if err != nil {
		return fly.LaunchMachineInput{}, err
	}
	port := spec.InternalPort
	http, get, check := "http", "GET", "http"
	autostop, autostart := fly.MachineAutostopStop, true
	cfg := &fly.MachineConfig{
		Image: spec.Image,
		Env:   volumeEnv(spec.Env, volumeID),
		Guest: guest,
		Metadata: map[string]string{
			MetadataKey: launchID,
			fly.MachineConfigMetadataKeyFlyPlatformVersion: fly.MachineFlyPlatformVersion2,
			fly.MachineConfigMetadataKeyFlyProcessGroup:    fly.MachineProcessGroupApp,
		},
		Services: []fly.MachineService{{
			Protocol:           "tcp",
			InternalPort:       port,
			Autostop:           &autostop,
			Autostart:          &autostart,
			MinMachinesRunning: ptr(0),
			Concurrency:        &fly.MachineServiceConcurrency{Type: "requests", SoftLimit: 20},
			Ports: []fly.MachinePort{
				{Port: ptr(80), Handlers: []string{"http"}, ForceHTTPS: true},
				{Port: ptr(443), Handlers: []string{"tls", "http"}},
			},
		}},
		Checks: map[string]fly.MachineCheck{
			"livebook": {
				Type:         &check,
				Port:         &port,
				HTTPMethod:   &get,
				HTTPPath:     ptr(spec.HealthPath),
				HTTPProtocol: &http,
				Interval:     &fly.Duration{Duration: 15 * time.Second},
				Timeout:      &fly.Duration{Duration: 5 * time.Second},
				GracePeriod:  &fly.Duration{Duration: 10 * time.Second},
			},
		},
		Restart:    &fly.MachineRestart{Policy: spec.Restart},
		StopConfig: &fly.StopConfig{Signal: ptr(stopSignal), Timeout: &fly.Duration{Duration: stopTimeout}},
	}
	// The name repeats the launch ID, for people reading `fly machines
	// list`; duplicates are found by metadata, not by name (Fly does not
	// promise to refuse a repeated name).
	if volumeID != "" {
		cfg.Mounts = []fly.MachineMount{{Volume: volumeID, Path: volumePath}}
	}
	in := fly.LaunchMachineInput{Config: cfg, Region: spec.Region, Name: machineName(launchID)}
	if secretsVersion > 0 {
		in.MinSecretsVersion = ptr(secretsVersion)
	}
	return in, nil
}

// How Fly stops the machine (fly machine stop, and Fly's proxy when it
// autostops an idle one). Fly sends SIGINT unless told otherwise; to the
// Erlang VM that runs Livebook SIGINT is the break handler, not a
// shutdown, so the VM would be killed at the timeout. SIGTERM runs
// init:stop/0: Livebook stops its sessions and the VM exits. stopTimeout
// is how long Fly waits before it kills the machine (Fly's default is 5 s,
// its kill_timeout allows up to 300 s).
const (
	stopSignal  = "SIGTERM"
	stopTimeout = 30 * time.Second
)

// machineName is the name given to the machine of a launch: "livebook-"
// followed by the launch ID.
func machineName(launchID string) string { return "livebook-" + launchID }

func ptr[T any](v T) *T { return &v }
