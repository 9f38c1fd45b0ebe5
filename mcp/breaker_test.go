package mcp_test

import (
	"testing"
	"time"

	"github.com/caxton-go/caxton/clock"
	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server that keeps timing out opens its breaker: its tools fail at once
// for the cool-down; a tool's own error does not count; after the
// cool-down one call decides.
func TestServerBreakerOpensOnTimeouts(t *testing.T) {
	fc := clock.NewFake(time.Unix(0, 0))
	reg, _ := memRegistry(t, mcp.WithClock(fc), mcp.WithServerBreaker(2, 10*time.Second))
	slow := tool.Grant{Allow: []string{"files/*"}, Timeout: 20 * time.Millisecond}
	all := tool.Grant{Allow: []string{"files/*"}}
	assert.Equal(t, []mcp.ServerInfo{{Name: "files", Breaker: "closed"}}, reg.Servers())

	require.Equal(t, tool.StatusError, call(t, reg, "files/fail", `{}`, all).Status)
	require.Equal(t, tool.StatusTimeout, call(t, reg, "files/sleep", `{}`, slow).Status)
	require.Equal(t, tool.StatusError, call(t, reg, "files/fail", `{}`, all).Status, "an answer resets the count")
	require.Equal(t, tool.StatusTimeout, call(t, reg, "files/sleep", `{}`, slow).Status)
	require.Equal(t, tool.StatusTimeout, call(t, reg, "files/sleep", `{}`, slow).Status)
	assert.Equal(t, "open", reg.Servers()[0].Breaker)

	res := call(t, reg, "files/echo", `{"text":"hi"}`, all)
	require.Equal(t, tool.StatusUnavailable, res.Status)
	assert.Contains(t, string(res.Content), `server "files": circuit open after 2 failed calls in a row`)

	fc.Advance(10 * time.Second)
	assert.Equal(t, "half-open", reg.Servers()[0].Breaker)
	res = call(t, reg, "files/echo", `{"text":"hi"}`, all)
	require.Equal(t, tool.StatusOK, res.Status)
	assert.Equal(t, "closed", reg.Servers()[0].Breaker)
}
