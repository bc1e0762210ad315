package browsertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MinNodeMajor is the oldest Node.js [NPMCI] accepts: Debian 12's nodejs.
const MinNodeMajor = 18

// installStamp, inside node_modules, records what the last successful npm ci
// installed from: while it matches, npm ci is skipped.
const installStamp = ".sealkit-installed"

// nodeInstall says how to get node and npm.
const nodeInstall = "install Node.js 18 or later and npm (make deps: apt-get install nodejs npm)"

// NPMCI installs the npm packages that dir's package.json and
// package-lock.json pin (exact versions) into dir/node_modules with npm ci,
// without install scripts, and returns the node binary's path. It skips
// npm ci while a stamp in node_modules shows that the same files, Node
// version and platform installed them and every pinned version is there.
//
// Without node or npm, or with a node older than [MinNodeMajor], it skips
// the test, or fails it when SEALKIT_REQUIRE_TOOLS is 1, and returns "".
func NPMCI(t testing.TB, dir string) (node string) {
	t.Helper()
	node, npm := Tool(t, "node", nodeInstall), Tool(t, "npm", nodeInstall)
	if node == "" || npm == "" {
		return ""
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	version := strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if err != nil || major < MinNodeMajor {
		Missing(t, fmt.Sprintf("node %s is older than %d", version, MinNodeMajor), nodeInstall)
		return ""
	}
	want := fingerprint(t, version, dir)
	stamp := filepath.Join(dir, "node_modules", installStamp)
	if got, err := os.ReadFile(stamp); err == nil && string(got) == want && pinsInstalled(t, dir) == nil {
		t.Logf("npm ci skipped in %s: node_modules matches %s", dir, installStamp)
		return node
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	if err := pinsInstalled(t, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("npm ci in %s: %v", dir, time.Since(start).Round(time.Millisecond))
	return node
}

// fingerprint names what an install depends on.
func fingerprint(t testing.TB, nodeVersion, dir string) string {
	t.Helper()
	h := sha256.New()
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "node %s %s/%s\n", nodeVersion, runtime.GOOS, runtime.GOARCH)
	return hex.EncodeToString(h.Sum(nil)) + "\n"
}

// pinsInstalled checks that node_modules holds every dependency of
// package.json in exactly its pinned version.
func pinsInstalled(t testing.TB, dir string) error {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Dependencies map[string]string }
	if err := json.Unmarshal(b, &pkg); err != nil || len(pkg.Dependencies) == 0 {
		t.Fatalf("%s/package.json: no dependencies (%v)", dir, err)
	}
	for name, version := range pkg.Dependencies {
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
		if err != nil {
			return err
		}
		var got struct{ Version string }
		if err := json.Unmarshal(bytes.TrimSpace(b), &got); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if got.Version != version {
			return fmt.Errorf("node_modules has %s %s, package.json pins %s", name, got.Version, version)
		}
	}
	return nil
}
