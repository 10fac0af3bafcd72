//! The background worker on both databases: scheduled slots run once even
//! with two instances, retries happen between slots, dead runs are cleaned up.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::clock::{Clock, ManualClock};
use engine::domain::{AppointmentSource, AppointmentStatus, SyncStatus};
use engine::on_both_backends;
use engine::store::{NewAppointment, NewOrganization, Organization, RunKind, RunStart, RunStatus, Store, Trigger};
use engine::verify::circuit::Circuits;
use engine::verify::compare::{RemoteBooking, RemoteStatus};
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;
use engine::worker::{Connector, Worker};

mod support;
use support::{FakeCalcom, Fixed};

/// 05:59:30 Berlin: just before the 06:00 slot.
fn before_six() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 11, 3, 59, 30).unwrap()
}

fn worker(store: &Store, clock: &ManualClock, calcom: &Arc<FakeCalcom>, id: &str) -> Worker<Fixed> {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let verifier = Verifier::new(store.clone(), Arc::new(Circuits::default()), RetryLadder::default(), clock.clone());
    Worker::new(store.clone(), verifier, Fixed(calcom.clone()), clock, id.into())
}

/// An organization that has existed for a day, with two appointments.
async fn setup(store: &Store, clock: &ManualClock) -> Organization {
    let org = create_org(store, clock.now() - Duration::days(1)).await;
    for (i, uid) in ["a", "gone"].iter().enumerate() {
        let start = Utc.with_ymd_and_hms(2025, 10, 13, 8 + i as u32, 0, 0).unwrap();
        let new = appointment(&format!("Kunde {i}"), start, uid);
        store.insert_appointment(org.id, &new, "test", clock.now()).await.unwrap();
    }
    org
}

async fn create_org(store: &Store, at: DateTime<Utc>) -> Organization {
    let new = NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin };
    store.create_organization(&new, at).await.unwrap()
}

/// Half an hour from `start`, linked to the booking `uid`.
fn appointment(name: &str, start: DateTime<Utc>, uid: &str) -> NewAppointment {
    NewAppointment {
        external_id: None,
        customer_name: name.into(),
        customer_email: Some("k@example.com".into()),
        customer_phone: None,
        service: "Schnitt".into(),
        starts_at: start,
        ends_at: start + Duration::minutes(30),
        time_zone: chrono_tz::Europe::Berlin,
        status: AppointmentStatus::Scheduled,
        source: AppointmentSource::Api,
        calcom_booking_uid: Some(uid.into()),
        calcom_event_type_id: None,
    }
}

fn booking_a() -> RemoteBooking {
    let start = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
    RemoteBooking {
        uid: "a".into(),
        status: RemoteStatus::Accepted,
        start,
        end: start + Duration::minutes(30),
        attendee_emails: vec!["k@example.com".into()],
        attendee_phones: vec![],
        rescheduled_to_uid: None,
        changed_at: None,
        event_type_id: None,
    }
}

on_both_backends!(two_instances_run_each_slot_once, |db| async move {
    let store = db.store.clone();
    let clock = ManualClock::at(before_six());
    let org = setup(&store, &clock).await;
    let calcom = Arc::new(FakeCalcom::default());
    calcom.put(booking_a());
    let (one, two) = (worker(&store, &clock, &calcom, "one"), worker(&store, &clock, &calcom, "two"));

    // First ticks: the previous slots (00:00 comprehensive, 00:00 cycle) run once.
    let (r1, r2) = tokio::join!(one.tick(), two.tick());
    assert_eq!(r1.unwrap().runs_started + r2.unwrap().runs_started, 2);
    // The 06:00 slot comes: exactly one instance runs the cycle.
    clock.advance(Duration::seconds(45));
    let (r1, r2) = tokio::join!(one.tick(), two.tick());
    assert_eq!(r1.unwrap().runs_started + r2.unwrap().runs_started, 1);
    let runs = store.recent_runs(org.id, 10).await.unwrap();
    let slots: Vec<_> = runs.iter().map(|r| (r.kind, r.slot_at.map(|s| s.to_rfc3339()))).collect();
    assert_eq!(runs.len(), 3, "{slots:?}");
    assert!(runs.iter().all(|r| r.status == RunStatus::Succeeded));
    assert_eq!(runs.iter().filter(|r| r.kind == RunKind::Cycle).count(), 2);
});

on_both_backends!(a_new_organization_owes_no_slot_from_before_it_existed, |db| async move {
    let store = db.store.clone();
    let clock = ManualClock::at(before_six());
    let org = create_org(&store, clock.now()).await;
    let start = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
    store.insert_appointment(org.id, &appointment("Kunde", start, "a"), "test", clock.now()).await.unwrap();
    let calcom = Arc::new(FakeCalcom::default());
    calcom.put(booking_a());
    let w = worker(&store, &clock, &calcom, "one");

    // Created at 05:59:30: today's 00:00 slots are not owed, but its first
    // appointment is verified without waiting for one.
    let first = w.tick().await.unwrap();
    assert_eq!((first.runs_started, first.verified), (0, 1));
    assert!(store.recent_runs(org.id, 10).await.unwrap().is_empty());
    // Its first slot comes: the 06:00 cycle runs (the daily check waits for midnight).
    clock.advance(Duration::seconds(45));
    assert_eq!(w.tick().await.unwrap().runs_started, 1);
    let runs = store.recent_runs(org.id, 10).await.unwrap();
    assert_eq!(runs.iter().map(|r| r.kind).collect::<Vec<_>>(), vec![RunKind::Cycle]);
});

on_both_backends!(retries_happen_between_slots, |db| async move {
    let store = db.store.clone();
    let clock = ManualClock::at(before_six() + Duration::hours(1));
    let org = setup(&store, &clock).await;
    let calcom = Arc::new(FakeCalcom::default());
    calcom.put(booking_a());
    let w = worker(&store, &clock, &calcom, "one");
    w.tick().await.unwrap();
    let gone = |store: Store| async move {
        let all = store.list_appointments(org.id, &Default::default(), None, 10).await.unwrap();
        all.into_iter().find(|a| a.calcom_booking_uid.as_deref() == Some("gone")).unwrap()
    };
    assert_eq!(gone(store.clone()).await.sync.attempts, 1);
    clock.advance(Duration::minutes(1));
    w.tick().await.unwrap();
    assert_eq!(gone(store.clone()).await.sync.attempts, 2, "the +1 minute retry ran without waiting for a slot");
    clock.advance(Duration::minutes(5));
    w.tick().await.unwrap();
    assert_eq!(gone(store.clone()).await.sync.status, SyncStatus::OrphanedLocal);
});

on_both_backends!(a_crashed_workers_run_is_interrupted_by_the_next_tick, |db| async move {
    let store = db.store.clone();
    let clock = ManualClock::at(before_six());
    let org = setup(&store, &clock).await;
    let start = RunStart {
        kind: RunKind::Cycle,
        trigger: Trigger::Manual,
        slot_at: None,
        worker_id: "crashed".into(),
        requested_by: None,
    };
    let run = store.start_run(org.id, &start, clock.now()).await.unwrap().id().unwrap();
    clock.advance(Duration::minutes(6));
    let calcom = Arc::new(FakeCalcom::default());
    let report = worker(&store, &clock, &calcom, "survivor").tick().await.unwrap();
    assert_eq!(report.interrupted, 1);
    assert_eq!(store.run(org.id, run).await.unwrap().status, RunStatus::Interrupted);
});

async fn admin(store: &Store, org: &Organization, clock: &ManualClock) -> engine::domain::UserId {
    let new = engine::store::NewUser {
        email: "admin@example.com".into(),
        name: "Admin".into(),
        role: engine::domain::Role::Admin,
        password_hash: "not a real hash".into(),
    };
    store.create_user(org.id, &new, clock.now()).await.unwrap().id
}

on_both_backends!(a_requested_run_executes_once_on_the_next_tick, |db| async move {
    let store = db.store.clone();
    // Between slots, after the 00:00 runs: only the request can start a run.
    let clock = ManualClock::at(before_six() - Duration::hours(2));
    let org = setup(&store, &clock).await;
    let calcom = Arc::new(FakeCalcom::default());
    calcom.put(booking_a());
    let (one, two) = (worker(&store, &clock, &calcom, "one"), worker(&store, &clock, &calcom, "two"));
    one.tick().await.unwrap();
    let user = admin(&store, &org, &clock).await;

    let asked = store.request_run(org.id, RunKind::Comprehensive, user, clock.now()).await.unwrap().id().unwrap();
    let again = store.request_run(org.id, RunKind::Comprehensive, user, clock.now()).await.unwrap();
    let engine::store::Start::Busy(active) = again else { panic!("a double click queues one run") };
    assert_eq!(active.run.id, asked);
    assert_eq!(active.requested_by_name.as_deref(), Some("Admin"), "{active:?}");
    assert_eq!(store.run(org.id, asked).await.unwrap().status, RunStatus::Queued);

    clock.advance(Duration::seconds(5));
    let (r1, r2) = tokio::join!(one.tick(), two.tick());
    assert_eq!(r1.unwrap().runs_started + r2.unwrap().runs_started, 1, "two instances, one execution");
    let run = store.run(org.id, asked).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.trigger, Trigger::Manual);
    assert_eq!(run.requested_by, Some(user));
    assert_eq!(run.counts.total, 2, "the comprehensive check covered both appointments");
    assert_eq!(run.counts.processed, 2);
    assert!(run.started_at >= clock.now() - Duration::seconds(1), "started when taken, not when asked");
});

on_both_backends!(a_requested_cycle_verifies_only_what_is_due, |db| async move {
    let store = db.store.clone();
    let clock = ManualClock::at(before_six() - Duration::hours(2));
    let org = setup(&store, &clock).await;
    let calcom = Arc::new(FakeCalcom::default());
    calcom.put(booking_a());
    let one = worker(&store, &clock, &calcom, "one");
    one.tick().await.unwrap();
    let user = admin(&store, &org, &clock).await;

    // One new appointment, due at once; the two from setup are not due.
    let start = Utc.with_ymd_and_hms(2025, 10, 13, 11, 0, 0).unwrap();
    let fresh = store.insert_appointment(org.id, &appointment("Neu", start, "b"), "test", clock.now()).await.unwrap();
    calcom.put(RemoteBooking { uid: "b".into(), start, end: start + Duration::minutes(30), ..booking_a() });

    let asked = store.request_run(org.id, RunKind::Cycle, user, clock.now()).await.unwrap().id().unwrap();
    clock.advance(Duration::seconds(5));
    assert_eq!(one.tick().await.unwrap().runs_started, 1);
    let run = store.run(org.id, asked).await.unwrap();
    assert_eq!((run.kind, run.status, run.trigger), (RunKind::Cycle, RunStatus::Succeeded, Trigger::Manual));
    assert_eq!(run.counts.processed, 1, "a cycle checks what is due, not the whole window: {:?}", run.counts);
    assert_eq!(store.appointment(org.id, fresh.id).await.unwrap().sync.status, SyncStatus::Synced);
});

on_both_backends!(a_requested_run_without_calcom_fails_with_a_reason, |db| async move {
    struct Unconnected;
    impl Connector for Unconnected {
        type Source = Arc<FakeCalcom>;
        async fn connect(&self, _org: &Organization) -> Option<Arc<FakeCalcom>> {
            None
        }
    }
    let store = db.store.clone();
    let clock = ManualClock::at(before_six());
    let org = setup(&store, &clock).await;
    let user = admin(&store, &org, &clock).await;
    let asked = store.request_run(org.id, RunKind::Cycle, user, clock.now()).await.unwrap().id().unwrap();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let verifier = Verifier::new(store.clone(), Arc::new(Circuits::default()), RetryLadder::default(), shared.clone());
    Worker::new(store.clone(), verifier, Unconnected, shared, "one".into()).tick().await.unwrap();
    let run = store.run(org.id, asked).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error_detail.as_deref(), Some("no Cal.com connection is configured"));
});
