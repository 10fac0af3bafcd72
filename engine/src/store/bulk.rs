//! Bulk actions by filter as background runs (job_runs of kind
//! `bulk_retry` or `bulk_resolve`): the set of appointments fixed when the
//! admin confirms, re-checked against the set they were shown (its
//! `Members` fingerprint) in the same transaction, then worked through in
//! batches, each batch's changes and per-item outcomes written together
//! (bulk_items).

use chrono::{DateTime, Utc};

use super::audit::{self, NewAuditEntry};
use super::resolutions::{apply, AppointmentResolution};
use super::row::{get, members, members_columns, parse_opt};
use super::runs::{ActiveRun, RunKind, RunStatus, Trigger};
use super::sql::Sql;
use super::time::to_ms;
use super::{AppointmentFilter, Store, StoreError};
use crate::domain::{string_enum, AppointmentId, AuditAction, Members, OrgId, RunId, UserId};

string_enum! {
    /// What a bulk run did with one appointment.
    pub enum BulkOutcome : "bulk outcome" {
        /// Queued for a fresh verification, audited in its history.
        Queued = "queued",
        /// Already waiting for verification: left as it was.
        AlreadyQueued = "already_queued",
        /// Deleted between the confirmation and the run.
        Gone = "gone",
        /// Its open issues closed with the run's note, audited in its history.
        Resolved = "resolved",
        /// Nothing to resolve: it no longer needed review when reached.
        NotInReview = "not_in_review",
    }
}

/// A bulk action as the admin confirmed it.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest<'a> {
    pub kind: RunKind,
    pub filter: &'a AppointmentFilter,
    /// The set the admin was shown.
    pub expected: Members,
    /// The most appointments one action may cover.
    pub cap: i64,
    pub by: UserId,
    /// The filter in words, kept with the run ("state Failed").
    pub scope: &'a str,
    /// The audit entry's action and its words ("retry of 12 appointments matching …").
    pub audit_action: AuditAction,
    pub audit_detail: String,
    /// The admin's note, which a resolution run closes each issue with.
    pub note: Option<&'a str>,
}

/// What asking for a bulk action led to.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkRequested {
    /// Queued for the worker with exactly the confirmed appointments.
    Queued(RunId),
    /// More match than one action may cover; nothing was queued.
    TooMany { matching: i64 },
    /// Another set matches by now (another number, or as many others);
    /// nothing was queued.
    Changed { matching: i64 },
    /// A bulk action of this kind is already queued or running.
    Busy(Box<ActiveRun>),
}

/// How far a bulk run has come, per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkTally {
    pub queued: i64,
    pub already_queued: i64,
    pub gone: i64,
    pub resolved: i64,
    pub not_in_review: i64,
    /// Not reached yet (or never, if the run was interrupted).
    pub pending: i64,
}

impl BulkTally {
    pub fn total(&self) -> i64 {
        self.queued + self.already_queued + self.gone + self.resolved + self.not_in_review + self.pending
    }

    pub fn done(&self) -> i64 {
        self.total() - self.pending
    }
}

/// One appointment of a bulk run, for its results page.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkItem {
    pub appointment: AppointmentId,
    /// `None` when the appointment no longer exists.
    pub customer: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    /// `None` while not reached.
    pub outcome: Option<BulkOutcome>,
}

/// Which of a run's items to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkItemFilter {
    All,
    Pending,
    Outcome(BulkOutcome),
}

impl Store {
    /// Queues a bulk run over the appointments `request.filter` matches,
    /// if they are still the `expected` number and at most `cap`, with its
    /// audit entry; all in one transaction, so the run covers exactly what
    /// the admin confirmed.
    pub async fn request_bulk(
        &self,
        org: OrgId,
        request: &BulkRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<BulkRequested, StoreError> {
        // A cheap count first, so an over-large filter is refused without
        // writing thousands of rows to roll back.
        let matching = self.count_appointments(org, request.filter).await?;
        if matching > request.cap {
            return Ok(BulkRequested::TooMany { matching });
        }
        // A run of the kind that ends between our insert and our look at
        // it leaves nothing to report: then the insert is simply tried again.
        for _ in 0..3 {
            if let Some(requested) = self.try_request_bulk(org, request, now).await? {
                return Ok(requested);
            }
        }
        Err(StoreError::Conflict("bulk runs of this kind keep starting and ending; ask again".into()))
    }

    /// One attempt of [`Store::request_bulk`]; `None` when the run it
    /// collided with had already finished when looked at.
    async fn try_request_bulk(
        &self,
        org: OrgId,
        request: &BulkRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<BulkRequested>, StoreError> {
        let mut tx = self.begin_write().await?;
        let run = sqlx::query(
            "INSERT INTO job_runs (org_id, kind, trigger_kind, status, requested_by, started_at, heartbeat_at, scope, \
             note) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(org.get())
        .bind(request.kind.as_str())
        .bind(Trigger::Manual.as_str())
        .bind(RunStatus::Queued.as_str())
        .bind(request.by.get())
        .bind(to_ms(now))
        .bind(request.scope)
        .bind(request.note)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(run) = run else {
            drop(tx);
            return Ok(self.active_run(org, request.kind).await?.map(|active| BulkRequested::Busy(Box::new(active))));
        };
        let id = RunId(get(&run, "id")?);
        // The set itself, then its fingerprint compared with the one the
        // admin was shown: this is the re-check.
        let mut sql = Sql::new("INSERT INTO bulk_items (run_id, appointment_id) SELECT CAST(");
        sql.bind(id.get()).push(" AS BIGINT), id FROM appointments");
        request.filter.push_where(org, &mut sql);
        sql.push(" LIMIT ").bind(request.cap + 1);
        sqlx::query_with(sql.text(self.backend), sql.arguments()?).execute(&mut *tx).await?;
        let written =
            sqlx::query(&format!("SELECT {} FROM bulk_items WHERE run_id = $1", members_columns("appointment_id")))
                .bind(id.get())
                .fetch_one(&mut *tx)
                .await?;
        let written = members(&written)?;
        if written != request.expected {
            // Dropping the transaction rolls the run back too.
            return Ok(Some(BulkRequested::Changed { matching: written.count }));
        }
        let written = written.count;
        sqlx::query("UPDATE job_runs SET total = $1 WHERE id = $2")
            .bind(written)
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        let entry = NewAuditEntry {
            user_id: Some(request.by),
            action: request.audit_action,
            target: Some(format!("run {id}")),
            detail: Some(request.audit_detail.clone()),
            at: now,
        };
        audit::insert(&mut *tx, org, &entry).await?;
        tx.commit().await?;
        Ok(Some(BulkRequested::Queued(id)))
    }

    /// The next `limit` appointments of a run not reached yet, by id.
    pub async fn bulk_pending(&self, org: OrgId, run: RunId, limit: u32) -> Result<Vec<AppointmentId>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.appointment_id FROM bulk_items b JOIN job_runs r ON r.id = b.run_id \
             WHERE r.org_id = $1 AND b.run_id = $2 AND b.outcome IS NULL ORDER BY b.appointment_id LIMIT $3",
        )
        .bind(org.get())
        .bind(run.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| get(row, "appointment_id").map(AppointmentId)).collect()
    }

    /// One batch of a bulk run: its appointments' changes and every item's
    /// outcome, in one transaction, so a crash leaves each item either done
    /// and recorded or still pending.
    pub async fn record_bulk_batch(
        &self,
        org: OrgId,
        run: RunId,
        changes: &[AppointmentResolution],
        outcomes: &[(AppointmentId, BulkOutcome)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for change in changes {
            apply(&mut tx, org, change).await?;
        }
        for &outcome in BulkOutcome::ALL {
            let ids: Vec<i64> = outcomes.iter().filter(|(_, o)| *o == outcome).map(|(id, _)| id.get()).collect();
            if ids.is_empty() {
                continue;
            }
            let mut sql = Sql::new("UPDATE bulk_items SET outcome = ");
            sql.bind(outcome.as_str()).push(" WHERE run_id = ").bind(run.get());
            sql.push(" AND run_id IN (SELECT id FROM job_runs WHERE org_id = ").bind(org.get()).push(")");
            sql.push(" AND appointment_id IN (").list(ids).push(")");
            sqlx::query_with(sql.text(self.backend), sql.arguments()?).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A bulk run's items counted by outcome.
    pub async fn bulk_tally(&self, org: OrgId, run: RunId) -> Result<BulkTally, StoreError> {
        let rows = sqlx::query(
            "SELECT b.outcome, COUNT(*) AS n FROM bulk_items b JOIN job_runs r ON r.id = b.run_id \
             WHERE r.org_id = $1 AND b.run_id = $2 GROUP BY b.outcome",
        )
        .bind(org.get())
        .bind(run.get())
        .fetch_all(&self.pool)
        .await?;
        let mut tally = BulkTally::default();
        for row in &rows {
            let n: i64 = get(row, "n")?;
            match parse_opt::<BulkOutcome>(row, "outcome")? {
                None => tally.pending += n,
                Some(BulkOutcome::Queued) => tally.queued += n,
                Some(BulkOutcome::AlreadyQueued) => tally.already_queued += n,
                Some(BulkOutcome::Gone) => tally.gone += n,
                Some(BulkOutcome::Resolved) => tally.resolved += n,
                Some(BulkOutcome::NotInReview) => tally.not_in_review += n,
            }
        }
        Ok(tally)
    }

    /// One page of a bulk run's items, by appointment id, after `after`.
    pub async fn bulk_items(
        &self,
        org: OrgId,
        run: RunId,
        filter: BulkItemFilter,
        after: Option<AppointmentId>,
        limit: u32,
    ) -> Result<Vec<BulkItem>, StoreError> {
        let mut sql = Sql::new(
            "SELECT b.appointment_id, b.outcome, a.customer_name, a.starts_at FROM bulk_items b \
             JOIN job_runs r ON r.id = b.run_id \
             LEFT JOIN appointments a ON a.id = b.appointment_id AND a.org_id = r.org_id WHERE r.org_id = ",
        );
        sql.bind(org.get()).push(" AND b.run_id = ").bind(run.get());
        match filter {
            BulkItemFilter::All => {}
            BulkItemFilter::Pending => {
                sql.push(" AND b.outcome IS NULL");
            }
            BulkItemFilter::Outcome(outcome) => {
                sql.push(" AND b.outcome = ").bind(outcome.as_str());
            }
        }
        if let Some(after) = after {
            sql.push(" AND b.appointment_id > ").bind(after.get());
        }
        sql.push(" ORDER BY b.appointment_id LIMIT ").bind(i64::from(limit));
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(BulkItem {
                    appointment: AppointmentId(get(row, "appointment_id")?),
                    customer: get(row, "customer_name")?,
                    starts_at: get::<Option<i64>>(row, "starts_at")?.map(super::time::from_ms),
                    outcome: parse_opt(row, "outcome")?,
                })
            })
            .collect()
    }
}
