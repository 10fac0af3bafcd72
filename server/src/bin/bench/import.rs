//! Issue 15: a first import of many appointments, each with its booking
//! uid, verified by a serving calsync's worker between slots (its plain
//! "verify what is due", no comprehensive check), against the simulator at
//! its default rate limit. Calls are counted by the simulator from the
//! start of the import; the time runs from the end of the import until no
//! appointment is left unverified.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use calcom_sim::{spawn, SimConfig};
use engine::store::Backend;
use engine::testing::TestDb;

use crate::fleet::{self, Instance};

pub struct Imported {
    pub calls: u64,
    pub limited: u64,
    pub seconds: f64,
    pub import_seconds: f64,
    pub synced: i64,
    pub by_endpoint: String,
}

pub async fn import_verified(backend: Backend, n: usize, days: usize) -> Result<Imported> {
    let db = TestDb::new(backend).await;
    let sim = spawn(SimConfig::default()).await?;
    let org = fleet::organization(&db.store, "acme", &sim).await?;
    let starts = fleet::business_hours(n, days);
    let uids = fleet::seed_bookings(&sim, &starts)?;
    // calsync is serving while the admin imports, as a new user has it.
    let instance = Instance::start(db.store.clone()).await?;
    sim.control().reset_counters();
    let started = Instant::now();
    fleet::import(&db.url, &org.slug, &starts, &uids).await?;
    let import_seconds = started.elapsed().as_secs_f64();
    let total = fleet::total(&db.store.sync_counts(org.id).await?);
    if total != n as i64 {
        bail!("imported {total} of {n}");
    }
    let seconds = fleet::until(&db.store, org.id, Duration::from_secs(1800), "all imported verified", |c| {
        fleet::unverified(c) == 0
    })
    .await?;
    instance.stop().await;
    let counters = sim.control().counters();
    Ok(Imported {
        calls: counters.total,
        limited: counters.answered(429),
        seconds,
        import_seconds,
        synced: db.store.sync_counts(org.id).await?.synced,
        by_endpoint: fleet::by_endpoint(&sim),
    })
}
