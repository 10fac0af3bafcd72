//! What the worker owes whom, asked in a few statements for all
//! organizations at once: a round over a thousand organizations with
//! nothing due must not cost a thousand round trips per question.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::row::get;
use super::runs::RunKind;
use super::sql::Sql;
use super::time::to_ms;
use super::{Store, StoreError};
use crate::domain::OrgId;

/// Scheduled slots per statement (three values each).
const SLOTS_PER_STATEMENT: usize = 300;

/// The organizations with work waiting, as of one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agenda {
    /// With a run someone asked for ("run now"), not yet taken.
    pub queued: HashSet<OrgId>,
    /// With appointments due for verification that nobody holds.
    pub due: HashSet<OrgId>,
}

impl Store {
    pub async fn agenda(&self, now: DateTime<Utc>) -> Result<Agenda, StoreError> {
        let queued =
            sqlx::query("SELECT DISTINCT org_id FROM job_runs WHERE status = 'queued'").fetch_all(&self.pool).await?;
        // Along `appointments_due` (next_verification_at): only due rows are read.
        let due = sqlx::query(
            "SELECT DISTINCT org_id FROM appointments WHERE next_verification_at <= $1 \
             AND (claim_expires_at IS NULL OR claim_expires_at <= $1)",
        )
        .bind(to_ms(now))
        .fetch_all(&self.pool)
        .await?;
        let ids = |rows: Vec<sqlx::any::AnyRow>| -> Result<HashSet<OrgId>, StoreError> {
            rows.iter().map(|r| get(r, "org_id").map(OrgId)).collect()
        };
        Ok(Agenda { queued: ids(queued)?, due: ids(due)? })
    }

    /// Which of these scheduled slots already have their run (started by
    /// any instance, finished or not).
    pub async fn slots_started(
        &self,
        slots: &[(OrgId, RunKind, DateTime<Utc>)],
    ) -> Result<HashSet<(OrgId, RunKind, DateTime<Utc>)>, StoreError> {
        let mut started = HashSet::new();
        for chunk in slots.chunks(SLOTS_PER_STATEMENT) {
            let mut sql = Sql::new("SELECT org_id, kind, slot_at FROM job_runs WHERE slot_at IS NOT NULL AND (");
            for (i, (org, kind, slot)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(org_id = " } else { " OR (org_id = " });
                sql.bind(org.get()).push(" AND kind = ").bind(kind.as_str()).push(" AND slot_at = ");
                sql.bind(to_ms(*slot)).push(")");
            }
            sql.push(")");
            let rows = sqlx::query_with(sql.text(), sql.arguments()?).fetch_all(&self.pool).await?;
            for row in &rows {
                let org = OrgId(get(row, "org_id")?);
                let kind: String = get(row, "kind")?;
                let Ok(kind) = kind.parse::<RunKind>() else { continue };
                started.insert((org, kind, super::time::from_ms(get(row, "slot_at")?)));
            }
        }
        Ok(started)
    }
}
