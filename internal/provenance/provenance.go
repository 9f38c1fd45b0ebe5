// Package provenance reads, writes and checks the provenance file kept
// beside every checked-in WebAssembly guest: NAME.wasm.sum records how
// NAME.wasm was made (language, toolchain and its version), what it was
// made from (the inputs, each with its hash, and the hash of them all) and
// the hash of the module itself. A text file, so a review shows what a
// rebuild changed.
//
//	# Provenance of echo.wasm, written by caxton-guest; do not edit.
//	wasm echo.wasm sha256:…
//	language c
//	toolchain clang-14 Debian clang version 14.0.6
//	inputs sha256:…
//	input file echo.c 2c0f…
//	input file ../caxton.h 91ab…
//	input file ../Makefile 77d0…
//
// The inputs of a Go guest are gobuild's manifest (the build recipe, the
// files of its packages in the main module and the modules it uses by
// version), with a "package" line naming the guest's directory relative to
// the provenance file; the inputs of any other guest are files, named
// relative to the provenance file. "inputs" is gobuild.HashManifest of the
// input lines.
//
// Check recomputes the inputs and the module's hash and names every
// difference; Rebuild builds the guest again with the recorded toolchain,
// when that toolchain is here, and compares the bytes.
package provenance

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/caxton-go/caxton/guest/gobuild"
)

// Suffix is appended to a wasm file's name to name its provenance file.
const Suffix = ".sum"

// File is one provenance file.
type File struct {
	Wasm       string   // the module's file name (in the provenance file's directory)
	WasmHash   string   // "sha256:" and the module's hex SHA-256
	Language   string   // "go", "c", ...
	Toolchain  string   // the compiler command and its version: "go go1.26.8", "clang-14 Debian clang version 14.0.6"
	Package    string   // Go only: the guest's directory, slash-separated, relative to the provenance file
	InputsHash string   // gobuild.HashManifest(Inputs)
	Inputs     []string // one input per line, without the "input " prefix
}

// ForGo describes the Go guest wasm, built from s, to be written as
// wasmPath (its provenance file is wasmPath+Suffix).
func ForGo(wasmPath string, wasm []byte, s *gobuild.Sources) (*File, error) {
	pkg, err := relTo(filepath.Dir(wasmPath), s.Dir)
	if err != nil {
		return nil, err
	}
	return &File{
		Wasm: filepath.Base(wasmPath), WasmHash: hashBytes(wasm), Language: "go",
		Toolchain: "go " + s.GoVersion, Package: pkg,
		InputsHash: s.Hash, Inputs: append([]string(nil), s.Manifest...),
	}, nil
}

// ForFiles describes wasmPath, built by toolchain (a command on PATH,
// asked for its version with --version) from the files inputs.
func ForFiles(ctx context.Context, wasmPath, language, toolchain string, inputs []string) (*File, error) {
	if language == "" || language == "go" {
		return nil, fmt.Errorf("provenance: language %q: Go guests are described by gobuild", language)
	}
	if len(inputs) == 0 {
		return nil, errors.New("provenance: no input files")
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	ver, err := toolVersion(ctx, toolchain)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(wasmPath)
	var lines []string
	for _, in := range inputs {
		rel, err := relTo(dir, in)
		if err != nil {
			return nil, err
		}
		line, err := fileLine(dir, rel)
		if err != nil {
			return nil, err
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	return &File{
		Wasm: filepath.Base(wasmPath), WasmHash: hashBytes(wasm), Language: language,
		Toolchain: toolchain + " " + ver, InputsHash: gobuild.HashManifest(lines), Inputs: lines,
	}, nil
}

// Marshal returns the file's text.
func (f *File) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Provenance of %s, written by caxton-guest; do not edit.\n", f.Wasm)
	fmt.Fprintf(&b, "wasm %s %s\nlanguage %s\ntoolchain %s\n", f.Wasm, f.WasmHash, f.Language, f.Toolchain)
	if f.Package != "" {
		fmt.Fprintf(&b, "package %s\n", f.Package)
	}
	fmt.Fprintf(&b, "inputs %s\n", f.InputsHash)
	for _, in := range f.Inputs {
		fmt.Fprintf(&b, "input %s\n", in)
	}
	return b.Bytes()
}

// Write writes the provenance file of f's module in dir.
func (f *File) Write(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, f.Wasm+Suffix), f.Marshal(), 0o644); err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	return nil
}

// Read reads and parses the provenance file at sumPath.
func Read(sumPath string) (*File, error) {
	b, err := os.ReadFile(sumPath)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("provenance: %s: %w", sumPath, err)
	}
	return f, nil
}

// Parse parses a provenance file's text. Every field but Package (Go only)
// is required, and the inputs must hash to the recorded inputs hash.
func Parse(text []byte) (*File, error) {
	f := &File{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "wasm":
			name, hash, ok := strings.Cut(val, " ")
			if !ok {
				return nil, fmt.Errorf("line %d: want \"wasm NAME sha256:HEX\"", n)
			}
			f.Wasm, f.WasmHash = name, hash
		case "language":
			f.Language = val
		case "toolchain":
			f.Toolchain = val
		case "package":
			f.Package = val
		case "inputs":
			f.InputsHash = val
		case "input":
			f.Inputs = append(f.Inputs, val)
		default:
			return nil, fmt.Errorf("line %d: unknown field %q", n, key)
		}
	}
	for _, req := range []struct{ name, val string }{{"wasm", f.Wasm}, {"language", f.Language}, {"toolchain", f.Toolchain}, {"inputs", f.InputsHash}} {
		if req.val == "" {
			return nil, fmt.Errorf("no %q line", req.name)
		}
	}
	if len(f.Inputs) == 0 {
		return nil, errors.New("no input lines")
	}
	if (f.Language == "go") != (f.Package != "") {
		return nil, errors.New("a \"package\" line is required for Go guests and only for them")
	}
	if h := gobuild.HashManifest(f.Inputs); h != f.InputsHash {
		return nil, fmt.Errorf("the input lines hash to %s, not to the recorded %s (edited by hand?)", h, f.InputsHash)
	}
	return f, nil
}

// Check verifies the provenance file at sumPath against the files beside it:
// the module must have the recorded hash, and the inputs recomputed now
// (for Go by gobuild.Inspect, otherwise by hashing the listed files) must
// be the recorded ones. The error names each difference and how to fix it.
func Check(ctx context.Context, sumPath string) error {
	f, err := Read(sumPath)
	if err != nil {
		return err
	}
	dir := filepath.Dir(sumPath)
	var problems []string
	wasm, err := os.ReadFile(filepath.Join(dir, f.Wasm))
	if err != nil {
		problems = append(problems, err.Error())
	} else if h := hashBytes(wasm); h != f.WasmHash {
		problems = append(problems, fmt.Sprintf("%s has hash %s, not the recorded %s: it was changed or rebuilt without its provenance file", f.Wasm, h, f.WasmHash))
	}
	now, err := f.currentInputs(ctx, dir)
	if err != nil {
		problems = append(problems, err.Error())
	} else if diff := diffInputs(f.Inputs, now); len(diff) > 0 {
		problems = append(problems, fmt.Sprintf("the sources of %s changed since it was built (rebuild it and its provenance file):\n\t%s", f.Wasm, strings.Join(diff, "\n\t")))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", sumPath, strings.Join(problems, "; "))
	}
	return nil
}

// currentInputs recomputes the input lines of f from the sources as they
// are now.
func (f *File) currentInputs(ctx context.Context, dir string) ([]string, error) {
	if f.Language == "go" {
		s, err := gobuild.Inspect(ctx, filepath.Join(dir, filepath.FromSlash(f.Package)))
		if err != nil {
			return nil, err
		}
		return s.Manifest, nil
	}
	var lines []string
	for _, in := range f.Inputs {
		name, ok := inputFile(in)
		if !ok {
			return nil, fmt.Errorf("input %q: want \"file NAME HEX\"", in)
		}
		line, err := fileLine(dir, name)
		if err != nil {
			return nil, err
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	return lines, nil
}

// Rebuild builds the module again from its sources with the recorded
// toolchain and compares the bytes with the checked-in module. When the
// toolchain is not here (another Go version, no clang on PATH), it builds
// nothing and returns why in skipped. A C (or other non-Go) guest is
// rebuilt by the Makefile among its inputs: make -C DIR OUT=TMP
// CLANG=COMPILER TMP/NAME.wasm (RUSTC= for Rust, ASC= for AssemblyScript;
// a compiler named by a relative path is relative to the Makefile's
// directory).
func Rebuild(ctx context.Context, sumPath string) (skipped string, err error) {
	f, err := Read(sumPath)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(sumPath)
	cmd, want, _ := strings.Cut(f.Toolchain, " ")
	var got []byte
	if f.Language == "go" {
		s, err := gobuild.Inspect(ctx, filepath.Join(dir, filepath.FromSlash(f.Package)))
		if err != nil {
			return "", err
		}
		if s.GoVersion != want {
			return fmt.Sprintf("%s was built with %s; this is %s", f.Wasm, want, s.GoVersion), nil
		}
		if got, err = gobuild.Build(ctx, s.Dir); err != nil {
			return "", err
		}
	} else {
		makefile := ""
		for _, in := range f.Inputs {
			if name, ok := inputFile(in); ok && path.Base(name) == "Makefile" {
				makefile = filepath.Join(dir, filepath.FromSlash(name))
			}
		}
		if makefile == "" {
			return fmt.Sprintf("%s has no Makefile among its inputs to rebuild it with", f.Wasm), nil
		}
		if strings.Contains(cmd, "/") && !filepath.IsAbs(cmd) {
			// A compiler installed beside the sources (node_modules/.bin/asc)
			// is named relative to its Makefile's directory.
			abs, err := filepath.Abs(filepath.Join(filepath.Dir(makefile), filepath.FromSlash(cmd)))
			if err != nil {
				return "", fmt.Errorf("provenance: %w", err)
			}
			cmd = abs
		}
		if _, err := exec.LookPath(cmd); err != nil {
			return fmt.Sprintf("%s was built with %s, which is not on PATH", f.Wasm, cmd), nil
		}
		ver, err := toolVersion(ctx, cmd)
		if err != nil {
			return "", err
		}
		if ver != want {
			return fmt.Sprintf("%s was built with %s %s; %s here is %s", f.Wasm, cmd, want, cmd, ver), nil
		}
		if got, err = makeWasm(ctx, filepath.Dir(makefile), compilerVar(f.Language)+"="+cmd, f.Wasm); err != nil {
			return "", err
		}
	}
	wasm, err := os.ReadFile(filepath.Join(dir, f.Wasm))
	if err != nil {
		return "", fmt.Errorf("provenance: %w", err)
	}
	if !bytes.Equal(got, wasm) {
		return "", fmt.Errorf("%s: rebuilt from its sources with %s, %s is different (%d bytes, %s; checked in: %d bytes, %s): the build is not reproducible, or the module was not built from these sources",
			sumPath, f.Toolchain, f.Wasm, len(got), hashBytes(got), len(wasm), hashBytes(wasm))
	}
	return "", nil
}

// compilerVar is the make variable naming a language's compiler in its
// Makefile (guest/c: CLANG, guest/rust: RUSTC, guest/assemblyscript: ASC),
// which Rebuild sets to the recorded toolchain so that make uses the very
// compiler the module was built with.
func compilerVar(language string) string {
	switch language {
	case "rust":
		return "RUSTC"
	case "assemblyscript":
		return "ASC"
	default:
		return "CLANG"
	}
}

// makeWasm runs make in dir with OUT set to a temporary directory and the
// compiler variable set (compiler is "VAR=command"), and returns the
// module name built there.
func makeWasm(ctx context.Context, dir, compiler, name string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "caxton-rebuild-")
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, name)
	cmd := exec.CommandContext(ctx, "make", "-s", "-C", dir, "OUT="+tmp, compiler, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("provenance: make -C %s %s: %w\n%s", dir, out, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("provenance: make -C %s did not build %s: %w", dir, name, err)
	}
	return b, nil
}

// diffInputs names the inputs added, removed or changed between was and now.
func diffInputs(was, now []string) []string {
	key := func(line string) (string, string) {
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "file", "module":
			name, val, _ := strings.Cut(rest, " ")
			return kind + " " + name, val
		}
		return kind, rest
	}
	old := map[string]string{}
	for _, l := range was {
		k, v := key(l)
		old[k] = v
	}
	var diff []string
	seen := map[string]bool{}
	for _, l := range now {
		k, v := key(l)
		seen[k] = true
		switch ov, ok := old[k]; {
		case !ok:
			diff = append(diff, "new: "+l)
		case ov != v:
			diff = append(diff, fmt.Sprintf("changed: %s (was %s, now %s)", k, ov, v))
		}
	}
	for _, l := range was {
		if k, _ := key(l); !seen[k] {
			diff = append(diff, "gone: "+l)
		}
	}
	return diff
}

// inputFile returns the name of a "file NAME HEX" input line.
func inputFile(line string) (string, bool) {
	kind, rest, _ := strings.Cut(line, " ")
	name, _, ok := strings.Cut(rest, " ")
	return name, kind == "file" && ok && name != ""
}

// fileLine hashes the file name (relative to dir, slash-separated) into an
// input line.
func fileLine(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		return "", fmt.Errorf("provenance: input %s: %w", name, err)
	}
	h := sha256.Sum256(b)
	return "file " + name + " " + hex.EncodeToString(h[:]), nil
}

// toolVersion returns the first line of `cmd --version`.
func toolVersion(ctx context.Context, cmd string) (string, error) {
	out, err := exec.CommandContext(ctx, cmd, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("provenance: asking %s for its version: %w", cmd, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line), nil
}

// relTo returns target relative to dir, slash-separated.
func relTo(dir, target string) (string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("provenance: %w", err)
	}
	absTarget, err := filepath.Abs(target)
	if err != nil {
		return "", fmt.Errorf("provenance: %w", err)
	}
	rel, err := filepath.Rel(absDir, absTarget)
	if err != nil {
		return "", fmt.Errorf("provenance: %w", err)
	}
	return filepath.ToSlash(rel), nil
}

func hashBytes(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}
