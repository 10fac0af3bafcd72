//! The JSON shapes the API sends, and the documented shapes it accepts.
//! Requests are parsed by `engine::appointments` (which names every bad
//! field); the request types here exist to document that format and must
//! keep to `engine::appointments::input`'s field list.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use engine::domain::{AppointmentSource, AppointmentStatus, ErrorCode, SyncStatus};
use engine::store::Appointment;
use serde::Serialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

/// A string schema listing the allowed spellings, taken from the domain
/// enums themselves so documentation and validation cannot drift apart.
fn strings(values: impl Iterator<Item = &'static str>) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).build()
}
fn nullable_strings(values: impl Iterator<Item = &'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
}
fn appointment_status() -> Object {
    strings(AppointmentStatus::ALL.iter().map(|s| s.as_str()))
}
fn appointment_source() -> Object {
    strings(AppointmentSource::ALL.iter().map(|s| s.as_str()))
}
fn sync_status() -> Object {
    strings(SyncStatus::ALL.iter().map(|s| s.as_str()))
}
fn error_code() -> Object {
    nullable_strings(ErrorCode::ALL.iter().map(|s| s.as_str()))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An appointment as the API returns it. Instants are UTC (RFC 3339, `Z`);
/// `time_zone` is where it takes place.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentBody {
    #[schema(example = 42)]
    pub id: i64,
    pub external_id: Option<String>,
    #[schema(example = "Tom Klein")]
    pub customer_name: String,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    #[schema(example = "Hairstyling - Herrenschnitt")]
    pub service: String,
    #[schema(example = "2025-10-13T08:00:00Z")]
    pub starts_at: String,
    #[schema(example = "2025-10-13T08:45:00Z")]
    pub ends_at: String,
    #[schema(example = "Europe/Berlin")]
    pub time_zone: String,
    #[schema(schema_with = appointment_status)]
    pub status: String,
    #[schema(schema_with = appointment_source)]
    pub source: String,
    pub calcom_booking_uid: Option<String>,
    pub calcom_event_type_id: Option<i64>,
    pub sync: SyncBody,
    pub created_at: String,
    pub updated_at: String,
}

/// What verification against Cal.com last concluded.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncBody {
    #[schema(schema_with = sync_status)]
    pub status: String,
    #[schema(schema_with = error_code)]
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    pub attempts: i64,
    pub last_verified_at: Option<String>,
    pub next_verification_at: Option<String>,
    pub requires_manual_review: bool,
}

impl From<&Appointment> for AppointmentBody {
    fn from(a: &Appointment) -> AppointmentBody {
        AppointmentBody {
            id: a.id.get(),
            external_id: a.external_id.clone(),
            customer_name: a.customer_name.clone(),
            customer_email: a.customer_email.clone(),
            customer_phone: a.customer_phone.clone(),
            service: a.service.clone(),
            starts_at: rfc3339(a.starts_at),
            ends_at: rfc3339(a.ends_at),
            time_zone: a.time_zone.name().to_owned(),
            status: a.status.as_str().to_owned(),
            source: a.source.as_str().to_owned(),
            calcom_booking_uid: a.calcom_booking_uid.clone(),
            calcom_event_type_id: a.calcom_event_type_id,
            sync: SyncBody {
                status: a.sync.status.as_str().to_owned(),
                error_code: a.sync.error_code.map(|c| c.as_str().to_owned()),
                error_detail: a.sync.error_detail.clone(),
                attempts: a.sync.attempts,
                last_verified_at: a.sync.last_verified_at.map(rfc3339),
                next_verification_at: a.sync.next_verification_at.map(rfc3339),
                requires_manual_review: a.sync.requires_manual_review,
            },
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

/// A new appointment. Unknown fields are rejected; strings are trimmed.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documentation only: the engine parses requests
pub struct CreateAppointment {
    /// At most 200 characters.
    #[schema(example = "Tom Klein")]
    pub customer_name: String,
    /// At most 254 characters.
    #[schema(example = "tom.klein@example.com")]
    pub customer_email: Option<String>,
    /// Digits, spaces and + - ( ) . / ; at most 32 characters.
    #[schema(example = "+49 123 456789")]
    pub customer_phone: Option<String>,
    /// At most 200 characters.
    #[schema(example = "Hairstyling - Herrenschnitt")]
    pub service: String,
    /// RFC 3339 with an offset.
    #[schema(example = "2025-10-13T10:00:00+02:00")]
    pub starts_at: String,
    /// RFC 3339 with an offset; after `starts_at`, at most 24 hours later.
    #[schema(example = "2025-10-13T10:45:00+02:00")]
    pub ends_at: String,
    /// IANA name; defaults to the organization's time zone.
    #[schema(example = "Europe/Berlin")]
    pub time_zone: Option<String>,
    /// Defaults to `scheduled`.
    #[schema(schema_with = appointment_status)]
    pub status: Option<String>,
    /// Defaults to `api`.
    #[schema(schema_with = appointment_source)]
    pub source: Option<String>,
    /// Letters, digits, - and _ ; at most 128 characters.
    pub calcom_booking_uid: Option<String>,
    /// A positive integer.
    pub calcom_event_type_id: Option<i64>,
    /// Your id for the appointment, unique per organization (at most 128
    /// characters). Sending it again returns the existing appointment (200)
    /// instead of creating a copy, so retries are safe.
    #[schema(example = "crm-1236")]
    pub external_id: Option<String>,
}

/// A partial change: only the fields present change; `null` clears an
/// optional field. `external_id` and `source` cannot change.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documentation only: the engine parses requests
pub struct PatchAppointment {
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub service: Option<String>,
    #[schema(example = "2025-10-13T11:00:00+02:00")]
    pub starts_at: Option<String>,
    #[schema(example = "2025-10-13T11:45:00+02:00")]
    pub ends_at: Option<String>,
    pub time_zone: Option<String>,
    #[schema(schema_with = appointment_status)]
    pub status: Option<String>,
    pub calcom_booking_uid: Option<String>,
    pub calcom_event_type_id: Option<i64>,
}

/// One page of appointments.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentPage {
    pub data: Vec<AppointmentBody>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The organization's sync picture.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncSummary {
    /// Appointments per sync state (every state is present).
    #[schema(example = json!({"synced": 120, "pending": 3, "failed": 1, "orphaned_local": 0, "orphaned_calcom": 0, "verification_pending": 2}))]
    pub by_status: BTreeMap<String, i64>,
    /// Appointments held locally.
    pub total: i64,
    pub requires_review: i64,
    /// Open review-queue issues per error code (every code is present).
    #[schema(example = json!({"ORPHANED_LOCAL": 0, "ORPHANED_CALCOM": 2, "DATA_MISMATCH": 1, "VERIFICATION_ERROR": 0, "CIRCUIT_OPEN": 0}))]
    pub open_issues: BTreeMap<String, i64>,
}
