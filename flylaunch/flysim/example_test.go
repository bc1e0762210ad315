package flysim_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// Example points fly-go's real Machines API client at a simulator and
// creates an app, sets a secret and launches a machine.
func Example() {
	sim, err := flysim.New(flysim.Options{Speed: 1000, Token: "example-token"})
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
