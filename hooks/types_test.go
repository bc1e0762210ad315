package hooks_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
)

// jsExports returns the names that sealkit-resume.js exports. The module uses
// only `export const NAME` and `export function NAME`; the browser test
// TestModuleExports checks this list against the real module namespace.
func jsExports(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(hooks.ScriptFile)
	require.NoError(t, err)
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^export\s+(?:const|let|var|function|class)\s+([A-Za-z_$][\w$]*)`).FindAllSubmatch(src, -1) {
		names = append(names, string(m[1]))
	}
	require.NotContains(t, string(src), "export {", "re-exports would escape jsExports")
	require.NotContains(t, string(src), "export default", "a default export would escape jsExports")
	slices.Sort(names)
	return names
}

func TestTypesDeclareEveryExport(t *testing.T) {
	names := jsExports(t)
	require.Equal(t, []string{"PROTOCOL", "ResumeHook", "connectResume"}, names)
	dts, err := os.ReadFile(hooks.TypesFile)
	require.NoError(t, err)
	var declared []string
	for _, m := range regexp.MustCompile(`(?m)^export\s+declare\s+(?:const|function|class)\s+([A-Za-z_$][\w$]*)`).FindAllSubmatch(dts, -1) {
		declared = append(declared, string(m[1]))
	}
	slices.Sort(declared)
	assert.Equal(t, names, declared, "the value declarations of %s must match the exports of %s", hooks.TypesFile, hooks.ScriptFile)
	for _, want := range []string{"interface ConnectResumeOptions", "interface ResumeClient", "type ResumeStatus", "interface ResumeResult"} {
		assert.Contains(t, string(dts), want)
	}
}
