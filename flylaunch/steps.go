package flylaunch

import (
	"context"
	"time"
)

// Step names one stage of a deploy, in the order they run.
type Step string

// The steps of a deploy, in order.
const (
	// StepCreateApp creates the app and waits until GetApp sees it.
	StepCreateApp Step = "create_app"
	// StepSecrets sets the app secrets and records their version.
	StepSecrets Step = "set_secrets"
	// StepIPs allocates a v6 and a shared v4 address.
	StepIPs Step = "allocate_ips"
	// StepVolume creates the volume that keeps Livebook's home and data.
	StepVolume Step = "create_volume"
	// StepLaunch launches the machine tagged with the launch ID.
	StepLaunch Step = "launch_machine"
	// StepStarted waits for the machine to reach "started".
	StepStarted Step = "wait_started"
	// StepHealthy waits for the machine's health checks to pass and, with
	// [Options.Public], for the Livebook to answer at its public URL.
	StepHealthy Step = "wait_healthy"
	// StepDone is the final step: the app answers at its URL.
	StepDone Step = "done"
)

// StepInfo is what a page shows of a step of a deploy.
type StepInfo struct {
	// Step is the step.
	Step Step
	// Title says what the step does, for a list of steps on a page:
	// "Create the app".
	Title string
	// Expected is about how long the step takes on Fly, measured against
	// flysim's realistic profile at Speed 1 (BENCHMARKS.md), with
	// [Options.Public] set. [Progress] weighs the steps by it.
	Expected time.Duration
}

// stepEntry is a step and the driver method that runs it.
type stepEntry struct {
	StepInfo
	run func(*driver, context.Context) error
}

// stepTable is every step a deploy runs, in order, with the driver method
// that runs it: the one list of steps.
func stepTable() [7]stepEntry {
	return [...]stepEntry{
		// The create, then the app propagating until GetApp sees it.
		{StepInfo{StepCreateApp, "Create the app", 4 * time.Second}, (*driver).createApp},
		{StepInfo{StepSecrets, "Store the password and session key as secrets", 500 * time.Millisecond}, (*driver).setSecrets},
		{StepInfo{StepIPs, "Allocate IP addresses", time.Second}, (*driver).allocateIPs},
		{StepInfo{StepVolume, "Create a volume for notebooks", time.Second}, (*driver).createVolume},
		{StepInfo{StepLaunch, "Launch the machine", time.Second}, (*driver).launchMachine},
		// The image pull, the volume's first boot, the machine starting.
		{StepInfo{StepStarted, "Wait for the machine to start", 41 * time.Second}, (*driver).waitStarted},
		// Health checks, then Fly's edge routing the public URL to it.
		{StepInfo{StepHealthy, "Wait for Livebook to answer", 28 * time.Second}, (*driver).waitHealthy},
	}
}

// Steps returns the steps of a deploy in the order they run, without
// [StepDone] (which only reports): a page's list of steps, and the
// weights of [Progress].
func Steps() []StepInfo {
	all := stepTable()
	out := make([]StepInfo, len(all))
	for i, s := range all {
		out[i] = s.StepInfo
	}
	return out
}

// stamp is t as a Record keeps it: UTC, to the millisecond.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// index returns the position of s in the step order; "" is -1, unknown -2.
func (s Step) index() int {
	if s == "" {
		return -1
	}
	all := stepTable()
	for i, st := range all {
		if st.Step == s {
			return i
		}
	}
	if s == StepDone {
		return len(all)
	}
	return -2
}

// Progress is how far a deploy is, weighted by the steps' expected
// durations so that it tracks time, not steps: done is the last completed
// step ([Record.Step]; "" before the first), and the next step has been
// running for runningFor (since [Record.Since]). It returns the fraction
// of the deploy's expected time behind it now, from 0 to 1, counting the
// running step by its elapsed share but at most 95% of it however long it
// takes; the fraction reached when the running step ends; and the time
// left until then as expected (0 once overdue). A page moves its bar from
// now to atStepEnd over left, and asks again at the next event. A done of
// [StepHealthy] or [StepDone] is 1, 1, 0; an unknown step counts as "".
//
// A caller whose clock runs faster than Fly's (a simulator at some Speed)
// scales runningFor up by the speed and left down by it.
func Progress(done Step, runningFor time.Duration) (now, atStepEnd float64, left time.Duration) {
	var total, before time.Duration
	all := stepTable()
	i := max(done.index(), -1)
	for j, s := range all {
		total += s.Expected
		if j <= i {
			before += s.Expected
		}
	}
	if i+1 >= len(all) {
		return 1, 1, 0
	}
	w := all[i+1].Expected
	elapsed := min(max(runningFor, 0), w*95/100)
	return float64(before+elapsed) / float64(total), float64(before+w) / float64(total), max(w-max(runningFor, 0), 0)
}
