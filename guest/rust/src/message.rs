//! FIPA ACL messages as owned Rust values.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::performative::{Performative, Priority};

/// A message's id: 16 bytes (a UUID). The host assigns one to every message
/// it routes; an id of all zeros is unassigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MessageId(pub [u8; 16]);

impl MessageId {
    /// The unassigned id (all zeros).
    pub const NONE: MessageId = MessageId([0; 16]);

    /// Whether the id is unassigned.
    pub fn is_none(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for MessageId {
    /// The UUID text form: 8-4-4-4-12 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{:02x}", b)?;
        }
        Ok(())
    }
}

/// A point in time as the ABI carries it: nanoseconds since the Unix epoch
/// (UTC), which reaches from 1677 to 2262. A plain number rather than
/// `SystemTime`, whose WASI form cannot hold times before 1970; convert
/// with `to_system_time` / `from(SystemTime)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The time `nanos` nanoseconds after the Unix epoch.
    pub const fn from_unix_nanos(nanos: i64) -> Timestamp {
        Timestamp(nanos)
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(self) -> i64 {
        self.0
    }

    /// The time `d` later, or `None` past the year 2262.
    pub fn checked_add(self, d: Duration) -> Option<Timestamp> {
        i64::try_from(d.as_nanos()).ok().and_then(|n| self.0.checked_add(n)).map(Timestamp)
    }

    /// The time `d` later, saturating at the largest representable time.
    pub fn saturating_add(self, d: Duration) -> Timestamp {
        self.checked_add(d).unwrap_or(Timestamp(i64::MAX))
    }

    /// How long after `earlier` this is (zero if it is not later).
    pub fn duration_since(self, earlier: Timestamp) -> Duration {
        if self.0 <= earlier.0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.0.abs_diff(earlier.0))
    }

    /// The same time as a `SystemTime`, if the platform can hold it.
    pub fn to_system_time(self) -> Option<SystemTime> {
        if self.0 >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_nanos(self.0 as u64))
        } else {
            UNIX_EPOCH.checked_sub(Duration::from_nanos(self.0.unsigned_abs()))
        }
    }
}

impl From<SystemTime> for Timestamp {
    /// Saturates outside the representable years.
    fn from(t: SystemTime) -> Timestamp {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
            Err(e) => Timestamp(i64::try_from(e.duration().as_nanos()).map_or(i64::MIN, |n| -n)),
        }
    }
}

/// A FIPA ACL message. Every field is owned and public; an empty string or
/// collection means "not set", as on the wire. Build outbound messages with
/// `Message::new` and the `with_*` methods, or answer one with `reply`:
///
/// ```
/// use caxton::{Message, Performative};
/// let m = Message::new(Performative::Request)
///     .to("worker")
///     .with_content("invoice 42")
///     .with_conversation_id("order-7");
/// assert_eq!(m.receivers, vec!["worker".to_string()]);
/// let r = m.reply(Performative::Agree);
/// assert_eq!(r.conversation_id, "order-7");
/// ```
///
/// The host stamps the sender, id and creation time of everything an agent
/// sends: leave them unset (a sender other than the agent's own name gets
/// the message rejected).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Message {
    pub performative: Performative,
    pub priority: Priority,
    /// Assigned by the host; `MessageId::NONE` in messages you build.
    pub id: MessageId,
    /// Set by the host when it routes the message.
    pub created_at: Option<Timestamp>,
    /// The answer is wanted before this time.
    pub reply_by: Option<Timestamp>,
    /// Stamped by the host: the agent (or host inbox) that sent it.
    pub sender: String,
    pub receivers: Vec<String>,
    /// Where replies go instead of the sender.
    pub reply_to: String,
    pub language: String,
    pub encoding: String,
    pub ontology: String,
    pub protocol: String,
    pub conversation_id: String,
    /// Set it to have replies name it in their `in_reply_to`.
    pub reply_with: String,
    pub in_reply_to: String,
    /// User-defined parameters; every key starts with "X-".
    pub params: BTreeMap<String, String>,
    /// W3C trace context ("traceparent", "tracestate"); the host fills it in.
    pub trace_context: BTreeMap<String, String>,
    pub content: Vec<u8>,
}

impl Message {
    /// A message with performative `p` and nothing else set.
    pub fn new(p: Performative) -> Message {
        Message {
            performative: p,
            ..Message::default()
        }
    }

    /// A reply to this message, as FIPA (and `acl.Message.CreateReply`)
    /// builds one: addressed to `reply_to` if set, else to the sender; the
    /// conversation id, protocol, language, encoding and ontology copied;
    /// `in_reply_to` set to this message's `reply_with`. No content, no
    /// `reply_with` (set one if you expect an answer).
    pub fn reply(&self, p: Performative) -> Message {
        let to = if self.reply_to.is_empty() { &self.sender } else { &self.reply_to };
        Message {
            performative: p,
            receivers: if to.is_empty() { Vec::new() } else { vec![to.clone()] },
            conversation_id: self.conversation_id.clone(),
            protocol: self.protocol.clone(),
            language: self.language.clone(),
            encoding: self.encoding.clone(),
            ontology: self.ontology.clone(),
            in_reply_to: self.reply_with.clone(),
            ..Message::default()
        }
    }

    /// Adds a receiver (an agent name or "topic:NAME").
    pub fn to(mut self, receiver: impl Into<String>) -> Message {
        self.receivers.push(receiver.into());
        self
    }

    /// Sets the content.
    pub fn with_content(mut self, content: impl Into<Vec<u8>>) -> Message {
        self.content = content.into();
        self
    }

    /// Sets the performative.
    pub fn with_performative(mut self, p: Performative) -> Message {
        self.performative = p;
        self
    }

    /// Sets the priority.
    pub fn with_priority(mut self, p: Priority) -> Message {
        self.priority = p;
        self
    }

    /// Sets the reply-by deadline.
    pub fn with_reply_by(mut self, t: Timestamp) -> Message {
        self.reply_by = Some(t);
        self
    }

    /// Sets where replies go.
    pub fn with_reply_to(mut self, agent: impl Into<String>) -> Message {
        self.reply_to = agent.into();
        self
    }

    /// Sets the content language ("json", "text/plain", ...).
    pub fn with_language(mut self, s: impl Into<String>) -> Message {
        self.language = s.into();
        self
    }

    /// Sets the content encoding.
    pub fn with_encoding(mut self, s: impl Into<String>) -> Message {
        self.encoding = s.into();
        self
    }

    /// Sets the ontology.
    pub fn with_ontology(mut self, s: impl Into<String>) -> Message {
        self.ontology = s.into();
        self
    }

    /// Sets the interaction protocol ("fipa-request", "fipa-contract-net", ...).
    pub fn with_protocol(mut self, s: impl Into<String>) -> Message {
        self.protocol = s.into();
        self
    }

    /// Sets the conversation id.
    pub fn with_conversation_id(mut self, s: impl Into<String>) -> Message {
        self.conversation_id = s.into();
        self
    }

    /// Sets the reply-with token that replies will carry as `in_reply_to`.
    pub fn with_reply_with(mut self, s: impl Into<String>) -> Message {
        self.reply_with = s.into();
        self
    }

    /// Sets `in_reply_to`.
    pub fn with_in_reply_to(mut self, s: impl Into<String>) -> Message {
        self.in_reply_to = s.into();
        self
    }

    /// Sets a user-defined parameter (the key must start with "X-").
    pub fn with_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Message {
        self.params.insert(key.into(), value.into());
        self
    }

    /// The value of a user-defined parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// The content as text, if it is UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.content).ok()
    }

    /// Checks what the SDK can check before sending: a known performative
    /// and at least one receiver. The host validates the rest (names,
    /// sizes, parameter keys) and logs what it rejects.
    pub fn validate(&self) -> Result<(), InvalidMessage> {
        if !self.performative.is_known() {
            return Err(InvalidMessage::new("performative", format!("{} is not one of the 22 FIPA acts", self.performative)));
        }
        if self.receivers.is_empty() {
            return Err(InvalidMessage::new("receivers", "no receiver"));
        }
        if let Some(r) = self.receivers.iter().find(|r| r.is_empty()) {
            return Err(InvalidMessage::new("receivers", format!("empty receiver name {:?}", r)));
        }
        Ok(())
    }
}

/// A message the SDK refuses to send, naming the field at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidMessage {
    /// The field, as the ABI names it ("receivers", "performative", ...).
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl InvalidMessage {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> InvalidMessage {
        InvalidMessage { field, reason: reason.into() }
    }
}

impl fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid message: {}: {}", self.field, self.reason)
    }
}

impl std::error::Error for InvalidMessage {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_follows_fipa() {
        let m = Message::new(Performative::Request)
            .with_reply_with("r1")
            .with_conversation_id("c")
            .with_protocol("fipa-request")
            .with_language("json")
            .with_encoding("utf-8")
            .with_ontology("o")
            .with_param("X-A", "1")
            .with_content("x");
        let mut from = m.clone();
        from.sender = "alice".into();
        let r = from.reply(Performative::Inform);
        assert_eq!(r.receivers, vec!["alice"]);
        assert_eq!(r.in_reply_to, "r1");
        assert_eq!((r.conversation_id.as_str(), r.protocol.as_str()), ("c", "fipa-request"));
        assert_eq!((r.language.as_str(), r.encoding.as_str(), r.ontology.as_str()), ("json", "utf-8", "o"));
        assert!(r.reply_with.is_empty() && r.content.is_empty() && r.params.is_empty());
        from.reply_to = "desk".into();
        assert_eq!(from.reply(Performative::Inform).receivers, vec!["desk"]);
        assert_eq!(Message::new(Performative::Inform).reply(Performative::Inform).receivers, Vec::<String>::new());
    }

    #[test]
    fn validate_names_the_field() {
        assert_eq!(Message::new(Performative::Inform).validate().unwrap_err().field, "receivers");
        let e = Message::new(Performative::Unknown(40)).to("a").validate().unwrap_err();
        assert_eq!(e.field, "performative");
        assert_eq!(e.to_string(), "invalid message: performative: performative(40) is not one of the 22 FIPA acts");
        assert_eq!(Message::new(Performative::Inform).to("").validate().unwrap_err().field, "receivers");
        assert!(Message::new(Performative::Inform).to("a").validate().is_ok());
    }

    #[test]
    fn ids_and_times() {
        let id = MessageId([0x01, 0x93, 0x4b, 0xcd, 0xef, 0x01, 0x7a, 0xbc, 0x8d, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]);
        assert_eq!(id.to_string(), "01934bcd-ef01-7abc-8def-0123456789ab");
        assert!(MessageId::NONE.is_none() && !id.is_none());
        let t = Timestamp::from_unix_nanos(1_000);
        assert_eq!(t.saturating_add(Duration::from_nanos(5)).unix_nanos(), 1_005);
        assert_eq!(Timestamp::from_unix_nanos(i64::MAX - 1).checked_add(Duration::from_secs(1)), None);
        assert_eq!(t.duration_since(Timestamp::from_unix_nanos(2_000)), Duration::ZERO);
        assert_eq!(Timestamp::from_unix_nanos(2_000).duration_since(t), Duration::from_nanos(1_000));
        let st = UNIX_EPOCH + Duration::from_nanos(123_456_789);
        assert_eq!(Timestamp::from(st).to_system_time(), Some(st));
    }
}
