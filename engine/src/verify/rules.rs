//! The spec's verification rules as one pure function: given what we knew
//! about an appointment and what Cal.com just answered, what do we believe
//! now, and what follows (an issue to open or close, a notification).
//!
//! Only a definite answer changes what we believe. A 404 is evidence, but it
//! must be confirmed by the whole retry ladder (three consecutive 404s)
//! before the appointment is called orphaned. Timeouts, 5xx, 429 and an open
//! circuit are evidence of nothing: they retry, and never flag an orphan or
//! a mismatch. A mismatch is flagged at once: Cal.com answered, and its
//! answer differs.

use chrono::{DateTime, Utc};

use super::compare::{differences, Difference, RemoteBooking, RemoteStatus};
use super::ladder::{NextStep, RetryLadder};
use crate::domain::{string_enum, ErrorCode, SyncStatus};
use crate::format::{describe_differences, LocalFormat};
use crate::store::{Appointment, EventKind, SyncEvent, SyncState};

/// What one verification attempt found out.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// Cal.com has the booking and it agrees with ours.
    Matches(RemoteBooking),
    /// Cal.com has the booking but it differs.
    Differs(RemoteBooking, Vec<Difference>),
    /// Cal.com answered 404 for the uid (or no booking matched). `detail`
    /// is for people; `how` says how it was established (which listing,
    /// which request), the review page's evidence for an orphan.
    NotFound { detail: String, how: Option<String> },
    /// No answer (timeout, 5xx, 429, network), or one that proves nothing
    /// (an unreadable booking, a status calsync does not know). Says
    /// nothing about the booking. `detail` is for people, `technical` for
    /// the history's "technical details".
    Transient { detail: String, technical: Option<String> },
    /// We did not ask: the organization's circuit is open.
    CircuitOpen { retry_at: DateTime<Utc> },
    /// Cal.com refused our API key: an organization problem, not this appointment's.
    Unauthorized,
}

/// What Cal.com's answer `booking` proves about `appointment`: in sync,
/// different, or (a status calsync does not know) nothing at all.
pub fn evidence(appointment: &Appointment, booking: RemoteBooking) -> Evidence {
    if booking.status == RemoteStatus::Unknown {
        return Evidence::Transient {
            detail: "Cal.com reports this booking with a status calsync does not know; nothing is concluded".into(),
            technical: Some(format!("booking {}: unknown status", booking.uid)),
        };
    }
    let diffs = differences(appointment, &booking);
    if diffs.is_empty() {
        Evidence::Matches(booking)
    } else {
        Evidence::Differs(booking, diffs)
    }
}

/// What should happen to the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueAction {
    None,
    Open(ErrorCode),
    /// The appointment is fine: close whatever is open (auto-resolved).
    ResolveAll,
}

string_enum! {
    /// The short outcome word stored in the sync history.
    pub enum Outcome : "verification outcome" {
        Synced = "synced",
        Mismatch = "mismatch",
        NotFound = "not_found",
        Error = "error",
        CircuitOpen = "circuit_open",
        Unauthorized = "unauthorized",
    }
}

impl Outcome {
    /// Whether Cal.com had the booking at this verification, in sync or not.
    pub fn found_booking(self) -> bool {
        matches!(self, Outcome::Synced | Outcome::Mismatch)
    }
}

/// An orphan's evidence: the verifications in `history` (newest first)
/// since Cal.com last had the booking that did not find it (its 404s;
/// failed attempts are evidence of nothing and are passed over).
pub fn misses_since_found(history: &[SyncEvent]) -> impl Iterator<Item = &SyncEvent> {
    let outcome = |e: &SyncEvent| e.result.as_deref().and_then(|word| word.parse::<Outcome>().ok());
    history
        .iter()
        .filter(|e| e.kind == EventKind::Verification)
        .take_while(move |e| !outcome(e).is_some_and(Outcome::found_booking))
        .filter(move |e| outcome(e) == Some(Outcome::NotFound))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub state: SyncState,
    pub outcome: Outcome,
    pub issue: IssueAction,
    /// The attempt number this verification counts as (None: not counted).
    pub attempt: Option<i64>,
}

impl Decision {
    /// The first failed attempt of a run of transient failures: what the
    /// "first failure" alert rule is about.
    pub fn is_first_failure(&self) -> bool {
        self.outcome == Outcome::Error && self.attempt == Some(1)
    }
}

/// The schedule's context for one decision.
#[derive(Debug, Clone)]
pub struct Schedule<'a> {
    pub ladder: &'a RetryLadder,
    pub now: DateTime<Utc>,
    /// When the regular cycle will look again (after the ladder is used up).
    pub next_cycle: DateTime<Utc>,
    /// How the organization reads times, for the findings' words.
    pub local: LocalFormat,
}

fn confirming_not_found(state: &SyncState) -> bool {
    state.status == SyncStatus::VerificationPending && state.error_code.is_none() && state.attempts > 0
}

/// A person has been asked to look at it because Cal.com definitely said
/// something (not found, or different). Only another definite answer changes that.
fn flagged_by_evidence(state: &SyncState) -> bool {
    state.requires_manual_review && matches!(state.error_code, Some(ErrorCode::OrphanedLocal | ErrorCode::DataMismatch))
}

fn retrying_errors(state: &SyncState) -> bool {
    state.status == SyncStatus::Failed && state.error_code == Some(ErrorCode::VerificationError)
}

/// The attempt number, counting only consecutive attempts of the same kind.
fn attempt_number(previous: &SyncState, same_kind: bool) -> i64 {
    if same_kind {
        previous.attempts + 1
    } else {
        1
    }
}

pub fn decide(previous: &SyncState, evidence: &Evidence, schedule: &Schedule<'_>) -> Decision {
    let now = schedule.now;
    let base = SyncState { last_verified_at: Some(now), ..previous.clone() };
    match evidence {
        Evidence::Matches(_) => Decision {
            state: SyncState {
                status: SyncStatus::Synced,
                error_code: None,
                error_detail: None,
                attempts: 0,
                next_verification_at: None,
                requires_manual_review: false,
                ..base
            },
            outcome: Outcome::Synced,
            issue: IssueAction::ResolveAll,
            attempt: Some(attempt_number(previous, previous.attempts > 0)),
        },
        Evidence::Differs(_, diffs) => Decision {
            state: SyncState {
                status: SyncStatus::Failed,
                error_code: Some(ErrorCode::DataMismatch),
                error_detail: Some(describe_differences(diffs, schedule.local)),
                attempts: previous.attempts + 1,
                next_verification_at: None,
                requires_manual_review: true,
                ..base
            },
            outcome: Outcome::Mismatch,
            issue: IssueAction::Open(ErrorCode::DataMismatch),
            attempt: Some(previous.attempts + 1),
        },
        Evidence::NotFound { detail, .. } if previous.status == SyncStatus::OrphanedLocal => Decision {
            // Already confirmed: it stays an orphan (and its issue stays open).
            state: SyncState { attempts: previous.attempts + 1, error_detail: Some(detail.clone()), ..base },
            outcome: Outcome::NotFound,
            issue: IssueAction::Open(ErrorCode::OrphanedLocal),
            attempt: Some(previous.attempts + 1),
        },
        Evidence::Transient { .. } if flagged_by_evidence(previous) => Decision {
            // No answer says nothing: the flag and its issue stand as they are.
            state: previous.clone(),
            outcome: Outcome::Error,
            issue: IssueAction::None,
            attempt: None,
        },
        Evidence::NotFound { detail, .. } => {
            let attempt = attempt_number(previous, confirming_not_found(previous));
            match schedule.ladder.after(attempt, now) {
                NextStep::RetryAt(at) => Decision {
                    state: SyncState {
                        status: SyncStatus::VerificationPending,
                        error_code: None,
                        error_detail: Some(format!(
                            "{detail} (attempt {attempt} of {}, confirming)",
                            schedule.ladder.max_attempts()
                        )),
                        attempts: attempt,
                        next_verification_at: Some(at),
                        requires_manual_review: false,
                        ..base
                    },
                    outcome: Outcome::NotFound,
                    issue: IssueAction::None,
                    attempt: Some(attempt),
                },
                NextStep::Escalate => Decision {
                    state: SyncState {
                        status: SyncStatus::OrphanedLocal,
                        error_code: Some(ErrorCode::OrphanedLocal),
                        error_detail: Some(detail.clone()),
                        attempts: attempt,
                        next_verification_at: None,
                        requires_manual_review: true,
                        ..base
                    },
                    outcome: Outcome::NotFound,
                    issue: IssueAction::Open(ErrorCode::OrphanedLocal),
                    attempt: Some(attempt),
                },
            }
        }
        Evidence::Transient { detail, .. } => {
            let attempt = attempt_number(previous, retrying_errors(previous));
            let (next, escalated) = match schedule.ladder.after(attempt, now) {
                NextStep::RetryAt(at) => (at, false),
                NextStep::Escalate => (schedule.next_cycle, true),
            };
            Decision {
                state: SyncState {
                    status: SyncStatus::Failed,
                    error_code: Some(ErrorCode::VerificationError),
                    error_detail: Some(detail.clone()),
                    attempts: attempt,
                    next_verification_at: Some(next),
                    requires_manual_review: escalated,
                    ..base
                },
                outcome: Outcome::Error,
                // One issue when the ladder is used up; later failures find it open.
                issue: if escalated { IssueAction::Open(ErrorCode::VerificationError) } else { IssueAction::None },
                attempt: Some(attempt),
            }
        }
        Evidence::CircuitOpen { retry_at } => Decision {
            state: SyncState {
                error_code: Some(ErrorCode::CircuitOpen),
                error_detail: Some("Cal.com is unavailable; waiting before trying again".into()),
                next_verification_at: Some(*retry_at),
                last_verified_at: previous.last_verified_at,
                ..previous.clone()
            },
            outcome: Outcome::CircuitOpen,
            issue: IssueAction::None,
            attempt: None,
        },
        Evidence::Unauthorized => Decision {
            state: SyncState {
                error_code: Some(ErrorCode::VerificationError),
                error_detail: Some("Cal.com rejected the organization's API key".into()),
                next_verification_at: Some(schedule.next_cycle),
                last_verified_at: previous.last_verified_at,
                ..previous.clone()
            },
            outcome: Outcome::Unauthorized,
            issue: IssueAction::None,
            attempt: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::compare::RemoteStatus;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 11, 8, 0, 0).unwrap()
    }

    fn utc() -> LocalFormat {
        LocalFormat::new(chrono_tz::UTC, "en")
    }

    fn pending() -> SyncState {
        SyncState {
            status: SyncStatus::Pending,
            error_code: None,
            error_detail: None,
            attempts: 0,
            last_verified_at: None,
            next_verification_at: Some(t0()),
            requires_manual_review: false,
        }
    }

    fn booking() -> RemoteBooking {
        RemoteBooking {
            uid: "abc".into(),
            status: RemoteStatus::Accepted,
            start: t0(),
            end: t0() + Duration::minutes(30),
            attendee_emails: vec![],
            attendee_phones: vec![],
            rescheduled_to_uid: None,
            changed_at: None,
            event_type_id: None,
        }
    }

    fn run(evidence: &[Evidence]) -> Vec<Decision> {
        let ladder = RetryLadder::default();
        let mut state = pending();
        let mut now = t0();
        let mut out = Vec::new();
        for e in evidence {
            let d = decide(
                &state,
                e,
                &Schedule { ladder: &ladder, now, next_cycle: t0() + Duration::hours(6), local: utc() },
            );
            state = d.state.clone();
            now = state.next_verification_at.unwrap_or(now);
            out.push(d);
        }
        out
    }

    fn not_found() -> Evidence {
        Evidence::NotFound { detail: "Booking ID \"abc\" not found in Cal.com".into(), how: None }
    }

    fn timeout() -> Evidence {
        Evidence::Transient { detail: "API timeout".into(), technical: None }
    }

    #[test]
    fn a_404_becomes_an_orphan_only_after_three_consecutive_answers() {
        let d = run(&[not_found(), not_found(), not_found()]);
        assert_eq!(d[0].state.status, SyncStatus::VerificationPending);
        assert_eq!(d[0].state.next_verification_at, Some(t0() + Duration::minutes(1)));
        assert_eq!(d[1].state.next_verification_at, Some(t0() + Duration::minutes(6)));
        assert_eq!(d[0].issue, IssueAction::None);
        assert_eq!(d[1].issue, IssueAction::None);
        assert!(!d[1].state.requires_manual_review);
        let last = &d[2];
        assert_eq!(last.state.status, SyncStatus::OrphanedLocal);
        assert_eq!(last.state.error_code, Some(ErrorCode::OrphanedLocal));
        assert!(last.state.requires_manual_review);
        assert_eq!(last.issue, IssueAction::Open(ErrorCode::OrphanedLocal));
        assert_eq!(last.attempt, Some(3));
    }

    #[test]
    fn errors_between_404s_restart_the_confirmation() {
        let d = run(&[not_found(), timeout(), not_found(), not_found()]);
        assert_eq!(d[2].attempt, Some(1), "a 404 after an error starts counting again");
        assert_eq!(d[3].state.status, SyncStatus::VerificationPending, "only two consecutive 404s so far");
    }

    #[test]
    fn transient_errors_never_flag_an_orphan_or_mismatch() {
        let d = run(&[timeout(), timeout(), timeout(), timeout()]);
        for decision in &d {
            assert_eq!(decision.state.status, SyncStatus::Failed);
            assert_eq!(decision.state.error_code, Some(ErrorCode::VerificationError));
        }
        assert!(!d[1].state.requires_manual_review);
        assert_eq!(d[2].issue, IssueAction::Open(ErrorCode::VerificationError), "ladder used up: one issue");
        assert!(d[2].state.requires_manual_review);
        assert_eq!(d[2].state.next_verification_at, Some(t0() + Duration::hours(6)), "then the regular cycle");
    }

    #[test]
    fn an_open_circuit_consumes_no_attempt_and_changes_no_belief() {
        let ladder = RetryLadder::default();
        let schedule = Schedule { ladder: &ladder, now: t0(), next_cycle: t0() + Duration::hours(6), local: utc() };
        let mut retrying = decide(&pending(), &timeout(), &schedule).state;
        retrying.attempts = 2;
        let retry_at = t0() + Duration::seconds(60);
        let d = decide(&retrying, &Evidence::CircuitOpen { retry_at }, &schedule);
        assert_eq!(d.state.attempts, 2);
        assert_eq!(d.state.status, SyncStatus::Failed);
        assert_eq!(d.state.error_code, Some(ErrorCode::CircuitOpen));
        assert_eq!(d.state.next_verification_at, Some(retry_at));
        assert_eq!((d.issue, d.attempt), (IssueAction::None, None));
    }

    #[test]
    fn success_resets_and_auto_resolves() {
        let d = run(&[not_found(), Evidence::Matches(booking())]);
        let last = &d[1];
        assert_eq!(last.state.status, SyncStatus::Synced);
        assert_eq!(last.state.attempts, 0);
        assert_eq!(last.state.error_code, None);
        assert_eq!(last.state.next_verification_at, None);
        assert_eq!(last.issue, IssueAction::ResolveAll);
        assert_eq!(last.attempt, Some(2));
    }

    #[test]
    fn a_mismatch_is_flagged_at_once_with_both_values() {
        let diff = Difference { field: "start".into(), ours: "10:00".into(), calcom: "11:00".into() };
        let d = run(&[Evidence::Differs(booking(), vec![diff])]);
        assert_eq!(d[0].state.error_code, Some(ErrorCode::DataMismatch));
        assert!(d[0].state.requires_manual_review);
        assert_eq!(d[0].issue, IssueAction::Open(ErrorCode::DataMismatch));
        assert_eq!(
            d[0].state.error_detail.as_deref(),
            Some("Differs from Cal.com: start: Cal.com has 11:00, we have 10:00")
        );
    }

    #[test]
    fn a_confirmed_orphan_stays_one_through_404s_and_errors() {
        let d = run(&[not_found(), not_found(), not_found(), not_found(), timeout()]);
        assert_eq!(d[3].state.status, SyncStatus::OrphanedLocal);
        assert_eq!(d[3].issue, IssueAction::Open(ErrorCode::OrphanedLocal), "finds the open issue, opens no second");
        assert_eq!(d[4].state, d[3].state, "a timeout changes no belief");
        assert_eq!(d[4].issue, IssueAction::None);
    }

    #[test]
    fn an_orphans_evidence_is_its_404s_since_cal_com_last_had_it() {
        let event = |id: i64, kind: crate::store::EventKind, result: &str| SyncEvent {
            id,
            appointment_id: None,
            kind,
            result: Some(result.into()),
            attempt: None,
            duration_ms: None,
            detail: None,
            technical: None,
            actor: "system".into(),
            at: Utc::now(),
        };
        use crate::store::EventKind::{Resolution, Verification};
        // Newest first: two 404s around a timeout, then the booking was found.
        let history = [
            event(6, Verification, "not_found"),
            event(5, Resolution, "not_found"),
            event(4, Verification, "error"),
            event(3, Verification, "not_found"),
            event(2, Verification, "mismatch"),
            event(1, Verification, "not_found"),
        ];
        let ids: Vec<i64> = misses_since_found(&history).map(|e| e.id).collect();
        assert_eq!(ids, [6, 3], "only verifications, only 404s, only since the booking was last found");
        assert_eq!("circuit_open".parse::<Outcome>().ok(), Some(Outcome::CircuitOpen));
        assert_eq!("resolved".parse::<Outcome>().ok(), None);
    }

    #[test]
    fn a_bad_api_key_is_not_the_appointments_fault() {
        let d = run(&[Evidence::Unauthorized]);
        assert_eq!(d[0].state.status, SyncStatus::Pending);
        assert_eq!(d[0].state.attempts, 0);
        assert!(!d[0].state.requires_manual_review);
        assert_eq!(d[0].issue, IssueAction::None);
    }
}
