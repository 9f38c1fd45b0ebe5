package provenance_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caxton-go/caxton/internal/provenance"
	"github.com/caxton-go/caxton/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every WebAssembly module checked into the repository has a provenance
// file beside it, and matches it: the module has the recorded hash and its
// sources are the recorded ones. In long mode each module is also rebuilt
// with the recorded toolchain, where present, and compared byte for byte.
// A failure says what changed; `make guests` rebuilds them all.
func TestCheckedInGuestsMatchTheirSources(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	var wasms, sums []string
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		switch {
		case d.IsDir():
		case strings.HasSuffix(p, ".wasm"):
			wasms = append(wasms, p)
		case strings.HasSuffix(p, ".wasm"+provenance.Suffix):
			sums = append(sums, p)
		}
		return nil
	}))
	require.NotEmpty(t, wasms, "no .wasm files under %s", root)
	for _, w := range wasms {
		_, err := os.Stat(w + provenance.Suffix)
		assert.NoError(t, err, "%s has no provenance file: build it with caxton-guest (make guests)", w)
	}
	for _, s := range sums {
		rel, _ := filepath.Rel(root, s)
		t.Run(filepath.ToSlash(strings.TrimSuffix(rel, ".wasm"+provenance.Suffix)), func(t *testing.T) {
			require.NoError(t, provenance.Check(t.Context(), s), "rebuild with make guests")
			t.Run("rebuild", func(t *testing.T) {
				testenv.SkipUnlessLong(t, "rebuilds the module and compares the bytes")
				skipped, err := provenance.Rebuild(t.Context(), s)
				require.NoError(t, err)
				if skipped != "" {
					t.Skip(skipped)
				}
			})
		})
	}
}
