//! What can go wrong talking to Cal.com, split the way the sync rules need
//! it: only `NotFound` is evidence about a booking; `Unauthorized` is about
//! the organization's key; everything transient says nothing at all.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcomError {
    /// 404: Cal.com has no such booking (or event type).
    #[error("not found in Cal.com: {message}")]
    NotFound { message: String },
    /// 401/403: the API key is wrong, revoked or lacks permission.
    #[error("Cal.com rejected the API key (HTTP {status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// 429 that outlasted the client's retries (or asked for too long a wait).
    #[error("Cal.com rate limit exceeded (retry after {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx, or any other status Cal.com should never send.
    #[error("Cal.com server error (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    #[error("Cal.com did not answer in time")]
    Timeout,
    /// Connection refused, reset, DNS, TLS.
    #[error("cannot reach Cal.com: {0}")]
    Network(String),
    /// A 2xx whose body is not what the contract promises.
    #[error("unexpected answer from Cal.com: {0}")]
    Malformed(String),
    /// 400/409/422 and other 4xx: Cal.com understood and refused.
    #[error("Cal.com refused the request (HTTP {status}): {message}")]
    BadRequest { status: u16, message: String },
    /// The client could not be built (bad base URL, TLS setup).
    #[error("invalid Cal.com client configuration: {0}")]
    Config(String),
}

impl CalcomError {
    /// Errors that say nothing about Cal.com's data: try again later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CalcomError::RateLimited { .. }
                | CalcomError::Server { .. }
                | CalcomError::Timeout
                | CalcomError::Network(_)
                | CalcomError::Malformed(_)
        )
    }

    /// What happened, in words for the organization's admins: the status
    /// and a short reason, never a raw body (`Display` is the technical
    /// version, for logs and the "technical details" disclosure).
    pub fn summary(&self) -> String {
        match self {
            CalcomError::NotFound { .. } => "Cal.com has no such booking (HTTP 404)".into(),
            CalcomError::Unauthorized { status, .. } => format!("Cal.com refused the API key (HTTP {status})"),
            CalcomError::RateLimited { .. } => "Cal.com's rate limit for this API key was reached".into(),
            CalcomError::Server { status: status @ 502..=504, .. } => {
                format!("Cal.com was unavailable (HTTP {status}{})", reason(*status))
            }
            CalcomError::Server { status, .. } => {
                format!("Cal.com failed with an error of its own (HTTP {status}{})", reason(*status))
            }
            CalcomError::Timeout => "Cal.com did not answer in time".into(),
            CalcomError::Network(_) => "Could not reach Cal.com (network error)".into(),
            CalcomError::Malformed(_) => "Cal.com sent an answer calsync could not read".into(),
            CalcomError::BadRequest { status, message } => match prose(message) {
                Some(message) => format!("Cal.com refused the request (HTTP {status}): {message}"),
                None => format!("Cal.com refused the request (HTTP {status}{})", reason(*status)),
            },
            CalcomError::Config(_) => "The Cal.com connection is not configured correctly".into(),
        }
    }

    /// The error for a non-2xx, non-429 answer.
    pub(crate) fn from_status(status: u16, body: &[u8]) -> CalcomError {
        let message = error_message(body);
        match status {
            404 => CalcomError::NotFound { message },
            401 | 403 => CalcomError::Unauthorized { status, message },
            400..=499 => CalcomError::BadRequest { status, message },
            _ => CalcomError::Server { status, message },
        }
    }

    pub(crate) fn from_transport(error: reqwest::Error) -> CalcomError {
        if error.is_timeout() {
            CalcomError::Timeout
        } else if error.is_decode() {
            CalcomError::Malformed(error.to_string())
        } else if error.is_builder() {
            CalcomError::Config(error.to_string())
        } else {
            CalcomError::Network(error.to_string())
        }
    }
}

/// " Service Unavailable" for 503: the standard reason phrase, if any.
fn reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

/// Cal.com's own message, if it is words (its error envelope) rather than
/// a page a proxy answered with; without the exception class prefix.
fn prose(message: &str) -> Option<&str> {
    let text = message.split_once(": ").filter(|(code, _)| code.ends_with("Exception")).map_or(message, |(_, m)| m);
    let text = text.trim();
    (!text.is_empty() && !text.contains('<') && text.chars().count() <= MAX_RAW_MESSAGE).then_some(text)
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<serde_json::Value>,
}

/// Longest piece of a non-JSON error body kept in a message (proxies answer
/// outages with whole HTML pages).
const MAX_RAW_MESSAGE: usize = 200;

/// `code: message` from Cal.com's error envelope, or the start of the raw
/// body when it is something else.
fn error_message(body: &[u8]) -> String {
    if let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(body) {
        let message = match envelope.error.message {
            Some(serde_json::Value::String(text)) => text,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        return match envelope.error.code {
            Some(code) if !message.is_empty() => format!("{code}: {message}"),
            Some(code) => code,
            None => message,
        };
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(MAX_RAW_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_their_class() {
        let body =
            br#"{"status":"error","error":{"code":"NotFoundException","message":"Booking with uid=x was not found"}}"#;
        assert_eq!(
            CalcomError::from_status(404, body),
            CalcomError::NotFound { message: "NotFoundException: Booking with uid=x was not found".into() }
        );
        assert!(matches!(CalcomError::from_status(401, b""), CalcomError::Unauthorized { status: 401, .. }));
        assert!(matches!(CalcomError::from_status(403, b""), CalcomError::Unauthorized { status: 403, .. }));
        assert!(matches!(CalcomError::from_status(422, b""), CalcomError::BadRequest { status: 422, .. }));
        assert!(matches!(CalcomError::from_status(503, b"<html>down</html>"), CalcomError::Server { status: 503, .. }));
    }

    #[test]
    fn raw_bodies_are_shortened() {
        let body = "x".repeat(1000);
        let CalcomError::Server { message, .. } = CalcomError::from_status(502, body.as_bytes()) else {
            panic!("a 502 is a server error")
        };
        assert_eq!(message.chars().count(), MAX_RAW_MESSAGE + 1);
    }

    #[test]
    fn summaries_are_words_without_raw_bodies() {
        let outage =
            CalcomError::from_status(503, b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>");
        assert_eq!(outage.summary(), "Cal.com was unavailable (HTTP 503 Service Unavailable)");
        assert!(outage.to_string().contains("<html>"), "the technical text keeps the body: {outage}");
        let taken = CalcomError::from_status(
            400,
            br#"{"status":"error","error":{"code":"BadRequestException","message":"User either already has booking at this time or is not available"}}"#,
        );
        assert_eq!(
            taken.summary(),
            "Cal.com refused the request (HTTP 400): User either already has booking at this time or is not available"
        );
        assert_eq!(
            CalcomError::from_status(413, b"<html>too big</html>").summary(),
            "Cal.com refused the request (HTTP 413 Payload Too Large)"
        );
        assert_eq!(CalcomError::Timeout.summary(), "Cal.com did not answer in time");
    }

    #[test]
    fn only_noise_is_transient() {
        assert!(CalcomError::Timeout.is_transient());
        assert!(CalcomError::RateLimited { retry_after: None }.is_transient());
        assert!(!CalcomError::NotFound { message: String::new() }.is_transient());
        assert!(!CalcomError::Unauthorized { status: 401, message: String::new() }.is_transient());
    }
}
