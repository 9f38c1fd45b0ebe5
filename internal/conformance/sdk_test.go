package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/caxton-go/caxton/internal/testenv"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/stretchr/testify/require"
)

// The SDKs' own tests — each codec against internal/abi's golden files,
// and the Rust crate's unit tests and doc examples — run in long mode
// where their toolchain is installed (CI needs none: the agents they build
// are checked in and exercised above).
func TestSDKsOwnTests(t *testing.T) {
	testenv.SkipUnlessLong(t, "runs the Rust and AssemblyScript SDKs' tests with their toolchains")
	root := testguest.ModuleRoot()
	for _, sdk := range []struct {
		name, dir string
		needs     []string // files that must exist (toolchains), relative to dir if not absolute
	}{
		{"rust", "guest/rust", []string{"/usr/bin/rustc", "/usr/bin/cargo", "/usr/bin/rustdoc"}},
		{"assemblyscript", "guest/assemblyscript", []string{"node_modules/.bin/asc"}},
	} {
		t.Run(sdk.name, func(t *testing.T) {
			dir := filepath.Join(root, filepath.FromSlash(sdk.dir))
			for _, n := range sdk.needs {
				if !filepath.IsAbs(n) {
					n = filepath.Join(dir, n)
				}
				if _, err := os.Stat(n); err != nil {
					t.Skipf("%s is not installed: %v", n, err)
				}
			}
			out, err := exec.CommandContext(t.Context(), "make", "-s", "-C", dir, "test").CombinedOutput()
			require.NoError(t, err, "make -C %s test:\n%s", sdk.dir, out)
			t.Logf("%s", out)
		})
	}
}
