package cluster

import (
	"strings"

	"github.com/caxton-go/caxton/acl"
)

// token encodes an agent name as a directory key (and for rendezvous
// hashing and de-duplication ids): letters, digits, '-' and '_' stay;
// every other byte (agent names may hold . @ : /) becomes '=' and two hex
// digits. The encoding is injective, so two names never share a key.
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

// parkNode stands for "no node" in a mail subject: messages for an agent
// that no node hosts (its nodes closed and withdrew) wait there. It is not
// a valid node name ('~' is outside validToken), so no node owns it.
const parkNode = "~"

// mailSubject is where frames for agents hosted on node are published:
// "<prefix>.mail.<node>" (a frame carries messages for any of the node's
// agents; see docs/design.md, "Frames"). Each node consumes its own (one
// durable consumer per node, not per agent).
func (l layout) mailSubject(node string) string { return l.prefix + ".mail." + node }

// mailSubjects is the stream's subject filter.
func (l layout) mailSubjects() string { return l.prefix + ".mail.>" }

// mailNode returns the node of a mail subject.
func (l layout) mailNode(subject string) (node string, ok bool) {
	node, found := strings.CutPrefix(subject, l.prefix+".mail.")
	if !found || !validToken(node) && node != parkNode {
		return "", false
	}
	return node, true
}

// nodeSubject is a node's own subject: replies and notices for its inboxes.
func (l layout) nodeSubject(node string) string { return l.prefix + ".node." + node }

// nodeOf returns the node of a node subject.
func (l layout) nodeOf(subject string) (node string, ok bool) {
	node, found := strings.CutPrefix(subject, l.prefix+".node.")
	if !found || !validToken(node) {
		return "", false
	}
	return node, true
}

// nodeConsumer is the durable consumer of node's mail subjects; the park's
// is "park". A node consumes its own; a dead node's (and the park's) is
// adopted by one live node (see adopt.go).
func nodeConsumer(node string) string {
	if node == parkNode {
		return "park"
	}
	return "node_" + node
}

// consumerNode is nodeConsumer's inverse ("" for other consumers).
func consumerNode(consumer string) string {
	if consumer == "park" {
		return parkNode
	}
	node, ok := strings.CutPrefix(consumer, "node_")
	if !ok || !validToken(node) {
		return ""
	}
	return node
}
