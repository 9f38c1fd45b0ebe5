//! worker: does what it is asked. A `request` is answered with an `inform`
//! whose content is "done:" followed by the request's content (and logged);
//! anything else with `not-understood` whose content is the performative's
//! name.

use caxton::{handler_fn, Performative};

caxton::export_agent!(handler_fn(|m, ctx| {
    if m.performative != Performative::Request {
        return ctx.reply(Performative::NotUnderstood, m.performative.name());
    }
    ctx.info(&format!("working on {}", String::from_utf8_lossy(&m.content)));
    ctx.reply(Performative::Inform, [b"done:".as_slice(), &m.content].concat())
}));
