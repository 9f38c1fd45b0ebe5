package mcpserver

import (
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/caxtontest"
)

// TestHTTPHandlerSessionDefaults: sessions are reaped and capped unless
// the host says otherwise (the field report's server held 10,000
// abandoned sessions for good).
func TestHTTPHandlerSessionDefaults(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        []Option
		timeout     time.Duration
		maxSessions int
	}{
		{"defaults", nil, DefaultSessionTimeout, DefaultMaxSessions},
		{"the SDK's option", []Option{WithHTTPOptions(&sdk.StreamableHTTPOptions{SessionTimeout: 5 * time.Minute})}, 5 * time.Minute, DefaultMaxSessions},
		{"ours wins", []Option{WithSessionTimeout(time.Minute), WithHTTPOptions(&sdk.StreamableHTTPOptions{SessionTimeout: 5 * time.Minute})}, time.Minute, DefaultMaxSessions},
		{"no limits", []Option{WithSessionTimeout(-1), WithMaxSessions(-1)}, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := caxtontest.NewRuntime(t)
			h, err := HTTPHandler(rt.Runtime, tc.opts...)
			require.NoError(t, err)
			f := h.(*httpFace)
			assert.Equal(t, tc.timeout, f.cfg.sessionTimeout)
			assert.Equal(t, tc.maxSessions, f.cfg.maxSessions)
		})
	}
}
