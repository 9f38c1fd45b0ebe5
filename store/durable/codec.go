package durable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
)

// The record codec. Every value this package writes is framed as
//
//	version(1) crc32c(4, little-endian, over everything after it) kind(1) payload
//
// so a flipped bit anywhere is caught on read, independently of the
// storage engine's own block checksums, and the error names the record.
//
// It is our own compact binary form rather than the acl JSON codec (about
// 4x slower to decode and it normalises times to UTC) or internal/abi's
// frame (which carries every field but is the guest ABI: its layout belongs
// to the sandbox and may change with the ABI version, while files on disk
// must stay readable across releases). Integers are varints, strings and
// byte slices are length-prefixed, and nil and empty slices and maps are
// told apart so a message reads back exactly as it was written. Times keep
// their nanoseconds and their location when it is UTC, Local or a fixed
// zone; the monotonic clock reading is dropped, as any serialisation must.
const codecVersion = 1

// Record kinds.
const (
	kindEnvelope   = 'Q'
	kindDeadLetter = 'D'
	kindHistory    = 'H'
	kindName       = 'N'
)

// frameHeader is version + crc + kind.
const frameHeader = 6

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBadRecord is wrapped by every decoding failure.
var errBadRecord = errors.New("bad record")

// beginFrame appends a frame header for kind; finishFrame fills its CRC.
func beginFrame(dst []byte, kind byte) ([]byte, int) {
	start := len(dst)
	return append(dst, codecVersion, 0, 0, 0, 0, kind), start
}

func finishFrame(dst []byte, start int) []byte {
	binary.LittleEndian.PutUint32(dst[start+1:], crc32.Checksum(dst[start+5:], castagnoli))
	return dst
}

// openFrame checks a frame's version, checksum and kind and returns a
// reader over its payload.
func openFrame(b []byte, kind byte) (*reader, error) {
	switch {
	case len(b) < frameHeader:
		return nil, fmt.Errorf("%w: %d bytes, shorter than a frame header", errBadRecord, len(b))
	case b[0] != codecVersion:
		return nil, fmt.Errorf("%w: unknown format version %d (this build reads %d)", errBadRecord, b[0], codecVersion)
	case crc32.Checksum(b[5:], castagnoli) != binary.LittleEndian.Uint32(b[1:]):
		return nil, fmt.Errorf("%w: checksum mismatch", errBadRecord)
	case b[5] != kind:
		return nil, fmt.Errorf("%w: kind %q where %q was expected", errBadRecord, b[5], kind)
	}
	return &reader{b: b[frameHeader:]}, nil
}

// encodeEnvelope frames a queued envelope. notBefore is the earliest time
// of its next attempt (zero: none).
func encodeEnvelope(dst []byte, e *store.Envelope, notBefore time.Time) []byte {
	if dst == nil {
		dst = make([]byte, 0, 128+len(e.Receiver)+messageSize(e.Msg))
	}
	dst, start := beginFrame(dst, kindEnvelope)
	dst = binary.AppendUvarint(dst, uint64(max(e.Attempts, 0)))
	dst = appendTime(dst, e.Enqueued)
	dst = appendTime(dst, notBefore)
	dst = appendString(dst, string(e.Receiver))
	dst = appendMessage(dst, e.Msg)
	return finishFrame(dst, start)
}

func decodeEnvelope(b []byte) (*store.Envelope, time.Time, error) {
	r, err := openFrame(b, kindEnvelope)
	if err != nil {
		return nil, time.Time{}, err
	}
	e := &store.Envelope{Attempts: r.int("attempts")}
	e.Enqueued = r.time("enqueued")
	notBefore := r.time("not_before")
	e.Receiver = acl.AgentID(r.string("receiver"))
	e.Msg = r.message()
	return e, notBefore, r.done()
}

func encodeDeadLetter(dst []byte, d *store.DeadLetter) []byte {
	dst, start := beginFrame(dst, kindDeadLetter)
	for _, s := range [...]string{d.ID, string(d.Receiver), d.Reason, d.LastError} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(max(d.Attempts, 0)))
	dst = appendTime(dst, d.At)
	if d.Message == nil {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		dst = appendMessage(dst, d.Message)
	}
	return finishFrame(dst, start)
}

func decodeDeadLetter(b []byte) (store.DeadLetter, error) {
	r, err := openFrame(b, kindDeadLetter)
	if err != nil {
		return store.DeadLetter{}, err
	}
	d := store.DeadLetter{ID: r.string("id"), Receiver: acl.AgentID(r.string("receiver")),
		Reason: r.string("reason"), LastError: r.string("last_error")}
	d.Attempts = r.int("attempts")
	d.At = r.time("at")
	if r.byte("message flag") == 1 {
		d.Message = r.message()
	}
	return d, r.done()
}

func encodeHistory(dst []byte, receiver acl.AgentID, at time.Time, m *acl.Message) []byte {
	dst, start := beginFrame(dst, kindHistory)
	dst = appendString(dst, string(receiver))
	dst = appendTime(dst, at)
	dst = appendMessage(dst, m)
	return finishFrame(dst, start)
}

func decodeHistory(b []byte) (HistoryEntry, error) {
	r, err := openFrame(b, kindHistory)
	if err != nil {
		return HistoryEntry{}, err
	}
	h := HistoryEntry{Receiver: acl.AgentID(r.string("receiver"))}
	h.At = r.time("at")
	h.Msg = r.message()
	return h, r.done()
}

func encodeName(dst []byte, qid uint32) []byte {
	dst, start := beginFrame(dst, kindName)
	dst = binary.AppendUvarint(dst, uint64(qid))
	return finishFrame(dst, start)
}

func decodeName(b []byte) (uint32, error) {
	r, err := openFrame(b, kindName)
	if err != nil {
		return 0, err
	}
	v := r.uvarint("queue id")
	if v > math.MaxUint32 {
		return 0, fmt.Errorf("%w: queue id %d out of range", errBadRecord, v)
	}
	return uint32(v), r.done()
}

// appendMessage writes every field of m: performative, priority, id, the
// two times, nine strings, receivers, content, params and trace context.
func appendMessage(dst []byte, m *acl.Message) []byte {
	dst = append(dst, byte(m.Performative), byte(m.Priority))
	dst = append(dst, m.ID[:]...)
	dst = appendTime(dst, m.CreatedAt)
	dst = appendTime(dst, m.ReplyBy)
	for _, s := range [...]string{string(m.Sender), string(m.ReplyTo), m.Language, m.Encoding,
		m.Ontology, m.Protocol, m.ConversationID, m.ReplyWith, m.InReplyTo} {
		dst = appendString(dst, s)
	}
	dst = appendCount(dst, len(m.Receivers), m.Receivers == nil)
	for _, r := range m.Receivers {
		dst = appendString(dst, string(r))
	}
	dst = appendCount(dst, len(m.Content), m.Content == nil)
	dst = append(dst, m.Content...)
	dst = appendMap(dst, m.Params)
	return appendMap(dst, m.TraceContext)
}

// messageSize bounds len(appendMessage(nil, m)) from above, so a record is
// encoded into one allocation instead of a growing slice.
func messageSize(m *acl.Message) int {
	n := 2 + 16 + 2*32 + 9*5 + len(m.Sender) + len(m.ReplyTo) + len(m.Language) + len(m.Encoding) +
		len(m.Ontology) + len(m.Protocol) + len(m.ConversationID) + len(m.ReplyWith) + len(m.InReplyTo)
	n += 5 + 5 + len(m.Content)
	for _, r := range m.Receivers {
		n += 5 + len(r)
	}
	for _, kv := range [...]map[string]string{m.Params, m.TraceContext} {
		n += 5
		for k, v := range kv {
			n += 10 + len(k) + len(v)
		}
	}
	return n
}

// appendCount writes n+1, or 0 for nil, so nil and empty differ.
func appendCount(dst []byte, n int, isNil bool) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendMap(dst []byte, m map[string]string) []byte {
	dst = appendCount(dst, len(m), m == nil)
	for k, v := range m {
		dst = appendString(dst, k)
		dst = appendString(dst, v)
	}
	return dst
}

// Time location tags.
const (
	timeZero = iota
	timeUTC
	timeLocal
	timeFixed
)

func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, timeZero)
	}
	switch loc := t.Location(); loc {
	case time.UTC:
		dst = append(dst, timeUTC)
	case time.Local:
		dst = append(dst, timeLocal)
	default:
		name, off := t.Zone()
		dst = append(dst, timeFixed)
		dst = appendString(dst, name)
		dst = binary.AppendVarint(dst, int64(off))
	}
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// reader decodes a payload; the first error sticks and later reads return
// zero values, so decoders read straight through and check once at the end.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{errBadRecord}, args...)...)
	}
}

func (r *reader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("truncated %s", what)
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad %s", what)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad %s", what)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) int(what string) int {
	v := r.uvarint(what)
	if v > math.MaxInt32 {
		r.fail("%s %d out of range", what, v)
		return 0
	}
	return int(v)
}

// bytes returns the next length-prefixed slice, aliasing r.b.
func (r *reader) bytes(what string, n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("%s length %d exceeds the %d bytes left", what, n, len(r.b)-r.off)
		return nil
	}
	v := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return v
}

func (r *reader) string(what string) string { return string(r.bytes(what, r.uvarint(what))) }

// count reads a count written by appendCount: -1 for nil. Each counted
// item takes at least min bytes, which bounds what a garbled count can
// make us allocate.
func (r *reader) count(what string, min int) int {
	v := r.uvarint(what)
	if r.err != nil || v == 0 {
		return -1
	}
	if v-1 > uint64(len(r.b)-r.off)/uint64(min) {
		r.fail("%s count %d does not fit in the %d bytes left", what, v-1, len(r.b)-r.off)
		return -1
	}
	return int(v - 1)
}

func (r *reader) strMap(what string) map[string]string {
	n := r.count(what, 2)
	if n < 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.string(what)
		m[k] = r.string(what)
	}
	return m
}

func (r *reader) time(what string) time.Time {
	var loc *time.Location
	switch tag := r.byte(what); tag {
	case timeZero:
		return time.Time{}
	case timeUTC:
		loc = time.UTC
	case timeLocal:
		loc = time.Local
	case timeFixed:
		name := r.string(what)
		loc = time.FixedZone(name, int(r.varint(what)))
	default:
		r.fail("%s: unknown time tag %d", what, tag)
		return time.Time{}
	}
	sec, nsec := r.varint(what), r.uvarint(what)
	if r.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		r.fail("%s: %d nanoseconds", what, nsec)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).In(loc)
}

func (r *reader) message() *acl.Message {
	m := &acl.Message{Performative: acl.Performative(r.byte("performative")), Priority: acl.Priority(int8(r.byte("priority")))}
	copy(m.ID[:], r.bytes("id", 16))
	m.CreatedAt = r.time("created_at")
	m.ReplyBy = r.time("reply_by")
	m.Sender = acl.AgentID(r.string("sender"))
	m.ReplyTo = acl.AgentID(r.string("reply_to"))
	m.Language = r.string("language")
	m.Encoding = r.string("encoding")
	m.Ontology = r.string("ontology")
	m.Protocol = r.string("protocol")
	m.ConversationID = r.string("conversation_id")
	m.ReplyWith = r.string("reply_with")
	m.InReplyTo = r.string("in_reply_to")
	if n := r.count("receivers", 1); n >= 0 {
		m.Receivers = make([]acl.AgentID, n)
		for i := range m.Receivers {
			m.Receivers[i] = acl.AgentID(r.string("receiver"))
		}
	}
	if n := r.count("content", 1); n >= 0 {
		m.Content = append(make([]byte, 0, n), r.bytes("content", uint64(n))...)
	}
	m.Params = r.strMap("params")
	m.TraceContext = r.strMap("trace_context")
	return m
}

// done reports the first error, or trailing bytes.
func (r *reader) done() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d unread bytes at the end", len(r.b)-r.off)
	}
	return r.err
}
