//! Cal.com API v2 wire shapes (`cal-api-version: 2024-08-13`).
//!
//! Reading is tolerant: unknown fields are ignored, optional fields may be
//! missing or null, instants may carry any offset (they are converted to
//! UTC). Writing (the simulator's side) is exact: every field of the
//! contract is present, absent values are `null`, instants are
//! `2025-10-13T08:00:00.000Z` like Cal.com's.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The version whose shapes this module describes (bookings endpoints).
pub const API_VERSION: &str = "2024-08-13";
/// The bookings version that pages by cursor.
pub const API_VERSION_CURSOR: &str = "2026-05-01";
/// Cal.com serves event types under their own version.
pub const API_VERSION_EVENT_TYPES: &str = "2024-06-14";
/// The header that carries the version.
pub const VERSION_HEADER: &str = "cal-api-version";
/// The largest `take` Cal.com accepts, and its default.
pub const MAX_TAKE: u32 = 250;
pub const DEFAULT_TAKE: u32 = 100;
/// Cal.com's limit on booking metadata.
pub const MAX_METADATA_KEYS: usize = 50;

/// A booking's state in Cal.com.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatus {
    Accepted,
    Pending,
    Cancelled,
    Rejected,
}

impl BookingStatus {
    /// Accepted or pending: the meeting is going to happen.
    pub fn is_live(self) -> bool {
        matches!(self, BookingStatus::Accepted | BookingStatus::Pending)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub id: i64,
    pub uid: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub status: BookingStatus,
    #[serde(with = "instant")]
    pub start: DateTime<Utc>,
    #[serde(with = "instant")]
    pub end: DateTime<Utc>,
    /// Minutes.
    #[serde(default)]
    pub duration: i64,
    #[serde(default)]
    pub event_type_id: Option<i64>,
    #[serde(default)]
    pub event_type: Option<EventTypeRef>,
    #[serde(default)]
    pub hosts: Vec<Host>,
    #[serde(default)]
    pub attendees: Vec<Attendee>,
    #[serde(default)]
    pub guests: Vec<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub meeting_url: Option<String>,
    /// A string map when we wrote it; read as JSON values because other
    /// writers are not bound by that.
    #[serde(default)]
    pub metadata: BTreeMap<String, Value>,
    #[serde(default)]
    pub booking_fields_responses: Map<String, Value>,
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    #[serde(default)]
    pub cancelled_by_email: Option<String>,
    #[serde(default)]
    pub rescheduling_reason: Option<String>,
    #[serde(default)]
    pub rescheduled_from_uid: Option<String>,
    #[serde(default)]
    pub rescheduled_to_uid: Option<String>,
    /// Set on the occurrences of a recurring booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_booking_uid: Option<String>,
    #[serde(with = "instant")]
    pub created_at: DateTime<Utc>,
    /// Cal.com leaves this null on bookings never changed since creation.
    #[serde(default, with = "instant_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ics_uid: Option<String>,
    #[serde(default)]
    pub absent_host: bool,
    #[serde(default)]
    pub rating: Option<i64>,
}

impl Booking {
    /// When the booking last changed: `updatedAt`, or `createdAt` if it never did.
    pub fn last_change(&self) -> DateTime<Utc> {
        self.updated_at.unwrap_or(self.created_at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeRef {
    pub id: i64,
    #[serde(default)]
    pub slug: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Host {
    pub id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub absent: bool,
    #[serde(default)]
    pub phone_number: Option<String>,
}

/// `pagination` of an offset-paged listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub total_items: u64,
    pub remaining_items: u64,
    pub returned_items: u64,
    pub items_per_page: u64,
    pub current_page: u64,
    pub total_pages: u64,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

/// `pagination` of a cursor-paged listing (`cal-api-version: 2026-05-01`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CursorPagination {
    #[serde(default)]
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// One page of `GET /v2/bookings`.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingPage {
    pub bookings: Vec<Booking>,
    pub pagination: Pagination,
}

/// An event type as `GET /v2/event-types` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    pub id: i64,
    pub slug: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub length_in_minutes: i64,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub hidden: bool,
}

/// The body of `POST /v2/bookings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBooking {
    #[serde(with = "instant")]
    pub start: DateTime<Utc>,
    pub event_type_id: i64,
    pub attendee: NewAttendee,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub booking_fields_responses: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guests: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAttendee {
    pub name: String,
    pub email: String,
    pub time_zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The body of `POST /v2/bookings/{uid}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelBooking {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
}

/// The body of `POST /v2/bookings/{uid}/reschedule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RescheduleBooking {
    #[serde(with = "instant")]
    pub start: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescheduling_reason: Option<String>,
}

/// `"success"` or `"error"`, the first field of every answer.
pub const STATUS_SUCCESS: &str = "success";
pub const STATUS_ERROR: &str = "error";

/// `{"status": "success", "data": …}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub status: String,
    pub data: T,
}

/// `{"status": "success", "data": [...], "pagination": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PagedEnvelope<T, P> {
    pub status: String,
    pub data: Vec<T>,
    pub pagination: P,
}

/// `{"status": "error", "error": {"code": …, "message": …}}` (Cal.com also
/// sends when and where, which readers may ignore).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "instant_opt")]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub error: ApiError,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// Cal.com's instant format: UTC with milliseconds and `Z`.
pub fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Any RFC 3339 instant (any offset) as UTC.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|at| at.with_timezone(&Utc))
}

/// Serde for `DateTime<Utc>` fields in Cal.com's format.
pub mod instant {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_instant(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_instant(&text).map_err(|e| serde::de::Error::custom(format!("invalid instant {text:?}: {e}")))
    }
}

/// Serde for `Option<DateTime<Utc>>` fields (null when absent).
pub mod instant_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::instant::serialize(at, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => super::parse_instant(&text)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("invalid instant {text:?}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_are_written_like_calcom_and_read_with_any_offset() {
        let at = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        assert_eq!(format_instant(at), "2025-10-13T08:00:00.000Z");
        assert_eq!(parse_instant("2025-10-13T10:00:00+02:00").unwrap(), at);
    }

    #[test]
    fn bookings_tolerate_unknown_fields_and_missing_optionals() {
        let json = r#"{"id":7,"uid":"abc","status":"accepted","start":"2025-10-13T08:00:00.000Z",
            "end":"2025-10-13T08:30:00Z","createdAt":"2025-10-01T00:00:00Z","somethingNew":{"x":1}}"#;
        let booking: Booking = serde_json::from_str(json).unwrap();
        assert_eq!(booking.uid, "abc");
        assert_eq!(booking.updated_at, None);
        assert_eq!(booking.last_change(), booking.created_at);
        assert!(booking.attendees.is_empty());
    }

    #[test]
    fn an_unknown_status_is_an_error_not_a_guess() {
        let json = r#"{"id":7,"uid":"abc","status":"maybe","start":"2025-10-13T08:00:00Z",
            "end":"2025-10-13T08:30:00Z","createdAt":"2025-10-01T00:00:00Z"}"#;
        assert!(serde_json::from_str::<Booking>(json).is_err());
    }
}
