//! Issue 17: a burst of signed webhook deliveries from concurrent senders
//! to a serving calsync's real receiver (`POST /webhooks/calcom/{org}`),
//! against the simulator at its default rate limit. Every delivery names
//! a booking that was just cancelled in Cal.com (silently: the senders
//! here are the webhooks), whose appointment calsync had in sync. Timed:
//! each answer, and the burst's start until every appointment shows the
//! change (Failed, data mismatch). Calls are the simulator's, for the burst.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use calcom_sim::{spawn, BookingEdit, SimConfig, SimHandle};
use chrono::Utc;
use engine::calcom::webhook::sign;
use engine::calcom::BookingStatus;
use engine::store::{Backend, Organization};
use engine::testing::TestDb;

use crate::fleet::{self, Instance};
use crate::live::WEBHOOK_SECRET;
use crate::web::percentile;

pub struct Burst {
    pub non_ok: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub sending_seconds: f64,
    pub visible_seconds: f64,
    pub calls: u64,
    pub by_endpoint: String,
}

/// Bookings in the simulator with their appointments imported into a
/// fresh database, as a first import leaves them.
struct Booked {
    db: TestDb,
    sim: SimHandle,
    org: Organization,
    uids: Vec<String>,
}

async fn booked(backend: Backend, n: usize) -> Result<Booked> {
    let db = TestDb::new(backend).await;
    let sim = spawn(SimConfig::default()).await?;
    let org = fleet::organization(&db.store, "acme", &sim).await?;
    let starts = fleet::business_hours(n, 20);
    let uids = fleet::seed_bookings(&sim, &starts)?;
    fleet::import(&db.url, &org.slug, &starts, &uids).await?;
    Ok(Booked { db, sim, org, uids })
}

/// A salon's day cancelled in bulk in Cal.com, without its webhooks: the
/// senders below are the webhooks.
fn cancel_silently(sim: &SimHandle, uids: &[String]) -> Result<()> {
    for uid in uids {
        let cancel = BookingEdit { status: Some(BookingStatus::Cancelled), ..BookingEdit::default() };
        sim.control().edit(uid, cancel)?;
    }
    Ok(())
}

/// One `BOOKING_CANCELLED` delivery for `uid`, signed as Cal.com signs.
async fn deliver_cancellation(http: &reqwest::Client, url: &str, uid: &str) -> reqwest::Result<reqwest::Response> {
    let body = serde_json::json!({
        "triggerEvent": "BOOKING_CANCELLED",
        "createdAt": Utc::now().to_rfc3339(),
        "payload": { "uid": uid, "status": "CANCELLED" }
    })
    .to_string();
    let signature = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
    http.post(url)
        .header("content-type", "application/json")
        .header("X-Cal-Signature-256", signature)
        .body(body)
        .send()
        .await
}

pub async fn burst(backend: Backend, deliveries: usize, senders: usize) -> Result<Burst> {
    let Booked { db, sim, org, uids } = booked(backend, deliveries).await?;
    let instance = Instance::start(db.store.clone()).await?;
    let n = deliveries as i64;
    fleet::until(&db.store, org.id, Duration::from_secs(600), "in sync before the burst", |c| c.synced == n).await?;

    cancel_silently(&sim, &uids)?;
    sim.control().reset_counters();
    let url = format!("{}/webhooks/calcom/{}", instance.base, org.slug);
    let http = reqwest::Client::new();
    let uids = Arc::new(uids);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let (http, url, uids, next) = (http.clone(), url.clone(), uids.clone(), next.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(uid) = uids.get(i) else { return answers };
                    let sent = Instant::now();
                    let answer = deliver_cancellation(&http, &url, uid).await;
                    let status = match answer {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let _ = response.bytes().await;
                            status
                        }
                        Err(_) => 0,
                    };
                    answers.push((status, sent.elapsed().as_secs_f64() * 1000.0));
                }
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(deliveries);
    for task in tasks {
        answers.extend(task.await?);
    }
    let sending_seconds = started.elapsed().as_secs_f64();
    if answers.len() != deliveries {
        bail!("{} answers for {deliveries} deliveries", answers.len());
    }
    let non_ok = answers.iter().filter(|(status, _)| *status != 200).count();
    let mut times: Vec<f64> = answers.iter().map(|(_, ms)| *ms).collect();
    fleet::until(&db.store, org.id, Duration::from_secs(600), "every change visible", |c| c.failed == n).await?;
    let visible_seconds = started.elapsed().as_secs_f64();
    let counters = sim.control().counters();
    let by_endpoint = fleet::by_endpoint(&sim);
    instance.stop().await;
    Ok(Burst {
        non_ok,
        p50_ms: percentile(&mut times, 50),
        p99_ms: percentile(&mut times, 99),
        sending_seconds,
        visible_seconds,
        calls: counters.total,
        by_endpoint,
    })
}

/// What a `kill -9` in the middle of a burst cost.
pub struct Crash {
    /// Deliveries answered 200 before the process died.
    pub acknowledged: usize,
    /// Acknowledged deliveries not acted on after the restart.
    pub lost: usize,
    /// Acknowledged deliveries whose appointment did not show the change.
    pub unchanged: usize,
    /// Acknowledged deliveries not yet acted on when the process died.
    pub pending_at_kill: usize,
    /// The restart until every acknowledged delivery was acted on.
    pub recovered_seconds: f64,
}

/// The release `calsync serve` as a process of its own on `addr`, so that
/// it can be killed with SIGKILL (no shutdown code runs, as in a crash).
fn serve(database_url: &str, addr: std::net::SocketAddr) -> Result<std::process::Child> {
    Ok(std::process::Command::new(crate::sim_process::release_calsync()?)
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("CALSYNC_ADDR", addr.to_string())
        .env("CALSYNC_SECRET_KEY", crate::web::key_hex())
        // The dead process's claims are taken over at once after the restart.
        .env("CALSYNC_WORKER_STALE_SECS", "2")
        .env("SMTP_URL", "smtp://127.0.0.1:9")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?)
}

async fn until_up(http: &reqwest::Client, base: &str) -> Result<()> {
    for _ in 0..300 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("calsync did not come up at {base}")
}

/// Acknowledged deliveries (of `uids`) the inbox has acted on.
async fn acted_on(store: &engine::store::Store, uids: &[String]) -> Result<usize> {
    let mut done = 0;
    for chunk in uids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT COUNT(DISTINCT booking_uid) AS n FROM webhook_deliveries WHERE status = 'done' AND booking_uid IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for uid in chunk {
            query = query.bind(uid);
        }
        let row = query.fetch_one(store.pool()).await?;
        done += sqlx::Row::get::<i64, _>(&row, "n") as usize;
    }
    Ok(done)
}

/// `deliveries` signed deliveries from `senders` senders to a real
/// `calsync serve` process that is killed with SIGKILL when half have been
/// answered, then started again: every delivery it answered 200 must be
/// acted on after the restart.
pub async fn kill_mid_burst(backend: Backend, deliveries: usize, senders: usize) -> Result<Crash> {
    let Booked { db, sim, org, uids } = booked(backend, deliveries).await?;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let mut calsync = serve(&db.url, addr)?;
    until_up(&http, &base).await?;
    let n = deliveries as i64;
    fleet::until(&db.store, org.id, Duration::from_secs(600), "in sync before the burst", |c| c.synced == n).await?;
    cancel_silently(&sim, &uids)?;

    let url = format!("{base}/webhooks/calcom/{}", org.slug);
    let uids = Arc::new(uids);
    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let (http, url, uids, next, answered) =
                (http.clone(), url.clone(), uids.clone(), next.clone(), answered.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(uid) = uids.get(i) else { return acknowledged };
                    let answer = deliver_cancellation(&http, &url, uid).await;
                    // Only a 200 is an acknowledgement; a sender that saw none knows nothing was promised.
                    if answer.is_ok_and(|r| r.status().as_u16() == 200) {
                        answered.fetch_add(1, Ordering::Relaxed);
                        acknowledged.push(uid.clone());
                    }
                }
            })
        })
        .collect();
    while answered.load(Ordering::Relaxed) < deliveries / 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    calsync.kill()?;
    calsync.wait()?;
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await?);
    }

    let pending_at_kill = acknowledged.len() - acted_on(&db.store, &acknowledged).await?;
    let restarted = Instant::now();
    let mut calsync = serve(&db.url, addr)?;
    until_up(&http, &base).await?;
    let limit = Duration::from_secs(120);
    let mut done = acted_on(&db.store, &acknowledged).await?;
    while done < acknowledged.len() && restarted.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(200)).await;
        done = acted_on(&db.store, &acknowledged).await?;
    }
    let recovered_seconds = restarted.elapsed().as_secs_f64();
    let named: Vec<&str> = acknowledged.iter().map(String::as_str).collect();
    let linked = db.store.appointments_linked_to(org.id, &named).await?;
    let unchanged = linked.iter().filter(|a| a.sync.status != engine::domain::SyncStatus::Failed).count();
    calsync.kill()?;
    calsync.wait()?;
    Ok(Crash {
        acknowledged: acknowledged.len(),
        lost: acknowledged.len() - done,
        unchanged,
        pending_at_kill,
        recovered_seconds,
    })
}
