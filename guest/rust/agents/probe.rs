//! probe: the conformance suite's test agent (internal/conformance). It
//! does what the content says and answers `inform` to reply-to or sender:
//!
//!   fail            fails, worth retrying (nothing is answered)
//!   fatal           fails permanently
//!   log:TEXT        logs TEXT at info level; answers "logged"
//!   tool:NAME:ARGS  calls host tool NAME with the JSON ARGS; answers
//!                   "STATUS:RESULT"
//!   grow:N          allocates and touches N MiB, kept; answers "grew"
//!   spin            loops forever (until the deadline or the fuel ends)
//!   anything else   answers "ok:" and the content

use caxton::{Context, Error, Handler, Message, Performative, Result};

#[derive(Default)]
struct Probe {
    kept: Vec<Vec<u8>>,
}

impl Handler for Probe {
    fn handle(&mut self, m: &Message, ctx: &mut Context<'_>) -> Result<()> {
        let text = m.text().unwrap_or("");
        let (cmd, arg) = match text.find(':') {
            Some(i) => (&text[..i], &text[i + 1..]),
            None => (text, ""),
        };
        match cmd {
            "fail" => Err(Error::retry("asked to fail")),
            "fatal" => Err(Error::permanent("asked to fail for good")),
            "log" => {
                ctx.info(arg);
                ctx.reply(Performative::Inform, "logged")
            }
            "tool" => {
                let (name, args) = arg.split_once(':').unwrap_or((arg, "{}"));
                let r = ctx.tool_call_raw(name, args.as_bytes());
                ctx.reply(Performative::Inform, [format!("{}:", r.status.code()).as_bytes(), &r.content].concat())
            }
            "grow" => {
                let mib: usize = arg.parse().map_err(|_| Error::permanent("grow:N wants a number"))?;
                for _ in 0..mib {
                    self.kept.push(vec![1u8; 1 << 20]); // touched: vec! writes every byte
                }
                ctx.reply(Performative::Inform, "grew")
            }
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    // volatile, so the compiler cannot prove the loop useless
                    n = unsafe { std::ptr::read_volatile(&n) }.wrapping_add(1);
                }
            }
            _ => ctx.reply(Performative::Inform, format!("ok:{}", text)),
        }
    }
}

caxton::export_agent!(Probe::default());
