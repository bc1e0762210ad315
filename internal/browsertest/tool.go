package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// Tool returns the path of the named command that a test drives, such as
// node or npm. Without it, Tool skips the test, or fails it when
// SEALKIT_REQUIRE_TOOLS is 1; install says how to get the command (make deps
// does it). It returns "" after a skip or a failure.
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	Missing(t, name+" not found on PATH", install)
	return ""
}

// Missing reports that what a test needs is not there: it skips the test, or
// fails it when SEALKIT_REQUIRE_TOOLS is 1, with why and how to install it.
func Missing(t testing.TB, why, install string) {
	t.Helper()
	if os.Getenv(RequireToolsEnv) == "1" {
		t.Fatalf("%s, and %s=1 forbids skipping: %s", why, RequireToolsEnv, install)
		return
	}
	t.Skipf("%s; skipping (%s)", why, install)
}
