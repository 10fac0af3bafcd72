//! The review queue grouped by cause: unresolved issues that share an error
//! code and, where the code's reasons can be shared
//! (`ErrorCode::reason_is_shared`), the Cal.com outage their failures
//! happened in (one group per outage, whatever each failure's words), or
//! else the words of their reason ("VERIFICATION_ERROR · Cal.com was
//! unavailable (HTTP 503)"), with counts; and a step taken on every member
//! of a group at once. The admin confirms the members they saw (count and
//! `Members` fingerprint); the write re-checks both inside its transaction
//! and refuses if the group changed, so a group action never touches
//! issues nobody looked at.

use chrono::{DateTime, Utc};

use super::audit::{self, NewAuditEntry};
use super::events::{EventKind, NewSyncEvent};
use super::issues::Resolution;
use super::outages::Outage;
use super::row::{get, members, members_columns, parse};
use super::sql::Sql;
use super::sync_writes::{insert_events, IDS_PER_STATEMENT};
use super::time::{from_ms, to_ms};
use super::triage::{QueueFilter, TriageChange};
use super::{Backend, Store, StoreError};
use crate::domain::{AppointmentId, ErrorCode, Members, OrgId, OutageId, UserId};

/// Most issues one group action covers; a larger group is narrowed first
/// (by the "assigned to me" filter) or taken in parts.
pub const MAX_GROUP_ACTION: u64 = 1000;

/// What a group's members share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    pub code: ErrorCode,
    /// The issues' reason as stored, for a code whose reasons are shared
    /// and issues outside an outage; `None` for issues without one, and
    /// ignored for the other codes.
    pub detail: Option<String>,
    /// The Cal.com outage the members failed in (`None`: outside any).
    pub outage: Option<OutageId>,
}

/// The reason column as the groups use it: the stored reason for codes that
/// share theirs and issues outside an outage, nothing for the others.
fn reason_sql() -> String {
    let shared: Vec<String> =
        ErrorCode::ALL.iter().filter(|c| c.reason_is_shared()).map(|c| format!("'{}'", c.as_str())).collect();
    format!("CASE WHEN code IN ({}) AND outage_id IS NULL THEN detail ELSE NULL END", shared.join(", "))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueGroup {
    pub key: GroupKey,
    pub count: u64,
    /// The members as a fingerprint, which a group action confirms.
    pub members: Members,
    pub oldest: DateTime<Utc>,
    /// The outage of `key.outage`, when and how long.
    pub outage: Option<Outage>,
}

/// What a group action does to each member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    Triage(TriageChange),
    /// Close every member by hand with this note (each appointment's
    /// history says so, naming `actor`; its other issues stay open).
    MarkResolved {
        note: String,
        actor: String,
    },
}

/// The group action as asked: the members as the admin saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTarget {
    pub key: GroupKey,
    pub filter: QueueFilter,
    /// The members the admin confirmed (count and fingerprint).
    pub expected: Members,
}

fn push_members(sql: &mut Sql, org: OrgId, target_filter: QueueFilter, key: Option<&GroupKey>) {
    sql.push(" WHERE org_id = ").bind(org.get()).push(" AND resolved_at IS NULL");
    target_filter.push_where(sql);
    let Some(key) = key else { return };
    sql.push(" AND code = ").bind(key.code.as_str());
    match key.outage {
        Some(outage) => {
            sql.push(" AND outage_id = ").bind(outage.get());
            return;
        }
        None => sql.push(" AND outage_id IS NULL"),
    };
    if key.code.reason_is_shared() {
        match &key.detail {
            Some(detail) => sql.push(" AND detail = ").bind(detail.as_str()),
            None => sql.push(" AND detail IS NULL"),
        };
    }
}

impl Store {
    /// The unresolved issues the filter lists, grouped by cause, largest first.
    pub async fn queue_groups(&self, org: OrgId, filter: QueueFilter) -> Result<Vec<IssueGroup>, StoreError> {
        let reason = reason_sql();
        let mut sql = Sql::new(&format!(
            "SELECT code, {reason} AS reason, outage_id, {}, MIN(opened_at) AS oldest FROM sync_issues",
            members_columns("id")
        ));
        push_members(&mut sql, org, filter, None);
        sql.push(&format!(" GROUP BY code, {reason}, outage_id ORDER BY n DESC, oldest, code"));
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        let mut groups = rows
            .iter()
            .map(|row| {
                let outage = get::<Option<i64>>(row, "outage_id")?.map(OutageId);
                Ok(IssueGroup {
                    key: GroupKey { code: parse(row, "code")?, detail: get(row, "reason")?, outage },
                    count: u64::try_from(get::<i64>(row, "n")?).unwrap_or(0),
                    members: members(row)?,
                    oldest: from_ms(get(row, "oldest")?),
                    outage: None,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let ids: Vec<OutageId> = groups.iter().filter_map(|g| g.key.outage).collect();
        if !ids.is_empty() {
            let outages = self.outages(org, &ids).await?;
            for group in &mut groups {
                group.outage = outages.iter().find(|o| Some(o.id) == group.key.outage).copied();
            }
        }
        Ok(groups)
    }

    /// Applies `change` to every member of the group by `by` and records the
    /// audit entry `entry` makes of the number changed, in one transaction,
    /// after checking the group still has exactly the members the admin
    /// confirmed. Members the step does not fit (already acknowledged, say)
    /// are left alone; if none fits, nothing is written.
    pub async fn change_group(
        &self,
        org: OrgId,
        target: &GroupTarget,
        change: &GroupChange,
        (by, at): (UserId, DateTime<Utc>),
        entry: impl FnOnce(u64) -> NewAuditEntry,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut count = Sql::new(&format!("SELECT {} FROM sync_issues", members_columns("id")));
        push_members(&mut count, org, target.filter, Some(&target.key));
        let row = sqlx::query_with(count.text(self.backend), count.arguments()?).fetch_one(&mut *tx).await?;
        let now_members = members(&row)?;
        let expected = target.expected.count;
        if now_members.count != expected {
            return Err(StoreError::Conflict(format!(
                "The group now has {} issues, not the {expected} you confirmed; look at it again.",
                now_members.count
            )));
        }
        if now_members != target.expected {
            return Err(StoreError::Conflict(format!(
                "The group now holds other issues than the {expected} you confirmed; look at it again."
            )));
        }
        let changed = match change {
            GroupChange::Triage(step) => {
                let mut sql = Sql::new("UPDATE sync_issues SET ");
                step.push_update(&mut sql, by, at);
                push_members(&mut sql, org, target.filter, Some(&target.key));
                sql.push(step.guard());
                sqlx::query_with(sql.text(self.backend), sql.arguments()?).execute(&mut *tx).await?.rows_affected()
            }
            GroupChange::MarkResolved { note, actor } => {
                mark_resolved(&mut tx, org, target, (by, actor), note, at).await?
            }
        };
        if changed == 0 {
            return Err(StoreError::Conflict(
                "None of the group's issues fits this step: it was taken already.".into(),
            ));
        }
        audit::insert(&mut *tx, org, &entry(changed)).await?;
        tx.commit().await?;
        Ok(changed)
    }
}

/// Closes the group's members with `note`: each appointment gets its history
/// line and leaves manual review once none of its issues is open.
async fn mark_resolved(
    tx: &mut sqlx::AnyConnection,
    org: OrgId,
    target: &GroupTarget,
    (by, actor): (UserId, &str),
    note: &str,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut members = Sql::new("SELECT appointment_id FROM sync_issues");
    push_members(&mut members, org, target.filter, Some(&target.key));
    let rows = sqlx::query_with(members.text(Backend::of(tx)), members.arguments()?).fetch_all(&mut *tx).await?;
    let appointments: Vec<AppointmentId> = rows
        .iter()
        .map(|r| get::<Option<i64>>(r, "appointment_id"))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .map(AppointmentId)
        .collect();
    let mut close = Sql::new("UPDATE sync_issues SET resolved_at = ");
    close.bind(to_ms(at)).push(", resolution = ").bind(Resolution::MarkedResolved.as_str());
    close.push(", resolved_by = ").bind(by.get()).push(", resolution_note = ").bind(note);
    push_members(&mut close, org, target.filter, Some(&target.key));
    let closed =
        sqlx::query_with(close.text(Backend::of(tx)), close.arguments()?).execute(&mut *tx).await?.rows_affected();
    for chunk in appointments.chunks(IDS_PER_STATEMENT) {
        let mut review = Sql::new("UPDATE appointments SET requires_manual_review = 0, updated_at = ");
        review.bind(to_ms(at)).push(" WHERE org_id = ").bind(org.get());
        review.push(" AND id IN (").list(chunk.iter().map(|id| id.get())).push(")");
        review.push(
            " AND NOT EXISTS (SELECT 1 FROM sync_issues s WHERE s.org_id = appointments.org_id \
             AND s.appointment_id = appointments.id AND s.resolved_at IS NULL)",
        );
        sqlx::query_with(review.text(Backend::of(tx)), review.arguments()?).execute(&mut *tx).await?;
    }
    let events: Vec<NewSyncEvent> = appointments
        .iter()
        .map(|appointment| NewSyncEvent {
            appointment_id: Some(*appointment),
            kind: EventKind::Resolution,
            result: Some(Resolution::MarkedResolved.as_str().into()),
            attempt: None,
            duration_ms: None,
            detail: Some(format!("Marked as resolved with its group: {note}")),
            technical: None,
            actor: actor.to_owned(),
            actor_user_id: Some(by),
            at,
        })
        .collect();
    insert_events(&mut *tx, org, &events.iter().collect::<Vec<_>>()).await?;
    Ok(closed)
}
