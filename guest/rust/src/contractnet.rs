//! The participant side of FIPA Contract Net, as Go's
//! `contractnet.Participant` does it, so a Rust bidder and a Go one are
//! interchangeable: answer a call for proposals (`cfp`) with `propose` (an
//! `Offer` as JSON), `refuse` or `not-understood`; remember the proposal;
//! do the task when it is accepted and report `inform` (the result) or
//! `failure`; release it when rejected; answer `cancel`.
//!
//! ```
//! use caxton::contractnet::{Bid, Bidder, Offer, Participant};
//! use caxton::{json, Context, Message, Result};
//!
//! struct Translator;
//!
//! impl Bidder for Translator {
//!     fn bid(&mut self, cfp: &Message, _: &mut Context<'_>) -> Result<Bid> {
//!         let task = json::parse(&cfp.content)?;
//!         match task.get("words").and_then(json::Value::as_f64) {
//!             Some(words) => Ok(Offer::new(words * 0.02).into()),
//!             None => Ok(Bid::not_understood("no word count")),
//!         }
//!     }
//!
//!     fn execute(&mut self, _: &Message, _: &Message, offer: &Offer, _: &mut Context<'_>) -> Result<Vec<u8>> {
//!         Ok(format!("translated for {}", offer.cost).into_bytes())
//!     }
//! }
//!
//! let agent = Participant::new(Translator);
//! # let _ = agent;
//! // caxton::export_agent!(Participant::new(Translator));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::json::{self, Value};
use crate::message::{Message, Timestamp};
use crate::performative::Performative;
use crate::runtime::Handler;

/// The protocol name Contract Net messages carry.
pub const PROTOCOL: &str = "fipa-contract-net";

/// The standard content of a `propose`: what the bidder asks (`cost`) and
/// how good it claims to be (`score`), plus free-form `detail`. Every
/// bidder, in any language, sends the same JSON
/// (`{"cost":12.5,"score":0.9,"detail":{...}}`), so the host's selectors
/// compare them all.
#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    pub cost: f64,
    pub score: f64,
    pub detail: Option<Value>,
}

impl Offer {
    /// An offer at `cost`, no score, no detail.
    pub fn new(cost: f64) -> Offer {
        Offer { cost, score: 0.0, detail: None }
    }

    pub fn with_score(mut self, score: f64) -> Offer {
        self.score = score;
        self
    }

    pub fn with_detail(mut self, detail: Value) -> Offer {
        self.detail = Some(detail);
        self
    }

    /// The offer's JSON (score and detail omitted when unset, as Go does).
    /// Cost and score must be finite.
    pub fn encode(&self) -> std::result::Result<Vec<u8>, OfferError> {
        for (name, v) in [("cost", self.cost), ("score", self.score)] {
            if !v.is_finite() {
                return Err(OfferError(format!("offer {} {} is not a finite number", name, v)));
            }
        }
        let mut members = vec![("cost", Value::Number(self.cost))];
        if self.score != 0.0 {
            members.push(("score", Value::Number(self.score)));
        }
        if let Some(d) = &self.detail {
            members.push(("detail", d.clone()));
        }
        Ok(Value::object(members).to_bytes())
    }

    /// Reads a proposal's content, strictly (as Go's `ParseOffer`): an
    /// object with a numeric `cost`, optionally `score` and `detail`, and
    /// nothing else — a misspelt "cots" must not read as a free bid.
    pub fn parse(content: &[u8]) -> std::result::Result<Offer, OfferError> {
        let v = json::parse(content).map_err(|e| OfferError(format!("proposal content is not an offer: {}", e)))?;
        let members = v.as_object().ok_or_else(|| OfferError("proposal content is not a JSON object".into()))?;
        let mut o = Offer::new(0.0);
        let mut cost = None;
        for (k, v) in members {
            match (k.as_str(), v) {
                ("cost", Value::Number(n)) => cost = Some(*n),
                ("score", Value::Number(n)) => o.score = *n,
                ("score", Value::Null) => o.score = 0.0,
                ("detail", d) => o.detail = if d.is_null() { None } else { Some(d.clone()) },
                (k, _) if k == "cost" || k == "score" => return Err(OfferError(format!("offer {} is not a number", k))),
                (k, _) => return Err(OfferError(format!("unknown field {:?} in offer", k))),
            }
        }
        o.cost = cost.ok_or_else(|| OfferError("proposal content is not an offer: no cost".into()))?;
        Ok(o)
    }
}

/// Content that is not a valid offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferError(pub String);

impl fmt::Display for OfferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "contractnet: {}", self.0)
    }
}

impl std::error::Error for OfferError {}

impl From<OfferError> for Error {
    fn from(e: OfferError) -> Error {
        Error::permanent(e.to_string())
    }
}

/// A bidder's answer to a call for proposals.
#[derive(Clone, Debug, PartialEq)]
pub enum Bid {
    /// `propose` with this offer.
    Propose(Offer),
    /// `refuse`, with a reason the initiator sees.
    Refuse(String),
    /// `not-understood`: the call itself makes no sense to this bidder.
    NotUnderstood(String),
}

impl Bid {
    pub fn refuse(reason: impl Into<String>) -> Bid {
        Bid::Refuse(reason.into())
    }

    pub fn not_understood(reason: impl Into<String>) -> Bid {
        Bid::NotUnderstood(reason.into())
    }
}

impl From<Offer> for Bid {
    fn from(o: Offer) -> Bid {
        Bid::Propose(o)
    }
}

/// What a Contract Net participant decides; `Participant` does the rest of
/// the protocol.
pub trait Bidder {
    /// Answers a call for proposals. An `Err` is the handler's error (the
    /// call is retried, or dead-lettered if permanent), not an answer.
    fn bid(&mut self, cfp: &Message, ctx: &mut Context<'_>) -> Result<Bid>;

    /// Does the task once the proposal is accepted: `cfp` is the call bid
    /// on, `accept` the acceptance. `Ok(result)` is reported as `inform`
    /// with the result as content (empty: inform-done); `Err(e)` as
    /// `failure` with `e.message()`. Delivery is at-least-once: if the
    /// batch fails after this ran, the redelivered accept runs it again, so
    /// make it idempotent (`accept.id` identifies the accept).
    fn execute(&mut self, cfp: &Message, accept: &Message, offer: &Offer, ctx: &mut Context<'_>) -> Result<Vec<u8>>;

    /// Told when the proposal is rejected, to release what the bid reserved.
    fn rejected(&mut self, _reject: &Message, _offer: &Offer, _ctx: &mut Context<'_>) {}

    /// Told when the initiator cancels before deciding; `Err` is reported
    /// as `failure`, `Ok` as inform-done.
    fn cancelled(&mut self, _cancel: &Message, _offer: &Offer, _ctx: &mut Context<'_>) -> Result<()> {
        Ok(())
    }
}

struct OpenBid {
    seq: u64,
    cfp: Message,
    offer: Offer,
    expires: Timestamp,
}

/// A `Handler` that speaks Contract Net for a `Bidder`. Its memory of open
/// proposals is keyed by conversation and initiator and bounded: a proposal
/// is forgotten `memory` (default one hour) after its call's reply-by, and
/// beyond `max_open` (default 10,000) the oldest go first.
pub struct Participant<B> {
    bidder: B,
    memory: Duration,
    max_open: usize,
    open: HashMap<(String, String), OpenBid>,
    seq: u64,
    next_sweep: Option<Timestamp>,
}

impl<B: Bidder> Participant<B> {
    pub fn new(bidder: B) -> Participant<B> {
        Participant { bidder, memory: Duration::from_secs(3600), max_open: 10_000, open: HashMap::new(), seq: 0, next_sweep: None }
    }

    /// How long past its call's reply-by a proposal waits for an answer.
    pub fn with_memory(mut self, d: Duration) -> Participant<B> {
        self.memory = d;
        self
    }

    /// The most proposals remembered at once (at least 1).
    pub fn with_max_open(mut self, n: usize) -> Participant<B> {
        self.max_open = n.max(1);
        self
    }

    /// How many proposals await an answer.
    pub fn open(&self) -> usize {
        self.open.len()
    }

    pub fn bidder(&self) -> &B {
        &self.bidder
    }

    pub fn bidder_mut(&mut self) -> &mut B {
        &mut self.bidder
    }

    fn key(m: &Message) -> (String, String) {
        (m.conversation_id.clone(), m.sender.clone())
    }

    fn take(&mut self, key: &(String, String), now: Timestamp) -> Option<OpenBid> {
        let b = self.open.remove(key)?;
        if now > b.expires {
            return None;
        }
        Some(b)
    }

    fn remember(&mut self, key: (String, String), cfp: &Message, offer: Offer, now: Timestamp) {
        let from = cfp.reply_by.filter(|t| *t > now).unwrap_or(now);
        let seq = match self.open.get(&key) {
            Some(old) => old.seq, // a new round of an iterated call keeps its place
            None => {
                self.seq += 1;
                self.seq
            }
        };
        self.open.insert(key, OpenBid { seq, cfp: cfp.clone(), offer, expires: from.saturating_add(self.memory) });
        if self.open.len() > self.max_open || self.next_sweep.map_or(true, |t| now >= t) {
            self.open.retain(|_, b| now <= b.expires);
            while self.open.len() > self.max_open {
                let oldest = self.open.iter().min_by_key(|(_, b)| b.seq).map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => self.open.remove(&k),
                    None => break,
                };
            }
            self.next_sweep = Some(now.saturating_add(Duration::from_secs(60)));
        }
    }

    fn bid(&mut self, m: &Message, ctx: &mut Context<'_>) -> Result<()> {
        let key = Self::key(m);
        let now = ctx.now();
        match self.bidder.bid(m, ctx)? {
            Bid::Refuse(reason) => {
                self.take(&key, now); // a refusal in a later round withdraws the earlier bid
                reply_reason(ctx, m, Performative::Refuse, &reason)
            }
            Bid::NotUnderstood(reason) => {
                self.take(&key, now);
                reply_not_understood(ctx, m, &reason)
            }
            Bid::Propose(offer) => {
                let content = match offer.encode() {
                    Ok(c) => c,
                    Err(e) => {
                        self.take(&key, now);
                        return reply_reason(ctx, m, Performative::Refuse, &e.to_string());
                    }
                };
                let mut r = m.reply(Performative::Propose).with_content(content);
                r.language = "json".into();
                r.encoding.clear();
                ctx.send(r)?;
                self.remember(key, m, offer, now);
                Ok(())
            }
        }
    }
}

impl<B: Bidder> Handler for Participant<B> {
    fn handle(&mut self, m: &Message, ctx: &mut Context<'_>) -> Result<()> {
        match m.performative {
            Performative::Cfp => self.bid(m, ctx),
            Performative::AcceptProposal => {
                // Forgotten only once the report is queued: if the batch
                // fails, the redelivered accept finds the bid again.
                let key = Self::key(m);
                let now = ctx.now();
                let found = self.open.get(&key).filter(|b| now <= b.expires).map(|b| (b.cfp.clone(), b.offer.clone()));
                let (cfp, offer) = match found {
                    Some(x) => x,
                    None => return reply_not_understood(ctx, m, "no open proposal in this conversation"),
                };
                match self.bidder.execute(&cfp, m, &offer, ctx) {
                    Ok(result) => ctx.send(m.reply(Performative::Inform).with_content(result))?,
                    Err(e) => reply_reason(ctx, m, Performative::Failure, e.message())?,
                }
                self.open.remove(&key);
                Ok(())
            }
            Performative::RejectProposal => {
                let now = ctx.now();
                if let Some(b) = self.take(&Self::key(m), now) {
                    self.bidder.rejected(m, &b.offer, ctx);
                }
                Ok(())
            }
            Performative::Cancel => {
                let now = ctx.now();
                let b = match self.take(&Self::key(m), now) {
                    Some(b) => b,
                    None => return reply_reason(ctx, m, Performative::Failure, "no open proposal in this conversation"),
                };
                match self.bidder.cancelled(m, &b.offer, ctx) {
                    Ok(()) => ctx.send(m.reply(Performative::Inform)),
                    Err(e) => reply_reason(ctx, m, Performative::Failure, e.message()),
                }
            }
            other => reply_not_understood(ctx, m, &format!("{} is not part of contract net for a participant", other)),
        }
    }
}

/// Answers `m` with `p` and a plain-text reason (as Go's
/// `protocol.ReplyReason`).
pub fn reply_reason(ctx: &mut Context<'_>, m: &Message, p: Performative, reason: &str) -> Result<()> {
    let mut r = m.reply(p).with_content(reason);
    r.language = "text/plain".into();
    r.encoding.clear();
    r.ontology.clear();
    ctx.send(r)
}

/// Answers `m` with not-understood and a reason — except a not-understood,
/// or a message nobody can be answered for, so two agents that do not
/// understand each other do not loop.
pub fn reply_not_understood(ctx: &mut Context<'_>, m: &Message, reason: &str) -> Result<()> {
    if m.performative == Performative::NotUnderstood || (m.reply_to.is_empty() && m.sender.is_empty()) {
        return Ok(());
    }
    reply_reason(ctx, m, Performative::NotUnderstood, reason)
}
