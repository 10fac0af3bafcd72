//! calsync as it runs for real, in this process: `calsync serve`'s HTTP
//! app and background workers (verification, webhook inbox, presence) on
//! a pool of their own, `calsync import` and `calsync verify` through the
//! command line's own entry point (each opening its own pool, as a separate
//! process does), against the simulator at its default rate limit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, Result};
use calcom_sim::{SeedBooking, SimHandle};
use chrono::{DateTime, Duration, Utc};
use engine::calcom::NewAttendee;
use engine::domain::{OrgId, SyncCounts};
use engine::store::{NewOrganization, Organization, Store};
use server::cli::{Cli, Command, ImportArgs, VerifyArgs};
use server::commands::without_nagle;
use server::router::build_app;
use server::state::AppState;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::web::key;

/// One `calsync serve`: its app on a loopback port and its workers.
pub struct Instance {
    pub base: String,
    stop: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
    http: JoinHandle<()>,
}

impl Instance {
    /// Serves `store` (give each instance its own pool) with the workers
    /// `calsync serve` starts, at their production intervals.
    pub async fn start(store: Store) -> Result<Instance> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let state = AppState::new(store, key(), &base, "target/site", addr);
        let app = build_app(state.clone());
        let (stop, stopped) = watch::channel(false);
        let worker = Arc::new(state.worker(StdDuration::from_secs(60)));
        let workers = vec![
            server::workers::spawn_presence(worker.clone(), stopped.clone()),
            server::workers::spawn_verification(worker.clone(), state.wake_worker.clone(), stopped.clone()),
            server::workers::spawn_inbox(worker, state.wake_inbox.clone(), state.live.clone(), stopped),
        ];
        let http = tokio::spawn(async move {
            let _ = axum::serve(without_nagle(listener), app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        Ok(Instance { base, stop, workers, http })
    }

    /// As on SIGTERM: the workers finish their round and stop.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
        self.http.abort();
    }
}

/// An organization `slug` connected to `sim` (its key and webhook secret).
pub async fn organization(store: &Store, slug: &str, sim: &SimHandle) -> Result<Organization> {
    let new = NewOrganization { slug: slug.into(), name: slug.into(), time_zone: chrono_tz::Europe::Berlin };
    let org = store.create_organization(&new, Utc::now()).await?;
    crate::live::connect(store, org.id, sim).await?;
    Ok(store.organization(org.id).await?)
}

/// `n` appointment starts from tomorrow on, over `days` working days,
/// 08:00–18:00 UTC, evenly spread (several staff booking in parallel).
pub fn business_hours(n: usize, days: usize) -> Vec<DateTime<Utc>> {
    let days = days.max(1);
    let per_day = n.div_ceil(days).max(1);
    let first = (Utc::now() + Duration::days(1)).date_naive().and_hms_opt(8, 0, 0).expect("08:00").and_utc();
    (0..n)
        .map(|i| {
            let day = (i / per_day) as i64;
            first + Duration::days(day) + Duration::seconds(((i % per_day) as i64 * 600 * 60) / per_day as i64)
        })
        .collect()
}

fn customer(i: usize) -> (String, String) {
    (format!("Kunde {i}"), format!("kunde{i}@example.com"))
}

/// One booking per start in the simulator, booked by its customer.
pub fn seed_bookings(sim: &SimHandle, starts: &[DateTime<Utc>]) -> Result<Vec<String>> {
    let seeds = starts
        .iter()
        .enumerate()
        .map(|(i, start)| {
            let (name, email) = customer(i);
            let attendee =
                NewAttendee { name, email, time_zone: "Europe/Berlin".into(), phone_number: None, language: None };
            SeedBooking { attendee: Some(attendee), ..SeedBooking::at(*start) }
        })
        .collect();
    Ok(sim.control().seed(seeds)?)
}

/// `calsync import --org SLUG FILE`, with one line per booking (its uid,
/// its customer, its time): what a new user's first import looks like.
pub async fn import(url: &str, slug: &str, starts: &[DateTime<Utc>], uids: &[String]) -> Result<()> {
    let lines: Vec<String> = starts
        .iter()
        .zip(uids)
        .enumerate()
        .map(|(i, (start, uid))| {
            let (name, email) = customer(i);
            serde_json::json!({
                "external_id": format!("import-{i}"),
                "customer_name": name,
                "customer_email": email,
                "service": "Beratung",
                "starts_at": start.to_rfc3339(),
                "ends_at": (*start + Duration::minutes(30)).to_rfc3339(),
                "time_zone": "Europe/Berlin",
                "calcom_booking_uid": uid,
                "calcom_event_type_id": 1,
            })
            .to_string()
        })
        .collect();
    let file = std::env::temp_dir().join(format!("calsync-bench-import-{}-{slug}.jsonl", std::process::id()));
    std::fs::write(&file, lines.join("\n"))?;
    let args = ImportArgs { org: slug.into(), file: file.display().to_string() };
    let done = cli(url, Command::Import(args)).await;
    let _ = std::fs::remove_file(&file);
    done
}

/// `calsync verify --org SLUG --full`.
pub async fn verify_full(url: &str, slug: &str) -> Result<()> {
    let args = VerifyArgs {
        org: slug.into(),
        full: true,
        secret_key: Some(crate::web::key_hex()),
        public_url: None,
        smtp_url: None,
        retry_delays: "1m,5m".into(),
    };
    cli(url, Command::Verify(args)).await
}

/// A command as `calsync` runs it: it opens the database itself.
async fn cli(url: &str, command: Command) -> Result<()> {
    server::commands::run(Cli { database_url: url.into(), command: Some(command) }).await
}

/// Appointments Cal.com was not yet asked about (new, or on the ladder).
pub fn unverified(counts: &SyncCounts) -> i64 {
    counts.pending + counts.verification_pending
}

pub fn total(counts: &SyncCounts) -> i64 {
    counts.synced
        + counts.pending
        + counts.failed
        + counts.orphaned_local
        + counts.orphaned_calcom
        + counts.verification_pending
        + counts.requires_review
}

/// Polls the organization's counts every 100 ms until `done` says so;
/// the seconds it took.
pub async fn until(
    store: &Store,
    org: OrgId,
    limit: StdDuration,
    what: &str,
    done: impl Fn(&SyncCounts) -> bool,
) -> Result<f64> {
    let started = Instant::now();
    loop {
        let counts = store.sync_counts(org).await?;
        if done(&counts) {
            return Ok(started.elapsed().as_secs_f64());
        }
        if started.elapsed() > limit {
            bail!("{what}: not reached within {} s ({counts:?})", limit.as_secs());
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

/// The simulator's counts per endpoint, for a note.
pub fn by_endpoint(sim: &SimHandle) -> String {
    let counters = sim.control().counters();
    counters.by_endpoint.iter().map(|(endpoint, n)| format!("{n} × {endpoint}")).collect::<Vec<_>>().join(", ")
}
