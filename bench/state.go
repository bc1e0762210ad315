package bench

import "strings"

// State is the sealed value of every benchmark: the shape of a launcher's
// resume record, with Notes padding the encoded size to the target.
type State struct {
	App            string `json:"app"`
	Org            string `json:"org"`
	Region         string `json:"region"`
	LaunchID       string `json:"launch_id"`
	MachineID      string `json:"machine_id"`
	SecretsVersion uint64 `json:"secrets_version"`
	Password       string `json:"password"`
	Notes          string `json:"notes"`
}

// Sizes are the approximate encoded sizes the benchmarks seal.
var Sizes = []struct {
	Name  string
	Bytes int
}{
	{"200B", 200},
	{"1KiB", 1024},
	{"4KiB", 4096},
}

// NewState returns a State whose JSON encoding is about size bytes.
func NewState(size int) State {
	s := State{
		App:            "livebook-quiet-river-4821",
		Org:            "personal",
		Region:         "ams",
		LaunchID:       "lch_3f9a7c21d0b84e6e",
		MachineID:      "148e21ea4d2189",
		SecretsVersion: 3,
		Password:       "kX8vQ2mN7pL4rT9wZ3yB6cF1",
	}
	const overhead = 190 // JSON of the fields above with an empty Notes
	if n := size - overhead; n > 0 {
		s.Notes = strings.Repeat("n", n)
	}
	return s
}
