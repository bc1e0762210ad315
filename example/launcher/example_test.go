package main

import (
	"fmt"
	"io"
)

// With FLY_API_TOKEN and -fly-api the launcher talks to another Machines
// API, for example a standalone example/flysim; without them it simulates
// Fly.io in process.
func Example_config() {
	getenv := func(k string) string {
		return map[string]string{"FLY_API_TOKEN": "t0k3n", "HOME": "/home/ada"}[k]
	}
	c, err := parseConfig([]string{"-fly-api", "http://127.0.0.1:4280", "-sim-speed", "10"}, getenv, io.Discard)
	fmt.Println(err, c.addr, c.dataDir, c.flyAPI, c.flyOrg, c.simulated())

	c, err = parseConfig(nil, func(string) string { return "" }, io.Discard)
	fmt.Println(err, c.addr, c.dataDir, c.simSpeed, c.simulated())
	// Output:
	// <nil> 127.0.0.1:8080 /home/ada/.local/share/sealkit-launcher http://127.0.0.1:4280 personal false
	// <nil> 127.0.0.1:8080 .data 1 true
}
