package flysim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// Example points fly-go's real Machines API client at a simulator and
// creates an app, sets a secret and launches a machine. It names the
// Instant profile: the default, Realistic, answers 404 for a moment after
// each create, as Fly does (ExampleRealistic shows how to cope).
func Example() {
	sim, err := flysim.New(flysim.Options{Speed: 1000, Token: "example-token", Profile: flysim.Instant()})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()

	ctx := context.Background()
	client, err := flaps.NewWithOptions(ctx, flaps.NewClientOpts{
		Tokens:    tokens.Parse("example-token"),
		Transport: flysim.Transport(srv.URL, srv.Client().Transport),
	})
	if err != nil {
		panic(err)
	}

	app, err := client.CreateApp(ctx, flaps.CreateAppRequest{Name: "my-livebook", Org: "personal"})
	if err != nil {
		panic(err)
	}
	fmt.Println(app.Name, app.Organization.Slug, app.Status)

	pw := "s3cret"
	secrets, err := client.UpdateAppSecrets(ctx, "my-livebook", map[string]*string{"LIVEBOOK_PASSWORD": &pw})
	if err != nil {
		panic(err)
	}
	fmt.Println("secrets version", secrets.Version, "value returned:", secrets.Secrets[0].Value != nil)

	m, err := client.Launch(ctx, "my-livebook", fly.LaunchMachineInput{
		Region: "fra",
		Config: &fly.MachineConfig{Image: "ghcr.io/livebook-dev/livebook:latest"},
	})
	if err != nil {
		panic(err)
	}
	if err := client.Wait(ctx, "my-livebook", m.ID, flaps.WithWaitStates("started")); err != nil {
		panic(err)
	}
	m, err = client.Get(ctx, "my-livebook", m.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Region, m.State)

	machines, ips, exists := sim.Counts("my-livebook")
	fmt.Println(machines, ips, exists)
	// Output:
	// my-livebook personal pending
	// secrets version 1 value returned: false
	// fra started
	// 1 0 true
}

// ExampleServer_AddFault makes the next machine launch ambiguous: the
// machine is created but the client sees a 504, as when a response is lost.
func ExampleServer_AddFault() {
	sim, err := flysim.New(flysim.Options{Token: "t", Profile: flysim.Instant()})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ctx := context.Background()
	client, err := flaps.NewWithOptions(ctx, flaps.NewClientOpts{
		Tokens:    tokens.Parse("t"),
		Transport: flysim.Transport(srv.URL, srv.Client().Transport),
	})
	if err != nil {
		panic(err)
	}
	if _, err := client.CreateApp(ctx, flaps.CreateAppRequest{Name: "ambiguous", Org: "personal"}); err != nil {
		panic(err)
	}

	sim.AddFault(flysim.Fault{
		Method: "POST", Path: "/v1/apps/{app}/machines",
		Status: 504, Count: 1, CommitThenFail: true,
	})
	_, err = client.Launch(ctx, "ambiguous", fly.LaunchMachineInput{Config: &fly.MachineConfig{Image: "nginx"}})
	var fe *flaps.FlapsError
	fmt.Println(errors.As(err, &fe), fe.ResponseStatusCode)
	machines, _, _ := sim.Counts("ambiguous")
	fmt.Println("machines:", machines)
	fmt.Println("launch calls:", sim.Calls()["POST /v1/apps/{app}/machines"])
	// Output:
	// true 504
	// machines: 1
	// launch calls: 1
}

// ExampleRealistic shows what a client of the realistic profile must cope
// with: a new app the API does not see yet, a new machine whose routes
// answer 404 for a moment, and an image flysim cannot run.
func ExampleRealistic() {
	sim, err := flysim.New(flysim.Options{Speed: 100, Token: "t", Profile: flysim.Realistic()})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ctx := context.Background()
	client, err := flaps.NewWithOptions(ctx, flaps.NewClientOpts{
		Tokens:    tokens.Parse("t"),
		Transport: flysim.Transport(srv.URL, srv.Client().Transport),
	})
	if err != nil {
		panic(err)
	}
	if _, err := client.CreateApp(ctx, flaps.CreateAppRequest{Name: "eventually", Org: "personal"}); err != nil {
		panic(err)
	}
	_, err = client.GetApp(ctx, "eventually")
	fmt.Println("visible at once:", err == nil)
	if err := client.WaitForApp(ctx, "eventually"); err != nil { // retries 404 and 401
		panic(err)
	}
	fmt.Println("visible after WaitForApp: true")

	m, err := client.Launch(ctx, "eventually", fly.LaunchMachineInput{Config: &fly.MachineConfig{Image: "nginx"}})
	if err != nil {
		panic(err)
	}
	for { // a machine just created may answer 404 for a moment: retry
		err = client.Wait(ctx, "eventually", m.ID, flaps.WithWaitStates("launch_failed"), flaps.WithWaitTimeout(10*time.Second))
		var fe *flaps.FlapsError
		if !errors.As(err, &fe) || fe.ResponseStatusCode != 404 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		panic(err)
	}
	m, err = client.Get(ctx, "eventually", m.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("nginx:", m.State)
	// Output:
	// visible at once: false
	// visible after WaitForApp: true
	// nginx: launch_failed
}

// ExampleServer_Transport mounts a simulator in-process: fly-go's client
// keeps its api.machines.dev URLs and the simulator serves each request
// on the caller's goroutine, with no listener.
func ExampleServer_Transport() {
	sim, err := flysim.New(flysim.Options{Token: "example-token", Profile: flysim.Instant()})
	if err != nil {
		panic(err)
	}
	defer sim.Close()

	ctx := context.Background()
	client, err := flaps.NewWithOptions(ctx, flaps.NewClientOpts{
		Tokens:    tokens.Parse("example-token"),
		Transport: sim.Transport(),
	})
	if err != nil {
		panic(err)
	}
	app, err := client.CreateApp(ctx, flaps.CreateAppRequest{Name: "in-process-livebook", Org: "personal"})
	if err != nil {
		panic(err)
	}
	fmt.Println(app.Name, app.Organization.Slug)
	// Output: in-process-livebook personal
}
