//! `make soak` (not part of `make test`): a long resilience run. Many
//! appointments are checked again and again while the Cal.com simulator
//! answers 30 % of requests with 5xx, times out, and throws 429 storms,
//! during comprehensive checks and cycles alike; then Cal.com recovers.
//! Nothing may be flagged from a fault, and after recovery everything is
//! synced. Sizes: SOAK_APPOINTMENTS (default 2000), SOAK_ROUNDS (6).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use calcom_sim::matched::{seed_matching, Customer};
use calcom_sim::{spawn, Faults, SimConfig, SimHandle};
use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::calcom::{CalcomClient, RateBudget};
use engine::clock::{Clock, ManualClock};
use engine::domain::{ErrorCode, OrgId, SyncStatus};
use engine::store::{Appointment, Backend, NewOrganization, Organization, RunKind, RunStart, Store, Trigger};
use engine::testing::TestDb;
use engine::verify::circuit::{CircuitConfig, Circuits};
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap()
}

struct Soak {
    store: Store,
    org: Organization,
    clock: ManualClock,
    sim: SimHandle,
    client: CalcomClient,
    verifier: Verifier,
    appointments: Vec<Appointment>,
}

async fn soak(store: Store, n: usize) -> Soak {
    engine::calcom::ensure_crypto_provider();
    let new = NewOrganization { slug: "soak".into(), name: "Soak".into(), time_zone: chrono_tz::Europe::Berlin };
    let org = store.create_organization(&new, t0()).await.unwrap();
    let clock = ManualClock::at(t0());
    let sim = spawn(SimConfig::default().with_rate_limit(None).with_clock(Arc::new(clock.clone()))).await.unwrap();
    let mut config = sim.client_config();
    config.request_timeout = StdDuration::from_millis(400);
    config.connect_timeout = StdDuration::from_millis(400);
    config.budget = RateBudget::new(1_000_000, StdDuration::from_secs(1));
    let client = CalcomClient::new(config).unwrap();
    let verifier = Verifier::new(
        store.clone(),
        Arc::new(Circuits::new(CircuitConfig::default())),
        RetryLadder::default(),
        Arc::new(clock.clone()),
    );
    let mut w = Soak { store, org, clock, sim, client, verifier, appointments: Vec::with_capacity(n) };
    for i in 0..n {
        let booked = w.booked(i).await;
        w.appointments.push(booked);
    }
    w
}

impl Soak {
    async fn booked(&self, i: usize) -> Appointment {
        let start = t0() + Duration::days(1) + Duration::minutes(30 * i as i64);
        let (name, email) = (format!("Kunde {i}"), format!("kunde{i}@example.com"));
        let customer = Customer { name: &name, email: &email };
        seed_matching(&self.store, self.org.id, &self.sim, start, customer, self.clock.now()).await.1
    }

    async fn run(&self, kind: RunKind) {
        let start =
            RunStart { kind, trigger: Trigger::Manual, slot_at: None, worker_id: "soak".into(), requested_by: None };
        match kind {
            RunKind::Comprehensive => self.verifier.run_comprehensive(&self.org, &self.client, &start).await.unwrap(),
            _ => self.verifier.run_cycle(&self.org, &self.client, &start).await.unwrap(),
        }
        .expect("no other run of the kind is under way");
    }

    async fn make_all_due(&self) {
        let ids: Vec<_> = self.appointments.iter().map(|a| a.id).collect();
        self.store.make_all_due(self.org.id, &ids, self.clock.now()).await.unwrap();
    }

    /// Open issues that claim something is wrong (not just "could not check").
    async fn false_verdicts(&self) -> Vec<ErrorCode> {
        let issues = self.store.open_issues(self.org.id, None, 10_000).await.unwrap();
        issues
            .into_iter()
            .map(|i| i.code)
            .filter(|c| matches!(c, ErrorCode::OrphanedLocal | ErrorCode::OrphanedCalcom | ErrorCode::DataMismatch))
            .collect()
    }

    async fn count(&self, status: SyncStatus) -> i64 {
        count_status(&self.store, self.org.id, status).await
    }
}

async fn count_status(store: &Store, org: OrgId, status: SyncStatus) -> i64 {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM appointments WHERE org_id = $1 AND sync_status = $2")
        .bind(org.get())
        .bind(status.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    sqlx::Row::get(&row, "n")
}

/// The fault phases of one round, each through a comprehensive check and
/// the retry ladder's cycles.
fn phases() -> [Faults; 4] {
    let errors = Faults { error_rate: 0.3, error_status: 503, latency_ms: 2, ..Faults::default() };
    [
        errors.clone(),
        Faults { rate_limit_storm: 20, storm_retry_after: 1, ..errors.clone() },
        // Every request hangs past the client's timeout.
        Faults { hang_ms: 1_000, ..Faults::default() },
        Faults { error_rate: 0.3, error_status: 502, rate_limit_storm: 5, ..Faults::default() },
    ]
}

// Ignored: minutes long. `make soak` runs it with `-- --ignored soak`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn soak_sqlite() {
    soak_faults_never_become_verdicts(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn soak_postgres() {
    soak_faults_never_become_verdicts(Backend::Postgres).await;
}

async fn soak_faults_never_become_verdicts(backend: Backend) {
    let db = TestDb::new(backend).await;
    let n = size("SOAK_APPOINTMENTS", 2000);
    let rounds = size("SOAK_ROUNDS", 6);
    let w = soak(db.store.clone(), n).await;
    w.run(RunKind::Comprehensive).await;
    assert_eq!(w.count(SyncStatus::Synced).await, n as i64, "all synced before the storm");

    for round in 0..rounds {
        for faults in phases() {
            w.sim.control().set_faults(faults);
            w.make_all_due().await;
            w.run(RunKind::Comprehensive).await;
            for wait in [0, 1, 5] {
                w.clock.advance(Duration::minutes(wait));
                w.run(RunKind::Cycle).await;
            }
            assert_eq!(w.false_verdicts().await, [], "round {round}: a fault is never evidence");
        }
        w.clock.advance(Duration::hours(6));
    }

    // Cal.com recovers: past the circuit's cool-down, everything is checked again.
    w.sim.control().reset_faults();
    w.clock.advance(Duration::hours(1));
    w.make_all_due().await;
    w.run(RunKind::Cycle).await;
    w.run(RunKind::Comprehensive).await;
    assert_eq!(w.count(SyncStatus::Synced).await, n as i64, "everything synced after recovery");
    assert_eq!(w.false_verdicts().await, []);
    let open = w.store.open_issues(w.org.id, None, 10_000).await.unwrap();
    assert!(
        open.is_empty(),
        "no issue stays open after recovery: {:?}",
        open.iter().map(|i| i.code).collect::<Vec<_>>()
    );
}
