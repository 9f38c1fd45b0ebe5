//go:build cgo

package testguest

import (
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// WATBinary translates a WAT guest to the binary format, failing t on
// error: the form in which modules usually arrive.
func WATBinary(t testing.TB, wat string) []byte {
	t.Helper()
	b, err := wasmtime.Wat2Wasm(wat)
	if err != nil {
		t.Fatalf("testguest: %v", err)
	}
	return b
}
