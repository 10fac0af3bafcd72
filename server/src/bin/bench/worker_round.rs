//! One worker round over many organizations with nothing due: every
//! scheduled slot already run, every appointment verified, nothing asked
//! for. What it costs is the worker's fixed price per instance and tick.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{ensure, Result};
use chrono::{Duration, Utc};
use engine::clock::SystemClock;
use engine::schedule::LocalSchedule;
use engine::store::{Backend, NewOrganization, Organization, RunKind};
use engine::testing::TestDb;
use engine::verify::circuit::Circuits;
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;
use engine::worker::{Connector, Worker};

/// Appointments per organization, all verified and none due.
const APPOINTMENTS: usize = 50;

/// A connector that has nothing to connect: a round with nothing due must
/// not need Cal.com (or the credentials) at all.
struct Nowhere;

impl Connector for Nowhere {
    type Source = engine::calcom::CalcomClient;
    async fn connect(&self, _org: &Organization) -> Option<Self::Source> {
        None
    }
}

/// The median and slowest of `rounds` worker ticks over `orgs` idle
/// organizations, in ms.
pub async fn idle_round_ms(backend: Backend, orgs: usize, rounds: usize) -> Result<(f64, f64)> {
    let db = TestDb::new(backend).await;
    let store = db.store.clone();
    let now = Utc::now();
    let mut slots = Vec::new();
    for i in 0..orgs {
        let new = NewOrganization {
            slug: format!("org-{i}"),
            name: format!("Organization {i}"),
            time_zone: chrono_tz::Europe::Berlin,
        };
        let org = store.create_organization(&new, now - Duration::days(30)).await?;
        for (kind, cron) in [(RunKind::Comprehensive, &org.comprehensive_cron), (RunKind::Cycle, &org.cycle_cron)] {
            if let Some(slot) = LocalSchedule::parse(cron, org.time_zone)?.latest_slot(now) {
                slots.push((org.id, kind, slot));
            }
        }
        let values: Vec<String> = (0..APPOINTMENTS)
            .map(|k| {
                let start = (now + Duration::hours(k as i64 + 1)).timestamp_millis();
                format!(
                    "({}, 'Kunde {k}', 'Haarschnitt', {start}, {}, 'Europe/Berlin', 'scheduled', 'api', 'uid-{i}-{k}', 'synced', NULL, {t}, {t}, {t})",
                    org.id.get(),
                    start + 1_800_000,
                    t = now.timestamp_millis()
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO appointments (org_id, customer_name, service, starts_at, ends_at, time_zone, status, source, \
             calcom_booking_uid, sync_status, next_verification_at, last_verified_at, created_at, updated_at) VALUES {}",
            values.join(", ")
        ))
        .execute(store.pool())
        .await?;
    }
    for (org, kind, slot) in &slots {
        sqlx::query(
            "INSERT INTO job_runs (org_id, kind, trigger_kind, slot_at, status, worker_id, started_at, heartbeat_at, finished_at) \
             VALUES ($1, $2, 'schedule', $3, 'succeeded', 'earlier', $3, $3, $3)",
        )
        .bind(org.get())
        .bind(kind.as_str())
        .bind(slot.timestamp_millis())
        .execute(store.pool())
        .await?;
    }
    let verifier =
        Verifier::new(store.clone(), Arc::new(Circuits::default()), RetryLadder::default(), Arc::new(SystemClock));
    let worker = Worker::new(store.clone(), verifier, Nowhere, Arc::new(SystemClock), "bench".into());
    worker.tick().await?; // warm the connection pool and the page cache
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let report = worker.tick().await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        ensure!(report.runs_started == 0 && report.verified == 0, "the round found work: {report:?}");
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() - 1]))
}
