//! Verification outcomes written many at a time. A bulk pass (a claimed
//! batch checked against one Cal.com listing) would otherwise commit one
//! transaction per appointment, which is most of its time on SQLite (a
//! WAL sync each) and on PostgreSQL (a round trip and a flush each).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use super::events::NewSyncEvent;
use super::issues::Resolution;
use super::sql::Sql;
use super::time::to_ms;
use super::verification_stats;
use super::{Store, StoreError, SyncState};
use crate::domain::{AppointmentId, ErrorCode, OrgId, UserId};

/// Rows per multi-row INSERT of history entries (11 values each) and per
/// multi-row UPDATE of states (9 values each). sqlx binds SQLite
/// parameters by name, and SQLite finds each name by walking the list of
/// them, so a statement's cost grows with the square of its placeholders:
/// at 100 rows that walk was a visible share of a bulk pass.
const EVENTS_PER_INSERT: usize = 25;
const STATES_PER_UPDATE: usize = 25;
/// Appointments per `IN (…)` list.
pub(super) const IDS_PER_STATEMENT: usize = 500;

/// One verification's outcome: the appointment's new state, its history
/// entry, and whether its open issues close because it is fine again.
#[derive(Debug, Clone)]
pub struct StateWrite {
    pub id: AppointmentId,
    pub state: SyncState,
    pub event: NewSyncEvent,
    pub resolve_issues: bool,
    /// A confirmation that changes nothing (in sync before and after): it
    /// moves the last-verified time and is counted in the figures, but adds
    /// no history row, so a year of checks does not fill the database.
    pub routine: bool,
}

/// Sets the state (releasing the claim); false if the appointment is gone.
pub(crate) async fn update_state(
    conn: &mut AnyConnection,
    org: OrgId,
    id: AppointmentId,
    state: &SyncState,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE appointments SET sync_status = $1, sync_error_code = $2, sync_error_detail = $3, \
         sync_attempts = $4, last_verified_at = $5, next_verification_at = $6, \
         requires_manual_review = $7, updated_at = $8, claimed_by = NULL, claim_expires_at = NULL \
         WHERE org_id = $9 AND id = $10",
    )
    .bind(state.status.as_str())
    .bind(state.error_code.map(ErrorCode::as_str))
    .bind(state.error_detail.as_deref())
    .bind(state.attempts)
    .bind(state.last_verified_at.map(to_ms))
    .bind(state.next_verification_at.map(to_ms))
    .bind(i64::from(state.requires_manual_review))
    .bind(to_ms(at))
    .bind(org.get())
    .bind(id.get())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets the states of many appointments (releasing their claims), one
/// multi-row UPDATE per [`STATES_PER_UPDATE`] of them: a statement per
/// appointment cost a round trip to the database each, for 100,000 in a
/// comprehensive check. Returns the ids still there (the caller skips one
/// deleted meanwhile). Each id may appear only once per call.
async fn update_states(
    conn: &mut AnyConnection,
    org: OrgId,
    writes: &[&StateWrite],
) -> Result<HashSet<AppointmentId>, StoreError> {
    let mut updated = HashSet::with_capacity(writes.len());
    for chunk in writes.chunks(STATES_PER_UPDATE) {
        // Both databases take a CTE's column names and UPDATE … FROM; a
        // derived table's column aliases SQLite would not.
        let mut sql =
            Sql::new("WITH v (vid, status, code, detail, attempts, verified, next_at, review, at) AS (VALUES ");
        for (i, write) in chunk.iter().enumerate() {
            let state = &write.state;
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(write.id.get()).push(", ").bind(state.status.as_str()).push(", ");
            sql.bind(state.error_code.map(|c| c.as_str().to_owned())).push(", ");
            sql.bind(state.error_detail.clone()).push(", ").bind(state.attempts).push(", ");
            sql.bind(state.last_verified_at.map(to_ms)).push(", ").bind(state.next_verification_at.map(to_ms));
            sql.push(", ").bind(i64::from(state.requires_manual_review)).push(", ").bind(to_ms(write.event.at));
            sql.push(")");
        }
        sql.push(
            ") UPDATE appointments SET sync_status = v.status, sync_error_code = v.code, \
             sync_error_detail = v.detail, sync_attempts = v.attempts, last_verified_at = v.verified, \
             next_verification_at = v.next_at, requires_manual_review = v.review, updated_at = v.at, \
             claimed_by = NULL, claim_expires_at = NULL FROM v WHERE appointments.org_id = ",
        );
        sql.bind(org.get()).push(" AND appointments.id = v.vid RETURNING id");
        let rows = sqlx::query_with(sql.text(), sql.arguments()?).fetch_all(&mut *conn).await?;
        for row in rows {
            updated.insert(AppointmentId(row.try_get::<i64, _>("id")?));
        }
    }
    Ok(updated)
}

/// The writes in rounds where each appointment appears at most once, in
/// their order (a later write of the same appointment in a later round), so
/// a multi-row UPDATE never names one row twice.
fn once_each(writes: &[StateWrite]) -> Vec<Vec<&StateWrite>> {
    let mut rounds: Vec<(HashSet<AppointmentId>, Vec<&StateWrite>)> = Vec::new();
    for write in writes {
        let last_with_it = rounds.iter().rposition(|(ids, _)| ids.contains(&write.id));
        let round = last_with_it.map_or(0, |i| i + 1);
        if round == rounds.len() {
            rounds.push((HashSet::new(), Vec::new()));
        }
        rounds[round].0.insert(write.id);
        rounds[round].1.push(write);
    }
    rounds.into_iter().map(|(_, round)| round).collect()
}

/// History entries in multi-row INSERTs, within the caller's transaction.
pub(super) async fn insert_events(
    conn: &mut AnyConnection,
    org: OrgId,
    events: &[&NewSyncEvent],
) -> Result<(), StoreError> {
    for chunk in events.chunks(EVENTS_PER_INSERT) {
        let mut sql = Sql::new(
            "INSERT INTO sync_events \
             (org_id, appointment_id, kind, result, attempt, duration_ms, detail, technical, actor, actor_user_id, at) \
             VALUES ",
        );
        for (i, event) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(org.get()).push(", ").bind(event.appointment_id.map(AppointmentId::get)).push(", ");
            sql.bind(event.kind.as_str()).push(", ").bind(event.result.clone()).push(", ");
            sql.bind(event.attempt).push(", ").bind(event.duration_ms).push(", ").bind(event.detail.clone()).push(", ");
            sql.bind(event.technical.clone()).push(", ");
            sql.bind(event.actor.as_str()).push(", ").bind(event.actor_user_id.map(UserId::get)).push(", ");
            sql.bind(to_ms(event.at)).push(")");
        }
        sqlx::query_with(sql.text(), sql.arguments()?).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Closes the open issues of these appointments as auto-resolved, with the
/// evidence in words as the note.
async fn resolve_issues(
    conn: &mut AnyConnection,
    org: OrgId,
    ids: &[AppointmentId],
    now: DateTime<Utc>,
    evidence: &str,
) -> Result<u64, StoreError> {
    let mut closed = 0;
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let mut sql = Sql::new("UPDATE sync_issues SET resolved_at = ");
        sql.bind(to_ms(now)).push(", resolution = ").bind(Resolution::AutoResolved.as_str());
        sql.push(", resolved_by = NULL, resolution_note = ").bind(evidence).push(" WHERE org_id = ").bind(org.get());
        sql.push(" AND resolved_at IS NULL AND appointment_id IN (").list(chunk.iter().map(|id| id.get())).push(")");
        closed += sqlx::query_with(sql.text(), sql.arguments()?).execute(&mut *conn).await?.rows_affected();
    }
    Ok(closed)
}

impl Store {
    /// Writes one outcome as [`Store::write_sync_states`] does; an
    /// appointment deleted meanwhile is an error here.
    pub async fn write_sync_state(&self, org: OrgId, write: &StateWrite) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if !update_state(&mut tx, org, write.id, &write.state, write.event.at).await? {
            return Err(StoreError::NotFound("appointment"));
        }
        if write.routine {
            verification_stats::count(&mut tx, org, [&write.event]).await?;
        } else {
            super::events::insert(&mut tx, org, &write.event).await?;
        }
        if write.resolve_issues {
            let evidence = write.event.detail.as_deref().unwrap_or("A later verification found it in order");
            resolve_issues(&mut tx, org, &[write.id], write.event.at, evidence).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes every outcome and its history entry (none for a routine one),
    /// counts them in the figures, and closes the issues of those that are
    /// fine again (with `evidence`, the words of why, as their note), in one
    /// transaction. An appointment deleted meanwhile is skipped (its entry
    /// too). Returns how many issues closed.
    pub async fn write_sync_states(
        &self,
        org: OrgId,
        writes: &[StateWrite],
        now: DateTime<Utc>,
        evidence: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut present = HashSet::with_capacity(writes.len());
        for round in once_each(writes) {
            present.extend(update_states(&mut tx, org, &round).await?);
        }
        let mut events = Vec::with_capacity(writes.len());
        let mut counted = Vec::with_capacity(writes.len());
        let mut fine = Vec::new();
        for write in writes.iter().filter(|w| present.contains(&w.id)) {
            counted.push(&write.event);
            if !write.routine {
                events.push(&write.event);
            }
            if write.resolve_issues {
                fine.push(write.id);
            }
        }
        insert_events(&mut tx, org, &events).await?;
        verification_stats::count(&mut tx, org, counted).await?;
        let closed = resolve_issues(&mut tx, org, &fine, now, evidence).await?;
        tx.commit().await?;
        Ok(closed)
    }
}
