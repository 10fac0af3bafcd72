//! /api/v1/appointments: create (idempotent by `external_id`), list, read,
//! change and re-verify the caller's organization's appointments.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use engine::appointments::{validate_new, FieldError, FieldErrors};
use engine::domain::{AppointmentId, AppointmentSource, SyncStatus};
use engine::store::{queued_for_verification, Appointment, AppointmentFilter, EventKind, NewAppointment, NewSyncEvent};
use serde::Deserialize;
use serde_json::{json, Map, Value};
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

/// Another organization's appointment and a missing one must answer alike.
async fn find(state: &AppState, caller: &ApiCaller, id: i64) -> Result<Appointment, ApiError> {
    state.store.appointment(caller.org.id, AppointmentId(id)).await.map_err(ApiError::from)
}

fn event(caller: &ApiCaller, id: AppointmentId, kind: EventKind, detail: String, at: DateTime<Utc>) -> NewSyncEvent {
    NewSyncEvent {
        appointment_id: Some(id),
        kind,
        result: None,
        attempt: None,
        duration_ms: None,
        detail: Some(detail),
        technical: None,
        actor: caller.actor(),
        actor_user_id: None,
        at,
    }
}

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
    if let Some(existing) = existing(&state, &caller, &new).await? {
        return Ok((StatusCode::OK, Json((&existing).into())));
    }
    match state.store.insert_appointment(caller.org.id, &new, &caller.actor(), Utc::now()).await {
        Ok(created) => Ok((StatusCode::CREATED, Json((&created).into()))),
        // Two requests with one external_id raced; the loser returns the winner's.
        Err(e) if matches!(e, engine::store::StoreError::Conflict(_)) => match existing(&state, &caller, &new).await? {
            Some(existing) => Ok((StatusCode::OK, Json((&existing).into()))),
            None => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}

async fn existing(state: &AppState, caller: &ApiCaller, new: &NewAppointment) -> Result<Option<Appointment>, ApiError> {
    match new.external_id.as_deref() {
        Some(external_id) => Ok(state.store.appointment_by_external_id(caller.org.id, external_id).await?),
        None => Ok(None),
    }
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

/// A cursor as `encode_cursor` writes it, limited to what `decode_cursor`
/// always reads back (15 digits of milliseconds stay within chrono's range).
pub const CURSOR_PATTERN: &str = r"^-?[0-9]{1,15}\.-?[0-9]{1,18}$";

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
fn encode_cursor(a: &Appointment) -> String {
    format!("{}.{}", a.starts_at.timestamp_millis(), a.id)
}

fn decode_cursor(text: &str) -> Option<(DateTime<Utc>, AppointmentId)> {
    let (ms, id) = text.split_once('.')?;
    let at = Utc.timestamp_millis_opt(ms.parse().ok()?).single()?;
    Some((at, AppointmentId(id.parse().ok()?)))
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
    after: Option<(DateTime<Utc>, AppointmentId)>,
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
    // One more than asked tells whether another page follows.
    let mut rows = state.store.list_appointments(caller.org.id, &page.filter, page.after, page.limit + 1).await?;
    let more = rows.len() > page.limit as usize;
    rows.truncate(page.limit as usize);
    let next_cursor = if more { rows.last().map(encode_cursor) } else { None };
    Ok(Json(AppointmentPage { data: rows.iter().map(AppointmentBody::from).collect(), next_cursor }))
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
    Ok(Json((&find(&state, &caller, id).await?).into()))
}

/// The appointment's facts in the create format, so a change can be merged
/// in and validated by exactly the rules that apply to a new appointment.
fn as_input(a: &Appointment) -> Map<String, Value> {
    let value = json!({
        "customer_name": a.customer_name,
        "customer_email": a.customer_email,
        "customer_phone": a.customer_phone,
        "service": a.service,
        "starts_at": input_instant(a.starts_at),
        "ends_at": input_instant(a.ends_at),
        "time_zone": a.time_zone.name(),
        "status": a.status.as_str(),
        "source": a.source.as_str(),
        "calcom_booking_uid": a.calcom_booking_uid,
        "calcom_event_type_id": a.calcom_event_type_id,
        "external_id": a.external_id,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// RFC 3339 for `validate_new`, which reads four-digit years only: an
/// instant accepted with an offset can lie in year -1 or 10000 in UTC, so
/// it is written back with the offset that brings it into range.
fn input_instant(t: DateTime<Utc>) -> String {
    let offset = match t.year() {
        y if y > 9999 => FixedOffset::west_opt(86_340),
        y if y < 0 => FixedOffset::east_opt(86_340),
        _ => None,
    };
    match offset {
        Some(offset) => t.with_timezone(&offset).to_rfc3339(),
        None => t.to_rfc3339(),
    }
}

const FIXED_FIELDS: &[&str] = &["external_id", "source"];

/// The changed facts, validated; `None` when the patch changes nothing.
fn apply_patch(current: &Appointment, patch: &Value) -> Result<Option<(NewAppointment, Vec<String>)>, FieldErrors> {
    let Some(patch) = patch.as_object() else {
        return Err(FieldErrors {
            errors: vec![FieldError { field: "body".into(), message: "must be a JSON object".into() }],
        });
    };
    let fixed: Vec<FieldError> = patch
        .keys()
        .filter(|k| FIXED_FIELDS.contains(&k.as_str()))
        .map(|k| FieldError { field: k.clone(), message: "cannot be changed".into() })
        .collect();
    let mut merged = as_input(current);
    merged.extend(patch.iter().map(|(k, v)| (k.clone(), v.clone())));
    let validated = validate_new(&Value::Object(merged), current.time_zone, current.source);
    let new = match (validated, fixed.is_empty()) {
        (Ok(new), true) => new,
        (Ok(_), false) => return Err(FieldErrors { errors: fixed }),
        (Err(mut e), _) => {
            e.errors.extend(fixed);
            return Err(e);
        }
    };
    let before = validate_new(&Value::Object(as_input(current)), current.time_zone, current.source).ok();
    let changed: Vec<String> = match &before {
        Some(before) => changed_fields(before, &new),
        None => patch.keys().cloned().collect(),
    };
    Ok((!changed.is_empty()).then_some((new, changed)))
}

fn changed_fields(a: &NewAppointment, b: &NewAppointment) -> Vec<String> {
    let checks: [(&str, bool); 10] = [
        ("customer_name", a.customer_name != b.customer_name),
        ("customer_email", a.customer_email != b.customer_email),
        ("customer_phone", a.customer_phone != b.customer_phone),
        ("service", a.service != b.service),
        ("starts_at", a.starts_at != b.starts_at),
        ("ends_at", a.ends_at != b.ends_at),
        ("time_zone", a.time_zone != b.time_zone),
        ("status", a.status != b.status),
        ("calcom_booking_uid", a.calcom_booking_uid != b.calcom_booking_uid),
        ("calcom_event_type_id", a.calcom_event_type_id != b.calcom_event_type_id),
    ];
    checks.iter().filter(|(_, changed)| *changed).map(|(name, _)| (*name).to_owned()).collect()
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
    let current = find(&state, &caller, id).await?;
    let Some((facts, changed)) = apply_patch(&current, &patch)? else {
        return Ok(Json((&current).into()));
    };
    let now = Utc::now();
    let detail = format!("Updated via API: {}", changed.join(", "));
    let event = event(&caller, current.id, EventKind::Updated, detail, now);
    let state_after = queued_for_verification(&current.sync, now);
    let updated = state.store.update_appointment_facts(caller.org.id, current.id, &facts, &state_after, &event).await?;
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
    let current = find(&state, &caller, id).await?;
    let now = Utc::now();
    let queued = queued_for_verification(&current.sync, now);
    let event = event(&caller, current.id, EventKind::VerificationQueued, "Verification requested via API".into(), now);
    state.store.set_sync_state(caller.org.id, current.id, &queued, &event).await?;
    let after = find(&state, &caller, id).await?;
    Ok((StatusCode::ACCEPTED, Json((&after).into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_beyond_four_digit_utc_years_are_written_back_readably() {
        for text in ["9999-12-31T23:00:00-05:00", "0000-01-01T00:30:00+01:00", "2025-10-13T10:00:00+02:00"] {
            let t = DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
            assert_eq!(DateTime::parse_from_rfc3339(&input_instant(t)).unwrap(), t, "{text}");
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let at = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        assert_eq!(decode_cursor(&format!("{}.7", at.timestamp_millis())), Some((at, AppointmentId(7))));
        for bad in ["", ".", "x.1", "1.x", "1", "99999999999999999999.1"] {
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
