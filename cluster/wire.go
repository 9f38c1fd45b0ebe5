package cluster

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/abi"
	"github.com/nats-io/nats.go"
)

// Headers of a message on the wire.
const (
	hdrNode = "Caxton-Node" // the signing node
	// hdrTo names the receiver of each message of the frame, in order
	// (see receivers); it is signed.
	hdrTo  = "Caxton-To"
	hdrSig = "Caxton-Sig" // base64url Ed25519 signature over the canonical bytes
	hdrKey = "Caxton-Key" // which of the node's keys signed (keyID)
	// hdrSubject is the mail subject a forwarded frame was signed for (a
	// node passing on a frame for an agent that moved keeps the sender's
	// signature; see Node.forward).
	hdrSubject = "Caxton-Subject"
	// hdrOnly, on a frame a node passed on, lists the messages (indexes
	// into the frame, increasing) the next node takes: the rest of the
	// frame was handled elsewhere. It is not signed: it can only select
	// among what the signer sent, never add to it.
	hdrOnly = "Caxton-Only"
)

// sigDomain separates these signatures from anything else a key might
// sign (v2: fields length-prefixed).
const sigDomain = "caxton-cluster-v2\x00"

// canonical is what a node signs and a receiver verifies: the domain, then
// the subject, the signing node and the receivers (the Caxton-To header),
// each preceded by its length as a uvarint, then the payload. Lengths, not
// separators: the subject a passed-on frame was signed for comes from an
// unsigned header, and with separators a crafted one could move the
// fields' boundaries into a signed payload (a message's content chosen by
// whoever can send through the signing node) and make other bytes verify.
// The key id is not signed: it only selects the key, and a wrong one fails
// the check. The payload is the messages in the binary batch frame of
// internal/abi (the guest ABI's encoding; a sender packs what queued for
// one node's agents) and is verified exactly as received — a receiver
// never re-encodes, so map order and the like cannot make a valid message
// fail, and a changed byte anywhere (subject, receivers, content, trace
// context) fails the check.
func canonical(subject, node, to string, payload []byte) []byte {
	b := make([]byte, 0, len(sigDomain)+len(subject)+len(node)+len(to)+3*binary.MaxVarintLen64+len(payload))
	b = append(b, sigDomain...)
	for _, f := range []string{subject, node, to} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return append(b, payload...)
}

// maxBatch bounds the messages in one wire frame: a sender packs what
// queued for one node while its previous frame was being stored, up to
// this many (and WithMaxMessageBytes), and a receiver refuses more.
const maxBatch = 256

// frameOverhead is the batch count in front of the messages of a frame.
const frameOverhead = 4

// receivers encodes the receiver of each message of a frame, in order, as
// the Caxton-To header: runs of one receiver as "name" (one message) or
// "name*count", separated by commas ('*' and ',' are not allowed in agent
// names, so the form is unambiguous). A frame for one agent is its name
// (and count), a frame for a node's many agents lists each run.
func receivers(to []acl.AgentID) string {
	var b strings.Builder
	for i := 0; i < len(to); {
		k := i + 1
		for k < len(to) && to[k] == to[i] {
			k++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(to[i]))
		if k-i > 1 {
			b.WriteByte('*')
			b.WriteString(strconv.Itoa(k - i))
		}
		i = k
	}
	return b.String()
}

// receiverSize bounds what one message adds to the Caxton-To header.
func receiverSize(to acl.AgentID) int { return len(to) + 1 }

// parseReceivers decodes a Caxton-To header of a frame of n messages.
func parseReceivers(s string, n int) ([]acl.AgentID, error) {
	if s == "" {
		return nil, errors.New("no receivers")
	}
	to := make([]acl.AgentID, 0, n)
	for run := range strings.SplitSeq(s, ",") {
		name, count, many := strings.Cut(run, "*")
		k := 1
		if many {
			var err error
			if k, err = strconv.Atoi(count); err != nil || k < 2 || k > n {
				return nil, fmt.Errorf("bad count %.16q", count)
			}
		}
		if err := acl.AgentID(name).Validate(); err != nil {
			return nil, err
		}
		if len(to)+k > n {
			return nil, fmt.Errorf("receivers for more than the frame's %d messages", n)
		}
		for range k {
			to = append(to, acl.AgentID(name))
		}
	}
	if len(to) != n {
		return nil, fmt.Errorf("receivers for %d of the frame's %d messages", len(to), n)
	}
	return to, nil
}

// seal encodes ms (ms[i] for to[i]) on subject and signs it as node. One
// signature covers the frame, so a batch costs one Ed25519 signature and
// one verification whatever its length. The payload and the receivers
// together must fit in maxBytes.
func seal(subject, node string, key ed25519.PrivateKey, to []acl.AgentID, ms []*acl.Message, maxBytes int) (*nats.Msg, error) {
	if len(to) != len(ms) || len(ms) == 0 {
		return nil, fmt.Errorf("cluster: sealing %d messages for %d receivers", len(ms), len(to))
	}
	rcpt := receivers(to)
	size := frameOverhead + len(rcpt)
	for _, m := range ms {
		size += abi.EncodedSize(m)
	}
	if size > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes encoded, the limit is %d", ErrTooLarge, size, maxBytes)
	}
	payload := abi.AppendBatch(make([]byte, 0, size-len(rcpt)), ms)
	sig := ed25519.Sign(key, canonical(subject, node, rcpt, payload))
	msg := nats.NewMsg(subject)
	msg.Data = payload
	msg.Header.Set(hdrNode, node)
	msg.Header.Set(hdrTo, rcpt)
	msg.Header.Set(hdrSig, base64.RawURLEncoding.EncodeToString(sig))
	msg.Header.Set(hdrKey, keyID(key.Public().(ed25519.PublicKey)))
	return msg, nil
}

// opened is a verified frame from the wire: its messages, msgs[i] for
// to[i].
type opened struct {
	msgs []*acl.Message
	to   []acl.AgentID
	node string
}

// open checks a message from the wire and decodes it. keyOf returns the
// public key a node signed with (errNoKey if there is none). Every failure
// is a Rejection with the reason, except NATS being out of reach while
// fetching a key: that is an error, and the message should come again.
func open(subject string, h nats.Header, data []byte, maxBytes int, keyOf func(node, kid string) (ed25519.PublicKey, error)) (opened, *Rejection, error) {
	rej := func(node, format string, args ...any) (opened, *Rejection, error) {
		return opened{}, &Rejection{Subject: subject, Node: node, Reason: fmt.Sprintf(format, args...), Size: len(data)}, nil
	}
	node, to, sig64, kid := h.Get(hdrNode), h.Get(hdrTo), h.Get(hdrSig), h.Get(hdrKey)
	if len(data)+len(to) > maxBytes {
		return rej(node, "%d bytes, the limit is %d", len(data)+len(to), maxBytes)
	}
	if node == "" || sig64 == "" {
		return rej(node, "unsigned")
	}
	if !validToken(node) || !validToken(kid) {
		return rej("", "malformed node name or key id %.64q %.32q", node, kid)
	}
	if to == "" {
		return rej(node, "no receivers")
	}
	key, err := keyOf(node, kid)
	if errors.Is(err, errNoKey) {
		return rej(node, "signed with a key the directory does not have (unknown node or forged key id)")
	}
	if err != nil {
		return opened{}, nil, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(sig64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return rej(node, "malformed signature")
	}
	if !ed25519.Verify(key, canonical(subject, node, to, data), sig) {
		return rej(node, "bad signature (forged or tampered)")
	}
	msgs, err := abi.DecodeBatch(data, abi.Limits{MaxMessages: maxBatch, MaxMessageSize: maxBytes})
	if err != nil {
		return rej(node, "malformed payload: %v", err)
	}
	if len(msgs) == 0 {
		return rej(node, "an empty frame")
	}
	rcpt, err := parseReceivers(to, len(msgs))
	if err != nil {
		return rej(node, "malformed receivers %.64q: %v", to, err)
	}
	return opened{msgs: msgs, to: rcpt, node: node}, nil, nil
}
