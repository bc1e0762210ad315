// Package browsertest starts one headless Chromium for the tests of a package
// and gives each test its own tab, through github.com/chromedp/chromedp.
//
// A test package makes one [Browser] and closes it from TestMain, before the
// goroutine leak check:
//
//	var browser = browsertest.NewBrowser()
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(browser.Wrap(m)) }
//
//	func TestPage(t *testing.T) {
//		ctx := browser.Tab(t) // skips, or fails under SEALKIT_REQUIRE_TOOLS=1, without chromium
//		err := chromedp.Do(ctx, chromedp.Navigate(url))
//		...
//	}
//
// [RecordConsole] keeps a tab's console messages, uncaught exceptions and
// unhandled promise rejections for a test to check, and [Tool] finds another
// command a browser test drives (node, npm), skipping or failing like Tab.
// [NPMCI] installs the npm packages a test pins in its testdata (a
// package.json and package-lock.json of exact versions) with npm ci.
//
// Nothing starts until the first Tab, so a package whose browser tests are
// filtered out with -run never starts Chromium.
package browsertest
