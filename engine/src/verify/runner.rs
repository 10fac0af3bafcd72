//! Runs: the regular cycle (verify what is due) and the comprehensive check
//! (list the whole Cal.com window, diff it locally, find Cal.com-only
//! bookings). Each run is a job_runs row with progress and counts.

use chrono::{DateTime, Duration, Utc};

use super::alerts;
use super::compare::{differences, RemoteBooking, RemoteStatus};
use super::plan::{self, Span};
use super::rules::{evidence, Evidence, Outcome};
use super::service::{Verified, Verifier};
use super::source::{BookingSource, Listing, SourceError};
use super::webhook_health;
use super::window::{diff_window, Finding, WindowIndex};
use crate::domain::{AppointmentId, ErrorCode, RunId, SyncStatus};
use crate::format::{plural, LocalFormat};
use crate::mail::content;
use crate::store::{
    ActiveRun, Appointment, AppointmentFilter, IssueSubject, NewIssue, Organization, Run, RunCounts, RunKind, RunStart,
    RunStatus, Start, StateWrite, StoreError, SyncCursor, Trigger,
};

/// Outcomes written per transaction.
const BATCH: usize = 250;
/// Appointments claimed (and planned) at a time. Large, because the
/// planner is only as good as what it sees at once: an import of 10,000
/// claimed 1,000 at a time was planned ten times, each window widened by
/// the longest booking and each sized on its own (about 60 calls instead
/// of about 42), and two instances splitting it paid that again. One
/// claim of everything due lets one instance plan it all; the other finds
/// nothing to claim, and one key's budget gives a second instance nothing
/// to add anyway.
const CLAIM: u32 = 10_000;
/// How long a claim is held before another instance may take it over (a
/// crashed worker's claims lapse after this), and how often a worker
/// still busy with its claim extends it: a claim verified one by one at
/// Cal.com's 120 a minute takes longer than the lease.
const LEASE_MINUTES: i64 = 10;
const EXTEND_EVERY: std::time::Duration = std::time::Duration::from_secs(120);
/// How often a run reports progress while working through a batch.
const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How far each changes listing reaches back before the watermark, so a
/// change stamped just before it (a slow commit at Cal.com, clock steps)
/// is still seen. Seeing a change twice costs nothing.
const WATERMARK_OVERLAP_MINUTES: i64 = 5;

/// What a run knows from listings: the bookings changed since the
/// watermark, and complete listings of windows (the whole window on a
/// first pass, and what the planner chose to list for due work).
#[derive(Default)]
pub(crate) struct Listings {
    changed: Option<WindowIndex>,
    windows: Vec<Bulk>,
}

impl Listings {
    /// What a listing (or a few GETs) of changed bookings says.
    pub(crate) fn of_changes(index: WindowIndex) -> Listings {
        Listings { changed: Some(index), windows: Vec::new() }
    }
}

/// What the changes sweep found, and the requests it spent.
#[derive(Default)]
struct Sweep {
    listings: Listings,
    calls: i64,
    /// Something the run record should say (bookings that could not be read).
    note: Option<String>,
}

/// A complete listing of a window, for verifying the due appointments in
/// it without a request each. Only what it holds is taken from it (a uid it
/// lacks is asked for directly), so it need not prove absence.
struct Bulk {
    index: WindowIndex,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// How it was listed, for an orphan's evidence.
    listed: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub run_id: RunId,
    pub status: RunStatus,
    pub counts: RunCounts,
    pub calcom_only: usize,
    /// Appointments' issues that closed themselves during the run.
    pub restored: u64,
    /// Findings of bookings only Cal.com had that settled themselves (the
    /// booking was called off, or an appointment now carries it): no
    /// appointment of ours is behind them, so they are not "restored".
    pub settled: u64,
    /// Why the run failed, or what it wants said (bookings it could not read).
    pub detail: Option<String>,
}

impl RunCounts {
    fn count(&mut self, verified: &Verified) {
        self.processed += 1;
        match verified.decision.outcome {
            Outcome::Synced => self.synced += 1,
            Outcome::Error | Outcome::CircuitOpen | Outcome::Unauthorized => self.errors += 1,
            Outcome::Mismatch | Outcome::NotFound => {}
        }
        if verified.issue.is_some() {
            self.flagged += 1;
        }
    }
}

/// Why a run did not start.
#[derive(Debug, Clone, PartialEq)]
pub enum NotStarted {
    /// Another instance took this scheduled slot.
    SlotTaken,
    /// A run of the same kind is already queued or running.
    Busy(Box<ActiveRun>),
}

impl NotStarted {
    /// For people: "a comprehensive check is already running (started
    /// 14:02 by Ann)", times in the organization's zone.
    pub fn message(&self, time_zone: chrono_tz::Tz) -> String {
        match self {
            NotStarted::SlotTaken => "this scheduled run was already started by another calsync instance".into(),
            NotStarted::Busy(active) => busy_message(active, time_zone),
        }
    }
}

/// "a comprehensive check is already running (started 14:02 by Ann)", or
/// "… already queued (asked for 14:02 by Ann)".
pub fn busy_message(active: &ActiveRun, time_zone: chrono_tz::Tz) -> String {
    let run = &active.run;
    let what = match run.kind {
        RunKind::Comprehensive => "a comprehensive check",
        RunKind::Cycle => "a verification cycle",
        RunKind::BulkRetry => "a retry of matching appointments",
        RunKind::BulkResolve => "a resolution of matching appointments",
    };
    let (state, since) = if run.status == RunStatus::Queued { ("queued", "asked for") } else { ("running", "started") };
    let at = run.started_at.with_timezone(&time_zone).format("%H:%M");
    let by = match (run.trigger, active.requested_by_name.as_deref()) {
        (Trigger::Manual, Some(name)) => format!("by {name}"),
        (Trigger::Manual, None) => "from the web".into(),
        (Trigger::Cli, _) => "from the command line".into(),
        (Trigger::Schedule, _) => "by the schedule".into(),
    };
    format!("{what} is already {state} ({since} {at} {by})")
}

impl Verifier {
    /// Verifies everything due for `org`, unless a cycle is already under
    /// way or (scheduled) another instance took the slot.
    pub async fn run_cycle<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        start: &RunStart,
    ) -> Result<Result<RunReport, NotStarted>, StoreError> {
        let run_id = match self.store().start_run(org.id, start, self.now()).await? {
            Start::Started(id) => id,
            Start::SlotTaken => return Ok(Err(NotStarted::SlotTaken)),
            Start::Busy(active) => return Ok(Err(NotStarted::Busy(active))),
        };
        self.cycle(org, source, run_id, &start.worker_id).await.map(Ok)
    }

    /// Executes a run someone asked for from the UI, already claimed by
    /// this worker (see `Store::claim_queued_run`).
    pub async fn run_requested<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        run: &Run,
    ) -> Result<RunReport, StoreError> {
        let worker = run.worker_id.as_deref().unwrap_or("manual");
        match run.kind {
            RunKind::Cycle => self.cycle(org, source, run.id, worker).await,
            RunKind::Comprehensive => self.comprehensive(org, source, run.id).await,
            // The worker runs these itself (`bulk::run_bulk`): no Cal.com call.
            RunKind::BulkRetry | RunKind::BulkResolve => {
                Err(StoreError::Conflict(format!("run {} is a bulk action, not a verification", run.id)))
            }
        }
    }

    async fn cycle<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        run_id: RunId,
        worker: &str,
    ) -> Result<RunReport, StoreError> {
        let now = self.now();
        let sweep = match self.sweep_changes(org, source, now).await {
            Ok(sweep) => sweep,
            Err(err) => return self.finish(org, run_id, RunCounts::default(), Found::default(), Err(err), None).await,
        };
        let mut listings = sweep.listings;
        let total = self.store().count_due(org.id, now).await?;
        // The total first, so the runs page can draw progress from the start.
        self.store().heartbeat_run(org.id, run_id, RunCounts { total, ..RunCounts::default() }, now).await?;
        let initial = RunCounts { total, api_calls: sweep.calls, ..RunCounts::default() };
        match self.verify_due_with(org, source, worker, now, Some((run_id, initial)), &mut listings).await {
            Ok((counts, restored)) => {
                self.finish(org, run_id, counts, Found { restored, ..Found::default() }, Ok(()), sweep.note).await
            }
            Err(err) => self.finish(org, run_id, initial, Found::default(), Err(err), None).await,
        }
    }

    /// Verifies every appointment due by `due_by` (new ones, retries on the
    /// ladder, "verify now", webhook hints), in claimed batches, from
    /// listings where the planner finds them cheaper; reports progress on
    /// `run` if there is one. Returns the counts and how many issues closed
    /// themselves.
    pub async fn verify_due<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        worker: &str,
        due_by: DateTime<Utc>,
        run: Option<RunId>,
    ) -> Result<(RunCounts, u64), StoreError> {
        let run = run.map(|id| (id, RunCounts::default()));
        self.verify_due_with(org, source, worker, due_by, run, &mut Listings::default()).await
    }

    /// The watermark pass: the bookings changed since the watermark (all
    /// pages; one request when few changed, which is the cycle's cheap "did
    /// anything change?"). Appointments whose booking changed, or that are
    /// not synced, become due so this cycle checks them against the listed
    /// data. The first pass, with no watermark yet, lists the whole window.
    /// The cursor moves only after a complete listing: any failure leaves
    /// it, and concludes nothing.
    /// Appointments are made due at `now`, the run's own "due by".
    async fn sweep_changes<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        now: DateTime<Utc>,
    ) -> Result<Sweep, StoreError> {
        let cursor = self.store().sync_cursor(org.id).await?;
        let watermark = cursor.and_then(|c| c.updated_after);
        let window = (now - Duration::days(org.window_days_back), now + Duration::days(org.window_days_ahead));
        let listed = match watermark {
            Some(mark) => source.changes_since(mark - Duration::minutes(WATERMARK_OVERLAP_MINUTES)).await,
            None => source.list_window(window.0, window.1).await.map(Some),
        };
        let listing = match listed {
            Ok(Some(listing)) => listing,
            Ok(None) => return Ok(Sweep::default()),
            Err(err) => {
                tracing::info!(org = %org.slug, error = %err, "listing Cal.com's changes failed; the watermark stays");
                let note =
                    format!("Cal.com's changes could not be listed, so only due appointments were checked: {err}");
                return Ok(Sweep { calls: 1, note: Some(note), ..Sweep::default() });
            }
        };
        let calls = listing.api_calls as i64;
        let note = unreadable_note(&listing);
        let full = watermark.is_none();
        let listed = listing_words(&listing, window, org.local_format(), now);
        let last_full = if full { Some(now) } else { cursor.and_then(|c| c.last_full_listing_at) };
        let next =
            SyncCursor { updated_after: advanced_watermark(watermark, &listing, now), last_full_listing_at: last_full };
        let (index, changed) = self.mark_changed(org, listing, now).await?;
        if let Some(mark) = watermark {
            // Changes since the last pass: did a webhook announce them?
            self.judge_webhooks(org, &changed, super::hints::announce_window_start(mark), now).await?;
        }
        self.store().save_sync_cursor(org.id, &next, now).await?;
        let listings = if full {
            Listings { changed: None, windows: vec![Bulk { index, from: window.0, to: window.1, listed }] }
        } else {
            Listings { changed: Some(index), windows: Vec::new() }
        };
        Ok(Sweep { listings, calls, note })
    }

    async fn save_full_listing(
        &self,
        org: &Organization,
        listing: &Listing,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let previous = self.store().sync_cursor(org.id).await?.and_then(|c| c.updated_after);
        let cursor =
            SyncCursor { updated_after: advanced_watermark(previous, listing, now), last_full_listing_at: Some(now) };
        self.store().save_sync_cursor(org.id, &cursor, now).await
    }

    /// Makes due every appointment whose listed booking no longer matches
    /// it (or that is not synced, so a match may settle it), and every one
    /// whose booking came back unreadable (it is asked for by uid); returns
    /// the listing indexed, and the bookings that really changed (their
    /// appointment was in sync and no longer matches).
    async fn mark_changed(
        &self,
        org: &Organization,
        listing: Listing,
        now: DateTime<Utc>,
    ) -> Result<(WindowIndex, Vec<String>), StoreError> {
        let index = WindowIndex::new(listing.bookings);
        let mut uids: Vec<&str> = index.uids().collect();
        let unreadable: Vec<&str> = listing.unreadable.iter().filter_map(|row| row.uid.as_deref()).collect();
        uids.extend(&unreadable);
        let linked = self.store().appointments_linked_to(org.id, &uids).await?;
        let stale: Vec<&Appointment> = linked.iter().filter(|a| needs_check(a, &index)).collect();
        let changed = stale
            .iter()
            .filter(|a| a.sync.status == SyncStatus::Synced)
            .filter_map(|a| a.calcom_booking_uid.clone())
            .collect();
        let ids: Vec<AppointmentId> = stale.iter().map(|a| a.id).collect();
        self.store().make_all_due(org.id, &ids, now).await?;
        Ok((index, changed))
    }

    /// Counts which of `changed` a webhook announced (a delivery naming it
    /// since `since`), and tells the admins once when webhooks look
    /// disabled or misconfigured (see `webhook_health`).
    async fn judge_webhooks(
        &self,
        org: &Organization,
        changed: &[String],
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if changed.is_empty() {
            return Ok(());
        }
        let uids: Vec<&str> = changed.iter().map(String::as_str).collect();
        let announced = self.store().announced_since(org.id, &uids, since).await?;
        let announced = uids.iter().filter(|uid| announced.contains(**uid)).count() as u64;
        self.store().record_coverage(org.id, uids.len() as u64, announced, now).await?;
        let (changes, announced) = self.store().coverage_since(org.id, now - webhook_health::LOOKBACK).await?;
        let last_delivery = self.store().last_delivery_at(org.id).await?;
        let coverage = webhook_health::Coverage { changes, announced, last_delivery };
        if coverage.looks_broken(now, self.webhook_silence()) && self.store().open_webhook_alert(org.id, now).await? {
            let last = last_delivery.map(|at| alerts::short_time(at, org.time_zone));
            let note = webhook_health::alert(&org.slug, &coverage, now, last);
            self.announce(org, None, &note, |url: &str| content::notice(&note, url)).await?;
        }
        Ok(())
    }

    /// Lists, for the claimed `batch`, the windows the planner finds
    /// cheaper than a request per appointment (each sized first with one
    /// request), and adds them to `listings`; returns the requests spent.
    /// Appointments the listings already cover cost nothing. Any failure
    /// just means per-uid requests: nothing is concluded from it.
    async fn plan_listings<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        batch: &[Appointment],
        listings: &mut Listings,
    ) -> i64 {
        let uncovered: Vec<DateTime<Utc>> = batch
            .iter()
            .filter(|a| a.calcom_booking_uid.is_some() && listings.finding(a).is_none())
            .map(|a| a.starts_at)
            .collect();
        let mut calls = 0;
        for span in plan::spans(uncovered).into_iter().filter(Span::worth_sizing) {
            calls += 1;
            let size = match source.window_size(span.from, span.to).await {
                Ok(Some(size)) => size,
                Ok(None) => continue,
                Err(err) => {
                    tracing::info!(org = %org.slug, error = %err, "sizing a window failed; verifying per uid");
                    continue;
                }
            };
            if !span.worth_listing(size) {
                continue;
            }
            match source.list_window(span.from, span.to).await {
                Ok(listing) => {
                    calls += listing.api_calls as i64;
                    let local = org.local_format();
                    let listed = listing_words(&listing, (span.from, span.to), local, self.now());
                    let index = WindowIndex::new(listing.bookings);
                    listings.windows.push(Bulk { index, from: span.from, to: span.to, listed });
                }
                Err(err) => {
                    calls += 1;
                    tracing::info!(org = %org.slug, error = %err, "listing a window failed; verifying per uid");
                }
            }
        }
        calls
    }

    pub(crate) async fn verify_due_with<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        worker: &str,
        due_by: DateTime<Utc>,
        // The run to report progress on, with the counts it starts from.
        run: Option<(RunId, RunCounts)>,
        listings: &mut Listings,
    ) -> Result<(RunCounts, u64), StoreError> {
        let mut counts = run.map(|(_, initial)| initial).unwrap_or_default();
        let run = run.map(|(id, _)| id);
        // Work outside a run (a bulk retry's backlog, the retry ladder, a
        // webhook's hints) yields at the next scheduled run, which then
        // starts on time and takes what is left: however much a bulk
        // action queued, it never holds a cycle back.
        let until = run.is_none().then(|| super::next_cycle::next_scheduled_run(org, due_by));
        let mut restored = 0;
        // Progress for the runs page about once a second, not per appointment.
        let mut last_beat = std::time::Instant::now();
        let mut last_extended = std::time::Instant::now();
        loop {
            // Only what was due when the run began: retries it schedules
            // (+1 min, +5 min) belong to later runs.
            let batch = self.store().claim_due(org.id, worker, due_by, Duration::minutes(LEASE_MINUTES), CLAIM).await?;
            if batch.is_empty() {
                return Ok((counts, restored));
            }
            counts.api_calls += self.plan_listings(org, source, &batch, listings).await;
            let mut writes = Vec::with_capacity(BATCH);
            for (i, appointment) in batch.iter().enumerate() {
                if until.is_some_and(|until| self.now() >= until) {
                    restored += self.write_batch(org, &mut writes).await?;
                    let unworked: Vec<AppointmentId> = batch[i..].iter().map(|a| a.id).collect();
                    self.store().release_claims(org.id, worker, &unworked).await?;
                    return Ok((counts, restored));
                }
                let verified = match listings.finding(appointment) {
                    Some((finding, listed)) => {
                        self.verify_from_listing(org, source, (appointment, listed), finding, &mut counts, &mut writes)
                            .await?
                    }
                    None => {
                        counts.api_calls += 1;
                        self.verify_one(org, source, appointment).await?
                    }
                };
                counts.count(&verified);
                restored += verified.restored;
                if writes.len() >= BATCH {
                    restored += self.write_batch(org, &mut writes).await?;
                }
                if let Some(run) = run.filter(|_| last_beat.elapsed() >= HEARTBEAT_EVERY) {
                    self.store().heartbeat_run(org.id, run, counts, self.now()).await?;
                    last_beat = std::time::Instant::now();
                }
                if last_extended.elapsed() >= EXTEND_EVERY {
                    let until = self.now() + Duration::minutes(LEASE_MINUTES);
                    self.store().extend_claims(org.id, worker, until).await?;
                    last_extended = std::time::Instant::now();
                }
            }
            restored += self.write_batch(org, &mut writes).await?;
            if let Some(run) = run {
                self.store().heartbeat_run(org.id, run, counts, self.now()).await?;
                last_beat = std::time::Instant::now();
            }
        }
    }

    /// Lists the organization's whole window once and verifies every
    /// appointment in it from that listing; opens ORPHANED_CALCOM issues for
    /// live bookings no appointment accounts for.
    pub async fn run_comprehensive<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        start: &RunStart,
    ) -> Result<Result<RunReport, NotStarted>, StoreError> {
        let run_id = match self.store().start_run(org.id, start, self.now()).await? {
            Start::Started(id) => id,
            Start::SlotTaken => return Ok(Err(NotStarted::SlotTaken)),
            Start::Busy(active) => return Ok(Err(NotStarted::Busy(active))),
        };
        self.comprehensive(org, source, run_id).await.map(Ok)
    }

    async fn comprehensive<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        run_id: RunId,
    ) -> Result<RunReport, StoreError> {
        let now = self.now();
        let window = (now - Duration::days(org.window_days_back), now + Duration::days(org.window_days_ahead));
        let mut counts = RunCounts::default();
        let in_window = AppointmentFilter {
            starts_from: Some(window.0),
            starts_before: Some(window.1),
            ..AppointmentFilter::default()
        };
        counts.total = self.store().count_appointments(org.id, &in_window).await?;
        self.store().heartbeat_run(org.id, run_id, counts, self.now()).await?;
        let mut check = Check {
            restored: 0,
            settled: 0,
            candidates: Vec::new(),
            seen: Listing::default(),
            watched: self.open_calcom_only(org).await?,
        };
        let parts = parts(window, counts.total, self.part_size());
        for (done, part) in parts.iter().enumerate() {
            if let Err(err) = self.check_part(org, source, *part, run_id, &mut counts, &mut check).await? {
                // A failed listing proves nothing: flag nothing more, say why.
                let mut detail = match err {
                    SourceError::Unauthorized => "Cal.com refused the organization's API key".to_owned(),
                    SourceError::Transient(failure) => format!("Listing Cal.com's bookings failed: {failure}"),
                    SourceError::Rejected(words) => format!("Listing Cal.com's bookings failed: {words}"),
                };
                if done > 0 {
                    detail.push_str(&format!(
                        " (after {done} of {} parts of the window; what they found stands)",
                        parts.len()
                    ));
                }
                return self.finish_checked(org, run_id, counts, check.found(0), Err(detail)).await;
            }
        }
        // A complete listing of the window: the cycle's watermark can start here.
        self.save_full_listing(org, &check.seen, now).await?;
        let calcom_only =
            if check.seen.proves_absence() { self.unaccounted(org, check.candidates).await? } else { Vec::new() };
        check.settled = self.close_settled_calcom_only(org, &check.watched, &calcom_only).await?;
        for booking in &calcom_only {
            let new = NewIssue {
                code: ErrorCode::OrphanedCalcom,
                subject: IssueSubject::CalcomBooking { uid: booking.uid.clone() },
                calcom_snapshot: serde_json::to_string(booking).ok(),
                differences: None,
                detail: Some(format!("Cal.com booking {} has no appointment in calsync", booking.uid)),
            };
            let opened = self.store().open_issue(org.id, &new, self.now()).await?;
            if let Some(issue) = opened.news() {
                let note = alerts::came_back(
                    alerts::calcom_only_opened(issue, &booking.uid, booking.start, org.time_zone),
                    opened,
                );
                let when = alerts::short_time(booking.start, org.time_zone);
                let email = |url: &str| content::calcom_only_issue(issue.get(), &booking.uid, &when, url);
                self.announce(org, Some(issue), &note, email).await?;
            }
        }
        counts.flagged += calcom_only.len() as i64;
        let ending = match &check.seen.untrusted {
            // Positive findings stand; the check's job (finding what is missing) was not done.
            Some(why) => Err(format!("{why}. Appointments it found were verified; nothing was called missing.")),
            None => Ok(unreadable_note(&check.seen)),
        };
        let found = Found { calcom_only: calcom_only.len(), restored: check.restored, settled: check.settled };
        self.finish_checked(org, run_id, counts, found, ending).await
    }

    /// Lists one part of the window and verifies every appointment starting
    /// in it from that listing; keeps the live bookings nobody in the part
    /// accounts for as candidates, and what the listing says about itself.
    /// `Err` is the listing's failure (nothing of the part was verified).
    async fn check_part<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        run_id: RunId,
        counts: &mut RunCounts,
        check: &mut Check,
    ) -> Result<Result<(), SourceError>, StoreError> {
        let listing = match source.list_window(from, to).await {
            Ok(listing) => listing,
            Err(err) => return Ok(Err(err)),
        };
        counts.api_calls += listing.api_calls as i64;
        let local = self.appointments_between(org, from, to).await?;
        let diff = diff_window(&local, &listing.bookings);
        let listed = listing_words(&listing, (from, to), org.local_format(), self.now());
        let by_id: std::collections::HashMap<AppointmentId, &Appointment> = local.iter().map(|a| (a.id, a)).collect();
        let mut last_beat = std::time::Instant::now();
        let mut writes = Vec::with_capacity(BATCH);
        let slack = Duration::minutes(1);
        for (id, finding) in diff.findings {
            let Some(appointment) = by_id.get(&id) else { continue };
            let finding = match finding {
                // Absence proves nothing from a listing that does not filter as asked.
                Finding::NoMatch if !listing.proves_absence() => continue,
                // A row that could not be read may be this appointment's booking: ask directly.
                Finding::NoMatch if listing.may_hide_booking_at(appointment.starts_at, slack) => Finding::AskDirectly,
                other => other,
            };
            let verified =
                self.verify_from_listing(org, source, (appointment, &listed), finding, counts, &mut writes).await?;
            counts.count(&verified);
            check.restored += verified.restored;
            if writes.len() >= BATCH {
                check.restored += self.write_batch(org, &mut writes).await?;
            }
            if last_beat.elapsed() >= HEARTBEAT_EVERY {
                self.store().heartbeat_run(org.id, run_id, *counts, self.now()).await?;
                last_beat = std::time::Instant::now();
            }
        }
        check.restored += self.write_batch(org, &mut writes).await?;
        if !check.watched.is_empty() {
            for booking in &listing.bookings {
                if let Some(seen) = check.watched.get_mut(&booking.uid) {
                    *seen = Some(booking.status);
                }
            }
        }
        if listing.proves_absence() {
            check.candidates.extend(diff.calcom_only);
        }
        check.seen.absorb(listing);
        Ok(Ok(()))
    }

    /// Of the live bookings no appointment of their part accounted for,
    /// those no appointment anywhere points at: an appointment whose
    /// booking moved into another part of the window (or into the window
    /// from outside it), or was relinked to its rescheduled booking while
    /// another part was checked, has it.
    async fn unaccounted(
        &self,
        org: &Organization,
        candidates: Vec<RemoteBooking>,
    ) -> Result<Vec<RemoteBooking>, StoreError> {
        if candidates.is_empty() {
            return Ok(candidates);
        }
        let uids: Vec<&str> = candidates.iter().map(|b| b.uid.as_str()).collect();
        let linked: std::collections::HashSet<String> = self
            .store()
            .appointments_linked_to(org.id, &uids)
            .await?
            .into_iter()
            .filter_map(|a| a.calcom_booking_uid)
            .collect();
        Ok(candidates.into_iter().filter(|b| !linked.contains(&b.uid)).collect())
    }

    /// The bookings of the open Cal.com-only findings, none seen yet.
    async fn open_calcom_only(&self, org: &Organization) -> Result<Watched, StoreError> {
        let open = self.store().open_issues(org.id, Some(ErrorCode::OrphanedCalcom), MAX_WATCHED).await?;
        Ok(open.into_iter().filter_map(|issue| issue.calcom_booking_uid).map(|uid| (uid, None)).collect())
    }

    /// Closes, as resolved by themselves, the Cal.com-only findings this
    /// check contradicts, each with its evidence: the listing showed the
    /// booking called off, or an appointment now carries it. A booking the
    /// listing did not show at all (moved out of the window, deleted) or
    /// showed with a status calsync does not know proves nothing: its
    /// finding stays for an admin. Returns how many closed.
    async fn close_settled_calcom_only(
        &self,
        org: &Organization,
        watched: &Watched,
        still_unaccounted: &[RemoteBooking],
    ) -> Result<u64, StoreError> {
        let still: std::collections::HashSet<&str> = still_unaccounted.iter().map(|b| b.uid.as_str()).collect();
        let settled: Vec<(&str, RemoteStatus)> = watched
            .iter()
            .filter_map(|(uid, seen)| Some((uid.as_str(), (*seen)?)))
            .filter(|(uid, _)| !still.contains(uid))
            .collect();
        if settled.is_empty() {
            return Ok(0);
        }
        let live: Vec<&str> = settled.iter().filter(|(_, s)| s.is_live() == Some(true)).map(|(uid, _)| *uid).collect();
        let owners: std::collections::HashMap<String, Appointment> = self
            .store()
            .appointments_linked_to(org.id, &live)
            .await?
            .into_iter()
            .filter_map(|a| Some((a.calcom_booking_uid.clone()?, a)))
            .collect();
        let now = self.now();
        let notes: Vec<(String, String)> = settled
            .into_iter()
            .filter_map(|(uid, status)| {
                let note = match (status.is_live(), owners.get(uid)) {
                    (Some(false), _) => alerts::calcom_only_called_off(uid, called_off(status), now, org.time_zone),
                    (Some(true), Some(owner)) => alerts::calcom_only_claimed(uid, owner, now, org.time_zone),
                    _ => return None,
                };
                Some((uid.to_owned(), note))
            })
            .collect();
        if notes.is_empty() {
            return Ok(0);
        }
        self.store().resolve_bookings_themselves(org.id, &notes, now).await
    }

    async fn verify_from_listing<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        (appointment, listed): (&Appointment, &str),
        finding: Finding,
        counts: &mut RunCounts,
        writes: &mut Vec<StateWrite>,
    ) -> Result<Verified, StoreError> {
        let started = self.now();
        match finding {
            Finding::Found { booking, relink } => {
                if let Some(uid) = relink {
                    self.relink(org, appointment, &uid).await?;
                }
                let evidence = evidence(appointment, booking);
                self.apply_batched(org, appointment, &evidence, started, writes).await
            }
            // The uid may have moved out of the window (rescheduled) or be
            // filtered out of listings: only a direct answer decides.
            Finding::AskByUid(uid) => {
                counts.api_calls += 1;
                let listed = format!("{listed}; booking {uid} was not among them");
                self.verify_one_after(org, source, appointment, Some(listed)).await
            }
            Finding::AskDirectly => {
                counts.api_calls += 1;
                self.verify_one(org, source, appointment).await
            }
            Finding::NoMatch => {
                let evidence = Evidence::NotFound {
                    detail: "No Cal.com booking at this time for this customer".into(),
                    how: Some(format!(
                        "{listed}; none starting at this appointment's time has this customer's email or phone"
                    )),
                };
                self.apply_batched(org, appointment, &evidence, started, writes).await
            }
        }
    }

    /// Every appointment starting in `[from, to)`, cancelled ones included.
    /// (Used by the comprehensive check.)
    async fn appointments_between(
        &self,
        org: &Organization,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError> {
        let filter =
            AppointmentFilter { starts_from: Some(from), starts_before: Some(to), ..AppointmentFilter::default() };
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = self.store().list_appointments(org.id, &filter, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some((last.starts_at, last.id));
            let full = page.len() == 1000;
            all.extend(page);
            if !full {
                break;
            }
        }
        Ok(all)
    }

    /// Records how the run ended. A store error ends it as failed and is
    /// returned; `note` is kept on a run that succeeded.
    async fn finish(
        &self,
        org: &Organization,
        run_id: RunId,
        counts: RunCounts,
        found: Found,
        outcome: Result<(), StoreError>,
        note: Option<String>,
    ) -> Result<RunReport, StoreError> {
        match outcome {
            Ok(()) => self.finish_checked(org, run_id, counts, found, Ok(note)).await,
            Err(err) => {
                let detail = format!("calsync's database failed during the run: {err}");
                self.finish_checked(org, run_id, counts, found, Err(detail)).await?;
                Err(err)
            }
        }
    }

    /// Records how the run ended: succeeded (with an optional note) or
    /// failed with why, in words.
    async fn finish_checked(
        &self,
        org: &Organization,
        run_id: RunId,
        counts: RunCounts,
        Found { calcom_only, restored, settled }: Found,
        ending: Result<Option<String>, String>,
    ) -> Result<RunReport, StoreError> {
        let (status, detail) = match ending {
            Ok(note) => (RunStatus::Succeeded, note),
            Err(why) => (RunStatus::Failed, Some(why)),
        };
        self.store().finish_run(org.id, run_id, status, counts, detail.as_deref(), self.now()).await?;
        if restored + settled > 0 {
            // One "sync restored" per run, however many issues closed.
            let note = alerts::sync_restored(restored, settled, format!("restored:run:{run_id}"));
            self.announce(org, None, &note, |url: &str| content::sync_restored(restored, settled, url)).await?;
        }
        Ok(RunReport { run_id, status, counts, calcom_only, restored, settled, detail })
    }
}

/// The open Cal.com-only findings a check watches for, by booking uid,
/// with the status the check's listing showed each booking in (if it did).
type Watched = std::collections::HashMap<String, Option<RemoteStatus>>;

/// At most this many open Cal.com-only findings are checked for having
/// settled in one check (the oldest first); more wait for the next.
const MAX_WATCHED: u32 = 10_000;

/// A called-off status in words.
fn called_off(status: RemoteStatus) -> &'static str {
    match status {
        RemoteStatus::Rejected => "declined",
        _ => "cancelled",
    }
}

/// What a comprehensive check gathers across the parts of its window.
struct Check {
    restored: u64,
    settled: u64,
    /// Live bookings no appointment of their part accounts for.
    candidates: Vec<RemoteBooking>,
    /// What the parts' listings say about themselves (their bookings are
    /// not kept).
    seen: Listing,
    watched: Watched,
}

impl Check {
    fn found(&self, calcom_only: usize) -> Found {
        Found { calcom_only, restored: self.restored, settled: self.settled }
    }
}

/// What a run found besides its counts, for its report and its "sync
/// restored" notification.
#[derive(Debug, Clone, Copy, Default)]
struct Found {
    calcom_only: usize,
    restored: u64,
    settled: u64,
}

/// `window` cut into equal consecutive time spans, enough that each holds
/// about `per_part` of its `total` appointments if they are spread evenly;
/// one span for a window of at most `per_part`.
fn parts((from, to): (DateTime<Utc>, DateTime<Utc>), total: i64, per_part: i64) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let n = (total.max(1) + per_part.max(1) - 1) / per_part.max(1);
    // Not thinner than an hour: a part is at least one listing request.
    let n = n.clamp(1, (to - from).num_hours().max(1)) as i32;
    let step = (to - from) / n;
    (0..n).map(|i| (from + step * i, if i + 1 == n { to } else { from + step * (i + 1) })).collect()
}

impl Bulk {
    /// What the listing says, for linked appointments it covers, and how
    /// it was listed.
    fn finding(&self, appointment: &Appointment) -> Option<(Finding, &str)> {
        let covered = appointment.starts_at >= self.from && appointment.starts_at < self.to;
        if covered {
            self.index.finding(appointment).map(|finding| (finding, self.listed.as_str()))
        } else {
            None
        }
    }
}

impl Listings {
    /// The freshest answer the listings hold: the changes listing for its
    /// bookings (whatever their start), else a window listing covering it,
    /// with how that listing was made (empty for a booking found, where
    /// nobody asks).
    fn finding(&self, appointment: &Appointment) -> Option<(Finding, &str)> {
        let uid = appointment.calcom_booking_uid.as_deref();
        let changed = self.changed.as_ref().filter(|index| uid.is_some_and(|uid| index.contains(uid)));
        match changed.and_then(|index| index.finding(appointment)) {
            Some(found @ Finding::Found { .. }) => Some((found, "")),
            _ => self.windows.iter().find_map(|bulk| bulk.finding(appointment)),
        }
    }
}

/// A synced appointment whose listed booking still matches needs nothing;
/// anything else is checked (and may close its issue).
fn needs_check(appointment: &Appointment, index: &WindowIndex) -> bool {
    match index.finding(appointment) {
        Some(Finding::Found { booking, relink: None }) => {
            appointment.sync.status != SyncStatus::Synced || !differences(appointment, &booking).is_empty()
        }
        _ => true,
    }
}

/// The watermark after a complete listing: the newest change it saw (its
/// rows' `updatedAt`, Cal.com's clock), never earlier than before. A listing
/// whose rows carry no `updatedAt` at all (an account of old, never-updated
/// bookings) starts the watermark at Cal.com's clock when it was listed.
/// Changes made while it was paged through are newer than what it saw, so
/// the next pass sees them.
fn advanced_watermark(previous: Option<DateTime<Utc>>, listing: &Listing, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    previous.max(listing.newest_update).or(listing.server_time).or(Some(now))
}

/// How a complete listing was made, as an orphan's evidence: "05.12.2026
/// 02:00:00: listed Cal.com's bookings starting 05.11.2026 02:00 –
/// 04.02.2027 02:00: 1134 bookings on 12 pages, every page answered".
fn listing_words(
    listing: &Listing,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    local: LocalFormat,
    at: DateTime<Utc>,
) -> String {
    let n = listing.bookings.len() as u64;
    format!(
        "{}: listed Cal.com's bookings starting {} – {}: {n} booking{} on {} page{}, every page answered",
        local.date_time_seconds(at),
        local.date_time(from),
        local.date_time(to),
        plural(n),
        listing.api_calls,
        plural(listing.api_calls),
    )
}

/// What the run record says about rows Cal.com sent that could not be read.
fn unreadable_note(listing: &Listing) -> Option<String> {
    const SHOWN: usize = 5;
    if listing.unreadable.is_empty() {
        return None;
    }
    let rows: Vec<String> = listing
        .unreadable
        .iter()
        .take(SHOWN)
        .map(|row| format!("{} ({})", row.uid.as_deref().unwrap_or("without a uid"), row.problem))
        .collect();
    let more = listing.unreadable.len().saturating_sub(SHOWN);
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    Some(format!(
        "{} booking(s) from Cal.com could not be read and were checked one by one: {}{more}",
        listing.unreadable.len(),
        rows.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_window_is_cut_into_equal_spans_that_cover_it_without_gaps() {
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let to = from + Duration::days(210);
        assert_eq!(parts((from, to), 20_000, 20_000), [(from, to)], "at most one part's worth: one span");
        assert_eq!(parts((from, to), 0, 20_000), [(from, to)]);
        let spans = parts((from, to), 1_000_000, 20_000);
        assert_eq!(spans.len(), 50);
        assert_eq!((spans[0].0, spans[49].1), (from, to));
        assert!(spans.windows(2).all(|w| w[0].1 == w[1].0), "each span starts where the last ended");
        assert_eq!(parts((from, from + Duration::hours(3)), 1_000_000, 1).len(), 3, "not thinner than an hour");
    }
}
