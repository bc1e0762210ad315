package sealkit_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/sealkit/sealkit"

// allowed lists, for each library package, the module-internal packages and
// third-party module prefixes its non-test code may import. Standard-library
// imports are always allowed. Packages under example/ compose everything and
// are not restricted.
var allowed = map[string][]string{
	"":                           {},
	"seal":                       {"seal/etf", "golang.org/x/crypto/"},
	"seal/etf":                   {},
	"resume":                     {"seal", "seal/etf", "github.com/coder/websocket", "golang.org/x/crypto/", "golang.org/x/time/rate"}, // rate: RateLimiter's token buckets
	"hooks":                      {},
	"flylaunch":                  {"flylaunch/internal/msgpack", "github.com/superfly/fly-go", "github.com/superfly/macaroon"}, // macaroon: attenuating a visitor's Fly token as flyctl does
	"flylaunch/internal/msgpack": {},
	"flylaunch/flysim":           {"flylaunch/internal/msgpack", "github.com/superfly/fly-go", "golang.org/x/time/rate", "github.com/superfly/macaroon"}, // rate: Fly's documented API rate limits; macaroon: Fly's own token format and caveats
}

type listedPackage struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// TestImportLayering enforces the house layering: seal at the bottom, resume
// on seal, hooks and flylaunch standing alone, fly-go only under flylaunch,
// and only example/ composing everything.
func TestImportLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p listedPackage
		require.NoError(t, dec.Decode(&p))
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if strings.HasPrefix(rel, "example") || strings.HasPrefix(rel, "internal") {
			continue
		}
		rules, ok := rulesFor(rel)
		if !assert.Truef(t, ok, "package %s has no layering rule; add one to allowed", p.ImportPath) {
			continue
		}
		seen++
		t.Run(rel, func(t *testing.T) {
			for _, imp := range p.Imports {
				if isStd(imp) {
					continue
				}
				assert.Truef(t, permitted(imp, rules), "%s must not import %s", p.ImportPath, imp)
			}
		})
	}
	require.Positive(t, seen)
}

// rulesFor returns the rules of a library package. A package's internal
// tree (X/internal/...: test helpers, load tools) follows X's rules and may
// also import X and X's own packages.
func rulesFor(rel string) ([]string, bool) {
	if parent, _, ok := strings.Cut(rel, "/internal/"); ok {
		rules, ok := allowed[parent]
		if !ok {
			return nil, false
		}
		extra := []string{parent}
		for pkg := range allowed {
			if strings.HasPrefix(pkg, parent+"/") {
				extra = append(extra, pkg)
			}
		}
		return append(extra, rules...), true
	}
	rules, ok := allowed[rel]
	return rules, ok
}

func permitted(imp string, rules []string) bool {
	for _, r := range rules {
		if strings.Contains(r, ".") { // third-party module prefix
			if imp == strings.TrimSuffix(r, "/") || strings.HasPrefix(imp, strings.TrimSuffix(r, "/")+"/") {
				return true
			}
			continue
		}
		if imp == module+"/"+r {
			return true
		}
	}
	return false
}

func isStd(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

func TestPermitted(t *testing.T) {
	tests := []struct {
		imp   string
		rules []string
		want  bool
	}{
		{"github.com/superfly/fly-go/flaps", []string{"github.com/superfly/fly-go"}, true},
		{"github.com/superfly/fly-go-evil", []string{"github.com/superfly/fly-go"}, false},
		{module + "/seal", []string{"seal"}, true},
		{module + "/seal/etf", []string{"seal"}, false},
		{module + "/flylaunch", []string{"seal"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.imp, func(t *testing.T) {
			assert.Equal(t, tt.want, permitted(tt.imp, tt.rules))
		})
	}
}

func TestRulesForInternal(t *testing.T) {
	rules, ok := rulesFor("resume/internal/loadtest")
	require.True(t, ok)
	assert.True(t, permitted(module+"/resume", rules))
	assert.True(t, permitted(module+"/seal", rules))
	assert.False(t, permitted(module+"/flylaunch", rules))
	_, ok = rulesFor("nowhere/internal/x")
	assert.False(t, ok)
}
