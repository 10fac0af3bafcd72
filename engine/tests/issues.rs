//! The review queue on both databases: one open issue per problem, even
//! under concurrent workers; automatic and manual resolution.

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::domain::{AppointmentId, AppointmentSource, AppointmentStatus, ErrorCode, OrgId};
use engine::domain::{IssueId, Members, Role, UserId};
use engine::on_both_backends;
use engine::resolve::Actor;
use engine::store::{
    IgnoreUntil, IssueState, IssueSubject, NewAppointment, NewIssue, NewNotification, NewOrganization, NewUser,
    NotificationKind, Opened, QueueFilter, QueueView, Regression, Resolution, Severity, Store,
};
use engine::triage::{triage, IgnoreFor, TriageError, TriageStep};
use engine::verify::compare::{RemoteBooking, RemoteStatus};

fn told(id: IssueId) -> NewNotification {
    NewNotification {
        kind: NotificationKind::SyncIssue,
        severity: Severity::Warning,
        title: "Cal.com Sync Issue".into(),
        body: "Cal.com has a booking we do not".into(),
        appointment_id: None,
        issue_id: Some(id),
        dedupe_key: Some(format!("issue:{id}")),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 11, 14, 30, 0).unwrap()
}

async fn setup(store: &Store) -> (OrgId, AppointmentId) {
    let org = store
        .create_organization(
            &NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin },
            now(),
        )
        .await
        .unwrap()
        .id;
    let starts_at = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
    let new = NewAppointment {
        external_id: None,
        customer_name: "Tom Klein".into(),
        customer_email: Some("tom.klein@example.com".into()),
        customer_phone: None,
        service: "Herrenschnitt".into(),
        starts_at,
        ends_at: starts_at + Duration::minutes(45),
        time_zone: chrono_tz::Europe::Berlin,
        status: AppointmentStatus::Scheduled,
        source: AppointmentSource::Retell,
        calcom_booking_uid: Some("abc-def-123".into()),
        calcom_event_type_id: None,
    };
    let id = store.insert_appointment(org, &new, "t", now()).await.unwrap().id;
    (org, id)
}

fn orphan(id: AppointmentId) -> NewIssue {
    NewIssue {
        code: ErrorCode::OrphanedLocal,
        subject: IssueSubject::Appointment(id),
        calcom_snapshot: None,
        differences: None,
        detail: Some("Booking ID \"abc-def-123\" not found in Cal.com".into()),
    }
}

on_both_backends!(an_issue_is_opened_once_per_problem, |db| async move {
    let store = &db.store;
    let (org, appt) = setup(store).await;
    let first = store.open_issue(org, &orphan(appt), now()).await.unwrap();
    assert!(matches!(first, Opened::New(_)));
    let again = store.open_issue(org, &orphan(appt), now()).await.unwrap();
    assert_eq!(again, Opened::Untold(first.id()), "still the one issue; nobody has told the admins yet");

    let mismatch = NewIssue { code: ErrorCode::DataMismatch, ..orphan(appt) };
    let other = store.open_issue(org, &mismatch, now()).await.unwrap();
    assert!(matches!(other, Opened::New(id) if id != first.id()), "another code is another problem");

    let issue = store.issue(org, first.id()).await.unwrap();
    assert_eq!(issue.appointment_id, Some(appt));
    assert_eq!(issue.code, ErrorCode::OrphanedLocal);
    assert_eq!(issue.resolved_at, None);
});

on_both_backends!(concurrent_workers_open_one_issue, |db| async move {
    let store = db.store.clone();
    let (org, appt) = setup(&store).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.open_issue(org, &orphan(appt), now()).await.unwrap() })
        })
        .collect();
    let mut new = 0;
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let opened = task.await.unwrap();
        new += matches!(opened, Opened::New(_)) as usize;
        ids.insert(opened.id());
    }
    assert_eq!(new, 1);
    assert_eq!(ids.len(), 1);
    assert_eq!(store.open_issues(org, None, 100).await.unwrap().len(), 1);
});

on_both_backends!(auto_resolution_closes_and_a_new_problem_reopens, |db| async move {
    let store = &db.store;
    let (org, appt) = setup(store).await;
    let first = store.open_issue(org, &orphan(appt), now()).await.unwrap().id();
    let subject = IssueSubject::Appointment(appt);
    let closed = store
        .resolve_issues_for(org, &subject, Resolution::AutoResolved, None, None, now() + Duration::hours(6))
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let issue = store.issue(org, first).await.unwrap();
    assert_eq!(issue.resolution, Some(Resolution::AutoResolved));
    assert_eq!(issue.resolved_at, Some(now() + Duration::hours(6)));
    assert!(store.open_issues_for(org, &subject).await.unwrap().is_empty());
    assert_eq!(store.resolve_issues_for(org, &subject, Resolution::AutoResolved, None, None, now()).await.unwrap(), 0);

    let second = store.open_issue(org, &orphan(appt), now() + Duration::days(1)).await.unwrap();
    assert!(matches!(second, Opened::Regressed(id) if id != first), "the same problem later comes back: {second:?}");
    let back = store.issue(org, second.id()).await.unwrap();
    assert_eq!(back.regression, Some(Regression { of: first, count: 1 }));
    assert_eq!(store.issue(org, first).await.unwrap().resolution, Some(Resolution::AutoResolved), "history stays");

    store
        .resolve_issues_for(org, &subject, Resolution::AutoResolved, None, None, now() + Duration::days(2))
        .await
        .unwrap();
    let third = store.open_issue(org, &orphan(appt), now() + Duration::days(3)).await.unwrap();
    let third = store.issue(org, third.id()).await.unwrap();
    assert_eq!(third.regression, Some(Regression { of: second.id(), count: 2 }), "every return is counted");
});

on_both_backends!(calcom_only_bookings_and_manual_resolution, |db| async move {
    let store = &db.store;
    let (org, _) = setup(store).await;
    let subject = IssueSubject::CalcomBooking { uid: "k2nY7qL0".into() };
    let new = NewIssue {
        code: ErrorCode::OrphanedCalcom,
        subject: subject.clone(),
        calcom_snapshot: Some(r#"{"uid":"k2nY7qL0"}"#.into()),
        differences: None,
        detail: None,
    };
    let id = store.open_issue(org, &new, now()).await.unwrap().id();
    assert_eq!(store.count_open_issues_by_code(org).await.unwrap(), [(ErrorCode::OrphanedCalcom, 1)]);

    assert_eq!(store.open_issue(org, &new, now()).await.unwrap(), Opened::Untold(id), "open, but nobody was told");
    assert!(store.notify_issue(org, id, &told(id), Vec::new(), now()).await.unwrap().is_some());
    assert!(store.notify_issue(org, id, &told(id), Vec::new(), now()).await.unwrap().is_none(), "notified once only");
    assert_eq!(store.open_issue(org, &new, now()).await.unwrap(), Opened::AlreadyOpen(id), "told: nothing more to say");

    store
        .resolve_issues_for(org, &subject, Resolution::MarkedResolved, None, Some("test booking"), now())
        .await
        .unwrap();
    let issue = store.issue(org, id).await.unwrap();
    assert_eq!(issue.resolution, Some(Resolution::MarkedResolved));
    assert_eq!(issue.resolution_note.as_deref(), Some("test booking"));
    assert!(store.count_open_issues_by_code(org).await.unwrap().is_empty());
});

on_both_backends!(issues_are_invisible_to_other_organizations, |db| async move {
    let store = &db.store;
    let (org, appt) = setup(store).await;
    let other = store
        .create_organization(&NewOrganization { slug: "b".into(), name: "B".into(), time_zone: chrono_tz::UTC }, now())
        .await
        .unwrap()
        .id;
    let id = store.open_issue(org, &orphan(appt), now()).await.unwrap().id();
    assert!(store.issue(other, id).await.is_err());
    assert!(store.open_issues(other, None, 10).await.unwrap().is_empty());
    assert!(store.notify_issue(other, id, &told(id), Vec::new(), now()).await.unwrap().is_none());
    assert_eq!(store.notifications_for(other, UserId(1), false, 10).await.unwrap(), []);
    let subject = IssueSubject::Appointment(appt);
    assert_eq!(
        store.resolve_issues_for(other, &subject, Resolution::MarkedResolved, None, None, now()).await.unwrap(),
        0
    );
});

async fn user(store: &Store, org: OrgId, name: &str, role: Role) -> Actor {
    let new = NewUser {
        email: format!("{}@example.com", name.to_lowercase()),
        name: name.into(),
        role,
        password_hash: "x".into(),
    };
    let user = store.create_user(org, &new, now()).await.unwrap();
    Actor { user_id: user.id, name: user.name }
}

async fn step(store: &Store, org: OrgId, id: IssueId, step: TriageStep, by: &Actor) -> Result<String, TriageError> {
    let org = store.organization(org).await.unwrap();
    triage(store, &org, id, step, by, now()).await
}

fn refused(result: Result<String, TriageError>) -> String {
    match result {
        Err(TriageError::NotApplicable(words)) => words,
        other => panic!("expected a refusal in words, got {other:?}"),
    }
}

fn ignore(reason: &str, until: IgnoreUntil) -> TriageStep {
    TriageStep::Ignore { reason: reason.into(), until }
}

on_both_backends!(triage_steps_move_an_issue_through_its_states_and_are_audited, |db| async move {
    let store = &db.store;
    let (org, appt) = setup(store).await;
    let ann = user(store, org, "Ann", Role::Admin).await;
    let bob = user(store, org, "Bob", Role::Admin).await;
    let vic = user(store, org, "Vic", Role::Viewer).await;
    let id = store.open_issue(org, &orphan(appt), now()).await.unwrap().id();
    assert_eq!(store.issue(org, id).await.unwrap().state(), IssueState::Open);

    assert_eq!(step(store, org, id, TriageStep::Acknowledge, &ann).await.unwrap(), format!("Issue #{id} acknowledged"));
    let issue = store.issue(org, id).await.unwrap();
    assert_eq!(issue.state(), IssueState::Acknowledged);
    assert_eq!(issue.acknowledged.map(|s| (s.by, s.at)), Some((ann.user_id, now())));
    assert_eq!(
        refused(step(store, org, id, TriageStep::Acknowledge, &bob).await),
        format!("Issue #{id} is already acknowledged.")
    );

    let words = refused(step(store, org, id, TriageStep::Assign(Some(vic.user_id)), &ann).await);
    assert_eq!(words, "Vic cannot take issues: only active admins can.");
    step(store, org, id, TriageStep::Assign(Some(bob.user_id)), &ann).await.unwrap();
    assert_eq!(store.issue(org, id).await.unwrap().assigned_to, Some(bob.user_id));
    let mine = QueueFilter { view: QueueView::NeedsAttention, assigned_to: Some(bob.user_id) };
    assert_eq!(store.queue_issues(org, mine, 10).await.unwrap().len(), 1);
    let anns = QueueFilter { assigned_to: Some(ann.user_id), ..mine };
    assert!(store.queue_issues(org, anns, 10).await.unwrap().is_empty());

    step(store, org, id, ignore("known test booking", IgnoreUntil::FurtherNotice), &bob).await.unwrap();
    let issue = store.issue(org, id).await.unwrap();
    assert_eq!(issue.state(), IssueState::Ignored);
    assert_eq!(issue.ignored.as_ref().map(|i| i.reason.as_str()), Some("known test booking"));
    assert!(store.queue_issues(org, QueueFilter::default(), 10).await.unwrap().is_empty(), "ignored: out of the way");
    let ignored = QueueFilter { view: QueueView::Ignored, assigned_to: None };
    assert_eq!(store.queue_issues(org, ignored, 10).await.unwrap().len(), 1);
    assert!(store.count_open_issues_by_code(org).await.unwrap().is_empty(), "the dashboard does not count it");
    assert!(store.oldest_open_issue(org).await.unwrap().is_none());
    let words = refused(step(store, org, id, TriageStep::Acknowledge, &ann).await);
    assert_eq!(words, format!("Issue #{id} is ignored; stop ignoring it first."));

    step(store, org, id, TriageStep::StopIgnoring, &ann).await.unwrap();
    let issue = store.issue(org, id).await.unwrap();
    assert_eq!(issue.state(), IssueState::Acknowledged, "back where it was before the ignore");
    let oldest = store.oldest_open_issue(org).await.unwrap().expect("the issue is back in the queue");
    assert_eq!((oldest.id, oldest.opened_at), (id, now()), "the dashboard links to it");
    assert_eq!(
        refused(step(store, org, id, TriageStep::StopIgnoring, &ann).await),
        format!("Issue #{id} is not ignored.")
    );

    let actions: Vec<(String, Option<UserId>)> =
        store.audit_log(org, 20).await.unwrap().into_iter().rev().map(|e| (e.action.to_string(), e.user_id)).collect();
    assert_eq!(
        actions,
        [
            ("issue.acknowledge".to_owned(), Some(ann.user_id)),
            ("issue.assign".to_owned(), Some(ann.user_id)),
            ("issue.ignore".to_owned(), Some(bob.user_id)),
            ("issue.unignore".to_owned(), Some(ann.user_id)),
        ],
        "every step, and only the ones that happened"
    );

    store
        .resolve_issues_for(org, &IssueSubject::Appointment(appt), Resolution::AutoResolved, None, None, now())
        .await
        .unwrap();
    assert_eq!(
        refused(step(store, org, id, TriageStep::Acknowledge, &ann).await),
        format!("Issue #{id} is already closed.")
    );
    assert_eq!(store.audit_log(org, 20).await.unwrap().len(), 4, "a refused step writes nothing");
});

on_both_backends!(an_issue_ignored_for_n_occurrences_comes_back_as_a_regression_after_them, |db| async move {
    let store = &db.store;
    let (org, appt) = setup(store).await;
    let ann = user(store, org, "Ann", Role::Admin).await;
    let id = store.open_issue(org, &orphan(appt), now()).await.unwrap().id();
    step(store, org, id, TriageStep::Assign(Some(ann.user_id)), &ann).await.unwrap();
    step(store, org, id, ignore("Cal.com support is on it", IgnoreUntil::Occurrences(2)), &ann).await.unwrap();

    for _ in 0..2 {
        assert_eq!(store.open_issue(org, &orphan(appt), now()).await.unwrap(), Opened::Ignored(id));
    }
    let back = store.open_issue(org, &orphan(appt), now() + Duration::hours(1)).await.unwrap();
    let Opened::Regressed(new) = back else { panic!("the third occurrence is news: {back:?}") };
    assert_eq!(back.news(), Some(new));
    let old = store.issue(org, id).await.unwrap();
    assert_eq!(old.resolution, Some(Resolution::IgnoreLapsed));
    let new = store.issue(org, new).await.unwrap();
    assert_eq!(new.state(), IssueState::Open);
    assert_eq!(new.regression, Some(Regression { of: id, count: 1 }));
    assert_eq!(new.assigned_to, Some(ann.user_id), "the owner stays the owner");
    assert_eq!(store.open_issue(org, &orphan(appt), now()).await.unwrap(), Opened::Untold(new.id));
});

on_both_backends!(an_issue_ignored_until_a_date_stays_quiet_through_a_flap_and_returns_after_it, |db| async move {
    let store = &db.store;
    let (org, appt) = setup(store).await;
    let ann = user(store, org, "Ann", Role::Admin).await;
    let subject = IssueSubject::Appointment(appt);
    let id = store.open_issue(org, &orphan(appt), now()).await.unwrap().id();
    let until = now() + Duration::days(7);
    step(store, org, id, ignore("customer rebooks by phone", IgnoreUntil::Date(until)), &ann).await.unwrap();
    assert_eq!(store.open_issue(org, &orphan(appt), now() + Duration::days(1)).await.unwrap(), Opened::Ignored(id));

    // The problem goes away, then comes back while the rule holds: still ignored, but counted.
    store
        .resolve_issues_for(org, &subject, Resolution::AutoResolved, None, None, now() + Duration::days(2))
        .await
        .unwrap();
    let flap = store.open_issue(org, &orphan(appt), now() + Duration::days(3)).await.unwrap();
    let Opened::Ignored(flapped) = flap else { panic!("a flap within the rule stays quiet: {flap:?}") };
    assert_ne!(flapped, id);
    let issue = store.issue(org, flapped).await.unwrap();
    assert_eq!(issue.state(), IssueState::Ignored);
    assert_eq!(issue.ignored.map(|i| (i.until, i.stamp.by)), Some((IgnoreUntil::Date(until), ann.user_id)));
    assert_eq!(issue.regression.map(|r| r.count), Some(1));

    let after = store.open_issue(org, &orphan(appt), until + Duration::minutes(1)).await.unwrap();
    assert!(matches!(after, Opened::Regressed(id) if id != flapped), "after the date it is news again: {after:?}");
    assert_eq!(store.issue(org, after.id()).await.unwrap().regression.map(|r| r.count), Some(2));
});

on_both_backends!(concurrent_workers_lapse_an_ignore_into_one_regression, |db| async move {
    let store = db.store.clone();
    let (org, appt) = setup(&store).await;
    let ann = user(&store, org, "Ann", Role::Admin).await;
    let id = store.open_issue(org, &orphan(appt), now()).await.unwrap().id();
    step(&store, org, id, ignore("one more", IgnoreUntil::Occurrences(1)), &ann).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.open_issue(org, &orphan(appt), now()).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    // The others find the regression open but not yet told (`Untold`):
    // telling is guarded by the issue's notified mark, not by this answer.
    let regressed = outcomes.iter().filter(|o| matches!(o, Opened::Regressed(_))).count();
    let ignored = outcomes.iter().filter(|o| matches!(o, Opened::Ignored(_))).count();
    assert_eq!((regressed, ignored), (1, 1), "one occurrence used the rule, one brought it back: {outcomes:?}");
    assert_eq!(store.open_issues_for(org, &IssueSubject::Appointment(appt)).await.unwrap().len(), 1);
});

on_both_backends!(triage_of_another_organizations_issue_is_not_found, |db| async move {
    let store = &db.store;
    let (org, appt) = setup(store).await;
    let id = store.open_issue(org, &orphan(appt), now()).await.unwrap().id();
    let other = store
        .create_organization(&NewOrganization { slug: "b".into(), name: "B".into(), time_zone: chrono_tz::UTC }, now())
        .await
        .unwrap()
        .id;
    let mallory = user(store, other, "Mallory", Role::Admin).await;
    let result = step(store, other, id, TriageStep::Acknowledge, &mallory).await;
    assert!(matches!(result, Err(TriageError::Store(engine::store::StoreError::NotFound(_)))), "{result:?}");
    // Nor can an admin hand an issue to someone of another organization.
    let ann = user(store, org, "Ann", Role::Admin).await;
    let result = step(store, org, id, TriageStep::Assign(Some(mallory.user_id)), &ann).await;
    assert!(matches!(result, Err(TriageError::Store(engine::store::StoreError::NotFound(_)))), "{result:?}");
    assert_eq!(store.issue(org, id).await.unwrap().state(), IssueState::Open);
});

#[test]
fn an_ignore_request_needs_a_reason_and_a_limit_in_the_future() {
    let tz = chrono_tz::Europe::Berlin;
    let invalid = |result: Result<TriageStep, TriageError>| match result {
        Err(TriageError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    };
    assert_eq!(invalid(TriageStep::ignore("  ", IgnoreFor::FurtherNotice, tz, now())), "reason");
    assert_eq!(invalid(TriageStep::ignore(&"x".repeat(201), IgnoreFor::FurtherNotice, tz, now())), "reason");
    assert_eq!(invalid(TriageStep::ignore("r", IgnoreFor::Occurrences(0), tz, now())), "times");
    assert_eq!(invalid(TriageStep::ignore("r", IgnoreFor::Occurrences(1001), tz, now())), "times");
    assert_eq!(invalid(TriageStep::ignore("r", IgnoreFor::UntilDate("2025-10-10".into()), tz, now())), "until");
    assert_eq!(invalid(TriageStep::ignore("r", IgnoreFor::UntilDate("next week".into()), tz, now())), "until");
    // Today counts through its last minute in the organization's zone (now is 16:30 in Berlin).
    let today = TriageStep::ignore(" r ", IgnoreFor::UntilDate("2025-10-11".into()), tz, now()).unwrap();
    let midnight = Utc.with_ymd_and_hms(2025, 10, 11, 22, 0, 0).unwrap();
    assert_eq!(today, TriageStep::Ignore { reason: "r".into(), until: IgnoreUntil::Date(midnight) });
}

/// A booking only Cal.com has, for Tom Klein (the setup's customer) at
/// `minutes` after his appointment's start, with its open issue.
async fn calcom_only(store: &Store, org: OrgId, uid: &str, minutes: i64, email: &str) -> (IssueId, RemoteBooking) {
    let start = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap() + Duration::minutes(minutes);
    let booking = RemoteBooking {
        uid: uid.into(),
        status: RemoteStatus::Accepted,
        start,
        end: start + Duration::minutes(45),
        attendee_emails: vec![email.into()],
        attendee_phones: vec![],
        rescheduled_to_uid: None,
        changed_at: None,
        event_type_id: None,
    };
    let new = NewIssue {
        code: ErrorCode::OrphanedCalcom,
        subject: IssueSubject::CalcomBooking { uid: uid.into() },
        calcom_snapshot: Some(serde_json::to_string(&booking).unwrap()),
        differences: None,
        detail: None,
    };
    (store.open_issue(org, &new, now()).await.unwrap().id(), booking)
}

on_both_backends!(a_rebooked_booking_is_suggested_for_the_orphaned_appointment_and_linked, |db| async move {
    let store = &db.store;
    let (org, appt) = setup(store).await;
    // Tom's booking is gone from Cal.com (ORPHANED_LOCAL); he booked again, ten minutes later.
    store.open_issue(org, &orphan(appt), now()).await.unwrap();
    let mut state = store.appointment(org, appt).await.unwrap().sync;
    state.status = engine::domain::SyncStatus::OrphanedLocal;
    state.error_code = Some(ErrorCode::OrphanedLocal);
    let event = engine::store::NewSyncEvent {
        appointment_id: Some(appt),
        kind: engine::store::EventKind::Verification,
        result: Some("orphaned_local".into()),
        attempt: Some(3),
        duration_ms: None,
        detail: None,
        technical: None,
        actor: "system".into(),
        actor_user_id: None,
        at: now(),
    };
    store.set_sync_state(org, appt, &state, &event).await.unwrap();
    let (issue, booking) = calcom_only(store, org, "rebooked-1", 10, "Tom.Klein@example.com").await;
    let (_, stranger) = calcom_only(store, org, "someone-else", 0, "anna@example.com").await;
    let (_, far) = calcom_only(store, org, "next-day", 24 * 60, "tom.klein@example.com").await;

    let found = engine::links::suggestions(store, org, &booking).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].appointment.id, appt);
    assert_eq!(
        found[0].reasons,
        "same attendee email, Cal.com's starts 10 min later, its own booking is gone from Cal.com"
    );
    assert!(engine::links::suggestions(store, org, &stranger).await.unwrap().is_empty(), "another person");
    assert!(engine::links::suggestions(store, org, &far).await.unwrap().is_empty(), "another day");
    // The queue asks for all its rows at once and gets the same answers, in order.
    let each = engine::links::suggestions_for_each(store, org, &[&stranger, &booking, &far]).await.unwrap();
    let ids: Vec<Vec<_>> = each.iter().map(|found| found.iter().map(|s| s.appointment.id).collect()).collect();
    assert_eq!(ids, [vec![], vec![appt], vec![]]);
    assert!(engine::links::suggestions_for_each(store, org, &[]).await.unwrap().is_empty());

    // The service counts when both sides name one: the same one is a
    // reason more, another one is another visit.
    sqlx::query("UPDATE appointments SET calcom_event_type_id = 7 WHERE id = $1")
        .bind(appt.get())
        .execute(store.pool())
        .await
        .unwrap();
    let same_service = RemoteBooking { event_type_id: Some(7), ..booking.clone() };
    let by_service = engine::links::suggestions(store, org, &same_service).await.unwrap();
    assert_eq!(
        by_service[0].reasons,
        "same attendee email, same service (Herrenschnitt), Cal.com's starts 10 min later, its own booking is gone from Cal.com"
    );
    let other_service = RemoteBooking { event_type_id: Some(8), ..booking.clone() };
    assert!(engine::links::suggestions(store, org, &other_service).await.unwrap().is_empty(), "another service");

    let ann = user(store, org, "Ann", Role::Admin).await;
    let organization = store.organization(org).await.unwrap();
    let clock = std::sync::Arc::new(engine::clock::ManualClock::at(now()));
    let resolver = engine::resolve::Resolver::new(store.clone(), clock);
    let appointment = store.appointment(org, appt).await.unwrap();
    let refused = resolver.link_booking(&organization, issue, &appointment, &stranger, &ann).await;
    assert!(matches!(refused, Err(engine::resolve::ResolveError::NotApplicable(_))), "the server re-checks the match");

    // The appointment's own page is offered the same booking, by the same rule.
    let offered = engine::links::bookings_for(store, org, &appointment).await.unwrap();
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert_eq!((offered[0].issue, offered[0].booking.uid.as_str()), (issue, "rebooked-1"));
    assert_eq!(offered[0].reasons, found[0].reasons);

    let done = resolver.link_booking(&organization, issue, &appointment, &booking, &ann).await.unwrap();
    assert_eq!(done.message, format!("Appointment #{appt} linked to Cal.com booking rebooked-1"));
    assert_eq!(done.issues_closed, 2, "the booking's issue and the appointment's ORPHANED_LOCAL");
    let linked = store.appointment(org, appt).await.unwrap();
    assert_eq!(linked.calcom_booking_uid.as_deref(), Some("rebooked-1"));
    assert_eq!(linked.sync.status, engine::domain::SyncStatus::VerificationPending, "verified again at once");
    assert_eq!((linked.sync.error_code, linked.sync.next_verification_at), (None, Some(now())));
    let closed = store.issue(org, issue).await.unwrap();
    assert_eq!((closed.resolution, closed.appointment_id), (Some(Resolution::Linked), Some(appt)));
    assert!(store.open_issues_for(org, &IssueSubject::Appointment(appt)).await.unwrap().is_empty());
    let history = store.appointment_events(org, appt).await.unwrap();
    assert!(
        history.iter().any(|e| e.actor == "Ann"
            && e.detail.as_deref().is_some_and(|d| d.starts_with("Linked to Cal.com booking rebooked-1"))),
        "{history:?}"
    );
    let again = resolver.link_booking(&organization, issue, &linked, &booking, &ann).await;
    assert!(again.is_err(), "linked once only: {again:?}");
    assert!(engine::links::bookings_for(store, org, &linked).await.unwrap().is_empty(), "it has its booking now");
});

/// Another appointment of the organization, `hours` after the first.
async fn another(store: &Store, org: OrgId, hours: i64) -> AppointmentId {
    let starts_at = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap() + Duration::hours(hours);
    let new = NewAppointment {
        external_id: None,
        customer_name: format!("Customer {hours}"),
        customer_email: Some(format!("c{hours}@example.com")),
        customer_phone: None,
        service: "Herrenschnitt".into(),
        starts_at,
        ends_at: starts_at + Duration::minutes(45),
        time_zone: chrono_tz::Europe::Berlin,
        status: AppointmentStatus::Scheduled,
        source: AppointmentSource::Retell,
        calcom_booking_uid: Some(format!("uid-{hours}")),
        calcom_event_type_id: None,
    };
    store.insert_appointment(org, &new, "t", now()).await.unwrap().id
}

fn failed(id: AppointmentId, reason: &str) -> NewIssue {
    NewIssue { code: ErrorCode::VerificationError, detail: Some(reason.into()), ..orphan(id) }
}

// A step that reads before it writes (the group's re-check) while another
// transaction holds the write lock (another request, or a refused step's
// transaction whose rollback is still on its way): it waits for the lock.
// On SQLite it used to fail at once with "database is locked", seen as an
// intermittent failure of the group test below.
on_both_backends!(a_step_that_reads_first_waits_for_another_writer_instead_of_failing, |db| async move {
    use engine::groups::{act_on_group, GroupStep};
    use engine::store::{GroupKey, GroupTarget};
    let store = &db.store;
    let (org, first) = setup(store).await;
    let outage = "Cal.com was unavailable (HTTP 503)";
    let second = another(store, org, 1).await;
    for id in [first, second] {
        store.open_issue(org, &failed(id, outage), now()).await.unwrap();
    }
    let groups = store.queue_groups(org, QueueFilter::default()).await.unwrap();
    let key = GroupKey { code: ErrorCode::VerificationError, detail: Some(outage.into()), outage: None };
    let target = GroupTarget { key, filter: QueueFilter::default(), expected: groups[0].members };
    let organization = store.organization(org).await.unwrap();
    let ann = user(store, org, "Ann", Role::Admin).await;

    let mut holder = store.pool().begin().await.unwrap();
    sqlx::query("UPDATE organizations SET name = name WHERE id = $1")
        .bind(org.get())
        .execute(&mut *holder)
        .await
        .unwrap();
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        holder.commit().await.unwrap();
    };
    let step = act_on_group(store, &organization, &target, GroupStep::Triage(TriageStep::Acknowledge), &ann, now());
    let (acted, ()) = tokio::join!(step, release);
    assert_eq!(acted.unwrap(), format!("2 issues of VERIFICATION_ERROR · {outage} acknowledged"));
});

on_both_backends!(the_failures_of_one_cal_com_outage_are_one_group, |db| async move {
    use engine::groups::{act_on_group, cause, GroupStep};
    use engine::store::GroupTarget;
    let store = &db.store;
    let (org, first) = setup(store).await;
    let organization = store.organization(org).await.unwrap();
    let unavailable = "Cal.com was unavailable (HTTP 503)";
    // The breaker opens at 16:30 (Berlin); a second instance's opening joins it.
    store.outage_began(org, now()).await.unwrap();
    store.outage_began(org, now() + Duration::minutes(3)).await.unwrap();
    store.open_issue(org, &failed(first, unavailable), now() + Duration::minutes(5)).await.unwrap();
    let second = another(store, org, 1).await;
    store
        .open_issue(org, &failed(second, "Cal.com did not answer in time"), now() + Duration::minutes(9))
        .await
        .unwrap();
    let orphaned = another(store, org, 2).await;
    store.open_issue(org, &orphan(orphaned), now() + Duration::minutes(10)).await.unwrap();
    store.outage_ended(org, now() + Duration::minutes(29)).await.unwrap();
    // The same words outside any outage, and a second outage still going on.
    let later = another(store, org, 3).await;
    store.open_issue(org, &failed(later, unavailable), now() + Duration::hours(2)).await.unwrap();
    store.outage_began(org, now() + Duration::hours(3)).await.unwrap();
    let during = another(store, org, 4).await;
    store.open_issue(org, &failed(during, unavailable), now() + Duration::hours(3)).await.unwrap();

    let groups = store.queue_groups(org, QueueFilter::default()).await.unwrap();
    let seen: Vec<(ErrorCode, String, u64)> =
        groups.iter().map(|g| (g.key.code, cause(&organization, &g.key, g.outage.as_ref()), g.count)).collect();
    assert_eq!(
        seen,
        [
            (ErrorCode::VerificationError, "Cal.com outage 11.10.2025 16:30 – 16:59".to_owned(), 2),
            (ErrorCode::OrphanedLocal, "In our database, not in Cal.com".to_owned(), 1),
            (ErrorCode::VerificationError, unavailable.to_owned(), 1),
            (ErrorCode::VerificationError, "Cal.com outage since 11.10.2025 19:30".to_owned(), 1),
        ],
        "one group per outage whatever each failure's words; an orphan found meanwhile is not the outage's"
    );

    let ann = user(store, org, "Ann", Role::Admin).await;
    let target =
        GroupTarget { key: groups[0].key.clone(), filter: QueueFilter::default(), expected: groups[0].members };
    let step = GroupStep::Triage(TriageStep::Acknowledge);
    let done = act_on_group(store, &organization, &target, step, &ann, now()).await.unwrap();
    assert_eq!(done, "2 issues of VERIFICATION_ERROR · Cal.com outage 11.10.2025 16:30 – 16:59 acknowledged");
    let acknowledged: Vec<AppointmentId> = store
        .queue_issues(org, QueueFilter::default(), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.state() == IssueState::Acknowledged)
        .filter_map(|i| i.appointment_id)
        .collect();
    assert_eq!(acknowledged.len(), 2);
    assert!(acknowledged.contains(&first) && acknowledged.contains(&second), "only the outage's: {acknowledged:?}");
});

on_both_backends!(a_group_of_issues_is_acted_on_at_once_after_its_count_is_rechecked, |db| async move {
    use engine::groups::{act_on_group, GroupStep};
    use engine::store::{GroupKey, GroupTarget, StoreError};
    let store = &db.store;
    let (org, first) = setup(store).await;
    let outage = "Cal.com was unavailable (HTTP 503)";
    let mut members = vec![first];
    for hours in 1..3 {
        members.push(another(store, org, hours).await);
    }
    for id in &members {
        store.open_issue(org, &failed(*id, outage), now()).await.unwrap();
    }
    let odd = another(store, org, 5).await;
    store.open_issue(org, &failed(odd, "Cal.com answered HTTP 500"), now() + Duration::minutes(1)).await.unwrap();
    let orphaned = another(store, org, 6).await;
    let orphan_issue = store.open_issue(org, &orphan(orphaned), now()).await.unwrap().id();
    let second = another(store, org, 7).await;
    let words = Some("Booking ID \"uid-7\" not found in Cal.com".into());
    store.open_issue(org, &NewIssue { detail: words, ..orphan(second) }, now()).await.unwrap();

    let groups = store.queue_groups(org, QueueFilter::default()).await.unwrap();
    let seen: Vec<(ErrorCode, Option<&str>, u64)> =
        groups.iter().map(|g| (g.key.code, g.key.detail.as_deref(), g.count)).collect();
    assert_eq!(
        seen,
        [
            (ErrorCode::VerificationError, Some(outage), 3),
            (ErrorCode::OrphanedLocal, None, 2),
            (ErrorCode::VerificationError, Some("Cal.com answered HTTP 500"), 1),
        ],
        "largest first, then oldest; an orphan's reason names its booking, so orphans group by code alone"
    );
    assert_eq!(groups[0].oldest, now());

    let ann = user(store, org, "Ann", Role::Admin).await;
    let organization = store.organization(org).await.unwrap();
    let key = GroupKey { code: ErrorCode::VerificationError, detail: Some(outage.into()), outage: None };
    let target = |expected| GroupTarget { key: key.clone(), filter: QueueFilter::default(), expected };
    let act = |expected, step| {
        let organization = organization.clone();
        let ann = ann.clone();
        async move { act_on_group(store, &organization, &target(expected), step, &ann, now()).await }
    };

    let shown = groups[0].members;
    assert_eq!(shown.count, 3);
    // The admin was shown 2; the group has 3 by now: nothing is written.
    match act(Members { count: 2, ..shown }, GroupStep::Triage(TriageStep::Acknowledge)).await {
        Err(TriageError::Store(StoreError::Conflict(words))) => {
            assert_eq!(words, "The group now has 3 issues, not the 2 you confirmed; look at it again.")
        }
        other => panic!("expected the re-check to refuse, got {other:?}"),
    }
    // As many, but other issues than the ones listed: refused as well.
    let others = Members { id_sum: shown.id_sum + 1, ..shown };
    match act(others, GroupStep::Triage(TriageStep::Acknowledge)).await {
        Err(TriageError::Store(StoreError::Conflict(words))) => {
            assert_eq!(words, "The group now holds other issues than the 3 you confirmed; look at it again.")
        }
        other => panic!("expected the re-check to refuse, got {other:?}"),
    }
    assert!(store.audit_log(org, 10).await.unwrap().is_empty(), "a refused group action writes nothing");
    let too_many = Members { count: engine::store::MAX_GROUP_ACTION as i64 + 1, ..shown };
    let capped = refused(act(too_many, GroupStep::Triage(TriageStep::Acknowledge)).await);
    assert!(capped.starts_with("A group action covers at most 1000 issues; this group has 1001."), "{capped}");

    let done = act(shown, GroupStep::Triage(TriageStep::Acknowledge)).await.unwrap();
    assert_eq!(done, format!("3 issues of VERIFICATION_ERROR · {outage} acknowledged"));
    let states: Vec<IssueState> = store
        .queue_issues(org, QueueFilter::default(), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.detail.as_deref() == Some(outage))
        .map(|i| i.state())
        .collect();
    assert_eq!(states, [IssueState::Acknowledged; 3]);
    match act(shown, GroupStep::Triage(TriageStep::Acknowledge)).await {
        Err(TriageError::Store(StoreError::Conflict(words))) => assert!(words.contains("taken already"), "{words}"),
        other => panic!("acknowledging twice must be refused, got {other:?}"),
    }

    let invalid = act(shown, GroupStep::MarkResolved { note: "  ".into() }).await;
    assert!(matches!(invalid, Err(TriageError::Invalid { field: "note", .. })), "{invalid:?}");
    let done = act(shown, GroupStep::MarkResolved { note: "Cal.com outage, all checked".into() }).await.unwrap();
    assert_eq!(
        done,
        format!("3 issues of VERIFICATION_ERROR · {outage} marked as resolved: Cal.com outage, all checked")
    );
    for id in &members {
        assert!(store.open_issues_for(org, &IssueSubject::Appointment(*id)).await.unwrap().is_empty());
        let history = store.appointment_events(org, *id).await.unwrap();
        assert_eq!(
            history[0].detail.as_deref(),
            Some("Marked as resolved with its group: Cal.com outage, all checked")
        );
        assert_eq!(history[0].actor, "Ann");
    }
    let left: Vec<ErrorCode> =
        store.queue_groups(org, QueueFilter::default()).await.unwrap().into_iter().map(|g| g.key.code).collect();
    assert_eq!(left, [ErrorCode::OrphanedLocal, ErrorCode::VerificationError], "the other groups stay");

    let audit: Vec<(String, Option<String>, Option<String>)> = store
        .audit_log(org, 10)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| (e.action.to_string(), e.target, e.detail))
        .collect();
    let group = format!("group VERIFICATION_ERROR · {outage}");
    assert_eq!(
        audit,
        [
            ("issue.acknowledge".to_owned(), Some(group.clone()), Some("3 issues acknowledged".to_owned())),
            (
                "issue.mark_resolved".to_owned(),
                Some(group.clone()),
                Some("3 issues marked as resolved: Cal.com outage, all checked".to_owned())
            ),
        ]
    );

    // Another organization's admin names the same group and finds none of ours.
    let other = store
        .create_organization(&NewOrganization { slug: "b".into(), name: "B".into(), time_zone: chrono_tz::UTC }, now())
        .await
        .unwrap()
        .id;
    let stranger = user(store, other, "Mallory", Role::Admin).await;
    let theirs = store.organization(other).await.unwrap();
    let key = GroupKey { code: ErrorCode::OrphanedLocal, detail: None, outage: None };
    let target = GroupTarget { key, filter: QueueFilter::default(), expected: Members { count: 1, ..shown } };
    let result =
        act_on_group(store, &theirs, &target, GroupStep::Triage(TriageStep::Acknowledge), &stranger, now()).await;
    assert!(matches!(result, Err(TriageError::Store(StoreError::Conflict(_)))), "{result:?}");
    assert_eq!(store.issue(org, orphan_issue).await.unwrap().state(), IssueState::Open);
});

on_both_backends!(an_acknowledged_issue_left_open_is_brought_up_again_once, |db| async move {
    use engine::reminders::send_due;
    let store = &db.store;
    let (org, appt) = setup(store).await;
    let ann = user(store, org, "Ann", Role::Admin).await;
    let acknowledged = store.open_issue(org, &orphan(appt), now()).await.unwrap().id();
    step(store, org, acknowledged, TriageStep::Acknowledge, &ann).await.unwrap();
    step(store, org, acknowledged, TriageStep::Assign(Some(ann.user_id)), &ann).await.unwrap();
    // Neither a fresh issue nobody acknowledged nor an ignored one is brought up.
    let other = another(store, org, 1).await;
    store.open_issue(org, &failed(other, "Cal.com was unavailable (HTTP 503)"), now()).await.unwrap();
    let quiet = another(store, org, 2).await;
    let ignored = store.open_issue(org, &orphan(quiet), now()).await.unwrap().id();
    step(store, org, ignored, TriageStep::Acknowledge, &ann).await.unwrap();
    step(store, org, ignored, ignore("test booking", IgnoreUntil::FurtherNotice), &ann).await.unwrap();
    let reminders = || async {
        let rows = sqlx::query("SELECT kind, title, body, issue_id FROM notifications WHERE org_id = $1 ORDER BY id")
            .bind(org.get())
            .fetch_all(store.pool())
            .await
            .unwrap();
        rows.iter()
            .map(|r| (sqlx::Row::get::<String, _>(r, "kind"), sqlx::Row::get::<String, _>(r, "body")))
            .collect::<Vec<_>>()
    };

    assert_eq!(send_due(store, now() + Duration::hours(23)).await.unwrap(), 0, "the default is 24 hours");
    assert_eq!(send_due(store, now() + Duration::hours(24)).await.unwrap(), 1);
    assert_eq!(
        reminders().await,
        [(
            "reminder".to_owned(),
            format!(
                "Issue #{acknowledged} (In our database, not in Cal.com) was acknowledged by Ann on 11.10 16:30 and is still open\n\
                 Owner: Ann\nCustomer: Tom Klein │ Time: 13.10 10:00"
            )
        )]
    );
    assert_eq!(send_due(store, now() + Duration::hours(48)).await.unwrap(), 0, "once per issue");

    // An organization that turned reminders off gets none; another's are its own.
    let b = store
        .create_organization(&NewOrganization { slug: "b".into(), name: "B".into(), time_zone: chrono_tz::UTC }, now())
        .await
        .unwrap()
        .id;
    let b_appt = another(store, b, 3).await;
    let bea = user(store, b, "Bea", Role::Admin).await;
    let b_issue = store.open_issue(b, &orphan(b_appt), now()).await.unwrap().id();
    step(store, b, b_issue, TriageStep::Acknowledge, &bea).await.unwrap();
    let entry = engine::store::NewAuditEntry {
        user_id: Some(bea.user_id),
        action: engine::domain::AuditAction::SettingsQueue,
        target: None,
        detail: Some("off".into()),
        at: now(),
    };
    store.update_ack_reminder(b, 0, &entry).await.unwrap();
    assert_eq!(store.organization(b).await.unwrap().ack_reminder_hours, 0);
    assert_eq!(send_due(store, now() + Duration::days(30)).await.unwrap(), 0);
    assert_eq!(reminders().await.len(), 1, "nothing new for either organization");
});

on_both_backends!(only_free_appointments_inside_the_windows_are_read_for_suggestions, |db| async move {
    let store = &db.store;
    let (org, linked) = setup(store).await; // 08:00, with a booking Cal.com has: not free
    let base = NewAppointment {
        external_id: None,
        customer_name: "Anna Schmidt".into(),
        customer_email: Some("anna@example.com".into()),
        customer_phone: None,
        service: "Schnitt".into(),
        starts_at: Utc.with_ymd_and_hms(2025, 10, 13, 8, 5, 0).unwrap(),
        ends_at: Utc.with_ymd_and_hms(2025, 10, 13, 8, 50, 0).unwrap(),
        time_zone: chrono_tz::Europe::Berlin,
        status: AppointmentStatus::Scheduled,
        source: AppointmentSource::Api,
        calcom_booking_uid: None,
        calcom_event_type_id: None,
    };
    let free = store.insert_appointment(org, &base, "t", now()).await.unwrap().id;
    let cancelled = NewAppointment { status: AppointmentStatus::Cancelled, ..base.clone() };
    store.insert_appointment(org, &cancelled, "t", now()).await.unwrap();
    let later = NewAppointment {
        starts_at: base.starts_at + Duration::hours(3),
        ends_at: base.ends_at + Duration::hours(3),
        ..base.clone()
    };
    let outside = store.insert_appointment(org, &later, "t", now()).await.unwrap().id;

    let at = |h: u32, m: u32| Utc.with_ymd_and_hms(2025, 10, 13, h, m, 0).unwrap();
    // Many overlapping windows (more than one statement holds) around 08:00 and none at 11:05.
    let mut windows: Vec<_> = (0..1500).map(|i| (at(7, 45) + Duration::seconds(i), at(8, 15))).collect();
    let found: Vec<_> =
        store.free_appointments_within(org, &windows).await.unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(found, [free], "not the linked one ({linked:?}), not the cancelled one, each once");
    windows.push((at(11, 0), at(11, 10)));
    let found: Vec<_> =
        store.free_appointments_within(org, &windows).await.unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(found, [free, outside]);
    let other = OrgId(org.get() + 1);
    assert!(store.free_appointments_within(other, &windows).await.unwrap().is_empty(), "one organization's only");
});
