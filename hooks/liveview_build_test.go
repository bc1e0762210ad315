package hooks_test

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

	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
	"github.com/sealkit/sealkit/internal/browsertest"
)

// liveViewDir holds package.json and package-lock.json pinning the real
// LiveView client (npm phoenix and phoenix_live_view) and the esbuild that
// Phoenix 1.8 bundles with, and the app.js that imports them.
const liveViewDir = "testdata/liveview"

// minNodeMajor is the oldest Node.js that esbuild 0.25 runs on (its
// "engines"); Debian 12's nodejs is 18.
const minNodeMajor = 18

// installStamp, inside node_modules, records what the last successful npm ci
// installed from: while it matches, npm ci is skipped.
const installStamp = ".sealkit-installed"

// nodeTools returns the paths of node and npm, or skips (fails under
// SEALKIT_REQUIRE_TOOLS=1) when either is missing or node is too old.
func nodeTools(t *testing.T) (node, npm string) {
	t.Helper()
	const install = "install Node.js 18 or later and npm (make deps: apt-get install nodejs npm)"
	node = browsertest.Tool(t, "node", install)
	npm = browsertest.Tool(t, "npm", install)
	if node == "" || npm == "" {
		return "", ""
	}
	out, err := exec.Command(node, "--version").Output()
	require.NoError(t, err, "node --version")
	version := strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if err != nil || major < minNodeMajor {
		browsertest.Missing(t, fmt.Sprintf("node %s is older than %d", version, minNodeMajor), install)
		return "", ""
	}
	return node, npm
}

// npmCI installs the locked packages of dir into dir/node_modules with npm ci,
// unless the stamp there shows that the same package.json, lock file, Node
// version and platform installed them and every pinned package is present in
// its pinned version. Install scripts do not run: esbuild works without its
// optional postinstall, and nothing else has one.
func npmCI(t *testing.T, node, npm, dir string) {
	t.Helper()
	want := installFingerprint(t, node, dir)
	stamp := filepath.Join(dir, "node_modules", installStamp)
	if got, err := os.ReadFile(stamp); err == nil && string(got) == want && pinsInstalled(t, dir) == nil {
		t.Logf("npm ci skipped: node_modules matches %s", installStamp)
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci in %s:\n%s", dir, out)
	require.NoError(t, pinsInstalled(t, dir))
	require.NoError(t, os.WriteFile(stamp, []byte(want), 0o644))
	t.Logf("npm ci: %v", time.Since(start).Round(time.Millisecond))
}

// installFingerprint names what an install depends on.
func installFingerprint(t *testing.T, node, dir string) string {
	t.Helper()
	h := sha256.New()
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	version, err := exec.Command(node, "--version").Output()
	require.NoError(t, err)
	fmt.Fprintf(h, "node %s %s/%s\n", bytes.TrimSpace(version), runtime.GOOS, runtime.GOARCH)
	return hex.EncodeToString(h.Sum(nil)) + "\n"
}

// pinsInstalled checks that node_modules holds every dependency of
// package.json in exactly its pinned version.
func pinsInstalled(t *testing.T, dir string) error {
	t.Helper()
	pins := packageVersions(t, filepath.Join(dir, "package.json"))
	for name, version := range pins {
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
		if err != nil {
			return err
		}
		var pkg struct{ Version string }
		if err := json.Unmarshal(b, &pkg); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if pkg.Version != version {
			return fmt.Errorf("node_modules has %s %s, package.json pins %s", name, pkg.Version, version)
		}
	}
	return nil
}

// packageVersions reads the dependencies of a package.json.
func packageVersions(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var pkg struct{ Dependencies map[string]string }
	require.NoError(t, json.Unmarshal(b, &pkg))
	require.NotEmpty(t, pkg.Dependencies)
	return pkg.Dependencies
}

// liveViewApp is the bundle a Phoenix 1.8 app serves as /assets/js/app.js,
// and the phoenix_live_view version in it.
type liveViewApp struct {
	bundle  []byte
	version string
}

// buildLiveViewApp installs the pinned packages and bundles app.js the way
// Phoenix 1.8 does (mix esbuild: cd assets, NODE_PATH at the packages, the
// arguments of config/config.exs), with sealkit-resume.js vendored into
// assets/vendor/.
func buildLiveViewApp(t *testing.T) liveViewApp {
	t.Helper()
	node, npm := nodeTools(t)
	if node == "" {
		return liveViewApp{}
	}
	dir, err := filepath.Abs(liveViewDir)
	require.NoError(t, err)
	npmCI(t, node, npm, dir)

	app := t.TempDir()
	assets := filepath.Join(app, "assets")
	copyFile(t, filepath.Join(dir, "assets", "js", "app.js"), filepath.Join(assets, "js", "app.js"))
	copyFile(t, hooks.ScriptFile, filepath.Join(assets, "vendor", hooks.ScriptFile))
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "node_modules", "esbuild", "bin", "esbuild"),
		"js/app.js", "--bundle", "--target=es2022", "--outdir=../priv/static/assets/js",
		"--external:/fonts/*", "--external:/images/*", "--alias:@=.")
	cmd.Dir = assets
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "esbuild:\n%s", out)
	bundle, err := os.ReadFile(filepath.Join(app, "priv", "static", "assets", "js", "app.js"))
	require.NoError(t, err)
	t.Logf("esbuild: %d bytes in %v", len(bundle), time.Since(start).Round(time.Millisecond))
	return liveViewApp{bundle: bundle, version: packageVersions(t, filepath.Join(dir, "package.json"))["phoenix_live_view"]}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
	require.NoError(t, os.WriteFile(to, b, 0o644))
}
