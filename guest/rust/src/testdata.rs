//! The golden messages of internal/abi/testdata (Go's TestGoldenFiles
//! builds the same ones): batch.bin is a batch Go encoded, outbox.bin an
//! outbox this crate encodes.

use crate::message::{Message, MessageId, Timestamp};
use crate::performative::{Performative, Priority};

pub fn golden_batch() -> Vec<Message> {
    let mut full = Message::new(Performative::Propose)
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
        .with_reply_by(Timestamp::from_unix_nanos(1_795_341_600_000_000_123))
        .with_param("X-A", "1")
        .with_param("X-B", "");
    full.sender = "a".into();
    full.id = MessageId([0x01, 0x93, 0x4b, 0xcd, 0xef, 0x01, 0x7a, 0xbc, 0x8d, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]);
    full.created_at = Some(Timestamp::from_unix_nanos(1_795_338_000_000_000_456));
    full.trace_context.insert("traceparent".into(), "00-x".into());
    full.trace_context.insert("tracestate".into(), "k=v".into());
    let unicode = Message::new(Performative::Cancel)
        .to("x")
        .to("y")
        .to("z")
        .with_priority(Priority::High)
        .with_ontology("ünï")
        .with_content("héllo ✓");
    vec![full, Message::new(Performative::Inform), unicode]
}

pub fn golden_outbox() -> Vec<Message> {
    let req = Message::new(Performative::Request)
        .with_priority(Priority::High)
        .to("worker")
        .to("topic:jobs")
        .with_reply_to("desk")
        .with_language("text/plain")
        .with_conversation_id("order-7")
        .with_reply_with("q-1")
        .with_reply_by(Timestamp::from_unix_nanos(1_795_341_600_000_000_123))
        .with_param("X-Z", "last")
        .with_param("X-A", "first")
        .with_content("done:ticket 7");
    vec![req, Message::new(Performative::Inform).to("a")]
}
