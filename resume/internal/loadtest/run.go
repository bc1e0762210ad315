package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	clients int
	backoff backoff
}

// report holds the measured numbers.
type report struct {
	clients       int
	storeTime     time.Duration // all clients connected and stored
	idleBytes     float64       // server heap+stack per idle connection
	goroutinesPer float64       // server goroutines per idle connection
	downtime      time.Duration // SIGKILL until the new server listened
	resumeAll     time.Duration // server back until the last client resumed
	first         time.Duration // server back until the first client resumed
	p50, p99      time.Duration
	rate          float64 // resumes per second over resumeAll
	resumed, lost int
	failures      map[string]int
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "clients:                %d\n", r.clients)
	fmt.Fprintf(w, "connect+store all:      %v\n", r.storeTime.Round(time.Millisecond))
	fmt.Fprintf(w, "server memory per idle connection: %.1f KiB (heap+stack), %.2f goroutines\n", r.idleBytes/1024, r.goroutinesPer)
	fmt.Fprintf(w, "server down (SIGKILL → listening again): %v\n", r.downtime.Round(time.Millisecond))
	fmt.Fprintf(w, "all resumed after server back: %v (first %v, p50 %v, p99 %v)\n", r.resumeAll.Round(time.Millisecond),
		r.first.Round(time.Millisecond), r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond))
	fmt.Fprintf(w, "resumed: %d, lost: %d, resumes/s: %.0f\n", r.resumed, r.lost, r.rate)
	for f, n := range r.failures {
		fmt.Fprintf(w, "  failure ×%d: %s\n", n, f)
	}
	fmt.Fprintf(w, "targets: all within 3s: %v, 0 lost: %v, ≤ 32 KiB/conn: %v\n",
		r.lost == 0 && r.resumeAll <= 3*time.Second, r.lost == 0, r.idleBytes <= 32<<10)
}

func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= need {
		return nil
	}
	lim.Cur = min(max(need, lim.Cur), lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur < need {
		return fmt.Errorf("RLIMIT_NOFILE hard limit %d is below %d", lim.Max, need)
	}
	return nil
}

func run(ctx context.Context, cfg config) (*report, error) {
	if err := raiseFileLimit(uint64(2*cfg.clients + 256)); err != nil {
		return nil, err
	}
	var kb [32]byte
	_, _ = rand.Read(kb[:])
	keyHex := hex.EncodeToString(kb[:])

	srv, err := startChild(ctx, "127.0.0.1:0", keyHex)
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	defer func() { srv.kill() }()
	before, err := srv.mem(ctx)
	if err != nil {
		return nil, err
	}

	var phase atomic.Int32
	phase.Store(1)
	cctx, stopClients := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopClients()
		wg.Wait()
	}()
	clients := make([]*loadClient, cfg.clients)
	start := time.Now()
	for i := range clients {
		c := &loadClient{
			id:    i,
			state: clientState{ID: i, Secret: "secret-" + strconv.Itoa(i) + "-" + keyHex[:8]},
			url:   "ws://" + srv.addr + "/resume",
			bo:    cfg.backoff, phase: &phase,
			stored: make(chan struct{}), resumed: make(chan struct{}),
		}
		clients[i] = c
		wg.Go(func() { c.run(cctx) })
	}
	for _, c := range clients {
		select {
		case <-c.stored:
		case <-ctx.Done():
			return nil, fmt.Errorf("clients did not all store: %w", ctx.Err())
		}
	}
	rep := &report{clients: cfg.clients, storeTime: time.Since(start), failures: map[string]int{}}
	idle, err := srv.mem(ctx)
	if err != nil {
		return nil, err
	}
	rep.idleBytes = float64(int64(idle.HeapInuse+idle.StackInuse)-int64(before.HeapInuse+before.StackInuse)) / float64(cfg.clients)
	rep.goroutinesPer = float64(idle.Goroutines-before.Goroutines) / float64(cfg.clients)

	// Crash and restart on the same port with the same key base.
	phase.Store(2)
	killed := time.Now()
	srv.kill()
	srv, err = startChild(ctx, srv.addr, keyHex)
	if err != nil {
		return nil, fmt.Errorf("restart server: %w", err)
	}
	back := srv.ready
	rep.downtime = back.Sub(killed)

	var lat []time.Duration
	for _, c := range clients {
		select {
		case <-c.resumed:
			lat = append(lat, max(c.resumeAt.Sub(back), 0))
		case <-ctx.Done():
		}
	}
	stopClients()
	wg.Wait()
	for _, c := range clients {
		if f, ok := c.failure.Load().(string); ok {
			rep.failures[f]++
		}
	}
	rep.resumed, rep.lost = len(lat), cfg.clients-len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		rep.resumeAll = lat[len(lat)-1]
		rep.first = lat[0]
		rep.p50 = lat[len(lat)/2]
		rep.p99 = lat[len(lat)*99/100]
		rep.rate = float64(len(lat)) / max(rep.resumeAll.Seconds(), 1e-3)
	}
	return rep, nil
}
