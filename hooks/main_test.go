package hooks_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/sealkit/sealkit/internal/browsertest"
)

// browser is the one Chromium of this package's browser tests; each test
// gets its own tab.
var browser = browsertest.NewBrowser()

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(browser.Wrap(m))
}
