//! The JSON shapes the API sends, and the documented shapes it accepts.
//! Requests are parsed by `engine::appointments` (which names every bad
//! field); the request schemas here are built from its `LIMITS` and
//! `patterns`, and must keep to `engine::appointments::input`'s field list.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use engine::appointments::{patterns, LIMITS};
use engine::domain::{AppointmentSource, AppointmentStatus, ErrorCode, SyncStatus};
use engine::ops::appointments::Appointment;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A string schema listing the allowed spellings, taken from the domain
/// enums themselves so documentation and validation cannot drift apart.
fn strings(values: impl Iterator<Item = &'static str>) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).build()
}
fn nullable_strings(values: impl Iterator<Item = &'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .enum_values(Some(std::iter::once(Value::Null).chain(values.map(Value::from))))
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

/// The `x-calsync-rules` extension: rules between fields that JSON Schema
/// cannot state, in a form a schema-driven client can act on. `after`:
/// the field's instant is later than `other`'s; `within`: at most
/// `seconds` later than `other`'s.
pub fn appointment_rules() -> Value {
    json!([
        {"field": "ends_at", "rule": "after", "other": "starts_at"},
        {"field": "ends_at", "rule": "within", "other": "starts_at", "seconds": LIMITS.max_duration_hours * 3600},
    ])
}

const TRIMMED: &str = "Surrounding whitespace is trimmed";
const BLANK: &str = "blank or `null` means none";

fn nullable(t: Type) -> SchemaType {
    SchemaType::from_iter([t, Type::Null])
}

/// A string property: `max` characters as sent, matching `pattern`.
fn text(description: &str, max: usize, pattern: String, nullable_: bool) -> ObjectBuilder {
    let schema_type = if nullable_ { nullable(Type::String) } else { SchemaType::new(Type::String) };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
        .max_length(Some(max))
        .pattern(Some(pattern))
}

fn required_text(description: &str, max: usize, example: &str) -> Object {
    text(&format!("{description} Not blank. {TRIMMED}."), max, patterns::required_text(), false)
        .min_length(Some(1))
        .examples([example])
        .build()
}

fn instant(description: &str, example: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .description(Some(format!(
            "RFC 3339 date-time with an offset ({description}). Kept to the millisecond: finer digits are \
             dropped before the rules apply."
        )))
        .min_length(Some(1))
        .max_length(Some(INSTANT_MAX))
        .examples([example])
        .build()
}

/// What `validate_new` reads an instant, a time zone or an enum from.
const INSTANT_MAX: usize = 64;

fn time_zone(description: &str) -> Object {
    let names = std::iter::once(Value::Null)
        .chain(std::iter::once(json!("")))
        .chain(chrono_tz::TZ_VARIANTS.iter().map(|tz| json!(tz.name())));
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .description(Some(format!("An IANA time zone name; {description}")))
        .enum_values(Some(names))
        .examples(["Europe/Berlin"])
        .build()
}

fn enum_of(description: &str, values: impl Iterator<Item = &'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!("{description} Not `null`.")))
        .enum_values(Some(values))
        .build()
}

fn event_type_id() -> Object {
    ObjectBuilder::new()
        .schema_type(nullable(Type::Integer))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .description(Some("The Cal.com event type: a positive integer; `null` means none."))
        .minimum(Some(1))
        .maximum(Some(i64::MAX))
        .build()
}

/// The fields both formats share, in the engine's order.
fn common_fields(object: ObjectBuilder, patch: bool) -> ObjectBuilder {
    let after = if patch { " the appointment after the change" } else { "" };
    object
        .property("customer_name", required_text("The customer's name.", LIMITS.name, "Tom Klein"))
        .property(
            "customer_email",
            text(
                &format!(
                    "An email address: one `@` with text before it, a domain containing a dot not at \
                    either end, no whitespace; {BLANK}. {TRIMMED}."
                ),
                LIMITS.email,
                patterns::email(),
                true,
            )
            .examples(["tom.klein@example.com"])
            .build(),
        )
        .property(
            "customer_phone",
            text(
                &format!("Digits, spaces and `+ - ( ) . /`, at least three digits; {BLANK}. {TRIMMED}."),
                LIMITS.phone,
                patterns::phone(),
                true,
            )
            .examples(["+49 123 456789"])
            .build(),
        )
        .property("service", required_text("What is booked.", LIMITS.service, "Hairstyling - Herrenschnitt"))
        .property("starts_at", instant("the start", "2025-10-13T10:00:00+02:00"))
        .property(
            "ends_at",
            instant(
                &format!("the end: after `starts_at`, at most {} hours later{after}", LIMITS.max_duration_hours),
                "2025-10-13T10:45:00+02:00",
            ),
        )
        .property(
            "time_zone",
            time_zone(if patch {
                "blank or `null` keeps the current one"
            } else {
                "blank or `null` means the organization's time zone"
            }),
        )
        .property(
            "status",
            enum_of(
                if patch { "The appointment's status." } else { "The appointment's status; absent means `scheduled`." },
                AppointmentStatus::ALL.iter().map(|s| s.as_str()),
            ),
        )
}

fn booking_fields(object: ObjectBuilder) -> ObjectBuilder {
    object
        .property(
            "calcom_booking_uid",
            text(
                &format!("The Cal.com booking's uid: ASCII letters, digits, `-` and `_`; {BLANK}. {TRIMMED}."),
                LIMITS.booking_uid,
                patterns::booking_uid(),
                true,
            )
            .build(),
        )
        .property("calcom_event_type_id", event_type_id())
}

fn closed(object: ObjectBuilder, description: String) -> Object {
    object
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .extensions(Some(ExtensionsBuilder::new().add("x-calsync-rules", appointment_rules()).build()))
        .build()
}

/// A new appointment, documented from `engine::appointments` (which parses
/// requests): every constraint it enforces is stated here.
pub struct CreateAppointment;

impl PartialSchema for CreateAppointment {
    fn schema() -> RefOr<Schema> {
        let object = common_fields(ObjectBuilder::new().schema_type(Type::Object), false).property(
            "source",
            enum_of(
                "The channel the appointment came through; absent means `api`.",
                AppointmentSource::ALL.iter().map(|s| s.as_str()),
            ),
        );
        let object = booking_fields(object)
            .property(
                "external_id",
                text(
                    &format!(
                        "Your id for the appointment, unique per organization; {BLANK}. Sending it again \
                        returns the existing appointment (200) instead of creating a copy, so retries are safe. \
                        {TRIMMED}."
                    ),
                    LIMITS.external_id,
                    patterns::optional_text(),
                    true,
                )
                .examples(["crm-1236"])
                .build(),
            )
            .required("customer_name")
            .required("service")
            .required("starts_at")
            .required("ends_at");
        let description = format!(
            "A new appointment. Unknown fields are refused. Strings are trimmed of surrounding whitespace; \
             lengths count the string as sent. `ends_at` must be after `starts_at` and at most {} hours \
             later (`x-calsync-rules`).",
            LIMITS.max_duration_hours
        );
        RefOr::T(Schema::Object(closed(object, description)))
    }
}

impl ToSchema for CreateAppointment {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CreateAppointment")
    }
}

/// A partial change, validated by the create rules after it is merged into
/// the current appointment.
pub struct PatchAppointment;

impl PartialSchema for PatchAppointment {
    fn schema() -> RefOr<Schema> {
        let object = booking_fields(common_fields(ObjectBuilder::new().schema_type(Type::Object), true));
        let description = format!(
            "A partial change: only the fields present change; `null` or blank clears an optional field \
             (`time_zone`: keeps it). `external_id` and `source` cannot change, other unknown fields are \
             refused. The appointment after the change must keep the rules of a new one: `ends_at` after \
             `starts_at` and at most {} hours later (`x-calsync-rules`).",
            LIMITS.max_duration_hours
        );
        RefOr::T(Schema::Object(closed(object, description)))
    }
}

impl ToSchema for PatchAppointment {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PatchAppointment")
    }
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
