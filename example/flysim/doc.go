// Command flysim runs the offline Fly Machines API simulator
// (github.com/sealkit/sealkit/flylaunch/flysim) as a standalone server:
//
//	go run ./example/flysim -addr 127.0.0.1:4280 -data-dir /tmp/flysim [-speed 10] [-token T] [-profile instant]
//
// -profile picks how hard the simulator is: "realistic" (the default: slow
// to agree after a write, strict about machine config, as Fly is; see
// flysim.Realistic) or "instant" (it agrees with itself at once and runs
// any image).
//
// It prints the base URL to point a fly-go client at (with
// flysim.Transport) and shuts down gracefully on SIGINT or SIGTERM, leaving
// its state in DATA-DIR/flysim.json for the next run.
package main
