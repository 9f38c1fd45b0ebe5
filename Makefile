# Checked-in WebAssembly guests. Each NAME.wasm has a provenance file
# NAME.wasm.sum beside it; `go test ./internal/provenance` fails when a
# module no longer matches its sources (CAXTON_TEST_LONG=1 also rebuilds
# each one and compares the bytes). The Go tests' own guests
# (sandbox/testdata/goguests) are not checked in: the tests build them.
#
#   make guests        rebuild every checked-in guest and its provenance file
#   make go-guests     only the Go guests (the examples'; needs only Go)
#   make c-guests      only the C guests (needs clang-14, see guest/c/Makefile)
#   make check-guests  check them all, rebuilding where the toolchain is here

GO ?= go

.PHONY: guests go-guests c-guests check-guests
guests: go-guests c-guests

go-guests:
	$(GO) generate -run caxton-guest ./examples/...

c-guests:
	$(MAKE) -B -C guest/c
	$(MAKE) -B -C examples/upgrade/guests

check-guests:
	$(GO) run ./cmd/caxton-guest check -rebuild .
