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
	// StrictMachines makes machines behave as their config says: only
	// images flysim knows boot (others end in launch_failed or failed),
	// health checks pass only on the port and path the image serves, a
	// process that cannot start crash-loops under its restart policy, and
	// an update shows "replacing".
	StrictMachines bool
	// WaitNeedsInstance makes /wait answer 400 to a wait for "stopped"
	// without instance_id, and to a wait naming an instance_id that is
	// not the machine's current one. Fly's Machines API reference ("Wait
	// for a Machine to reach a specified state") says instance_id is
	// "Required when waiting for Machine to be in stopped state"; the 400
	// for another instance is flysim's reading of "Filter for a specific
	// Machine instance_id".
	WaitNeedsInstance bool
	// RefuseBusy makes start and stop answer 412 "unable to start (stop)
	// machine from current state: '<state>'" from a state that is still
	// changing (created while launching, starting, replacing, stopping,
	// suspending), and from one that is already there (stop from stopped,
	// suspended or failed). See [Server] startMachine and haltMachine.
	RefuseBusy bool
	// RateLimits applies the Machines API's documented rate limits (see
	// rateLimits): 429 with Retry-After past them.
	RateLimits bool
}

// Instant is the profile of a simulator that agrees with itself at once and
// runs whatever image it is given: no propagation windows, health checks
// that pass on a timer. Unit tests that need speed use it. It is lenient
// where Fly is strict (a stopped-wait without instance_id, start and stop
// from busy states, rate limits): those rules are the realistic profile's,
// which is the default, so that every client tested against flysim's
// default meets them; Instant is for tests of one answer at a time.
func Instant() Profile { return Profile{Name: "instant", AutostopIdle: defaultAutostopIdle} }

// defaultAutostopIdle is the idle time after which both profiles' proxy
// stops an autostopping machine. Fly says "several minutes"
// (https://fly.io/docs/launch/autostop-autostart/) and checks "every few
// minutes"; five is flysim's pick.
const defaultAutostopIdle = 5 * time.Minute

// Realistic is the profile of a simulator at least as hard as Fly: slow to
// agree after a write, strict about machine config. Windows (simulated
// time, upper bounds): app 4 s with 1 in 4 answers a 401, machine and
// volume 3 s, machine and volume lists 5 s, stop 2 s; autostop after 5
// idle minutes; a stopped-wait needs the instance, start and stop are
// refused from busy states, and the documented rate limits apply.
func Realistic() Profile {
	return Profile{
		Name:                "realistic",
		AppPropagation:      4 * time.Second,
		AppUnauthorizedRate: 0.25,
		MachinePropagation:  3 * time.Second,
		ListLag:             5 * time.Second,
		Stopping:            2 * time.Second,
		AutostopIdle:        defaultAutostopIdle,
		StrictMachines:      true,
		WaitNeedsInstance:   true,
		RefuseBusy:          true,
		RateLimits:          true,
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
		"ListLag": p.ListLag, "Stopping": p.Stopping, "AutostopIdle": p.AutostopIdle,
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
