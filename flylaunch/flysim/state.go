package flysim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// stateFile is the name of the state file inside Options.DataDir.
const stateFile = "flysim.json"

// stateVersion is the format version written to the state file.
const stateVersion = 1

// ErrCorruptState reports a state file that cannot be decoded.
var ErrCorruptState = errors.New("flysim: corrupt state file")

// state is everything the simulator persists. Secret values are kept here
// (the stand-in Livebook needs them) but never leave through the API.
type state struct {
	Version  int             `json:"version"`
	Apps     map[string]*app `json:"apps"`
	Reserved map[string]bool `json:"reserved,omitempty"`
	// Pulled holds "host image" for every image a host has pulled.
	Pulled map[string]bool `json:"pulled,omitempty"`
}

type app struct {
	ID                string               `json:"id"`
	Name              string               `json:"name"`
	InternalNumericID int32                `json:"internal_numeric_id"`
	Network           string               `json:"network"`
	Org               string               `json:"org"`
	CreatedAt         time.Time            `json:"created_at"`
	SecretsVersion    uint64               `json:"secrets_version"`
	Secrets           map[string]*secret   `json:"secrets"`
	IPs               []flaps.IPAssignment `json:"ips"`
	// IPOrgs is the organization slug each assignment's request named
	// ("org_slug"), by address; "" if it named none.
	IPOrgs   map[string]string   `json:"ip_orgs,omitempty"`
	Machines map[string]*machine `json:"machines"`
	Volumes  map[string]*volume  `json:"volumes,omitempty"`
	// VisibleAt is when the Machines API starts to see the app (the
	// Profile's AppPropagation); nil means at once.
	VisibleAt *time.Time `json:"visible_at,omitempty"`
}

type secret struct {
	Value     string    `json:"value"`
	Digest    string    `json:"digest"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type machine struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Region     string             `json:"region"`
	InstanceID string             `json:"instance_id"`
	PrivateIP  string             `json:"private_ip"`
	Config     *fly.MachineConfig `json:"config"`
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
	// StartAt is when the latest start was requested; nil while the machine
	// was created with skip_launch and never started.
	StartAt *time.Time `json:"start_at,omitempty"`
	// Boot says what the latest start was: bootLaunch (the create),
	// bootStart or bootUpdate; "" in older state files means bootLaunch.
	Boot      string     `json:"boot,omitempty"`
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	// Suspended says the stop at StoppedAt was a suspend.
	Suspended bool `json:"suspended,omitempty"`
	// VisibleAt is when routes naming the machine start to find it, and
	// ListedAt when machine lists start to show it (the Profile's
	// MachinePropagation and ListLag); nil means at once.
	VisibleAt   *time.Time `json:"visible_at,omitempty"`
	ListedAt    *time.Time `json:"listed_at,omitempty"`
	DestroyedAt *time.Time `json:"destroyed_at,omitempty"`
	// LastRequestAt is when the stand-in Livebook last answered a request
	// through the machine: the proxy's autostop counts idleness from it.
	LastRequestAt *time.Time `json:"last_request_at,omitempty"`
	// open counts the requests through the proxy that the machine is
	// serving now (a Livebook tab's long-lived connection among them):
	// Fly's proxy does not stop a machine with load. A restarted
	// simulator has dropped them all.
	open int

	Lease     *lease            `json:"lease,omitempty"`
	SecretEnv map[string]string `json:"secret_env,omitempty"`
	// Host is where the latest start ran; PullFor and FormatFor are how
	// long that start pulled the image and set up a new volume
	// (simulated time, see Server.boot).
	Host      string        `json:"host,omitempty"`
	PullFor   time.Duration `json:"pull_for,omitempty"`
	FormatFor time.Duration `json:"format_for,omitempty"`
}

type lease struct {
	Nonce     string    `json:"nonce"`
	Owner     string    `json:"owner"`
	ExpiresAt time.Time `json:"expires_at"`
	Version   string    `json:"version"`
}

func newState() *state {
	return &state{Version: stateVersion, Apps: map[string]*app{}, Reserved: map[string]bool{}, Pulled: map[string]bool{}}
}

// loadState reads dir/flysim.json; a missing file is an empty state.
// Temp files left by a crash mid-save are removed first.
func loadState(dir string) (*state, error) {
	path := filepath.Join(dir, stateFile)
	if stale, err := filepath.Glob(path + ".tmp-*"); err == nil {
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("flysim: read state: %w", err)
	}
	st := newState()
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrCorruptState, path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%w %s: unknown format version %d", ErrCorruptState, path, st.Version)
	}
	if st.Apps == nil {
		st.Apps = map[string]*app{}
	}
	if st.Reserved == nil {
		st.Reserved = map[string]bool{}
	}
	if st.Pulled == nil {
		st.Pulled = map[string]bool{}
	}
	for name, a := range st.Apps {
		if a == nil || a.Name != name {
			return nil, fmt.Errorf("%w %s: app entry %q is inconsistent", ErrCorruptState, path, name)
		}
		if a.Secrets == nil {
			a.Secrets = map[string]*secret{}
		}
		if a.Machines == nil {
			a.Machines = map[string]*machine{}
		}
		if a.Volumes == nil {
			a.Volumes = map[string]*volume{}
		}
		for id, v := range a.Volumes {
			if v == nil || v.ID != id {
				return nil, fmt.Errorf("%w %s: volume entry %q is inconsistent", ErrCorruptState, path, id)
			}
		}
		for id, m := range a.Machines {
			if m == nil || m.ID != id {
				return nil, fmt.Errorf("%w %s: machine entry %q is inconsistent", ErrCorruptState, path, id)
			}
		}
	}
	return st, nil
}

// saveState writes st atomically: temp file, fsync, rename, fsync dir.
func saveState(dir string, st *state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("flysim: encode state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, stateFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("flysim: save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("flysim: save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("flysim: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("flysim: save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("flysim: save state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("flysim: save state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("flysim: save state: %w", err)
	}
	return nil
}
