//! /api/v1/appointments: create (idempotent by `external_id`), list, read,
//! change and re-verify the caller's organization's appointments.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use engine::appointments::{validate_new, FieldError, FieldErrors};
use engine::domain::{AppointmentId, AppointmentSource, SortKey, SyncStatus};
use engine::ops::appointments::{AppointmentFilter, Created, PageCursor};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::Required;
use utoipa::IntoParams;

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::extract::{IdPath, JsonBody, QueryParams};
use super::schema::{AppointmentBody, AppointmentPage, CreateAppointment, PatchAppointment};
use crate::state::AppState;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;
const MAX_SEARCH_LEN: usize = 200;

/// Create an appointment. It starts `pending`, due for its first verification at once.
#[utoipa::path(
    post, path = "/appointments", tag = "appointments", operation_id = "createAppointment",
    request_body(content = CreateAppointment, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = AppointmentBody),
        (status = 200, description = "An appointment with this `external_id` already exists; it is returned unchanged", body = AppointmentBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields, all named", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    caller: ApiCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<AppointmentBody>), ApiError> {
    let new = validate_new(&body, caller.org.time_zone, AppointmentSource::Api)?;
    Ok(match state.ops.create_appointment(caller.caller(), &new, &caller.actor()).await? {
        Created::New(created) => (StatusCode::CREATED, Json((&created).into())),
        Created::Existing(existing) => (StatusCode::OK, Json((&existing).into())),
    })
}

/// Filters and paging for the list. All optional; unknown or repeated
/// parameters are refused. Documented by hand (`IntoParams` below) so each
/// parameter states exactly what `parse_list` accepts.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    sync_status: Option<String>,
    requires_review: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// A cursor as the list writes it (`PageCursor` in start order: the last
/// row's start in milliseconds, `_`, its id), limited to what it always
/// reads back.
pub const CURSOR_PATTERN: &str = r"^-?[0-9]{1,15}_-?[0-9]{1,18}$";

/// The list's rule between parameters (`x-calsync-rules` on the operation).
pub fn list_rules() -> Value {
    json!([{"field": "to", "rule": "after", "other": "from"}])
}

impl IntoParams for ListQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let date_or_instant = || {
            OneOfBuilder::new()
                .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))))
                .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
                .build()
        };
        let param = |name: &str, description: String, schema: utoipa::openapi::Schema| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(schema))
                .build()
        };
        let statuses = SyncStatus::ALL.iter().map(|s| s.as_str());
        vec![
            param(
                "sync_status",
                "Only appointments in this sync state.".into(),
                string().enum_values(Some(statuses)).examples(["failed"]).build().into(),
            ),
            param(
                "requires_review",
                "`true`: only those flagged for manual review; `false`: only the others.".into(),
                ObjectBuilder::new().schema_type(Type::Boolean).build().into(),
            ),
            param(
                "from",
                "Starting at or after: a date (`2025-10-13`, midnight in the organization's time zone) or an \
                 RFC 3339 date-time with an offset."
                    .into(),
                date_or_instant().into(),
            ),
            param(
                "to",
                "Starting before: an RFC 3339 date-time with an offset (exclusive), or a date (that whole day \
                 included). Must be after `from` (`x-calsync-rules`)."
                    .into(),
                date_or_instant().into(),
            ),
            param(
                "q",
                format!(
                    "Case-insensitive text in customer name, email, phone or service (blank: no filter); at most \
                     {MAX_SEARCH_LEN} characters, no control characters."
                ),
                string()
                    .max_length(Some(MAX_SEARCH_LEN))
                    .pattern(Some(format!("^[^{}]*$", r"\u0000-\u001F\u007F-\u009F")))
                    .build()
                    .into(),
            ),
            param(
                "cursor",
                "`next_cursor` from the previous page (opaque).".into(),
                string().pattern(Some(CURSOR_PATTERN)).build().into(),
            ),
            param(
                "limit",
                format!("Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."),
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                    .minimum(Some(1))
                    .maximum(Some(MAX_LIMIT))
                    .default(Some(json!(DEFAULT_LIMIT)))
                    .build()
                    .into(),
            ),
        ]
    }
}

/// Where a page starts: after the appointment `(starts_at, id)`. Opaque to clients.
fn decode_cursor(text: &str) -> Option<PageCursor> {
    PageCursor::decode(text, SortKey::Start)
}

/// A bound of the date range: an instant, or a local date in `tz` (`end`
/// moves a date bound to the start of the next day, so the day is included).
fn bound(text: &str, tz: Tz, end: bool) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let date = if end { date.succ_opt()? } else { date };
    engine::calendar::start_of_day(date, tz)
}

struct Page {
    filter: AppointmentFilter,
    after: Option<PageCursor>,
    limit: u32,
}

fn parse_list(q: ListQuery, tz: Tz) -> Result<Page, FieldErrors> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
    let mut filter = AppointmentFilter::default();
    if let Some(s) = q.sync_status {
        match s.parse::<SyncStatus>() {
            Ok(status) => filter.sync_status = Some(status),
            Err(e) => {
                let names: Vec<_> = SyncStatus::ALL.iter().map(|s| s.as_str()).collect();
                bad("sync_status", format!("{e}; expected one of {}", names.join(", ")))
            }
        }
    }
    match q.requires_review.as_deref() {
        None => {}
        Some("true") => filter.requires_review = Some(true),
        Some("false") => filter.requires_review = Some(false),
        Some(_) => bad("requires_review", "must be true or false".into()),
    }
    if let Some(from) = q.from {
        match bound(&from, tz, false) {
            Some(t) => filter.starts_from = Some(t),
            None => bad("from", "must be a date (2025-10-13) or an RFC 3339 date-time with offset".into()),
        }
    }
    if let Some(to) = q.to {
        match bound(&to, tz, true) {
            Some(t) => filter.starts_before = Some(t),
            None => bad("to", "must be a date (2025-10-19) or an RFC 3339 date-time with offset".into()),
        }
    }
    if let (Some(from), Some(to)) = (filter.starts_from, filter.starts_before) {
        if to <= from {
            bad("to", "must be after from".into());
        }
    }
    if let Some(text) = q.q {
        if text.chars().count() > MAX_SEARCH_LEN {
            bad("q", format!("must be at most {MAX_SEARCH_LEN} characters"));
        } else if text.chars().any(char::is_control) {
            bad("q", "must not contain control characters".into());
        } else {
            filter.search = Some(text);
        }
    }
    let after = match q.cursor.as_deref().map(|c| (c, decode_cursor(c))) {
        None => None,
        Some((_, Some(after))) => Some(after),
        Some((_, None)) => {
            bad("cursor", "is not a cursor this API returned".into());
            None
        }
    };
    let limit = match q.limit.as_deref().map(str::parse::<u32>) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            bad("limit", format!("must be an integer from 1 to {MAX_LIMIT}"));
            DEFAULT_LIMIT
        }
    };
    if errors.is_empty() {
        Ok(Page { filter, after, limit })
    } else {
        Err(FieldErrors { errors })
    }
}

/// List appointments in start order, filtered, a page at a time.
#[utoipa::path(
    get, path = "/appointments", tag = "appointments", operation_id = "listAppointments",
    params(ListQuery),
    responses(
        (status = 200, description = "One page", body = AppointmentPage),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 422, description = "Invalid parameters, all named", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    caller: ApiCaller,
    State(state): State<AppState>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<AppointmentPage>, ApiError> {
    let page = parse_list(query, caller.org.time_zone)?;
    let found = state.ops.list_appointments(caller.caller(), &page.filter, page.after.as_ref(), page.limit).await?;
    let next_cursor = found.next.map(|cursor| cursor.encode());
    Ok(Json(AppointmentPage { data: found.rows.iter().map(AppointmentBody::from).collect(), next_cursor }))
}

/// Read one appointment.
#[utoipa::path(
    get, path = "/appointments/{id}", tag = "appointments", operation_id = "getAppointment",
    params(("id" = i64, Path, minimum = 1, description = "The appointment's id")),
    responses(
        (status = 200, body = AppointmentBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such appointment in your organization", body = ErrorBody),
        (status = 422, description = "The id is not a positive integer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_one(
    caller: ApiCaller,
    IdPath(id): IdPath,
    State(state): State<AppState>,
) -> Result<Json<AppointmentBody>, ApiError> {
    Ok(Json((&state.ops.appointment(caller.caller(), AppointmentId(id)).await?).into()))
}

/// Change some of an appointment's facts. The change is recorded in its sync
/// history and the appointment is queued for verification at once. A patch
/// that changes nothing writes nothing.
#[utoipa::path(
    patch, path = "/appointments/{id}", tag = "appointments", operation_id = "updateAppointment",
    params(("id" = i64, Path, minimum = 1, description = "The appointment's id")),
    request_body(content = PatchAppointment, content_type = "application/json"),
    responses(
        (status = 200, description = "The appointment after the change", body = AppointmentBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such appointment in your organization", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields, all named", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    caller: ApiCaller,
    IdPath(id): IdPath,
    State(state): State<AppState>,
    JsonBody(patch): JsonBody,
) -> Result<Json<AppointmentBody>, ApiError> {
    let updated = state.ops.patch_appointment(caller.caller(), AppointmentId(id), &patch, &caller.actor()).await?;
    Ok(Json((&updated).into()))
}

/// Queue the appointment for verification now, with a fresh retry ladder.
#[utoipa::path(
    post, path = "/appointments/{id}/verify", tag = "appointments", operation_id = "verifyAppointment",
    params(("id" = i64, Path, minimum = 1, description = "The appointment's id")),
    responses(
        (status = 202, description = "Queued; verification runs shortly", body = AppointmentBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such appointment in your organization", body = ErrorBody),
        (status = 422, description = "The id is not a positive integer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn verify(
    caller: ApiCaller,
    IdPath(id): IdPath,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<AppointmentBody>), ApiError> {
    let after = state.ops.request_verification(caller.caller(), AppointmentId(id), &caller.actor()).await?;
    Ok((StatusCode::ACCEPTED, Json((&after).into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let at = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        let cursor = decode_cursor(&format!("{}_7", at.timestamp_millis())).unwrap();
        assert_eq!((cursor.id, decode_cursor(&cursor.encode())), (AppointmentId(7), Some(cursor.clone())));
        for bad in ["", "_", "x_1", "1_x", "1", "1.7", "99999999999999999999_1"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn date_bounds_use_the_organization_time_zone_and_include_the_last_day() {
        let tz = chrono_tz::Europe::Berlin;
        assert_eq!(bound("2025-10-13", tz, false).unwrap().to_rfc3339(), "2025-10-12T22:00:00+00:00");
        assert_eq!(bound("2025-10-13", tz, true).unwrap().to_rfc3339(), "2025-10-13T22:00:00+00:00");
        assert_eq!(bound("2025-10-13T10:00:00+02:00", tz, true).unwrap().to_rfc3339(), "2025-10-13T08:00:00+00:00");
        assert_eq!(bound("13.10.2025", tz, false), None);
    }
}
