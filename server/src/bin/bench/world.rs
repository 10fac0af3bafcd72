//! One measured setup: a fresh database, an organization connected to a
//! simulator without a rate limit, and the verifier with the real rules.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, Context, Result};
use calcom_sim::{spawn, BookingEdit, SeedBooking, SimConfig, SimHandle};
use chrono::{Duration, Utc};
use engine::calcom::{CalcomClient, ClientConfig, RateBudget};
use engine::clock::SystemClock;
use engine::store::{Backend, NewOrganization, Organization, RunKind, RunStart, Trigger};
use engine::testing::TestDb;
use engine::verify::circuit::Circuits;
use engine::verify::ladder::RetryLadder;
use engine::verify::runner::RunReport;
use engine::verify::service::Verifier;

use crate::sim_process::SimProcess;

/// Rows per INSERT: well under both databases' statement limits.
const CHUNK: usize = 1000;

pub struct World {
    db: TestDb,
    org: Organization,
    sim: Sim,
    source: CalcomClient,
    verifier: Verifier,
}

/// Where the bookings live: in this process (its call counters and edits
/// are at hand) or in a process of its own (memory figures are calsync's).
enum Sim {
    Here(SimHandle),
    Apart(SimProcess),
}

impl Sim {
    async fn seed(&self, seeds: Vec<SeedBooking>) -> Result<Vec<String>> {
        match self {
            Sim::Here(sim) => Ok(sim.seed(seeds)?),
            Sim::Apart(sim) => sim.seed(seeds).await,
        }
    }

    fn here(&self) -> Result<&SimHandle> {
        match self {
            Sim::Here(sim) => Ok(sim),
            Sim::Apart(_) => bail!("this measurement needs the in-process simulator"),
        }
    }
}

impl World {
    /// With the simulator in this process.
    pub async fn new(backend: Backend) -> Result<World> {
        let sim = spawn(SimConfig::default().with_rate_limit(None)).await?;
        let config = sim.client_config();
        World::with(backend, Sim::Here(sim), config).await
    }

    /// With the simulator in a process of its own.
    pub async fn apart(backend: Backend) -> Result<World> {
        let sim = SimProcess::start().await?;
        let config = sim.client_config();
        World::with(backend, Sim::Apart(sim), config).await
    }

    async fn with(backend: Backend, sim: Sim, mut config: ClientConfig) -> Result<World> {
        let db = TestDb::new(backend).await;
        let now = Utc::now();
        let new = NewOrganization { slug: "bench".into(), name: "Bench".into(), time_zone: chrono_tz::Europe::Berlin };
        let org = db.store.create_organization(&new, now).await?;
        // The simulator has no limit; neither should the client's pacing.
        config.budget = RateBudget::new(1_000_000, StdDuration::from_secs(1));
        let source = CalcomClient::new(config).context("client")?;
        let verifier = Verifier::new(
            db.store.clone(),
            Arc::new(Circuits::default()),
            RetryLadder::default(),
            Arc::new(SystemClock),
        );
        Ok(World { db, org, sim, source, verifier })
    }

    pub fn store(&self) -> &engine::store::Store {
        &self.db.store
    }

    pub fn org_id(&self) -> engine::domain::OrgId {
        self.org.id
    }

    /// `n` bookings in Cal.com and their matching appointments, spread over
    /// the next 150 days (inside the default 180-day window).
    pub async fn populate(&self, n: usize) -> Result<()> {
        let first = Utc::now() + Duration::hours(1);
        let start = |i: usize| first + Duration::minutes((i as i64 * 150 * 24 * 60) / n.max(1) as i64);
        // Booked over the last 90 days, as a real account's are (all at one
        // instant, every booking would sit inside the watermark's overlap).
        let booked = |i: usize| Utc::now() - Duration::minutes(((n - i) as i64 * 90 * 24 * 60) / n.max(1) as i64);
        let seeds = (0..n)
            .map(|i| SeedBooking {
                end: Some(start(i) + Duration::minutes(30)),
                created_at: Some(booked(i)),
                ..SeedBooking::at(start(i))
            })
            .collect();
        let uids = self.sim.seed(seeds).await?;
        let rows = uids.iter().enumerate().map(|(i, uid)| (start(i), Some(uid.as_str()), "pending"));
        self.insert(rows.collect()).await
    }

    /// `n` appointments in a mix of states, for the summary query.
    pub async fn bulk_rows(&self, n: usize) -> Result<()> {
        let states =
            ["synced", "synced", "synced", "synced", "pending", "failed", "orphaned_local", "verification_pending"];
        let first = Utc::now();
        let rows = (0..n).map(|i| (first + Duration::minutes(i as i64), None, states[i % states.len()]));
        self.insert(rows.collect()).await
    }

    /// Written in bulk: measuring the verifier, not 100,000 single inserts.
    async fn insert(&self, rows: Vec<(chrono::DateTime<Utc>, Option<&str>, &str)>) -> Result<()> {
        let now = Utc::now().timestamp_millis();
        for chunk in rows.chunks(CHUNK) {
            let values: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, (start, uid, state))| {
                    let (s, e) = (start.timestamp_millis(), (*start + Duration::minutes(30)).timestamp_millis());
                    let uid = uid.map(|u| format!("'{u}'")).unwrap_or_else(|| "NULL".into());
                    format!(
                        "({}, 'Kunde {i}', 'Haarschnitt', {s}, {e}, 'Europe/Berlin', 'scheduled', 'import', {uid}, 1, '{state}', {now}, {now}, {now})",
                        self.org.id.get()
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO appointments (org_id, customer_name, service, starts_at, ends_at, time_zone, status, source, \
                 calcom_booking_uid, calcom_event_type_id, sync_status, next_verification_at, created_at, updated_at) VALUES {}",
                values.join(", ")
            );
            // Not kept as a prepared statement: each text is unique and
            // about 200 KB, and a cache of them is not calsync's memory.
            sqlx::query(&sql).persistent(false).execute(self.db.store.pool()).await?;
        }
        Ok(())
    }

    /// Moves one booking by an hour in Cal.com, silently (no webhook).
    pub fn change_one_booking(&self) -> Result<()> {
        let sim = self.sim.here()?;
        let booking = sim.control().bookings().into_iter().next().context("a booking")?;
        let edit = BookingEdit { start: Some(booking.start + Duration::hours(1)), ..BookingEdit::default() };
        sim.control().edit(&booking.uid, edit)?;
        Ok(())
    }

    /// Cal.com requests one run of `kind` makes, as the simulator counted them.
    pub async fn calls_for(&self, kind: RunKind) -> Result<u64> {
        self.sim.here()?.reset_counters();
        self.run(kind).await?;
        Ok(self.sim.here()?.counters().total)
    }

    /// One run of `kind`, as the worker would start it.
    pub async fn run(&self, kind: RunKind) -> Result<RunReport> {
        let start =
            RunStart { kind, trigger: Trigger::Cli, slot_at: None, worker_id: "bench".into(), requested_by: None };
        let report = match kind {
            RunKind::Comprehensive => self.verifier.run_comprehensive(&self.org, &self.source, &start).await?,
            _ => self.verifier.run_cycle(&self.org, &self.source, &start).await?,
        };
        tracing::debug!(?report, "bench run");
        report.map_err(|not| anyhow::anyhow!("the run did not start: {not:?}"))
    }

    /// Empties the page cache of every SQLite connection the pool holds
    /// (`PRAGMA shrink_memory`). Filling the table through them left up to
    /// each connection's cache size of the table's pages resident, more the
    /// bigger the table: that memory is the filling's, not the check's, and
    /// a check run by a calsync that did not just write the table starts
    /// without it.
    pub async fn forget_cached_pages(&self) -> Result<()> {
        if self.db.store.backend() != Backend::Sqlite {
            return Ok(());
        }
        let pool = self.db.store.pool();
        let mut held = Vec::new();
        for _ in 0..pool.size() {
            held.push(pool.acquire().await?);
        }
        for conn in &mut held {
            sqlx::query("PRAGMA shrink_memory").execute(&mut **conn).await?;
        }
        Ok(())
    }

    /// History rows of the organization so far.
    pub async fn history_rows(&self) -> Result<u64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sync_events WHERE org_id = $1")
            .bind(self.org.id.get())
            .fetch_one(self.db.store.pool())
            .await?;
        Ok(n as u64)
    }

    /// The floor of a comprehensive check on this machine, in seconds: the
    /// same window listed from the same simulator (every page, as the
    /// verifier lists it) and the same outcomes written in one transaction:
    /// every appointment's state, and as many history rows as the check
    /// wrote (`history_rows`: a check that moves appointments into sync
    /// records each move; one that confirms them records none). No
    /// comparing, no run record. Run after a real check, so it writes the
    /// same states (synced stays synced).
    pub async fn floor_seconds(&self, history_rows: u64) -> Result<f64> {
        use engine::verify::source::BookingSource;
        let started = Instant::now();
        let now = Utc::now();
        let window =
            (now - Duration::days(self.org.window_days_back), now + Duration::days(self.org.window_days_ahead));
        let listing = self.source.list_window(window.0, window.1).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut tx = self.db.store.pool().begin().await?;
        let written = sqlx::query(
            "UPDATE appointments SET sync_status = 'synced', sync_error_code = NULL, sync_attempts = 0, \
             last_verified_at = $1, next_verification_at = NULL, updated_at = $1 WHERE org_id = $2",
        )
        .bind(now.timestamp_millis())
        .bind(self.org.id.get())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "INSERT INTO sync_events (org_id, appointment_id, kind, result, attempt, duration_ms, detail, actor, at) \
             SELECT org_id, id, 'verification', 'synced', 1, 0, 'In sync with Cal.com', 'system', $1 \
             FROM appointments WHERE org_id = $2 ORDER BY id LIMIT $3",
        )
        .bind(now.timestamp_millis())
        .bind(self.org.id.get())
        .bind(history_rows as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(listing.bookings.len() as u64 >= written, "the floor listed fewer bookings than it wrote");
        Ok(seconds)
    }

    /// A naive verifier's cost per appointment, in seconds: one GET of the
    /// booking by uid and one write of its outcome, for `sample`
    /// appointments in turn (the whole table would take as long as the
    /// figure says it would).
    pub async fn naive_seconds_each(&self, sample: usize) -> Result<f64> {
        use engine::verify::source::BookingSource;
        let uids: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, calcom_booking_uid FROM appointments WHERE org_id = $1 AND calcom_booking_uid IS NOT NULL \
             ORDER BY id LIMIT $2",
        )
        .bind(self.org.id.get())
        .bind(sample as i64)
        .fetch_all(self.db.store.pool())
        .await?;
        anyhow::ensure!(!uids.is_empty(), "no linked appointments to ask about");
        let started = Instant::now();
        for (id, uid) in &uids {
            let found = BookingSource::booking(&self.source, uid).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            anyhow::ensure!(found.is_some(), "the simulator has booking {uid}");
            sqlx::query(
                "UPDATE appointments SET sync_status = 'synced', last_verified_at = $1, updated_at = $1 WHERE id = $2",
            )
            .bind(Utc::now().timestamp_millis())
            .bind(id)
            .execute(self.db.store.pool())
            .await?;
        }
        Ok(started.elapsed().as_secs_f64() / uids.len() as f64)
    }

    /// The 99th percentile of the dashboard's summary query, in ms.
    pub async fn summary_p99_ms(&self, samples: usize) -> Result<f64> {
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let started = Instant::now();
            self.db.store.sync_counts(self.org.id).await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        Ok(times[(samples * 99 / 100).min(samples - 1)])
    }
}
