package flylaunch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/superfly/fly-go/flaps"
)

// simulator starts an in-memory flysim on a loopback HTTP server, 1000
// times faster than Fly, and returns a fly-go client pointed at it.
func simulator(ctx context.Context) (*flysim.Server, *flylaunch.Launcher, func()) {
	sim, err := flysim.New(flysim.Options{Speed: 1000})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sim)
	tr := &http.Transport{}
	client, err := flylaunch.NewClient(ctx, "fly-api-token", flysim.Transport(srv.URL, tr))
	if err != nil {
		panic(err)
	}
	l, err := flylaunch.New(launcherOptions(client))
	if err != nil {
		panic(err)
	}
	return sim, l, func() {
		_ = l.Close()
		_ = sim.Close()
		srv.Close()
		tr.CloseIdleConnections()
	}
}

// launcherOptions scales the Launcher's timing to a simulator 1000 times
// faster than Fly: its propagation windows (Fly's lag after a write) and
// machine boot shrink by that much.
func launcherOptions(client *flaps.Client) flylaunch.Options {
	return flylaunch.Options{Client: client, PollInterval: 10 * time.Millisecond, Propagation: 30 * time.Second / 1000}
}

// Example deploys a Livebook and follows its progress.
func Example() {
	ctx := context.Background()
	sim, launcher, stop := simulator(ctx)
	defer stop()

	d, err := launcher.Start(ctx, flylaunch.Spec{
		App:     "my-livebook",
		Region:  "iad",
		Secrets: flylaunch.Secrets{"LIVEBOOK_PASSWORD": "correct horse battery staple"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for ev := range d.Events(ctx) {
		if ev.Status == flylaunch.StatusCompleted || ev.Status.Final() {
			fmt.Println(ev.Percent, ev.Step, ev.Status)
		}
	}
	res, err := d.Wait(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	machines, ips, _ := sim.Counts("my-livebook")
	fmt.Println(res.URL, "machines:", machines, "ips:", ips, "volumes:", sim.VolumeCount("my-livebook"))
	// Output:
	// 10 create_app completed
	// 20 set_secrets completed
	// 30 allocate_ips completed
	// 40 create_volume completed
	// 50 launch_machine completed
	// 85 wait_started completed
	// 100 wait_healthy completed
	// 100 done succeeded
	// https://my-livebook.fly.dev machines: 1 ips: 2 volumes: 1
}

// ExampleLauncher_Resume keeps the Record (as a browser would, sealed),
// loses the process, and resumes the deploy from a new Launcher.
func ExampleLauncher_Resume() {
	ctx := context.Background()
	sim, first, stop := simulator(ctx)
	defer stop()
	spec := flylaunch.Spec{App: "resumed-livebook", Region: "iad", Secrets: flylaunch.Secrets{"LIVEBOOK_PASSWORD": "a-long-enough-s3cret"}}

	d, err := first.Start(ctx, spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	var sealed []byte // stands in for a sealed token kept by the browser
	for ev := range d.Events(ctx) {
		if ev.Step == flylaunch.StepLaunch && ev.Status == flylaunch.StatusCompleted {
			sealed, _ = json.Marshal(ev.Record)
			break
		}
	}
	_ = first.Close() // the server restarts mid-deploy

	var rec flylaunch.Record
	if err := json.Unmarshal(sealed, &rec); err != nil {
		fmt.Println(err)
		return
	}
	second, err := newLauncherLike(ctx, sim)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer second.stop()
	d, err = second.l.Resume(ctx, spec, rec)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := d.Wait(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	machines, ips, _ := sim.Counts("resumed-livebook")
	fmt.Println("resumed from", rec.Step, "->", res.URL, "machines:", machines, "ips:", ips)
	// Output:
	// resumed from launch_machine -> https://resumed-livebook.fly.dev machines: 1 ips: 2
}

type launcherOnSim struct {
	l    *flylaunch.Launcher
	stop func()
}

// newLauncherLike builds a fresh client and Launcher on the same simulator,
// as a restarted server would.
func newLauncherLike(ctx context.Context, sim *flysim.Server) (launcherOnSim, error) {
	srv := httptest.NewServer(sim)
	tr := &http.Transport{}
	client, err := flylaunch.NewClient(ctx, "fly-api-token", flysim.Transport(srv.URL, tr))
	if err != nil {
		srv.Close()
		return launcherOnSim{}, err
	}
	l, err := flylaunch.New(launcherOptions(client))
	if err != nil {
		srv.Close()
		return launcherOnSim{}, err
	}
	return launcherOnSim{l: l, stop: func() { _ = l.Close(); srv.Close(); tr.CloseIdleConnections() }}, nil
}

// ExampleLauncher_Livebook manages a Livebook after its deploy: from its
// record (kept, say, sealed in a link) it stops it, starts it again and
// deletes what the launch created.
func ExampleLauncher_Livebook() {
	ctx := context.Background()
	sim, launcher, stop := simulator(ctx)
	defer stop()
	d, err := launcher.Start(ctx, flylaunch.Spec{
		App:     "kept-livebook",
		Region:  "iad",
		Secrets: flylaunch.Secrets{"LIVEBOOK_PASSWORD": "correct horse battery staple"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := d.Wait(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}

	lb, err := launcher.Livebook(res.Record)
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := lb.Stop(ctx)
	fmt.Println(st.State, err)
	st, err = lb.Start(ctx)
	fmt.Println(st.State, err)
	fmt.Println(lb.Delete(ctx))
	st, err = lb.Status(ctx)
	_, _, exists := sim.Counts("kept-livebook")
	fmt.Println(st.State, err, "app exists:", exists, "volumes:", sim.VolumeCount("kept-livebook"))
	// Output:
	// stopped <nil>
	// running <nil>
	// <nil>
	// gone <nil> app exists: false volumes: 0
}

// ExampleValidateImage checks an image a user asked for (a flag, say)
// before anything is launched: it must be pinned, so that a launch resumed
// later runs the image it began with.
func ExampleValidateImage() {
	for _, image := range []string{"ghcr.io/livebook-dev/livebook:0.19.7", "ghcr.io/livebook-dev/livebook:latest"} {
		fmt.Println(flylaunch.ValidateImage(image))
	}
	// Output:
	// <nil>
	// flylaunch: invalid Image: "ghcr.io/livebook-dev/livebook:latest" must name a tag other than latest, or a digest
}
