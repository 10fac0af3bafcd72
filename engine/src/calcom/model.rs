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

/// A booking's state in Cal.com: its database enum lower-cased
/// (`output.service.ts`: `status.toLowerCase()`), so besides the four
/// documented values it can be `awaiting_host`, and a later Cal.com may add
/// more. An unknown status is kept as sent, never a decoding failure: the
/// verifier judges it conservatively (it proves nothing either way).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BookingStatus {
    Accepted,
    Pending,
    Cancelled,
    Rejected,
    /// A meeting waiting for its host: still going to happen.
    AwaitingHost,
    /// A status this calsync does not know, as Cal.com spelled it.
    Other(String),
}

impl BookingStatus {
    /// The spelling on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            BookingStatus::Accepted => "accepted",
            BookingStatus::Pending => "pending",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Rejected => "rejected",
            BookingStatus::AwaitingHost => "awaiting_host",
            BookingStatus::Other(text) => text,
        }
    }

    /// From the wire; case does not matter (the enum is upper-case in Cal.com's database).
    pub fn parse(text: &str) -> BookingStatus {
        match text.to_ascii_lowercase().as_str() {
            "accepted" => BookingStatus::Accepted,
            "pending" => BookingStatus::Pending,
            "cancelled" => BookingStatus::Cancelled,
            "rejected" => BookingStatus::Rejected,
            "awaiting_host" => BookingStatus::AwaitingHost,
            _ => BookingStatus::Other(text.to_owned()),
        }
    }

    /// Accepted, pending or awaiting its host: the meeting is going to happen.
    /// `None` for a status calsync does not know.
    pub fn is_live(&self) -> Option<bool> {
        match self {
            BookingStatus::Accepted | BookingStatus::Pending | BookingStatus::AwaitingHost => Some(true),
            BookingStatus::Cancelled | BookingStatus::Rejected => Some(false),
            BookingStatus::Other(_) => None,
        }
    }
}

impl Serialize for BookingStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BookingStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<BookingStatus, D::Error> {
        let text = String::deserialize(d)?;
        Ok(BookingStatus::parse(&text))
    }
}

/// One booking as `GET /v2/bookings…` sends it (`BookingOutput_2024_08_13`,
/// filled by `output.service.ts`). Cal.com drops `undefined` fields from
/// its answers and sends `null` for empty database columns, so every field
/// but the identity and the times may be missing or null here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub id: i64,
    pub uid: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub status: BookingStatus,
    #[serde(with = "instant")]
    pub start: DateTime<Utc>,
    #[serde(with = "instant")]
    pub end: DateTime<Utc>,
    /// Minutes (a luxon difference in Cal.com: not always whole).
    #[serde(default, deserialize_with = "whole_minutes")]
    pub duration: i64,
    /// Deprecated by Cal.com in favour of `eventType`; null for bookings
    /// whose event type was deleted.
    #[serde(default)]
    pub event_type_id: Option<i64>,
    #[serde(default)]
    pub event_type: Option<EventTypeRef>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub hosts: Vec<Host>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub attendees: Vec<Attendee>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub guests: Vec<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub meeting_url: Option<String>,
    /// A string map when we wrote it; read as JSON values because other
    /// writers are not bound by that.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: BTreeMap<String, Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub booking_fields_responses: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescheduling_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescheduled_from_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescheduled_to_uid: Option<String>,
    /// Set on the occurrences of a recurring booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_booking_uid: Option<String>,
    #[serde(with = "instant")]
    pub created_at: DateTime<Utc>,
    /// Null on rows older than Cal.com's `updatedAt` column (`DateTime?`).
    #[serde(default, with = "instant_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ics_uid: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub absent_host: bool,
    #[serde(default)]
    pub rating: Option<Value>,
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
    #[serde(default, deserialize_with = "null_as_default")]
    pub slug: String,
}

/// A host's id: a number, or the string `"unknown"` when the host's user no
/// longer exists (`output.service.ts` `getHost`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HostId {
    Number(i64),
    Text(String),
}

impl Default for HostId {
    fn default() -> HostId {
        HostId::Text(String::new())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Host {
    #[serde(default)]
    pub id: HostId,
    /// `users.name` is nullable in Cal.com.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl Host {
    /// What Cal.com sends for a booking whose host user was deleted.
    pub fn missing() -> Host {
        Host {
            id: HostId::Text("unknown".into()),
            name: None,
            email: Some("unknown".into()),
            username: Some("unknown".into()),
            time_zone: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Left out for seated bookings (privacy), so possibly empty.
    #[serde(default, deserialize_with = "null_as_default")]
    pub email: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub time_zone: String,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub absent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

/// `pagination` of an offset-paged listing. Readers must not depend on
/// `totalItems` being exact (keys with team booking permissions get an
/// estimate, or none, on full pages), so every field may be missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pagination {
    #[serde(deserialize_with = "null_as_default")]
    pub total_items: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub remaining_items: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub returned_items: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub items_per_page: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub current_page: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub total_pages: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub has_next_page: bool,
    #[serde(deserialize_with = "null_as_default")]
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

/// A row of a listing that could not be read as a booking: reported on
/// its own, so one odd booking never fails the rest of its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableBooking {
    /// Its `uid`, if that much could be read.
    pub uid: Option<String>,
    /// Its `start`, if that much could be read.
    pub start: Option<DateTime<Utc>>,
    /// What was wrong with it.
    pub problem: String,
}

/// One page of `GET /v2/bookings`.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingPage {
    pub bookings: Vec<Booking>,
    pub unreadable: Vec<UnreadableBooking>,
    pub pagination: Pagination,
    /// The answer's `Date` header: Cal.com's clock when it answered.
    pub server_time: Option<DateTime<Utc>>,
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

/// `{"status": "error", "timestamp": …, "path": …, "error": {"code": …,
/// "message": …, "details": …}}` (readers may ignore all but the error).
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// A null (or missing, with `#[serde(default)]`) field as its type's default.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A number of minutes, whole or not (Cal.com computes it with luxon).
fn whole_minutes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.map_or(0, |m| m.round() as i64))
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
    fn an_unknown_status_is_kept_as_sent_and_judged_neither_live_nor_dead() {
        let json = r#"{"id":7,"uid":"abc","status":"on_hold","start":"2025-10-13T08:00:00Z",
            "end":"2025-10-13T08:30:00Z","createdAt":"2025-10-01T00:00:00Z"}"#;
        let booking: Booking = serde_json::from_str(json).unwrap();
        assert_eq!(booking.status, BookingStatus::Other("on_hold".into()));
        assert_eq!(booking.status.is_live(), None);
        assert_eq!(serde_json::to_value(&booking.status).unwrap(), "on_hold");
        assert_eq!(BookingStatus::parse("AWAITING_HOST"), BookingStatus::AwaitingHost);
        assert_eq!(BookingStatus::AwaitingHost.is_live(), Some(true));
    }

    #[test]
    fn a_host_whose_user_is_gone_and_null_fields_are_read() {
        let json = r#"{"id":7,"uid":"abc","status":"awaiting_host","start":"2025-10-13T08:00:00Z",
            "end":"2025-10-13T08:30:00Z","createdAt":"2025-10-01T00:00:00Z","updatedAt":null,
            "title":null,"duration":29.5,"eventType":null,"eventTypeId":null,"guests":null,"metadata":null,
            "hosts":[{"id":"unknown","name":null,"email":"unknown","username":"unknown"},{"id":3,"name":null,"email":"h@x.de"}],
            "attendees":[{"name":"Ann","timeZone":"Europe/Berlin","absent":null,"language":null}]}"#;
        let booking: Booking = serde_json::from_str(json).unwrap();
        assert_eq!(booking.hosts[0], Host::missing());
        assert_eq!(booking.hosts[1].id, HostId::Number(3));
        assert_eq!(booking.hosts[1].name, None);
        assert_eq!(booking.attendees[0].email, "", "seated bookings leave the email out");
        assert_eq!((booking.duration, booking.title.as_str(), booking.updated_at), (30, "", None));
    }

    #[test]
    fn pagination_without_totals_reads_as_zero() {
        let p: Pagination =
            serde_json::from_str(r#"{"returnedItems":250,"hasNextPage":true,"totalItems":null}"#).unwrap();
        assert_eq!((p.total_items, p.returned_items, p.has_next_page), (0, 250, true));
    }
}
