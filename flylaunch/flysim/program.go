package flysim

import (
	"fmt"
	"strconv"

	fly "github.com/superfly/fly-go"
)

// What runs inside a machine under a strict Profile: the stand-in Livebook
// when the image is a Livebook image, nothing otherwise. Livebook's own
// boot rules (lib/livebook/config.ex): LIVEBOOK_PORT must be a
// non-negative integer (default 8080, config/prod.exs), and a
// LIVEBOOK_PASSWORD shorter than 12 bytes aborts the boot. The stand-in
// only knows password authentication, so it aborts without one too.
// GET /public/health answers without login (lib/livebook_web/router.ex).

const (
	livebookDefaultPort = 8080
	livebookHealthPath  = "/public/health"
	livebookPortEnv     = "LIVEBOOK_PORT"
	livebookMinPassword = 12
)

// program is what a machine's config makes its process do.
type program struct {
	known bool   // the image is one flysim can run
	port  int    // the port it listens on
	crash string // why it exits at boot; "" if it serves
}

// programOf reads m's config and the secrets it was started with.
func programOf(m *machine) program {
	if !knownImage(m.Config) {
		return program{}
	}
	p := program{known: true, port: livebookDefaultPort}
	if v, ok := envOf(m, livebookPortEnv); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.crash = fmt.Sprintf("expected %s to be a non-negative integer, got: %q", livebookPortEnv, v)
			return p
		}
		p.port = n
	}
	pw, ok := envOf(m, livebookPasswordSecret)
	switch {
	case !ok:
		p.crash = "cannot start Livebook without " + livebookPasswordSecret
	case len(pw) < livebookMinPassword:
		p.crash = fmt.Sprintf("cannot start Livebook because %s must be at least %d characters", livebookPasswordSecret, livebookMinPassword)
	}
	return p
}

// envOf looks name up as the process sees it: app secrets (as of the
// latest start) over the config's env.
func envOf(m *machine, name string) (string, bool) {
	if v, ok := m.SecretEnv[name]; ok {
		return v, true
	}
	if m.Config != nil {
		v, ok := m.Config.Env[name]
		return v, ok
	}
	return "", false
}

// knownImage reports whether c's image is a Livebook image, from GitHub's
// registry or Docker Hub, any tag or digest.
func knownImage(c *fly.MachineConfig) bool {
	ref := imageRef(c)
	switch {
	case ref.Registry == "ghcr.io" && ref.Repository == "livebook-dev/livebook":
		return true
	case ref.Registry == "docker-hub-mirror.fly.io" && ref.Repository == "livebook/livebook":
		return true
	}
	return false
}

// serves reports whether an HTTP check with this path, method and protocol
// gets a 2xx from the stand-in Livebook, and what it sees otherwise.
func serves(path, method, protocol string) (bool, string) {
	switch {
	case protocol == "https":
		return false, "tls: first record does not look like a TLS handshake"
	case method != "" && method != "GET" && method != "HEAD":
		return false, method + " " + path + ": 404 Not Found"
	case path == livebookHealthPath:
		return true, ""
	case len(path) >= 8 && path[:8] == "/public/":
		return false, "GET " + path + ": 404 Not Found"
	}
	return false, "GET " + path + ": 302 Found (redirect to /authenticate)"
}

// restartLimit is how many times the process may exit before the machine
// stays stopped under c's restart policy; 0 means never (always).
// Fly: no restarts for "no", MaxRetries (default 10) for "on-failure",
// which is also the policy when none is set.
func restartLimit(c *fly.MachineConfig) int {
	if c == nil || c.Restart == nil {
		return 1 + 10
	}
	switch c.Restart.Policy {
	case fly.MachineRestartPolicyAlways, fly.MachineRestartPolicySpotPrice:
		return 0
	case fly.MachineRestartPolicyNo:
		return 1
	}
	if c.Restart.MaxRetries > 0 {
		return 1 + c.Restart.MaxRetries
	}
	return 1 + 10
}
