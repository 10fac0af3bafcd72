//! "Retry all matching" and "resolve all matching" as background runs, on
//! both databases: the set the admin confirmed (its count and members) is
//! re-checked when the set is fixed, a cap and a second concurrent request
//! are refused with words, and the worker works the set through with a
//! result per appointment, audited in each history.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::bulk::{request_resolve, request_retry, BulkError, Confirmed, MAX_BULK};
use engine::clock::{Clock, ManualClock};
use engine::domain::{AppointmentId, AppointmentSource, AppointmentStatus, ErrorCode, Members, Role, SyncStatus};
use engine::on_both_backends;
use engine::store::{
    AppointmentFilter, BulkItemFilter, BulkOutcome, EventKind, IssueSubject, NewAppointment, NewIssue, NewOrganization,
    NewSyncEvent, NewUser, Organization, RunKind, RunStatus, Store, SyncState, User,
};
use engine::verify::circuit::Circuits;
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;
use engine::worker::Worker;

mod support;
use support::{FakeCalcom, Fixed};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 11, 14, 30, 0).unwrap()
}

struct World {
    store: Store,
    org: Organization,
    admin: User,
    clock: ManualClock,
}

impl World {
    async fn new(store: &Store) -> World {
        let new = NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin };
        let org = store.create_organization(&new, now() - Duration::days(1)).await.unwrap();
        let user = NewUser {
            email: "ann@example.com".into(),
            name: "Ann Admin".into(),
            role: Role::Admin,
            password_hash: "x".into(),
        };
        let admin = store.create_user(org.id, &user, now()).await.unwrap();
        World { store: store.clone(), org, admin, clock: ManualClock::at(now()) }
    }

    /// An appointment in `status` (failed ones with a verification error).
    async fn appointment(&self, name: &str, status: SyncStatus) -> AppointmentId {
        let start = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        let new = NewAppointment {
            external_id: None,
            customer_name: name.into(),
            customer_email: None,
            customer_phone: None,
            service: "Schnitt".into(),
            starts_at: start,
            ends_at: start + Duration::minutes(30),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Api,
            calcom_booking_uid: Some(format!("uid-{name}")),
            calcom_event_type_id: None,
        };
        let a = self.store.insert_appointment(self.org.id, &new, "test", now()).await.unwrap();
        let code = (status == SyncStatus::Failed).then_some(ErrorCode::VerificationError);
        let state = SyncState { status, error_code: code, next_verification_at: None, ..a.sync.clone() };
        self.store.set_sync_state(self.org.id, a.id, &state, &verification(a.id, status)).await.unwrap();
        a.id
    }

    async fn request(&self, filter: &AppointmentFilter, expected: Members) -> Result<engine::domain::RunId, BulkError> {
        let confirmed = Confirmed { filter, described: "state Failed", expected, by: self.admin.id };
        request_retry(&self.store, &self.org, &confirmed, now()).await
    }

    /// What the list shows the admin for `filter` right now.
    async fn shown(&self, filter: &AppointmentFilter) -> Members {
        self.store.appointment_members(self.org.id, filter).await.unwrap()
    }

    fn worker(&self) -> Worker<Fixed> {
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        let verifier =
            Verifier::new(self.store.clone(), Arc::new(Circuits::default()), RetryLadder::default(), clock.clone());
        Worker::new(self.store.clone(), verifier, Fixed(Arc::new(FakeCalcom::default())), clock, "w1".into())
    }

    async fn status(&self, id: AppointmentId) -> SyncStatus {
        self.store.appointment(self.org.id, id).await.unwrap().sync.status
    }
}

fn members(ids: &[AppointmentId]) -> Members {
    Members::of(ids.iter().map(|id| id.get()))
}

fn failed() -> AppointmentFilter {
    AppointmentFilter { sync_status: Some(SyncStatus::Failed), ..AppointmentFilter::default() }
}

on_both_backends!(a_bulk_retry_rechecks_the_count_then_runs_in_the_background, |db| async move {
    let w = World::new(&db.store).await;
    let tom = w.appointment("Tom", SyncStatus::Failed).await;
    let anna = w.appointment("Anna", SyncStatus::Failed).await;
    let fine = w.appointment("Max", SyncStatus::Synced).await;

    let shown = w.shown(&failed()).await;
    assert_eq!(shown, members(&[tom, anna]), "the list's fingerprint is the database's");
    // The admin saw 3 failed, but 2 match now: nothing is queued.
    let stale = w.request(&failed(), members(&[tom, anna, fine])).await.unwrap_err();
    assert_eq!(
        stale.to_string(),
        "2 appointments match this filter now, not the 3 you confirmed; nothing was done. \
         Check the list and confirm again."
    );
    assert!(w.store.recent_runs(w.org.id, 10).await.unwrap().is_empty(), "no run left behind by a refusal");
    assert!(matches!(w.request(&failed(), Members::default()).await, Err(BulkError::Empty)));

    let run = w.request(&failed(), shown).await.unwrap();
    let queued = w.store.run(w.org.id, run).await.unwrap();
    assert_eq!((queued.kind, queued.status, queued.counts.total), (RunKind::BulkRetry, RunStatus::Queued, 2));
    assert_eq!(queued.scope.as_deref(), Some("state Failed"), "the run keeps the filter it covers");
    let audit = w.store.audit_log(w.org.id, 10).await.unwrap();
    assert_eq!(audit[0].action.as_str(), "appointments.retry_matching");
    assert_eq!(audit[0].detail.as_deref(), Some("retry of 2 appointments matching state Failed"));
    // A second request while the first waits names the first.
    let busy = w.request(&failed(), shown).await.unwrap_err().to_string();
    assert!(busy.starts_with("a retry of matching appointments is already queued"), "{busy}");
    assert!(busy.contains("by Ann Admin"), "{busy}");
    assert_eq!(w.status(tom).await, SyncStatus::Failed, "nothing happens until the worker takes the run");

    // Meanwhile Anna is queued by hand: the run leaves her alone.
    let retried = w.store.appointment(w.org.id, anna).await.unwrap();
    let actor = engine::resolve::Actor { user_id: w.admin.id, name: w.admin.name.clone() };
    let resolver = engine::resolve::Resolver::new(w.store.clone(), Arc::new(w.clock.clone()));
    resolver.retry_now(&w.org, &retried, &actor).await.unwrap();

    w.worker().tick().await.unwrap();
    let done = w.store.run(w.org.id, run).await.unwrap();
    assert_eq!((done.status, done.counts.processed, done.counts.total), (RunStatus::Succeeded, 2, 2), "{done:?}");
    let tally = w.store.bulk_tally(w.org.id, run).await.unwrap();
    assert_eq!((tally.queued, tally.already_queued, tally.gone, tally.pending), (1, 1, 0, 0));
    let items = w.store.bulk_items(w.org.id, run, BulkItemFilter::All, None, 10).await.unwrap();
    let results: Vec<_> = items.iter().map(|i| (i.appointment, i.customer.as_deref(), i.outcome)).collect();
    assert_eq!(
        results,
        vec![(tom, Some("Tom"), Some(BulkOutcome::Queued)), (anna, Some("Anna"), Some(BulkOutcome::AlreadyQueued))]
    );
    let history = w.store.appointment_events(w.org.id, tom).await.unwrap();
    let queued_by = history.iter().find(|e| e.kind == EventKind::VerificationQueued).expect("a queued entry");
    assert_eq!(queued_by.actor, "Ann Admin", "each appointment's history names the admin who asked");
    // (The worker's own scheduled checks may look at it; the bulk run did not.)
    let untouched = w.store.appointment_events(w.org.id, fine).await.unwrap();
    assert!(untouched.iter().all(|e| e.actor != "Ann Admin"), "what the filter did not match is left alone");

    // Another org sees neither the run nor its items.
    let other = NewOrganization { slug: "other".into(), name: "Other".into(), time_zone: chrono_tz::UTC };
    let other = w.store.create_organization(&other, now()).await.unwrap();
    assert!(w.store.run(other.id, run).await.is_err());
    assert!(w.store.bulk_items(other.id, run, BulkItemFilter::All, None, 10).await.unwrap().is_empty());
    assert_eq!(w.store.bulk_tally(other.id, run).await.unwrap().total(), 0);
});

// Cal.com's key allows so many calls a minute: a bulk retry of thousands
// takes a while, and a scheduled cycle must not wait behind it.
on_both_backends!(a_bulk_retrys_verifications_never_hold_back_a_scheduled_cycle, |db| async move {
    let w = World::new(&db.store).await;
    let calcom = Arc::new(FakeCalcom::default());
    let clock: Arc<dyn Clock> = Arc::new(w.clock.clone());
    let verifier = Verifier::new(w.store.clone(), Arc::new(Circuits::default()), RetryLadder::default(), clock.clone());
    let worker = Worker::new(w.store.clone(), verifier, Fixed(calcom.clone()), clock, "w1".into());
    // The slots already owed at 16:30 Berlin (12:00's cycle, 03:00's check) run first.
    worker.tick().await.unwrap();
    let cycles = |runs: &[engine::store::Run]| runs.iter().filter(|r| r.kind == RunKind::Cycle).count();
    let before = cycles(&w.store.recent_runs(w.org.id, 10).await.unwrap());

    // 150 failed appointments; each verification takes a minute of the
    // key's budget. The next cycle is due at 18:00 Berlin, 90 minutes on.
    let mut failed_ones = Vec::new();
    for n in 0..150 {
        let id = w.appointment(&format!("Kunde {n}"), SyncStatus::Failed).await;
        let a = w.store.appointment(w.org.id, id).await.unwrap();
        calcom.put(support::booking(a.calcom_booking_uid.as_deref().unwrap(), a.starts_at, "x@example.com"));
        failed_ones.push(id);
    }
    calcom.take_time(&w.clock, Duration::minutes(1));
    let run = w.request(&failed(), members(&failed_ones)).await.unwrap();
    let slot = Utc.with_ymd_and_hms(2025, 10, 11, 16, 0, 0).unwrap();

    // The tick queues all 150 and verifies until the slot, then stops.
    worker.tick().await.unwrap();
    assert_eq!(w.store.run(w.org.id, run).await.unwrap().status, RunStatus::Succeeded);
    assert_eq!(w.clock.now(), slot, "the backlog yields exactly at the cycle's slot");
    let mut waiting = 0;
    for id in &failed_ones {
        let a = w.store.appointment(w.org.id, *id).await.unwrap();
        if a.sync.status == SyncStatus::VerificationPending {
            waiting += 1;
        }
    }
    assert_eq!(waiting, 60, "90 verified in the 90 minutes before the slot");

    // The next tick starts the cycle on its slot; the cycle takes the rest
    // at once (the claims were given back, not left to lapse).
    worker.tick().await.unwrap();
    let runs = w.store.recent_runs(w.org.id, 10).await.unwrap();
    assert_eq!(cycles(&runs), before + 1);
    let cycle = runs.iter().find(|r| r.kind == RunKind::Cycle).unwrap();
    assert_eq!((cycle.slot_at, cycle.started_at), (Some(slot), slot), "the cycle started on time: {cycle:?}");
    assert_eq!(cycle.status, RunStatus::Succeeded);
    for id in &failed_ones {
        assert_ne!(w.status(*id).await, SyncStatus::VerificationPending, "appointment {id:?} left waiting");
    }
});

on_both_backends!(a_bulk_retry_over_the_cap_is_refused_with_the_count, |db| async move {
    let w = World::new(&db.store).await;
    w.appointment("Tom", SyncStatus::Failed).await;
    // Over the cap without writing thousands of rows: the cap is checked
    // on the count, so one more than the limit is enough to show it.
    let sql = "INSERT INTO appointments (org_id, customer_name, service, starts_at, ends_at, time_zone, status, \
               source, sync_status, created_at, updated_at) \
               SELECT org_id, customer_name, service, starts_at, ends_at, time_zone, status, source, sync_status, \
               created_at, updated_at FROM appointments WHERE org_id = $1";
    while w.store.count_appointments(w.org.id, &failed()).await.unwrap() <= MAX_BULK {
        sqlx::query(sql).bind(w.org.id.get()).execute(w.store.pool()).await.unwrap();
    }
    let matching = w.shown(&failed()).await;
    let refused = w.request(&failed(), matching).await.unwrap_err();
    let n = matching.count;
    assert_eq!(refused.to_string(), format!("{n} appointments match; narrow the filter to at most 5000"));
    assert!(w.store.recent_runs(w.org.id, 10).await.unwrap().is_empty());
});

on_both_backends!(an_appointment_gone_before_the_run_reaches_it_is_recorded_as_gone, |db| async move {
    let w = World::new(&db.store).await;
    let tom = w.appointment("Tom", SyncStatus::Failed).await;
    let anna = w.appointment("Anna", SyncStatus::Failed).await;
    let run = w.request(&failed(), members(&[tom, anna])).await.unwrap();
    // Nothing in calsync deletes appointments today; an operator might.
    for table in ["notifications", "sync_events", "sync_issues"] {
        let sql = format!("DELETE FROM {table} WHERE appointment_id = $1");
        sqlx::query(&sql).bind(anna.get()).execute(w.store.pool()).await.unwrap();
    }
    sqlx::query("DELETE FROM appointments WHERE id = $1").bind(anna.get()).execute(w.store.pool()).await.unwrap();

    w.worker().tick().await.unwrap();
    assert_eq!(w.store.run(w.org.id, run).await.unwrap().status, RunStatus::Succeeded);
    let gone = w.store.bulk_items(w.org.id, run, BulkItemFilter::Outcome(BulkOutcome::Gone), None, 10).await.unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!((gone[0].appointment, gone[0].customer.as_deref()), (anna, None));
    let queued = w.store.bulk_items(w.org.id, run, BulkItemFilter::Outcome(BulkOutcome::Queued), None, 10).await;
    assert_eq!(queued.unwrap().iter().map(|i| i.appointment).collect::<Vec<_>>(), vec![tom], "the rest went on");
});

on_both_backends!(retry_selected_queues_the_organizations_own_in_one_step, |db| async move {
    let w = World::new(&db.store).await;
    let tom = w.appointment("Tom", SyncStatus::Failed).await;
    let anna = w.appointment("Anna", SyncStatus::VerificationPending).await;
    let other = NewOrganization { slug: "other".into(), name: "Other".into(), time_zone: chrono_tz::UTC };
    let other = w.store.create_organization(&other, now()).await.unwrap();
    let stranger = World { store: w.store.clone(), org: other, admin: w.admin.clone(), clock: w.clock.clone() };
    let theirs = stranger.appointment("Bob", SyncStatus::Failed).await;

    let actor = engine::resolve::Actor { user_id: w.admin.id, name: w.admin.name.clone() };
    let resolver = engine::resolve::Resolver::new(w.store.clone(), Arc::new(w.clock.clone()));
    let done = engine::bulk::retry_selected(&w.store, &resolver, &w.org, &[tom, anna, theirs, tom], &actor).await;
    let done = done.unwrap();
    assert_eq!((done.queued, done.skipped), (1, 2), "Tom once; Anna already waits; Bob is not ours");
    assert_eq!(w.status(tom).await, SyncStatus::VerificationPending);
    assert_eq!(stranger.status(theirs).await, SyncStatus::Failed, "another organization's appointment is untouched");
});

// Counting alone would pass a set of the same size with other members:
// the admin confirmed Tom and Anna, but by now Anna is fine and Max failed.
on_both_backends!(a_bulk_action_refuses_as_many_other_appointments_as_confirmed, |db| async move {
    let w = World::new(&db.store).await;
    let tom = w.appointment("Tom", SyncStatus::Failed).await;
    let anna = w.appointment("Anna", SyncStatus::Failed).await;
    let max = w.appointment("Max", SyncStatus::Synced).await;
    let shown = w.shown(&failed()).await;
    for (id, status) in [(anna, SyncStatus::Synced), (max, SyncStatus::Failed)] {
        let a = w.store.appointment(w.org.id, id).await.unwrap();
        let state = SyncState { status, ..a.sync.clone() };
        w.store.set_sync_state(w.org.id, id, &state, &verification(id, status)).await.unwrap();
    }
    assert_eq!(w.shown(&failed()).await.count, shown.count, "as many as confirmed");
    let refused = w.request(&failed(), shown).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Other appointments match this filter now than the 2 you confirmed; nothing was done. \
         Check the list and confirm again."
    );
    assert!(w.store.recent_runs(w.org.id, 10).await.unwrap().is_empty(), "nothing queued");
    assert_eq!(w.status(tom).await, SyncStatus::Failed);
    w.request(&failed(), w.shown(&failed()).await).await.expect("the set as it is now is accepted");
});

on_both_backends!(a_bulk_resolution_closes_the_issues_of_those_in_review_with_the_note, |db| async move {
    let w = World::new(&db.store).await;
    let tom = w.appointment("Tom", SyncStatus::Failed).await;
    let anna = w.appointment("Anna", SyncStatus::Failed).await;
    let max = w.appointment("Max", SyncStatus::Failed).await;
    for id in [tom, anna] {
        flag_for_review(&w, id).await;
    }
    let shown = w.shown(&failed()).await;
    let filter = failed();
    let confirmed = Confirmed { filter: &filter, described: "state Failed", expected: shown, by: w.admin.id };
    let resolve = |note: &'static str| {
        let (w, confirmed) = (&w, &confirmed);
        async move { request_resolve(&w.store, &w.org, confirmed, note, now()).await }
    };
    assert!(matches!(resolve("   ").await, Err(BulkError::Note)), "a note is required");
    let run = resolve(" Cal.com test bookings, deleted on purpose ").await.unwrap();
    let queued = w.store.run(w.org.id, run).await.unwrap();
    assert_eq!((queued.kind, queued.counts.total), (RunKind::BulkResolve, 3));
    assert_eq!(queued.note.as_deref(), Some("Cal.com test bookings, deleted on purpose"));
    let audit = w.store.audit_log(w.org.id, 10).await.unwrap();
    assert_eq!(audit[0].action.as_str(), "appointments.resolve_matching");
    assert_eq!(
        audit[0].detail.as_deref(),
        Some("resolution of 3 appointments matching state Failed: Cal.com test bookings, deleted on purpose")
    );
    assert_eq!(w.store.open_issues(w.org.id, None, 10).await.unwrap().len(), 2, "nothing closed before the run");

    w.worker().tick().await.unwrap();
    let done = w.store.run(w.org.id, run).await.unwrap();
    assert_eq!((done.status, done.counts.processed), (RunStatus::Succeeded, 3), "{done:?}");
    let tally = w.store.bulk_tally(w.org.id, run).await.unwrap();
    assert_eq!((tally.resolved, tally.not_in_review, tally.gone, tally.pending), (2, 1, 0, 0));
    let items = w.store.bulk_items(w.org.id, run, BulkItemFilter::All, None, 10).await.unwrap();
    let results: Vec<_> = items.iter().map(|i| (i.appointment, i.outcome)).collect();
    assert_eq!(
        results,
        vec![
            (tom, Some(BulkOutcome::Resolved)),
            (anna, Some(BulkOutcome::Resolved)),
            (max, Some(BulkOutcome::NotInReview))
        ]
    );
    assert!(w.store.open_issues(w.org.id, None, 10).await.unwrap().is_empty(), "both issues closed");
    let closed = w.store.closed_issues_for(w.org.id, tom, 10).await.unwrap();
    assert_eq!(closed[0].resolution_note.as_deref(), Some("Cal.com test bookings, deleted on purpose"));
    let tom_now = w.store.appointment(w.org.id, tom).await.unwrap();
    assert!(!tom_now.sync.requires_manual_review, "out of the review queue");
    let history = w.store.appointment_events(w.org.id, tom).await.unwrap();
    let line = history.iter().find(|e| e.kind == EventKind::Resolution).expect("a resolution in its history");
    assert_eq!(line.actor, "Ann Admin");
    assert_eq!(line.detail.as_deref(), Some("Marked as resolved: Cal.com test bookings, deleted on purpose"));
    let untouched = w.store.appointment_events(w.org.id, max).await.unwrap();
    assert!(untouched.iter().all(|e| e.kind != EventKind::Resolution), "Max needed no review: left alone");
});

fn verification(id: AppointmentId, status: SyncStatus) -> NewSyncEvent {
    NewSyncEvent {
        appointment_id: Some(id),
        kind: EventKind::Verification,
        result: Some(status.as_str().into()),
        attempt: None,
        duration_ms: None,
        detail: None,
        technical: None,
        actor: "test".into(),
        actor_user_id: None,
        at: now(),
    }
}

/// Puts the appointment in review with an open DATA_MISMATCH issue.
async fn flag_for_review(w: &World, id: AppointmentId) {
    let a = w.store.appointment(w.org.id, id).await.unwrap();
    let state = SyncState { requires_manual_review: true, ..a.sync.clone() };
    w.store.set_sync_state(w.org.id, id, &state, &verification(id, SyncStatus::Failed)).await.unwrap();
    let new = NewIssue {
        code: ErrorCode::DataMismatch,
        subject: IssueSubject::Appointment(id),
        calcom_snapshot: None,
        differences: None,
        detail: Some("start differs".into()),
    };
    w.store.open_issue(w.org.id, &new, now()).await.unwrap();
}
