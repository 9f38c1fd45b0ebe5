//! Unit-testing agents natively (`cargo test` on the host, no wasm): a
//! `Harness` runs a handler over batches through the same code the wasm
//! exports use — the batch is encoded, decoded and dispatched, and the
//! outbox decoded — with a host whose clock, log and tools are values.
//!
//! ```
//! use caxton::testing::{Harness, Failed};
//! use caxton::{handler_fn, Error, Message, Performative};
//!
//! let mut h = Harness::new(handler_fn(|m, ctx| {
//!     if m.content.is_empty() {
//!         return Err(Error::permanent("empty request"));
//!     }
//!     ctx.info("echoing");
//!     ctx.reply(Performative::Inform, m.content.clone())
//! }));
//! let mut m = Message::new(Performative::Request).with_content("hi");
//! m.sender = "alice".into();
//! let out = h.handle(&[m.clone()]).unwrap();
//! assert_eq!(out[0].receivers, vec!["alice"]);
//! assert_eq!(out[0].content, b"hi");
//! assert_eq!(h.logs()[0].1, "echoing");
//! m.content.clear();
//! assert_eq!(h.handle(&[m]), Err(Failed::Permanent));
//! ```

use crate::abi;
use crate::context::{Host, Level};
use crate::message::{Message, Timestamp};
use crate::runtime::{Handler, Runtime};
use crate::tool::ToolStatus;

/// How a batch failed (the negative statuses of `caxton_handle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failed {
    /// -1: the batch could not be decoded.
    BadInput,
    /// -2: the handler failed; the host would retry.
    Retry,
    /// -3: the handler failed permanently; the host would dead-letter.
    Permanent,
}

type ToolFn = Box<dyn FnMut(&str, &[u8]) -> (ToolStatus, Vec<u8>)>;

struct FakeHost {
    now: i64,
    logs: Vec<(Level, String)>,
    tools: Option<ToolFn>,
}

impl Host for FakeHost {
    fn log(&mut self, level: i32, text: &str) {
        let level = match level {
            l if l < 0 => Level::Debug,
            l if l < 4 => Level::Info,
            l if l < 8 => Level::Warn,
            _ => Level::Error,
        };
        self.logs.push((level, text.to_string()));
    }

    fn now(&mut self) -> i64 {
        self.now
    }

    fn tool_call(&mut self, name: &str, args: &[u8], out: &mut [u8]) -> (u32, usize) {
        let (status, content) = match &mut self.tools {
            Some(f) => f(name, args),
            None => (ToolStatus::Unavailable, b"no toolbox".to_vec()),
        };
        let (status, content) = if content.len() > out.len() {
            (ToolStatus::TooLarge, format!("result of {} bytes exceeds the buffer of {}", content.len(), out.len()).into_bytes())
        } else {
            (status, content)
        };
        let n = content.len().min(out.len());
        out[..n].copy_from_slice(&content[..n]);
        (status.code(), n)
    }
}

/// Runs a handler natively, as the host would in the sandbox.
pub struct Harness<H> {
    handler: H,
    rt: Runtime,
    host: FakeHost,
}

impl<H: Handler> Harness<H> {
    /// A harness whose clock reads 2026-01-01T00:00:00Z, with no tools.
    pub fn new(handler: H) -> Harness<H> {
        Harness { handler, rt: Runtime::default(), host: FakeHost { now: 1_767_225_600_000_000_000, logs: Vec::new(), tools: None } }
    }

    /// Answers the agent's tool calls with `f(name, args)`: a status and
    /// the result (or the reason).
    pub fn with_tools(mut self, f: impl FnMut(&str, &[u8]) -> (ToolStatus, Vec<u8>) + 'static) -> Harness<H> {
        self.host.tools = Some(Box::new(f));
        self
    }

    /// Sets the host clock.
    pub fn set_now(&mut self, t: Timestamp) {
        self.host.now = t.unix_nanos();
    }

    /// Handles `msgs` as one batch and returns the outbox.
    pub fn handle(&mut self, msgs: &[Message]) -> Result<Vec<Message>, Failed> {
        self.handle_bytes(&abi::encode_batch(msgs))
    }

    /// Handles a batch given as bytes (to test malformed input).
    pub fn handle_bytes(&mut self, batch: &[u8]) -> Result<Vec<Message>, Failed> {
        match self.rt.dispatch(&mut self.handler, &mut self.host, batch) {
            0 if self.rt.outbox.count == 0 => Ok(Vec::new()),
            0 => Ok(abi::decode_batch(&self.rt.outbox.buf).expect("the SDK decodes its own outbox")),
            abi::STATUS_BAD_INPUT => Err(Failed::BadInput),
            abi::STATUS_PERMANENT => Err(Failed::Permanent),
            _ => Err(Failed::Retry),
        }
    }

    /// Everything logged so far, in order.
    pub fn logs(&self) -> &[(Level, String)] {
        &self.host.logs
    }

    pub fn handler(&self) -> &H {
        &self.handler
    }

    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }
}
