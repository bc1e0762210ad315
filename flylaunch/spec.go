package flylaunch

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"

	fly "github.com/superfly/fly-go"
)

// Defaults applied by [Spec.withDefaults].
const (
	// DefaultOrg is the organization slug used when [Spec.Org] is empty.
	DefaultOrg = "personal"
	// DefaultImage is the Livebook image used when [Spec.Image] is empty:
	// a pinned release, so that every launch runs the Livebook it was
	// tested with and a restart never upgrades it behind the user's back.
	// Livebook 0.19.8 is on hex.pm, tagged v0.19.8 in livebook-dev/livebook,
	// whose release workflow pushes each vX.Y.Z tag to ghcr.io as X.Y.Z.
	DefaultImage = "ghcr.io/livebook-dev/livebook:0.19.8"
	// DefaultSize is the guest preset used when [Spec.Size] is empty.
	DefaultSize = "shared-cpu-1x"
	// DefaultMemoryMB is the guest memory used when [Spec.MemoryMB] is 0.
	DefaultMemoryMB = 1024
	// DefaultInternalPort is the port Livebook listens on inside the machine.
	DefaultInternalPort = 8080
	// DefaultHealthPath is the path of the HTTP health check.
	DefaultHealthPath = "/public/health"
	// DefaultRestart is the machine restart policy used when [Spec.Restart]
	// is empty: on-failure, which Fly recommends for machines with services
	// (Fly's proxy starts them on request) and which fly launch uses; with
	// "always" an autostopped machine would not stay stopped.
	DefaultRestart fly.MachineRestartPolicy = "on-failure"
	// DefaultVolumeSizeGB is the size of the launch's volume when
	// [Spec.VolumeSizeGB] is 0.
	DefaultVolumeSizeGB = 1
)

// ErrInvalidSpec is matched (errors.Is) by every [*SpecError].
var ErrInvalidSpec = errors.New("flylaunch: invalid launch spec")

// ErrInvalidAppName is matched (errors.Is) by every [*NameError].
var ErrInvalidAppName = errors.New("flylaunch: invalid app name")

// SpecError reports an invalid field of a [Spec] or [Record].
type SpecError struct {
	// Field is the Go name of the offending field, e.g. "Region".
	Field string
	// Reason says what is wrong, without echoing secret values.
	Reason string
}

// Error implements error.
func (e *SpecError) Error() string {
	return fmt.Sprintf("flylaunch: invalid %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidSpec) true.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// NameError reports an app name that breaks Fly's naming rules.
type NameError struct {
	// Name is the rejected name.
	Name string
	// Reason says which rule it breaks.
	Reason string
}

// Error implements error.
func (e *NameError) Error() string {
	return fmt.Sprintf("flylaunch: invalid app name %q: %s", e.Name, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidAppName) and errors.Is(err,
// ErrInvalidSpec) true.
func (e *NameError) Is(target error) bool {
	return target == ErrInvalidAppName || target == ErrInvalidSpec
}

// ValidateImage checks that image is one a [Spec] may launch: no
// whitespace, and pinned to a digest or a tag other than latest, so that
// the image does not change under a launch that resumes or restarts. It
// returns nil or a [*SpecError] for the field Image. A program that takes
// the image from its users (a flag, say) checks it with ValidateImage
// before its first launch.
func ValidateImage(image string) error {
	if strings.ContainsAny(image, " \t\r\n") {
		return &SpecError{Field: "Image", Reason: "must not contain whitespace"}
	}
	if !pinned(image) {
		return &SpecError{Field: "Image", Reason: fmt.Sprintf("%q must name a tag other than latest, or a digest", image)}
	}
	return nil
}

// ValidateAppName checks name against Fly's rules: 2 to 63 characters,
// lowercase ASCII letters, digits and dashes, starting with a letter — and,
// since the name becomes the DNS label of <app>.fly.dev, not ending with a
// dash. It returns nil or a [*NameError].
func ValidateAppName(name string) error {
	switch {
	case len(name) < 2:
		return &NameError{Name: name, Reason: "must be at least 2 characters"}
	case len(name) > 63:
		return &NameError{Name: name, Reason: "must be at most 63 characters"}
	case name[0] < 'a' || name[0] > 'z':
		return &NameError{Name: name, Reason: "must start with a lowercase letter"}
	case name[len(name)-1] == '-':
		return &NameError{Name: name, Reason: "must not end with a dash"}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return &NameError{Name: name, Reason: fmt.Sprintf("character %d must be a lowercase letter, digit or dash", i+1)}
		}
	}
	return nil
}

// Secrets maps secret names (e.g. "LIVEBOOK_PASSWORD") to values. Formatting
// it with fmt or logging it with slog shows the names only, never the values.
type Secrets map[string]string

// Format implements fmt.Formatter so that every verb, %#v included, prints
// the sorted names with the values redacted.
func (s Secrets) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprint(f, s.redacted())
}

// LogValue implements slog.LogValuer with the values redacted.
func (s Secrets) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

func (s Secrets) redacted() string {
	names := slices.Sorted(maps.Keys(s))
	for i, n := range names {
		names[i] = n + "=REDACTED"
	}
	return "Secrets{" + strings.Join(names, " ") + "}"
}

// Spec describes the Livebook to deploy. Only App and Region are required;
// the zero value of every other field means its documented default.
type Spec struct {
	// App is the Fly app name; see [ValidateAppName].
	App string
	// Org is the organization slug; default [DefaultOrg].
	Org string
	// Region is the three-letter Fly region code, e.g. "iad".
	Region string
	// Image is the container image; default [DefaultImage]. It must be
	// pinned: a tag other than "latest", or a digest.
	Image string
	// Size is a fly-go guest preset such as "shared-cpu-1x" or
	// "shared-cpu-2x"; default [DefaultSize].
	Size string
	// MemoryMB is the guest memory, a multiple of 256 within the preset's
	// per-CPU limits; default [DefaultMemoryMB].
	MemoryMB int
	// Env holds plain environment variables for the machine.
	Env map[string]string
	// Secrets become app secrets (e.g. LIVEBOOK_PASSWORD) set before the
	// machine launches. They are only needed until [StepSecrets] completes.
	// For a Livebook image without [LivebookKeyBase] here, the deploy
	// generates one (see [LivebookKeyBase]).
	Secrets Secrets
	// InternalPort is the port Livebook listens on; default
	// [DefaultInternalPort]. Fly serves it on 80 (http) and 443 (tls+http).
	InternalPort int
	// HealthPath is the path of the HTTP health check; default
	// [DefaultHealthPath].
	HealthPath string
	// Restart is the machine restart policy; default [DefaultRestart].
	Restart fly.MachineRestartPolicy
	// VolumeSizeGB is the size of the volume that keeps Livebook's home
	// and data, 1 to 500; default [DefaultVolumeSizeGB].
	VolumeSizeGB int
}

// LogValue implements slog.LogValuer: the app, org, region, image and size,
// never the secrets.
func (s Spec) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("app", s.App), slog.String("org", s.Org), slog.String("region", s.Region),
		slog.String("image", s.Image), slog.String("size", s.Size),
	)
}

// URL returns the public URL of the deployed app, https://<app>.fly.dev.
func (s Spec) URL() string { return "https://" + s.App + ".fly.dev" }

// withDefaults returns a copy of s with the documented defaults filled in.
func (s Spec) withDefaults() Spec {
	if s.Org == "" {
		s.Org = DefaultOrg
	}
	if s.Image == "" {
		s.Image = DefaultImage
	}
	if s.Size == "" {
		s.Size = DefaultSize
	}
	if s.MemoryMB == 0 {
		s.MemoryMB = DefaultMemoryMB
	}
	if s.InternalPort == 0 {
		s.InternalPort = DefaultInternalPort
	}
	if s.HealthPath == "" {
		s.HealthPath = DefaultHealthPath
	}
	if s.Restart == "" {
		s.Restart = DefaultRestart
	}
	if s.VolumeSizeGB == 0 {
		s.VolumeSizeGB = DefaultVolumeSizeGB
	}
	return s
}

// Validate reports the first problem with s (after defaults) as a
// [*SpecError] or [*NameError], or nil.
func (s Spec) Validate() error {
	s = s.withDefaults()
	if err := ValidateAppName(s.App); err != nil {
		return err
	}
	if !validSlug(s.Org) {
		return &SpecError{Field: "Org", Reason: fmt.Sprintf("%q is not an organization slug", s.Org)}
	}
	if !validRegion(s.Region) {
		return &SpecError{Field: "Region", Reason: fmt.Sprintf("%q is not a three-letter region code", s.Region)}
	}
	if err := ValidateImage(s.Image); err != nil {
		return err
	}
	if s.VolumeSizeGB < 1 || s.VolumeSizeGB > 500 {
		return &SpecError{Field: "VolumeSizeGB", Reason: fmt.Sprintf("%d is not in [1, 500]", s.VolumeSizeGB)}
	}
	if _, err := s.guest(); err != nil {
		return err
	}
	if s.InternalPort < 1 || s.InternalPort > 65535 {
		return &SpecError{Field: "InternalPort", Reason: fmt.Sprintf("%d is not a TCP port", s.InternalPort)}
	}
	if !strings.HasPrefix(s.HealthPath, "/") {
		return &SpecError{Field: "HealthPath", Reason: "must start with /"}
	}
	switch s.Restart {
	case fly.MachineRestartPolicyNo, fly.MachineRestartPolicyOnFailure, fly.MachineRestartPolicyAlways:
	default:
		return &SpecError{Field: "Restart", Reason: fmt.Sprintf("unknown policy %q", s.Restart)}
	}
	if err := s.livebookConsistent(); err != nil {
		return err
	}
	for k := range s.Env {
		if !validEnvName(k) {
			return &SpecError{Field: "Env", Reason: fmt.Sprintf("%q is not an environment variable name", k)}
		}
	}
	for k := range s.Secrets {
		if !validEnvName(k) {
			return &SpecError{Field: "Secrets", Reason: fmt.Sprintf("%q is not an environment variable name", k)}
		}
		if _, dup := s.Env[k]; dup {
			return &SpecError{Field: "Secrets", Reason: fmt.Sprintf("%q is also set in Env", k)}
		}
	}
	return nil
}

// guest resolves Size and MemoryMB into a machine guest.
func (s Spec) guest() (*fly.MachineGuest, error) {
	g := &fly.MachineGuest{}
	if err := g.SetSize(s.Size); err != nil {
		return nil, &SpecError{Field: "Size", Reason: fmt.Sprintf("unknown guest preset %q", s.Size)}
	}
	lo, hi := fly.MIN_MEMORY_MB_PER_CPU, fly.MAX_MEMORY_MB_PER_CPU
	if g.CPUKind == "shared" {
		lo, hi = fly.MIN_MEMORY_MB_PER_SHARED_CPU, fly.MAX_MEMORY_MB_PER_SHARED_CPU
	}
	lo, hi = lo*g.CPUs, hi*g.CPUs
	if s.MemoryMB%256 != 0 || s.MemoryMB < lo || s.MemoryMB > hi {
		return nil, &SpecError{Field: "MemoryMB", Reason: fmt.Sprintf("%d MB for %s must be a multiple of 256 in [%d, %d]", s.MemoryMB, s.Size, lo, hi)}
	}
	g.MemoryMB = s.MemoryMB
	return g, nil
}

func validSlug(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

func validRegion(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// What a Livebook image serves: the port from LIVEBOOK_PORT (default 8080,
// Livebook's config/prod.exs) and an unauthenticated health endpoint
// (lib/livebook_web/router.ex).
const (
	livebookPortEnv    = "LIVEBOOK_PORT"
	livebookPort       = 8080
	livebookHealthPath = "/public/health"
)

// LivebookKeyBase is the secret that signs a Livebook's sessions and
// cookies. Livebook's README: without it, Livebook generates a random one
// on every boot, so every wake-up of a machine Fly's proxy stopped while
// idle would sign the user out. A deploy of a Livebook image whose
// [Spec.Secrets] lack it generates one in [StepSecrets]: 64 random bytes,
// base64url (86 characters; Livebook wants at least 64), sent to Fly as
// an app secret with the others and kept nowhere else — not in the
// [Record], the events or the logs, so the caller never sees it. A resumed
// deploy whose [StepSecrets] had not completed generates a new one, and
// like every secret it never overwrites one the app already has. To choose
// the value, set it in [Spec.Secrets] (at least 64 characters); it must
// not be in [Spec.Env], where the machine config would show it.
const LivebookKeyBase = "LIVEBOOK_SECRET_KEY_BASE"

// livebookKeyBaseMin is the shortest key base Livebook (Phoenix) accepts.
const livebookKeyBaseMin = 64

// generatesKeyBase reports whether a deploy of s adds a generated
// [LivebookKeyBase] to its secrets.
func (s Spec) generatesKeyBase() bool {
	_, set := s.Secrets[LivebookKeyBase]
	return isLivebookImage(s.Image) && !set
}

// newKeyBase returns a fresh Livebook key base: 64 random bytes,
// base64url without padding.
func newKeyBase() (string, error) {
	var b [64]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", errors.Join(errors.New("flylaunch: generate "+LivebookKeyBase), err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// livebookConsistent refuses a Livebook spec whose service or health check
// points where Livebook does not listen: such a machine starts but never
// becomes healthy, so it is better refused before anything is created.
// Other images are the caller's business.
func (s Spec) livebookConsistent() error {
	if !isLivebookImage(s.Image) {
		return nil
	}
	port := livebookPort
	if v, ok := s.Env[livebookPortEnv]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return &SpecError{Field: "Env", Reason: fmt.Sprintf("%s=%q is not a TCP port", livebookPortEnv, v)}
		}
		port = n
	}
	if s.InternalPort != port {
		return &SpecError{Field: "InternalPort", Reason: fmt.Sprintf("%d, but Livebook listens on %d (%s)", s.InternalPort, port, livebookPortEnv)}
	}
	if s.HealthPath != livebookHealthPath {
		return &SpecError{Field: "HealthPath", Reason: fmt.Sprintf("%q, but Livebook answers health checks at %s", s.HealthPath, livebookHealthPath)}
	}
	if _, ok := s.Env[LivebookKeyBase]; ok {
		return &SpecError{Field: "Env", Reason: LivebookKeyBase + " belongs in Secrets: the machine config shows Env"}
	}
	if kb, ok := s.Secrets[LivebookKeyBase]; ok && len(kb) < livebookKeyBaseMin {
		return &SpecError{Field: "Secrets", Reason: fmt.Sprintf("%s must be at least %d characters", LivebookKeyBase, livebookKeyBaseMin)}
	}
	return nil
}

// pinned reports whether image names a digest, or a tag other than
// "latest": an image that moves under a running launch is not pinned.
func pinned(image string) bool {
	if strings.Contains(image, "@") {
		return true
	}
	i := strings.LastIndexByte(image, ':')
	if i <= strings.LastIndexByte(image, '/') {
		return false
	}
	tag := image[i+1:]
	return tag != "" && tag != "latest"
}

// isLivebookImage reports whether image is Livebook's, from GitHub's
// registry or Docker Hub, with any tag or digest.
func isLivebookImage(image string) bool {
	repo := image
	if i := strings.IndexByte(repo, '@'); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo = repo[:i]
	}
	switch repo {
	case "ghcr.io/livebook-dev/livebook", "livebook/livebook", "docker.io/livebook/livebook":
		return true
	}
	return false
}
