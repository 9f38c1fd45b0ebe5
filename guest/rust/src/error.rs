//! The error a handler returns: retry the message, or give up on it.

use std::fmt;

use crate::json;
use crate::message::InvalidMessage;
use crate::tool::ToolError;

/// A handler's failure. Everything the handler sent while handling the
/// batch is discarded either way; what differs is what the host does with
/// the message:
///
/// * `Error::retry` — a passing trouble (a tool timed out, a resource is
///   busy): the host retries the message with backoff and dead-letters it
///   after the agent's `MaxAttempts`.
/// * `Error::permanent` — retrying cannot help (the content is malformed,
///   the request is impossible): the message is dead-lettered at once.
///
/// `?` converts the SDK's own errors: a JSON parse error or an invalid
/// message is permanent; a tool error is a retry when the tool may succeed
/// later (timeout, rate limit, unavailable, its own error) and permanent
/// otherwise (denied, bad arguments, too large).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    permanent: bool,
    message: String,
}

impl Error {
    /// A failure worth retrying.
    pub fn retry(message: impl Into<String>) -> Error {
        Error { permanent: false, message: message.into() }
    }

    /// A failure not worth retrying: the message is dead-lettered at once.
    pub fn permanent(message: impl Into<String>) -> Error {
        Error { permanent: true, message: message.into() }
    }

    /// Whether the host should give up on the message without retrying.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// The text the host logs (and records in the dead letter).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.permanent {
            write!(f, "permanent failure: {}", self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for Error {}

impl From<json::Error> for Error {
    fn from(e: json::Error) -> Error {
        Error::permanent(e.to_string())
    }
}

impl From<InvalidMessage> for Error {
    fn from(e: InvalidMessage) -> Error {
        Error::permanent(e.to_string())
    }
}

impl From<ToolError> for Error {
    fn from(e: ToolError) -> Error {
        if e.is_retryable() {
            Error::retry(e.to_string())
        } else {
            Error::permanent(e.to_string())
        }
    }
}

/// The handler's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::ToolStatus;

    #[test]
    fn conversions_choose_retry_or_permanent() {
        assert!(!Error::retry("busy").is_permanent());
        assert!(Error::permanent("bad").is_permanent());
        assert_eq!(Error::permanent("bad").to_string(), "permanent failure: bad");
        assert!(Error::from(crate::json::parse(b"{").unwrap_err()).is_permanent());
        let tool = |status| ToolError { tool: "t".into(), status, reason: "r".into() };
        assert!(!Error::from(tool(ToolStatus::Timeout)).is_permanent());
        assert!(!Error::from(tool(ToolStatus::RateLimited)).is_permanent());
        assert!(Error::from(tool(ToolStatus::Denied)).is_permanent());
        assert!(Error::from(tool(ToolStatus::BadArguments)).is_permanent());
    }
}
