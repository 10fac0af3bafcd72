//! The verifier: asks Cal.com about appointments (through the circuit
//! breaker), applies the rules, and records the outcome, the history entry
//! and the review-queue change.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::alerts;
use super::circuit::{Admission, Circuits};
use super::compare::RemoteBooking;
use super::ladder::RetryLadder;
use super::next_cycle::NextCycles;
use super::rules::{decide, evidence, Decision, Evidence, IssueAction, Outcome, Schedule};
use super::source::{BookingSource, SourceError};
use crate::alerting::{self, RuleKind};
use crate::clock::Clock;
use crate::domain::{IssueId, OrgId, SyncStatus};
use crate::mail::content::{self, EmailContent};
use crate::store::{
    Appointment, EventKind, IssueSubject, NewIssue, NewNotification, NewSyncEvent, Opened, Organization, Resolution,
    StateWrite, Store, StoreError,
};

/// How far around an appointment's start to look for a uid-less match.
const MATCH_SLACK: i64 = 1;

/// The result of verifying one appointment.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub decision: Decision,
    /// Set when the verification opened (or found open) a review issue.
    pub issue: Option<Opened>,
    /// Issues this verification closed because the problem went away.
    pub restored: u64,
}

#[derive(Clone)]
pub struct Verifier {
    store: Store,
    circuits: Arc<Circuits>,
    ladder: RetryLadder,
    clock: Arc<dyn Clock>,
    /// With email on: the public URL links in emails point to.
    email_base_url: Option<String>,
    next_cycles: Arc<NextCycles>,
    /// No webhook for this long while bookings changed: webhooks look broken.
    webhook_silence: Duration,
    /// Appointments per part of a comprehensive check's window.
    part_size: i64,
}

/// Appointments per part of a comprehensive check (unless set otherwise): a
/// window holding more is listed and checked in consecutive time spans of
/// about this many, so the check's memory stays flat however large the
/// window grows (about 1 KB per appointment of a part is held at once).
pub const PART_SIZE: i64 = 20_000;

impl Verifier {
    pub fn new(store: Store, circuits: Arc<Circuits>, ladder: RetryLadder, clock: Arc<dyn Clock>) -> Verifier {
        let webhook_silence = Duration::from_std(super::webhook_health::DEFAULT_SILENCE).unwrap_or(Duration::days(1));
        Verifier {
            store,
            circuits,
            ladder,
            clock,
            email_base_url: None,
            next_cycles: Arc::default(),
            webhook_silence,
            part_size: PART_SIZE,
        }
    }

    /// Appointments per part of a comprehensive check's window (default
    /// [`PART_SIZE`]); tests set a small one to check a window in parts.
    pub fn with_part_size(mut self, appointments: i64) -> Verifier {
        self.part_size = appointments.max(1);
        self
    }

    pub(crate) fn part_size(&self) -> i64 {
        self.part_size
    }

    /// How long no webhook may arrive while bookings change before the
    /// admins are told webhooks look broken (`CALSYNC_WEBHOOK_SILENCE`).
    pub fn with_webhook_silence(mut self, silence: std::time::Duration) -> Verifier {
        self.webhook_silence = Duration::from_std(silence).unwrap_or(self.webhook_silence);
        self
    }

    pub(crate) fn webhook_silence(&self) -> Duration {
        self.webhook_silence
    }

    /// Retries on `ladder` instead of the one it was built with.
    pub fn with_ladder(mut self, ladder: RetryLadder) -> Verifier {
        self.ladder = ladder;
        self
    }

    /// Also queue emails for notifications (to users whose preference wants them).
    pub fn with_email(mut self, public_url: &str) -> Verifier {
        self.email_base_url = Some(public_url.trim_end_matches('/').to_owned());
        self
    }

    pub fn circuits(&self) -> &Circuits {
        &self.circuits
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) async fn relink(
        &self,
        org: &Organization,
        appointment: &Appointment,
        uid: &str,
    ) -> Result<(), StoreError> {
        let event =
            self.event(appointment, EventKind::Updated, None, None, Some(format!("Linked to Cal.com booking {uid}")));
        self.store.link_booking(org.id, appointment.id, uid, &event).await
    }

    /// Verifies one appointment against Cal.com and records the outcome.
    pub async fn verify_one<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        appointment: &Appointment,
    ) -> Result<Verified, StoreError> {
        self.verify_one_after(org, source, appointment, None).await
    }

    /// [`Verifier::verify_one`] for an appointment a complete listing did
    /// not account for: `listed` says which listing, and is kept with a
    /// "not found" as part of the evidence.
    pub async fn verify_one_after<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        appointment: &Appointment,
        listed: Option<String>,
    ) -> Result<Verified, StoreError> {
        let started = self.clock.now();
        let (mut evidence, relink) = self.gather(org, source, appointment, started).await;
        if let (Evidence::NotFound { how, .. }, Some(listed)) = (&mut evidence, listed) {
            *how = Some(match how.take() {
                Some(asked) => format!("{listed}\n{asked}"),
                None => listed,
            });
        }
        if let Some(uid) = relink {
            self.relink(org, appointment, &uid).await?;
        }
        self.apply(org, appointment, &evidence, started).await
    }

    /// Records what `evidence` means for the appointment.
    pub async fn apply(
        &self,
        org: &Organization,
        appointment: &Appointment,
        evidence: &Evidence,
        started: DateTime<Utc>,
    ) -> Result<Verified, StoreError> {
        let (decision, event) = self.judge(org, appointment, evidence, started);
        let routine = is_routine(appointment, &decision);
        let write =
            StateWrite { id: appointment.id, state: decision.state.clone(), event, resolve_issues: false, routine };
        self.follow_up_then_write(org, appointment, evidence, decision, &write).await
    }

    /// The issue, the alerts, and then the state. The state write releases
    /// the appointment's claim, so it comes last: a process killed before it
    /// leaves the appointment claimed, whoever takes the claim over verifies
    /// it again, and what was opened but not yet told is told then
    /// (`Opened::Untold`). Written first, a crash in between would leave an
    /// issue nobody hears of, or none at all, on an appointment no longer due.
    async fn follow_up_then_write(
        &self,
        org: &Organization,
        appointment: &Appointment,
        evidence: &Evidence,
        decision: Decision,
        write: &StateWrite,
    ) -> Result<Verified, StoreError> {
        let verified = self.follow_up(org, appointment, evidence, decision).await?;
        self.store.write_sync_state(org.id, write).await?;
        Ok(verified)
    }

    /// Like [`Verifier::apply`], but an outcome that needs nothing beyond
    /// its own write (no issue to open, no alert) is queued in `batch`, to
    /// be written with others by [`Verifier::write_batch`]. Its `restored`
    /// count comes from that write.
    pub(crate) async fn apply_batched(
        &self,
        org: &Organization,
        appointment: &Appointment,
        evidence: &Evidence,
        started: DateTime<Utc>,
        batch: &mut Vec<StateWrite>,
    ) -> Result<Verified, StoreError> {
        let (decision, event) = self.judge(org, appointment, evidence, started);
        let resolve_issues = match decision.issue {
            _ if decision.outcome == Outcome::Unauthorized => None,
            // An alert rule may want to hear of it.
            _ if decision.is_first_failure() => None,
            IssueAction::None => Some(false),
            IssueAction::ResolveAll => Some(true),
            IssueAction::Open(_) => None,
        };
        let routine = is_routine(appointment, &decision);
        let Some(resolve_issues) = resolve_issues else {
            let write =
                StateWrite { id: appointment.id, state: decision.state.clone(), event, resolve_issues: false, routine };
            return self.follow_up_then_write(org, appointment, evidence, decision, &write).await;
        };
        batch.push(StateWrite { id: appointment.id, state: decision.state.clone(), event, resolve_issues, routine });
        Ok(Verified { decision, issue: None, restored: 0 })
    }

    /// Writes the queued outcomes in one transaction; returns how many
    /// issues closed because their appointment is fine again.
    pub(crate) async fn write_batch(&self, org: &Organization, batch: &mut Vec<StateWrite>) -> Result<u64, StoreError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let evidence = alerts::resolved_itself(now, org.time_zone);
        let restored = self.store.write_sync_states(org.id, batch, now, &evidence).await?;
        batch.clear();
        Ok(restored)
    }

    /// The decision for `evidence` and its history entry (no I/O).
    fn judge(
        &self,
        org: &Organization,
        appointment: &Appointment,
        evidence: &Evidence,
        started: DateTime<Utc>,
    ) -> (Decision, NewSyncEvent) {
        let now = self.clock.now();
        let schedule = Schedule {
            ladder: &self.ladder,
            now,
            next_cycle: self.next_cycles.after(org, now),
            local: org.local_format(),
        };
        let decision = decide(&appointment.sync, evidence, &schedule);
        let detail = decision.state.error_detail.clone();
        let mut event =
            self.event(appointment, EventKind::Verification, Some(decision.outcome.as_str()), decision.attempt, detail);
        event.technical = match evidence {
            Evidence::Transient { technical, .. } => technical.clone(),
            Evidence::NotFound { how, .. } => how.clone(),
            // The words say it in local time; the wire values stay here.
            Evidence::Differs(_, diffs) => Some(
                diffs
                    .iter()
                    .map(|d| format!("{}: ours {} / Cal.com {}", d.field, d.ours, d.calcom))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            _ => None,
        };
        let elapsed = (now - started).num_milliseconds().max(0);
        event.duration_ms = Some(elapsed);
        metrics::counter!("calsync_verifications_total", "result" => decision.outcome.as_str()).increment(1);
        metrics::histogram!("calsync_verification_seconds").record(elapsed as f64 / 1000.0);
        (decision, event)
    }

    /// What the decision means beyond the appointment's own state: the
    /// alert, and the review-queue change.
    async fn follow_up(
        &self,
        org: &Organization,
        appointment: &Appointment,
        evidence: &Evidence,
        decision: Decision,
    ) -> Result<Verified, StoreError> {
        let now = self.clock.now();
        if decision.is_first_failure() {
            self.first_failure(org, appointment, &decision).await?;
        }
        if decision.outcome == Outcome::Unauthorized {
            let note = alerts::calcom_unauthorized(now);
            self.announce(org, None, &note, content::calcom_unauthorized).await?;
        }

        let subject = IssueSubject::Appointment(appointment.id);
        let mut restored = 0;
        let issue = match decision.issue {
            IssueAction::None => None,
            IssueAction::ResolveAll => {
                let evidence = alerts::resolved_itself(now, org.time_zone);
                restored = self
                    .store
                    .resolve_issues_for(org.id, &subject, Resolution::AutoResolved, None, Some(&evidence), now)
                    .await?;
                None
            }
            IssueAction::Open(code) => {
                let (snapshot, diffs) = match evidence {
                    Evidence::Differs(booking, diffs) => (to_json(booking), serde_json::to_string(diffs).ok()),
                    _ => (None, None),
                };
                let new = NewIssue {
                    code,
                    subject,
                    calcom_snapshot: snapshot,
                    differences: diffs,
                    detail: decision.state.error_detail.clone(),
                };
                let opened = self.store.open_issue(org.id, &new, now).await?;
                if let Some(id) = opened.news() {
                    let note = alerts::came_back(
                        alerts::issue_opened(id, code, appointment, org.time_zone, &decision.state, now),
                        opened,
                    );
                    let email = |url: &str| content::appointment_issue(code, appointment, org.time_zone, url);
                    self.announce(org, Some(id), &note, email).await?;
                }
                Some(opened)
            }
        };
        Ok(Verified { decision, issue, restored })
    }

    /// Tells admins, exactly once: in the feed, and by email to those who
    /// want it. For an issue, its notified mark is written with the
    /// notification (`Store::notify_issue`), so a crash in between leaves it
    /// untold for the next verification rather than marked and never told;
    /// the notification's dedupe key guards the rest. The outbox queues one
    /// email per user. An issue's email and webhook follow the
    /// organization's "retries used up" alert rule (off, throttled into a
    /// digest, or every time); the feed always has it.
    pub(crate) async fn announce(
        &self,
        org: &Organization,
        issue: Option<IssueId>,
        note: &NewNotification,
        email: impl FnOnce(&str) -> EmailContent,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let channels = match issue {
            Some(_) => {
                let line = format!("{}: {}", note.title, note.body.lines().next().unwrap_or_default());
                alerting::decide(&self.store, org.id, RuleKind::RetriesUsedUp, &line, now).await?
            }
            None => alerting::Channels { email: true, webhook: false },
        };
        // Emails are queued with their notification, in one transaction.
        let emails = match self.email_base_url.as_deref() {
            Some(base_url) if channels.email => {
                alerting::dispatch::emails_for(&self.store, org.id, note, email(base_url)).await?
            }
            _ => Vec::new(),
        };
        let told = match issue {
            Some(issue) => self.store.notify_issue(org.id, issue, note, emails, now).await?,
            None => self.store.notify_with_emails(org.id, note, emails, now).await?,
        };
        if channels.webhook && told.is_some() {
            alerting::dispatch::post(&self.store, org, RuleKind::RetriesUsedUp, "issue.opened", note, now).await?;
        }
        Ok(())
    }

    /// A verification failed for the first time (retries ahead): the
    /// "first failure" alert rule's event, if the organization turned it on.
    async fn first_failure(
        &self,
        org: &Organization,
        appointment: &Appointment,
        decision: &Decision,
    ) -> Result<(), StoreError> {
        let tz = org.time_zone;
        let line = format!(
            "Appointment #{} ({}, {}): {}. {}",
            appointment.id,
            appointment.customer_name,
            alerts::short_time(appointment.starts_at, tz),
            decision.state.error_detail.as_deref().unwrap_or("Cal.com did not answer"),
            alerts::retry_words(decision.state.next_verification_at, self.clock.now(), tz)
        );
        alerting::raise(
            &self.store,
            org,
            RuleKind::FirstFailure,
            &line,
            self.email_base_url.as_deref(),
            self.clock.now(),
        )
        .await?;
        Ok(())
    }

    /// Asks Cal.com, returning the evidence and, if the appointment should
    /// point at another booking, its uid.
    async fn gather<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        appointment: &Appointment,
        now: DateTime<Utc>,
    ) -> (Evidence, Option<String>) {
        let local = org.local_format();
        let org = org.id;
        if let Admission::Rejected { retry_at } = self.circuits.admit(org, now) {
            return (Evidence::CircuitOpen { retry_at }, None);
        }
        let answer = match appointment.calcom_booking_uid.as_deref() {
            Some(uid) => self.by_uid(source, uid).await,
            None => self.by_match(source, appointment).await,
        };
        match answer {
            Ok(Some((booking, relink))) => {
                self.answered(org).await;
                (evidence(appointment, booking), relink)
            }
            Ok(None) => {
                self.answered(org).await;
                let checked = local.date_time_seconds(self.clock.now());
                let (detail, how) = match appointment.calcom_booking_uid.as_deref() {
                    Some(uid) => (
                        format!("Booking ID \"{uid}\" not found in Cal.com"),
                        format!("{checked}: asked Cal.com for booking {uid} alone; it answered 404 Not Found"),
                    ),
                    None => (
                        "No Cal.com booking at this time for this customer".to_owned(),
                        format!(
                            "{checked}: listed Cal.com's bookings starting within {MATCH_SLACK} minute of {}; \
                             none is live with this customer's email or phone",
                            local.date_time(appointment.starts_at)
                        ),
                    ),
                };
                (Evidence::NotFound { detail, how: Some(how) }, None)
            }
            Err(SourceError::Unauthorized) => {
                // Cal.com answered; the key is the problem, not Cal.com's health.
                self.answered(org).await;
                (Evidence::Unauthorized, None)
            }
            Err(SourceError::Transient(failure)) => {
                self.failed(org).await;
                (Evidence::Transient { detail: failure.summary, technical: failure.technical }, None)
            }
            Err(SourceError::Rejected(detail)) => {
                // Cal.com answered, but refused a read: nothing proven, and not its health.
                self.answered(org).await;
                (Evidence::Transient { detail, technical: None }, None)
            }
        }
    }

    /// Cal.com answered: an outage this ends is recorded as over. A record
    /// that cannot be written costs only the outage's grouping, not the
    /// verification, so it is logged.
    async fn answered(&self, org: OrgId) {
        if self.circuits.record_success(org) {
            if let Err(e) = self.store.outage_ended(org, self.clock.now()).await {
                tracing::warn!(error = %e, %org, "could not record the end of a Cal.com outage");
            }
        }
    }

    /// Cal.com failed: an outage this opens (the breaker opening) is recorded.
    async fn failed(&self, org: OrgId) {
        let now = self.clock.now();
        if self.circuits.record_failure(org, now) {
            if let Err(e) = self.store.outage_began(org, now).await {
                tracing::warn!(error = %e, %org, "could not record a Cal.com outage");
            }
        }
    }

    /// The booking for `uid`, following reschedules to the live booking.
    async fn by_uid<S: BookingSource>(
        &self,
        source: &S,
        uid: &str,
    ) -> Result<Option<(RemoteBooking, Option<String>)>, SourceError> {
        let Some(mut booking) = source.booking(uid).await? else {
            return Ok(None);
        };
        let mut hops = 0;
        while let (Some(next), true) = (booking.rescheduled_to_uid.clone(), hops < 5) {
            match source.booking(&next).await? {
                Some(b) => booking = b,
                None => break,
            }
            hops += 1;
        }
        let relink = (booking.uid != uid).then(|| booking.uid.clone());
        Ok(Some((booking, relink)))
    }

    /// A uid-less appointment: the live booking at its start for its customer.
    async fn by_match<S: BookingSource>(
        &self,
        source: &S,
        appointment: &Appointment,
    ) -> Result<Option<(RemoteBooking, Option<String>)>, SourceError> {
        let slack = Duration::minutes(MATCH_SLACK);
        let listing = source.list_window(appointment.starts_at - slack, appointment.starts_at + slack).await?;
        let diff = super::window::diff_window(std::slice::from_ref(appointment), &listing.bookings);
        let found = diff.findings.into_iter().find_map(|(_, finding)| match finding {
            super::window::Finding::Found { booking, relink } => Some((booking, relink)),
            _ => None,
        });
        if found.is_none() {
            // "No booking at this time" is evidence only from a listing that
            // filters as asked and that hides nothing it could not read.
            if let Some(why) = listing.untrusted.clone() {
                return Err(SourceError::Transient(why.into()));
            }
            if listing.may_hide_booking_at(appointment.starts_at, slack) {
                let summary = "Cal.com sent a booking at this time that calsync could not read; nothing is concluded";
                let technical = listing.unreadable.iter().map(|r| r.problem.as_str()).collect::<Vec<_>>().join("; ");
                return Err(SourceError::Transient(super::source::Failure::new(summary, technical)));
            }
        }
        Ok(found)
    }

    fn event(
        &self,
        appointment: &Appointment,
        kind: EventKind,
        result: Option<&str>,
        attempt: Option<i64>,
        detail: Option<String>,
    ) -> NewSyncEvent {
        NewSyncEvent {
            appointment_id: Some(appointment.id),
            kind,
            result: result.map(str::to_owned),
            attempt,
            duration_ms: None,
            detail,
            technical: None,
            actor: "system".into(),
            actor_user_id: None,
            at: self.clock.now(),
        }
    }
}

/// Cal.com's answer changed nothing anyone would look at: in sync before
/// and after, or already flagged for review with the same finding. The
/// history keeps changes of state, failed attempts (the retry ladder's too)
/// and admin actions, not these re-confirmations.
fn is_routine(appointment: &Appointment, decision: &Decision) -> bool {
    let (before, after) = (&appointment.sync, &decision.state);
    let answered = matches!(decision.outcome, Outcome::Synced | Outcome::Mismatch | Outcome::NotFound);
    let unchanged = before.status == after.status
        && before.error_code == after.error_code
        && before.error_detail == after.error_detail
        && before.requires_manual_review == after.requires_manual_review;
    let settled = after.status == SyncStatus::Synced || after.requires_manual_review;
    answered && unchanged && settled
}

fn to_json(booking: &RemoteBooking) -> Option<String> {
    serde_json::to_string(booking).ok()
}
