package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sealkit/sealkit/internal/browsertest"
	"go.uber.org/goleak"
)

// browser is the one headless Chromium the end-to-end tests share.
var browser = browsertest.NewBrowser()

// bins holds the binaries the tests run: the launcher, built by TestMain,
// and the standalone simulator, built by the first test that needs it.
var bins struct {
	dir, launcher string

	flysimOnce sync.Once
	flysim     string
	flysimErr  error
}

// flysimBin returns the standalone simulator binary, building it once.
func flysimBin(t testing.TB) string {
	t.Helper()
	bins.flysimOnce.Do(func() {
		bins.flysim = filepath.Join(bins.dir, "flysim")
		bins.flysimErr = goBuild(bins.flysim, "../flysim")
	})
	if bins.flysimErr != nil {
		t.Fatalf("build example/flysim: %v", bins.flysimErr)
	}
	return bins.flysim
}

func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(browser.Wrap(buildFirst{m}))
}

// buildFirst builds the launcher binary the end-to-end tests run as
// processes before the tests, and removes the binaries after.
type buildFirst struct{ m *testing.M }

func (b buildFirst) Run() int {
	dir, err := os.MkdirTemp("", "launcher-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins.dir = dir
	bins.launcher = filepath.Join(dir, "launcher")
	if err := goBuild(bins.launcher, "."); err != nil {
		fmt.Fprintf(os.Stderr, "build the launcher: %v\n", err)
		return 1
	}
	return b.m.Run()
}
