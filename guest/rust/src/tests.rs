//! Tests of the dispatcher and the Contract Net participant, through the
//! testing harness (which runs the same code as the wasm exports).

use std::time::Duration;

use crate::contractnet::{Bid, Bidder, Offer, Participant};
use crate::json::{self, Value};
use crate::testing::{Failed, Harness};
use crate::{abi, handler_fn, Context, Error, Level, Message, Performative, Result, Timestamp, ToolStatus};

fn from(sender: &str, p: Performative, content: &str) -> Message {
    let mut m = Message::new(p).to("me").with_content(content);
    m.sender = sender.into();
    m
}

#[test]
fn a_failed_batch_sends_nothing_and_says_how_it_failed() {
    let mut h = Harness::new(handler_fn(|m, ctx| {
        ctx.reply(Performative::Inform, m.content.clone())?;
        match m.text() {
            Some("retry") => Err(Error::retry("not now")),
            Some("fatal") => Err(Error::permanent("never")),
            _ => Ok(()),
        }
    }));
    let ok = h.handle(&[from("a", Performative::Request, "1"), from("a", Performative::Request, "2")]).unwrap();
    assert_eq!(ok.iter().map(|m| m.content.clone()).collect::<Vec<_>>(), vec![b"1".to_vec(), b"2".to_vec()]);
    assert_eq!(h.handle(&[from("a", Performative::Request, "1"), from("a", Performative::Request, "retry")]), Err(Failed::Retry));
    assert_eq!(h.handle(&[from("a", Performative::Request, "fatal")]), Err(Failed::Permanent));
    assert_eq!(h.logs().last().unwrap(), &(Level::Warn, "caxton: handler failed: permanent failure: never".to_string()));
    assert_eq!(h.handle(&[]).unwrap(), vec![], "an empty batch");
    assert_eq!(h.handle(&[from("a", Performative::Inform, "3")]).unwrap()[0].content, b"3", "the outbox starts afresh");
}

#[test]
fn malformed_and_non_utf8_batches() {
    let mut h = Harness::new(handler_fn(|_, _| panic!("the handler must not run")));
    assert_eq!(h.handle_bytes(&[1, 0, 0]), Err(Failed::BadInput));
    assert!(h.logs()[0].1.starts_with("caxton: malformed batch"));
    let mut b = abi::encode_batch(&[from("a", Performative::Inform, "x").with_conversation_id("conv")]);
    let at = b.windows(4).position(|w| w == b"conv").unwrap();
    b[at] = 0xc3; // a lone UTF-8 lead byte
    assert_eq!(h.handle_bytes(&b), Err(Failed::Permanent));
    assert_eq!(h.logs()[1].1, "caxton: message 0: conversation_id is not UTF-8 text; the message is refused");
}

#[test]
fn send_checks_what_it_can() {
    let mut h = Harness::new(handler_fn(|m, ctx| match m.text() {
        Some("nobody") => ctx.send(Message::new(Performative::Inform)),
        _ => ctx.reply(Performative::Inform, "x"),
    }));
    assert_eq!(h.handle(&[from("a", Performative::Inform, "nobody")]), Err(Failed::Permanent));
    assert_eq!(h.logs()[0].1, "caxton: handler failed: permanent failure: invalid message: receivers: no receiver");
    let anonymous = Message::new(Performative::Inform).to("me");
    assert_eq!(h.handle(&[anonymous]), Err(Failed::Permanent), "no one to reply to");
}

#[test]
fn log_clock_and_tools() {
    let mut h = Harness::new(handler_fn(|m, ctx| {
        let t = ctx.now();
        ctx.debug(&format!("at {}", t.unix_nanos()));
        let r = ctx.tool_call(m.text().unwrap(), &Value::object(vec![("q", Value::from("x"))]));
        ctx.reply(Performative::Inform, format!("{}:{}", r.status.code(), r.text().unwrap_or("")))
    }))
    .with_tools(|name, args| match name {
        "lookup" => (ToolStatus::Ok, [b"{\"args\":".as_slice(), args, b"}"].concat()),
        "big" => (ToolStatus::Ok, vec![b'x'; crate::TOOL_BUFFER + 1]),
        _ => (ToolStatus::Denied, format!("{} is not granted", name).into_bytes()),
    });
    h.set_now(Timestamp::from_unix_nanos(42));
    let out = h.handle(&[from("a", Performative::Request, "lookup"), from("a", Performative::Request, "secret"), from("a", Performative::Request, "big")]).unwrap();
    assert_eq!(out[0].content, br#"0:{"args":{"q":"x"}}"#);
    assert_eq!(out[1].content, b"2:secret is not granted");
    assert!(out[2].text().unwrap().starts_with("7:result of 1048577 bytes"));
    assert_eq!(h.logs()[0], (Level::Debug, "at 42".to_string()));
}

/// A bidder that prices `size` at 2 per unit, refuses "video" and reports
/// what it did.
struct Bidder2 {
    rejected: Vec<f64>,
}

impl Bidder for Bidder2 {
    fn bid(&mut self, cfp: &Message, _: &mut Context<'_>) -> Result<Bid> {
        let task = match json::parse(&cfp.content) {
            Ok(t) => t,
            Err(e) => return Ok(Bid::not_understood(e.to_string())),
        };
        if task.get("kind").and_then(Value::as_str) == Some("video") {
            return Ok(Bid::refuse("no GPU"));
        }
        let size = task.get("size").and_then(Value::as_f64).ok_or_else(|| Error::permanent("no size"))?;
        Ok(Offer::new(size * 2.0).with_detail(Value::object(vec![("by", Value::from("rust"))])).into())
    }

    fn execute(&mut self, cfp: &Message, _: &Message, offer: &Offer, _: &mut Context<'_>) -> Result<Vec<u8>> {
        if cfp.text().unwrap_or("").contains("doomed") {
            return Err(Error::retry("the disk is full"));
        }
        Ok(format!("done for {}", offer.cost).into_bytes())
    }

    fn rejected(&mut self, _: &Message, offer: &Offer, _: &mut Context<'_>) {
        self.rejected.push(offer.cost);
    }
}

fn cn(p: Performative, conv: &str, content: &str) -> Message {
    from("boss", p, content).with_conversation_id(conv).with_protocol(crate::contractnet::PROTOCOL).with_reply_with("rw")
}

#[test]
fn participant_speaks_contract_net() {
    let mut h = Harness::new(Participant::new(Bidder2 { rejected: vec![] }));
    let out = h.handle(&[cn(Performative::Cfp, "c1", r#"{"name":"t","size":3}"#)]).unwrap();
    assert_eq!(out[0].performative, Performative::Propose);
    assert_eq!(out[0].receivers, vec!["boss"]);
    assert_eq!((out[0].language.as_str(), out[0].in_reply_to.as_str(), out[0].protocol.as_str()), ("json", "rw", "fipa-contract-net"));
    assert_eq!(out[0].content, br#"{"cost":6,"detail":{"by":"rust"}}"#);
    assert_eq!(Offer::parse(&out[0].content).unwrap().cost, 6.0);
    assert_eq!(h.handler().open(), 1);

    let out = h.handle(&[cn(Performative::AcceptProposal, "c1", "")]).unwrap();
    assert_eq!((out[0].performative, out[0].content.as_slice()), (Performative::Inform, b"done for 6".as_slice()));
    assert_eq!(h.handler().open(), 0);
    let out = h.handle(&[cn(Performative::AcceptProposal, "c1", "")]).unwrap();
    assert_eq!(out[0].performative, Performative::NotUnderstood, "accepted twice");

    let out = h.handle(&[cn(Performative::Cfp, "c2", r#"{"kind":"video","size":1}"#), cn(Performative::Cfp, "c3", "not json")]).unwrap();
    assert_eq!((out[0].performative, out[0].text()), (Performative::Refuse, Some("no GPU")));
    assert_eq!(out[0].language, "text/plain");
    assert_eq!(out[1].performative, Performative::NotUnderstood);
    assert_eq!(h.handle(&[cn(Performative::Cfp, "c4", r#"{"name":"t"}"#)]), Err(Failed::Permanent), "a bid error is the handler's");

    h.handle(&[cn(Performative::Cfp, "c5", r#"{"size":1}"#), cn(Performative::Cfp, "c6", r#"{"size":2}"#)]).unwrap();
    assert!(h.handle(&[cn(Performative::RejectProposal, "c5", "")]).unwrap().is_empty(), "a reject is not answered");
    assert_eq!(h.handler().bidder().rejected, vec![2.0]);
    let out = h.handle(&[cn(Performative::Cancel, "c6", ""), cn(Performative::Cancel, "c6", "")]).unwrap();
    assert_eq!((out[0].performative, out[1].performative), (Performative::Inform, Performative::Failure));

    h.handle(&[cn(Performative::Cfp, "c7", r#"{"size":1,"name":"doomed"}"#)]).unwrap();
    let out = h.handle(&[cn(Performative::AcceptProposal, "c7", "")]).unwrap();
    assert_eq!((out[0].performative, out[0].text()), (Performative::Failure, Some("the disk is full")));
    let out = h.handle(&[cn(Performative::Inform, "c8", "")]).unwrap();
    assert_eq!(out[0].text(), Some("inform is not part of contract net for a participant"));
    assert!(h.handle(&[cn(Performative::NotUnderstood, "c9", "")]).unwrap().is_empty(), "not-understood is never answered");
}

#[test]
fn participant_forgets_expired_and_oldest_bids() {
    let mut h = Harness::new(Participant::new(Bidder2 { rejected: vec![] }).with_memory(Duration::from_secs(10)).with_max_open(2));
    let t0 = Timestamp::from_unix_nanos(1_000_000_000_000);
    h.set_now(t0);
    for conv in ["a", "b", "c"] {
        h.handle(&[cn(Performative::Cfp, conv, r#"{"size":1}"#)]).unwrap();
    }
    assert_eq!(h.handler().open(), 2, "the oldest went first");
    assert_eq!(h.handle(&[cn(Performative::AcceptProposal, "a", "")]).unwrap()[0].performative, Performative::NotUnderstood);
    h.set_now(t0.saturating_add(Duration::from_secs(11)));
    assert_eq!(h.handle(&[cn(Performative::AcceptProposal, "b", "")]).unwrap()[0].performative, Performative::NotUnderstood, "expired");
    let mut cfp = cn(Performative::Cfp, "d", r#"{"size":1}"#);
    cfp.reply_by = Some(t0.saturating_add(Duration::from_secs(60)));
    h.handle(&[cfp]).unwrap();
    h.set_now(t0.saturating_add(Duration::from_secs(65)));
    assert_eq!(h.handle(&[cn(Performative::AcceptProposal, "d", "")]).unwrap()[0].performative, Performative::Inform, "memory counts from reply-by");
}

#[test]
fn offers_parse_strictly() {
    assert_eq!(Offer::parse(br#"{"cost":1.5,"score":0.5,"detail":{"a":1}}"#).unwrap().score, 0.5);
    for bad in [&br#"{"cots":1}"#[..], br#"{"cost":"1"}"#, br#"{}"#, br#"[1]"#, br#"{"cost":1} x"#, br#"null"#] {
        assert!(Offer::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    assert!(Offer::new(f64::NAN).encode().is_err());
    assert_eq!(Offer::new(1.0).with_score(0.5).encode().unwrap(), br#"{"cost":1,"score":0.5}"#);
}
