//! The guest side of a batch: decode, run the handler per message, keep
//! the outbox or discard it. Portable, so `testing::Harness` runs the very
//! same code natively; `export` binds it to the wasm exports.

use crate::abi::{self, DecodeError};
use crate::context::{Context, Host, Level, Outbox};
use crate::error::Result;
use crate::message::Message;

/// An agent: called once per inbound message, in order. State lives in
/// `self` and survives from batch to batch for as long as the instance
/// lives (a trap or an ABI violation replaces the instance, and the state
/// starts again from `export_agent!`'s expression).
///
/// Return `Ok(())` when the message is handled. An `Err` fails the whole
/// batch: nothing sent while handling it is delivered, and the host hands
/// the batch's messages back one at a time, retrying the failing one with
/// backoff — or dead-lettering it at once when the error is
/// `Error::permanent`. Delivery is at-least-once, so a retried message may
/// find state that earlier messages of the failed batch already changed.
pub trait Handler {
    fn handle(&mut self, msg: &Message, ctx: &mut Context<'_>) -> Result<()>;
}

impl<H: Handler + ?Sized> Handler for Box<H> {
    fn handle(&mut self, msg: &Message, ctx: &mut Context<'_>) -> Result<()> {
        (**self).handle(msg, ctx)
    }
}

/// A closure as a `Handler` (see `handler_fn`).
pub struct HandlerFn<F>(F);

/// Makes a closure the handler, for agents without state worth a type:
///
/// ```
/// use caxton::{handler_fn, Performative};
/// let echo = handler_fn(|m, ctx| ctx.reply(Performative::Inform, m.content.clone()));
/// # let _ = echo;
/// ```
pub fn handler_fn<F>(f: F) -> HandlerFn<F>
where
    F: FnMut(&Message, &mut Context<'_>) -> Result<()>,
{
    HandlerFn(f)
}

impl<F> Handler for HandlerFn<F>
where
    F: FnMut(&Message, &mut Context<'_>) -> Result<()>,
{
    fn handle(&mut self, msg: &Message, ctx: &mut Context<'_>) -> Result<()> {
        (self.0)(msg, ctx)
    }
}

/// The buffers that outlive a batch: the outbox (read by the host after
/// the call) and the tool-result buffer.
#[derive(Default)]
pub(crate) struct Runtime {
    pub(crate) outbox: Outbox,
    pub(crate) tool_buf: Vec<u8>,
}

impl Runtime {
    /// Handles one batch: returns 0 with the outbox (possibly empty) in
    /// `self.outbox`, or a negative ABI status with the outbox empty.
    pub(crate) fn dispatch(&mut self, handler: &mut dyn Handler, host: &mut dyn Host, batch: &[u8]) -> i64 {
        self.outbox.reset();
        let msgs = match abi::decode_batch(batch) {
            Ok(msgs) => msgs,
            Err(e @ DecodeError::Malformed(_)) => {
                host.log(Level::Error.code(), &format!("caxton: {}", e));
                return abi::STATUS_BAD_INPUT;
            }
            Err(e) => {
                host.log(Level::Warn.code(), &format!("caxton: {}; the message is refused", e));
                return abi::STATUS_PERMANENT;
            }
        };
        for m in &msgs {
            let mut ctx = Context { inbound: m, outbox: &mut self.outbox, host: &mut *host, tool_buf: &mut self.tool_buf };
            if let Err(e) = handler.handle(m, &mut ctx) {
                host.log(Level::Warn.code(), &format!("caxton: handler failed: {}", e));
                self.outbox.reset();
                return if e.is_permanent() { abi::STATUS_PERMANENT } else { abi::STATUS_FAILED };
            }
        }
        0
    }
}
