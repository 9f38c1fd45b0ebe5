package ecosystem_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What a program that imports Caxton sees of Caxton's dependencies: a
// scratch module importing one package, tidied offline against the module
// cache with a replace to this repository. Two lists are checked:
//
//   - go.mod (what the consumer declares and builds): exactly the modules
//     the imported package compiles.
//   - go.sum (what dependency scanners read): modules whose content hash is
//     recorded. go mod tidy also records the modules that the tests of the
//     imported package need (so `go test all` works), so the root package's
//     own tests show up there: each such module is listed below with why.
//
// Anything else — a test-only dependency of another package (nats-server's
// test dependencies, the MCP SDK, the OTLP exporters, gRPC) — fails.
var consumers = []struct {
	name    string
	imports string
	// modules: the repository's modules the consumer requires besides the
	// root one, by directory (nested modules, such as cluster).
	modules []string
	// build: the third-party modules in go.mod (all of them).
	build []string
	// sums: the third-party modules allowed in go.sum besides build, and why.
	sums map[string]string
	// never: modules that must appear in neither file.
	never []string
	// notInGraph: modules that must not be in the consumer's module graph
	// (go list -m all) at all: the examples' exporters, in nested modules.
	notInGraph []string
}{
	{
		name:    "root",
		imports: "github.com/caxton-go/caxton",
		build: []string{
			"github.com/bytecodealliance/wasmtime-go/v39",
			"github.com/cespare/xxhash/v2", // OpenTelemetry attribute sets hash with it
			"go.opentelemetry.io/otel",
			"go.opentelemetry.io/otel/metric",
			"go.opentelemetry.io/otel/trace",
		},
		sums: merge(rootTestSums, nil),
		never: []string{
			"github.com/nats-io/nats-server/v2", "github.com/nats-io/nats.go",
			"github.com/modelcontextprotocol/go-sdk", "google.golang.org/grpc",
			"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp",
			"go.opentelemetry.io/otel/exporters/prometheus",
		},
		notInGraph: []string{
			"github.com/nats-io/nats-server/v2", "github.com/nats-io/nats.go", // cluster is a module of its own
			"google.golang.org/grpc",
			"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp",
			"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp",
			"go.opentelemetry.io/otel/exporters/stdout/stdouttrace",
		},
	},
	{
		name:    "cluster",
		imports: "github.com/caxton-go/caxton/cluster",
		modules: []string{"cluster"},
		build: []string{
			"github.com/bytecodealliance/wasmtime-go/v39",
			"github.com/cespare/xxhash/v2",
			"github.com/klauspost/compress", // nats.go's compression
			"github.com/nats-io/nats.go",
			"github.com/nats-io/nkeys",
			"github.com/nats-io/nuid",
			"go.opentelemetry.io/otel",
			"go.opentelemetry.io/otel/metric",
			"go.opentelemetry.io/otel/trace",
			"golang.org/x/crypto", // nkeys' ed25519
			"golang.org/x/sys",
		},
		sums: merge(rootTestSums, map[string]string{
			"github.com/nats-io/nats-server/v2":         "the cluster package's tests run an embedded NATS server (cluster/embedded); never built into a consumer of cluster",
			"github.com/nats-io/jwt/v2":                 "nats-server's, for the same tests",
			"github.com/minio/highwayhash":              "nats-server's, for the same tests",
			"github.com/google/go-tpm":                  "nats-server's, for the same tests",
			"github.com/antithesishq/antithesis-sdk-go": "nats-server's, for the same tests",
			"golang.org/x/time":                         "nats-server's, for the same tests",
		}),
		never: []string{
			"github.com/modelcontextprotocol/go-sdk", "google.golang.org/grpc",
			"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp",
			"go.opentelemetry.io/otel/exporters/prometheus",
		},
	},
}

// rootTestSums are the go.sum-only modules that come from the root
// package's own tests (package caxton_test): testify, and the durable
// store's Pebble, which the runtime's durability tests open. None is
// compiled into a consumer's program or listed in its go.mod.
var rootTestSums = map[string]string{
	"github.com/stretchr/testify":         "the root package's tests",
	"github.com/davecgh/go-spew":          "testify's",
	"github.com/pmezard/go-difflib":       "testify's",
	"gopkg.in/yaml.v3":                    "testify's",
	"go.yaml.in/yaml/v3":                  "testify's (or the root tests' YAML)",
	"github.com/kr/pretty":                "testify's test helpers",
	"github.com/kr/text":                  "testify's test helpers",
	"github.com/rogpeppe/go-internal":     "kr/pretty's",
	"github.com/google/go-cmp":            "the root package's tests",
	"github.com/cockroachdb/pebble/v2":    "the root package's durability tests (store/durable)",
	"github.com/cockroachdb/crlib":        "Pebble's",
	"github.com/cockroachdb/errors":       "Pebble's",
	"github.com/cockroachdb/logtags":      "Pebble's",
	"github.com/cockroachdb/redact":       "Pebble's",
	"github.com/cockroachdb/swiss":        "Pebble's",
	"github.com/cockroachdb/tokenbucket":  "Pebble's",
	"github.com/DataDog/zstd":             "Pebble's",
	"github.com/RaduBerinde/axisds":       "Pebble's",
	"github.com/RaduBerinde/btreemap":     "Pebble's",
	"github.com/getsentry/sentry-go":      "Pebble's (cockroachdb/errors)",
	"github.com/gogo/protobuf":            "Pebble's (cockroachdb/errors)",
	"github.com/golang/snappy":            "Pebble's",
	"github.com/klauspost/compress":       "Pebble's",
	"github.com/minio/minlz":              "Pebble's",
	"github.com/pkg/errors":               "Pebble's",
	"github.com/prometheus/client_golang": "Pebble's metrics",
	"github.com/prometheus/client_model":  "Pebble's metrics",
	"github.com/prometheus/common":        "Pebble's metrics",
	"github.com/prometheus/procfs":        "Pebble's metrics",
	"github.com/beorn7/perks":             "Pebble's metrics",
	"github.com/munnerz/goautoneg":        "Pebble's metrics",
	"google.golang.org/protobuf":          "Pebble's metrics",
	"golang.org/x/exp":                    "Pebble's",
	"golang.org/x/text":                   "Pebble's",
	"golang.org/x/sys":                    "Pebble's",
	"github.com/google/uuid":              "the root package's tests",
	"github.com/go-logr/logr":             "the OpenTelemetry SDK's, for the root package's telemetry tests",
	"github.com/go-logr/stdr":             "the OpenTelemetry SDK's, for the root package's telemetry tests",
	"go.opentelemetry.io/auto/sdk":        "the OpenTelemetry SDK's, for the root package's telemetry tests",
	"go.opentelemetry.io/otel/sdk":        "the root package's telemetry tests",
	"go.opentelemetry.io/otel/sdk/metric": "the root package's telemetry tests",
	"go.opentelemetry.io/otel/log":        "the OpenTelemetry SDK's, for the root package's telemetry tests",
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestConsumersSeeOnlyTheDependenciesTheyUse(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy twice")
	}
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	repo, err := filepath.Abs("..")
	require.NoError(t, err)
	for _, c := range consumers {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			mod := "module example.com/consumer\n\ngo 1.26.0\n\nrequire github.com/caxton-go/caxton v0.0.0\n\nreplace github.com/caxton-go/caxton => " + repo + "\n"
			for _, m := range c.modules {
				path := "github.com/caxton-go/caxton/" + m
				mod += "\nrequire " + path + " v0.0.0\n\nreplace " + path + " => " + filepath.Join(repo, m) + "\n"
			}
			src := "package main\n\nimport _ \"" + c.imports + "\"\n\nfunc main() {}\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644))

			goCmd := func(args ...string) ([]byte, error) {
				cmd := exec.Command(goBin, args...)
				cmd.Dir = dir
				// Offline, against the module cache that building this
				// repository filled; no workspace, no inherited flags.
				cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local", "GOSUMDB=off")
				return cmd.CombinedOutput()
			}
			out, err := goCmd("mod", "tidy")
			if err != nil && bytes.Contains(out, []byte("GOPROXY=off")) {
				t.Skipf("a module is not in the module cache and the proxy is off (build and test the repository first):\n%s", out)
			}
			require.NoError(t, err, "go mod tidy:\n%s", out)

			gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			require.NoError(t, err)
			required := modulesIn(gomod, func(fields []string) (string, bool) {
				if len(fields) >= 2 && !strings.HasPrefix(fields[0], "module") && !slices.Contains([]string{"go", "require", "replace", ")", "toolchain"}, fields[0]) {
					return fields[0], true
				}
				if len(fields) >= 3 && fields[0] == "require" && fields[1] != "(" {
					return fields[1], true
				}
				return "", false
			})
			required = slices.DeleteFunc(required, func(m string) bool { return strings.HasPrefix(m, "github.com/caxton-go/") })
			assert.ElementsMatch(t, c.build, required, "go.mod of a consumer of %s", c.imports)

			gosum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
			require.NoError(t, err)
			summed := modulesIn(gosum, func(fields []string) (string, bool) {
				if len(fields) == 3 && !strings.HasSuffix(fields[1], "/go.mod") {
					return fields[0], true
				}
				return "", false
			})
			for _, m := range summed {
				if slices.Contains(c.build, m) {
					continue
				}
				_, ok := c.sums[m]
				assert.True(t, ok, "go.sum of a consumer of %s holds %s: a dependency a consumer should not see, or one to justify here", c.imports, m)
			}
			for _, m := range c.never {
				assert.NotContains(t, summed, m, "go.sum")
				assert.NotContains(t, required, m, "go.mod")
			}
			if len(c.notInGraph) > 0 {
				out, err := goCmd("list", "-m", "all")
				require.NoError(t, err, "go list -m all:\n%s", out)
				graph := modulesIn(out, func(fields []string) (string, bool) {
					if len(fields) == 0 {
						return "", false
					}
					return fields[0], true
				})
				for _, m := range c.notInGraph {
					assert.NotContains(t, graph, m, "the module graph of a consumer of %s", c.imports)
				}
			}
			t.Logf("consumer of %s: go.mod requires %d third-party modules, go.sum hashes %d", c.imports, len(required), len(summed))
		})
	}
}

// modulesIn returns the distinct module paths pick finds in a go.mod or
// go.sum's lines.
func modulesIn(b []byte, pick func(fields []string) (string, bool)) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		if m, ok := pick(strings.Fields(line)); ok && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
