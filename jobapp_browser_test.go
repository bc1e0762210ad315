package sealkit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal"
)

// The README's job app (newServer, example_test.go) in Chromium: the page as
// the README writes it, driven only through what a user does (load, click,
// reload) and what a user sees (the text of #out).

const (
	// jobAppAddrEnv, set, makes the test binary a server process of the
	// job app listening on its value (see TestMain), with the key base
	// SECRET_KEY_BASE and the step jobAppStepEnv.
	jobAppAddrEnv = "SEALKIT_TEST_JOBAPP_ADDR"
	jobAppStepEnv = "SEALKIT_TEST_JOBAPP_STEP"
	// jobAppReady is what a server process prints, with its address, once
	// it listens.
	jobAppReady = "job app listening on "
)

// jobAppKeyBase is the test key base: the bytes of a string, as the README
// says SECRET_KEY_BASE is used.
var jobAppKeyBase = []byte("job-app-test-key-base-at-least-32-bytes-long")

// serveJobApp is the body of the README's main on addr, with the step of
// jobAppStepEnv: a server process that TestJobAppSurvivesKill kills with
// SIGKILL. It returns the exit code.
func serveJobApp(addr string) int {
	step, err := time.ParseDuration(os.Getenv(jobAppStepEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv, err := newServer([]byte(os.Getenv("SECRET_KEY_BASE")), ln.Addr().String(), step)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(jobAppReady + ln.Addr().String())
	fmt.Fprintln(os.Stderr, http.Serve(ln, srv))
	return 1
}

// recordJS runs in every document of the tab before the page's own
// scripts. It keeps, in sessionStorage so that it survives reloads, a log
// of the tab: each document's start with the blob the page will hand back,
// and each text #out shows. The first document reloads itself as soon as
// it shows the text %q (none when empty), so the reload falls mid-job
// whatever the machine's speed.
const recordJS = `(() => {
  const log = () => JSON.parse(sessionStorage.getItem("test.log") || "[]");
  const add = (e) => sessionStorage.setItem("test.log", JSON.stringify([...log(), e]));
  const load = log().filter((e) => e.kind === "load").length + 1;
  add({kind: "load", load, blob: sessionStorage.getItem("job")});
  window.alert = (m) => add({kind: "alert", load, text: String(m)});
  new MutationObserver(() => {
    const out = document.getElementById("out");
    if (!out) return;
    add({kind: "text", load, text: out.textContent});
    if (load === 1 && out.textContent === %q) location.reload();
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();`

// logEntry is one entry of recordJS's log.
type logEntry struct {
	Kind string  `json:"kind"` // load, text, alert or mark
	Load int     `json:"load"` // the document: 1, then 2 after a reload
	Blob *string `json:"blob"` // load: the blob in sessionStorage
	Text string  `json:"text"` // text, alert, mark
}

// jobTab is a tab that records what the job app's page shows.
type jobTab struct {
	t   *testing.T
	ctx context.Context
}

func newJobTab(t *testing.T, reloadAt string) *jobTab {
	t.Helper()
	tab := &jobTab{t: t, ctx: browser.Tab(t)}
	src := fmt.Sprintf(recordJS, reloadAt)
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	})))
	return tab
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tab *jobTab, expr string) T {
	tab.t.Helper()
	v, err := chromedp.Run(tab.ctx, chromedp.Evaluate[T](expr))
	require.NoError(tab.t, err, "evaluating %s", expr)
	return v
}

func (tab *jobTab) log() []logEntry {
	tab.t.Helper()
	return eval[[]logEntry](tab, `JSON.parse(sessionStorage.getItem("test.log") || "[]")`)
}

// mark adds an entry to the log, to tell what came after it, and returns
// its index.
func (tab *jobTab) mark(text string) int {
	tab.t.Helper()
	return eval[int](tab, `(() => { const log = JSON.parse(sessionStorage.getItem("test.log"));
  log.push({kind: "mark", text: `+fmt.Sprintf("%q", text)+`}); sessionStorage.setItem("test.log", JSON.stringify(log)); return log.length - 1; })()`)
}

// waitShown waits until #out has shown a text that matches re, within a
// bound far above what the test's job takes, and fails with the log
// otherwise. A poll that a reload interrupts starts again.
func (tab *jobTab) waitShown(re string) {
	tab.t.Helper()
	expr := fmt.Sprintf(`JSON.parse(sessionStorage.getItem("test.log") || "[]").some((e) => e.kind === "text" && new RegExp(%q).test(e.text))`, re)
	deadline := time.Now().Add(45 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if _, err = chromedp.Run(tab.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline)))); err == nil {
			return
		}
		if tab.ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond) // a reload: the new document polls again
	}
	tab.t.Fatalf("waiting for #out to show %s: %v\nlog: %+v", re, err, tab.log())
}

// blobStep opens a blob of the page as the server does and returns the
// step of the job in it.
func blobStep(t *testing.T, blob string) int {
	t.Helper()
	sealer, err := seal.New(jobAppKeyBase)
	require.NoError(t, err)
	var doc []byte
	require.NoError(t, sealer.Decrypt("job", blob, &doc), "the page's blob opens with the key base")
	var env struct{ State Job } // resume/PROTOCOL.md, 3.4
	require.NoError(t, json.Unmarshal(doc, &env))
	return env.State.Step
}

// texts returns what #out showed in the entries, repeats left out.
func texts(entries []logEntry) []string {
	var out []string
	for _, e := range entries {
		if e.Kind == "text" && (len(out) == 0 || out[len(out)-1] != e.Text) {
			out = append(out, e.Text)
		}
	}
	return out
}

// stepsFrom returns what #out shows of a job from step from to its end.
func stepsFrom(from int) []string {
	var want []string
	for s := from; s < 10; s++ {
		want = append(want, fmt.Sprintf("Step %d of 10…", s))
	}
	return want
}

var doneRe = regexp.MustCompile(`^Done\. Your secret: ([A-Z2-7]{26})$`) // rand.Text: base32, 26 characters

// checkDone checks the end of a job: the page shows the secret, has
// forgotten the job and offers to start another.
func (tab *jobTab) checkDone(shown []string) {
	tab.t.Helper()
	require.NotEmpty(tab.t, shown)
	assert.Regexp(tab.t, doneRe, shown[len(shown)-1], "the job ends with its secret")
	_, err := chromedp.Run(tab.ctx, chromedp.Poll[bool](`sessionStorage.getItem("job") === null && !document.getElementById("start").hidden`,
		chromedp.WithPollingTimeout(15*time.Second)))
	assert.NoError(tab.t, err, "at the end the page forgets the job and offers Start again")
	for _, e := range tab.log() {
		assert.NotEqual(tab.t, "alert", e.Kind, "no action failed: %s", e.Text)
	}
}

// TestJobAppInChromium loads the README's job app, starts its job, and
// reloads the page mid-job (at step 2): the reloaded page hands its blob
// back, and the job goes on from the step in it to the secret, not from
// the start.
func TestJobAppInChromium(t *testing.T) {
	srv, err := newServer(jobAppKeyBase, "127.0.0.1:0", 100*time.Millisecond)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	tab := newJobTab(t, "Step 2 of 10…")
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.Navigate(ts.URL+"/")))
	tab.waitShown(`^No job\.$`)
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.Click(chromedp.CSS("#start"))))
	tab.waitShown(doneRe.String())

	var first, second []logEntry
	var blob *string
	for _, e := range tab.log() {
		switch {
		case e.Kind == "load" && e.Load == 2:
			blob = e.Blob
		case e.Load == 1:
			first = append(first, e)
		case e.Load == 2:
			second = append(second, e)
		}
	}
	shown := texts(first)
	require.GreaterOrEqual(t, len(shown), 5, "before the reload: %q", shown)
	assert.Equal(t, []string{"Connecting…", "No job.", "Step 0 of 10…", "Step 1 of 10…", "Step 2 of 10…"}, shown[:5])
	require.NotNil(t, blob, "the reloaded page had the job's blob")
	step := blobStep(t, *blob)
	require.GreaterOrEqual(t, step, 2, "the blob holds the last step sealed before the reload")
	require.Less(t, step, 10)

	shown = texts(second)
	t.Logf("blob at the reload: step %d; after the reload the page showed %q", step, shown)
	require.NotEmpty(t, shown)
	assert.Equal(t, "Connecting…", shown[0])
	assert.Equal(t, stepsFrom(step), shown[1:len(shown)-1], "after the reload the job goes on from step %d of its blob", step)
	tab.checkDone(shown)
}

// jobAppProcess is a server process of the job app.
type jobAppProcess struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
}

// startJobApp runs the job app in a process of its own on addr
// ("127.0.0.1:0" for any port) and waits until it listens.
func startJobApp(t *testing.T, addr string, step time.Duration) *jobAppProcess {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), jobAppAddrEnv+"="+addr, jobAppStepEnv+"="+step.String(), "SECRET_KEY_BASE="+string(jobAppKeyBase))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &jobAppProcess{cmd: cmd, exited: make(chan struct{})}
	t.Cleanup(p.kill)
	ready := make(chan string, 1)
	go func() {
		defer close(p.exited)
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	}()
	select {
	case line := <-ready:
		var ok bool
		p.addr, ok = strings.CutPrefix(strings.TrimSpace(line), jobAppReady)
		require.True(t, ok, "the job app process did not start: %q", line)
	case <-time.After(30 * time.Second):
		t.Fatal("the job app process did not start within 30s")
	}
	return p
}

// kill ends the process as kill -9 does, and waits until it is gone.
func (p *jobAppProcess) kill() {
	_ = p.cmd.Process.Kill() // SIGKILL
	<-p.exited
}

// TestJobAppSurvivesKill runs the README's job app in a process of its
// own, kills it with SIGKILL mid-job and starts it again on the same
// address: the open page reconnects by itself, without a reload, hands back
// its blob, and the job goes on from the step in it to the secret.
func TestJobAppSurvivesKill(t *testing.T) {
	const step = 500 * time.Millisecond // the kill must fall before the job ends: 3.5 s to spare
	server := startJobApp(t, "127.0.0.1:0", step)

	tab := newJobTab(t, "")
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.Navigate("http://"+server.addr+"/")))
	tab.waitShown(`^No job\.$`)
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.Click(chromedp.CSS("#start"))))
	tab.waitShown(`^Step 2 of 10…$`)
	server.kill()

	blob := eval[*string](tab, `sessionStorage.getItem("job")`)
	require.NotNil(t, blob, "the job had not ended when the server was killed (a step is %s)", step)
	stored := blobStep(t, *blob)
	require.GreaterOrEqual(t, stored, 2)
	killedAt := tab.mark("killed")
	startJobApp(t, server.addr, step)
	tab.waitShown(doneRe.String())

	entries := tab.log()
	for _, e := range entries {
		assert.False(t, e.Kind == "load" && e.Load > 1, "the page did not reload")
	}
	shown := texts(entries[killedAt+1:])
	t.Logf("blob at the kill: step %d; after the restart the page showed %q", stored, shown)
	require.NotEmpty(t, shown)
	assert.Equal(t, stepsFrom(stored), shown[:len(shown)-1], "after the restart the job goes on from step %d of the page's blob", stored)
	tab.checkDone(shown)
}
