//! Claiming due verification work. A claim is a lease: the worker owns the
//! appointment until `claim_expires_at`, so a crashed worker's claims lapse
//! on their own. Storing a verification result releases the claim.

use chrono::{DateTime, Duration, Utc};

use super::appointments::{from_row, Appointment, COLUMNS};
use super::sql::Sql;
use super::time::to_ms;
use super::{Backend, Store, StoreError};
use crate::domain::{AppointmentId, OrgId};

/// The advisory-lock key space of claims ("clm" in the high bytes), one
/// key per organization.
const CLAIM_LOCK: i64 = 0x636c_6d00_0000_0000;

impl Store {
    /// Claims up to `limit` appointments of `org` whose verification is due
    /// and that nobody holds, soonest due first. Two workers never get the
    /// same appointment, nor split one organization's due work between
    /// them (each would plan its share with its own sizing and listing,
    /// costing the shared key a second plan): on PostgreSQL, claims of one
    /// organization take turns on a transaction-level advisory lock (row
    /// locks alone let a second claim skip the rows the first has locked so
    /// far and take the rest); SQLite runs one writer at a time anyway.
    pub async fn claim_due(
        &self,
        org: OrgId,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Appointment>, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE appointments SET claimed_by = $1, claim_expires_at = $2 WHERE id IN (\
               SELECT id FROM appointments WHERE org_id = $3 AND next_verification_at <= $4 \
               AND (claim_expires_at IS NULL OR claim_expires_at <= $4) \
               ORDER BY next_verification_at, id LIMIT $5{lock}) \
             RETURNING {COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(CLAIM_LOCK + org.get()).execute(&mut *tx).await?;
        }
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(to_ms(now + lease))
            .bind(org.get())
            .bind(to_ms(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut claimed = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|a| (a.sync.next_verification_at, a.id));
        Ok(claimed)
    }

    /// Extends the lease on whatever `worker` still holds in `org` to
    /// `until`: a long claim being worked through is not handed to another
    /// instance halfway (which would verify it twice on one key's budget).
    pub async fn extend_claims(&self, org: OrgId, worker: &str, until: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("UPDATE appointments SET claim_expires_at = $3 WHERE org_id = $1 AND claimed_by = $2")
            .bind(org.get())
            .bind(worker)
            .bind(to_ms(until))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Gives back `worker`'s claims on `ids` unworked, so the next run can
    /// take them at once rather than after the lease.
    pub async fn release_claims(&self, org: OrgId, worker: &str, ids: &[AppointmentId]) -> Result<u64, StoreError> {
        let mut released = 0;
        for chunk in ids.chunks(500) {
            let mut sql =
                Sql::new("UPDATE appointments SET claimed_by = NULL, claim_expires_at = NULL WHERE org_id = ");
            sql.bind(org.get()).push(" AND claimed_by = ").bind(worker.to_owned());
            sql.push(" AND id IN (").list(chunk.iter().map(|id| id.get())).push(")");
            released +=
                sqlx::query_with(sql.text(self.backend), sql.arguments()?).execute(&self.pool).await?.rows_affected();
        }
        Ok(released)
    }

    /// How many appointments are due now (claimed or not).
    pub async fn count_due(&self, org: OrgId, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM appointments WHERE org_id = $1 AND next_verification_at <= $2")
                .bind(org.get())
                .bind(to_ms(now))
                .fetch_one(&self.pool)
                .await?;
        super::row::get(&row, "n")
    }

    /// Makes one appointment due at `at` ("verify now", or a test moving
    /// time along). Returns whether it exists in `org`.
    pub async fn make_due(&self, org: OrgId, id: AppointmentId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE appointments SET next_verification_at = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.get())
            .bind(id.get())
            .bind(to_ms(at))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The appointments (any state) pointing at one of `uids`.
    pub async fn appointments_linked_to(&self, org: OrgId, uids: &[&str]) -> Result<Vec<Appointment>, StoreError> {
        let mut found = Vec::new();
        // Chunked: both databases limit the number of placeholders.
        for chunk in uids.chunks(500) {
            let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM appointments WHERE org_id = "));
            sql.bind(org.get()).push(" AND calcom_booking_uid IN (").list(chunk.iter().copied()).push(")");
            let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
            for row in &rows {
                found.push(from_row(row)?);
            }
        }
        Ok(found)
    }

    /// Makes these appointments due at `at`, unless they already are.
    pub async fn make_all_due(&self, org: OrgId, ids: &[AppointmentId], at: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut changed = 0;
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new("UPDATE appointments SET next_verification_at = ");
            sql.bind(to_ms(at)).push(" WHERE org_id = ").bind(org.get());
            sql.push(" AND (next_verification_at IS NULL OR next_verification_at > ")
                .bind(to_ms(at))
                .push(") AND id IN (")
                .list(chunk.iter().map(|id| id.get()))
                .push(")");
            changed +=
                sqlx::query_with(sql.text(self.backend), sql.arguments()?).execute(&self.pool).await?.rows_affected();
        }
        Ok(changed)
    }
}
