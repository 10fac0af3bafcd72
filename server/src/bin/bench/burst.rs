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
use chrono::Utc;
use engine::calcom::webhook::sign;
use engine::calcom::BookingStatus;
use engine::calcom_sim::{spawn, BookingEdit, SimConfig};
use engine::store::Backend;
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

pub async fn burst(backend: Backend, deliveries: usize, senders: usize) -> Result<Burst> {
    let db = TestDb::new(backend).await;
    let sim = spawn(SimConfig::default()).await?;
    let org = fleet::organization(&db.store, "acme", &sim).await?;
    let starts = fleet::business_hours(deliveries, 20);
    let uids = fleet::seed_bookings(&sim, &starts)?;
    fleet::import(&db.url, &org.slug, &starts, &uids).await?;
    let instance = Instance::start(db.store.clone()).await?;
    let n = deliveries as i64;
    fleet::until(&db.store, org.id, Duration::from_secs(600), "in sync before the burst", |c| c.synced == n).await?;

    // A salon's day cancelled in bulk: Cal.com changes, then delivers.
    for uid in &uids {
        let cancel = BookingEdit { status: Some(BookingStatus::Cancelled), ..BookingEdit::default() };
        sim.control().edit(uid, cancel)?;
    }
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
                    let body = serde_json::json!({
                        "triggerEvent": "BOOKING_CANCELLED",
                        "createdAt": Utc::now().to_rfc3339(),
                        "payload": { "uid": uid, "status": "CANCELLED" }
                    })
                    .to_string();
                    let signature = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
                    let sent = Instant::now();
                    let answer = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("X-Cal-Signature-256", signature)
                        .body(body)
                        .send()
                        .await;
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
