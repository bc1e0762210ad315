package flylaunch_test

import (
	"context"
	"encoding/json"
	"errors"
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
			// Where a progress bar is, weighted by the steps' time.
			now, _, _ := flylaunch.Progress(ev.Record.Step, 0)
			fmt.Printf("%.0f%% %s %s\n", 100*now, ev.Step, ev.Status)
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
	// 5% create_app completed
	// 6% set_secrets completed
	// 7% allocate_ips completed
	// 8% create_volume completed
	// 10% launch_machine completed
	// 63% wait_started completed
	// 100% wait_healthy completed
	// 100% done succeeded
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

// ExampleProgress renders a deploy's progress as a page would, from
// nothing but its latest record (sealed in the browser, say) and the time:
// the list of steps, and a bar that moves from now to atStepEnd over
// left. A page reloaded after the process restarted renders the same.
func ExampleProgress() {
	began := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rec := flylaunch.Record{Step: flylaunch.StepLaunch, Since: began} // the machine launched at began
	at := began.Add(10 * time.Second)                                 // the page renders now

	state := "done" // the steps up to rec.Step
	if rec.Step == "" {
		state = "running"
	}
	for _, s := range flylaunch.Steps() {
		fmt.Printf("%-7s %s\n", state, s.Title)
		switch {
		case state == "running":
			state = "pending"
		case s.Step == rec.Step:
			state = "running"
		}
	}
	now, atStepEnd, left := flylaunch.Progress(rec.Step, at.Sub(rec.Since))
	fmt.Printf("%.0f%% now, %.0f%% in about %v\n", 100*now, 100*atStepEnd, left)
	// Output:
	// done    Create the app
	// done    Store the password and session key as secrets
	// done    Allocate IP addresses
	// done    Create a volume for notebooks
	// done    Launch the machine
	// running Wait for the machine to start
	// pending Wait for Livebook to answer
	// 23% now, 63% in about 31s
}

// ExampleOrganizations lists the organizations a visitor's own Fly token
// can deploy to; here flysim plays Fly and mints the visitor's token.
func ExampleOrganizations() {
	ctx := context.Background()
	sim, err := flysim.New(flysim.Options{Tenants: []flysim.Tenant{{Name: "visitor", Orgs: []string{"acme", "personal"}}}})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	token, err := sim.Token("visitor") // "FlyV1 fm2_...", as `fly tokens create org` prints one
	if err != nil {
		panic(err)
	}
	orgs, err := flylaunch.Organizations(ctx, token, sim.Transport())
	if err != nil {
		panic(err)
	}
	for _, o := range orgs {
		fmt.Println(o.Slug, o.Personal)
	}
	_, err = flylaunch.Organizations(ctx, "FlyV1 fm2_AAAA", sim.Transport())
	fmt.Println(errors.Is(err, flylaunch.ErrTokenRefused))
	// Output:
	// acme false
	// personal true
	// true
}

// ExampleAttenuateToApp narrows a visitor's token to the app a launch
// created, for a day, as a manage link would carry it: Fly refuses it for
// any other app, a later app of the same name, and after the day.
func ExampleAttenuateToApp() {
	ctx := context.Background()
	sim, err := flysim.New(flysim.Options{Tenants: []flysim.Tenant{{Name: "visitor", Orgs: []string{"acme"}}}, Profile: flysim.Instant()})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	token, _ := sim.Token("visitor")
	client, err := flylaunch.NewClient(ctx, token, sim.Transport())
	if err != nil {
		panic(err)
	}
	app, err := client.CreateApp(ctx, flaps.CreateAppRequest{Name: "my-livebook", Org: "acme"})
	if err != nil {
		panic(err)
	}
	// A Record keeps the same number: Record.AppNumericID.
	scoped, err := flylaunch.AttenuateToApp(token, int64(app.InternalNumericID), time.Now().Add(24*time.Hour))
	if err != nil {
		panic(err)
	}
	link, err := flylaunch.NewClient(ctx, scoped, sim.Transport())
	if err != nil {
		panic(err)
	}
	_, err = link.GetApp(ctx, "my-livebook")
	fmt.Println("own app:", err)
	_, _ = client.CreateApp(ctx, flaps.CreateAppRequest{Name: "other-app", Org: "acme"})
	err = link.DeleteApp(ctx, "other-app")
	fmt.Println("other app:", err)
	// Output:
	// own app: <nil>
	// other app: unauthorized
}
