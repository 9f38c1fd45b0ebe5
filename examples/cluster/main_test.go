//go:build examples

// Run with go test -tags examples ./... in examples/cluster, a module of its own (CI does).

package main

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary be a node process too: run starts itself
// (os.Executable) with the node's name in the environment.
func TestMain(m *testing.M) {
	if name := os.Getenv(nodeEnv); name != "" {
		if err := runNode(name, os.Getenv(urlEnv), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "node %s: %v\n", name, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestClusterExample(t *testing.T) {
	var buf bytes.Buffer
	err := run(&buf)
	out := buf.String()
	t.Log("\n" + out)
	require.NoError(t, err)
	for _, want := range []string{
		"a:     nodes [a b c]; carriers [bergen-bulk fjord-freight oslo-express]",
		"a:     got inform from billing: refund issued for invoice 42",
		"a:     contract net: 3 bids, bergen-bulk won: bergen-bulk moved 12 pallets for 380",
		"c:     ledger on c: booked entry 10",
		"host:  killing node c (SIGKILL)",
		"b:     node c's lease ended: spawning the ledger here to take over its queue",
		"b:     ledger on b: booked entry 11",
		"b:     ledger on b: booked entry 20",
		"host:  every ledger entry booked",
	} {
		assert.Contains(t, out, want)
	}
}
