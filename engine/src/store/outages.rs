//! Cal.com outages as the circuit breakers saw them (`verify::circuit`):
//! one begins when a breaker opens and ends when Cal.com answers again.
//! Breakers live in each process's memory; the outage is the
//! organization's, shared by every instance (at most one open at a time,
//! which the unique index decides), so the review queue can show the
//! issues of one outage as one group.

use chrono::{DateTime, Utc};

use super::row::get;
use super::time::{from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::{OrgId, OutageId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    pub id: OutageId,
    pub started_at: DateTime<Utc>,
    /// `None` while it lasts.
    pub ended_at: Option<DateTime<Utc>>,
}

impl Store {
    /// An outage of the organization's Cal.com began at `at`, unless one is
    /// already going on (another instance's, or this one's before a
    /// half-open probe failed).
    pub async fn outage_began(&self, org: OrgId, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO calcom_outages (org_id, started_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(org.get())
            .bind(to_ms(at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Cal.com answered at `at`: the organization's outage, if one is going
    /// on, ended then.
    pub async fn outage_ended(&self, org: OrgId, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE calcom_outages SET ended_at = $1 WHERE org_id = $2 AND ended_at IS NULL")
            .bind(to_ms(at))
            .bind(org.get())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The organization's outages among `ids`.
    pub async fn outages(&self, org: OrgId, ids: &[OutageId]) -> Result<Vec<Outage>, StoreError> {
        let mut found = Vec::new();
        // Chunked: both databases limit the number of placeholders.
        for chunk in ids.chunks(500) {
            let mut sql = super::sql::Sql::new("SELECT id, started_at, ended_at FROM calcom_outages WHERE org_id = ");
            sql.bind(org.get()).push(" AND id IN (").list(chunk.iter().map(|id| id.get())).push(")");
            let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
            for row in &rows {
                found.push(Outage {
                    id: OutageId(get(row, "id")?),
                    started_at: from_ms(get(row, "started_at")?),
                    ended_at: get::<Option<i64>>(row, "ended_at")?.map(from_ms),
                });
            }
        }
        Ok(found)
    }
}

/// The outage going on now, for an issue a failure opens (within the
/// caller's transaction or connection).
pub(super) async fn current<'e, E>(exec: E, org: OrgId) -> Result<Option<OutageId>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT id FROM calcom_outages WHERE org_id = $1 AND ended_at IS NULL")
        .bind(org.get())
        .fetch_optional(exec)
        .await?;
    row.map(|row| get(&row, "id").map(OutageId)).transpose()
}
