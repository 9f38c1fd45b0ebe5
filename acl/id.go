package acl

import (
	crand "crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"
)

// AgentID names an agent (or a topic, see Topic). Names are 1 to
// MaxNameLen bytes of ASCII letters, digits and ". - _ @ : /", so they are
// safe in logs, metrics labels and file names. FIPA's transport addresses are
// not part of the name: Caxton resolves names in-process.
type AgentID string

// MaxNameLen is the longest valid AgentID, in bytes.
const MaxNameLen = 128

// TopicPrefix marks an AgentID that names a topic rather than an agent, the
// way JADE models topics as AIDs: a message addressed to Topic("news") goes to
// every subscriber of "news". Agents cannot be named with this prefix.
const TopicPrefix = "topic:"

// Topic returns the AgentID that addresses the subscribers of topic name.
func Topic(name string) AgentID { return AgentID(TopicPrefix + name) }

// IsTopic reports whether id addresses a topic.
func (id AgentID) IsTopic() bool { return strings.HasPrefix(string(id), TopicPrefix) }

// TopicName returns the topic's name for a topic id, or "" for an agent id.
func (id AgentID) TopicName() string {
	if !id.IsTopic() {
		return ""
	}
	return string(id[len(TopicPrefix):])
}

// Validate reports whether id is a well-formed name; the error names the
// offending character or the length.
func (id AgentID) Validate() error { return validateName("agent id", string(id)) }

func validateName(field, s string) error {
	if s == "" {
		return fieldErr(field, "empty")
	}
	if len(s) > MaxNameLen {
		return fieldErr(field, "%d bytes long, the limit is %d", len(s), MaxNameLen)
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) {
			return fieldErr(field, "%q has invalid character %q at byte %d (allowed: letters, digits, . - _ @ : /)", s, s[i], i)
		}
	}
	if id := AgentID(s); id.IsTopic() && id.TopicName() == "" {
		return fieldErr(field, "topic %q has an empty name", s)
	}
	return nil
}

func nameByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '.', c == '-', c == '_', c == '@', c == ':', c == '/':
		return true
	}
	return false
}

// MessageID is a message's unique id: a UUID, in practice a UUIDv7 made by
// an IDGenerator. It is a value, not a string, so stamping one costs no
// allocation on the send path and a malformed id cannot exist in memory;
// the text form (String, ParseMessageID) is used on the wire. The zero value
// means "not assigned yet".
type MessageID [16]byte

// IsZero reports whether id is unassigned.
func (id MessageID) IsZero() bool { return id == MessageID{} }

// String returns the canonical lowercase 8-4-4-4-12 form.
func (id MessageID) String() string { return formatUUID(id) }

// MarshalText implements encoding.TextMarshaler.
func (id MessageID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler using ParseMessageID.
func (id *MessageID) UnmarshalText(b []byte) error {
	v, err := ParseMessageID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseMessageID parses the textual form of a UUID (8-4-4-4-12 hexadecimal
// digits, either case). A malformed id is a *FieldError for field "id".
func ParseMessageID(s string) (MessageID, error) {
	var id MessageID
	if !ValidMessageID(s) {
		return id, fieldErr("id", "%q is not a UUID", truncate(s))
	}
	j := 0
	for i := 0; i < len(s); i += 2 {
		if s[i] == '-' {
			i++
		}
		id[j] = unhex(s[i])<<4 | unhex(s[i+1])
		j++
	}
	return id, nil
}

// MustParseMessageID is ParseMessageID that panics on error, for constants
// in tests and examples.
func MustParseMessageID(s string) MessageID {
	id, err := ParseMessageID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// IDGenerator makes UUIDv7 message ids (RFC 9562): a 48-bit millisecond
// timestamp followed by 74 random bits, so ids sort by creation time (to
// the millisecond) and cannot be guessed. The random bits come from ChaCha8
// generators seeded from crypto/rand — a cryptographically strong stream,
// so no number of observed ids reveals the next one (a guest that sees an
// id cannot forge a reply to a message it never saw) — kept in a pool, so
// an id costs no lock, no system call and no allocation on the send path.
// Two ids of the same millisecond collide with probability 2^-74. It is
// safe for concurrent use. The zero value is not usable; call
// NewIDGenerator.
type IDGenerator struct {
	pool sync.Pool // of *rand.ChaCha8
}

// NewIDGenerator returns a generator.
func NewIDGenerator() *IDGenerator {
	g := &IDGenerator{}
	g.pool.New = func() any {
		var seed [32]byte
		_, _ = crand.Read(seed[:]) // crypto/rand.Read never fails on supported platforms (Go ≥ 1.24).
		return mrand.NewChaCha8(seed)
	}
	return g
}

// New returns a fresh UUIDv7 for a message created at t.
func (g *IDGenerator) New(t time.Time) MessageID {
	r := g.pool.Get().(*mrand.ChaCha8)
	hi, lo := r.Uint64(), r.Uint64()
	g.pool.Put(r)
	var u MessageID
	ms := uint64(t.UnixMilli())
	// 48 bits of milliseconds, version 7, then 12 random bits (rand_a)...
	binary.BigEndian.PutUint64(u[:8], ms<<16|0x7000|(hi&0x0f)<<8|(hi>>8)&0xff)
	// ...the RFC 9562 variant, then 62 random bits (rand_b).
	binary.BigEndian.PutUint64(u[8:], 0x8000_0000_0000_0000|lo&0x3fff_ffff_ffff_ffff)
	return u
}

// NewID returns a fresh UUIDv7 from crypto/rand. It is meant for occasional
// use (tests, tools); the runtime uses an IDGenerator on the hot path.
func NewID() MessageID {
	var u MessageID
	_, _ = crand.Read(u[6:])
	ms := uint64(time.Now().UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = 0x70 | (u[6] & 0x0f)
	u[8] = 0x80 | (u[8] & 0x3f)
	return u
}

const hexDigits = "0123456789abcdef"

func formatUUID(u MessageID) string {
	var b [36]byte
	hex := func(dst []byte, src []byte) {
		for i, c := range src {
			dst[2*i], dst[2*i+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		}
	}
	hex(b[0:8], u[0:4])
	b[8] = '-'
	hex(b[9:13], u[4:6])
	b[13] = '-'
	hex(b[14:18], u[6:8])
	b[18] = '-'
	hex(b[19:23], u[8:10])
	b[23] = '-'
	hex(b[24:36], u[10:16])
	return string(b[:])
}

// ValidMessageID reports whether s has the textual form of a UUID
// (8-4-4-4-12 hexadecimal digits, either case), as every message id must.
func ValidMessageID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		if !isHex[s[i]] {
			return false
		}
	}
	return true
}

var isHex = [256]bool{
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true,
}
