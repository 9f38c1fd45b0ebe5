package caxton_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/caxtontest"
	"github.com/caxton-go/caxton/internal/testguest"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awaitEvent receives events until one of kind for agent arrives.
func awaitEvent(t *testing.T, ch <-chan caxton.Event, kind caxton.EventKind, agent acl.AgentID) caxton.Event {
	t.Helper()
	for {
		if e := nextEvent(t, ch); e.Kind == kind && e.Agent == agent {
			return e
		}
	}
}

// countTo asks the counter agent n times and checks it answers from..from+n-1.
func countTo(t *testing.T, rt *caxtontest.Runtime, agent acl.AgentID, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		assert.Equal(t, fmt.Sprint(i), string(rt.MustRequest(request("count", agent)).Content))
	}
}

// counterGuest is a counter agent in one guest language.
type counterGuest struct {
	name acl.AgentID
	spec func() caxton.AgentSpec
}

// counterGuests are the C and Go counter agents (the Go runtime keeps its
// stack pointer and more in mutable globals; C only the stack pointer).
func counterGuests(t *testing.T) []counterGuest {
	return []counterGuest{
		{"c-counter", func() caxton.AgentSpec { return cAgent("c-counter", "counter.wasm") }},
		{"go-counter", func() caxton.AgentSpec { return wasmAgent("go-counter", goGuest(t, "counter")) }},
	}
}

// A counter agent hibernates after its idle time on the runtime's clock and
// wakes with its count for the next message, for a C guest and a Go guest.
func TestIdleWasmAgentsHibernateAndWakeWithTheirState(t *testing.T) {
	for _, g := range counterGuests(t) {
		t.Run(string(g.name), func(t *testing.T) {
			rt := caxtontest.NewRuntime(t, cachedModules())
			events := rt.Watch(t.Context(), 64)
			spec := g.spec()
			spec.Wasm.Hibernate = time.Minute
			rt.MustSpawn(spec)
			countTo(t, rt, g.name, 1, 3)

			for round := range 2 {
				rt.AdvanceWhenWaiting(1, time.Minute) // the sweeper's timer
				e := awaitEvent(t, events, caxton.EventHibernated, g.name)
				assert.Contains(t, e.Detail, "state saved in")
				info, err := rt.Agent(g.name)
				require.NoError(t, err)
				assert.Equal(t, 1, info.Hibernated)

				countTo(t, rt, g.name, 4+2*round, 2)
				awaitEvent(t, events, caxton.EventWoke, g.name)
				info, err = rt.Agent(g.name)
				require.NoError(t, err)
				assert.Equal(t, 0, info.Hibernated)
			}
		})
	}
}

// An agent that keeps getting messages within its idle time never sleeps;
// one that has not had a message for it does.
func TestOnlyIdleInstancesHibernate(t *testing.T) {
	rt := caxtontest.NewRuntime(t, cachedModules())
	events := rt.Watch(t.Context(), 64)
	busy, quiet := cAgent("busy", "counter.wasm"), cAgent("quiet", "counter.wasm")
	busy.Wasm.Hibernate, quiet.Wasm.Hibernate = 4*time.Second, 4*time.Second
	rt.MustSpawn(busy)
	rt.MustSpawn(quiet)
	countTo(t, rt, "quiet", 1, 1)
	for i := range 4 { // a sweep every second; busy gets a message between each
		countTo(t, rt, "busy", i+1, 1)
		rt.AdvanceWhenWaiting(1, time.Second)
	}
	awaitEvent(t, events, caxton.EventHibernated, "quiet")
	info, err := rt.Agent("busy")
	require.NoError(t, err)
	assert.Equal(t, 0, info.Hibernated)
	countTo(t, rt, "busy", 5, 1)
	countTo(t, rt, "quiet", 2, 1)
}

func TestHibernateIsRefusedForModulesItCannotSave(t *testing.T) {
	rt := caxtontest.NewRuntime(t)
	tests := []struct {
		name string
		wat  string
		hib  time.Duration
		want string
	}{
		{"negative", testguest.WATNop, -time.Second, "negative"},
		{"a start function", testguest.WATGuest(`(func $s) (start $s)`, `(i64.const 0)`), time.Second, "start function"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := rt.Spawn(caxtontest.SpawnContext(t), caxton.AgentSpec{Name: acl.AgentID(strings.ReplaceAll(tc.name, " ", "-")),
				Wasm: &caxton.WasmSpec{WAT: tc.wat, Hibernate: tc.hib}})
			require.ErrorIs(t, err, caxton.ErrInvalidSpec)
			var se *caxton.SpecError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, "Wasm.Hibernate", se.Field)
			assert.Contains(t, se.Reason, tc.want)
		})
	}
}

// When the instance pool is full, a start hibernates the agents idle
// longest before their idle time, instead of failing: three hibernating
// agents take turns in a pool of two slots, each keeping its count.
func TestAFullPoolMakesRoomByHibernating(t *testing.T) {
	rt := caxtontest.NewRuntime(t, cachedModules(), caxton.WithWasmInstancePool(sandbox.Pool{Instances: 2}))
	events := rt.Watch(t.Context(), 64)
	for _, name := range []acl.AgentID{"a", "b", "c"} {
		spec := cAgent(name, "counter.wasm")
		spec.Wasm.Hibernate = time.Hour
		spec.Lazy = true
		rt.MustSpawn(spec)
	}
	// Each message a second apart on the runtime's clock, so "idle
	// longest" is well defined (the sweeper's first look is 15 minutes on).
	step := func(agent acl.AgentID, want int) {
		countTo(t, rt, agent, want, 1)
		rt.Clock.Advance(time.Second)
	}
	step("a", 1)
	step("b", 1)
	step("c", 1) // the pool is full: a, idle longest, sleeps
	awaitEvent(t, events, caxton.EventHibernated, "a")
	step("a", 2) // b sleeps for it
	awaitEvent(t, events, caxton.EventHibernated, "b")
	step("b", 2) // c sleeps for it
	awaitEvent(t, events, caxton.EventHibernated, "c")
	step("c", 2)
}

func TestAFullPoolWithoutHibernationRefusesClearly(t *testing.T) {
	rt := caxtontest.NewRuntime(t, cachedModules(), caxton.WithWasmInstancePool(sandbox.Pool{Instances: 1}))
	rt.MustSpawn(cAgent("one", "counter.wasm"))
	err := rt.Spawn(caxtontest.SpawnContext(t), cAgent("two", "counter.wasm"))
	require.ErrorIs(t, err, sandbox.ErrPoolFull)
	countTo(t, rt, "one", 1, 1)
}
