package flysim

import (
	"fmt"
	"math"
	"time"
)

// Profile says how far a Server departs from an API that agrees with
// itself the instant a write returns. Every duration is simulated time:
// it shrinks by [Options.Speed] like the machine lifecycle does. Each
// propagation window is an upper bound; the delay of one app or machine is
// drawn from [window/2, window] with the seeded generator, so runs with
// the same [Options.Seed] see the same delays.
//
// The zero Profile means the default profile, [Realistic]: a simulator at
// least as hard as Fly. Tests that need speed more than realism name
// [Instant].
type Profile struct {
	// Name labels the profile in logs and flags: "instant", "realistic",
	// or anything for a custom one.
	Name string
	// AppPropagation bounds how long an app stays invisible after
	// CreateApp: GetApp and every /v1/apps/{app}/... route answer 404 (or
	// 401, see AppUnauthorizedRate) meanwhile. fly-go's WaitForApp retries
	// exactly those two.
	AppPropagation time.Duration
	// AppUnauthorizedRate is the share (0..1) of answers about a not yet
	// visible app that are 401 "unauthorized" instead of 404.
	AppUnauthorizedRate float64
	// MachinePropagation bounds how long a new machine stays invisible to
	// the routes that name it (Get, /wait, start, stop, metadata, leases,
	// destroy): they answer 404 "machine not found" meanwhile. A new
	// volume is as long invisible to GetVolume and DeleteVolume.
	MachinePropagation time.Duration
	// ListLag bounds how long a new machine (or volume) is missing from
	// machine (volume) lists, with or without metadata filters. The
	// machine-name uniqueness check reads the same lagging store, so a
	// name repeated within the lag makes a second machine.
	ListLag time.Duration
	// Stopping is how long a stop or suspend takes: the machine reports
	// "stopping" (or "suspending") first.
	Stopping time.Duration
	// AutostopIdle is how long an app's machines may go without a
	// request through the stand-in Livebook path before Fly's proxy stops
	// (or suspends) those whose service says autostop; 0 means never.
	AutostopIdle time.Duration
	// EdgeDelay is how long after an app's first machine reached
	// "started" Fly's edge starts to route <app>.fly.dev to it: until
	// then the stand-in Livebook path answers 404, as for an app the edge
	// does not know. Fly: the app answers on its IP at once and at
	// <app>.fly.dev "after a small delay", proxy nodes learn of a started
	// machine with a delay, and health checks run on the private network,
	// not through the edge — so a machine passes its checks before its
	// public name answers. 0 means at once.
	EdgeDelay time.Duration
	// StrictMachines makes machines behave as their config says: only
	// images flysim knows boot (others end in launch_failed or failed),
	// health checks pass only on the port and path the image serves, a
	// process that cannot start crash-loops under its restart policy, and
	// an update shows "replacing".
	StrictMachines bool
}

// Instant is the profile of a simulator that agrees with itself at once and
// runs whatever image it is given: no propagation windows, health checks
// that pass on a timer. Unit tests that need speed use it.
func Instant() Profile { return Profile{Name: "instant", AutostopIdle: defaultAutostopIdle} }

// defaultAutostopIdle is the idle time after which both profiles' proxy
// stops an autostopping machine. Fly says "several minutes"
// (https://fly.io/docs/launch/autostop-autostart/) and checks "every few
// minutes"; five is flysim's pick.
const defaultAutostopIdle = 5 * time.Minute

// Realistic is the profile of a simulator at least as hard as Fly: slow to
// agree after a write, strict about machine config. Windows (simulated
// time, upper bounds): app 4 s with 1 in 4 answers a 401, machine and
// volume 3 s, machine and volume lists 5 s, stop 2 s; the edge routes to
// a new app 30 s after its first machine started (5 s after a Livebook's
// checks pass); autostop after 5 idle minutes.
func Realistic() Profile {
	return Profile{
		Name:                "realistic",
		AppPropagation:      4 * time.Second,
		AppUnauthorizedRate: 0.25,
		MachinePropagation:  3 * time.Second,
		ListLag:             5 * time.Second,
		Stopping:            2 * time.Second,
		EdgeDelay:           30 * time.Second,
		AutostopIdle:        defaultAutostopIdle,
		StrictMachines:      true,
	}
}

// ProfileNamed returns the profile called name ("instant" or "realistic"),
// for command-line flags.
func ProfileNamed(name string) (Profile, error) {
	switch name {
	case "instant":
		return Instant(), nil
	case "realistic":
		return Realistic(), nil
	}
	return Profile{}, fmt.Errorf("%w: unknown profile %q (want instant or realistic)", ErrInvalidOptions, name)
}

// resolve applies the default to the zero Profile and validates the rest.
func (p Profile) resolve() (Profile, error) {
	if p == (Profile{}) {
		return Realistic(), nil
	}
	for name, d := range map[string]time.Duration{
		"AppPropagation": p.AppPropagation, "MachinePropagation": p.MachinePropagation,
		"ListLag": p.ListLag, "Stopping": p.Stopping, "AutostopIdle": p.AutostopIdle, "EdgeDelay": p.EdgeDelay,
	} {
		if d < 0 {
			return p, fmt.Errorf("%w: Profile.%s must not be negative, got %v", ErrInvalidOptions, name, d)
		}
	}
	if r := p.AppUnauthorizedRate; r < 0 || r > 1 || math.IsNaN(r) {
		return p, fmt.Errorf("%w: Profile.AppUnauthorizedRate must be within 0..1, got %v", ErrInvalidOptions, r)
	}
	return p, nil
}
