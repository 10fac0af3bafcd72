//! Appointments from outside: create (idempotent by `external_id`), read,
//! list a page, change some facts (merged, validated by the create rules,
//! recorded and queued for verification) and queue a verification. The
//! REST API and `calsync import` call these; both validate with
//! `engine::appointments::validate_new`, so they refuse the same values.

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde_json::{json, Map, Value};

use super::{Caller, OpError, Operations};
use crate::appointments::{validate_new, FieldError, FieldErrors};
use crate::domain::AppointmentId;
use crate::store::{EventKind, NewSyncEvent, StoreError};

pub use crate::store::{Appointment, AppointmentFilter, AppointmentOrder, NewAppointment, PageCursor};

/// What "create" did.
#[derive(Debug)]
pub enum Created {
    New(Appointment),
    /// One with this `external_id` was there already; returned unchanged.
    Existing(Appointment),
}

/// One page of a list in start order, and where the next one starts.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<Appointment>,
    pub next: Option<PageCursor>,
}

/// How many imported appointments are written in one transaction: few
/// enough that a write never holds the database for long.
pub const IMPORT_BATCH: usize = 1_000;

/// Facts that a change may not touch: they name the appointment.
const FIXED_FIELDS: &[&str] = &["external_id", "source"];

impl Operations {
    /// Another organization's appointment and a missing one answer alike.
    pub async fn appointment(&self, caller: Caller, id: AppointmentId) -> Result<Appointment, OpError> {
        Ok(self.store.appointment(caller.org, id).await?)
    }

    /// `by` is how the sync history names who did it ("api token crm").
    pub async fn create_appointment(&self, caller: Caller, new: &NewAppointment, by: &str) -> Result<Created, OpError> {
        if let Some(existing) = self.existing(caller, new).await? {
            return Ok(Created::Existing(existing));
        }
        match self.store.insert_appointment(caller.org, new, by, self.now()).await {
            Ok(created) => Ok(Created::New(created)),
            // Two requests with one external_id raced; the loser returns the winner's.
            Err(StoreError::Conflict(why)) => match self.existing(caller, new).await? {
                Some(existing) => Ok(Created::Existing(existing)),
                None => Err(OpError::Conflict(why)),
            },
            Err(e) => Err(e.into()),
        }
    }

    async fn existing(&self, caller: Caller, new: &NewAppointment) -> Result<Option<Appointment>, OpError> {
        match new.external_id.as_deref() {
            Some(external_id) => Ok(self.store.appointment_by_external_id(caller.org, external_id).await?),
            None => Ok(None),
        }
    }

    /// Appointments in start order after `after`, at most `limit`; the
    /// cursor is the web list's (`PageCursor` in start order), so there is
    /// one format.
    pub async fn list_appointments(
        &self,
        caller: Caller,
        filter: &AppointmentFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> Result<Page, OpError> {
        let order = AppointmentOrder::default();
        // One more than asked tells whether another page follows.
        let mut rows = self.store.list_appointments_ordered(caller.org, filter, order, after, limit + 1).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(|a| PageCursor::after(a, order.key)) } else { None };
        Ok(Page { rows, next })
    }

    /// Merges `patch` (a JSON object of create fields) into the
    /// appointment, validates the result as a new one would be, records the
    /// change and queues a verification, in one transaction. A patch that
    /// changes nothing writes nothing.
    pub async fn patch_appointment(
        &self,
        caller: Caller,
        id: AppointmentId,
        patch: &Value,
        by: &str,
    ) -> Result<Appointment, OpError> {
        let current = self.store.appointment(caller.org, id).await?;
        let Some((facts, changed)) = apply_patch(&current, patch).map_err(OpError::Fields)? else {
            return Ok(current);
        };
        let now = self.now();
        let detail = format!("Updated via API: {}", changed.join(", "));
        let event = history(current.id, EventKind::Updated, detail, by, now);
        let state_after = current.sync.queued(now);
        Ok(self.store.update_appointment_facts(caller.org, current.id, &facts, &state_after, &event).await?)
    }

    /// Queues the appointment for verification now, with a fresh retry ladder.
    pub async fn request_verification(
        &self,
        caller: Caller,
        id: AppointmentId,
        by: &str,
    ) -> Result<Appointment, OpError> {
        let current = self.store.appointment(caller.org, id).await?;
        let now = self.now();
        let queued = current.sync.queued(now);
        let event =
            history(current.id, EventKind::VerificationQueued, "Verification requested via API".into(), by, now);
        self.store.set_sync_state(caller.org, current.id, &queued, &event).await?;
        Ok(self.store.appointment(caller.org, id).await?)
    }

    /// Each line of an import, validated before any is written, so a bad
    /// file imports nothing; then the new ones, [`IMPORT_BATCH`] to a
    /// transaction (an `external_id` already present is skipped). Returns
    /// (imported, skipped).
    pub async fn import_appointments(
        &self,
        caller: Caller,
        lines: &[(usize, &str)],
    ) -> Result<(usize, usize), OpError> {
        let org = self.store.organization(caller.org).await?;
        let mut appointments = Vec::new();
        let mut problems = Vec::new();
        for &(number, line) in lines {
            let parsed = serde_json::from_str(line).map_err(|e| e.to_string()).and_then(|value| {
                validate_new(&value, org.time_zone, crate::domain::AppointmentSource::Import).map_err(|e| e.to_string())
            });
            match parsed {
                Ok(a) => appointments.push(a),
                Err(problem) => problems.push(format!("line {number}: {problem}")),
            }
        }
        if !problems.is_empty() {
            return Err(OpError::field("file", format!("nothing imported; {}", problems.join("; "))));
        }
        let (mut imported, mut skipped) = (0, 0);
        for batch in appointments.chunks(IMPORT_BATCH) {
            let (inserted, present) = self.store.insert_appointments(caller.org, batch, "import", self.now()).await?;
            imported += inserted;
            skipped += present;
        }
        Ok((imported, skipped))
    }
}

fn history(id: AppointmentId, kind: EventKind, detail: String, by: &str, at: DateTime<Utc>) -> NewSyncEvent {
    NewSyncEvent {
        appointment_id: Some(id),
        kind,
        result: None,
        attempt: None,
        duration_ms: None,
        detail: Some(detail),
        technical: None,
        actor: by.to_owned(),
        actor_user_id: None,
        at,
    }
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
}
