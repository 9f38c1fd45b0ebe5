//! mirror: sends every message back as it came, so a host can check that
//! each ACL field crosses the ABI both ways. The copy goes to the message's
//! `reply_to` (else its sender) with the same performative, priority,
//! reply-by, reply-to, language, encoding, ontology, protocol, conversation
//! id, reply-with, in-reply-to, params, trace context and content; what an
//! agent cannot send itself travels in params: X-Sender, X-Id, X-Created-At
//! (Unix nanoseconds) and X-Receivers (comma-separated).

use caxton::{handler_fn, Message};

caxton::export_agent!(handler_fn(|m: &Message, ctx| {
    let mut out = m.clone();
    out.receivers = vec![if m.reply_to.is_empty() { m.sender.clone() } else { m.reply_to.clone() }];
    out.sender.clear();
    out.id = caxton::MessageId::NONE;
    out.created_at = None;
    out.params.insert("X-Sender".into(), m.sender.clone());
    out.params.insert("X-Id".into(), m.id.to_string());
    out.params.insert("X-Created-At".into(), m.created_at.map_or(0, |t| t.unix_nanos()).to_string());
    out.params.insert("X-Receivers".into(), m.receivers.join(","));
    ctx.send(out)
}));
