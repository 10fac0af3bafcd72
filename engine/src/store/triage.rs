//! Triage of the review queue: acknowledging, assigning and ignoring issues,
//! each written with its audit entry in one transaction; and the queue's
//! filtered listing.

use chrono::{DateTime, Utc};

use super::audit::{self, NewAuditEntry};
use super::issues::{from_row, IgnoreUntil, Issue, COLUMNS};
use super::row::get;
use super::sql::Sql;
use super::time::{from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::{AppointmentId, IssueId, OrgId, UserId};

/// The issue that has waited longest for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OldestIssue {
    pub id: IssueId,
    /// `None` for a Cal.com-only booking.
    pub appointment: Option<AppointmentId>,
    pub opened_at: DateTime<Utc>,
}

/// One triage step, as the store writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageChange {
    Acknowledge,
    /// `None` unassigns.
    Assign(Option<UserId>),
    Ignore {
        reason: String,
        until: IgnoreUntil,
    },
    StopIgnoring,
}

/// Which unresolved issues the queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueView {
    /// Open and acknowledged issues: what someone has to look at.
    #[default]
    NeedsAttention,
    Ignored,
    /// Every unresolved issue, ignored ones included.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueFilter {
    pub view: QueueView,
    pub assigned_to: Option<UserId>,
}

impl QueueFilter {
    /// The filter's conditions, each starting with " AND ".
    pub(super) fn push_where(self, sql: &mut Sql) {
        match self.view {
            QueueView::NeedsAttention => sql.push(" AND ignored_at IS NULL"),
            QueueView::Ignored => sql.push(" AND ignored_at IS NOT NULL"),
            QueueView::All => &mut *sql,
        };
        if let Some(user) = self.assigned_to {
            sql.push(" AND assigned_to = ").bind(user.get());
        }
    }
}

impl TriageChange {
    /// The SET clause and the state the issue must be in for it to apply.
    pub(super) fn push_update(&self, sql: &mut Sql, by: UserId, now: DateTime<Utc>) {
        match self {
            TriageChange::Acknowledge => {
                sql.push("acknowledged_at = ").bind(to_ms(now)).push(", acknowledged_by = ").bind(by.get());
            }
            TriageChange::Assign(to) => {
                sql.push("assigned_to = ").bind(to.map(UserId::get));
            }
            TriageChange::Ignore { reason, until } => {
                let (date, left) = until.columns();
                sql.push("ignored_at = ").bind(to_ms(now)).push(", ignored_by = ").bind(by.get());
                sql.push(", ignore_reason = ").bind(reason.as_str());
                sql.push(", ignored_until = ").bind(date).push(", ignore_left = ").bind(left);
            }
            TriageChange::StopIgnoring => {
                sql.push(
                    "ignored_at = NULL, ignored_by = NULL, ignore_reason = NULL, ignored_until = NULL, ignore_left = NULL",
                );
            }
        }
    }

    pub(super) fn guard(&self) -> &'static str {
        match self {
            TriageChange::Acknowledge => " AND ignored_at IS NULL AND acknowledged_at IS NULL",
            TriageChange::Assign(_) => "",
            TriageChange::Ignore { .. } => " AND ignored_at IS NULL",
            TriageChange::StopIgnoring => " AND ignored_at IS NOT NULL",
        }
    }
}

impl Store {
    /// Applies `change` to an unresolved issue and records `entry`, together.
    /// A change that no longer fits (another admin was quicker, the issue
    /// closed meanwhile) is a conflict and writes nothing.
    pub async fn triage_issue(
        &self,
        org: OrgId,
        id: IssueId,
        change: &TriageChange,
        entry: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let by =
            entry.user_id.ok_or_else(|| StoreError::Conflict("a triage step needs the admin who took it".into()))?;
        let mut sql = Sql::new("UPDATE sync_issues SET ");
        change.push_update(&mut sql, by, entry.at);
        // An admin acting on an issue has seen it: an issue a crash left
        // untold is not announced after that.
        sql.push(", notified_at = COALESCE(notified_at, ").bind(to_ms(entry.at)).push(")");
        sql.push(" WHERE org_id = ").bind(org.get()).push(" AND id = ").bind(id.get());
        sql.push(" AND resolved_at IS NULL").push(change.guard());
        let mut tx = self.begin_write().await?;
        let done = sqlx::query_with(sql.text(self.backend), sql.arguments()?).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("the issue changed meanwhile; reload to see where it stands".into()));
        }
        audit::insert(&mut *tx, org, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Unresolved issues for the queue, oldest first.
    pub async fn queue_issues(&self, org: OrgId, filter: QueueFilter, limit: u32) -> Result<Vec<Issue>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM sync_issues WHERE org_id = "));
        sql.bind(org.get()).push(" AND resolved_at IS NULL");
        filter.push_where(&mut sql);
        sql.push(" ORDER BY opened_at, id LIMIT ").bind(i64::from(limit));
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// The oldest issue that still needs attention: the dashboard links to it.
    pub async fn oldest_open_issue(&self, org: OrgId) -> Result<Option<OldestIssue>, StoreError> {
        let row = sqlx::query(
            "SELECT id, appointment_id, opened_at FROM sync_issues \
             WHERE org_id = $1 AND resolved_at IS NULL AND ignored_at IS NULL ORDER BY opened_at, id LIMIT 1",
        )
        .bind(org.get())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(OldestIssue {
                id: IssueId(get(&row, "id")?),
                appointment: get::<Option<i64>>(&row, "appointment_id")?.map(AppointmentId),
                opened_at: from_ms(get(&row, "opened_at")?),
            })
        })
        .transpose()
    }
}
