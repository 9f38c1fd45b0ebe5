//! counter: counts the messages it has received and answers each with an
//! `inform` whose content is the count so far, in decimal ("1", "2", ...).
//! The count lives in the handler, so it survives across batches for as
//! long as the instance lives (a trap or ABI violation replaces the
//! instance, which starts again from zero).

use caxton::{Context, Handler, Message, Performative, Result};

#[derive(Default)]
struct Counter {
    count: u64,
}

impl Handler for Counter {
    fn handle(&mut self, _: &Message, ctx: &mut Context<'_>) -> Result<()> {
        self.count += 1;
        ctx.reply(Performative::Inform, self.count.to_string())
    }
}

caxton::export_agent!(Counter::default());
