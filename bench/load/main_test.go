//go:build bench

// Run with go test -tags bench ./bench/... (CI does; see the README).

package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A short run over native and C agents accounts for every message.
func TestEveryMessageIsAccountedFor(t *testing.T) {
	for _, c := range []config{
		{Agents: 50, WasmFraction: 0.1, Rate: 5000, Duration: 300 * time.Millisecond, RequestShare: 0.2, Senders: 2},
		{Agents: 20, Rate: 0, Duration: 100 * time.Millisecond, RequestShare: 0.5, Senders: 2},
	} {
		c.WasmModule, c.Drain = "../../guest/c/agents/echo.wasm", time.Minute
		var out bytes.Buffer
		res, err := run(context.Background(), &out, c)
		require.NoError(t, err)
		assert.Zero(t, res.Lost, out.String())
		assert.Zero(t, res.Refused, out.String())
		assert.Equal(t, res.Sent, res.Handled)
		assert.Equal(t, res.Requests, res.Replies)
		assert.Positive(t, res.Requests)
		assert.Positive(t, res.Sent)
		if c.Rate > 0 {
			assert.Equal(t, int64(c.Rate)*int64(c.Duration/time.Millisecond)/1000, res.Sent+res.Requests, "every scheduled message is sent")
		}
		assert.Equal(t, uint64(res.Sent+res.Replies), res.Lat.n.Load(), "one latency per handled send and answered request")
		assert.Contains(t, out.String(), "p99.9=")
	}
}

// Hibernating C guests in a pool: the warm-up puts every one to sleep,
// the load wakes the cold ones, and every message is still accounted for.
func TestHibernatingGuestsUnderLoad(t *testing.T) {
	c := config{Agents: 200, WasmFraction: 1, Rate: 2000, Duration: 300 * time.Millisecond, Senders: 2,
		Hibernate: 50 * time.Millisecond, Warm: true, Active: 20, ColdShare: 0.2, Pool: 64,
		WasmModule: "../../guest/c/agents/echo.wasm", Drain: time.Minute}
	var out bytes.Buffer
	res, err := run(context.Background(), &out, c)
	require.NoError(t, err, out.String())
	assert.Zero(t, res.Lost, out.String())
	assert.Equal(t, res.Requests, res.Replies)
	assert.Contains(t, out.String(), "hibernated=200 of 200")
	assert.Positive(t, res.Cold.n.Load(), "some messages went to cold agents")
	assert.Contains(t, out.String(), "wakes=")
}

func TestRefusesBadConfigurations(t *testing.T) {
	good := config{Agents: 1, Rate: 1, Duration: time.Second, Senders: 1}
	require.NoError(t, good.check())
	for name, mod := range map[string]func(*config){
		"agents":        func(c *config) { c.Agents = 0 },
		"wasm":          func(c *config) { c.WasmFraction = 1.5 },
		"requests":      func(c *config) { c.RequestShare = -1 },
		"rate":          func(c *config) { c.Rate = -1 },
		"duration":      func(c *config) { c.Duration = 0 },
		"senders":       func(c *config) { c.Senders = 0 },
		"hibernate":     func(c *config) { c.Hibernate = -1 },
		"active":        func(c *config) { c.Active = 2 },
		"cold":          func(c *config) { c.ColdShare = 2 },
		"pool":          func(c *config) { c.Pool = -1 },
		"keep-resident": func(c *config) { c.KeepResident = 1 << 16 },
	} {
		c := good
		mod(&c)
		err := c.check()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name, "the error names the flag")
	}
}
