package flylaunch

import (
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"
)

// MetadataKey is the machine metadata key holding the launch ID.
const MetadataKey = "flylaunch_id"

// DoneKey is the machine metadata key a deploy sets (to the time, RFC
// 3339) once the launch's machine passed its health checks, before it
// reports success: the fact, kept in Fly, that the launch finished. A
// deploy resumed later from any of the launch's records finds it and only
// reports ([Result.Reported]).
const DoneKey = "flylaunch_done"

// Record is the small, serializable state that lets any process resume a
// deploy. All fields are exported plain types with JSON tags so that it can
// be sealed (e.g. with sealkit's seal package) and handed back later. It
// holds no secrets.
type Record struct {
	// LaunchID identifies the deploy; it is stored in the machine's metadata
	// under [MetadataKey]. 32 lowercase hex digits.
	LaunchID string `json:"launch_id"`
	// App is the Fly app name.
	App string `json:"app"`
	// Org is the organization slug.
	Org string `json:"org"`
	// Region is the machine's region.
	Region string `json:"region"`
	// MachineID is the machine's ID once known.
	MachineID string `json:"machine_id,omitempty"`
	// VolumeID is the ID of the launch's volume once created. A record
	// made before launches had a volume has none past [StepLaunch]: such
	// a launch keeps running without one.
	VolumeID string `json:"volume_id,omitempty"`
	// SecretsVersion is the version UpdateAppSecrets returned, 0 if unset.
	SecretsVersion uint64 `json:"secrets_version,omitempty"`
	// Step is the last completed step, "" before the first.
	Step Step `json:"step,omitempty"`
	// Since is when the step after Step began: when Step completed, or
	// the deploy started (UTC, to the millisecond). A page times the
	// running step from it, in whichever process resumes the launch, and
	// passes it to [Progress]; a step's duration is the difference of two
	// successive records' Since. A waiting step a resumed deploy runs
	// again keeps it. Zero in records made before it was kept: a deploy
	// resumed from one times the next step from the resume.
	Since time.Time `json:"since,omitzero"`
	// AppID is Fly's ID of the launch's app (the id GetApp answers), as
	// first seen by the launch: a later app of the same name has another.
	// Every call on the launch afterwards ([Livebook], a resumed deploy)
	// checks it before acting, so a record cannot reach an app that merely
	// took the name over. "" in records made before it was kept: then
	// [Livebook.Delete] never deletes the app.
	AppID string `json:"app_id,omitempty"`
	// AppNumericID is Fly's numeric ID of the same app
	// (flaps.App.InternalNumericID), recorded with AppID: the ID Fly's
	// app caveat names, so a token narrowed to it with [AttenuateToApp]
	// reaches this app and no later app of the same name. 0 in records
	// made before it was kept, or while AppID is unknown.
	AppNumericID int64 `json:"app_numeric_id,omitempty"`
	// AppCreated is true once this launch's own CreateApp call succeeded:
	// the proof [Livebook.Delete] needs before it deletes the app. An app
	// adopted after an ambiguous create (the answer was lost) is not
	// proven, and is never deleted.
	AppCreated bool `json:"app_created,omitempty"`
}

// Validate checks that r is well formed: a valid launch ID, app name, org
// slug, region and step. It returns nil or a [*SpecError] / [*NameError].
func (r Record) Validate() error {
	if len(r.LaunchID) != 32 {
		return &SpecError{Field: "LaunchID", Reason: "must be 32 lowercase hex digits"}
	}
	if _, err := hex.DecodeString(r.LaunchID); err != nil || !isLowerHex(r.LaunchID) {
		return &SpecError{Field: "LaunchID", Reason: "must be 32 lowercase hex digits"}
	}
	if err := ValidateAppName(r.App); err != nil {
		return err
	}
	if !validSlug(r.Org) {
		return &SpecError{Field: "Org", Reason: fmt.Sprintf("%q is not an organization slug", r.Org)}
	}
	if !validRegion(r.Region) {
		return &SpecError{Field: "Region", Reason: fmt.Sprintf("%q is not a three-letter region code", r.Region)}
	}
	if r.Step.index() < -1 {
		return &SpecError{Field: "Step", Reason: fmt.Sprintf("unknown step %q", r.Step)}
	}
	if !validMachineID(r.MachineID) {
		return &SpecError{Field: "MachineID", Reason: "must be lowercase letters and digits"}
	}
	if r.Step.index() >= StepLaunch.index() && r.MachineID == "" {
		return &SpecError{Field: "MachineID", Reason: "missing after " + string(StepLaunch)}
	}
	if len(r.AppID) > 64 || !validToken(r.AppID) {
		return &SpecError{Field: "AppID", Reason: "must be at most 64 letters, digits, dashes or underscores"}
	}
	if r.AppNumericID < 0 || r.AppNumericID > math.MaxInt32 {
		return &SpecError{Field: "AppNumericID", Reason: "must be Fly's numeric app ID, 0 to 2147483647"}
	}
	if r.AppNumericID != 0 && r.AppID == "" {
		return &SpecError{Field: "AppNumericID", Reason: "is set without AppID: both come from one answer of Fly's"}
	}
	if !validVolumeID(r.VolumeID) {
		return &SpecError{Field: "VolumeID", Reason: "must be vol_ followed by lowercase letters and digits"}
	}
	if r.Step == StepVolume && r.VolumeID == "" {
		return &SpecError{Field: "VolumeID", Reason: "missing after " + string(StepVolume)}
	}
	return nil
}

// done reports whether step s is completed according to r.
func (r Record) done(s Step) bool { return r.Step.index() >= s.index() }

// Finished reports whether the launch r describes reached healthy: resuming
// it only reports what Fly says now, and creates, changes or destroys
// nothing.
func (r Record) Finished() bool { return r.done(StepHealthy) }

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'f') {
			return false
		}
	}
	return true
}

// validToken reports an ID made of ASCII letters, digits, dashes and
// underscores ("" included).
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func validVolumeID(s string) bool {
	if s == "" {
		return true
	}
	id, ok := strings.CutPrefix(s, "vol_")
	return ok && id != "" && validMachineID(id)
}

func validMachineID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'z') {
			return false
		}
	}
	return true
}
