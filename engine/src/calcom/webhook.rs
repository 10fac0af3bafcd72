//! Cal.com webhooks: the `X-Cal-Signature-256` header and the payload.
//!
//! The webhook payload is not the REST booking: it says `startTime` /
//! `endTime`, `organizer`, an upper-case `status`, `rescheduleUid` on
//! reschedules. Reading is tolerant (unknown fields ignored, most fields
//! optional); the simulator writes the same types.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Why a delivery is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing X-Cal-Signature-256 header")]
    MissingSignature,
    /// Cal.com's literal for a webhook configured without a secret.
    #[error("the webhook has no secret in Cal.com (signature \"no-secret-provided\")")]
    NoSecretProvided,
    #[error("signature does not match")]
    BadSignature,
    #[error("body is not a Cal.com webhook: {0}")]
    Malformed(String),
}

/// The signature header (HTTP header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-cal-signature-256";

/// What Cal.com sends in the signature header when the webhook has no
/// secret configured (`sendPayload.ts`): such a delivery cannot be told
/// from a forgery, so it is refused.
pub const NO_SECRET_PROVIDED: &str = "no-secret-provided";

/// Lower-case hex HMAC-SHA256 of the raw body under the webhook secret
/// (`createHmac("sha256", secret).update(body).digest("hex")` in Cal.com).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks the signature header: present, not `no-secret-provided`, and
/// `body`'s HMAC under `secret` (compared in constant time).
pub fn check_signature(secret: &[u8], header: Option<&str>, body: &[u8]) -> Result<(), WebhookError> {
    match header.map(str::trim) {
        None => Err(WebhookError::MissingSignature),
        Some(NO_SECRET_PROVIDED) => Err(WebhookError::NoSecretProvided),
        Some(given) if verify(secret, given, body) => Ok(()),
        Some(_) => Err(WebhookError::BadSignature),
    }
}

/// Whether `signature` (hex, either case) is `body`'s HMAC under `secret`.
/// The comparison takes the same time however many bytes match.
pub fn verify(secret: &[u8], signature: &str, body: &[u8]) -> bool {
    let Ok(given) = hex::decode(signature.trim()) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Checks the signature, then reads the event.
pub fn verify_and_parse(secret: &[u8], signature: Option<&str>, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    check_signature(secret, signature, body)?;
    serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))
}

/// The triggers calsync cares about; anything else reads as `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Trigger {
    BookingCreated,
    BookingRescheduled,
    BookingCancelled,
    BookingRejected,
    BookingRequested,
    BookingPaymentInitiated,
    MeetingEnded,
    #[serde(other)]
    Other,
}

impl Trigger {
    /// From the name Cal.com sends (`BOOKING_CANCELLED`); unknown ones are `Other`.
    pub fn from_name(name: &str) -> Trigger {
        serde_json::from_value(Value::String(name.to_owned())).unwrap_or(Trigger::Other)
    }

    /// Whether the event can change whether an appointment is in sync.
    pub fn changes_sync(self) -> bool {
        matches!(
            self,
            Trigger::BookingCreated
                | Trigger::BookingRescheduled
                | Trigger::BookingCancelled
                | Trigger::BookingRejected
                | Trigger::BookingRequested
        )
    }
}

/// Only what a delivery says about which bookings to look at, read
/// leniently: a webhook is a hint, never trusted beyond naming bookings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookNames {
    pub trigger_event: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "super::model::null_as_default")]
    pub payload: NamedBookings,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedBookings {
    #[serde(default)]
    pub uid: Option<String>,
    /// On BOOKING_RESCHEDULED: the booking this one replaced.
    #[serde(default, alias = "rescheduledFromUid", alias = "fromReschedule")]
    pub reschedule_uid: Option<String>,
}

/// A booking's status as webhooks spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WebhookStatus {
    Accepted,
    Pending,
    Cancelled,
    Rejected,
    AwaitingHost,
    #[serde(other)]
    Other,
}

impl From<&super::model::BookingStatus> for WebhookStatus {
    fn from(status: &super::model::BookingStatus) -> WebhookStatus {
        use super::model::BookingStatus as S;
        match status {
            S::Accepted => WebhookStatus::Accepted,
            S::Pending => WebhookStatus::Pending,
            S::Cancelled => WebhookStatus::Cancelled,
            S::Rejected => WebhookStatus::Rejected,
            S::AwaitingHost => WebhookStatus::AwaitingHost,
            S::Other(_) => WebhookStatus::Other,
        }
    }
}

/// `{"triggerEvent": …, "createdAt": …, "payload": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    pub trigger_event: Trigger,
    #[serde(with = "super::model::instant")]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub payload: WebhookPayload,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPayload {
    /// The event type's slug.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub event_type_slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "seconds_opt")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "seconds_opt")]
    pub end_time: Option<DateTime<Utc>>,
    /// Minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizer: Option<WebhookPerson>,
    #[serde(default)]
    pub attendees: Vec<WebhookPerson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WebhookStatus>,
    #[serde(default)]
    pub metadata: BTreeMap<String, Value>,
    #[serde(default)]
    pub responses: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// On BOOKING_RESCHEDULED: the booking this one replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "seconds_opt")]
    pub reschedule_start_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "seconds_opt")]
    pub reschedule_end_time: Option<DateTime<Utc>>,
}

/// Organizer or attendee as webhooks describe them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// `{"locale": "en"}` here, where the REST API has a plain string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<WebhookLanguage>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookLanguage {
    pub locale: String,
}

/// Webhook times are whole seconds (`2025-10-13T08:00:00Z`); read any RFC 3339.
mod seconds_opt {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Secs, true)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        crate::calcom::model::instant_opt::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";

    fn body() -> Vec<u8> {
        br#"{"triggerEvent":"BOOKING_RESCHEDULED","createdAt":"2025-10-11T12:00:00.000Z",
            "payload":{"type":"30min","uid":"new1","bookingId":9,"rescheduleUid":"old1","rescheduleId":8,
            "startTime":"2025-10-13T08:00:00Z","endTime":"2025-10-13T08:30:00Z","status":"ACCEPTED",
            "organizer":{"id":1,"name":"Host","email":"host@example.com","timeZone":"Europe/Berlin","language":{"locale":"en"}},
            "attendees":[{"name":"Ann","email":"ann@example.com","timeZone":"Europe/Berlin","language":{"locale":"de"}}],
            "somethingNew":true}}"#
            .to_vec()
    }

    #[test]
    fn a_signed_payload_verifies_and_parses() {
        let body = body();
        let event = verify_and_parse(SECRET, Some(&sign(SECRET, &body)), &body).unwrap();
        assert_eq!(event.trigger_event, Trigger::BookingRescheduled);
        assert_eq!(event.payload.uid.as_deref(), Some("new1"));
        assert_eq!(event.payload.reschedule_uid.as_deref(), Some("old1"));
        assert_eq!(event.payload.status, Some(WebhookStatus::Accepted));
        assert_eq!(event.payload.attendees[0].language.as_ref().map(|l| l.locale.as_str()), Some("de"));
    }

    #[test]
    fn upper_case_hex_is_accepted_and_tampering_is_not() {
        let body = body();
        let signature = sign(SECRET, &body);
        assert!(verify(SECRET, &signature.to_uppercase(), &body));
        assert!(!verify(b"other", &signature, &body));
        assert!(!verify(SECRET, "not hex", &body));
        let mut tampered = body.clone();
        tampered[3] ^= 1;
        assert!(!verify(SECRET, &signature, &tampered));
        assert_eq!(verify_and_parse(SECRET, None, &body), Err(WebhookError::MissingSignature));
        assert_eq!(check_signature(SECRET, Some("no-secret-provided"), &body), Err(WebhookError::NoSecretProvided));
    }

    #[test]
    fn unknown_triggers_and_statuses_do_not_break_parsing() {
        let body =
            br#"{"triggerEvent":"FORM_SUBMITTED","createdAt":"2025-10-11T12:00:00Z","payload":{"status":"WHATEVER"}}"#;
        let event: WebhookEvent = serde_json::from_slice(body).unwrap();
        assert_eq!(event.trigger_event, Trigger::Other);
        assert_eq!(event.payload.status, Some(WebhookStatus::Other));
    }

    #[test]
    fn times_are_written_in_whole_seconds() {
        let payload = WebhookPayload {
            start_time: Some(crate::calcom::model::parse_instant("2025-10-13T08:00:00Z").unwrap()),
            ..WebhookPayload::default()
        };
        let json = serde_json::to_value(&payload).unwrap();
        assert_eq!(json["startTime"], "2025-10-13T08:00:00Z");
        assert!(json.get("rescheduleUid").is_none(), "absent fields are left out");
    }
}
