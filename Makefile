# Checked-in WebAssembly guests. Each NAME.wasm has a provenance file
# NAME.wasm.sum beside it; `go test ./internal/provenance` fails when a
# module no longer matches its sources (CAXTON_TEST_LONG=1 also rebuilds
# each one and compares the bytes). The Go tests' own guests
# (sandbox/testdata/goguests) are not checked in: the tests build them.
#
#   make guests        rebuild every checked-in guest and its provenance file
#   make go-guests     only the Go guests (the examples'; needs only Go)
#   make c-guests      only the C guests (needs clang-14, see guest/c/Makefile)
#   make rust-guests   only the Rust guests (needs rustc 1.63, see guest/rust/Makefile)
#   make as-guests     only the AssemblyScript guests (needs node; see guest/assemblyscript/Makefile)
#   make js-engine     the JavaScript engine guest (clang-14 and npm, see guest/js/README.md)
#   make py-engine     the Python engine guest, MicroPython (clang-14, binaryen, curl; guest/python/micro/README.md)
#   make check-guests  check them all, rebuilding where the toolchain is here

GO ?= go

.PHONY: guests go-guests c-guests rust-guests as-guests js-engine py-engine check-guests
guests: go-guests c-guests rust-guests as-guests js-engine py-engine

go-guests:
	$(GO) generate -run caxton-guest ./examples/...
	cd examples/observability && $(GO) generate -run caxton-guest ./...

c-guests:
	$(MAKE) -B -C guest/c
	$(MAKE) -B -C examples/upgrade/guests

rust-guests:
	$(MAKE) -B -C guest/rust

as-guests:
	$(MAKE) -B -C guest/assemblyscript

js-engine:
	$(MAKE) -B -C guest/js/engine

py-engine:
	$(MAKE) -B -C guest/python/micro/engine

check-guests:
	$(GO) run ./cmd/caxton-guest check -rebuild .
