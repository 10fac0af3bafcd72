//! Issue 15: one Cal.com budget per API key, shared by every process. The
//! same work twice against the simulator at its default rate limit, on
//! PostgreSQL: an import of new appointments left to the serving instances
//! plus `calsync verify --org acme --full` started at once, first with one
//! instance and one full check, then with two instances and two full
//! checks. Each instance and each CLI run has its own connection pool, as
//! separate processes have, so the budget is shared only through the
//! database (the same code paths; in-process for the simulator's counters).

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use calcom_sim::{spawn, SimConfig};
use engine::store::{Backend, Store};
use engine::testing::TestDb;

use crate::fleet::{self, Instance};

pub struct Scenario {
    pub calls: u64,
    pub limited: u64,
    pub ran: usize,
    /// Why the refused full checks were refused.
    pub refused: Vec<String>,
    pub seconds: f64,
}

/// `instances` serving instances and as many concurrent full checks.
pub async fn scenario(instances: usize, n: usize, days: usize) -> Result<Scenario> {
    let db = TestDb::new(Backend::Postgres).await;
    let sim = spawn(SimConfig::default()).await?;
    let org = fleet::organization(&db.store, "acme", &sim).await?;
    let starts = fleet::business_hours(n, days);
    let uids = fleet::seed_bookings(&sim, &starts)?;
    fleet::import(&db.url, &org.slug, &starts, &uids).await?;
    sim.control().reset_counters();

    let started = Instant::now();
    let mut running = Vec::new();
    for _ in 0..instances {
        running.push(Instance::start(Store::connect(&db.url).await?).await?);
    }
    let checks: Vec<_> = (0..instances)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { fleet::verify_full(&url, "acme").await })
        })
        .collect();
    let (mut ran, mut refused) = (0, Vec::new());
    for check in checks {
        match check.await? {
            Ok(()) => ran += 1,
            Err(e) if e.to_string().contains("already running") => refused.push(e.to_string()),
            Err(e) => bail!("a full check failed: {e:#}"),
        }
    }
    fleet::until(&db.store, org.id, Duration::from_secs(1800), "all verified", |c| fleet::unverified(c) == 0).await?;
    let seconds = started.elapsed().as_secs_f64();
    for instance in running {
        instance.stop().await;
    }
    let counters = sim.control().counters();
    Ok(Scenario { calls: counters.total, limited: counters.answered(429), ran, refused, seconds })
}
