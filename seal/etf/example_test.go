package etf_test

import (
	"fmt"
	"time"

	"github.com/sealkit/sealkit/seal/etf"
)

type LaunchState struct {
	LaunchID  string
	MachineID string
	Region    string `etf:"region,omitempty"`
	Step      int
}

// A struct becomes an Elixir map with atom keys, and back.
func Example() {
	b, err := etf.Marshal(LaunchState{LaunchID: "l-42", MachineID: "e784", Step: 3})
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b[:6])

	var back LaunchState
	if err := etf.Unmarshal(b, &back); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", back)
	// Output:
	// 83 74 00 00 00 03
	// {LaunchID:l-42 MachineID:e784 Region: Step:3}
}

// Decoding into any keeps every term distinguishable: atoms are etf.Atom,
// binaries are string, tuples are etf.Tuple.
func ExampleUnmarshal_any() {
	// :erlang.term_to_binary({:ok, %{"user" => [:admin, 7]}})
	b := []byte{131, 104, 2, 119, 2, 'o', 'k', 116, 0, 0, 0, 1, 109, 0, 0, 0, 4, 'u', 's', 'e', 'r',
		108, 0, 0, 0, 2, 119, 5, 'a', 'd', 'm', 'i', 'n', 97, 7, 106}
	var v any
	if err := etf.Unmarshal(b, &v); err != nil {
		panic(err)
	}
	t := v.(etf.Tuple)
	fmt.Printf("%T %v\n", t[0], t[0])
	user := t[1].(map[any]any)["user"].([]any)
	fmt.Printf("%T %v, %T %v\n", user[0], user[0], user[1], user[1])

	again, _ := etf.Marshal(v)
	fmt.Println(string(again) == string(b))
	// Output:
	// etf.Atom ok
	// etf.Atom admin, int64 7
	// true
}

// TupleElements splits a Phoenix.Token payload, {data, signed_at, max_age},
// without copying the data term, which is then decoded on its own.
func ExampleTupleElements() {
	payload, err := etf.Marshal(etf.Tuple{LaunchState{LaunchID: "l-42", Step: 3}, int64(1764172800000), int64(86400)})
	if err != nil {
		panic(err)
	}
	parts, err := etf.TupleElements(payload)
	if err != nil {
		panic(err)
	}
	var signedAt, maxAge int64
	if err := etf.UnmarshalRaw(parts[1], &signedAt); err != nil {
		panic(err)
	}
	if err := etf.UnmarshalRaw(parts[2], &maxAge); err != nil {
		panic(err)
	}
	var data LaunchState
	if err := etf.UnmarshalRaw(parts[0], &data); err != nil {
		panic(err)
	}
	fmt.Println(len(parts), signedAt, maxAge, data.LaunchID, data.Step)
	// Output:
	// 3 1764172800000 86400 l-42 3
}

// A time.Time travels as the %DateTime{} Elixir builds in UTC, and an
// Elixir DateTime in any zone comes back as its instant.
func ExampleMarshal_time() {
	at := time.Date(2025, 11, 26, 17, 0, 0, 123456789, time.FixedZone("CET", 3600))
	b, err := etf.Marshal(at)
	if err != nil {
		panic(err)
	}
	var fields map[etf.Atom]any
	if err := etf.Unmarshal(b, &fields); err != nil {
		panic(err)
	}
	fmt.Println(fields["__struct__"], fields["hour"], fields["microsecond"], fields["time_zone"])

	var back time.Time
	if err := etf.Unmarshal(b, &back); err != nil {
		panic(err)
	}
	fmt.Println(back, back.Equal(at.Truncate(time.Microsecond)))
	// Output:
	// Elixir.DateTime 16 [123456 6] Etc/UTC
	// 2025-11-26 16:00:00.123456 +0000 UTC true
}
