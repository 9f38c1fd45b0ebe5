package caxton

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// rollout is an upgrade in progress: which messages go to the new version,
// how the new version fares, and whether it was given up.
//
// Instances hold the new version's handler in instance.next while it runs;
// the worker picks per message (slotFor), and a message the new version
// fails is retried at once on the old one.
type rollout struct {
	a        *agent
	from, to *version
	strat    Strategy
	seed     maphash.Seed
	share    atomic.Int32 // messages per 10,000 for the new version (canary, blue-green)
	moved    atomic.Int32 // instances [0, moved) use the new version (rolling)

	handled, failed, busyNanos atomic.Uint64
	crashes                    atomic.Int32

	mu     sync.Mutex
	sticky map[string]bool // conversation → on the new version

	once   sync.Once
	reason string        // why it was given up; written once, before given closes
	given  chan struct{} // closed when the rollout is given up
	done   chan struct{} // closed when Upgrade has finished (promoted or rolled back)
}

func newRollout(a *agent, from, to *version, s Strategy) *rollout {
	return &rollout{a: a, from: from, to: to, strat: s, seed: maphash.MakeSeed(), sticky: map[string]bool{},
		given: make(chan struct{}), done: make(chan struct{})}
}

// giveUp ends the rollout with a rollback; the first reason is kept.
func (ro *rollout) giveUp(reason string) {
	ro.once.Do(func() {
		ro.reason = reason
		close(ro.given)
	})
}

func (ro *rollout) isGivenUp() bool {
	select {
	case <-ro.given:
		return true
	default:
		return false
	}
}

// maxSticky bounds the conversations a rollout remembers; past it, new
// conversations are split like messages without one.
const maxSticky = 1 << 17

// toNew reports whether m, arriving at in, goes to the new version.
//
// A conversation stays on the version that first handled a message of it
// during the rollout; a message that continues a conversation the rollout
// has not seen (see continues) belongs to one that began before the
// upgrade, so it goes to the old version.
func (ro *rollout) toNew(in *instance, m *acl.Message) bool {
	if ro.isGivenUp() {
		return false
	}
	conv := m.ConversationID
	if conv == "" {
		return ro.split(in, m)
	}
	ro.mu.Lock()
	defer ro.mu.Unlock()
	v, ok := ro.sticky[conv]
	if !ok {
		v = !continues(m) && ro.split(in, m)
		if len(ro.sticky) < maxSticky {
			ro.sticky[conv] = v
		}
	}
	return v
}

// continues reports whether m can only continue a conversation, not open
// one: it answers a message (InReplyTo), or its performative is an answer
// in the FIPA protocols — accept or reject a proposal, agree, refuse,
// failure, not-understood, cancel, confirm, disconfirm, or a propose, which
// answers a call for proposals. Inform is both an answer and a notice, so
// it counts as opening unless it has InReplyTo.
func continues(m *acl.Message) bool {
	if m.InReplyTo != "" {
		return true
	}
	switch m.Performative {
	case acl.AcceptProposal, acl.RejectProposal, acl.Agree, acl.Refuse, acl.Failure,
		acl.NotUnderstood, acl.Cancel, acl.Confirm, acl.Disconfirm, acl.Propose:
		return true
	}
	return false
}

// split is the strategy's choice for a message that no conversation ties to
// a version.
func (ro *rollout) split(in *instance, m *acl.Message) bool {
	if ro.strat.Kind == Rolling {
		return in.replica < int(ro.moved.Load())
	}
	share := ro.share.Load()
	switch share {
	case 0:
		return false
	case 10000:
		return true
	}
	return int32(maphash.Bytes(ro.seed, m.ID[:])%10000) < share
}

// observe records one message the new version handled (or failed) in d,
// and gives the rollout up when the policy says so.
func (ro *rollout) observe(d time.Duration, err error) {
	pol := ro.strat.Rollback
	var handled, failed uint64
	if err == nil {
		handled, failed = ro.handled.Add(1), ro.failed.Load()
	} else {
		handled, failed = ro.handled.Load(), ro.failed.Add(1)
	}
	busy := ro.busyNanos.Add(uint64(max(d, 0)))
	n := handled + failed
	if n < uint64(pol.MinMessages) {
		return
	}
	if rate := float64(failed) / float64(n); pol.MaxErrorRate > 0 && rate > pol.MaxErrorRate {
		ro.giveUp(fmt.Sprintf("error rate %.1f%% over %d messages exceeds %.1f%%", 100*rate, n, 100*pol.MaxErrorRate))
	}
	if mean := time.Duration(busy / n); pol.MaxLatency > 0 && mean > pol.MaxLatency {
		ro.giveUp(fmt.Sprintf("mean handling time %v over %d messages exceeds %v", mean, n, pol.MaxLatency))
	}
}

// crashed records a panic, trap or broken instance of the new version.
func (ro *rollout) crashed(err error) {
	if n := int(ro.crashes.Add(1)); n > ro.strat.Rollback.MaxCrashes {
		ro.giveUp(fmt.Sprintf("the new version crashed (%d): %v", n, err))
	}
}

// wait lets the rollout run for d on the runtime's clock. It returns false
// if the rollout was given up or ctx ended first.
func (ro *rollout) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return !ro.isGivenUp() && ctx.Err() == nil
	}
	t := ro.a.rt.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return !ro.isGivenUp()
	case <-ro.given:
		return false
	case <-ctx.Done():
		return false
	}
}

// progress is the rollout as AgentInfo shows it.
func (ro *rollout) progress() *Rollout {
	return &Rollout{From: ro.from.label, To: ro.to.label, Strategy: ro.strat.Kind,
		Share: int(ro.share.Load()) / 100, Instances: int(ro.moved.Load()),
		Handled: ro.handled.Load(), Failed: ro.failed.Load(), Crashes: int(ro.crashes.Load())}
}

// slotFor picks the handler for e: the new version's during a rollout if
// the rollout says so, else the current one. The rollout is returned with
// the new version's slot.
func (in *instance) slotFor(m *acl.Message) (*slot, *rollout) {
	next := in.next.Load()
	if next == nil {
		return in.cur, nil
	}
	ro := in.a.ro.Load()
	if ro == nil || ro.to != next.v || !ro.toNew(in, m) {
		return in.cur, nil
	}
	return next, ro
}

// callNew runs a message on the new version's slot s and accounts for it.
// If the new version fails, the message is handled again at once by the
// current version, whose result is returned: an upgrade loses nothing.
func (in *instance) callNew(ctx context.Context, ro *rollout, s *slot, call func(*slot) error) error {
	clk := in.a.rt.clock
	t0 := clk.Now()
	err := call(s)
	ro.observe(clk.Now().Sub(t0), err)
	if err == nil {
		return nil
	}
	var pe *PanicError
	if errors.As(err, &pe) || errors.Is(err, ErrInstanceBroken) {
		ro.crashed(err)
		in.replaceNext(ro, s)
	}
	in.log().WarnContext(ctx, "the new version failed a message; the current one handles it", "new", ro.to.label, "error", err)
	return call(in.cur)
}

// replaceNext discards a crashed new-version handler and, unless the
// rollout was given up, makes a fresh one. Only the worker calls it.
func (in *instance) replaceNext(ro *rollout, s *slot) {
	if !s.v.owned() || !in.next.CompareAndSwap(s, nil) {
		return // a shared handler has nothing to replace
	}
	s.close(in.log)
	if ro.isGivenUp() {
		return
	}
	fresh, err := in.makeSlot(in.runCtx, ro.to, 0)
	if err != nil {
		ro.giveUp(fmt.Sprintf("the new version could not be restarted: %v", err))
		return
	}
	in.next.Store(fresh)
}
