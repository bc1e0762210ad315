package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testKeyBase is the SECRET_KEY_BASE of every launcher the tests start.
const testKeyBase = "e2e-test-key-base-0123456789abcdef0123456789abcdef0123456789abcdef"

// testSimSpeed makes a simulated launch take a few seconds.
const testSimSpeed = "10"

// logBuffer collects a process's output and wakes waiters on each write.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitMatch waits until re matches the output after offset from, and
// returns the first submatch.
func (b *logBuffer) waitMatch(ctx context.Context, re *regexp.Regexp, from int) (string, error) {
	for {
		b.mu.Lock()
		out := b.buf.String()
		changed := b.changed
		b.mu.Unlock()
		if from > len(out) {
			from = len(out)
		}
		if m := re.FindStringSubmatch(out[from:]); m != nil {
			return m[len(m)-1], nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-changed:
		}
	}
}

// proc is a process started by a test: a launcher or a simulator.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	logs   *logBuffer
	exited chan struct{}
	// URL is the address the process printed, e.g. http://127.0.0.1:PORT/.
	URL string
}

var servingRE = regexp.MustCompile(`serving (http://\S+)`)

// startProc runs bin with args and env, waits until it prints the address it
// serves, and stops it at the end of the test.
func startProc(t testing.TB, bin string, args, env []string) *proc {
	t.Helper()
	return startProcRE(t, bin, servingRE, args, env)
}

// startProcRE is startProc for a process that announces its address as the
// last submatch of ready.
func startProcRE(t testing.TB, bin string, ready *regexp.Regexp, args, env []string) *proc {
	t.Helper()
	logs := newLogBuffer()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	dieWithTest(cmd)
	require.NoError(t, cmd.Start())
	p := &proc{t: t, cmd: cmd, logs: logs, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", bin, strings.Join(args, " "), logs.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-p.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	u, err := logs.waitMatch(ctx, ready, 0)
	require.NoError(t, err, "%s did not start; output:\n%s", bin, logs.String())
	p.URL = u
	return p
}

// startLauncher runs the launcher binary on addr ("127.0.0.1:0" for any
// port) with dataDir, the test key base and the given extra flags.
func startLauncher(t testing.TB, addr, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"-addr", addr, "-data-dir", dataDir, "-sim-speed", testSimSpeed}, extra...)
	return startProc(t, bins.launcher, args, []string{"SECRET_KEY_BASE=" + testKeyBase})
}

// addr returns the host:port the process serves.
func (p *proc) addr() string {
	u, err := url.Parse(p.URL)
	require.NoError(p.t, err)
	return u.Host
}

// kill ends the process with SIGKILL: no graceful shutdown at all.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop ends the process gracefully, or kills it after a grace period.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.t.Errorf("process did not stop on SIGTERM within 15s; output:\n%s", p.logs.String())
		p.kill()
	}
}

// output returns everything the process printed so far.
func (p *proc) output() string { return p.logs.String() }

// mustNotContain fails when the process output contains secret.
func (p *proc) mustNotContain(t testing.TB, secret string) {
	t.Helper()
	require.NotEmpty(t, secret)
	if strings.Contains(p.output(), secret) {
		t.Fatalf("the process output contains the secret")
	}
}
