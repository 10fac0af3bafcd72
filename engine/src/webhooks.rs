//! Cal.com webhooks as hints. A delivery is authentic only if its
//! `X-Cal-Signature-256` is the HMAC-SHA256 of the raw body under the
//! organization's secret; its content is never trusted beyond naming which
//! bookings to re-read from the API. Replays are recognised by the body's
//! hash.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Triggers that can change whether an appointment is in sync.
pub const RELEVANT_TRIGGERS: &[&str] =
    &["BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED", "BOOKING_REJECTED", "BOOKING_REQUESTED"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing X-Cal-Signature-256 header")]
    MissingSignature,
    #[error("signature does not match")]
    BadSignature,
    #[error("body is not a Cal.com webhook: {0}")]
    Malformed(String),
}

/// What a delivery tells us to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHint {
    pub trigger: String,
    /// The booking the event is about.
    pub uid: Option<String>,
    /// On reschedules: the booking it replaced.
    pub previous_uid: Option<String>,
    /// Identifies the delivery, for ignoring replays.
    pub body_sha256: String,
}

impl WebhookHint {
    pub fn is_relevant(&self) -> bool {
        RELEVANT_TRIGGERS.contains(&self.trigger.as_str())
    }
}

/// Lower-case hex HMAC-SHA256 of `body` under `secret`, as Cal.com sends it.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    trigger_event: String,
    #[serde(default)]
    payload: Payload,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Payload {
    uid: Option<String>,
    reschedule_uid: Option<String>,
    #[serde(alias = "rescheduledFromUid")]
    from_reschedule: Option<String>,
}

/// Checks the signature (in constant time) and reads the hint.
pub fn authenticate(secret: &[u8], signature_header: Option<&str>, body: &[u8]) -> Result<WebhookHint, WebhookError> {
    let given = signature_header.ok_or(WebhookError::MissingSignature)?;
    if !crate::calcom::webhook::verify(secret, given, body) {
        return Err(WebhookError::BadSignature);
    }

    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    Ok(WebhookHint {
        trigger: envelope.trigger_event,
        uid: envelope.payload.uid,
        previous_uid: envelope.payload.reschedule_uid.or(envelope.payload.from_reschedule),
        body_sha256: hex::encode(Sha256::digest(body)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";

    fn body() -> Vec<u8> {
        br#"{"triggerEvent":"BOOKING_RESCHEDULED","createdAt":"2025-10-11T12:00:00Z","payload":{"uid":"new1","rescheduleUid":"old1","startTime":"2025-10-13T08:00:00Z","status":"ACCEPTED"}}"#.to_vec()
    }

    #[test]
    fn a_correctly_signed_delivery_yields_its_hint() {
        let body = body();
        let hint = authenticate(SECRET, Some(&signature(SECRET, &body)), &body).unwrap();
        assert_eq!(hint.trigger, "BOOKING_RESCHEDULED");
        assert_eq!(hint.uid.as_deref(), Some("new1"));
        assert_eq!(hint.previous_uid.as_deref(), Some("old1"));
        assert!(hint.is_relevant());
        assert_eq!(hint.body_sha256.len(), 64);
    }

    #[test]
    fn forged_missing_or_garbled_signatures_are_refused() {
        let body = body();
        assert_eq!(authenticate(SECRET, None, &body), Err(WebhookError::MissingSignature));
        assert_eq!(authenticate(SECRET, Some(&signature(b"other", &body)), &body), Err(WebhookError::BadSignature));
        assert_eq!(authenticate(SECRET, Some("zz"), &body), Err(WebhookError::BadSignature));
        let mut tampered = body.clone();
        tampered[20] ^= 1;
        assert_eq!(authenticate(SECRET, Some(&signature(SECRET, &body)), &tampered), Err(WebhookError::BadSignature));
    }

    #[test]
    fn signed_garbage_is_malformed_not_a_panic() {
        let body = b"not json";
        assert!(matches!(authenticate(SECRET, Some(&signature(SECRET, body)), body), Err(WebhookError::Malformed(_))));
    }

    #[test]
    fn the_signature_is_lowercase_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
