//! echo: answers every message with an `inform` carrying the same content.

use caxton::{handler_fn, Performative};

caxton::export_agent!(handler_fn(|m, ctx| ctx.reply(Performative::Inform, m.content.clone())));
