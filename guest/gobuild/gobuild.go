// Package gobuild builds Go guest agents — main packages written with the
// guest SDK — into WebAssembly modules, from host code: a test, a command
// run by go generate, a service that compiles agents on start. It is host
// code (it runs the go command) and is never compiled into a guest.
//
// A build is
//
//	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags="-s -w"
//
// run in the guest's directory, with GOFLAGS, GOWASM and GOEXPERIMENT
// cleared, so its output depends only on the sources and the Go version:
// the same sources built by the same Go release give the same bytes on any
// machine and in any directory (which is what lets a repository check in a
// guest and verify it later). -ldflags="-s -w" drops the module's "name"
// section (Go emits no DWARF for wasm): 2% of a 3 MB guest, and nothing a
// Caxton host shows, since it reports a trap by its first line, not by the
// backtrace that names functions.
//
// Inspect lists and hashes what goes into a guest: with `go list -deps` for
// the wasip1 target, the files of every package from a module without a
// version (the main module, local replacements) by content, and every other
// module by path and version. Host code the guest does not import is not
// part of the hash, so changing it does not invalidate a guest.
//
// With WithCache, Build keeps its results on disk keyed by that hash and the
// Go version, so a guest is compiled once per machine until its sources or
// Go change.
//
// To build a guest from a go:generate line (writing the wasm and its
// provenance file), use the caxton-guest command:
//
//	//go:generate go run github.com/caxton-go/caxton/cmd/caxton-guest build -o agent/agent.wasm ./agent
package gobuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// flags are the go build flags of every guest build, after "go build".
var flags = []string{"-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// recipe names the target and the flags in the hash: changing either
// changes every guest's hash.
var recipe = "GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build " + strings.Join(flags, " ")

// Option configures Build.
type Option func(*config)

type config struct {
	cacheDir string
}

// WithCache keeps built guests in dir (created if missing), keyed by the
// hash of their sources and the Go version; a build whose key is there is
// read instead of compiled. DefaultCacheDir is a good dir.
func WithCache(dir string) Option {
	return func(c *config) { c.cacheDir = dir }
}

// DefaultCacheDir returns the directory for WithCache in the user's cache
// directory (os.UserCacheDir): <cache>/caxton/guests.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("gobuild: no user cache directory: %w", err)
	}
	return filepath.Join(d, "caxton", "guests"), nil
}

// Sources is what a guest is built from, as Inspect found it.
type Sources struct {
	// Dir is the guest's directory (absolute); Package its import path.
	Dir, Package string
	// GoVersion is the version of the go command that builds it (go env
	// GOVERSION, e.g. "go1.26.8"). It is not part of Hash: the same
	// sources have the same hash under any Go release.
	GoVersion string
	// Manifest lists the inputs, one per line, sorted within kind:
	//
	//	recipe GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build <flags>
	//	package <import path of the main package>
	//	go <the main module's go directive>
	//	godebug <key>=<value>                          (the main module's go.mod godebug lines)
	//	file <import path>/<file name> <sha256 hex>    (files of packages in the main module or a local replacement)
	//	module <path> <version>                          (other modules)
	Manifest []string
	// Hash is "sha256:" and the hex SHA-256 of the manifest's lines, each
	// ended by a newline.
	Hash string
}

// listed is the part of `go list -json` that Inspect reads.
type listed struct {
	ImportPath string
	Dir        string
	Standard   bool
	Module     *module
	GoFiles    []string
	SFiles     []string
	HFiles     []string
	SysoFiles  []string
	EmbedFiles []string
	Error      *struct{ Err string }
}

type module struct {
	Path, Version, GoVersion, GoMod string
	Main                            bool
	Replace                         *module
}

// Inspect lists the inputs of the guest whose main package is in dir and
// hashes them (see Sources). It runs `go list -deps` and `go env GOVERSION`
// in dir for the wasip1/wasm target.
func Inspect(ctx context.Context, dir string) (*Sources, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("gobuild: %w", err)
	}
	ver, err := goCmd(ctx, abs, "env", "GOVERSION")
	if err != nil {
		return nil, err
	}
	args := append([]string{"list", "-deps", "-json=ImportPath,Dir,Standard,Module,GoFiles,SFiles,HFiles,SysoFiles,EmbedFiles,Error"}, flags...)
	out, err := goCmd(ctx, abs, append(args, ".")...)
	if err != nil {
		return nil, err
	}
	s := &Sources{Dir: abs, GoVersion: strings.TrimSpace(string(ver))}
	var files, modules []string
	seenModule := map[string]bool{}
	var main *listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("gobuild: reading go list output for %s: %w", abs, err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("gobuild: package %s: %s", p.ImportPath, p.Error.Err)
		}
		if p.Standard {
			continue // part of the Go release
		}
		main = &p // go list -deps prints the named package last
		m := p.Module
		if m == nil {
			return nil, fmt.Errorf("gobuild: package %s (in %s) is not in a module; a guest needs a go.mod", p.ImportPath, p.Dir)
		}
		if m.Replace != nil {
			m = m.Replace
		}
		if m.Version != "" {
			line := "module " + p.Module.Path + " " + p.Module.Version
			if p.Module.Replace != nil {
				line += " => " + m.Path + " " + m.Version
			}
			if !seenModule[line] {
				seenModule[line] = true
				modules = append(modules, line)
			}
			continue
		}
		for _, group := range [][]string{p.GoFiles, p.SFiles, p.HFiles, p.SysoFiles, p.EmbedFiles} {
			for _, f := range group {
				sum, err := fileSum(filepath.Join(p.Dir, filepath.FromSlash(f)))
				if err != nil {
					return nil, err
				}
				files = append(files, "file "+path.Join(p.ImportPath, f)+" "+sum)
			}
		}
	}
	if main == nil || main.Module == nil || !main.Module.Main {
		return nil, fmt.Errorf("gobuild: %s is not a package of the main module of its directory", abs)
	}
	s.Package = main.ImportPath
	sort.Strings(files)
	sort.Strings(modules)
	s.Manifest = append(s.Manifest, "recipe "+recipe, "package "+s.Package, "go "+main.Module.GoVersion)
	// The godebug lines of go.mod set the guest's default GODEBUG (with the
	// go line, and //go:debug lines, which are in the files). The default
	// itself is not hashed: it also depends on the Go release.
	edit, err := goCmd(ctx, abs, "mod", "edit", "-json", main.Module.GoMod)
	if err != nil {
		return nil, err
	}
	var gomod struct{ GoDebug []struct{ Key, Value string } }
	if err := json.Unmarshal(edit, &gomod); err != nil {
		return nil, fmt.Errorf("gobuild: reading %s: %w", main.Module.GoMod, err)
	}
	for _, d := range gomod.GoDebug {
		s.Manifest = append(s.Manifest, "godebug "+d.Key+"="+d.Value)
	}
	s.Manifest = append(append(s.Manifest, files...), modules...)
	s.Hash = HashManifest(s.Manifest)
	return s, nil
}

// HashManifest returns "sha256:" and the hex SHA-256 of lines, each ended
// by a newline: how Sources.Hash is computed from Sources.Manifest.
func HashManifest(lines []string) string {
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
		io.WriteString(h, "\n")
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func fileSum(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("gobuild: hashing a source: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// Build compiles the Go guest whose main package is in dir and returns the
// wasm module. The go command must be on PATH. If the build fails, the
// error includes the go command's output; if ctx ends first, the go
// command is stopped and the error wraps ctx.Err().
func Build(ctx context.Context, dir string, opts ...Option) ([]byte, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.cacheDir == "" {
		return build(ctx, dir)
	}
	s, err := Inspect(ctx, dir)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256([]byte(s.Hash + " " + s.GoVersion))
	cached := filepath.Join(cfg.cacheDir, path.Base(s.Package)+"-"+hex.EncodeToString(key[:12])+".wasm")
	if b, err := os.ReadFile(cached); err == nil && bytes.HasPrefix(b, []byte("\x00asm")) {
		return b, nil
	}
	b, err := build(ctx, dir)
	if err != nil {
		return nil, err
	}
	// A cache that cannot be written is not an error: the build succeeded.
	if err := os.MkdirAll(cfg.cacheDir, 0o755); err == nil {
		if tmp, err := os.CreateTemp(cfg.cacheDir, ".build-*"); err == nil {
			_, werr := tmp.Write(b)
			if cerr := tmp.Close(); werr == nil && cerr == nil {
				werr = os.Rename(tmp.Name(), cached)
			}
			if werr != nil {
				os.Remove(tmp.Name())
			}
		}
	}
	return b, nil
}

// build runs go build into a temporary file and returns its contents.
func build(ctx context.Context, dir string) ([]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("gobuild: %w", err)
	}
	tmp, err := os.MkdirTemp("", "caxton-gobuild-")
	if err != nil {
		return nil, fmt.Errorf("gobuild: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "guest.wasm")
	args := append(append([]string{"build"}, flags...), "-o", out, ".")
	if _, err := goCmd(ctx, abs, args...); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("gobuild: reading the built guest of %s: %w", abs, err)
	}
	return b, nil
}

// goCmd runs the go command in dir for the wasip1/wasm target and returns
// its standard output.
func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("gobuild: building a Go guest needs the go command on PATH: %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=", "GOWASM=", "GOEXPERIMENT=")
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("gobuild: go %s in %s: %w", args[0], dir, ctx.Err())
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "(no output)"
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, fmt.Errorf("gobuild: running go %s in %s: %w", args[0], dir, err)
		}
		return nil, fmt.Errorf("gobuild: go %s in %s failed (%v):\n%s", args[0], dir, err, msg)
	}
	return stdout.Bytes(), nil
}
