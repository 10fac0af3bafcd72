//! The verification engine against the Cal.com simulator over real HTTP, on
//! both databases. The simulator and the verifier share one manual clock,
//! so the retry ladder is walked without sleeping.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use calcom_sim::{endpoint, spawn, BookingEdit, Faults, SeedBooking, SimConfig, SimHandle};
use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::calcom::{CalcomClient, NewAttendee};
use engine::clock::{Clock, ManualClock};
use engine::domain::{AppointmentSource, AppointmentStatus, ErrorCode, SyncStatus};
use engine::on_both_backends;
use engine::store::{
    Appointment, AppointmentFilter, NewAppointment, NewOrganization, Organization, Resolution, RunKind, RunStart,
    Store, Trigger,
};
use engine::verify::circuit::{CircuitConfig, Circuits};
use engine::verify::ladder::RetryLadder;
use engine::verify::runner::RunReport;
use engine::verify::service::Verifier;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap()
}

/// Monday 09:00 UTC two days after t0, plus `slot` half hours.
fn slot(slot: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 9, 0, 0).unwrap() + Duration::minutes(30 * slot)
}

/// Customer `n`'s booking at `at`.
fn seed(n: i64, at: DateTime<Utc>) -> SeedBooking {
    SeedBooking {
        attendee: Some(NewAttendee {
            name: format!("Kunde {n}"),
            email: format!("kunde{n}@example.com"),
            time_zone: "Europe/Berlin".into(),
            phone_number: None,
            language: None,
        }),
        ..SeedBooking::at(at)
    }
}

struct World {
    store: Store,
    org: Organization,
    clock: ManualClock,
    sim: SimHandle,
    client: CalcomClient,
    verifier: Verifier,
}

async fn world(store: Store) -> World {
    engine::calcom::ensure_crypto_provider();
    let org = store
        .create_organization(
            &NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin },
            t0(),
        )
        .await
        .unwrap();
    let clock = ManualClock::at(t0());
    let sim = spawn(SimConfig::default().with_rate_limit(None).with_clock(Arc::new(clock.clone()))).await.unwrap();
    let mut config = sim.client_config();
    config.request_timeout = StdDuration::from_millis(800);
    config.connect_timeout = StdDuration::from_millis(800);
    let client = CalcomClient::new(config).unwrap();
    let circuits = Arc::new(Circuits::new(CircuitConfig::default()));
    let verifier = Verifier::new(store.clone(), circuits, RetryLadder::default(), Arc::new(clock.clone()));
    World { store, org, clock, sim, client, verifier }
}

impl World {
    /// A booking in the simulator and the appointment for it.
    async fn booked(&self, n: i64) -> (String, Appointment) {
        self.booked_as(n, |seed| seed).await
    }

    /// Like `booked`, with the booking seeded as `shape` makes it.
    async fn booked_as(&self, n: i64, shape: impl FnOnce(SeedBooking) -> SeedBooking) -> (String, Appointment) {
        let uid = self.sim.control().seed(vec![shape(seed(n, slot(n)))]).unwrap().remove(0);
        let appointment = self.appointment(n, Some(&uid), &format!("kunde{n}@example.com")).await;
        (uid, appointment)
    }

    /// Like `booked`, at `at`.
    async fn booked_at(&self, n: i64, at: DateTime<Utc>) -> (String, Appointment) {
        let uid = self.sim.control().seed(vec![seed(n, at)]).unwrap().remove(0);
        let appointment = self.appointment_at(n, at, Some(&uid), &format!("kunde{n}@example.com")).await;
        (uid, appointment)
    }

    async fn appointment(&self, n: i64, uid: Option<&str>, email: &str) -> Appointment {
        self.appointment_at(n, slot(n), uid, email).await
    }

    async fn appointment_at(&self, n: i64, at: DateTime<Utc>, uid: Option<&str>, email: &str) -> Appointment {
        let new = NewAppointment {
            external_id: None,
            customer_name: format!("Kunde {n}"),
            customer_email: Some(email.into()),
            customer_phone: None,
            service: "Beratung".into(),
            starts_at: at,
            ends_at: at + Duration::minutes(30),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Api,
            calcom_booking_uid: uid.map(Into::into),
            calcom_event_type_id: Some(1),
        };
        self.store.insert_appointment(self.org.id, &new, "test", self.clock.now()).await.unwrap()
    }

    async fn run(&self, kind: RunKind) -> RunReport {
        let start =
            RunStart { kind, trigger: Trigger::Manual, slot_at: None, worker_id: "test".into(), requested_by: None };
        let report = match kind {
            RunKind::Comprehensive => self.verifier.run_comprehensive(&self.org, &self.client, &start).await,
            _ => self.verifier.run_cycle(&self.org, &self.client, &start).await,
        };
        report.unwrap().expect("no other run in progress")
    }

    async fn reload(&self, a: &Appointment) -> Appointment {
        self.store.appointment(self.org.id, a.id).await.unwrap()
    }

    async fn status(&self, a: &Appointment) -> SyncStatus {
        self.reload(a).await.sync.status
    }

    async fn notification_count(&self) -> i64 {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE org_id = $1 AND kind = 'sync_issue'")
            .bind(self.org.id.get())
            .fetch_one(self.store.pool())
            .await
            .unwrap();
        sqlx::Row::get(&row, "n")
    }

    async fn open_issue_codes(&self) -> Vec<ErrorCode> {
        self.store.open_issues(self.org.id, None, 100).await.unwrap().into_iter().map(|i| i.code).collect()
    }
}

on_both_backends!(matching_bookings_become_synced, |db| async move {
    let w = world(db.store.clone()).await;
    let (_, a) = w.booked(1).await;
    let report = w.run(RunKind::Cycle).await;
    assert_eq!(report.counts.synced, 1);
    assert_eq!(w.status(&a).await, SyncStatus::Synced);
    assert!(w.open_issue_codes().await.is_empty());
});

on_both_backends!(an_outage_mid_cycle_flags_nothing, |db| async move {
    let w = world(db.store.clone()).await;
    let mut appointments = Vec::new();
    for n in 0..6 {
        appointments.push(w.booked(n).await.1);
    }
    w.sim.control().set_faults(Faults { outage: true, ..Faults::default() });
    // The whole retry ladder passes during the outage.
    for wait in [0, 1, 5, 10] {
        w.clock.advance(Duration::minutes(wait));
        w.run(RunKind::Cycle).await;
    }
    for a in &appointments {
        let a = w.reload(a).await;
        // Pending (circuit open: no attempt spent), verification pending or
        // failed with VERIFICATION_ERROR: anything but a verdict.
        assert!(
            matches!(a.sync.status, SyncStatus::Pending | SyncStatus::VerificationPending | SyncStatus::Failed),
            "an outage is no evidence: {:?}",
            a.sync.status
        );
        assert!(!matches!(a.sync.error_code, Some(ErrorCode::OrphanedLocal | ErrorCode::DataMismatch)));
        assert!(!a.sync.requires_manual_review);
    }
    assert!(!w
        .open_issue_codes()
        .await
        .iter()
        .any(|c| matches!(c, ErrorCode::OrphanedLocal | ErrorCode::DataMismatch)));
    assert_eq!(w.notification_count().await, 0, "no alarms for a transient fault");

    // Recovery: everything is synced, nothing was ever flagged.
    w.sim.control().reset_faults();
    w.clock.advance(Duration::minutes(70));
    for a in &appointments {
        w.store.make_due(w.org.id, a.id, w.clock.now()).await.unwrap();
    }
    w.run(RunKind::Cycle).await;
    for a in &appointments {
        assert_eq!(w.status(a).await, SyncStatus::Synced);
    }
});

on_both_backends!(a_silent_delete_is_orphaned_after_three_attempts_with_one_notification, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.booked(1).await;
    w.run(RunKind::Cycle).await;
    assert_eq!(w.status(&a).await, SyncStatus::Synced);

    assert!(w.sim.control().delete(&uid));
    w.store.make_due(w.org.id, a.id, w.clock.now()).await.unwrap();
    w.run(RunKind::Cycle).await;
    assert_eq!(w.status(&a).await, SyncStatus::VerificationPending, "one 404 is not yet proof");
    w.clock.advance(Duration::minutes(1));
    w.run(RunKind::Cycle).await;
    assert_eq!(w.status(&a).await, SyncStatus::VerificationPending);
    assert_eq!(w.notification_count().await, 0);
    w.clock.advance(Duration::minutes(5));
    w.run(RunKind::Cycle).await;
    let a = w.reload(&a).await;
    assert_eq!(a.sync.status, SyncStatus::OrphanedLocal);
    assert_eq!(a.sync.error_code, Some(ErrorCode::OrphanedLocal));
    assert!(a.sync.requires_manual_review);
    assert_eq!(w.notification_count().await, 1);

    // The daily check sees it again: still one issue, one notification.
    w.run(RunKind::Comprehensive).await;
    assert_eq!(w.open_issue_codes().await, [ErrorCode::OrphanedLocal]);
    assert_eq!(w.notification_count().await, 1);
});

on_both_backends!(a_miss_keeps_its_evidence_the_listing_and_the_single_lookup, |db| async move {
    let w = world(db.store.clone()).await;
    let (gone, a) = w.booked(1).await;
    let (_kept, b) = w.booked(2).await;
    w.run(RunKind::Cycle).await;
    assert!(w.sim.control().delete(&gone));

    w.run(RunKind::Comprehensive).await;
    assert_eq!(w.status(&b).await, SyncStatus::Synced);
    let events = w.store.appointment_events(w.org.id, a.id).await.unwrap();
    let miss = events.first().expect("the check is in the history");
    assert_eq!(miss.result.as_deref(), Some("not_found"));
    let how = miss.technical.as_deref().expect("how it was found missing");
    let lines: Vec<&str> = how.lines().collect();
    assert_eq!(lines.len(), 2, "the listing, then the single lookup: {how}");
    // Times in the organization's zone (Berlin, UTC+1 in March).
    assert!(lines[0].starts_with("02.03.2026 08:00:00: listed Cal.com's bookings starting "), "{how}");
    assert!(
        lines[0].ends_with(&format!(": 1 booking on 1 page, every page answered; booking {gone} was not among them")),
        "{how}"
    );
    assert!(lines[1].ends_with(&format!("asked Cal.com for booking {gone} alone; it answered 404 Not Found")), "{how}");
});

/// What a comprehensive check concluded, in a form two checks can be compared by.
#[derive(Debug, PartialEq)]
struct Concluded {
    states: Vec<(SyncStatus, Option<ErrorCode>)>,
    relinked: bool,
    issues: Vec<ErrorCode>,
    calcom_only: usize,
}

/// Six months of bookings changed behind calsync's back in the ways real
/// accounts change (moved far, rescheduled to another month, deleted, one
/// made only in Cal.com), then one comprehensive check with at most
/// `part_size` appointments per part of its window.
async fn changed_window_checked_in_parts(store: Store, part_size: i64) -> Concluded {
    let mut w = world(store).await;
    w.verifier = w.verifier.clone().with_part_size(part_size);
    let day = |d: i64| slot(0) + Duration::days(d);
    let (_, kept) = w.booked_at(1, day(0)).await;
    let (moved, far) = w.booked_at(2, day(18)).await;
    let (rescheduled, earlier) = w.booked_at(3, day(68)).await;
    let (deleted, gone) = w.booked_at(4, day(118)).await;
    let (_, late) = w.booked_at(5, day(128)).await;
    w.run(RunKind::Cycle).await;

    let edit =
        BookingEdit { start: Some(day(58)), end: Some(day(58) + Duration::minutes(30)), ..BookingEdit::default() };
    w.sim.control().edit(&moved, edit).unwrap().expect("booking exists");
    let new = w.client.reschedule_booking(&rescheduled, day(3), Some("earlier")).await.unwrap();
    assert!(w.sim.control().delete(&deleted));
    w.sim.control().seed(vec![seed(9, day(98))]).unwrap();

    let report = w.run(RunKind::Comprehensive).await;
    assert_eq!(report.status, engine::store::RunStatus::Succeeded, "{report:?}");
    let mut states = Vec::new();
    for a in [&kept, &far, &earlier, &gone, &late] {
        let a = w.reload(a).await;
        states.push((a.sync.status, a.sync.error_code));
    }
    let relinked = w.reload(&earlier).await.calcom_booking_uid.as_deref() == Some(new.uid.as_str());
    let mut issues = w.open_issue_codes().await;
    issues.sort_by_key(|c| c.as_str());
    Concluded { states, relinked, issues, calcom_only: report.calcom_only }
}

/// What both checks must conclude, in one listing or in parts.
fn what_changed() -> Concluded {
    Concluded {
        states: vec![
            (SyncStatus::Synced, None),
            (SyncStatus::Failed, Some(ErrorCode::DataMismatch)),
            (SyncStatus::Failed, Some(ErrorCode::DataMismatch)),
            (SyncStatus::VerificationPending, None),
            (SyncStatus::Synced, None),
        ],
        relinked: true,
        // The moved and the rescheduled booking are their appointments',
        // never "only in Cal.com": only the booking made there is.
        issues: vec![ErrorCode::DataMismatch, ErrorCode::DataMismatch, ErrorCode::OrphanedCalcom],
        calcom_only: 1,
    }
}

on_both_backends!(a_changed_window_checked_in_one_listing_finds_each_change, |db| async move {
    assert_eq!(changed_window_checked_in_parts(db.store.clone(), 1_000).await, what_changed());
});

on_both_backends!(a_changed_window_checked_in_parts_finds_the_same_and_no_phantom, |db| async move {
    // Five appointments, two per part: three parts of 70 days, so each
    // change crosses from one part into another.
    assert_eq!(changed_window_checked_in_parts(db.store.clone(), 2).await, what_changed());
});

on_both_backends!(a_silent_time_change_is_a_mismatch_with_both_values, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.booked(2).await;
    w.run(RunKind::Cycle).await;
    let moved = slot(2) + Duration::hours(2);
    w.clock.advance(Duration::minutes(3));
    w.sim
        .control()
        .edit(&uid, BookingEdit { start: Some(moved), ..BookingEdit::default() })
        .unwrap()
        .expect("booking exists");

    let report = w.run(RunKind::Comprehensive).await;
    assert_eq!(report.counts.flagged, 1);
    let a = w.reload(&a).await;
    assert_eq!(a.sync.status, SyncStatus::Failed);
    assert_eq!(a.sync.error_code, Some(ErrorCode::DataMismatch));
    let issue = w.store.open_issues(w.org.id, Some(ErrorCode::DataMismatch), 10).await.unwrap().remove(0);
    let differences: serde_json::Value =
        serde_json::from_str(&issue.differences.expect("differences recorded")).unwrap();
    let start = differences.as_array().unwrap().iter().find(|d| d["field"] == "start").expect("start differs");
    let instant =
        |v: &serde_json::Value| DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc);
    assert_eq!(instant(&start["ours"]), slot(2));
    assert_eq!(instant(&start["calcom"]), moved);
    assert_eq!(w.notification_count().await, 1);
});

on_both_backends!(a_booking_only_in_calcom_is_orphaned_calcom, |db| async move {
    let w = world(db.store.clone()).await;
    w.booked(1).await;
    let stray = w.sim.control().seed(vec![SeedBooking::at(slot(5))]).unwrap().remove(0);
    let report = w.run(RunKind::Comprehensive).await;
    assert_eq!(report.calcom_only, 1);
    let issues = w.store.open_issues(w.org.id, Some(ErrorCode::OrphanedCalcom), 10).await.unwrap();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].calcom_booking_uid.as_deref(), Some(stray.as_str()));
    // Found again the next day: not a second issue.
    w.clock.advance(Duration::days(1));
    w.run(RunKind::Comprehensive).await;
    assert_eq!(w.store.open_issues(w.org.id, Some(ErrorCode::OrphanedCalcom), 10).await.unwrap().len(), 1);
});

on_both_backends!(a_cal_com_only_finding_the_next_check_contradicts_closes_itself_with_its_evidence, |db| async move {
    let w = world(db.store.clone()).await;
    let uids = w.sim.control().seed(vec![seed(1, slot(1)), seed(2, slot(2)), seed(3, slot(3))]).unwrap();
    let (cancelled, claimed, stray) = (&uids[0], &uids[1], &uids[2]);
    assert_eq!(w.run(RunKind::Comprehensive).await.calcom_only, 3);
    let open = w.store.open_issues(w.org.id, Some(ErrorCode::OrphanedCalcom), 10).await.unwrap();
    let issue_of = |uid: &str| open.iter().find(|i| i.calcom_booking_uid.as_deref() == Some(uid)).unwrap().id;
    let (cancelled_issue, claimed_issue) = (issue_of(cancelled), issue_of(claimed));

    // The customer cancelled in Cal.com; the front desk entered the other
    // one by hand, with its booking; the third stays nobody's.
    let off = BookingEdit { status: Some(engine::calcom::BookingStatus::Cancelled), ..BookingEdit::default() };
    w.sim.control().edit(cancelled, off).unwrap().expect("booking exists");
    let owner = w.appointment(2, Some(claimed), "kunde2@example.com").await;
    w.clock.advance(Duration::days(1));
    let report = w.run(RunKind::Comprehensive).await;
    assert_eq!(report.calcom_only, 1, "{report:?}");
    // Settled, not "restored": no appointment of ours was out of sync.
    assert_eq!((report.restored, report.settled), (0, 2), "{report:?}");

    let closed = w.store.issue(w.org.id, cancelled_issue).await.unwrap();
    assert_eq!(closed.resolution, Some(Resolution::AutoResolved));
    assert_eq!(
        closed.resolution_note.as_deref(),
        Some(
            format!("Resolved itself: Cal.com listed booking {cancelled} as cancelled when checked on 03.03 08:00")
                .as_str()
        )
    );
    let closed = w.store.issue(w.org.id, claimed_issue).await.unwrap();
    assert_eq!(closed.resolution, Some(Resolution::AutoResolved));
    assert_eq!(
        closed.resolution_note.as_deref(),
        Some(
            format!(
                "Resolved itself: booking {claimed} belongs to appointment #{} (Kunde 2, 04.03 11:00) when checked on 03.03 08:00",
                owner.id
            )
            .as_str()
        )
    );
    let open = w.store.open_issues(w.org.id, Some(ErrorCode::OrphanedCalcom), 10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].calcom_booking_uid.as_deref(), Some(stray.as_str()), "the booking nobody has stays flagged");
    let told: Vec<String> = sqlx::query_scalar("SELECT body FROM notifications WHERE org_id = $1 AND kind = $2")
        .bind(w.org.id.get())
        .bind(engine::store::NotificationKind::SyncRestored.as_str())
        .fetch_all(w.store.pool())
        .await
        .unwrap();
    assert_eq!(
        told,
        ["2 bookings only Cal.com had settled themselves (called off there, or now on an appointment)"],
        "no appointment is said to be back in sync"
    );

    // The next check finds nothing new to say about the two.
    w.clock.advance(Duration::days(1));
    let report = w.run(RunKind::Comprehensive).await;
    assert_eq!((report.calcom_only, report.restored), (1, 0));
    assert_eq!(w.store.open_issues(w.org.id, None, 10).await.unwrap().len(), 1, "nothing reopened");
});

on_both_backends!(a_reschedule_in_calcom_is_followed, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.booked(3).await;
    w.run(RunKind::Cycle).await;
    let new = w.client.reschedule_booking(&uid, slot(3), Some("same time, new booking")).await.unwrap();
    assert_ne!(new.uid, uid);

    w.store.make_due(w.org.id, a.id, w.clock.now()).await.unwrap();
    w.run(RunKind::Cycle).await;
    let a = w.reload(&a).await;
    assert_eq!(a.calcom_booking_uid.as_deref(), Some(new.uid.as_str()), "relinked to the new booking");
    assert_eq!(a.sync.status, SyncStatus::Synced);
    assert!(w.open_issue_codes().await.is_empty());
});

on_both_backends!(a_large_cycle_lists_instead_of_asking_per_uid, |db| async move {
    let w = world(db.store.clone()).await;
    for n in 0..60 {
        w.booked(n).await;
    }
    w.sim.control().reset_counters();
    let report = w.run(RunKind::Cycle).await;
    assert_eq!(report.counts.synced, 60);
    let counters = w.sim.control().counters();
    assert_eq!(counters.calls(endpoint::GET_BOOKING), 0, "every due appointment was in the listing");
    // The first cycle has no watermark yet: one page of the window, which
    // also verifies all 60.
    assert_eq!(counters.calls(endpoint::LIST_BOOKINGS), 1);
    assert_eq!(report.counts.api_calls, 1);
});

// ---- Resilience: faults never turn into verdicts ----------------------------

async fn false_verdicts(w: &World) -> Vec<ErrorCode> {
    w.open_issue_codes()
        .await
        .into_iter()
        .filter(|c| matches!(c, ErrorCode::OrphanedLocal | ErrorCode::OrphanedCalcom | ErrorCode::DataMismatch))
        .collect()
}

on_both_backends!(errors_timeouts_and_429_storms_during_checks_flag_nothing, |db| async move {
    let w = world(db.store.clone()).await;
    let mut appointments = Vec::new();
    for n in 0..30 {
        appointments.push(w.booked(n).await.1);
    }
    // 30 % answered 503, a 429 storm, and slow answers, through the whole
    // retry ladder and two comprehensive checks.
    w.sim.control().set_faults(Faults {
        error_rate: 0.3,
        error_status: 503,
        latency_ms: 5,
        rate_limit_storm: 3,
        storm_retry_after: 1,
        ..Faults::default()
    });
    for wait in [0, 1, 5, 10] {
        w.clock.advance(Duration::minutes(wait));
        w.run(RunKind::Comprehensive).await;
        w.run(RunKind::Cycle).await;
    }
    assert_eq!(false_verdicts(&w).await, [], "a fault is never evidence");
    for a in &appointments {
        let a = w.reload(a).await;
        assert!(!matches!(a.sync.error_code, Some(ErrorCode::OrphanedLocal | ErrorCode::DataMismatch)), "{:?}", a.sync);
    }

    // After recovery everything is synced.
    w.sim.control().reset_faults();
    w.clock.advance(Duration::minutes(70));
    for a in &appointments {
        w.store.make_due(w.org.id, a.id, w.clock.now()).await.unwrap();
    }
    w.run(RunKind::Cycle).await;
    for a in &appointments {
        assert_eq!(w.status(a).await, SyncStatus::Synced);
    }
    assert_eq!(false_verdicts(&w).await, []);
});

on_both_backends!(two_verifiers_share_due_work_and_verify_each_appointment_once, |db| async move {
    let w = world(db.store.clone()).await;
    let mut appointments = Vec::new();
    for n in 0..40 {
        appointments.push(w.booked(n).await.1);
    }
    let other = Verifier::new(
        w.store.clone(),
        Arc::new(Circuits::new(CircuitConfig::default())),
        RetryLadder::default(),
        Arc::new(w.clock.clone()),
    );
    let now = w.clock.now();
    let (a, b) = tokio::join!(
        w.verifier.verify_due(&w.org, &w.client, "one", now, None),
        other.verify_due(&w.org, &w.client, "two", now, None),
    );
    let (a, b) = (a.unwrap().0, b.unwrap().0);
    assert_eq!(a.processed + b.processed, 40, "every appointment verified by exactly one of them");
    for appointment in &appointments {
        let verifications = w
            .store
            .appointment_events(w.org.id, appointment.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == engine::store::EventKind::Verification)
            .count();
        assert_eq!(verifications, 1, "appointment {}", appointment.id);
        assert_eq!(w.status(appointment).await, SyncStatus::Synced);
    }
});

// ---- The afterUpdatedAt watermark of the 6-hour cycle -----------------------

/// The next 6-hour slot: synced appointments are not due then, so only the
/// watermark pass can notice a change to their bookings.
fn six_hours_later(w: &World) {
    w.clock.advance(Duration::hours(6));
}

on_both_backends!(a_silent_time_change_is_found_by_the_next_cycle, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.booked(2).await;
    let (_, untouched) = w.booked(4).await;
    w.run(RunKind::Cycle).await;
    assert_eq!(w.status(&a).await, SyncStatus::Synced);
    assert_eq!(w.reload(&a).await.sync.next_verification_at, None, "a synced appointment is not due again");

    w.clock.advance(Duration::minutes(3));
    let moved = slot(2) + Duration::hours(2);
    w.sim
        .control()
        .edit(&uid, BookingEdit { start: Some(moved), ..BookingEdit::default() })
        .unwrap()
        .expect("booking exists");
    six_hours_later(&w);
    w.sim.control().reset_counters();
    let report = w.run(RunKind::Cycle).await;

    let a = w.reload(&a).await;
    assert_eq!((a.sync.status, a.sync.error_code), (SyncStatus::Failed, Some(ErrorCode::DataMismatch)));
    assert_eq!(w.open_issue_codes().await, [ErrorCode::DataMismatch]);
    assert_eq!(report.counts.processed, 1, "only the changed booking's appointment is checked");
    assert_eq!(w.status(&untouched).await, SyncStatus::Synced);
    let counters = w.sim.control().counters();
    assert_eq!(counters.calls(endpoint::GET_BOOKING), 0, "compared with the listed booking");
    assert_eq!(counters.total, 1, "one page of changes since the watermark");
    assert_eq!(report.counts.api_calls, 1);
});

on_both_backends!(an_unchanged_cycle_costs_one_request, |db| async move {
    let w = world(db.store.clone()).await;
    for n in 0..30 {
        w.booked(n).await;
    }
    w.run(RunKind::Cycle).await;
    let cursor = w.store.sync_cursor(w.org.id).await.unwrap().expect("the first cycle sets the watermark");
    assert!(cursor.last_full_listing_at.is_some(), "the first pass lists the whole window");

    for _ in 0..3 {
        six_hours_later(&w);
        w.sim.control().reset_counters();
        let report = w.run(RunKind::Cycle).await;
        let calls = w.sim.control().counters().total;
        assert!(calls <= 3, "{calls} Cal.com calls for a cycle with nothing changed");
        assert_eq!(calls, 1, "one (empty) page of changes");
        assert_eq!(report.counts.api_calls, 1);
        assert_eq!(report.counts.processed, 0);
    }
    assert_eq!(w.store.sync_cursor(w.org.id).await.unwrap(), Some(cursor), "nothing moved");
});

on_both_backends!(a_failing_page_leaves_the_watermark_and_concludes_nothing, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.booked(2).await;
    w.run(RunKind::Cycle).await;
    let before = w.store.sync_cursor(w.org.id).await.unwrap().expect("watermark set");

    // More than a page of changes, one of them to our appointment's booking.
    w.clock.advance(Duration::minutes(10));
    let strangers = (0..300).map(|i| SeedBooking::at(slot(20) + Duration::days(1 + i))).collect();
    w.sim.control().seed(strangers).unwrap();
    w.sim.control().edit(&uid, BookingEdit { start: Some(slot(3)), ..BookingEdit::default() }).unwrap();
    six_hours_later(&w);
    // The first page of changes answers; the second fails.
    w.sim.control().set_faults(Faults { error_after: Some(1), error_status: 502, ..Faults::default() });
    let report = w.run(RunKind::Cycle).await;
    assert_eq!(report.counts.processed, 0);
    assert_eq!(w.store.sync_cursor(w.org.id).await.unwrap(), Some(before), "a partial listing moves nothing");
    assert_eq!(w.status(&a).await, SyncStatus::Synced, "nothing concluded from a partial listing");
    assert!(w.sim.control().counters().by_status.get(&502).is_some_and(|&n| n >= 1));

    // Cal.com answers again: the next cycle sees the change and moves on.
    w.sim.control().reset_faults();
    six_hours_later(&w);
    w.run(RunKind::Cycle).await;
    assert_eq!(w.reload(&a).await.sync.error_code, Some(ErrorCode::DataMismatch));
    let after = w.store.sync_cursor(w.org.id).await.unwrap().expect("watermark");
    assert!(after.updated_after > before.updated_after, "the watermark moved after a complete pass");
});

// ---- What real Cal.com sends (shared/calcom-api.md) -------------------------

on_both_backends!(a_window_with_a_hostless_and_an_awaiting_host_booking_verifies_every_appointment, |db| async move {
    let w = world(db.store.clone()).await;
    let (_, hostless) = w.booked_as(0, |seed| SeedBooking { host_missing: true, ..seed }).await;
    let (_, waiting) =
        w.booked_as(1, |seed| SeedBooking { status: Some(engine::calcom::BookingStatus::AwaitingHost), ..seed }).await;
    let (_, a) = w.booked(2).await;
    let (_, b) = w.booked(3).await;
    w.sim.control().seed(vec![SeedBooking::at(slot(4))]).unwrap();

    let report = w.run(RunKind::Comprehensive).await;
    assert_eq!(report.status, engine::store::RunStatus::Succeeded, "{:?}", report.detail);
    assert_eq!((report.counts.synced, report.calcom_only), (4, 1));
    for appointment in [&hostless, &waiting, &a, &b] {
        assert_eq!(w.status(appointment).await, SyncStatus::Synced);
    }
    assert_eq!(w.open_issue_codes().await, [ErrorCode::OrphanedCalcom], "only the booking nobody has");

    // The 6-hour cycle reads the same window (its first pass lists it all).
    w.store.make_due(w.org.id, hostless.id, w.clock.now()).await.unwrap();
    let cycle = w.run(RunKind::Cycle).await;
    assert_eq!(cycle.status, engine::store::RunStatus::Succeeded);
    assert_eq!(w.status(&hostless).await, SyncStatus::Synced);
});

/// Accounts older than Cal.com's `updatedAt` column have NULLs there, which
/// a descending sort puts first: a "newest change" read from that order
/// would never move. The cycle asks for changes since its watermark.
async fn a_silent_cancellation_is_a_mismatch_after_one_cycle(w: &World, bookings: i64) {
    let old = (0..3)
        .map(|i| SeedBooking {
            created_at: Some(t0() - Duration::days(900)),
            never_updated: true,
            ..SeedBooking::at(slot(100 + i))
        })
        .collect();
    w.sim.control().seed(old).unwrap();
    let mut booked = Vec::new();
    for n in 0..bookings {
        booked.push(w.booked(n).await);
    }
    w.run(RunKind::Cycle).await;
    let (uid, victim) = &booked[bookings as usize / 2];
    assert_eq!(w.status(victim).await, SyncStatus::Synced);

    w.clock.advance(Duration::minutes(30));
    let cancelled = BookingEdit { status: Some(engine::calcom::BookingStatus::Cancelled), ..BookingEdit::default() };
    w.sim.control().edit(uid, cancelled).unwrap().expect("booking exists");
    assert_eq!(w.sim.control().booking_count() as i64, bookings + 3, "the count is unchanged");
    six_hours_later(w);
    w.sim.control().reset_counters();
    let report = w.run(RunKind::Cycle).await;

    let victim = w.reload(victim).await;
    assert_eq!((victim.sync.status, victim.sync.error_code), (SyncStatus::Failed, Some(ErrorCode::DataMismatch)));
    assert_eq!(report.counts.processed, 1, "only the cancelled booking's appointment");
    assert_eq!(w.sim.control().counters().calls(endpoint::GET_BOOKING), 0);
    assert!(report.counts.api_calls <= 2, "{} calls", report.counts.api_calls);
}

on_both_backends!(a_silent_cancellation_is_found_by_one_cycle_despite_never_updated_bookings, |db| async move {
    let w = world(db.store.clone()).await;
    a_silent_cancellation_is_a_mismatch_after_one_cycle(&w, 4).await;
});

on_both_backends!(a_silent_cancellation_is_found_by_one_cycle_when_totals_are_estimates, |db| async move {
    let w = world(db.store.clone()).await;
    w.sim.control().set_faults(Faults { totals: calcom_sim::Totals::Estimated, ..Faults::default() });
    // More than a page, so the first full listing pages on estimates.
    a_silent_cancellation_is_a_mismatch_after_one_cycle(&w, 260).await;
});

on_both_backends!(a_listing_with_rows_outside_its_window_concludes_no_orphan, |db| async move {
    let w = world(db.store.clone()).await;
    let (_, linked) = w.booked(1).await;
    // No booking for this one: an honest listing would start its confirmation.
    let unlinked = w.appointment(2, None, "kunde2@example.com").await;
    w.sim.control().seed(vec![SeedBooking::at(slot(3)), SeedBooking::at(t0() + Duration::days(400))]).unwrap();
    w.sim.control().set_faults(Faults { ignore_window: true, ..Faults::default() });

    let report = w.run(RunKind::Comprehensive).await;
    assert_eq!(report.status, engine::store::RunStatus::Failed, "the check could not do its job");
    let why = report.detail.expect("a failed run says why");
    assert!(why.contains("outside the time window") && why.contains("nothing was called missing"), "{why}");
    assert_eq!(report.calcom_only, 0);
    assert_eq!(w.open_issue_codes().await, [], "no orphan from a listing that ignored its window");
    assert_eq!(w.status(&linked).await, SyncStatus::Synced, "what it did find still counts");
    assert_eq!(w.reload(&unlinked).await.sync, unlinked.sync, "absence proved nothing");
});

on_both_backends!(a_booking_with_a_status_calsync_does_not_know_proves_nothing, |db| async move {
    let w = world(db.store.clone()).await;
    let odd = engine::calcom::BookingStatus::Other("on_hold".into());
    let (_, a) = w.booked_as(1, |seed| SeedBooking { status: Some(odd.clone()), ..seed }).await;
    w.sim.control().seed(vec![SeedBooking { status: Some(odd), ..SeedBooking::at(slot(2)) }]).unwrap();
    let report = w.run(RunKind::Comprehensive).await;
    assert_eq!(report.calcom_only, 0, "an unknown status is not a live booking nobody has");
    let a = w.reload(&a).await;
    assert_eq!(a.sync.error_code, Some(ErrorCode::VerificationError), "not a mismatch, not in sync: unverifiable");
    assert!(a.sync.error_detail.as_deref().is_some_and(|d| d.contains("status calsync does not know")));
    assert_eq!(false_verdicts(&w).await, []);
});

on_both_backends!(a_failed_check_says_which_request_and_what_was_wrong, |db| async move {
    let w = world(db.store.clone()).await;
    w.booked(1).await;
    w.sim.control().set_faults(Faults { outage: true, ..Faults::default() });
    let report = w.run(RunKind::Comprehensive).await;
    assert_eq!(report.status, engine::store::RunStatus::Failed);
    assert_eq!(
        report.detail.as_deref(),
        Some("Listing Cal.com's bookings failed: Cal.com was unavailable (HTTP 503 Service Unavailable) (page 1 of the listing)")
    );
    let run = w.store.run(w.org.id, report.run_id).await.unwrap();
    assert_eq!(run.error_detail, report.detail, "the run record says the same");
});

// ---- Resolutions that change Cal.com, against Cal.com's behaviour ------------

async fn orphaned(w: &World, n: i64) -> Appointment {
    let a = w.appointment(n, Some("deletedInCalcom0000000"), &format!("kunde{n}@example.com")).await;
    for wait in [0, 1, 5] {
        w.clock.advance(Duration::minutes(wait));
        w.run(RunKind::Cycle).await;
    }
    let a = w.reload(&a).await;
    assert_eq!(a.sync.status, SyncStatus::OrphanedLocal);
    a
}

async fn admin(w: &World) -> engine::resolve::Actor {
    let row = sqlx::query(
        "INSERT INTO users (org_id, email, name, role, password_hash, created_at) \
         VALUES ($1, 'ann@salon.de', 'Ann Admin', 'admin', 'x', 0) RETURNING id",
    )
    .bind(w.org.id.get())
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    engine::resolve::Actor { user_id: engine::domain::UserId(sqlx::Row::get(&row, "id")), name: "Ann Admin".into() }
}

fn resolver(w: &World) -> engine::resolve::Resolver {
    engine::resolve::Resolver::new(w.store.clone(), Arc::new(w.clock.clone()))
}

/// Bookings the simulator has at `start` for `email`.
fn bookings_at(w: &World, start: DateTime<Utc>, email: &str) -> usize {
    w.sim
        .control()
        .bookings()
        .iter()
        .filter(|b| b.start == start && b.attendees.iter().any(|p| p.email == email))
        .count()
}

on_both_backends!(a_create_whose_answer_is_lost_leaves_exactly_one_booking, |db| async move {
    let w = world(db.store.clone()).await;
    let a = orphaned(&w, 1).await;
    w.sim.control().set_faults(Faults { lose_write_answers: 1, ..Faults::default() });
    let done = resolver(&w).create_in_calcom(&w.org, &a, &admin(&w).await, 1, &w.client).await.expect("resolved");
    assert!(done.message.contains("answer was lost"), "{}", done.message);
    assert_eq!(bookings_at(&w, slot(1), "kunde1@example.com"), 1, "booked once, not twice");
    let a = w.reload(&a).await;
    assert_eq!(a.sync.status, SyncStatus::Synced);
    let linked = a.calcom_booking_uid.expect("linked");
    assert_eq!(w.sim.control().booking(&linked).map(|b| b.start), Some(slot(1)));
});

on_both_backends!(a_booking_cal_com_already_has_is_linked_instead_of_booked_again, |db| async move {
    let w = world(db.store.clone()).await;
    let a = orphaned(&w, 1).await;
    // Someone booked the customer again in Cal.com by hand (their own spelling of the email).
    let attendee = NewAttendee {
        name: "Kunde 1".into(),
        email: "Kunde1@Example.com".into(),
        time_zone: "Europe/Berlin".into(),
        phone_number: None,
        language: None,
    };
    let existing =
        w.sim.control().seed(vec![SeedBooking { attendee: Some(attendee), ..SeedBooking::at(slot(1)) }]).unwrap();
    w.sim.control().reset_counters();
    let done = resolver(&w).create_in_calcom(&w.org, &a, &admin(&w).await, 1, &w.client).await.unwrap();
    assert!(done.message.starts_with("Linked to the booking Cal.com already had"), "{}", done.message);
    assert_eq!(w.sim.control().counters().calls(endpoint::CREATE_BOOKING), 0, "nothing booked");
    assert_eq!(w.reload(&a).await.calcom_booking_uid.as_deref(), Some(existing[0].as_str()));
});

on_both_backends!(a_recurring_event_types_answer_links_the_occurrence_at_our_start, |db| async move {
    let w = world(db.store.clone()).await;
    let a = orphaned(&w, 1).await;
    resolver(&w).create_in_calcom(&w.org, &a, &admin(&w).await, 3, &w.client).await.unwrap();
    let series: Vec<_> = w.sim.control().bookings().into_iter().filter(|b| b.recurring_booking_uid.is_some()).collect();
    assert_eq!(series.len(), 4, "Cal.com booked every occurrence");
    let linked = w.reload(&a).await.calcom_booking_uid.expect("linked");
    let ours = series.iter().find(|b| b.uid == linked).expect("one of the series");
    assert_eq!(ours.start, slot(1), "the occurrence at our start");
});

on_both_backends!(a_taken_slot_is_refused_in_words_and_nothing_changes_here, |db| async move {
    let w = world(db.store.clone()).await;
    let a = orphaned(&w, 1).await;
    let other = NewAttendee {
        name: "Jemand".into(),
        email: "jemand@example.com".into(),
        time_zone: "Europe/Berlin".into(),
        phone_number: None,
        language: None,
    };
    w.sim.control().seed(vec![SeedBooking { attendee: Some(other), ..SeedBooking::at(slot(1)) }]).unwrap();
    let events_before = w.store.appointment_events(w.org.id, a.id).await.unwrap().len();
    let err = resolver(&w).create_in_calcom(&w.org, &a, &admin(&w).await, 1, &w.client).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cal.com refused the request (HTTP 400): User either already has booking at this time or is not available"
    );
    let after = w.reload(&a).await;
    assert_eq!((after.sync, after.calcom_booking_uid), (a.sync, a.calcom_booking_uid), "nothing changed locally");
    assert_eq!(w.store.appointment_events(w.org.id, a.id).await.unwrap().len(), events_before);
    assert_eq!(w.open_issue_codes().await, [ErrorCode::OrphanedLocal], "the issue stays open");
});

on_both_backends!(pushing_ours_survives_a_lost_answer_without_moving_twice, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.booked(2).await;
    w.run(RunKind::Cycle).await;
    let moved = slot(2) + Duration::hours(2);
    w.sim.control().edit(&uid, BookingEdit { start: Some(moved), ..BookingEdit::default() }).unwrap();
    w.run(RunKind::Comprehensive).await;
    let a = w.reload(&a).await;
    assert_eq!(a.sync.error_code, Some(ErrorCode::DataMismatch));

    w.sim.control().set_faults(Faults { lose_write_answers: 1, ..Faults::default() });
    let done = resolver(&w).push_ours(&w.org, &a, &admin(&w).await, &w.client, &w.client).await.expect("resolved");
    let a = w.reload(&a).await;
    assert_eq!(a.sync.status, SyncStatus::Synced, "{}", done.message);
    let live: Vec<_> = w.sim.control().bookings().into_iter().filter(|b| b.status.is_live() == Some(true)).collect();
    assert_eq!(live.len(), 1, "moved once: one live booking");
    assert_eq!((live[0].start, Some(live[0].uid.as_str())), (slot(2), a.calcom_booking_uid.as_deref()));
});

// ---- All due work in bulk (the planner) -------------------------------------

on_both_backends!(a_bulk_retrys_planned_calls_are_the_calls_its_verification_makes, |db| async move {
    let w = world(db.store.clone()).await;
    // What a real account holds: a busy fortnight back to back, a few lone
    // appointments weeks apart, and one booked by phone without a uid.
    for n in 0..600 {
        w.booked(n).await;
    }
    for (n, weeks) in [(900, 5), (901, 9), (902, 14)] {
        w.booked_at(n, slot(0) + Duration::weeks(weeks)).await;
    }
    let uid = w.sim.control().seed(vec![seed(903, slot(0) + Duration::weeks(20))]).unwrap().remove(0);
    w.appointment_at(903, slot(0) + Duration::weeks(20), None, "kunde903@example.com").await;
    assert!(!uid.is_empty());

    let everything = AppointmentFilter::default();
    let plan = engine::bulk::plan_retry(&w.store, &w.org, &everything).await.unwrap();
    assert_eq!(plan.appointments, 604);
    assert_eq!((plan.cost.listings, plan.cost.pages), (1, 3), "the fortnight in three pages of 250: {plan:?}");
    assert_eq!(plan.cost.single + plan.unlinked, 4, "the lone ones and the unlinked one, one by one: {plan:?}");
    assert!(plan.words().starts_with(&format!("About {} calls to Cal.com", plan.calls())), "{}", plan.words());

    w.sim.control().reset_counters();
    let (counts, _) = w.verifier.verify_due(&w.org, &w.client, "worker", w.clock.now(), None).await.unwrap();
    assert_eq!(counts.processed, 604);
    assert_eq!(w.sim.control().counters().total, plan.calls(), "the plan shown is what Cal.com was asked");
});

on_both_backends!(an_import_of_many_appointments_is_verified_from_listings, |db| async move {
    let w = world(db.store.clone()).await;
    // 600 imported appointments, back to back over twelve days, each with its booking.
    let mut imported = Vec::new();
    for n in 0..600 {
        imported.push(w.booked(n).await.1);
    }
    w.sim.control().reset_counters();
    // Between slots: the worker's plain "verify what is due", no cycle run.
    let (counts, _) = w.verifier.verify_due(&w.org, &w.client, "worker", w.clock.now(), None).await.unwrap();
    assert_eq!(counts.synced, 600);
    let counters = w.sim.control().counters();
    assert_eq!(counters.calls(endpoint::GET_BOOKING), 0, "not one request per appointment");
    assert!(counters.total <= 6, "{} calls for 600 appointments (sizing plus a few pages)", counters.total);
    assert_eq!(counts.api_calls as u64, counters.total, "the run counts what Cal.com counted");
    for a in imported.iter().step_by(97) {
        assert_eq!(w.status(a).await, SyncStatus::Synced);
    }
});

on_both_backends!(two_workers_on_one_import_cost_what_one_does, |db| async move {
    let w = world(db.store.clone()).await;
    // More than one claim of 1,000 held: planned claim by claim, this cost
    // two sizings and a page of the second claim's bookings twice.
    for n in 0..1200 {
        w.booked(n).await;
    }
    w.sim.control().reset_counters();
    // Two instances' workers reach the same organization at once: one
    // claims and plans the whole import, the other finds nothing left.
    let now = w.clock.now();
    let (a, b) = tokio::join!(
        w.verifier.verify_due(&w.org, &w.client, "worker-a", now, None),
        w.verifier.verify_due(&w.org, &w.client, "worker-b", now, None),
    );
    let (a, b) = (a.unwrap().0, b.unwrap().0);
    assert_eq!(a.synced + b.synced, 1200, "each appointment verified once");
    let counters = w.sim.control().counters();
    assert_eq!(counters.calls(endpoint::GET_BOOKING), 0);
    // One plan: a sizing request and the 1,200 bookings in five pages of 250.
    assert_eq!(counters.total, 6, "one plan's worth, not one per worker or per claim");
});

on_both_backends!(appointments_far_apart_are_listed_in_windows_of_their_own, |db| async move {
    let w = world(db.store.clone()).await;
    // Three clusters of 20 due appointments, weeks apart, with 2,000
    // bookings nobody is due for between them.
    for cluster in [0, 1000, 2000] {
        for n in 0..20 {
            w.booked(cluster + n).await;
        }
    }
    let filler: Vec<_> = (0..2000).map(|i| SeedBooking::at(slot(100) + Duration::minutes(10 * i))).collect();
    w.sim.control().seed(filler).unwrap();
    w.sim.control().reset_counters();
    let (counts, _) = w.verifier.verify_due(&w.org, &w.client, "worker", w.clock.now(), None).await.unwrap();
    assert_eq!(counts.synced, 60);
    let counters = w.sim.control().counters();
    // Three windows: a sizing request and one page each; one window over all
    // of them would have paged through the 2,000 in between (9 pages).
    assert_eq!(counters.calls(endpoint::LIST_BOOKINGS), 6);
    assert_eq!(counters.calls(endpoint::GET_BOOKING), 0);
});

on_both_backends!(a_few_due_appointments_are_asked_for_one_by_one, |db| async move {
    let w = world(db.store.clone()).await;
    w.booked(1).await;
    w.booked(500).await;
    w.sim.control().reset_counters();
    let (counts, _) = w.verifier.verify_due(&w.org, &w.client, "worker", w.clock.now(), None).await.unwrap();
    assert_eq!(counts.synced, 2);
    let counters = w.sim.control().counters();
    assert_eq!((counters.calls(endpoint::GET_BOOKING), counters.calls(endpoint::LIST_BOOKINGS)), (2, 0));
});

// ---- Webhook health ----------------------------------------------------------

async fn notification_titles(w: &World) -> Vec<String> {
    let rows =
        sqlx::query("SELECT title FROM notifications WHERE org_id = $1 AND kind = 'calcom_connection' ORDER BY id")
            .bind(w.org.id.get())
            .fetch_all(w.store.pool())
            .await
            .unwrap();
    rows.iter().map(|r| sqlx::Row::get(r, "title")).collect()
}

on_both_backends!(webhooks_that_announce_nothing_are_reported_once_and_cleared_when_they_resume, |db| async move {
    let w = world(db.store.clone()).await;
    let mut booked = Vec::new();
    for n in 0..6 {
        booked.push(w.booked(n).await);
    }
    w.run(RunKind::Cycle).await;
    // Four bookings move in Cal.com, and no webhook says so.
    w.clock.advance(Duration::minutes(30));
    for (uid, _) in booked.iter().take(4) {
        w.sim.control().edit(uid, BookingEdit { start: Some(slot(40)), ..BookingEdit::default() }).unwrap();
    }
    six_hours_later(&w);
    w.run(RunKind::Cycle).await;
    let alert = "Cal.com webhooks look disabled or misconfigured";
    assert_eq!(notification_titles(&w).await, [alert]);
    assert!(w.store.webhook_alert(w.org.id).await.unwrap().is_some());

    // It keeps happening: still one notification.
    w.sim.control().edit(&booked[4].0, BookingEdit { start: Some(slot(41)), ..BookingEdit::default() }).unwrap();
    six_hours_later(&w);
    w.run(RunKind::Cycle).await;
    assert_eq!(notification_titles(&w).await, [alert]);

    // A delivery arrives again: the alert clears, once.
    let delivery = engine::store::NewDelivery {
        body_sha256: "a".repeat(64),
        trigger: "BOOKING_CANCELLED".into(),
        uid: Some(booked[5].0.clone()),
        previous_uid: None,
        sent_at: Some(w.clock.now()),
    };
    w.store.store_delivery(w.org.id, &delivery, w.clock.now()).await.unwrap();
    w.verifier.drain_webhooks(&w.org, &w.client, "worker").await.unwrap();
    assert_eq!(notification_titles(&w).await, [alert, "Cal.com webhooks are arriving again"]);
    assert_eq!(w.store.webhook_alert(w.org.id).await.unwrap(), None);
});

on_both_backends!(changes_webhooks_announced_raise_no_alarm, |db| async move {
    let w = world(db.store.clone()).await;
    let mut booked = Vec::new();
    for n in 0..5 {
        booked.push(w.booked(n).await);
    }
    w.run(RunKind::Cycle).await;
    w.clock.advance(Duration::minutes(30));
    for (i, (uid, _)) in booked.iter().enumerate() {
        w.sim.control().edit(uid, BookingEdit { start: Some(slot(40 + i as i64)), ..BookingEdit::default() }).unwrap();
        let announced = engine::store::NewDelivery {
            body_sha256: format!("{i:0>64}"),
            trigger: "BOOKING_RESCHEDULED".into(),
            uid: Some(uid.clone()),
            previous_uid: None,
            sent_at: Some(w.clock.now()),
        };
        w.store.store_delivery(w.org.id, &announced, w.clock.now()).await.unwrap();
    }
    six_hours_later(&w);
    w.run(RunKind::Cycle).await;
    assert_eq!(notification_titles(&w).await, Vec::<String>::new(), "every change was announced");
});
