package flylaunch

import (
	"flag"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// totalCalls sums a simulator's call counts.
func totalCalls(e *simEnv) int {
	n := 0
	for _, c := range e.sim.Calls() {
		n += c
	}
	return n
}

// BenchmarkLaunch measures a whole simulated launch at Speed 1000 and
// reports the Machines API calls it makes (calls/op; fewer is better).
func BenchmarkLaunch(b *testing.B) {
	e := newSimEnv(b, envOptions{speed: 1000})
	l := e.launcher(b)
	calls := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		before := totalCalls(e)
		d, err := l.Start(b.Context(), testSpec(fmt.Sprintf("bench-livebook-%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Wait(b.Context()); err != nil {
			b.Fatal(err)
		}
		calls += totalCalls(e) - before
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
}

// BenchmarkResumeFinished measures resuming a deploy that already
// finished, in a process that did not run it (a page refresh after a
// restart): the calls it takes to report. (In the process that ran it,
// a resume within a minute answers from memory, with no call.)
func BenchmarkResumeFinished(b *testing.B) {
	e := newSimEnv(b, envOptions{speed: 1000})
	l := e.launcher(b)
	spec := testSpec("bench-resumed")
	d, err := l.Start(b.Context(), spec)
	if err != nil {
		b.Fatal(err)
	}
	res, err := d.Wait(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	calls := 0
	for b.Loop() {
		before := totalCalls(e)
		l := e.launcher(b)
		d, err := l.Resume(b.Context(), spec, res.Record)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Wait(b.Context()); err != nil {
			b.Fatal(err)
		}
		calls += totalCalls(e) - before
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
}

// BenchmarkLaunchRealtime runs one launch at Speed 1 — as slow as Fly,
// about a minute — with the default Options and, as a web app would, a
// check that the Livebook answers at its public URL (Options.Public,
// through the simulator's edge), against flysim's default (realistic)
// profile: propagation windows, strict health checks, the edge's delay.
// It reports each step's seconds, from the events' times: what
// StepInfo.Expected is measured against. It is opt-in: it runs only with
// -benchtime=1x, e.g.
//
//	go test -run '^$' -bench LaunchRealtime -benchtime=1x ./flylaunch/
func BenchmarkLaunchRealtime(b *testing.B) {
	if f := flag.Lookup("test.benchtime"); f == nil || f.Value.String() != "1x" {
		b.Skip("opt-in: run with -bench LaunchRealtime -benchtime=1x (takes 30-60 s)")
	}
	e := newSimEnv(b, envOptions{speed: 1})
	l, err := New(Options{
		Client: e.client,
		Public: &http.Client{Transport: flysim.EdgeTransport(e.srv.URL, e.tr), Timeout: 10 * time.Second},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	calls := 0
	for i := 0; b.Loop(); i++ {
		before := totalCalls(e)
		start := time.Now()
		d, err := l.Start(b.Context(), testSpec(fmt.Sprintf("realtime-livebook-%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		began := map[Step]time.Time{}
		for ev := range d.Events(b.Context()) {
			switch ev.Status {
			case StatusRunning, StatusRetrying:
				if _, ok := began[ev.Step]; !ok {
					began[ev.Step] = ev.Time
				}
			case StatusCompleted:
				b.ReportMetric(ev.Time.Sub(began[ev.Step]).Seconds(), "s/"+string(ev.Step))
			}
		}
		if _, err := d.Wait(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/launch")
		calls += totalCalls(e) - before
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.Logf("calls by route: %v", e.sim.Calls())
}
