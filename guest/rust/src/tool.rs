//! Host tool calls (sandbox/ABI.md, "tool_call"): the outcome of every call
//! is a value, a denial included.

use std::fmt;

use crate::json;

/// How a tool call ended; the numbers are the ABI's (and Go's `tool.Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ToolStatus {
    /// The tool ran; the content is its result.
    Ok,
    /// The tool ran and reported an error (the content says which).
    ToolError,
    /// This agent's grant does not allow the tool.
    Denied,
    /// Over the grant's rate; try later.
    RateLimited,
    /// The call took longer than the grant's timeout.
    Timeout,
    /// No such tool, no toolbox, or the tool's server failed.
    Unavailable,
    /// Not a JSON object, against the tool's schema, or a bad name.
    BadArguments,
    /// The result is larger than the grant's limit or the guest's buffer.
    TooLarge,
    /// A status this SDK does not know (a newer host).
    Unknown(u32),
}

impl ToolStatus {
    /// The status with ABI number `n`.
    pub fn from_code(n: u32) -> ToolStatus {
        match n {
            0 => ToolStatus::Ok,
            1 => ToolStatus::ToolError,
            2 => ToolStatus::Denied,
            3 => ToolStatus::RateLimited,
            4 => ToolStatus::Timeout,
            5 => ToolStatus::Unavailable,
            6 => ToolStatus::BadArguments,
            7 => ToolStatus::TooLarge,
            other => ToolStatus::Unknown(other),
        }
    }

    /// The ABI number.
    pub fn code(self) -> u32 {
        match self {
            ToolStatus::Ok => 0,
            ToolStatus::ToolError => 1,
            ToolStatus::Denied => 2,
            ToolStatus::RateLimited => 3,
            ToolStatus::Timeout => 4,
            ToolStatus::Unavailable => 5,
            ToolStatus::BadArguments => 6,
            ToolStatus::TooLarge => 7,
            ToolStatus::Unknown(n) => n,
        }
    }

    /// Go's name for the status ("ok", "denied", "rate limited" ...).
    pub fn name(self) -> &'static str {
        match self {
            ToolStatus::Ok => "ok",
            ToolStatus::ToolError => "tool error",
            ToolStatus::Denied => "denied",
            ToolStatus::RateLimited => "rate limited",
            ToolStatus::Timeout => "timeout",
            ToolStatus::Unavailable => "unavailable",
            ToolStatus::BadArguments => "bad arguments",
            ToolStatus::TooLarge => "too large",
            ToolStatus::Unknown(_) => "unknown status",
        }
    }
}

impl fmt::Display for ToolStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolStatus::Unknown(n) => write!(f, "status {}", n),
            s => f.write_str(s.name()),
        }
    }
}

/// What a tool call returned: the result when the status is `Ok`,
/// otherwise the host's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolResult {
    pub tool: String,
    pub status: ToolStatus,
    pub content: Vec<u8>,
}

impl ToolResult {
    pub fn is_ok(&self) -> bool {
        self.status == ToolStatus::Ok
    }

    /// The content as text, if it is UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.content).ok()
    }

    /// The result, or a `ToolError` for any other status: for `?`.
    pub fn into_result(self) -> Result<Vec<u8>, ToolError> {
        if self.is_ok() {
            return Ok(self.content);
        }
        Err(ToolError { reason: String::from_utf8_lossy(&self.content).into_owned(), tool: self.tool, status: self.status })
    }

    /// The result parsed as JSON (a tool's structured result), or why not.
    pub fn json(self) -> Result<json::Value, crate::Error> {
        let content = self.into_result()?;
        Ok(json::parse(&content)?)
    }
}

/// A tool call that did not return a result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolError {
    pub tool: String,
    pub status: ToolStatus,
    /// The host's (or the tool's) reason.
    pub reason: String,
}

impl ToolError {
    /// Whether the same call may succeed later (timeout, rate limit,
    /// unavailable, or the tool's own error); a denial, bad arguments or an
    /// oversized result will not change by retrying.
    pub fn is_retryable(&self) -> bool {
        matches!(self.status, ToolStatus::ToolError | ToolStatus::RateLimited | ToolStatus::Timeout | ToolStatus::Unavailable)
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tool {}: {}: {}", self.tool, self.status, self.reason)
    }
}

impl std::error::Error for ToolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for n in 0..10 {
            assert_eq!(ToolStatus::from_code(n).code(), n);
        }
        assert_eq!(ToolStatus::Denied.to_string(), "denied");
    }

    #[test]
    fn results() {
        let ok = ToolResult { tool: "t".into(), status: ToolStatus::Ok, content: br#"{"a":1}"#.to_vec() };
        assert_eq!(ok.clone().json().unwrap().get("a").and_then(json::Value::as_f64), Some(1.0));
        assert_eq!(ok.into_result().unwrap(), br#"{"a":1}"#.to_vec());
        let denied = ToolResult { tool: "t".into(), status: ToolStatus::Denied, content: b"not granted".to_vec() };
        let e = denied.into_result().unwrap_err();
        assert_eq!(e.to_string(), "tool t: denied: not granted");
        assert!(!e.is_retryable());
    }
}
