//! The 22 FIPA communicative acts and message priorities.

use std::fmt;
use std::str::FromStr;

/// A FIPA communicative act: what a message does (informs, requests,
/// proposes ...). The ABI numbers them 1..22 in FIPA's alphabetical order.
///
/// `Unknown` holds a number outside 1..22. The host validates every message
/// it delivers, so a handler never sees one; the variant exists because a
/// decoder checks structure only (sandbox/ABI.md) and must not lose a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Performative {
    AcceptProposal,
    Agree,
    Cancel,
    Cfp,
    Confirm,
    Disconfirm,
    Failure,
    Inform,
    InformIf,
    InformRef,
    NotUnderstood,
    Propagate,
    Propose,
    Proxy,
    QueryIf,
    QueryRef,
    Refuse,
    RejectProposal,
    Request,
    RequestWhen,
    RequestWhenever,
    Subscribe,
    /// A number outside 1..22 (never delivered by the host; see above).
    Unknown(u8),
}

/// Every act, in ABI order (`ALL[i].code() == i + 1`).
pub const ALL: [Performative; 22] = [
    Performative::AcceptProposal,
    Performative::Agree,
    Performative::Cancel,
    Performative::Cfp,
    Performative::Confirm,
    Performative::Disconfirm,
    Performative::Failure,
    Performative::Inform,
    Performative::InformIf,
    Performative::InformRef,
    Performative::NotUnderstood,
    Performative::Propagate,
    Performative::Propose,
    Performative::Proxy,
    Performative::QueryIf,
    Performative::QueryRef,
    Performative::Refuse,
    Performative::RejectProposal,
    Performative::Request,
    Performative::RequestWhen,
    Performative::RequestWhenever,
    Performative::Subscribe,
];

const NAMES: [&str; 22] = [
    "accept-proposal",
    "agree",
    "cancel",
    "cfp",
    "confirm",
    "disconfirm",
    "failure",
    "inform",
    "inform-if",
    "inform-ref",
    "not-understood",
    "propagate",
    "propose",
    "proxy",
    "query-if",
    "query-ref",
    "refuse",
    "reject-proposal",
    "request",
    "request-when",
    "request-whenever",
    "subscribe",
];

impl Performative {
    /// The act numbered `code` on the wire (`Unknown` outside 1..22).
    pub fn from_code(code: u8) -> Performative {
        match code {
            1..=22 => ALL[usize::from(code) - 1],
            other => Performative::Unknown(other),
        }
    }

    /// The act's number on the wire.
    pub fn code(self) -> u8 {
        match self {
            Performative::Unknown(n) => n,
            known => ALL.iter().position(|p| *p == known).map_or(0, |i| i as u8 + 1),
        }
    }

    /// The FIPA name ("accept-proposal", ...), or "" for `Unknown`.
    pub fn name(self) -> &'static str {
        match self.code() {
            n @ 1..=22 => NAMES[usize::from(n) - 1],
            _ => "",
        }
    }

    /// Whether this is one of the 22 acts.
    pub fn is_known(self) -> bool {
        !matches!(self, Performative::Unknown(_))
    }
}

impl Default for Performative {
    /// `Inform`, so that `Message::default()` is a valid message once it has
    /// a receiver.
    fn default() -> Performative {
        Performative::Inform
    }
}

impl fmt::Display for Performative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Performative::Unknown(n) => write!(f, "performative({})", n),
            p => f.write_str(p.name()),
        }
    }
}

/// The error of parsing a name that is not one of the 22 acts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPerformative(pub String);

impl fmt::Display for UnknownPerformative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown performative {:?}", self.0)
    }
}

impl std::error::Error for UnknownPerformative {}

impl FromStr for Performative {
    type Err = UnknownPerformative;

    /// Parses a FIPA name ("inform", "accept-proposal"; case-insensitive).
    fn from_str(s: &str) -> Result<Performative, UnknownPerformative> {
        NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s))
            .map(|i| ALL[i])
            .ok_or_else(|| UnknownPerformative(s.to_string()))
    }
}

/// How urgently a message should be handled: a mailbox serves high before
/// normal before low.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    /// A value outside -1..1 (never delivered by the host).
    Unknown(i8),
}

impl Priority {
    /// The priority with wire value `v` (-1 low, 0 normal, 1 high).
    pub fn from_code(v: i8) -> Priority {
        match v {
            -1 => Priority::Low,
            0 => Priority::Normal,
            1 => Priority::High,
            other => Priority::Unknown(other),
        }
    }

    /// The wire value.
    pub fn code(self) -> i8 {
        match self {
            Priority::Low => -1,
            Priority::Normal => 0,
            Priority::High => 1,
            Priority::Unknown(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_parsing_agree() {
        for (i, p) in ALL.iter().enumerate() {
            assert_eq!(p.code() as usize, i + 1);
            assert_eq!(Performative::from_code(p.code()), *p);
            assert_eq!(p.name().parse::<Performative>().unwrap(), *p);
            assert_eq!(p.to_string(), p.name());
        }
        assert_eq!(Performative::Cfp.code(), 4);
        assert_eq!(Performative::Subscribe.code(), 22);
        assert_eq!(Performative::from_code(0), Performative::Unknown(0));
        assert_eq!(Performative::from_code(23).code(), 23);
        assert!("tell".parse::<Performative>().is_err());
        assert_eq!("Accept-Proposal".parse::<Performative>(), Ok(Performative::AcceptProposal));
    }

    #[test]
    fn priorities() {
        for v in -2i8..=2 {
            assert_eq!(Priority::from_code(v).code(), v);
        }
        assert_eq!(Priority::default(), Priority::Normal);
    }
}
