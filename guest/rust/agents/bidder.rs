//! bidder: takes part in Contract Net with `contractnet::Participant`, like
//! the marketplace's Go bidder. A call's content is a task,
//! `{"name":"…","kind":"text"|"video","size":N}`; the bid is
//! `{"cost": RATE × size}`, where RATE comes from the environment variable
//! RATE if the host grants one (default 1). Video needs a GPU, which it
//! has only if GPU=yes is granted; otherwise it refuses. On acceptance it
//! reports "<name>: <size> units done by a Rust agent for <cost>".

use caxton::contractnet::{Bid, Bidder, Offer, Participant};
use caxton::json::{self, Value};
use caxton::{Context, Message, Result};

struct Task {
    name: String,
    kind: String,
    size: f64,
}

fn task(content: &[u8]) -> std::result::Result<Task, String> {
    let v = json::parse(content).map_err(|e| format!("not a task: {}", e))?;
    let name = v.get("name").and_then(Value::as_str).unwrap_or("").to_string();
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("text").to_string();
    let size = v.get("size").and_then(Value::as_f64).unwrap_or(0.0);
    if name.is_empty() || size <= 0.0 {
        return Err("task needs a name and a positive size".into());
    }
    Ok(Task { name, kind, size })
}

struct Rates {
    rate: f64,
    gpu: bool,
}

impl Bidder for Rates {
    fn bid(&mut self, cfp: &Message, _: &mut Context<'_>) -> Result<Bid> {
        let t = match task(&cfp.content) {
            Ok(t) => t,
            Err(why) => return Ok(Bid::not_understood(why)),
        };
        if t.kind == "video" && !self.gpu {
            return Ok(Bid::refuse("no GPU in this sandbox"));
        }
        Ok(Offer::new(self.rate * t.size).into())
    }

    fn execute(&mut self, cfp: &Message, _: &Message, offer: &Offer, _: &mut Context<'_>) -> Result<Vec<u8>> {
        let t = task(&cfp.content).map_err(caxton::Error::permanent)?; // parsed when bidding
        Ok(format!("{}: {} units done by a Rust agent for {:.2}", t.name, t.size, offer.cost).into_bytes())
    }
}

fn rates() -> Rates {
    let rate = std::env::var("RATE").ok().and_then(|r| r.parse().ok()).filter(|r: &f64| r.is_finite() && *r > 0.0);
    Rates { rate: rate.unwrap_or(1.0), gpu: std::env::var("GPU").as_deref() == Ok("yes") }
}

caxton::export_agent!(Participant::new(rates()));
