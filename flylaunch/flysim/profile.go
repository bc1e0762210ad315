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
	// VolumeHostFullRate is the share (0..1) of volumes created without a
	// compute hint (CreateVolumeRequest's "compute") that land on a host
	// with room for the volume but not for a machine: a machine launched
	// on such a volume is refused for want of memory on that host, however
	// often it is tried. Whether a volume is one of them is drawn from
	// [Options.Seed] and the volume's ID, so a run repeats with the same
	// seed; 1 makes every unhinted volume one. With a hint, the volume
	// lands on a host with room for the hinted guest (a larger guest is
	// refused). 0 gives volumes' hosts no limit.
	// Fly: "Without a hint, your volume can end up on a host with room
	// for the volume but not for the Machine you want to attach to it"
	// (https://fly.io/docs/volumes/overview/, "Volume placement").
	VolumeHostFullRate float64
	// ImagePull is how long a host that has not pulled a machine's image
	// yet takes to pull and unpack it: the machine stays "created" that
	// much longer. Each host pulls each image once.
	ImagePull time.Duration
	// FreshVolumeBoot is how much longer the first boot on a new volume
	// takes (the volume is encrypted, opened and formatted before the VM
	// is configured): the machine stays "starting" that much longer.
	FreshVolumeBoot time.Duration
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
// volume 3 s, machine and volume lists 5 s, stop 2 s; the edge routes to
// a new app 30 s after its first machine started (5 s after a Livebook's
// checks pass); autostop after 5 idle minutes; a stopped-wait needs the
// instance, start and stop are refused from busy states, and the
// documented rate limits apply. Half the volumes created without a compute
// hint land on a host without room for a machine (flysim's pick; Fly says
// only "can").
// A first boot pulls the image for 12 s on a host that has not pulled it
// and takes 9 s longer on a new volume: in the log of Fly's "Watch an
// app's logs" (https://fly.io/docs/apps/info/), "Pulling container image"
// to "Setting up volume" takes 12 s (a small image; Livebook's is larger,
// flysim stays short to keep tests fast) and "Setting up volume" through
// "Encrypting volume" and "Formatting volume" to "Configuring
// firecracker" 8 s; the issue's real Livebook log showed about 9 s.
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
		VolumeHostFullRate:  0.5,
		ImagePull:           12 * time.Second,
		FreshVolumeBoot:     9 * time.Second,
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
		"ListLag": p.ListLag, "Stopping": p.Stopping, "AutostopIdle": p.AutostopIdle, "EdgeDelay": p.EdgeDelay,
		"ImagePull": p.ImagePull, "FreshVolumeBoot": p.FreshVolumeBoot,
	} {
		if d < 0 {
			return p, fmt.Errorf("%w: Profile.%s must not be negative, got %v", ErrInvalidOptions, name, d)
		}
	}
	if r := p.AppUnauthorizedRate; r < 0 || r > 1 || math.IsNaN(r) {
		return p, fmt.Errorf("%w: Profile.AppUnauthorizedRate must be within 0..1, got %v", ErrInvalidOptions, r)
	}
	if r := p.VolumeHostFullRate; r < 0 || r > 1 || math.IsNaN(r) {
		return p, fmt.Errorf("%w: Profile.VolumeHostFullRate must be within 0..1, got %v", ErrInvalidOptions, r)
	}
	return p, nil
}
