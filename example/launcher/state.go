package main

import (
	"errors"
	"fmt"

	"github.com/sealkit/sealkit/flylaunch"
)

// errForeignOrg refuses a sealed launch naming an organization other than
// the server's.
var errForeignOrg = errors.New("sealed for another Fly organization")

// launchState is what the browser keeps, sealed, while a launch runs: the
// launch's identity and its password, nothing that tells the server what
// to do. Organization, image and machine shape come from the server's
// configuration when the state comes back; the region and size are the
// user's choice from the page's catalog (Fly's word for the region once
// the machine exists). It never leaves the server unsealed.
type launchState struct {
	// LaunchID, App, AppID, Step, MachineID, VolumeID and AppCreated
	// identify the launch (see flylaunch.Record); they are re-sealed after
	// every step.
	LaunchID   string         `json:"launch_id"`
	App        string         `json:"app"`
	AppID      string         `json:"app_id,omitempty"`
	Step       flylaunch.Step `json:"step"`
	MachineID  string         `json:"machine_id"`
	VolumeID   string         `json:"volume_id,omitempty"`
	AppCreated bool           `json:"app_created"`
	// Region and Size are what the user picked (catalog codes).
	Region string `json:"region"`
	Size   string `json:"size"`
	// Password is the Livebook password, set as the LIVEBOOK_PASSWORD secret.
	Password string `json:"password"`
	// Steps holds how long each completed step took, so a resumed page still
	// shows the timings of the steps run by another instance.
	Steps []stepTime `json:"steps"`
	// StepStartedAt is when the step after Step began (Unix milliseconds),
	// so that a page resumed by a restarted server (which has none of the
	// deploy's history) keeps timing the running step from its start.
	StepStartedAt int64 `json:"step_started_at,omitempty"`
	// Org is never written. A state that names one (sealed by an older
	// version, or forged with a shared key base) must name the server's.
	Org string `json:"org,omitempty"`
}

// stepTime is the duration of one completed step.
type stepTime struct {
	Step flylaunch.Step `json:"step"`
	MS   int64          `json:"ms"`
}

// newLaunchState is the state of a launch just started.
func newLaunchState(rec flylaunch.Record, sz size, password string) launchState {
	st := launchState{Size: sz.ID, Password: password}
	st.update(rec)
	return st
}

// update takes the identity fields of a newer record.
func (s *launchState) update(rec flylaunch.Record) {
	s.LaunchID, s.App, s.AppID, s.Step, s.MachineID, s.VolumeID, s.AppCreated, s.Region =
		rec.LaunchID, rec.App, rec.AppID, rec.Step, rec.MachineID, rec.VolumeID, rec.AppCreated, rec.Region
}

// check refuses a state the server configured for org will not act on.
func (s launchState) check(org string) error {
	if s.Org != "" && s.Org != org {
		return errForeignOrg
	}
	if _, ok := findRegion(s.Region); !ok {
		return fmt.Errorf("unknown region %q", s.Region)
	}
	if _, ok := findSize(s.Size); !ok {
		return fmt.Errorf("%w %q", errUnknownSize, s.Size)
	}
	return s.record(org).Validate()
}

// record is the flylaunch record of the launch in org.
func (s launchState) record(org string) flylaunch.Record {
	return flylaunch.Record{
		LaunchID: s.LaunchID, App: s.App, AppID: s.AppID, Org: org, Region: s.Region,
		MachineID: s.MachineID, VolumeID: s.VolumeID, Step: s.Step, AppCreated: s.AppCreated,
	}
}

// spec rebuilds the flylaunch.Spec of the launch of image in org, secrets
// included. Call it on a checked state.
func (s launchState) spec(org, image string) flylaunch.Spec {
	sz, _ := findSize(s.Size)
	return flylaunch.Spec{
		App:      s.App,
		Org:      org,
		Region:   s.Region,
		Image:    image,
		Size:     sz.Preset,
		MemoryMB: sz.MemoryMB,
		Secrets:  flylaunch.Secrets{"LIVEBOOK_PASSWORD": s.Password},
	}
}
