package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// child is the server process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
	ready time.Time // when the parent saw "listening"
}

// startChild re-executes this program with -serve on addr and waits for it
// to listen.
func startChild(ctx context.Context, addr, keyHex string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", "-addr", addr)
	cmd.Env = append(os.Environ(), keyBaseEnv+"="+keyHex)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				lines <- a
			}
		}
		close(lines)
	}()
	select {
	case a, ok := <-lines:
		if !ok {
			_ = cmd.Wait()
			return nil, errors.New("server exited before listening")
		}
		c.addr, c.ready = a, time.Now()
		return c, nil
	case <-ctx.Done():
		c.kill()
		return nil, ctx.Err()
	}
}

// kill SIGKILLs the server and reaps it.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
	_ = c.stdin.Close()
}

// mem reads the server's heap and stack in use (after a GC).
func (c *child) mem(ctx context.Context) (memStats, error) {
	var ms memStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+"/debug/mem", nil)
	if err != nil {
		return ms, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ms, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return ms, fmt.Errorf("debug/mem: %s", resp.Status)
	}
	return ms, json.NewDecoder(resp.Body).Decode(&ms)
}
