//! The verifier's rules end to end through the store on both databases, with
//! an in-memory Cal.com and a manual clock. (The same flows against the
//! Cal.com simulator over HTTP belong to the engine's integration suite.)

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::clock::{Clock, ManualClock};
use engine::domain::{AppointmentSource, AppointmentStatus, ErrorCode, SyncStatus};
use engine::on_both_backends;
use engine::store::DeliveryOutcome;
use engine::store::{
    Appointment, IssueSubject, NewAppointment, NewIssue, NewOrganization, Opened, Organization, Resolution, Store,
};
use engine::verify::circuit::{CircuitConfig, Circuits};
use engine::verify::compare::{RemoteBooking, RemoteStatus};
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;
use engine::verify::source::SourceError;

mod support;
use support::FakeCalcom;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 11, 8, 0, 0).unwrap()
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap()
}

struct World {
    store: Store,
    org: Organization,
    clock: ManualClock,
    calcom: FakeCalcom,
    verifier: Verifier,
}

async fn world(store: Store) -> World {
    let org = store
        .create_organization(
            &NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin },
            t0(),
        )
        .await
        .unwrap();
    let clock = ManualClock::at(t0());
    let circuits = Arc::new(Circuits::new(CircuitConfig::default()));
    let verifier = Verifier::new(store.clone(), circuits, RetryLadder::default(), Arc::new(clock.clone()));
    World { store, org, clock, calcom: FakeCalcom::default(), verifier }
}

impl World {
    async fn appointment(&self, uid: Option<&str>, email: &str) -> Appointment {
        let new = NewAppointment {
            external_id: None,
            customer_name: "Tom Klein".into(),
            customer_email: Some(email.into()),
            customer_phone: None,
            service: "Herrenschnitt".into(),
            starts_at: start(),
            ends_at: start() + Duration::minutes(45),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Retell,
            calcom_booking_uid: uid.map(Into::into),
            calcom_event_type_id: None,
        };
        self.store.insert_appointment(self.org.id, &new, "test", self.clock.now()).await.unwrap()
    }

    async fn verify(&self, a: &Appointment) -> engine::verify::service::Verified {
        let current = self.store.appointment(self.org.id, a.id).await.unwrap();
        self.verifier.verify_one(&self.org, &self.calcom, &current).await.unwrap()
    }

    /// Every notification of the organization as (kind, body), oldest first.
    async fn notifications(&self) -> Vec<(String, String)> {
        let rows = sqlx::query("SELECT kind, body FROM notifications WHERE org_id = $1 ORDER BY id")
            .bind(self.org.id.get())
            .fetch_all(self.store.pool())
            .await
            .unwrap();
        rows.iter().map(|r| (sqlx::Row::get(r, "kind"), sqlx::Row::get(r, "body"))).collect()
    }

    /// The organization's Cal.com outages as (start, end), oldest first.
    async fn outages(&self) -> Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        let rows = sqlx::query("SELECT started_at, ended_at FROM calcom_outages WHERE org_id = $1 ORDER BY id")
            .bind(self.org.id.get())
            .fetch_all(self.store.pool())
            .await
            .unwrap();
        let at = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap();
        rows.iter()
            .map(|r| (at(sqlx::Row::get(r, "started_at")), sqlx::Row::get::<Option<i64>, _>(r, "ended_at").map(at)))
            .collect()
    }

    async fn reload(&self, a: &Appointment) -> Appointment {
        self.store.appointment(self.org.id, a.id).await.unwrap()
    }
}

fn booking(uid: &str, email: &str) -> RemoteBooking {
    RemoteBooking {
        uid: uid.into(),
        status: RemoteStatus::Accepted,
        start: start(),
        end: start() + Duration::minutes(45),
        attendee_emails: vec![email.into()],
        attendee_phones: vec![],
        rescheduled_to_uid: None,
        changed_at: None,
        event_type_id: None,
    }
}

on_both_backends!(a_matching_booking_is_synced, |db| async move {
    let w = world(db.store.clone()).await;
    w.calcom.put(booking("abc", "tom@example.com"));
    let a = w.appointment(Some("abc"), "tom@example.com").await;
    let v = w.verify(&a).await;
    assert_eq!(v.decision.state.status, SyncStatus::Synced);
    let a = w.reload(&a).await;
    assert_eq!(a.sync.status, SyncStatus::Synced);
    assert_eq!(a.sync.last_verified_at, Some(t0()));
    let history = w.store.appointment_events(w.org.id, a.id).await.unwrap();
    assert_eq!(history[0].result.as_deref(), Some("synced"));
});

on_both_backends!(routine_confirmations_leave_no_history_rows_but_are_counted, |db| async move {
    let w = world(db.store.clone()).await;
    w.calcom.put(booking("abc", "tom@example.com"));
    let a = w.appointment(Some("abc"), "tom@example.com").await;
    w.verify(&a).await; // pending → synced: a change of state, kept
    let kinds = |events: &[engine::store::SyncEvent]| {
        events.iter().map(|e| format!("{}:{}", e.kind.as_str(), e.result.as_deref().unwrap_or("-"))).collect::<Vec<_>>()
    };
    let after_first = w.store.appointment_events(w.org.id, a.id).await.unwrap();
    for hours in 1..=20 {
        w.clock.set(t0() + Duration::hours(6 * hours));
        w.verify(&a).await;
    }
    let a_now = w.reload(&a).await;
    assert_eq!(a_now.sync.last_verified_at, Some(t0() + Duration::hours(120)), "each confirmation moves the time");
    let history = w.store.appointment_events(w.org.id, a.id).await.unwrap();
    assert_eq!(kinds(&history), kinds(&after_first), "twenty routine confirmations add no row");

    // A failed attempt and the change back are kept; so is the next change.
    w.calcom.fail_with(Some(SourceError::Transient("HTTP 503".into())));
    w.clock.set(t0() + Duration::hours(126));
    w.verify(&a).await;
    w.calcom.fail_with(None);
    w.clock.set(t0() + Duration::hours(127));
    w.verify(&a).await;
    let mut moved = booking("abc", "tom@example.com");
    moved.start += Duration::hours(1);
    moved.end += Duration::hours(1);
    w.calcom.put(moved);
    w.clock.set(t0() + Duration::hours(128));
    w.verify(&a).await;
    let history = w.store.appointment_events(w.org.id, a.id).await.unwrap();
    let newest: Vec<String> = kinds(&history).into_iter().take(3).collect();
    assert_eq!(newest, ["verification:mismatch", "verification:synced", "verification:error"]);

    // The figures count every verification, routine or not.
    let tally = w.store.verification_tally(w.org.id, t0(), t0() + Duration::days(30)).await.unwrap();
    assert_eq!((tally.total, tally.synced, tally.errors), (24, 22, 1));
    assert_eq!(tally.last_at, Some(t0() + Duration::hours(128)));
    assert_eq!(w.store.last_verification_at(w.org.id).await.unwrap(), Some(t0() + Duration::hours(128)));
    let durations = w.store.verification_durations(w.org.id, t0(), t0() + Duration::days(30)).await.unwrap();
    assert_eq!(durations.count, 24);
});

on_both_backends!(a_silent_delete_is_flagged_after_three_attempts_with_one_issue, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment(Some("abc-def-123"), "tom@example.com").await;
    let mut opened = Vec::new();
    for (i, wait) in [0, 1, 5].into_iter().enumerate() {
        w.clock.advance(Duration::minutes(wait));
        let v = w.verify(&a).await;
        let expected = if i < 2 { SyncStatus::VerificationPending } else { SyncStatus::OrphanedLocal };
        assert_eq!(v.decision.state.status, expected, "attempt {}", i + 1);
        opened.extend(v.issue);
    }
    assert_eq!(opened.len(), 1);
    assert!(matches!(opened[0], Opened::New(_)));
    let a = w.reload(&a).await;
    assert_eq!(a.sync.error_code, Some(ErrorCode::OrphanedLocal));
    assert!(a.sync.requires_manual_review);
    assert_eq!(a.sync.attempts, 3);

    // A later verification that finds it again opens nothing new.
    let again = w.verify(&a).await;
    assert!(matches!(again.issue, Some(Opened::AlreadyOpen(_))));
    assert_eq!(w.notifications().await, [("sync_issue".to_owned(), format!(
        "Appointment #{} requires manual review (In our database, not in Cal.com)\nCustomer: Tom Klein │ Time: 13.10 10:00",
        a.id
    ))], "exactly one notification for the orphan");

    // It shows up in Cal.com after all: synced, issue auto-resolved.
    w.calcom.put(booking("abc-def-123", "tom@example.com"));
    w.verify(&a).await;
    let issues = w.store.open_issues_for(w.org.id, &IssueSubject::Appointment(a.id)).await.unwrap();
    assert!(issues.is_empty());
    let closed = w.store.issue(w.org.id, opened[0].id()).await.unwrap();
    assert_eq!(closed.resolution, Some(Resolution::AutoResolved));
    let when = engine::verify::alerts::short_time(w.clock.now(), chrono_tz::Europe::Berlin);
    assert_eq!(
        closed.resolution_note.as_deref(),
        Some(format!("Resolved itself: Cal.com's booking matched ours when checked on {when}").as_str()),
        "it closed itself with the evidence that contradicted the finding"
    );
});

on_both_backends!(a_failure_that_uses_up_its_retries_says_when_it_is_tried_again, |db| async move {
    let w = world(db.store.clone()).await;
    w.calcom.put(booking("abc", "tom@example.com"));
    let a = w.appointment(Some("abc"), "tom@example.com").await;
    w.calcom.fail_with(Some(SourceError::Transient("HTTP 503".into())));
    for wait in [0, 1, 5] {
        w.clock.advance(Duration::minutes(wait));
        w.verify(&a).await;
    }
    let a = w.reload(&a).await;
    assert_eq!(a.sync.error_code, Some(ErrorCode::VerificationError));
    let next = a.sync.next_verification_at.expect("the regular cycle tries again");
    let notes = w.notifications().await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    let (kind, body) = &notes[0];
    assert_eq!(kind, "verification_failed");
    let hours = (next - w.clock.now() + Duration::minutes(30)).num_hours();
    let when = engine::verify::alerts::short_time(next, chrono_tz::Europe::Berlin);
    let line = body.lines().nth(1).unwrap();
    assert_eq!(line, format!("Reason: HTTP 503 │ Retrying in {hours}h ({when})"), "{body}");
});

on_both_backends!(an_outage_flags_nothing_and_opens_the_circuit, |db| async move {
    let w = world(db.store.clone()).await;
    let mut appts = Vec::new();
    for i in 0..8 {
        w.calcom.put(booking(&format!("u{i}"), "tom@example.com"));
        appts.push(w.appointment(Some(&format!("u{i}")), "tom@example.com").await);
    }
    w.calcom.fail_with(Some(SourceError::Transient("HTTP 503".into())));
    for a in &appts {
        let v = w.verify(a).await;
        assert!(v.issue.is_none());
    }
    for (i, a) in appts.iter().enumerate() {
        let a = w.reload(a).await;
        assert!(!a.sync.requires_manual_review);
        assert_ne!(a.sync.status, SyncStatus::OrphanedLocal);
        let code = a.sync.error_code.unwrap();
        assert_eq!(code, if i < 5 { ErrorCode::VerificationError } else { ErrorCode::CircuitOpen }, "appointment {i}");
        if i >= 5 {
            assert_eq!(a.sync.attempts, 0, "an open circuit consumes no attempt");
        }
    }
    assert_eq!(w.outages().await, [(t0(), None)], "the breaker's opening is the outage's start");
    // Cal.com recovers; after the open period the probe succeeds and everything syncs.
    w.calcom.fail_with(None);
    w.clock.advance(Duration::seconds(61));
    for a in &appts {
        w.verify(a).await;
    }
    for a in &appts {
        assert_eq!(w.reload(a).await.sync.status, SyncStatus::Synced);
    }
    assert!(w.store.open_issues(w.org.id, None, 10).await.unwrap().is_empty());
    let recovered = t0() + Duration::seconds(61);
    assert_eq!(w.outages().await, [(t0(), Some(recovered))], "the probe's answer ends it");
});

/// The booking as Cal.com has it after someone moved it there, unknown to us.
fn moved_two_hours(mut booking: RemoteBooking) -> RemoteBooking {
    booking.start += Duration::hours(2);
    booking.end += Duration::hours(2);
    booking
}

on_both_backends!(a_silent_time_change_is_a_mismatch_with_both_values, |db| async move {
    let w = world(db.store.clone()).await;
    w.calcom.put(moved_two_hours(booking("abc", "tom@example.com")));
    let a = w.appointment(Some("abc"), "tom@example.com").await;
    let v = w.verify(&a).await;
    let issue = w.store.issue(w.org.id, v.issue.unwrap().id()).await.unwrap();
    assert_eq!(issue.code, ErrorCode::DataMismatch);
    let diffs: serde_json::Value = serde_json::from_str(issue.differences.as_deref().unwrap()).unwrap();
    assert_eq!(diffs[0]["field"], "start");
    assert_eq!(diffs[0]["ours"], "2025-10-13T08:00:00+00:00");
    assert_eq!(diffs[0]["calcom"], "2025-10-13T10:00:00+00:00");
    assert!(issue.calcom_snapshot.unwrap().contains("\"uid\":\"abc\""));
});

on_both_backends!(an_issue_a_crash_left_untold_is_told_by_the_next_verification, |db| async move {
    let w = world(db.store.clone()).await;
    w.calcom.put(moved_two_hours(booking("abc", "tom@example.com")));
    let a = w.appointment(Some("abc"), "tom@example.com").await;
    // A process opened the issue and was killed before it told anyone.
    let new = NewIssue {
        code: ErrorCode::DataMismatch,
        subject: IssueSubject::Appointment(a.id),
        calcom_snapshot: None,
        differences: None,
        detail: None,
    };
    let opened = w.store.open_issue(w.org.id, &new, t0()).await.unwrap();
    assert!(w.notifications().await.is_empty());

    let v = w.verify(&a).await;
    assert_eq!(v.issue, Some(Opened::Untold(opened.id())), "the same issue, not a second one");
    let told = w.notifications().await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].0, "sync_issue");
    w.verify(&a).await;
    assert_eq!(w.notifications().await.len(), 1, "told once only");
});

on_both_backends!(a_reschedule_is_followed_and_relinked, |db| async move {
    let w = world(db.store.clone()).await;
    let mut old = booking("old", "tom@example.com");
    old.status = RemoteStatus::Cancelled;
    old.rescheduled_to_uid = Some("new".into());
    w.calcom.put(old);
    w.calcom.put(booking("new", "tom@example.com"));
    let a = w.appointment(Some("old"), "tom@example.com").await;
    let v = w.verify(&a).await;
    assert_eq!(v.decision.state.status, SyncStatus::Synced, "same time, now under the new uid");
    assert_eq!(w.reload(&a).await.calcom_booking_uid.as_deref(), Some("new"));
});

on_both_backends!(a_uid_less_appointment_is_matched_before_it_is_called_orphan, |db| async move {
    let w = world(db.store.clone()).await;
    w.calcom.put(booking("found-by-email", "Tom@Example.com"));
    let a = w.appointment(None, "tom@example.com").await;
    assert_eq!(w.verify(&a).await.decision.state.status, SyncStatus::Synced);
    assert_eq!(w.reload(&a).await.calcom_booking_uid.as_deref(), Some("found-by-email"));

    let lonely = w.appointment(None, "nobody@example.com").await;
    let v = w.verify(&lonely).await;
    assert_eq!(v.decision.state.status, SyncStatus::VerificationPending, "a miss is only the first of three");
});

on_both_backends!(a_bad_api_key_consumes_nothing, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment(Some("abc"), "tom@example.com").await;
    w.calcom.fail_with(Some(SourceError::Unauthorized));
    for _ in 0..4 {
        let v = w.verify(&a).await;
        assert!(v.issue.is_none());
    }
    let a = w.reload(&a).await;
    assert_eq!(a.sync.status, SyncStatus::Pending);
    assert_eq!(a.sync.attempts, 0);
    assert_eq!(w.verifier.circuits().state(w.org.id).name(), "closed", "Cal.com is up; the key is wrong");
});

fn run_start(kind: engine::store::RunKind, slot: Option<DateTime<Utc>>) -> engine::store::RunStart {
    engine::store::RunStart {
        kind,
        trigger: if slot.is_some() { engine::store::Trigger::Schedule } else { engine::store::Trigger::Manual },
        slot_at: slot,
        worker_id: "test-worker".into(),
        requested_by: None,
    }
}

on_both_backends!(a_cycle_verifies_what_is_due_once_per_slot, |db| async move {
    use engine::store::{RunKind, RunStatus};
    let w = world(db.store.clone()).await;
    w.calcom.put(booking("a", "tom@example.com"));
    let synced = w.appointment(Some("a"), "tom@example.com").await;
    let deleted = w.appointment(Some("gone"), "tom@example.com").await;
    let report =
        w.verifier.run_cycle(&w.org, &w.calcom, &run_start(RunKind::Cycle, Some(t0()))).await.unwrap().unwrap();
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!((report.counts.total, report.counts.processed, report.counts.synced), (2, 2, 1));
    assert_eq!(w.reload(&synced).await.sync.status, SyncStatus::Synced);
    assert_eq!(w.reload(&deleted).await.sync.status, SyncStatus::VerificationPending);
    let run = w.store.run(w.org.id, report.run_id).await.unwrap();
    assert_eq!(run.counts, report.counts);
    assert_eq!(
        w.verifier.run_cycle(&w.org, &w.calcom, &run_start(RunKind::Cycle, Some(t0()))).await.unwrap(),
        Err(engine::verify::runner::NotStarted::SlotTaken),
        "slot taken"
    );

    // The retries it scheduled are picked up by later runs, not this one.
    w.clock.advance(Duration::minutes(1));
    let second = w.verifier.run_cycle(&w.org, &w.calcom, &run_start(RunKind::Cycle, None)).await.unwrap().unwrap();
    assert_eq!(second.counts.processed, 1);
    w.clock.advance(Duration::minutes(5));
    let third = w.verifier.run_cycle(&w.org, &w.calcom, &run_start(RunKind::Cycle, None)).await.unwrap().unwrap();
    assert_eq!(third.counts.flagged, 1);
    assert_eq!(w.notifications().await.len(), 1);

    // The booking reappears; the next run restores it and says so once.
    w.calcom.put(booking("gone", "tom@example.com"));
    w.store
        .set_sync_state(
            w.org.id,
            deleted.id,
            &engine::store::SyncState { next_verification_at: Some(w.clock.now()), ..w.reload(&deleted).await.sync },
            &manual_retry(&deleted, w.clock.now()),
        )
        .await
        .unwrap();
    let fourth = w.verifier.run_cycle(&w.org, &w.calcom, &run_start(RunKind::Cycle, None)).await.unwrap().unwrap();
    assert_eq!(fourth.restored, 1);
    let notes = w.notifications().await;
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[1], ("sync_restored".to_owned(), "1 appointment successfully verified".to_owned()));
});

on_both_backends!(the_comprehensive_check_lists_once_and_finds_calcom_only_bookings, |db| async move {
    use engine::store::{RunKind, RunStatus};
    let w = world(db.store.clone()).await;
    w.calcom.put(booking("mine", "tom@example.com"));
    let mut stranger = booking("stranger", "anna@example.com");
    stranger.start += Duration::hours(3);
    stranger.end += Duration::hours(3);
    w.calcom.put(stranger);
    let mine = w.appointment(Some("mine"), "tom@example.com").await;
    let report = w
        .verifier
        .run_comprehensive(&w.org, &w.calcom, &run_start(RunKind::Comprehensive, Some(t0())))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(report.calcom_only, 1);
    assert_eq!(report.counts.api_calls, 1, "one listing, no per-uid requests");
    assert_eq!(w.reload(&mine).await.sync.status, SyncStatus::Synced);
    let issues = w.store.open_issues(w.org.id, Some(ErrorCode::OrphanedCalcom), 10).await.unwrap();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].calcom_booking_uid.as_deref(), Some("stranger"));

    // Run again: still one issue.
    w.verifier.run_comprehensive(&w.org, &w.calcom, &run_start(RunKind::Comprehensive, None)).await.unwrap().unwrap();
    assert_eq!(w.store.open_issues(w.org.id, Some(ErrorCode::OrphanedCalcom), 10).await.unwrap().len(), 1);
});

on_both_backends!(a_failed_listing_flags_nothing, |db| async move {
    use engine::store::{RunKind, RunStatus};
    let w = world(db.store.clone()).await;
    let a = w.appointment(Some("abc"), "tom@example.com").await;
    w.calcom.fail_with(Some(SourceError::Transient("HTTP 500".into())));
    let report = w
        .verifier
        .run_comprehensive(&w.org, &w.calcom, &run_start(RunKind::Comprehensive, None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(w.reload(&a).await.sync.status, SyncStatus::Pending);
    assert!(w.store.open_issues(w.org.id, None, 10).await.unwrap().is_empty());
    let run = w.store.run(w.org.id, report.run_id).await.unwrap();
    assert_eq!(run.error_detail.as_deref(), Some("Listing Cal.com's bookings failed: HTTP 500"));
});

fn manual_retry(a: &Appointment, at: DateTime<Utc>) -> engine::store::NewSyncEvent {
    engine::store::NewSyncEvent {
        appointment_id: Some(a.id),
        kind: engine::store::EventKind::VerificationQueued,
        result: None,
        attempt: None,
        duration_ms: None,
        detail: Some("Retry requested".into()),
        technical: None,
        actor: "test".into(),
        actor_user_id: None,
        at,
    }
}

/// A delivery as the receiver stores it, for the inbox worker.
fn delivery(trigger: &str, uid: &str, previous: Option<&str>, body: &str) -> engine::store::NewDelivery {
    engine::store::NewDelivery {
        body_sha256: format!("{body:0>64}"),
        trigger: trigger.into(),
        uid: Some(uid.into()),
        previous_uid: previous.map(Into::into),
        sent_at: Some(t0()),
    }
}

impl World {
    /// Stores the delivery and lets the inbox worker act on it; returns what it came to.
    async fn deliver(&self, new: &engine::store::NewDelivery) -> (engine::store::Stored, Option<DeliveryOutcome>) {
        let stored = self.store.store_delivery(self.org.id, new, self.clock.now()).await.unwrap();
        self.verifier.drain_webhooks(&self.org, &self.calcom, "worker").await.unwrap();
        let filter = engine::store::DeliveryFilter::default();
        let newest = self.store.deliveries(self.org.id, &filter, 1).await.unwrap().remove(0);
        (stored, newest.outcome)
    }
}

on_both_backends!(a_webhook_reverifies_at_once_and_replays_do_nothing, |db| async move {
    use engine::store::Stored;
    let w = world(db.store.clone()).await;
    let a = w.appointment(Some("old"), "tom@example.com").await;
    let mut old = booking("old", "tom@example.com");
    old.status = RemoteStatus::Cancelled;
    old.rescheduled_to_uid = Some("new".into());
    w.calcom.put(old);
    w.calcom.put(booking("new", "tom@example.com"));

    let rescheduled = delivery("BOOKING_RESCHEDULED", "new", Some("old"), "1");
    let (stored, outcome) = w.deliver(&rescheduled).await;
    assert!(matches!(stored, Stored::New(_)));
    assert_eq!(outcome, Some(DeliveryOutcome::Verified));
    let a = w.reload(&a).await;
    assert_eq!(a.calcom_booking_uid.as_deref(), Some("new"));
    assert_eq!(a.sync.status, SyncStatus::Synced);

    let events = w.store.appointment_events(w.org.id, a.id).await.unwrap().len();
    assert!(matches!(w.deliver(&rescheduled).await.0, Stored::Replay(_)));
    assert_eq!(w.store.appointment_events(w.org.id, a.id).await.unwrap().len(), events, "a replay verifies nothing");
    let ended = delivery("MEETING_ENDED", "new", None, "2");
    assert_eq!(w.deliver(&ended).await.1, Some(DeliveryOutcome::Ignored));

    // Cancelled in Cal.com while still scheduled here: a mismatch to review.
    let mut cancelled = booking("new", "tom@example.com");
    cancelled.status = RemoteStatus::Cancelled;
    w.calcom.put(cancelled);
    w.deliver(&delivery("BOOKING_CANCELLED", "new", None, "3")).await;
    assert_eq!(w.reload(&a).await.sync.error_code, Some(ErrorCode::DataMismatch));
});

on_both_backends!(a_rejected_api_key_is_one_organization_alert_not_one_per_appointment, |db| async move {
    let w = world(db.store.clone()).await;
    let appointments = [
        w.appointment(Some("a1"), "a@example.com").await,
        w.appointment(Some("a2"), "b@example.com").await,
        w.appointment(Some("a3"), "c@example.com").await,
    ];
    w.calcom.fail_with(Some(SourceError::Unauthorized));
    for a in &appointments {
        w.verify(a).await;
        w.verify(a).await;
    }
    let notes = w.notifications().await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].0, "calcom_connection");
    for a in &appointments {
        let a = w.reload(a).await;
        assert!(!a.sync.requires_manual_review, "a bad key is no evidence about the appointment");
        assert_eq!(a.sync.error_code, Some(ErrorCode::VerificationError));
    }
    assert!(w.store.open_issues(w.org.id, None, 10).await.unwrap().is_empty());
});
