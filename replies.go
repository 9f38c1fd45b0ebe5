package caxton

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// requests is the table of Requests waiting for their reply, and of those
// that gave up, whose replies arrive late. Routing checks it first (only
// when something is tracked), so a reply reaches the waiting caller directly
// instead of the requester's mailbox — which matters for an agent that
// requests from inside its handler and could not otherwise see the reply
// until it returned.
type requests struct {
	mu          sync.Mutex
	byReplyWith map[string]*waiter
	byConv      map[string]*waiter
	waiting     atomic.Int64 // len(byReplyWith), read without the lock on every send

	// Requests that gave up, by reply-with, oldest first in order; bounded.
	gaveUp      map[string]*waiter
	gaveUpOrder []string
	gaveUpN     atomic.Int64 // len(gaveUp)
	retain      int          // how many given-up requests to remember

	late    []LateReply // the most recent late replies, a ring of at most retain
	lateAt  int         // next slot in late once it is full
	lateN   atomic.Uint64
	onLate  func(LateReply)
	nowFunc func() time.Time
}

// waiter is one Request in flight.
type waiter struct {
	requester acl.AgentID
	replyWith string
	conv      string
	// reply is the first reply, written by answer before it signals
	// answered (capacity 1, never closed): the signal publishes it. A
	// channel of struct{} is one allocation; one of pointers is two.
	reply    *acl.Message
	answered chan struct{}
	// asked is who the request reached: set by routing before the first
	// delivery, read by answer. Only they (and the runtime, for failure
	// notices) can answer it; nil until routing has resolved the receivers.
	asked  atomic.Pointer[[]acl.AgentID]
	gaveUp time.Time // when the Request gave up (under requests.mu)
	// reached backs asked (written once, before asked is stored): a
	// request to one agent, the common case, then allocates nothing for it.
	reached    []acl.AgentID
	reachedOne [1]acl.AgentID
}

// LateReply is a reply that arrived after its Request had given up (its
// context ended, its reply-by passed, or the runtime started closing). It
// is not delivered to the requester — whose inbox or mailbox would
// otherwise fill with answers nobody reads, until the responders' own
// sends failed — but counted, handed to the WithLateReplyHook hook and kept
// in a bounded record (Runtime.LateReplies).
type LateReply struct {
	Reply     *acl.Message // the late reply
	Request   string       // the reply-with of the request it answers
	Requester acl.AgentID  // who had asked
	GaveUp    time.Time    // when the Request gave up (runtime clock)
	At        time.Time    // when the reply arrived (runtime clock)
}

// defaultLateRetention is how many given-up requests (and late replies) the
// runtime remembers unless WithLateReplies says otherwise.
const defaultLateRetention = 1024

func (r *requests) init(retain int, onLate func(LateReply), now func() time.Time) {
	r.byReplyWith = make(map[string]*waiter)
	r.byConv = make(map[string]*waiter)
	r.gaveUp = make(map[string]*waiter)
	r.retain, r.onLate, r.nowFunc = retain, onLate, now
}

// tracking reports, without a lock, whether m may be a reply the table
// cares about: only then does routing take the table's lock.
func (r *requests) tracking(m *acl.Message) bool {
	if m.InReplyTo == "" && m.ConversationID == "" {
		return false
	}
	return r.waiting.Load() > 0 || m.InReplyTo != "" && r.gaveUpN.Load() > 0
}

func (r *requests) add(w *waiter) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byReplyWith[w.replyWith]; dup {
		return &acl.FieldError{Field: "reply_with", Reason: fmt.Sprintf("a request with reply-with %q is already waiting", w.replyWith)}
	}
	r.byReplyWith[w.replyWith] = w
	if _, taken := r.byConv[w.conv]; !taken {
		r.byConv[w.conv] = w
	}
	r.waiting.Add(1)
	return nil
}

// done removes w from the table once its Request returned. answered says
// whether it got its reply; if not, w is remembered (boundedly) so a reply
// arriving later is recognised as late.
func (r *requests) done(w *waiter, answered bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(w)
	if answered || r.retain <= 0 || w.asked.Load() == nil {
		return // answered, not remembering, or never sent: nothing can be late
	}
	if _, dup := r.gaveUp[w.replyWith]; dup {
		return
	}
	w.gaveUp = r.nowFunc()
	r.gaveUp[w.replyWith] = w
	r.gaveUpOrder = append(r.gaveUpOrder, w.replyWith)
	if len(r.gaveUpOrder) > r.retain {
		delete(r.gaveUp, r.gaveUpOrder[0])
		r.gaveUpOrder = slices.Delete(r.gaveUpOrder, 0, 1)
	}
	r.gaveUpN.Store(int64(len(r.gaveUp)))
}

func (r *requests) removeLocked(w *waiter) {
	if r.byReplyWith[w.replyWith] == w {
		delete(r.byReplyWith, w.replyWith)
		r.waiting.Add(-1)
	}
	if r.byConv[w.conv] == w {
		delete(r.byConv, w.conv)
	}
}

// answer hands m to the request it replies to: a waiting one, if m is
// addressed to its requester and comes from someone the request reached (or
// from the runtime, sender system); or one that gave up, in which case m is
// recorded as a late reply instead of delivered to the requester. It
// returns the receivers still to be served the normal way, and whether m
// was taken.
//
// A "reply" from someone the request never reached is not taken: it is an
// ordinary message to the requester (a third party guessing a conversation
// id cannot answer someone else's question).
func (r *requests) answer(m *acl.Message, system acl.AgentID) ([]acl.AgentID, bool) {
	r.mu.Lock()
	var w *waiter
	if m.InReplyTo != "" {
		w = r.byReplyWith[m.InReplyTo]
	} else {
		w = r.byConv[m.ConversationID]
	}
	if w == nil {
		late := r.lateLocked(m, system)
		r.mu.Unlock()
		if late == nil {
			return m.Receivers, false
		}
		if r.onLate != nil {
			r.onLate(*late)
		}
		return without(m.Receivers, late.Requester), true
	}
	if m.ReplyWith == w.replyWith || !m.HasReceiver(w.requester) || !w.reachedBy(m.Sender, system) { // a request is not its own reply
		r.mu.Unlock()
		return m.Receivers, false
	}
	r.removeLocked(w)
	r.mu.Unlock()
	w.reply = m
	w.answered <- struct{}{} // capacity 1 and removed from the table: never blocks
	return without(m.Receivers, w.requester), true
}

// lateLocked records m as a late reply if it answers a request that gave up.
func (r *requests) lateLocked(m *acl.Message, system acl.AgentID) *LateReply {
	if m.InReplyTo == "" || len(r.gaveUp) == 0 {
		return nil
	}
	w := r.gaveUp[m.InReplyTo]
	if w == nil || m.ReplyWith == w.replyWith || !m.HasReceiver(w.requester) || !w.reachedBy(m.Sender, system) {
		return nil
	}
	lr := LateReply{Reply: m, Request: w.replyWith, Requester: w.requester, GaveUp: w.gaveUp, At: r.nowFunc()}
	if len(r.late) < r.retain {
		r.late = append(r.late, lr)
	} else if r.retain > 0 {
		r.late[r.lateAt] = lr
		r.lateAt = (r.lateAt + 1) % r.retain
	}
	r.lateN.Add(1)
	return &lr
}

// lateReplies returns the recorded late replies, oldest first.
func (r *requests) lateReplies() []LateReply {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]LateReply, 0, len(r.late))
	out = append(out, r.late[r.lateAt:]...)
	return append(out, r.late[:r.lateAt]...)
}

// reach records who the request reached; routing calls it once, before
// the first delivery.
func (w *waiter) reach(targets []endpoint) {
	if len(targets) == 1 {
		w.reachedOne[0] = targets[0].name()
		w.reached = w.reachedOne[:]
	} else {
		w.reached = make([]acl.AgentID, len(targets))
		for i, ep := range targets {
			w.reached[i] = ep.name()
		}
	}
	w.asked.Store(&w.reached)
}

// reachedBy reports whether sender may answer the request: one of the
// endpoints it was delivered to, or the runtime itself.
func (w *waiter) reachedBy(sender, system acl.AgentID) bool {
	if sender == system {
		return true
	}
	asked := w.asked.Load()
	return asked != nil && slices.Contains(*asked, sender)
}

// without returns ids minus id, as a new slice (nil when nothing is left:
// a reply addressed only to its requester, the common case, copies nothing).
func without(ids []acl.AgentID, id acl.AgentID) []acl.AgentID {
	if !slices.ContainsFunc(ids, func(x acl.AgentID) bool { return x != id }) {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(ids), func(x acl.AgentID) bool { return x == id })
}

// LateReplies returns the most recent replies that arrived after their
// Request had given up, oldest first (at most WithLateReplies' bound,
// default 1024), and how many there have been in all.
func (rt *Runtime) LateReplies() ([]LateReply, uint64) {
	return rt.reqs.lateReplies(), rt.reqs.lateN.Load()
}
