package cluster

import (
	"strings"

	"github.com/caxton-go/caxton/acl"
)

// token encodes an agent name as one NATS subject token, KV key and
// consumer name: letters, digits, '-' and '_' stay; every other byte
// (agent names may hold . @ : /) becomes '=' and two hex digits. The
// encoding is injective, so two names never share a subject or a queue.
func token(name acl.AgentID) string {
	s := string(name)
	plain := true
	for i := 0; i < len(s); i++ {
		if !tokenByte(s[i]) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if tokenByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// validToken reports whether s may be a node or cluster name: 1–64 bytes of
// letters, digits, '-' and '_' (it is used verbatim in subjects, bucket
// and stream names).
func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte(s[i]) {
			return false
		}
	}
	return true
}

// layout names everything a cluster keeps in NATS.
type layout struct {
	prefix  string // subject prefix: "caxton.<cluster>"
	stream  string // the agents' mail stream
	nodesKV string // node leases and keys
	agentKV string // the agent directory
	keysKV  string // node keys
}

func newLayout(cluster string) layout {
	return layout{
		prefix:  "caxton." + cluster,
		stream:  "CAXTON_" + cluster + "_MAIL",
		nodesKV: "CAXTON_" + cluster + "_NODES",
		agentKV: "CAXTON_" + cluster + "_AGENTS",
		keysKV:  "CAXTON_" + cluster + "_KEYS",
	}
}

// agentSubject is where messages for an agent are published.
func (l layout) agentSubject(name acl.AgentID) string { return l.prefix + ".agent." + token(name) }

// agentSubjects is the stream's subject filter.
func (l layout) agentSubjects() string { return l.prefix + ".agent.*" }

// nodeSubject is a node's own subject: replies and notices for its inboxes.
func (l layout) nodeSubject(node string) string { return l.prefix + ".node." + node }

// consumer is the durable consumer of an agent's queue, shared by its
// replicas on every node.
func consumerName(name acl.AgentID) string { return "agent_" + token(name) }
