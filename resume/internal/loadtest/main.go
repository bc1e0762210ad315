// Command loadtest measures how the resume protocol recovers from a server
// crash: it starts a resume server as a separate process (re-executing
// itself with -serve), connects N WebSocket clients that each get a distinct
// sealed state stored by the server, SIGKILLs the server, restarts it on the
// same port with the same key base, and reports how long every client took
// to resume its own state, how many were lost, resumes per second, and the
// server's memory per idle connection.
//
//	go run ./resume/internal/loadtest [-clients 2000] [-timeout 60s]
//
// It talks only to 127.0.0.1, is bounded in clients and time, and exits
// non-zero if a client was lost.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	serve := flag.Bool("serve", false, "run as the server child process")
	addr := flag.String("addr", "127.0.0.1:0", "server address (child mode)")
	clients := flag.Int("clients", 2000, "concurrent WebSocket clients")
	timeout := flag.Duration("timeout", 60*time.Second, "bound on the whole run")
	baseMs := flag.Int("backoff-base-ms", 200, "client reconnect backoff base (full jitter)")
	maxMs := flag.Int("backoff-max-ms", 10000, "client reconnect backoff cap")
	flag.Parse()

	if *serve {
		if err := runServer(*addr); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest server:", err)
			os.Exit(1)
		}
		return
	}
	if *clients < 1 || *clients > 20000 {
		fmt.Fprintln(os.Stderr, "loadtest: -clients must be in [1, 20000]")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	rep, err := run(ctx, config{
		clients: *clients,
		backoff: backoff{base: time.Duration(*baseMs) * time.Millisecond, max: time.Duration(*maxMs) * time.Millisecond},
	})
	if rep != nil {
		rep.print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	if rep.lost > 0 {
		os.Exit(1)
	}
}
