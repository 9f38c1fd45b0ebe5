package tool

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The status numbers are part of the guest ABI. Go guests share this
// package; C guests have their own copy in guest/c/caxton.h, and this test
// keeps that copy honest: every CAXTON_TOOL_<NAME> number is the Status of
// that name, and every Status has a define and a name of its own.
func TestStatusNumbersMatchTheCHeader(t *testing.T) {
	cNames := map[string]Status{
		"OK":            StatusOK,
		"ERROR":         StatusError,
		"DENIED":        StatusDenied,
		"RATE_LIMITED":  StatusRateLimited,
		"TIMEOUT":       StatusTimeout,
		"UNAVAILABLE":   StatusUnavailable,
		"BAD_ARGUMENTS": StatusBadArguments,
		"TOO_LARGE":     StatusTooLarge,
	}
	require.Len(t, cNames, int(numStatus), "the test lists every status")

	f, err := os.Open(filepath.Join("..", "guest", "c", "caxton.h"))
	require.NoError(t, err)
	defer f.Close()
	// Object-like defines with a number: the function-like ones
	// (CAXTON_TOOL_STATUS(r), CAXTON_TOOL_LEN(r)) do not match.
	define := regexp.MustCompile(`^\s*#\s*define\s+CAXTON_TOOL_([A-Z_]+)\s+(\d+)\s*$`)
	defined := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := define.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		_, dup := defined[m[1]]
		require.False(t, dup, "CAXTON_TOOL_%s is defined twice", m[1])
		defined[m[1]], err = strconv.Atoi(m[2])
		require.NoError(t, err)
	}
	require.NoError(t, sc.Err())

	for name, n := range defined {
		s, ok := cNames[name]
		if assert.True(t, ok, "CAXTON_TOOL_%s = %d has no tool.Status", name, n) {
			assert.Equal(t, int(s), n, "CAXTON_TOOL_%s is tool.%s", name, s)
		}
	}
	for name, s := range cNames {
		assert.Contains(t, defined, name, "guest/c/caxton.h lacks CAXTON_TOOL_%s (%d, %s)", name, s, s)
	}

	// Every status has a name of its own, and a number past the last
	// still prints.
	seen := map[string]Status{}
	for s := range numStatus {
		str := s.String()
		require.NotEmpty(t, str, "Status %d has no name", s)
		require.NotContains(t, seen, str, "Status %d and %d share the name %q", seen[str], s, str)
		seen[str] = s
	}
	assert.Equal(t, "Status(8)", numStatus.String())
	assert.Equal(t, "Status(255)", Status(255).String())
}
