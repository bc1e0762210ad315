package sealkit_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadmeGoIsExampleCode keeps the README's Go honest: every go block
// is whole declarations (so it compiles when pasted into a file that
// imports what it uses) copied from an example_test.go file, where it
// compiles and runs with the tests.
func TestReadmeGoIsExampleCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := fencedBlocks(string(readme), "go")
	require.NotEmpty(t, blocks, "README.md has Go blocks")
	examples := exampleFiles(t)
	for i, b := range blocks {
		t.Run("block "+strconv.Itoa(i+1), func(t *testing.T) {
			_, err := parser.ParseFile(token.NewFileSet(), "README.md", "package p\n\n"+b, parser.SkipObjectResolution)
			require.NoError(t, err, "a Go block must be whole declarations:\n%s", b)
			for name, src := range examples {
				if strings.Contains(src, b) {
					t.Logf("copied from %s", name)
					return
				}
			}
			t.Errorf("this Go block of README.md is not a copy of code in any example_test.go:\n%s", b)
		})
	}
}

// fencedBlocks returns the contents of the ```lang blocks of a Markdown
// text.
func fencedBlocks(md, lang string) []string {
	var blocks []string
	var cur *strings.Builder
	for line := range strings.Lines(md) {
		switch trimmed := strings.TrimRight(line, "\r\n"); {
		case cur == nil && trimmed == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line)
		}
	}
	return blocks
}

// exampleFiles returns the text of every example_test.go of the module, by
// path.
func exampleFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != "."):
			return filepath.SkipDir
		case d.Name() == "example_test.go":
			b, err := os.ReadFile(path)
			files[path] = string(b)
			return err
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}
