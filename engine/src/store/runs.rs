//! Verification runs (job_runs): scheduled slots that must run once across
//! all instances, manual runs, their progress, and runs a crashed worker
//! left behind.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::row::{get, parse};
use super::time::{from_ms, opt_from_ms, to_ms};
use super::{NewAuditEntry, Store, StoreError};
use crate::domain::{string_enum, AuditAction, OrgId, RunId, UserId};

string_enum! {
    pub enum RunKind : "run kind" {
        /// The 6-hourly verification of due appointments.
        Cycle = "cycle",
        /// The daily check of the whole Cal.com window.
        Comprehensive = "comprehensive",
        /// "Retry all matching": a fresh verification queued for every
        /// appointment a filter matched (see `store::bulk`).
        BulkRetry = "bulk_retry",
        /// "Resolve all matching": every appointment a filter matched that
        /// needs review marked as resolved with the admin's note.
        BulkResolve = "bulk_resolve",
    }
}

impl RunKind {
    /// A bulk action by filter (`store::bulk`): it changes our own rows
    /// and calls Cal.com never.
    pub const fn is_bulk(self) -> bool {
        matches!(self, RunKind::BulkRetry | RunKind::BulkResolve)
    }
}

string_enum! {
    pub enum Trigger : "trigger" {
        Schedule = "schedule",
        Manual = "manual",
        Cli = "cli",
    }
}

string_enum! {
    pub enum RunStatus : "run status" {
        /// Asked for from the UI ("run now"); the next worker tick takes it.
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        /// Its worker stopped (crash, kill) before finishing.
        Interrupted = "interrupted",
    }
}

/// Counters a run reports as it goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub total: i64,
    pub processed: i64,
    pub synced: i64,
    pub flagged: i64,
    pub errors: i64,
    pub api_calls: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: RunId,
    pub org_id: OrgId,
    pub kind: RunKind,
    pub trigger: Trigger,
    pub slot_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    pub worker_id: Option<String>,
    pub requested_by: Option<UserId>,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counts: RunCounts,
    pub error_detail: Option<String>,
    /// What a bulk run covers, in words ("state Failed"); `None` for
    /// verification runs.
    pub scope: Option<String>,
    /// A bulk resolution's note; `None` for other runs.
    pub note: Option<String>,
}

const COLUMNS: &str = "id, org_id, kind, trigger_kind, slot_at, status, worker_id, requested_by, started_at, \
    heartbeat_at, finished_at, total, processed, synced, flagged, errors, api_calls, error_detail, scope, note";

fn from_row(row: &AnyRow) -> Result<Run, StoreError> {
    Ok(Run {
        id: RunId(get(row, "id")?),
        org_id: OrgId(get(row, "org_id")?),
        kind: parse(row, "kind")?,
        trigger: parse(row, "trigger_kind")?,
        slot_at: opt_from_ms(get(row, "slot_at")?),
        status: parse(row, "status")?,
        worker_id: get(row, "worker_id")?,
        requested_by: get::<Option<i64>>(row, "requested_by")?.map(UserId),
        started_at: from_ms(get(row, "started_at")?),
        heartbeat_at: from_ms(get(row, "heartbeat_at")?),
        finished_at: opt_from_ms(get(row, "finished_at")?),
        counts: RunCounts {
            total: get(row, "total")?,
            processed: get(row, "processed")?,
            synced: get(row, "synced")?,
            flagged: get(row, "flagged")?,
            errors: get(row, "errors")?,
            api_calls: get(row, "api_calls")?,
        },
        error_detail: get(row, "error_detail")?,
        scope: get(row, "scope")?,
        note: get(row, "note")?,
    })
}

/// Who starts a run and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStart {
    pub kind: RunKind,
    pub trigger: Trigger,
    /// The scheduled slot; unique per organization and kind.
    pub slot_at: Option<DateTime<Utc>>,
    pub worker_id: String,
    pub requested_by: Option<UserId>,
}

/// What asking to start a run led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    Started(RunId),
    /// Another instance already ran (or runs) this scheduled slot.
    SlotTaken,
    /// A run of this kind is already queued or running for the
    /// organization (at most one may be: one listing of Cal.com at a time).
    Busy(Box<ActiveRun>),
}

impl Start {
    pub fn id(&self) -> Option<RunId> {
        match self {
            Start::Started(id) => Some(*id),
            _ => None,
        }
    }
}

/// The run already under way, and who asked for it (for "started 14:02 by Ann").
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveRun {
    pub run: Run,
    pub requested_by_name: Option<String>,
}

impl Store {
    /// Starts a run, unless one of its kind is already queued or running
    /// for the organization (then `Busy` names it) or, for a scheduled
    /// slot, another instance has taken the slot (`SlotTaken`: this
    /// instance must not run it).
    pub async fn start_run(&self, org: OrgId, start: &RunStart, now: DateTime<Utc>) -> Result<Start, StoreError> {
        let row = sqlx::query(
            "INSERT INTO job_runs (org_id, kind, trigger_kind, slot_at, status, worker_id, requested_by, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(org.get())
        .bind(start.kind.as_str())
        .bind(start.trigger.as_str())
        .bind(start.slot_at.map(to_ms))
        .bind(RunStatus::Running.as_str())
        .bind(&start.worker_id)
        .bind(start.requested_by.map(UserId::get))
        .bind(to_ms(now))
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            return Ok(Start::Started(RunId(get(&row, "id")?)));
        }
        Ok(match self.active_run(org, start.kind).await? {
            Some(active) => Start::Busy(Box::new(active)),
            None => Start::SlotTaken,
        })
    }

    /// The queued or running run of `kind`, if there is one.
    pub async fn active_run(&self, org: OrgId, kind: RunKind) -> Result<Option<ActiveRun>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, (SELECT name FROM users WHERE users.id = job_runs.requested_by) AS requester \
             FROM job_runs WHERE org_id = $1 AND kind = $2 AND status IN ('queued', 'running') LIMIT 1"
        );
        let row = sqlx::query(&sql).bind(org.get()).bind(kind.as_str()).fetch_optional(&self.pool).await?;
        row.map(|row| Ok(ActiveRun { run: from_row(&row)?, requested_by_name: get(&row, "requester")? })).transpose()
    }

    /// Stores progress and proves the worker is alive.
    pub async fn heartbeat_run(
        &self,
        org: OrgId,
        id: RunId,
        counts: RunCounts,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_run(org, id, None, counts, None, now).await
    }

    pub async fn finish_run(
        &self,
        org: OrgId,
        id: RunId,
        status: RunStatus,
        counts: RunCounts,
        error_detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_run(org, id, Some(status), counts, error_detail, now).await
    }

    async fn write_run(
        &self,
        org: OrgId,
        id: RunId,
        finished: Option<RunStatus>,
        c: RunCounts,
        error_detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // Only a running run changes: an interrupted one stays interrupted
        // even if its worker was merely slow and comes back.
        let done = sqlx::query(
            "UPDATE job_runs SET total = $1, processed = $2, synced = $3, flagged = $4, errors = $5, api_calls = $6, \
             heartbeat_at = $7, status = COALESCE($8, status), finished_at = CASE WHEN $8 IS NULL THEN NULL ELSE $7 END, \
             error_detail = COALESCE($9, error_detail) \
             WHERE org_id = $10 AND id = $11 AND status = 'running'",
        )
        .bind(c.total)
        .bind(c.processed)
        .bind(c.synced)
        .bind(c.flagged)
        .bind(c.errors)
        .bind(c.api_calls)
        .bind(to_ms(now))
        .bind(finished.map(RunStatus::as_str))
        .bind(error_detail)
        .bind(org.get())
        .bind(id.get())
        .execute(&self.pool)
        .await?;
        match done.rows_affected() {
            0 => Err(StoreError::Conflict(format!("run {id} is not running"))),
            _ => Ok(()),
        }
    }

    /// Marks runs whose worker stopped sending heartbeats as interrupted
    /// (all organizations: this is housekeeping). Returns how many.
    pub async fn interrupt_stale_runs(
        &self,
        heartbeat_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE job_runs SET status = 'interrupted', finished_at = $1, \
             error_detail = 'the worker stopped before finishing' \
             WHERE status = 'running' AND heartbeat_at < $2",
        )
        .bind(to_ms(now))
        .bind(to_ms(heartbeat_before))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn run(&self, org: OrgId, id: RunId) -> Result<Run, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM job_runs WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.get()).bind(id.get()).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound("run"))
    }

    /// Queues a manual run for the worker, audited with who asked, unless a
    /// run of the same kind is already queued or running: then `Busy` names
    /// it, and nothing is queued (a double click, or two admins, must not
    /// run the check twice).
    pub async fn request_run(
        &self,
        org: OrgId,
        kind: RunKind,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Start, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO job_runs (org_id, kind, trigger_kind, status, requested_by, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(org.get())
        .bind(kind.as_str())
        .bind(Trigger::Manual.as_str())
        .bind(RunStatus::Queued.as_str())
        .bind(user.get())
        .bind(to_ms(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            drop(tx);
            let active = self.active_run(org, kind).await?;
            // The active run may have just finished: then asking again works.
            return Ok(active.map_or(Start::SlotTaken, |active| Start::Busy(Box::new(active))));
        };
        let id = get(&row, "id").map(RunId)?;
        let entry = NewAuditEntry {
            user_id: Some(user),
            action: AuditAction::RunRequest,
            target: Some(format!("run {id}")),
            detail: Some(format!("{} requested", kind.as_str())),
            at: now,
        };
        super::audit::insert(&mut *tx, org, &entry).await?;
        tx.commit().await?;
        Ok(Start::Started(id))
    }

    /// Takes the oldest queued run of `org` for this worker. With several
    /// instances only one UPDATE finds the row still queued, so a requested
    /// run executes once.
    pub async fn claim_queued_run(
        &self,
        org: OrgId,
        worker_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Run>, StoreError> {
        let sql = format!(
            "UPDATE job_runs SET status = 'running', worker_id = $1, started_at = $2, heartbeat_at = $2 \
             WHERE id = (SELECT id FROM job_runs WHERE org_id = $3 AND status = 'queued' ORDER BY id LIMIT 1) \
             AND status = 'queued' RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql).bind(worker_id).bind(to_ms(now)).bind(org.get()).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Fails the queued runs of an organization that cannot run them (no
    /// Cal.com connection), so the runs page says why instead of waiting.
    pub async fn fail_queued_runs(&self, org: OrgId, reason: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE job_runs SET status = 'failed', finished_at = $1, heartbeat_at = $1, error_detail = $2 \
             WHERE org_id = $3 AND status = 'queued'",
        )
        .bind(to_ms(now))
        .bind(reason)
        .bind(org.get())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The newest runs first.
    pub async fn recent_runs(&self, org: OrgId, limit: u32) -> Result<Vec<Run>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM job_runs WHERE org_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2");
        let rows = sqlx::query(&sql).bind(org.get()).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }
}
