package telemetry

import (
	"runtime/debug"
	"sync"
)

// ScopeVersion is the version of the Caxton module this program was built
// with ("v0.4.1", or "(devel)" when Caxton is the main module being
// developed), read once from the build information. Caxton's tracers and
// meters carry it as their instrumentation scope's version, so a backend
// can tell which release recorded a span or metric; "" when the program
// has no build information (a binary built without module support).
func ScopeVersion() string { return scopeVersion() }

var scopeVersion = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return moduleVersion(bi, ScopeName)
})

// moduleVersion finds module path's version in bi: a dependency's, or the
// main module's when path is the main module.
func moduleVersion(bi *debug.BuildInfo, path string) string {
	if bi.Main.Path == path {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}
