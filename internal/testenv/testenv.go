// Package testenv decides which tests run. The default `go test ./...` is
// the everyday run and finishes in minutes on a cold machine; the long
// tests (crash tests with many restarts, the full-size variants of scale
// tests, rebuilding checked-in guests) run when CAXTON_TEST_LONG=1 is set,
// as CI does:
//
//	CAXTON_TEST_LONG=1 go test ./ ./store/durable/ ./internal/provenance/
//
// -short skips them whatever the environment says.
package testenv

import (
	"os"
	"testing"
)

// LongEnv is the environment variable that turns the long tests on when
// set to "1".
const LongEnv = "CAXTON_TEST_LONG"

// Long reports whether long tests run: LongEnv is "1" and -short is not
// set. Call it from a test (it reads the testing flags).
func Long() bool { return os.Getenv(LongEnv) == "1" && !testing.Short() }

// SkipUnlessLong skips t unless Long, saying what makes it long and how to
// run it.
func SkipUnlessLong(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("long test (%s); skipped under -short", why)
	}
	if !Long() {
		t.Skipf("long test (%s); run it with %s=1", why, LongEnv)
	}
}
