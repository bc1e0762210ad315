package flysim

// Machine states as the Machines API reports them
// (https://fly.io/docs/machines/machine-states/). fly-go v0.9.3 names only
// some of them (fly.MachineStateStarted and others).
const (
	stateCreated      = "created"
	stateStarting     = "starting"
	stateStarted      = "started"
	stateStopping     = "stopping"
	stateStopped      = "stopped"
	stateSuspending   = "suspending"
	stateSuspended    = "suspended"
	stateReplacing    = "replacing"
	stateDestroying   = "destroying"
	stateDestroyed    = "destroyed"
	stateFailed       = "failed"
	stateLaunchFailed = "launch_failed"
)

// machineStates lists every state, in lifecycle order.
func machineStates() []string {
	return []string{
		stateCreated, stateStarting, stateStarted, stateStopping, stateStopped,
		stateSuspending, stateSuspended, stateReplacing, stateDestroying,
		stateDestroyed, stateFailed, stateLaunchFailed,
	}
}

func isMachineState(s string) bool {
	for _, st := range machineStates() {
		if s == st {
			return true
		}
	}
	return false
}

// Boot kinds: what the latest start of a machine was.
const (
	bootLaunch = "launch"
	bootStart  = "start"
	bootUpdate = "update"
)
