// Package nocgotest holds the tests of a program built without cgo
// (CGO_ENABLED=0): native agents work, and a wasm agent is refused at Spawn
// with sandbox.ErrNoCgo. Its test file is built only without cgo; CI runs
// it with CGO_ENABLED=0 go test ./internal/nocgotest/.
package nocgotest
