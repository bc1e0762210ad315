package main

import "github.com/sealkit/sealkit/flylaunch"

// launchState is what the browser keeps, sealed, while a launch runs: enough
// for any launcher instance to resume the deploy and, at the end, show the
// password. It never leaves the server unsealed.
type launchState struct {
	// Record is flylaunch's resume record, re-sealed after every step.
	Record flylaunch.Record `etf:"record"`
	// Password is the Livebook password, set as the LIVEBOOK_PASSWORD secret.
	Password string `etf:"password"`
	// Size is the size ID chosen on the page (see sizes).
	Size string `etf:"size"`
	// Steps holds how long each completed step took, so a resumed page still
	// shows the timings of the steps run by another instance.
	Steps []stepTime `etf:"steps"`
}

// stepTime is the duration of one completed step.
type stepTime struct {
	Step flylaunch.Step `etf:"step"`
	MS   int64          `etf:"ms"`
}

// spec rebuilds the flylaunch.Spec of the launch, secrets included.
func (s launchState) spec() (flylaunch.Spec, error) {
	sz, ok := findSize(s.Size)
	if !ok {
		return flylaunch.Spec{}, errUnknownSize
	}
	return flylaunch.Spec{
		App:      s.Record.App,
		Org:      s.Record.Org,
		Region:   s.Record.Region,
		Size:     sz.Preset,
		MemoryMB: sz.MemoryMB,
		Secrets:  flylaunch.Secrets{"LIVEBOOK_PASSWORD": s.Password},
	}, nil
}
