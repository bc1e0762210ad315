package sealkit_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/sealkit/sealkit/internal/browsertest"
)

// browser is the one Chromium of this package's browser tests; each test
// gets its own tab.
var browser = browsertest.NewBrowser()

func TestMain(m *testing.M) {
	if addr := os.Getenv(jobAppAddrEnv); addr != "" {
		os.Exit(serveJobApp(addr)) // a server process of TestJobAppSurvivesKill
	}
	goleak.VerifyTestMain(browser.Wrap(m))
}
