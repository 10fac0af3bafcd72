//! What the worker owes whom, asked in a few statements for all
//! organizations at once: a round over a thousand organizations with
//! nothing due must not cost a thousand round trips per question.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::row::get;
use super::runs::RunKind;
use super::sql::Sql;
use super::time::to_ms;
use super::{Backend, Store, StoreError};
use crate::domain::OrgId;

/// Scheduled slots per statement on PostgreSQL (three values each; it
/// takes 65,535).
const SLOTS_PER_VALUES: usize = 1000;

/// Scheduled slots per statement on SQLite: each is an OR term, and SQLite
/// refuses expressions nested deeper than 1,000.
const SLOTS_PER_TERMS: usize = 300;

/// One organization's scheduled slot of one kind of run.
type Slot = (OrgId, RunKind, DateTime<Utc>);

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
    pub async fn slots_started(&self, slots: &[Slot]) -> Result<HashSet<Slot>, StoreError> {
        let mut started = HashSet::new();
        let (per_statement, text): (usize, fn(&[Slot]) -> Sql) = match self.backend {
            Backend::Postgres => (SLOTS_PER_VALUES, slots_as_values),
            Backend::Sqlite => (SLOTS_PER_TERMS, slots_as_terms),
        };
        for chunk in slots.chunks(per_statement) {
            let sql = text(chunk);
            let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
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

// Two texts for one question, because each database is slow with the
// other's (measured with `BENCH_ONLY=worker make bench`, 1,000
// organizations): PostgreSQL plans a long OR afresh on every call (66 ms a
// round, 45 ms with VALUES), SQLite walks an OR term by term along
// `job_runs_slot` but materialises VALUES first (61 ms a round, 75 ms with
// VALUES).

/// The slots as a VALUES table joined with the runs (VALUES names its
/// columns column1, column2, column3).
fn slots_as_values(chunk: &[Slot]) -> Sql {
    let mut sql = Sql::new("SELECT j.org_id, j.kind, j.slot_at FROM job_runs j JOIN (VALUES ");
    for (i, (org, kind, slot)) in chunk.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(org.get()).push(", ").bind(kind.as_str()).push(", ").bind(to_ms(*slot)).push(")");
    }
    sql.push(
        ") AS v ON j.org_id = v.column1 AND j.kind = v.column2 AND j.slot_at = v.column3 \
         WHERE j.slot_at IS NOT NULL",
    );
    sql
}

/// The slots as one OR term each.
fn slots_as_terms(chunk: &[Slot]) -> Sql {
    let mut sql = Sql::new("SELECT org_id, kind, slot_at FROM job_runs WHERE slot_at IS NOT NULL AND (");
    for (i, (org, kind, slot)) in chunk.iter().enumerate() {
        sql.push(if i == 0 { "(org_id = " } else { " OR (org_id = " });
        sql.bind(org.get()).push(" AND kind = ").bind(kind.as_str()).push(" AND slot_at = ");
        sql.bind(to_ms(*slot)).push(")");
    }
    sql.push(")");
    sql
}
