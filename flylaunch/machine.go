package flylaunch

import (
	"maps"
	"time"

	fly "github.com/superfly/fly-go"
)

// launchInput builds the machine launch request for spec: guest, env,
// services on 80 (http, forced to https) and 443 (tls+http) to the internal
// port, an HTTP health check, the restart policy, and metadata carrying the
// launch ID. Secret values are not part of it: the machine reads them as app
// secrets no older than secretsVersion (when non-zero).
func launchInput(spec Spec, launchID string, secretsVersion uint64) (fly.LaunchMachineInput, error) {
	guest, err := spec.guest()
	if err != nil {
		return fly.LaunchMachineInput{}, err
	}
	port := spec.InternalPort
	http, get, check := "http", "GET", "http"
	autostop := fly.MachineAutostopOff
	cfg := &fly.MachineConfig{
		Image: spec.Image,
		Env:   maps.Clone(spec.Env),
		Guest: guest,
		Metadata: map[string]string{
			MetadataKey: launchID,
			fly.MachineConfigMetadataKeyFlyPlatformVersion: fly.MachineFlyPlatformVersion2,
			fly.MachineConfigMetadataKeyFlyProcessGroup:    fly.MachineProcessGroupApp,
		},
		Services: []fly.MachineService{{
			Protocol:     "tcp",
			InternalPort: port,
			Autostop:     &autostop,
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
		Restart: &fly.MachineRestart{Policy: spec.Restart},
	}
	// The name repeats the launch ID, for people reading `fly machines
	// list`; duplicates are found by metadata, not by name (Fly does not
	// promise to refuse a repeated name).
	in := fly.LaunchMachineInput{Config: cfg, Region: spec.Region, Name: machineName(launchID)}
	if secretsVersion > 0 {
		in.MinSecretsVersion = ptr(secretsVersion)
	}
	return in, nil
}

// machineName is the name given to the machine of a launch: "livebook-"
// followed by the launch ID.
func machineName(launchID string) string { return "livebook-" + launchID }

func ptr[T any](v T) *T { return &v }
