package cluster

import (
	"sync"

	"github.com/caxton-go/caxton/acl"
)

// replyTable remembers, for messages that came from other nodes, which
// node sent them, so an answer to one goes back to the node that asked:
// by the message's reply-with (what an answer names in in-reply-to), and
// by conversation and requester (for answers without in-reply-to). It is
// bounded: the oldest routes are forgotten first.
type replyTable struct {
	mu     sync.Mutex
	limit  int
	byRW   map[string]replyRoute
	byConv map[convKey]string
	order  []tableKey // insertion order, a ring of at most limit
	next   int
}

type replyRoute struct {
	node      string
	requester acl.AgentID
}

type convKey struct {
	conv      string
	requester acl.AgentID
}

type tableKey struct {
	rw   string
	conv convKey
}

func (t *replyTable) init(limit int) {
	t.limit = limit
	t.byRW = make(map[string]replyRoute)
	t.byConv = make(map[convKey]string)
}

// note records where m came from.
func (t *replyTable) note(m *acl.Message, node string) {
	if m.ReplyWith == "" && m.ConversationID == "" {
		return
	}
	requester := m.Sender
	if m.ReplyTo != "" {
		requester = m.ReplyTo
	}
	k := tableKey{rw: m.ReplyWith}
	if m.ConversationID != "" {
		k.conv = convKey{conv: m.ConversationID, requester: requester}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if k.rw != "" {
		t.byRW[k.rw] = replyRoute{node: node, requester: requester}
	}
	if k.conv.conv != "" {
		t.byConv[k.conv] = node
	}
	if len(t.order) < t.limit {
		t.order = append(t.order, k)
		return
	}
	old := t.order[t.next]
	if old.rw != "" && old.rw != k.rw {
		delete(t.byRW, old.rw)
	}
	if old.conv.conv != "" && old.conv != k.conv {
		delete(t.byConv, old.conv)
	}
	t.order[t.next] = k
	t.next = (t.next + 1) % t.limit
}

// route returns the node receiver's copy of m should go back to.
func (t *replyTable) route(m *acl.Message, receiver acl.AgentID) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.InReplyTo != "" {
		if r, ok := t.byRW[m.InReplyTo]; ok && r.requester == receiver {
			return r.node, true
		}
	}
	if m.ConversationID != "" {
		if node, ok := t.byConv[convKey{conv: m.ConversationID, requester: receiver}]; ok {
			return node, true
		}
	}
	return "", false
}
