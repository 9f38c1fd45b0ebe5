//! Write Caxton agents in Rust. An agent is a WebAssembly module that the
//! Caxton host (a Go library) runs in its sandbox; it receives FIPA ACL
//! messages and sends messages back. This crate implements the guest side
//! of Guest ABI v1 (`sandbox/ABI.md` in the Caxton repository) byte by
//! byte: the host copies a batch of messages into the agent's memory and
//! calls it once, the agent's `Handler` runs once per message, and what it
//! sends collects in an outbox the host reads after the call — there is no
//! host call per send.
//!
//! A complete agent (a `cdylib` crate built for `wasm32-wasi`):
//!
//! ```
//! use caxton::{Context, Handler, Message, Performative, Result};
//!
//! /// Answers each message with how many it has seen.
//! #[derive(Default)]
//! struct Counter {
//!     seen: u64,
//! }
//!
//! impl Handler for Counter {
//!     fn handle(&mut self, msg: &Message, ctx: &mut Context<'_>) -> Result<()> {
//!         self.seen += 1;
//!         ctx.info(&format!("message {} from {}", self.seen, msg.sender));
//!         ctx.reply(Performative::Inform, self.seen.to_string())
//!     }
//! }
//!
//! caxton::export_agent!(Counter::default());
//! ```
//!
//! * `Handler` (or a closure through `handler_fn`) handles one message;
//!   `Error::retry` / `Error::permanent` say what the host does when it
//!   fails.
//! * `Message` is an owned ACL message with every field public, an enum of
//!   the 22 `Performative`s and builder methods (`Message::new(..).to(..)`,
//!   `msg.reply(..)`).
//! * `Context` sends and replies, logs to the host's logger, reads the
//!   runtime's clock and calls the host tools the agent is granted.
//! * `contractnet::Participant` speaks Contract Net for a `Bidder`.
//! * `json` is a small strict JSON value type (the crate has no
//!   dependencies, so it builds offline); `testing::Harness` runs a handler
//!   natively in `cargo test`.
//!
//! Build with Debian's toolchain (rustc 1.63 with the wasm32-wasi standard
//! library: `apt-get install rustc libstd-rust-dev-wasm32`):
//!
//! ```text
//! cargo build --release --target wasm32-wasi
//! ```
//!
//! with `crate-type = ["cdylib"]` and the release profile of this crate's
//! Cargo.toml (`panic = "abort"`, `lto`, `strip`). `export_agent!` makes the
//! module a reactor (it exports `_initialize`), as the host requires.

mod abi;
mod context;
pub mod contractnet;
mod error;
#[doc(hidden)]
pub mod export;
pub mod json;
mod message;
mod performative;
mod runtime;
pub mod testing;
mod tool;

#[cfg(test)]
mod testdata;
#[cfg(test)]
mod tests;

pub use abi::VERSION as ABI_VERSION;
pub use context::{Context, Level, TOOL_BUFFER};
pub use error::{Error, Result};
pub use message::{InvalidMessage, Message, MessageId, Timestamp};
pub use performative::{Performative, Priority, UnknownPerformative, ALL as PERFORMATIVES};
pub use runtime::{handler_fn, Handler, HandlerFn};
pub use tool::{ToolError, ToolResult, ToolStatus};

#[doc(hidden)]
pub use export as __export;
