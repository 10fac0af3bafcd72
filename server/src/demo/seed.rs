//! Puts the simulator and the database into the shape each sync state
//! comes from, then lets the engine's verifier decide. No state is written
//! directly: a DATA_MISMATCH here is a booking really moved in Cal.com, an
//! ORPHANED_LOCAL really answered 404 three times along the retry ladder.
//!
//! First a month of use (`history`), then today: a manual clock starts a
//! quarter of an hour in the past so the ladder's +1 and +5 minute attempts
//! happen at their real spacing, and the history reads like something that
//! happened this morning.

mod history;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use calcom_sim::{BookingEdit, Faults, SeedBooking, SimControl};
use chrono::{DateTime, Duration, Utc};
use engine::calcom::{BookingStatus, CalcomClient, NewAttendee};
use engine::clock::{Clock, ManualClock};
use engine::domain::{AppointmentSource, AppointmentStatus};
use engine::schedule::LocalSchedule;
use engine::store::{NewAppointment, Organization, RunKind, RunStart, Store, Trigger};
use engine::verify::circuit::Circuits;
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;

use super::data::{self, Visit};
use super::DemoError;

const WORKER: &str = "demo-seed";

/// What seeding made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub appointments: usize,
    pub calcom_bookings: usize,
}

struct Seeder<'a> {
    store: &'a Store,
    org: &'a Organization,
    sim: &'a SimControl,
    source: &'a CalcomClient,
    clock: WorkingClock,
    verifier: Verifier,
    /// "Today" for the visits' days: the real now.
    today: DateTime<Utc>,
    appointments: usize,
}

pub async fn seed(
    store: &Store,
    org: &Organization,
    sim: &SimControl,
    source: &CalcomClient,
    now: DateTime<Utc>,
) -> Result<SeedReport, DemoError> {
    let t0 = now - Duration::minutes(15);
    let clock = WorkingClock::at(now - Duration::days(history::DAYS));
    // Its own breakers: the outage below opens this one, not the server's.
    let verifier =
        Verifier::new(store.clone(), Arc::new(Circuits::default()), RetryLadder::default(), Arc::new(clock.clone()));
    let mut s = Seeder { store, org, sim, source, clock, verifier, today: now, appointments: 0 };
    // A database seeded afresh gets a Cal.com to match, not last run's leftovers.
    sim.clear_bookings();
    history::month(&mut s).await?;
    s.clock.set(t0);

    // Bookings taken in Cal.com, most of which calsync knows about.
    let synced = s.book(data::SYNCED)?;
    let moved = s.book(&[data::MOVED_IN_CALCOM])?;
    let cancelled = s.book(&[data::CANCELLED_IN_CALCOM])?;
    let orphans = s.book(data::ORPHANED_LOCAL)?;
    s.book(data::CALCOM_ONLY)?;
    s.book(data::REBOOKED_IN_CALCOM)?;
    s.insert(data::SYNCED, &synced).await?;
    s.insert(&[data::MOVED_IN_CALCOM], &moved).await?;
    s.insert(&[data::CANCELLED_IN_CALCOM], &cancelled).await?;
    s.insert(data::ORPHANED_LOCAL, &orphans).await?;

    // Then, behind calsync's back: one moved, one cancelled, two deleted.
    let later = data::MOVED_IN_CALCOM.start(now) + Duration::hours(1);
    sim.edit(&moved[0], BookingEdit { start: Some(later), ..BookingEdit::default() })?;
    sim.edit(&cancelled[0], BookingEdit { status: Some(BookingStatus::Cancelled), ..BookingEdit::default() })?;
    for uid in &orphans {
        sim.delete(uid);
    }

    // The daily comprehensive check: synced, DATA_MISMATCH, ORPHANED_CALCOM,
    // and the first 404 of each deleted booking.
    // They run as today's scheduled slots (late, as after a restart), so the
    // server's worker finds those slots done instead of re-running them at
    // start and verifying everything again.
    s.run_slot(RunKind::Comprehensive, &org.comprehensive_cron).await?;
    // The ladder confirms the 404s at +1 and +5 minutes: ORPHANED_LOCAL.
    s.clock.advance(Duration::minutes(1));
    s.run_slot(RunKind::Cycle, &org.cycle_cron).await?;
    s.clock.advance(Duration::minutes(5));
    s.run(RunKind::Cycle).await?;

    // Had a colleague fixed the moved booking meanwhile? The admin retries
    // every DATA_MISMATCH at once (a bulk run, on the runs page with its
    // results); the next cycle finds them still different. (No time passes:
    // the outage below must open the breaker at the minutes it does, so
    // that it has closed again by "now".)
    retry_mismatches(&s).await?;
    s.run(RunKind::Cycle).await?;

    // New appointments arrive while Cal.com is down. The first reaches the
    // end of its ladder (failed, VERIFICATION_ERROR, for review); by then
    // the breaker has seen five failures and spares Cal.com the second
    // (CIRCUIT_OPEN).
    s.clock.advance(Duration::minutes(1));
    let outage = s.book(data::DURING_OUTAGE)?;
    s.insert(data::DURING_OUTAGE, &outage).await?;
    sim.set_faults(Faults { outage: true, ..Faults::default() });
    s.run(RunKind::Cycle).await?;
    s.clock.advance(Duration::minutes(1));
    s.run(RunKind::Cycle).await?;
    s.clock.advance(Duration::minutes(5));
    s.run(RunKind::Cycle).await?;
    sim.reset_faults();

    // The admin has started on the queue: the oldest deleted booking is
    // acknowledged and taken, so the queue shows work in hand beside new work.
    triage_first_orphan(&s).await?;

    // Just now: a booking deleted in Cal.com gets its first 404
    // (verification pending, confirming) ...
    s.clock.set(now);
    let confirming = s.book(data::BEING_CONFIRMED)?;
    for uid in &confirming {
        sim.delete(uid);
    }
    for appointment in s.insert(data::BEING_CONFIRMED, &confirming).await? {
        s.verifier.verify_one(org, source, &appointment).await?;
    }
    // ... and the newest appointments await their first verification.
    let fresh = s.book(data::PENDING)?;
    s.insert(data::PENDING, &fresh).await?;

    Ok(SeedReport { appointments: s.appointments, calcom_bookings: sim.booking_count() })
}

/// Acknowledges the first ORPHANED_LOCAL issue and assigns it to the demo
/// admin, through the same operation the queue's buttons call.
async fn triage_first_orphan(s: &Seeder<'_>) -> Result<(), DemoError> {
    use engine::store::QueueFilter;
    use engine::triage::{triage, TriageStep};

    let Some(admin) = s.store.user_by_email(super::accounts::ADMIN_EMAIL).await? else { return Ok(()) };
    let actor = engine::resolve::Actor { user_id: admin.id, name: admin.name.clone() };
    let issues = s.store.queue_issues(s.org.id, QueueFilter::default(), 100).await?;
    let Some(orphan) = issues.iter().find(|i| i.code == engine::domain::ErrorCode::OrphanedLocal) else {
        return Ok(());
    };
    let now = s.clock_now();
    for step in [TriageStep::Acknowledge, TriageStep::Assign(Some(admin.id))] {
        triage(s.store, s.org, orphan.id, step, &actor, now).await?;
    }
    Ok(())
}

/// "Retry all matching" on code DATA_MISMATCH by the demo admin, through
/// the same operation the appointments page calls, run to its end as the
/// worker would.
async fn retry_mismatches(s: &Seeder<'_>) -> Result<(), DemoError> {
    use engine::bulk::{request_retry, run_bulk, Confirmed};
    use engine::domain::ErrorCode;
    use engine::store::AppointmentFilter;

    let Some(admin) = s.store.user_by_email(super::accounts::ADMIN_EMAIL).await? else { return Ok(()) };
    let filter = AppointmentFilter { error_code: Some(ErrorCode::DataMismatch), ..AppointmentFilter::default() };
    let matching = s.store.appointment_members(s.org.id, &filter).await?;
    if matching.count == 0 {
        return Ok(());
    }
    let now = s.clock_now();
    let confirmed = Confirmed { filter: &filter, described: "code DATA_MISMATCH", expected: matching, by: admin.id };
    request_retry(s.store, s.org, &confirmed, now).await?;
    let Some(run) = s.store.claim_queued_run(s.org.id, WORKER, s.clock_now()).await? else { return Ok(()) };
    let clock: Arc<dyn Clock> = Arc::new(s.clock.clone());
    let resolver = engine::resolve::Resolver::new(s.store.clone(), clock.clone());
    run_bulk(s.store, &resolver, &*clock, s.org, &run).await?;
    Ok(())
}

impl Seeder<'_> {
    /// Books the visits in Cal.com; returns their uids in order.
    fn book(&self, visits: &[Visit]) -> Result<Vec<String>, DemoError> {
        let seeds = visits.iter().map(|visit| self.booking(visit)).collect();
        Ok(self.sim.seed(seeds)?)
    }

    fn booking(&self, visit: &Visit) -> SeedBooking {
        SeedBooking {
            end: Some(visit.end(self.today)),
            title: Some(format!("{} – {}", visit.service, visit.customer)),
            attendee: Some(NewAttendee {
                name: visit.customer.into(),
                email: visit.email.into(),
                time_zone: "Europe/Berlin".into(),
                phone_number: Some(visit.phone.into()),
                language: Some("de".into()),
            }),
            ..SeedBooking::at(visit.start(self.today))
        }
    }

    /// Records the visits in calsync, linked to their bookings, as the phone
    /// agent would.
    async fn insert(
        &mut self,
        visits: &[Visit],
        uids: &[String],
    ) -> Result<Vec<engine::store::Appointment>, DemoError> {
        let mut made = Vec::new();
        for (visit, uid) in visits.iter().zip(uids) {
            let new = NewAppointment {
                external_id: None,
                customer_name: visit.customer.into(),
                customer_email: Some(visit.email.into()),
                customer_phone: Some(visit.phone.into()),
                service: visit.service.into(),
                starts_at: visit.start(self.today),
                ends_at: visit.end(self.today),
                time_zone: chrono_tz::Europe::Berlin,
                status: AppointmentStatus::Scheduled,
                source: AppointmentSource::Retell,
                calcom_booking_uid: Some(uid.clone()),
                calcom_event_type_id: Some(1),
            };
            made.push(self.store.insert_appointment(self.org.id, &new, "demo", self.clock_now()).await?);
        }
        self.appointments += made.len();
        Ok(made)
    }

    async fn run(&self, kind: RunKind) -> Result<(), DemoError> {
        self.start(RunStart {
            kind,
            trigger: Trigger::Cli,
            slot_at: None,
            worker_id: WORKER.into(),
            requested_by: None,
        })
        .await
    }

    /// A run for the schedule's latest slot (a manual one if there is none).
    async fn run_slot(&self, kind: RunKind, cron: &str) -> Result<(), DemoError> {
        let slot = LocalSchedule::parse(cron, self.org.time_zone).ok().and_then(|s| s.latest_slot(self.clock_now()));
        match slot {
            Some(slot) => {
                let start = RunStart {
                    kind,
                    trigger: Trigger::Schedule,
                    slot_at: Some(slot),
                    worker_id: WORKER.into(),
                    requested_by: None,
                };
                self.start(start).await
            }
            None => self.run(kind).await,
        }
    }

    async fn start(&self, start: RunStart) -> Result<(), DemoError> {
        let kind = start.kind;
        let report = match kind {
            RunKind::Comprehensive => self.verifier.run_comprehensive(self.org, self.source, &start).await?,
            _ => self.verifier.run_cycle(self.org, self.source, &start).await?,
        };
        tracing::debug!(?kind, ?report, "demo seeding run");
        Ok(())
    }

    fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// The seed's clock: moved by the seeder like a manual clock, and a little
/// further each time it is read, as real work takes time. The demo's runs
/// and verifications then show durations like a real month's (tens to
/// hundreds of milliseconds) instead of "0 ms". The steps follow a fixed
/// sequence, so every demo is the same.
#[derive(Debug, Clone)]
struct WorkingClock {
    manual: ManualClock,
    reads: Arc<AtomicU64>,
}

impl WorkingClock {
    fn at(start: DateTime<Utc>) -> WorkingClock {
        WorkingClock { manual: ManualClock::at(start), reads: Arc::new(AtomicU64::new(0)) }
    }

    fn advance(&self, by: Duration) {
        self.manual.advance(by);
    }

    fn set(&self, to: DateTime<Utc>) {
        self.manual.set(to);
    }
}

impl Clock for WorkingClock {
    fn now(&self) -> DateTime<Utc> {
        let read = self.reads.fetch_add(1, Ordering::Relaxed);
        // 30 to 209 ms, scattered by a multiplicative hash of the read count.
        let ms = 30 + (read.wrapping_mul(2_654_435_761) >> 8) % 180;
        self.manual.advance(Duration::milliseconds(ms as i64));
        self.manual.now()
    }
}
