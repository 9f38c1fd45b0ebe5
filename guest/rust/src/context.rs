//! What a handler gets with each message: the outbox and the host's
//! services (log, clock, tools).

use crate::abi;
use crate::error::Error;
use crate::json;
use crate::message::{Message, Timestamp};
use crate::performative::Performative;
use crate::tool::{ToolResult, ToolStatus};

/// Log levels; they are `slog` levels on the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    /// The `slog.Level` number the host's `log` import takes.
    pub fn code(self) -> i32 {
        match self {
            Level::Debug => -4,
            Level::Info => 0,
            Level::Warn => 4,
            Level::Error => 8,
        }
    }
}

/// The size of the buffer a tool's result is copied into: the host's
/// default result limit, 1 MiB (Go's `guest.ToolBuffer`). A larger result
/// comes back as `ToolStatus::TooLarge`. The buffer is allocated on the
/// first tool call and kept.
pub const TOOL_BUFFER: usize = 1 << 20;

/// The host imports (module "caxton"). The wasm build calls the real ones;
/// `testing::Harness` supplies its own.
pub(crate) trait Host {
    fn log(&mut self, level: i32, text: &str);
    fn now(&mut self) -> i64;
    /// Runs the tool, writing into `out`; returns the status and the bytes
    /// written.
    fn tool_call(&mut self, name: &str, args: &[u8], out: &mut [u8]) -> (u32, usize);
}

/// The outbox of the batch being handled: a batch's frames, built as the
/// handler sends, read by the host after the call.
#[derive(Default)]
pub(crate) struct Outbox {
    pub(crate) buf: Vec<u8>, // u32 count, then frames
    pub(crate) count: u32,
}

impl Outbox {
    pub(crate) fn reset(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.count = 0;
    }

    /// Appends m's frame; fails (without a partial frame) if memory runs out.
    fn push(&mut self, m: &Message) -> Result<(), Error> {
        if self.buf.is_empty() {
            self.reset();
        }
        if self.buf.try_reserve(abi::encoded_size(m)).is_err() {
            return Err(Error::retry("out of memory for the outbox"));
        }
        abi::append_message(&mut self.buf, m);
        self.count += 1;
        let count = self.count.to_le_bytes();
        self.buf[..4].copy_from_slice(&count);
        Ok(())
    }
}

/// The handler's view of the host while it handles one message: send and
/// reply (queued in the outbox, delivered when the batch succeeds), log,
/// the runtime's clock and the agent's tools. Valid only during the call.
pub struct Context<'a> {
    pub(crate) inbound: &'a Message,
    pub(crate) outbox: &'a mut Outbox,
    pub(crate) host: &'a mut dyn Host,
    pub(crate) tool_buf: &'a mut Vec<u8>,
}

impl<'a> Context<'a> {
    /// Queues `m` for sending when the batch succeeds. The host stamps the
    /// agent's name as sender and assigns the id and creation time. The SDK
    /// checks the performative and the receivers (naming the field); the
    /// host validates the rest and logs what it rejects.
    pub fn send(&mut self, m: Message) -> Result<(), Error> {
        self.send_ref(&m)
    }

    /// `send` without giving up the message.
    pub fn send_ref(&mut self, m: &Message) -> Result<(), Error> {
        m.validate()?;
        self.outbox.push(m)
    }

    /// Replies to the message being handled with `p` and `content`
    /// (`Message::reply` semantics: to `reply_to` or the sender, same
    /// conversation, `in_reply_to` = its `reply_with`).
    pub fn reply(&mut self, p: Performative, content: impl Into<Vec<u8>>) -> Result<(), Error> {
        let r = self.inbound.reply(p).with_content(content);
        if r.receivers.is_empty() {
            return Err(Error::permanent("cannot reply: the message has neither reply_to nor sender"));
        }
        self.send(r)
    }

    /// The message being handled.
    pub fn message(&self) -> &Message {
        self.inbound
    }

    /// Writes `text` to the host's log under the agent's name.
    pub fn log(&mut self, level: Level, text: &str) {
        if !text.is_empty() {
            self.host.log(level.code(), text);
        }
    }

    /// `log(Level::Debug, text)`.
    pub fn debug(&mut self, text: &str) {
        self.log(Level::Debug, text)
    }

    /// `log(Level::Info, text)`.
    pub fn info(&mut self, text: &str) {
        self.log(Level::Info, text)
    }

    /// `log(Level::Warn, text)`.
    pub fn warn(&mut self, text: &str) {
        self.log(Level::Warn, text)
    }

    /// `log(Level::Error, text)`.
    pub fn error(&mut self, text: &str) {
        self.log(Level::Error, text)
    }

    /// The runtime's clock (a fake clock in the host's tests).
    pub fn now(&mut self) -> Timestamp {
        Timestamp::from_unix_nanos(self.host.now())
    }

    /// Calls the host tool `name` (one the agent's grant allows) with a JSON
    /// object of arguments. Synchronous: the host runs it under its own
    /// timeout and gives the time back to the batch deadline. Every outcome
    /// is a value; `?` on `into_result()` or `json()` turns a failure into
    /// an `Error`.
    pub fn tool_call(&mut self, name: &str, args: &json::Value) -> ToolResult {
        self.tool_call_raw(name, args.to_string().as_bytes())
    }

    /// `tool_call` with the arguments' JSON text as it is.
    pub fn tool_call_raw(&mut self, name: &str, args: &[u8]) -> ToolResult {
        if self.tool_buf.len() < TOOL_BUFFER {
            let more = TOOL_BUFFER - self.tool_buf.len();
            if self.tool_buf.try_reserve_exact(more).is_err() {
                return ToolResult {
                    tool: name.to_string(),
                    status: ToolStatus::Unavailable,
                    content: b"the guest has no memory for its tool buffer".to_vec(),
                };
            }
            self.tool_buf.resize(TOOL_BUFFER, 0);
        }
        let (status, n) = self.host.tool_call(name, args, &mut self.tool_buf[..]);
        let n = n.min(self.tool_buf.len());
        ToolResult { tool: name.to_string(), status: ToolStatus::from_code(status), content: self.tool_buf[..n].to_vec() }
    }
}
