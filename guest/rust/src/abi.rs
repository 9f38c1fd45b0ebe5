//! The byte encoding of Guest ABI v1 (sandbox/ABI.md, "Encoding"): a batch
//! is a u32 count and that many frames; a frame is a u32 length, a 36-byte
//! fixed part, nine strings, receivers, params, trace context and content.
//! All integers little-endian. The Go reference is internal/abi; the tests
//! here decode bytes Go wrote (internal/abi/testdata) and write bytes Go
//! decodes.

use std::fmt;

use crate::message::{Message, MessageId, Timestamp};
use crate::performative::{Performative, Priority};

/// The ABI version this crate implements.
pub const VERSION: i32 = 1;

/// `caxton_handle`'s status codes (negative results).
pub const STATUS_BAD_INPUT: i64 = -1;
pub const STATUS_FAILED: i64 = -2;
pub const STATUS_PERMANENT: i64 = -3;

/// Bytes of a frame after its length: performative(1) priority(1)
/// reserved(2) id(16) created_at(8) reply_by(8).
const FIXED: usize = 36;

/// Why a batch could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes break the ABI's structure: the host sent something no
    /// guest can read (status -1: the instance is replaced).
    Malformed(String),
    /// The structure is sound but a text field of message `index` is not
    /// UTF-8, which a Rust `String` cannot hold (status -3: that message is
    /// dead-lettered; the host hands the others over one at a time).
    NotUtf8 { index: usize, field: &'static str },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Malformed(why) => write!(f, "malformed batch: {}", why),
            DecodeError::NotUtf8 { index, field } => {
                write!(f, "message {}: {} is not UTF-8 text", index, field)
            }
        }
    }
}

impl std::error::Error for DecodeError {}

fn malformed(why: String) -> DecodeError {
    DecodeError::Malformed(why)
}

fn get_u32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn get_i64(b: &[u8], off: usize) -> i64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[off..off + 8]);
    i64::from_le_bytes(x)
}

/// A frame whose structure has been checked, still borrowing the batch.
struct Frame<'a> {
    head: &'a [u8],                      // the fixed part
    strs: [&'a [u8]; 9],                 // sender ... in_reply_to
    receivers: Vec<&'a [u8]>,
    params: Vec<(&'a [u8], &'a [u8])>,
    trace: Vec<(&'a [u8], &'a [u8])>,
    content: &'a [u8],
}

const STR_FIELDS: [&str; 9] = [
    "sender",
    "reply_to",
    "language",
    "encoding",
    "ontology",
    "protocol",
    "conversation_id",
    "reply_with",
    "in_reply_to",
];

/// A bounds-checked cursor over one frame body.
struct Reader<'a> {
    b: &'a [u8],
    off: usize,
}

impl<'a> Reader<'a> {
    fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        if self.b.len() - self.off < 4 {
            return Err(malformed(format!("truncated {}", what)));
        }
        let v = get_u32(self.b, self.off);
        self.off += 4;
        Ok(v)
    }

    fn bytes(&mut self, what: &str) -> Result<&'a [u8], DecodeError> {
        let n = self.u32(what)? as usize;
        let left = self.b.len() - self.off;
        if n > left {
            return Err(malformed(format!("{} length {} exceeds the {} bytes left", what, n, left)));
        }
        let v = &self.b[self.off..self.off + n];
        self.off += n;
        Ok(v)
    }

    /// A count of elements of at least `min` bytes each, which must fit in
    /// what is left (so an untrusted count cannot make us allocate).
    fn count(&mut self, what: &str, min: usize) -> Result<usize, DecodeError> {
        let n = self.u32(what)? as usize;
        if n > (self.b.len() - self.off) / min {
            return Err(malformed(format!("{} count {} does not fit", what, n)));
        }
        Ok(n)
    }

    fn pairs(&mut self, what: &str) -> Result<Vec<(&'a [u8], &'a [u8])>, DecodeError> {
        let n = self.count(what, 8)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.bytes(what)?;
            v.push((k, self.bytes(what)?));
        }
        Ok(v)
    }
}

fn frame(b: &[u8]) -> Result<Frame<'_>, DecodeError> {
    if b.len() < FIXED {
        return Err(malformed(format!("frame of {} bytes is shorter than its header", b.len())));
    }
    let mut r = Reader { b, off: FIXED };
    let mut strs: [&[u8]; 9] = [&[]; 9];
    for (s, what) in strs.iter_mut().zip(STR_FIELDS) {
        *s = r.bytes(what)?;
    }
    let n = r.count("receivers", 4)?;
    let mut receivers = Vec::with_capacity(n);
    for _ in 0..n {
        receivers.push(r.bytes("receiver")?);
    }
    let params = r.pairs("params")?;
    let trace = r.pairs("trace_context")?;
    let content = r.bytes("content")?;
    if r.off != b.len() {
        return Err(malformed(format!("{} unread bytes at the end of the frame", b.len() - r.off)));
    }
    Ok(Frame { head: &b[..FIXED], strs, receivers, params, trace, content })
}

fn text(b: &[u8], index: usize, field: &'static str) -> Result<String, DecodeError> {
    match std::str::from_utf8(b) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => Err(DecodeError::NotUtf8 { index, field }),
    }
}

fn time(ns: i64) -> Option<Timestamp> {
    if ns == 0 {
        None
    } else {
        Some(Timestamp::from_unix_nanos(ns))
    }
}

fn message(f: &Frame<'_>, index: usize) -> Result<Message, DecodeError> {
    let mut id = [0u8; 16];
    id.copy_from_slice(&f.head[4..20]);
    let mut s: [String; 9] = Default::default();
    for ((out, b), field) in s.iter_mut().zip(f.strs).zip(STR_FIELDS) {
        *out = text(b, index, field)?;
    }
    let [sender, reply_to, language, encoding, ontology, protocol, conversation_id, reply_with, in_reply_to] = s;
    let mut m = Message {
        performative: Performative::from_code(f.head[0]),
        priority: Priority::from_code(f.head[1] as i8),
        id: MessageId(id),
        created_at: time(get_i64(f.head, 20)),
        reply_by: time(get_i64(f.head, 28)),
        sender,
        reply_to,
        language,
        encoding,
        ontology,
        protocol,
        conversation_id,
        reply_with,
        in_reply_to,
        content: f.content.to_vec(),
        ..Message::default()
    };
    for r in &f.receivers {
        m.receivers.push(text(r, index, "receivers")?);
    }
    for (k, v) in &f.params {
        m.params.insert(text(k, index, "params")?, text(v, index, "params")?); // the last repeat wins
    }
    for (k, v) in &f.trace {
        m.trace_context.insert(text(k, index, "trace_context")?, text(v, index, "trace_context")?);
    }
    Ok(m)
}

/// Decodes a batch. The whole batch's structure is checked before any
/// message is built, so a malformed batch is `Malformed` whatever else is
/// wrong with it; then every message is decoded (a text field that is not
/// UTF-8 is `NotUtf8`).
pub fn decode_batch(buf: &[u8]) -> Result<Vec<Message>, DecodeError> {
    if buf.len() < 4 {
        return Err(malformed("batch shorter than its count".into()));
    }
    let n = get_u32(buf, 0) as usize;
    if n > (buf.len() - 4) / (4 + FIXED) {
        return Err(malformed(format!("count {} does not fit in {} bytes", n, buf.len())));
    }
    let mut frames = Vec::with_capacity(n);
    let mut off = 4;
    for i in 0..n {
        if buf.len() - off < 4 {
            return Err(malformed(format!("message {}: truncated length", i)));
        }
        let size = get_u32(buf, off) as usize;
        off += 4;
        if size > buf.len() - off {
            return Err(malformed(format!("message {}: length {} exceeds the {} bytes left", i, size, buf.len() - off)));
        }
        frames.push(frame(&buf[off..off + size]).map_err(|e| match e {
            DecodeError::Malformed(why) => malformed(format!("message {}: {}", i, why)),
            other => other,
        })?);
        off += size;
    }
    if off != buf.len() {
        return Err(malformed(format!("{} trailing bytes after {} messages", buf.len() - off, n)));
    }
    frames.iter().enumerate().map(|(i, f)| message(f, i)).collect()
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s);
}

fn nanos(t: Option<Timestamp>) -> i64 {
    t.map_or(0, Timestamp::unix_nanos)
}

/// The encoded size of `m`'s frame, its length prefix included.
pub fn encoded_size(m: &Message) -> usize {
    let strs = [
        &m.sender,
        &m.reply_to,
        &m.language,
        &m.encoding,
        &m.ontology,
        &m.protocol,
        &m.conversation_id,
        &m.reply_with,
        &m.in_reply_to,
    ];
    let mut n = 4 + FIXED + strs.iter().map(|s| 4 + s.len()).sum::<usize>();
    n += 4 + m.receivers.iter().map(|r| 4 + r.len()).sum::<usize>();
    for map in [&m.params, &m.trace_context] {
        n += 4 + map.iter().map(|(k, v)| 8 + k.len() + v.len()).sum::<usize>();
    }
    n + 4 + m.content.len()
}

/// Appends `m` as one frame. Every field is written as it is (the host
/// assigns the id and creation time when they are zero, and stamps the
/// sender); params and trace context in key order.
pub fn append_message(out: &mut Vec<u8>, m: &Message) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]); // frame length, patched below
    out.extend_from_slice(&[m.performative.code(), m.priority.code() as u8, 0, 0]);
    out.extend_from_slice(&m.id.0);
    out.extend_from_slice(&nanos(m.created_at).to_le_bytes());
    out.extend_from_slice(&nanos(m.reply_by).to_le_bytes());
    for s in [
        &m.sender,
        &m.reply_to,
        &m.language,
        &m.encoding,
        &m.ontology,
        &m.protocol,
        &m.conversation_id,
        &m.reply_with,
        &m.in_reply_to,
    ] {
        put_str(out, s.as_bytes());
    }
    out.extend_from_slice(&(m.receivers.len() as u32).to_le_bytes());
    for r in &m.receivers {
        put_str(out, r.as_bytes());
    }
    for map in [&m.params, &m.trace_context] {
        out.extend_from_slice(&(map.len() as u32).to_le_bytes());
        for (k, v) in map {
            put_str(out, k.as_bytes());
            put_str(out, v.as_bytes());
        }
    }
    put_str(out, &m.content);
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// Encodes `msgs` as a batch.
pub fn encode_batch(msgs: &[Message]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + msgs.iter().map(encoded_size).sum::<usize>());
    out.extend_from_slice(&(msgs.len() as u32).to_le_bytes());
    for m in msgs {
        append_message(&mut out, m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Message {
        let mut m = Message::new(Performative::Propose)
            .to("b")
            .to("topic:c")
            .with_reply_to("d")
            .with_content(vec![0u8, 1, 2, 0xff])
            .with_language("json")
            .with_encoding("utf-8")
            .with_ontology("o")
            .with_protocol("fipa-contract-net")
            .with_conversation_id("c-1")
            .with_reply_with("r-1")
            .with_in_reply_to("r-0")
            .with_priority(Priority::Low)
            .with_param("X-A", "1")
            .with_param("X-B", "");
        m.sender = "a".into();
        m.id = MessageId([1; 16]);
        m.created_at = Some(Timestamp::from_unix_nanos(1_795_338_000_000_000_456));
        m.reply_by = Some(Timestamp::from_unix_nanos(1_795_341_600_000_000_123));
        m.trace_context.insert("traceparent".into(), "00-x".into());
        m
    }

    #[test]
    fn round_trip() {
        let msgs = vec![full(), Message::new(Performative::Inform), Message::new(Performative::Cancel).to("x")];
        let b = encode_batch(&msgs);
        assert_eq!(decode_batch(&b).unwrap(), msgs);
        for m in &msgs {
            let mut one = Vec::new();
            append_message(&mut one, m);
            assert_eq!(one.len(), encoded_size(m));
        }
    }

    #[test]
    fn frame_layout() {
        let m = Message::new(Performative::Inform).with_priority(Priority::High).to("b").with_content("hi");
        let mut b = Vec::new();
        append_message(&mut b, &m);
        // u32 len, fixed (36), 9 empty strings (36), receivers (4+4+1),
        // params (4), trace context (4), content (4+2)
        let want = 4 + 36 + 36 + 9 + 4 + 4 + 6;
        assert_eq!(b.len(), want);
        assert_eq!(get_u32(&b, 0) as usize, want - 4);
        assert_eq!((b[4], b[5]), (8, 1));
        assert_eq!(&b[b.len() - 2..], b"hi");
    }

    fn corrupt(b: &[u8], off: usize, v: u32) -> Vec<u8> {
        let mut c = b.to_vec();
        c[off..off + 4].copy_from_slice(&v.to_le_bytes());
        c
    }

    #[test]
    fn malformed_input_is_refused() {
        let good = encode_batch(&[full()]);
        let mut trailing = good.clone();
        trailing.push(0);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("count too large", 1000u32.to_le_bytes().to_vec()),
            ("truncated", good[..good.len() - 1].to_vec()),
            ("trailing", trailing),
            ("frame too short", vec![1, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3]),
            ("string overflows", corrupt(&good, 4 + 4 + 36, 0xffffff)),
            ("receiver count overflows", {
                let m = Message::new(Performative::Inform);
                let b = encode_batch(&[m]);
                corrupt(&b, 4 + 4 + 36 + 36, 0x7fff_ffff)
            }),
        ];
        for (name, b) in cases {
            match decode_batch(&b) {
                Err(DecodeError::Malformed(_)) => {}
                other => panic!("{}: got {:?}", name, other),
            }
        }
    }

    #[test]
    fn text_that_is_not_utf8_names_the_field() {
        let mut m = Message::new(Performative::Inform).to("b").with_ontology("ont");
        m.content = vec![0xff]; // content is bytes: fine
        let mut b = encode_batch(&[Message::new(Performative::Inform), m]);
        let at = b.windows(3).position(|w| w == b"ont").unwrap();
        b[at] = 0xff;
        assert_eq!(decode_batch(&b), Err(DecodeError::NotUtf8 { index: 1, field: "ontology" }));
        // A structural fault later in the batch still wins.
        b.push(0);
        assert!(matches!(decode_batch(&b), Err(DecodeError::Malformed(_))));
    }

    /// internal/abi/testdata/batch.bin is written by Go's abi.AppendBatch
    /// (TestGoldenFiles there checks it): Rust decodes Go's bytes.
    #[test]
    fn decodes_what_go_encodes() {
        let b = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../internal/abi/testdata/batch.bin")).unwrap();
        let got = decode_batch(&b).unwrap();
        assert_eq!(got, crate::testdata::golden_batch());
    }

    /// internal/abi/testdata/outbox.bin is what this encoder writes for the
    /// golden outbox; Go's TestGoldenFiles decodes it with abi.DecodeBatch.
    /// CAXTON_UPDATE_GOLDEN=1 rewrites it.
    #[test]
    fn encodes_what_go_decodes() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../internal/abi/testdata/outbox.bin");
        let got = encode_batch(&crate::testdata::golden_outbox());
        if std::env::var("CAXTON_UPDATE_GOLDEN").as_deref() == Ok("1") {
            std::fs::write(path, &got).unwrap();
        }
        assert_eq!(got, std::fs::read(path).unwrap());
    }
}
