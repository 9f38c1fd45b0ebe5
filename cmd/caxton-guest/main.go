// Command caxton-guest builds Caxton guest agents written in Go and keeps
// checked-in guests honest: beside each module NAME.wasm it writes
// NAME.wasm.sum, a provenance file (language, toolchain version, the inputs
// with their hashes, the module's hash), and it checks those files.
//
//	caxton-guest build [-o out.wasm] [dir]
//	    Build the Go guest in dir (default ".") with GOOS=wasip1 GOARCH=wasm
//	    -buildmode=c-shared and reproducible flags (see package
//	    github.com/caxton-go/caxton/guest/gobuild) into out.wasm (default:
//	    the directory's name + ".wasm", in the current directory) and write
//	    out.wasm.sum.
//
//	caxton-guest sum -lang c -toolchain clang-14 -o out.wasm input...
//	    Write out.wasm.sum for a module another toolchain built from the
//	    input files (a Makefile among them is how `check -rebuild` rebuilds
//	    it: make -C DIR OUT=TMP TMP/out.wasm).
//
//	caxton-guest check [-rebuild] [path...]
//	    Check every NAME.wasm.sum under the paths (files or directories;
//	    default "."): the module has the recorded hash and its sources are
//	    unchanged. With -rebuild, also build each module again where its
//	    toolchain is present and compare the bytes.
//
// From a go:generate line in a host file of your module:
//
//	//go:generate go run github.com/caxton-go/caxton/cmd/caxton-guest build -o agent/agent.wasm ./agent
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/caxton-go/caxton/guest/gobuild"
	"github.com/caxton-go/caxton/internal/provenance"
)

const usage = `usage:
  caxton-guest build [-o out.wasm] [dir]
  caxton-guest sum -lang LANG -toolchain CMD -o out.wasm input...
  caxton-guest check [-rebuild] [path...]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "caxton-guest:", err)
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a command line the command does not understand.
type usageError string

func (u usageError) Error() string { return string(u) }

func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("no command")
	}
	fl := flag.NewFlagSet("caxton-guest "+args[0], flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	switch args[0] {
	case "build":
		out := fl.String("o", "", "output file (default: the directory's name + .wasm)")
		if err := fl.Parse(args[1:]); err != nil {
			return usagef("build: %v", err)
		}
		if fl.NArg() > 1 {
			return usagef("build: one directory at most, got %q", fl.Args())
		}
		return build(ctx, fl.Arg(0), *out, stdout)
	case "sum":
		lang := fl.String("lang", "", "the guest's language (c, rust, ...)")
		tool := fl.String("toolchain", "", "the compiler command, asked for its version with --version")
		out := fl.String("o", "", "the module the inputs were built into")
		if err := fl.Parse(args[1:]); err != nil {
			return usagef("sum: %v", err)
		}
		if *lang == "" || *tool == "" || *out == "" || fl.NArg() == 0 {
			return usagef("sum: -lang, -toolchain, -o and at least one input are required")
		}
		f, err := provenance.ForFiles(ctx, *out, *lang, *tool, fl.Args())
		if err != nil {
			return err
		}
		return f.Write(filepath.Dir(*out))
	case "check":
		rebuild := fl.Bool("rebuild", false, "build each module again and compare the bytes")
		if err := fl.Parse(args[1:]); err != nil {
			return usagef("check: %v", err)
		}
		paths := fl.Args()
		if len(paths) == 0 {
			paths = []string{"."}
		}
		return check(ctx, paths, *rebuild, stdout)
	}
	return usagef("unknown command %q", args[0])
}

// build builds the Go guest in dir into out and writes its provenance.
func build(ctx context.Context, dir, out string, stdout io.Writer) error {
	if dir == "" {
		dir = "."
	}
	before, err := gobuild.Inspect(ctx, dir)
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Base(before.Dir) + ".wasm"
	}
	wasm, err := gobuild.Build(ctx, dir)
	if err != nil {
		return err
	}
	after, err := gobuild.Inspect(ctx, dir)
	if err != nil {
		return err
	}
	if after.Hash != before.Hash {
		return fmt.Errorf("the sources of %s changed during the build; run it again", dir)
	}
	f, err := provenance.ForGo(out, wasm, after)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, wasm, 0o644); err != nil {
		return err
	}
	if err := f.Write(filepath.Dir(out)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d bytes, %s, from %s\n", out, len(wasm), after.GoVersion, after.Package)
	return nil
}

// check checks every provenance file under paths.
func check(ctx context.Context, paths []string, rebuild bool, stdout io.Writer) error {
	var sums []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && name != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(name, ".wasm"+provenance.Suffix) {
				sums = append(sums, name)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(sums) == 0 {
		return fmt.Errorf("check: no *.wasm%s files under %s", provenance.Suffix, strings.Join(paths, ", "))
	}
	var errs []error
	for _, s := range sums {
		if err := provenance.Check(ctx, s); err != nil {
			errs = append(errs, err)
			continue
		}
		status := "ok"
		if rebuild {
			skipped, err := provenance.Rebuild(ctx, s)
			switch {
			case err != nil:
				errs = append(errs, err)
				continue
			case skipped != "":
				status = "ok, not rebuilt: " + skipped
			default:
				status = "ok, rebuilt: same bytes"
			}
		}
		fmt.Fprintf(stdout, "%s: %s\n", s, status)
	}
	return errors.Join(errs...)
}
