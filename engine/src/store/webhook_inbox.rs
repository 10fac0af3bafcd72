//! The webhook inbox (`webhook_deliveries`): a signed delivery is stored in
//! one insert before it is answered, then drained by a worker (claims as for
//! appointments, so with several instances each delivery is acted on once,
//! and a crash loses nothing that was acknowledged). The same rows are the
//! deliveries log the admins read, and, with `webhook_coverage`, what
//! webhook health is judged by.

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;

use super::row::{get, parse};
use super::sql::Sql;
use super::time::{from_ms, opt_from_ms, to_ms};
use super::{Backend, Store, StoreError};
use crate::domain::{string_enum, AppointmentId, OrgId};

string_enum! {
    /// What acting on a delivery came to.
    pub enum DeliveryOutcome : "delivery outcome" {
        /// The appointments of the bookings it names were verified.
        Verified = "verified",
        /// A trigger that cannot change sync state, or no appointment has its bookings.
        Ignored = "ignored",
        /// Cal.com could not be asked; the appointments stay due and are retried.
        Failed = "failed",
    }
}

string_enum! {
    pub enum DeliveryStatus : "delivery status" {
        Pending = "pending",
        Done = "done",
    }
}

/// A delivery as the receiver stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub body_sha256: String,
    pub trigger: String,
    pub uid: Option<String>,
    pub previous_uid: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// What storing a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// New: to be acted on.
    New(i64),
    /// The same body was delivered before (counted on the first one).
    Replay(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub org_id: OrgId,
    pub trigger: String,
    pub uid: Option<String>,
    pub previous_uid: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub status: DeliveryStatus,
    pub outcome: Option<DeliveryOutcome>,
    pub detail: Option<String>,
    pub appointment_ids: Vec<AppointmentId>,
    pub replays: i64,
    pub processed_at: Option<DateTime<Utc>>,
}

impl Delivery {
    /// The bookings it names.
    pub fn uids(&self) -> impl Iterator<Item = &str> {
        [self.uid.as_deref(), self.previous_uid.as_deref()].into_iter().flatten()
    }
}

/// How one delivery ended, to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub id: i64,
    pub outcome: DeliveryOutcome,
    pub detail: Option<String>,
    pub appointment_ids: Vec<AppointmentId>,
}

/// Which deliveries a log page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub outcome: Option<DeliveryOutcome>,
    pub trigger: Option<String>,
    /// A booking uid, exactly.
    pub uid: Option<String>,
    /// Older than this id (keyset paging, newest first).
    pub before_id: Option<i64>,
}

const COLUMNS: &str = "id, org_id, trigger, booking_uid, previous_uid, sent_at, received_at, status, outcome, \
    detail, appointment_ids, replays, processed_at";

fn from_row(row: &AnyRow) -> Result<Delivery, StoreError> {
    let ids: Option<String> = get(row, "appointment_ids")?;
    let outcome: Option<String> = get(row, "outcome")?;
    Ok(Delivery {
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        trigger: get(row, "trigger")?,
        uid: get(row, "booking_uid")?,
        previous_uid: get(row, "previous_uid")?,
        sent_at: opt_from_ms(get(row, "sent_at")?),
        received_at: from_ms(get(row, "received_at")?),
        status: parse(row, "status")?,
        outcome: outcome
            .map(|o| o.parse())
            .transpose()
            .map_err(|e| StoreError::Corrupt { column: "outcome", detail: format!("{e}") })?,
        detail: get(row, "detail")?,
        appointment_ids: ids
            .as_deref()
            .map(serde_json::from_str::<Vec<i64>>)
            .transpose()
            .map_err(|e| StoreError::Corrupt { column: "appointment_ids", detail: e.to_string() })?
            .unwrap_or_default()
            .into_iter()
            .map(AppointmentId)
            .collect(),
        replays: get(row, "replays")?,
        processed_at: opt_from_ms(get(row, "processed_at")?),
    })
}

impl Store {
    /// Stores a signed delivery as pending, in one statement; a body seen
    /// before is counted as a replay of the first instead.
    pub async fn store_delivery(
        &self,
        org: OrgId,
        new: &NewDelivery,
        now: DateTime<Utc>,
    ) -> Result<Stored, StoreError> {
        let row = sqlx::query(
            "INSERT INTO webhook_deliveries \
               (org_id, body_sha256, trigger, booking_uid, previous_uid, sent_at, received_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') \
             ON CONFLICT (org_id, body_sha256) DO UPDATE SET replays = webhook_deliveries.replays + 1, \
               last_replay_at = excluded.received_at \
             RETURNING id, replays",
        )
        .bind(org.get())
        .bind(&new.body_sha256)
        .bind(&new.trigger)
        .bind(new.uid.as_deref())
        .bind(new.previous_uid.as_deref())
        .bind(new.sent_at.map(to_ms))
        .bind(to_ms(now))
        .fetch_one(&self.pool)
        .await?;
        let id = get(&row, "id")?;
        Ok(if get::<i64>(&row, "replays")? > 0 { Stored::Replay(id) } else { Stored::New(id) })
    }

    /// Organizations with deliveries waiting that nobody holds.
    pub async fn orgs_with_pending_deliveries(&self, now: DateTime<Utc>) -> Result<Vec<OrgId>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT org_id FROM webhook_deliveries WHERE status = 'pending' \
             AND (claim_expires_at IS NULL OR claim_expires_at <= $1) ORDER BY org_id",
        )
        .bind(to_ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| get(r, "org_id").map(OrgId)).collect()
    }

    /// Claims up to `limit` pending deliveries of `org`, oldest first; two
    /// workers never get the same one (as `claim_due`).
    pub async fn claim_deliveries(
        &self,
        org: OrgId,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET claimed_by = $1, claim_expires_at = $2 WHERE id IN (\
               SELECT id FROM webhook_deliveries WHERE org_id = $3 AND status = 'pending' \
               AND (claim_expires_at IS NULL OR claim_expires_at <= $4) ORDER BY received_at, id LIMIT $5{lock}) \
             RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(to_ms(now + lease))
            .bind(org.get())
            .bind(to_ms(now))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut claimed = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|d| (d.received_at, d.id));
        Ok(claimed)
    }

    /// Records how claimed deliveries ended, all in one transaction.
    pub async fn finish_deliveries(
        &self,
        org: OrgId,
        handled: &[Handled],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for done in handled {
            let ids: Vec<i64> = done.appointment_ids.iter().map(|a| a.get()).collect();
            sqlx::query(
                "UPDATE webhook_deliveries SET status = 'done', outcome = $1, detail = $2, appointment_ids = $3, \
                 processed_at = $4, claimed_by = NULL, claim_expires_at = NULL WHERE org_id = $5 AND id = $6",
            )
            .bind(done.outcome.as_str())
            .bind(done.detail.as_deref())
            .bind(serde_json::to_string(&ids).ok())
            .bind(to_ms(now))
            .bind(org.get())
            .bind(done.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends every pending delivery of `org` as failed with `reason` (the
    /// organization cannot act on them: no usable Cal.com key).
    pub async fn fail_pending_deliveries(
        &self,
        org: OrgId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'done', outcome = 'failed', detail = $1, processed_at = $2, \
             claimed_by = NULL, claim_expires_at = NULL WHERE org_id = $3 AND status = 'pending'",
        )
        .bind(reason)
        .bind(to_ms(now))
        .bind(org.get())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The deliveries log, newest first.
    pub async fn deliveries(
        &self,
        org: OrgId,
        filter: &DeliveryFilter,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM webhook_deliveries WHERE org_id = "));
        sql.bind(org.get());
        if let Some(outcome) = filter.outcome {
            sql.push(" AND outcome = ").bind(outcome.as_str());
        }
        if let Some(trigger) = &filter.trigger {
            sql.push(" AND trigger = ").bind(trigger.as_str());
        }
        if let Some(uid) = &filter.uid {
            sql.push(" AND (booking_uid = ")
                .bind(uid.as_str())
                .push(" OR previous_uid = ")
                .bind(uid.as_str())
                .push(")");
        }
        if let Some(before) = filter.before_id {
            sql.push(" AND id < ").bind(before);
        }
        sql.push(" ORDER BY id DESC LIMIT ").bind(i64::from(limit));
        let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// When the organization's newest delivery arrived (replays included).
    pub async fn last_delivery_at(&self, org: OrgId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query(
            "SELECT MAX(CASE WHEN last_replay_at > received_at THEN last_replay_at ELSE received_at END) AS at \
             FROM webhook_deliveries WHERE org_id = $1",
        )
        .bind(org.get())
        .fetch_one(&self.pool)
        .await?;
        Ok(opt_from_ms(get(&row, "at")?))
    }

    /// Of `uids`, those a delivery named that arrived at or after `since`.
    pub async fn announced_since(
        &self,
        org: OrgId,
        uids: &[&str],
        since: DateTime<Utc>,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut announced = std::collections::HashSet::new();
        for chunk in uids.chunks(200) {
            let mut sql = Sql::new("SELECT booking_uid, previous_uid FROM webhook_deliveries WHERE org_id = ");
            sql.bind(org.get()).push(" AND received_at >= ").bind(to_ms(since)).push(" AND (booking_uid IN (");
            sql.list(chunk.iter().copied()).push(") OR previous_uid IN (");
            sql.list(chunk.iter().copied()).push("))");
            for row in sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await? {
                announced.extend(get::<Option<String>>(&row, "booking_uid")?);
                announced.extend(get::<Option<String>>(&row, "previous_uid")?);
            }
        }
        Ok(announced)
    }

    /// One cycle's count: changes Cal.com had, and how many a webhook announced.
    pub async fn record_coverage(
        &self,
        org: OrgId,
        changes: u64,
        announced: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO webhook_coverage (org_id, at, changes, announced) VALUES ($1, $2, $3, $4)")
            .bind(org.get())
            .bind(to_ms(now))
            .bind(changes as i64)
            .bind(announced as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Changes seen and announced since `since`, summed.
    pub async fn coverage_since(&self, org: OrgId, since: DateTime<Utc>) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            // SUM of BIGINT is NUMERIC on PostgreSQL, which the Any driver cannot read.
            "SELECT CAST(COALESCE(SUM(changes), 0) AS BIGINT) AS changes, \
               CAST(COALESCE(SUM(announced), 0) AS BIGINT) AS announced \
             FROM webhook_coverage WHERE org_id = $1 AND at >= $2",
        )
        .bind(org.get())
        .bind(to_ms(since))
        .fetch_one(&self.pool)
        .await?;
        let count = |name| get::<i64>(&row, name).map(|n| n.max(0).unsigned_abs());
        Ok((count("changes")?, count("announced")?))
    }

    /// Since when the "webhooks look disabled" alert is open, if it is.
    pub async fn webhook_alert(&self, org: OrgId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query("SELECT opened_at FROM webhook_alerts WHERE org_id = $1")
            .bind(org.get())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "opened_at").map(from_ms)).transpose()
    }

    /// Opens the alert; false if it was open already.
    pub async fn open_webhook_alert(&self, org: OrgId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query("INSERT INTO webhook_alerts (org_id, opened_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(org.get())
            .bind(to_ms(now))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Closes the alert; returns when it had opened, if it was open.
    pub async fn close_webhook_alert(&self, org: OrgId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query("DELETE FROM webhook_alerts WHERE org_id = $1 RETURNING opened_at")
            .bind(org.get())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "opened_at").map(from_ms)).transpose()
    }
}
