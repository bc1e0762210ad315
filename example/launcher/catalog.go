package main

// region is a Fly.io region offered on the page.
type region struct {
	Code, Name string
	Default    bool
}

// regions are the regions the page offers; the server accepts only these.
var regions = []region{
	{Code: "ams", Name: "Amsterdam, Netherlands"},
	{Code: "cdg", Name: "Paris, France"},
	{Code: "fra", Name: "Frankfurt, Germany"},
	{Code: "iad", Name: "Ashburn, Virginia (US)", Default: true},
	{Code: "lhr", Name: "London, United Kingdom"},
	{Code: "nrt", Name: "Tokyo, Japan"},
	{Code: "ord", Name: "Chicago, Illinois (US)"},
	{Code: "sin", Name: "Singapore"},
	{Code: "sjc", Name: "San Jose, California (US)"},
	{Code: "syd", Name: "Sydney, Australia"},
}

// size is a machine size offered on the page: a fly-go guest preset and
// its memory.
type size struct {
	ID, Title, CPU, Memory string
	Preset                 string
	MemoryMB               int
	Default                bool
}

// sizes are the machine sizes the page offers; the server accepts only these.
var sizes = []size{
	{ID: "small", Title: "Small", CPU: "1 shared CPU", Memory: "1 GB memory", Preset: "shared-cpu-1x", MemoryMB: 1024, Default: true},
	{ID: "medium", Title: "Medium", CPU: "2 shared CPUs", Memory: "2 GB memory", Preset: "shared-cpu-2x", MemoryMB: 2048},
	{ID: "large", Title: "Large", CPU: "2 dedicated CPUs", Memory: "4 GB memory", Preset: "performance-2x", MemoryMB: 4096},
}

func findRegion(code string) (region, bool) {
	for _, r := range regions {
		if r.Code == code {
			return r, true
		}
	}
	return region{}, false
}

func findSize(id string) (size, bool) {
	for _, s := range sizes {
		if s.ID == id {
			return s, true
		}
	}
	return size{}, false
}
