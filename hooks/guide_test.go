package hooks_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPhoenixGuideHasNoUnusedPrivateFunctions keeps PHOENIX.md's LiveView
// compiling without warnings when pasted into a Phoenix app: Elixir warns
// "function store/2 is unused" for a defp nothing calls, and Phoenix 1.8's
// mix precommit compiles with --warnings-as-errors. There is no Elixir on
// the build machine, so this reads the module: every defp must be called
// somewhere else in it.
func TestPhoenixGuideHasNoUnusedPrivateFunctions(t *testing.T) {
	guide, err := os.ReadFile("PHOENIX.md")
	require.NoError(t, err)
	var modules []string
	for _, block := range strings.Split(string(guide), "```elixir\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if strings.Contains(block, "defmodule") {
			modules = append(modules, block)
		}
	}
	require.NotEmpty(t, modules, "PHOENIX.md has an Elixir module")
	defp := regexp.MustCompile(`(?m)^\s*defp\s+([a-z_][a-zA-Z0-9_?!]*)`)
	for _, mod := range modules {
		for _, m := range defp.FindAllStringSubmatch(mod, -1) {
			name := m[1]
			// A call is the name followed by "(" anywhere but its own
			// definitions, or a pipe into it.
			calls := regexp.MustCompile(`(\|>\s*|[^a-z_.])`+regexp.QuoteMeta(name)+`\(`).FindAllStringIndex(mod, -1)
			defs := regexp.MustCompile(`defp\s+`+regexp.QuoteMeta(name)+`\(`).FindAllStringIndex(mod, -1)
			require.Greater(t, len(calls), len(defs), "defp %s is never called: Elixir warns that it is unused", name)
		}
	}
}
