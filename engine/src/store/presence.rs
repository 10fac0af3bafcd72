//! Worker presence: every process beats `worker_presence` on its own timer.
//! A worker whose beat is older than the threshold is dead: its running
//! runs are interrupted and its claims released, so a restart (or another
//! instance) carries on at once instead of waiting for leases to lapse.
//! A live worker's beat is fresh however slow its work is, so its runs and
//! claims are never taken from it.

use chrono::{DateTime, Utc};

use super::time::to_ms;
use super::{Store, StoreError};

/// What recovering from dead workers did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    pub runs_interrupted: u64,
    pub claims_released: u64,
}

/// Workers whose last beat is before `$2`.
const DEAD: &str = "SELECT worker_id FROM worker_presence WHERE heartbeat_at < $2";

impl Store {
    /// Says this worker is alive at `now`.
    pub async fn worker_heartbeat(&self, worker: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO worker_presence (worker_id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
             ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(worker)
        .bind(to_ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A worker stopping on purpose (SIGTERM): its running runs are
    /// interrupted and its claims on appointments and webhook deliveries
    /// released, so another instance (or the next start) carries on at once.
    pub async fn release_worker(&self, worker: &str, now: DateTime<Utc>) -> Result<Recovered, StoreError> {
        let mut tx = self.begin_write().await?;
        let runs = sqlx::query(
            "UPDATE job_runs SET status = 'interrupted', finished_at = $1, \
             error_detail = 'calsync was stopped before the run finished' WHERE status = 'running' AND worker_id = $2",
        )
        .bind(to_ms(now))
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        let claims =
            sqlx::query("UPDATE appointments SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by = $1")
                .bind(worker)
                .execute(&mut *tx)
                .await?;
        let deliveries = sqlx::query(
            "UPDATE webhook_deliveries SET claimed_by = NULL, claim_expires_at = NULL \
             WHERE status = 'pending' AND claimed_by = $1",
        )
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM worker_presence WHERE worker_id = $1").bind(worker).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Recovered {
            runs_interrupted: runs.rows_affected(),
            claims_released: claims.rows_affected() + deliveries.rows_affected(),
        })
    }

    /// Interrupts the running runs and releases the claims of every worker
    /// whose last beat is before `alive_since`, then forgets those workers.
    /// One transaction, so a worker is never forgotten with claims left.
    pub async fn recover_dead_workers(
        &self,
        alive_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Recovered, StoreError> {
        let mut tx = self.begin_write().await?;
        let runs = sqlx::query(&format!(
            "UPDATE job_runs SET status = 'interrupted', finished_at = $1, \
             error_detail = 'the worker stopped before finishing' \
             WHERE status = 'running' AND worker_id IN ({DEAD})"
        ))
        .bind(to_ms(now))
        .bind(to_ms(alive_since))
        .execute(&mut *tx)
        .await?;
        let claims = sqlx::query(&format!(
            "UPDATE appointments SET claimed_by = NULL, claim_expires_at = NULL \
             WHERE claimed_by IS NOT NULL AND claim_expires_at > $1 AND claimed_by IN ({DEAD})"
        ))
        .bind(to_ms(now))
        .bind(to_ms(alive_since))
        .execute(&mut *tx)
        .await?;
        let deliveries = sqlx::query(&format!(
            "UPDATE webhook_deliveries SET claimed_by = NULL, claim_expires_at = NULL \
             WHERE status = 'pending' AND claimed_by IS NOT NULL AND claim_expires_at > $1 AND claimed_by IN ({DEAD})"
        ))
        .bind(to_ms(now))
        .bind(to_ms(alive_since))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM worker_presence WHERE heartbeat_at < $1")
            .bind(to_ms(alive_since))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Recovered {
            runs_interrupted: runs.rows_affected(),
            claims_released: claims.rows_affected() + deliveries.rows_affected(),
        })
    }
}
