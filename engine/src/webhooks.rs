//! Cal.com webhooks as hints. A delivery is authentic only if its
//! `X-Cal-Signature-256` is the HMAC-SHA256 of the raw body under the
//! organization's secret (`calcom::webhook::check_signature`); its content
//! is never trusted beyond naming which bookings to re-read from the API.
//! Replays are recognised by the body's hash.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::calcom::model::parse_instant;
use crate::calcom::webhook::{check_signature, WebhookNames};
pub use crate::calcom::webhook::{Trigger, WebhookError};

/// What a delivery tells us to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHint {
    pub trigger: Trigger,
    /// As Cal.com spelled it (kept for the deliveries log, also when unknown).
    pub trigger_name: String,
    /// The booking the event is about.
    pub uid: Option<String>,
    /// On reschedules: the booking it replaced.
    pub previous_uid: Option<String>,
    /// The payload's `createdAt`: Cal.com's clock when it sent the event.
    pub sent_at: Option<DateTime<Utc>>,
    /// Identifies the delivery, for ignoring replays.
    pub body_sha256: String,
}

impl WebhookHint {
    pub fn is_relevant(&self) -> bool {
        self.trigger.changes_sync()
    }

    /// The bookings it names.
    pub fn uids(&self) -> impl Iterator<Item = &str> {
        [self.uid.as_deref(), self.previous_uid.as_deref()].into_iter().flatten()
    }
}

/// Checks the signature (in constant time) and reads the hint.
pub fn authenticate(secret: &[u8], signature_header: Option<&str>, body: &[u8]) -> Result<WebhookHint, WebhookError> {
    check_signature(secret, signature_header, body)?;
    let names: WebhookNames = serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    Ok(WebhookHint {
        trigger: Trigger::from_name(&names.trigger_event),
        trigger_name: names.trigger_event,
        uid: names.payload.uid.filter(|u| !u.is_empty()),
        previous_uid: names.payload.reschedule_uid.filter(|u| !u.is_empty()),
        sent_at: names.created_at.as_deref().and_then(|at| parse_instant(at).ok()),
        body_sha256: hex::encode(Sha256::digest(body)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calcom::webhook::sign;

    const SECRET: &[u8] = b"whsec_test";

    fn body() -> Vec<u8> {
        br#"{"triggerEvent":"BOOKING_RESCHEDULED","createdAt":"2025-10-11T12:00:00Z","payload":{"uid":"new1","rescheduleUid":"old1","startTime":"2025-10-13T08:00:00Z","status":"ACCEPTED"}}"#.to_vec()
    }

    #[test]
    fn a_correctly_signed_delivery_yields_its_hint() {
        let body = body();
        let hint = authenticate(SECRET, Some(&sign(SECRET, &body)), &body).unwrap();
        assert_eq!((hint.trigger, hint.trigger_name.as_str()), (Trigger::BookingRescheduled, "BOOKING_RESCHEDULED"));
        assert_eq!(hint.uids().collect::<Vec<_>>(), ["new1", "old1"]);
        assert_eq!(hint.sent_at, Some(parse_instant("2025-10-11T12:00:00Z").unwrap()));
        assert!(hint.is_relevant());
        assert_eq!(hint.body_sha256.len(), 64);
    }

    #[test]
    fn forged_missing_secretless_or_garbled_signatures_are_refused() {
        let body = body();
        assert_eq!(authenticate(SECRET, None, &body), Err(WebhookError::MissingSignature));
        assert_eq!(authenticate(SECRET, Some("no-secret-provided"), &body), Err(WebhookError::NoSecretProvided));
        assert_eq!(authenticate(SECRET, Some(&sign(b"other", &body)), &body), Err(WebhookError::BadSignature));
        assert_eq!(authenticate(SECRET, Some("zz"), &body), Err(WebhookError::BadSignature));
        let mut tampered = body.clone();
        tampered[20] ^= 1;
        assert_eq!(authenticate(SECRET, Some(&sign(SECRET, &body)), &tampered), Err(WebhookError::BadSignature));
    }

    #[test]
    fn signed_garbage_is_malformed_not_a_panic_and_odd_payloads_still_name_what_they_can() {
        let body = b"not json";
        assert!(matches!(authenticate(SECRET, Some(&sign(SECRET, body)), body), Err(WebhookError::Malformed(_))));
        let odd = br#"{"triggerEvent":"FORM_SUBMITTED","payload":null}"#;
        let hint = authenticate(SECRET, Some(&sign(SECRET, odd)), odd).unwrap();
        assert_eq!((hint.trigger, hint.uid.as_deref(), hint.sent_at), (Trigger::Other, None, None));
        assert!(!hint.is_relevant());
    }

    #[test]
    fn the_signature_is_lowercase_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
