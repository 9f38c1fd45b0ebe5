package gobuild_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/caxton-go/caxton/guest/gobuild"
)

// Build a guest from its directory, through the on-disk cache; the bytes
// are what caxton.WasmSpec{Module: wasm} takes.
func Example() {
	ctx := context.Background()
	var opts []gobuild.Option
	if dir, err := gobuild.DefaultCacheDir(); err == nil {
		opts = append(opts, gobuild.WithCache(dir))
	}
	wasm, err := gobuild.Build(ctx, "testdata/hello", opts...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("a wasm module:", bytes.HasPrefix(wasm, []byte("\x00asm")))
	// Output: a wasm module: true
}

// Inspect lists what a guest is built from; its hash changes only when
// one of those inputs does.
func ExampleInspect() {
	s, err := gobuild.Inspect(context.Background(), "testdata/hello")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Package)
	for _, line := range s.Manifest {
		if line == "file github.com/caxton-go/caxton/guest/gobuild/testdata/hello/main.go "+sha256Of("testdata/hello/main.go") {
			fmt.Println("lists main.go with its hash")
		}
	}
	// Output:
	// github.com/caxton-go/caxton/guest/gobuild/testdata/hello
	// lists main.go with its hash
}
