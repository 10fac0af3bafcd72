//! The background worker's heartbeat: one `tick` does whatever is due for
//! every organization — a scheduled cycle or comprehensive check when its
//! slot has come (once across all instances), runs admins asked for from
//! the UI, retries of the ladder in
//! between, and housekeeping of runs whose worker died. The server calls
//! `tick` every few seconds; tests call it with a manual clock.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::bulk;
use crate::clock::Clock;
use crate::domain::OrgId;
use crate::resolve::Resolver;
use crate::schedule::LocalSchedule;
use crate::store::{Organization, RunKind, RunStart, Store, StoreError, Trigger};
use crate::verify::service::Verifier;
use crate::verify::source::BookingSource;

/// A run whose worker sent no heartbeat for this long is declared
/// interrupted, for runs of workers that beat no presence (see `Worker::beat`).
pub const STALE_AFTER_MINUTES: i64 = 5;
/// A worker whose presence beat is older than this is dead (its runs are
/// interrupted, its claims released), unless configured otherwise.
pub const DEFAULT_WORKER_STALE: std::time::Duration = std::time::Duration::from_secs(60);

/// Gives the worker a Cal.com for an organization (its base URL and key).
pub trait Connector: Send + Sync {
    type Source: BookingSource;

    /// `None` when the organization has no Cal.com connection configured.
    fn connect(&self, org: &Organization) -> impl Future<Output = Option<Self::Source>> + Send;
}

/// Lets a request wake the worker ("run now") instead of leaving the run
/// queued until the next regular tick. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct WakeUp(Arc<tokio::sync::Notify>);

impl WakeUp {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Returns once `wake` was called (immediately if it already was).
    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

/// An organization's latest comprehensive slot and latest cycle slot, if any.
type LatestSlots = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// What an organization is owed in one tick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Owed {
    queued: bool,
    comprehensive: Option<DateTime<Utc>>,
    cycle: Option<DateTime<Utc>>,
    due: bool,
}

impl Owed {
    fn is_empty(&self) -> bool {
        !self.queued && self.comprehensive.is_none() && self.cycle.is_none() && !self.due
    }
}

/// What one tick did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickReport {
    pub runs_started: u32,
    pub interrupted: u64,
    pub verified: i64,
}

pub struct Worker<C: Connector> {
    store: Store,
    verifier: Verifier,
    connector: C,
    clock: Arc<dyn Clock>,
    worker_id: String,
    stale_after: Duration,
}

impl<C: Connector> Worker<C> {
    pub fn new(store: Store, verifier: Verifier, connector: C, clock: Arc<dyn Clock>, worker_id: String) -> Worker<C> {
        let stale_after = Duration::from_std(DEFAULT_WORKER_STALE).expect("a small duration");
        Worker { store, verifier, connector, clock, worker_id, stale_after }
    }

    /// How long another worker may stay silent before it counts as dead.
    pub fn with_stale_after(mut self, stale_after: std::time::Duration) -> Worker<C> {
        self.stale_after = Duration::from_std(stale_after).unwrap_or(self.stale_after);
        self
    }

    /// How often [`Worker::beat`] must run: four beats per stale period, so
    /// a late beat or two never makes a live worker look dead.
    pub fn beat_every(&self) -> std::time::Duration {
        (self.stale_after / 4).to_std().unwrap_or(std::time::Duration::from_secs(1))
    }

    /// This worker stops (SIGTERM): its running runs end `interrupted` and
    /// its claims are released for the other instances or the next start.
    pub async fn release(&self) -> Result<crate::store::Recovered, StoreError> {
        self.store.release_worker(&self.worker_id, self.clock.now()).await
    }

    /// Says this worker is alive.
    pub async fn beat(&self) -> Result<(), StoreError> {
        self.store.worker_heartbeat(&self.worker_id, self.clock.now()).await
    }

    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        let now = self.clock.now();
        self.beat().await?;
        // Dead workers' runs and claims first, so this tick can take them on.
        let recovered = self.store.recover_dead_workers(now - self.stale_after, now).await?;
        if recovered.claims_released > 0 {
            tracing::info!(
                claims = recovered.claims_released,
                runs = recovered.runs_interrupted,
                "took over from a dead worker"
            );
        }
        let silent = self.store.interrupt_stale_runs(now - Duration::minutes(STALE_AFTER_MINUTES), now).await?;
        let mut report = TickReport { interrupted: silent + recovered.runs_interrupted, ..TickReport::default() };
        let orgs = self.store.organizations().await?;
        let owed = self.owed(&orgs, now).await?;
        for (org, work) in orgs.iter().zip(owed) {
            if work.is_empty() {
                continue;
            }
            let Some(source) = self.connector.connect(org).await else {
                self.store.fail_queued_runs(org.id, "no Cal.com connection is configured", now).await?;
                continue;
            };
            if let Err(err) = self.tick_org(org, &source, &work, &mut report).await {
                // One organization's trouble must not stop the others.
                tracing::error!(org = %org.slug, error = %err, "worker tick failed");
            }
        }
        Ok(report)
    }

    /// What each organization (in `orgs`' order) is owed now, found with a
    /// few statements for all of them.
    async fn owed(&self, orgs: &[Organization], now: DateTime<Utc>) -> Result<Vec<Owed>, StoreError> {
        let agenda = self.store.agenda(now).await?;
        let slots: Vec<LatestSlots> = orgs
            .iter()
            .map(|org| (latest_slot(&org.comprehensive_cron, org, now), latest_slot(&org.cycle_cron, org, now)))
            .collect();
        let asked: Vec<_> = orgs
            .iter()
            .zip(&slots)
            .flat_map(|(org, (full, cycle))| {
                let full = full.map(|s| (org.id, RunKind::Comprehensive, s));
                full.into_iter().chain(cycle.map(|s| (org.id, RunKind::Cycle, s)))
            })
            .collect();
        let started = self.store.slots_started(&asked).await?;
        let open = |org: OrgId, kind: RunKind, slot: Option<DateTime<Utc>>| {
            slot.filter(|slot| !started.contains(&(org, kind, *slot)))
        };
        Ok(orgs
            .iter()
            .zip(slots)
            .map(|(org, (full, cycle))| Owed {
                queued: agenda.queued.contains(&org.id),
                comprehensive: open(org.id, RunKind::Comprehensive, full),
                cycle: open(org.id, RunKind::Cycle, cycle),
                due: agenda.due.contains(&org.id),
            })
            .collect())
    }

    async fn tick_org(
        &self,
        org: &Organization,
        source: &C::Source,
        work: &Owed,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        // "Run now" from the UI first: someone is watching its progress.
        while let (true, Some(run)) = (work.queued, self.store.claim_queued_run(org.id, &self.worker_id, now).await?) {
            report.runs_started += 1;
            if run.kind.is_bulk() {
                // Only our own rows: a retry queues verifications, verified
                // below on the usual paced path.
                let resolver = Resolver::new(self.store.clone(), self.clock.clone());
                bulk::run_bulk(&self.store, &resolver, &*self.clock, org, &run).await?;
                continue;
            }
            let done = self.verifier.run_requested(org, source, &run).await?;
            report.verified += done.counts.processed;
        }
        // Another instance may take a slot between `owed` and here; the
        // run's own insert decides (SlotTaken).
        if let Some(slot) = work.comprehensive {
            let start = self.scheduled(RunKind::Comprehensive, slot);
            if let Ok(run) = self.verifier.run_comprehensive(org, source, &start).await? {
                report.runs_started += 1;
                report.verified += run.counts.processed;
            }
        }
        if let Some(slot) = work.cycle {
            let start = self.scheduled(RunKind::Cycle, slot);
            if let Ok(run) = self.verifier.run_cycle(org, source, &start).await? {
                report.runs_started += 1;
                report.verified += run.counts.processed;
                return Ok(());
            }
        }
        // Between slots: the retry ladder's +1 and +5 minute attempts, and
        // new appointments' first verification, without a run record each.
        // (A run above may have left some due; the check is cheap.)
        let (counts, _restored) = self.verifier.verify_due(org, source, &self.worker_id, now, None).await?;
        report.verified += counts.processed;
        Ok(())
    }

    /// Acts on the webhook deliveries waiting in every organization's inbox
    /// (see `verify::hints`). Returns the organizations whose deliveries
    /// were handled, with how many.
    pub async fn drain_webhooks(&self) -> Result<Vec<(OrgId, usize)>, StoreError> {
        let mut handled = Vec::new();
        for org_id in self.store.orgs_with_pending_deliveries(self.clock.now()).await? {
            let org = self.store.organization(org_id).await?;
            let Some(source) = self.connector.connect(&org).await else {
                let reason = "no usable Cal.com API key is configured, so the bookings it names could not be read";
                self.store.fail_pending_deliveries(org.id, reason, self.clock.now()).await?;
                continue;
            };
            match self.verifier.drain_webhooks(&org, &source, &self.worker_id).await {
                Ok(drained) => handled.push((org.id, drained.deliveries)),
                // One organization's trouble must not stop the others.
                Err(err) => tracing::error!(org = %org.slug, error = %err, "acting on webhooks failed"),
            }
        }
        Ok(handled)
    }

    fn scheduled(&self, kind: RunKind, slot: DateTime<Utc>) -> RunStart {
        RunStart {
            kind,
            trigger: Trigger::Schedule,
            slot_at: Some(slot),
            worker_id: self.worker_id.clone(),
            requested_by: None,
        }
    }
}

/// The slot a scheduler owes the organization now. A slot that passed before
/// the organization existed is not owed: a new organization would otherwise
/// get a full check and a cycle the moment it is created, racing whatever its
/// admin starts while connecting it (a first import's appointments are
/// verified between slots anyway).
fn latest_slot(expr: &str, org: &Organization, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match LocalSchedule::parse(expr, org.time_zone) {
        Ok(schedule) => schedule.latest_slot(now).filter(|slot| *slot >= org.created_at),
        Err(err) => {
            tracing::warn!(org = %org.slug, error = %err, "skipping an unreadable schedule");
            None
        }
    }
}
