// Package abi is the byte-level encoding of messages between a Caxton host
// and a WebAssembly guest (Guest ABI v1, specified in sandbox/ABI.md). Both
// sides of the boundary use it: the sandbox package on the host and the Go
// guest SDK inside the guest, so the two cannot drift apart.
//
// The encoding is length-prefixed little-endian binary rather than JSON:
// decoding it is a handful of bounds-checked copies, which matters inside a
// guest where every microsecond of a batch counts.
package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// Version is the ABI version this package implements; a guest declares it
// by exporting caxton_abi_version returning this value.
const Version = 1

// Status codes a guest's caxton_handle may return in place of an outbox
// (as a negative i64).
const (
	StatusOK        = 0
	StatusBadInput  = -1 // the guest could not decode the batch
	StatusFailed    = -2 // the guest's handler failed: retry the batch
	StatusPermanent = -3 // the guest's handler failed: do not retry
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("abi: malformed frame")

// fixedHeader is the size of a frame's fixed part after its length prefix:
// performative(1) priority(1) reserved(2) id(16) created_at(8) reply_by(8).
const fixedHeader = 36

// AppendBatch appends a batch (u32 count, then one frame per message) to dst.
func AppendBatch(dst []byte, msgs []*acl.Message) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(msgs)))
	for _, m := range msgs {
		dst = AppendMessage(dst, m)
	}
	return dst
}

// AppendMessage appends one frame: u32 length of the rest, then the fixed
// header, nine strings, receivers, params, trace context and content.
func AppendMessage(dst []byte, m *acl.Message) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0) // frame length, patched below
	dst = append(dst, byte(m.Performative), byte(m.Priority), 0, 0)
	dst = append(dst, m.ID[:]...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(unixNano(m.CreatedAt)))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(unixNano(m.ReplyBy)))
	for _, s := range [...]string{string(m.Sender), string(m.ReplyTo), m.Language, m.Encoding,
		m.Ontology, m.Protocol, m.ConversationID, m.ReplyWith, m.InReplyTo} {
		dst = appendString(dst, s)
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m.Receivers)))
	for _, r := range m.Receivers {
		dst = appendString(dst, string(r))
	}
	dst = appendMap(dst, m.Params)
	dst = appendMap(dst, m.TraceContext)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m.Content)))
	dst = append(dst, m.Content...)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

func appendMap(dst []byte, m map[string]string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(m)))
	for k, v := range m { // order is irrelevant to the decoder
		dst = appendString(dst, k)
		dst = appendString(dst, v)
	}
	return dst
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Limits bound what a decoder accepts, so a hostile peer cannot make the
// other side allocate without bound.
type Limits struct {
	MaxMessages    int // messages in one batch or outbox
	MaxMessageSize int // bytes in one frame
}

// DecodeBatch decodes a batch written by AppendBatch. Every message is
// copied out of buf, so buf (guest memory, say) may be reused afterwards.
func DecodeBatch(buf []byte, lim Limits) ([]*acl.Message, error) {
	if len(buf) < 4 {
		return nil, fmt.Errorf("%w: batch shorter than its count", ErrMalformed)
	}
	n := binary.LittleEndian.Uint32(buf)
	if lim.MaxMessages > 0 && int64(n) > int64(lim.MaxMessages) {
		return nil, fmt.Errorf("%w: %d messages, the limit is %d", ErrMalformed, n, lim.MaxMessages)
	}
	if int64(n) > int64(len(buf)-4)/(4+fixedHeader) {
		return nil, fmt.Errorf("%w: count %d does not fit in %d bytes", ErrMalformed, n, len(buf))
	}
	out := make([]*acl.Message, 0, n)
	off := 4
	for i := uint32(0); i < n; i++ {
		if len(buf)-off < 4 {
			return nil, fmt.Errorf("%w: message %d: truncated length", ErrMalformed, i)
		}
		size := int(binary.LittleEndian.Uint32(buf[off:]))
		off += 4
		if size > len(buf)-off {
			return nil, fmt.Errorf("%w: message %d: length %d exceeds the %d bytes left", ErrMalformed, i, size, len(buf)-off)
		}
		if lim.MaxMessageSize > 0 && size > lim.MaxMessageSize {
			return nil, fmt.Errorf("%w: message %d: %d bytes, the limit is %d", ErrMalformed, i, size, lim.MaxMessageSize)
		}
		m, err := decodeMessage(buf[off : off+size])
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		out = append(out, m)
		off += size
	}
	if off != len(buf) {
		return nil, fmt.Errorf("%w: %d trailing bytes after %d messages", ErrMalformed, len(buf)-off, n)
	}
	return out, nil
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) u32(what string) uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.off < 4 {
		r.err = fmt.Errorf("%w: truncated %s", ErrMalformed, what)
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) bytes(what string) []byte {
	n := r.u32(what)
	if r.err != nil {
		return nil
	}
	if int64(n) > int64(len(r.b)-r.off) {
		r.err = fmt.Errorf("%w: %s length %d exceeds the %d bytes left", ErrMalformed, what, n, len(r.b)-r.off)
		return nil
	}
	v := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return v
}

func (r *reader) str(what string) string { return string(r.bytes(what)) }

func (r *reader) strMap(what string) map[string]string {
	n := r.u32(what)
	if r.err != nil || n == 0 {
		return nil
	}
	if int64(n) > int64(len(r.b)-r.off)/8 {
		r.err = fmt.Errorf("%w: %s count %d does not fit", ErrMalformed, what, n)
		return nil
	}
	m := make(map[string]string, min(n, 64)) // n is untrusted: let the map grow with what is really there
	for i := uint32(0); i < n && r.err == nil; i++ {
		k := r.str(what)
		m[k] = r.str(what)
	}
	return m
}

func decodeMessage(b []byte) (*acl.Message, error) {
	if len(b) < fixedHeader {
		return nil, fmt.Errorf("%w: frame of %d bytes is shorter than its header", ErrMalformed, len(b))
	}
	m := &acl.Message{Performative: acl.Performative(b[0]), Priority: acl.Priority(int8(b[1]))}
	copy(m.ID[:], b[4:20])
	if ns := int64(binary.LittleEndian.Uint64(b[20:])); ns != 0 {
		m.CreatedAt = time.Unix(0, ns).UTC()
	}
	if ns := int64(binary.LittleEndian.Uint64(b[28:])); ns != 0 {
		m.ReplyBy = time.Unix(0, ns).UTC()
	}
	r := &reader{b: b, off: fixedHeader}
	m.Sender = acl.AgentID(r.str("sender"))
	m.ReplyTo = acl.AgentID(r.str("reply_to"))
	m.Language = r.str("language")
	m.Encoding = r.str("encoding")
	m.Ontology = r.str("ontology")
	m.Protocol = r.str("protocol")
	m.ConversationID = r.str("conversation_id")
	m.ReplyWith = r.str("reply_with")
	m.InReplyTo = r.str("in_reply_to")
	if n := r.u32("receiver count"); r.err == nil && n > 0 {
		if int64(n) > int64(len(b)-r.off)/4 {
			return nil, fmt.Errorf("%w: receiver count %d does not fit", ErrMalformed, n)
		}
		m.Receivers = make([]acl.AgentID, 0, min(n, 64)) // n is untrusted
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.Receivers = append(m.Receivers, acl.AgentID(r.str("receiver")))
		}
	}
	m.Params = r.strMap("params")
	m.TraceContext = r.strMap("trace_context")
	if c := r.bytes("content"); len(c) > 0 {
		m.Content = append([]byte(nil), c...)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(b) {
		return nil, fmt.Errorf("%w: %d unread bytes at the end of the frame", ErrMalformed, len(b)-r.off)
	}
	return m, nil
}

// EncodedSize returns len(AppendMessage(nil, m)) without encoding.
func EncodedSize(m *acl.Message) int {
	n := 4 + fixedHeader + 9*4 + len(m.Sender) + len(m.ReplyTo) + len(m.Language) + len(m.Encoding) +
		len(m.Ontology) + len(m.Protocol) + len(m.ConversationID) + len(m.ReplyWith) + len(m.InReplyTo)
	n += 4
	for _, r := range m.Receivers {
		n += 4 + len(r)
	}
	for _, kv := range [...]map[string]string{m.Params, m.TraceContext} {
		n += 4
		for k, v := range kv {
			n += 8 + len(k) + len(v)
		}
	}
	return n + 4 + len(m.Content)
}
