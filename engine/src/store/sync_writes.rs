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
use super::{Backend, Store, StoreError, SyncState};
use crate::domain::{AppointmentId, OrgId, UserId};

/// Rows per multi-row INSERT of history entries (11 values each): a
/// runner's whole batch in one statement, well under both databases'
/// limits on placeholders (SQLite 32,766, PostgreSQL 65,535). Each
/// statement is a hand-off to the database's worker and back, which at 25
/// rows a statement was a visible share of a large check. (Binding many
/// SQLite placeholders no longer costs their square: `Sql` writes plain `?`.)
const EVENTS_PER_INSERT: usize = 250;

/// Rows per multi-row UPDATE of states (9 values each). On PostgreSQL the
/// join with the values is planned from the table's statistics, and with
/// more rows a statement it turned into a scan of the organization's rows
/// (the large check of 100,000 in the bench: a daily check 5.6 s at 50 a
/// statement, 14 s at 250, 24 s at 100); SQLite always looks each row up
/// by its key.
fn states_per_update(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 250,
        Backend::Postgres => 50,
    }
}
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

/// Sets the states of many appointments (releasing their claims), one
/// multi-row UPDATE per [`states_per_update`] of them: a statement per
/// appointment cost a round trip to the database each, for 100,000 in a
/// comprehensive check. Returns the ids still there (the caller skips one
/// deleted meanwhile). Each id may appear only once per call.
async fn update_states(
    conn: &mut AnyConnection,
    org: OrgId,
    writes: &[&StateWrite],
) -> Result<HashSet<AppointmentId>, StoreError> {
    let mut updated = HashSet::with_capacity(writes.len());
    let backend = Backend::of(conn);
    let per_statement = states_per_update(backend);
    for chunk in writes.chunks(per_statement) {
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
        let rows = sqlx::query_with(sql.text(backend), sql.arguments()?).fetch_all(&mut *conn).await?;
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
    let backend = Backend::of(conn);
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
        sqlx::query_with(sql.text(backend), sql.arguments()?).execute(&mut *conn).await?;
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
    let backend = Backend::of(conn);
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let mut sql = Sql::new("UPDATE sync_issues SET resolved_at = ");
        sql.bind(to_ms(now)).push(", resolution = ").bind(Resolution::AutoResolved.as_str());
        sql.push(", resolved_by = NULL, resolution_note = ").bind(evidence).push(" WHERE org_id = ").bind(org.get());
        sql.push(" AND resolved_at IS NULL AND appointment_id IN (").list(chunk.iter().map(|id| id.get())).push(")");
        closed += sqlx::query_with(sql.text(backend), sql.arguments()?).execute(&mut *conn).await?.rows_affected();
    }
    Ok(closed)
}

impl Store {
    /// Writes one outcome as [`Store::write_sync_states`] does; an
    /// appointment deleted meanwhile is an error here.
    pub async fn write_sync_state(&self, org: OrgId, write: &StateWrite) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if !update_states(&mut tx, org, &[write]).await?.contains(&write.id) {
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
        let mut tx = self.begin_write().await?;
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
