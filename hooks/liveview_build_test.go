package hooks_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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
	dir, err := filepath.Abs(liveViewDir)
	require.NoError(t, err)
	node := browsertest.NPMCI(t, dir)
	if node == "" {
		return liveViewApp{}
	}

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
