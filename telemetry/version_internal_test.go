package telemetry

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestModuleVersionFindsCaxton(t *testing.T) {
	dep := func(path, version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: path, Version: version, Replace: replace}
	}
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"a dependency", debug.BuildInfo{Main: debug.Module{Path: "example.com/app", Version: "v1.0.0"},
			Deps: []*debug.Module{dep("golang.org/x/time", "v0.16.0", nil), dep(ScopeName, "v0.4.1", nil)}}, "v0.4.1"},
		{"replaced by a version", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{dep(ScopeName, "v0.4.1", dep("example.com/fork", "v0.4.2-fork", nil))}}, "v0.4.2-fork"},
		{"replaced by a directory", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{dep(ScopeName, "v0.4.1", dep("../caxton", "", nil))}}, "v0.4.1"},
		{"the main module", debug.BuildInfo{Main: debug.Module{Path: ScopeName, Version: "(devel)"}}, "(devel)"},
		{"absent", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"}}, ""},
	} {
		assert.Equal(t, tc.want, moduleVersion(&tc.bi, ScopeName), tc.name)
	}
}
