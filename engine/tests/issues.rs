//! The review queue on both databases: one open issue per problem, even
//! under concurrent workers; automatic and manual resolution.

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::domain::{AppointmentId, AppointmentSource, AppointmentStatus, ErrorCode, OrgId};
use engine::on_both_backends;
use engine::store::{IssueSubject, NewAppointment, NewIssue, NewOrganization, Opened, Resolution, Store};

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
    assert_eq!(again, Opened::AlreadyOpen(first.id()));

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
    assert!(matches!(second, Opened::New(id) if id != first), "the same problem later is a new issue");
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
    assert_eq!(store.open_issue(org, &new, now()).await.unwrap(), Opened::AlreadyOpen(id));
    assert_eq!(store.count_open_issues_by_code(org).await.unwrap(), [(ErrorCode::OrphanedCalcom, 1)]);

    assert!(store.mark_issue_notified(org, id, now()).await.unwrap());
    assert!(!store.mark_issue_notified(org, id, now()).await.unwrap(), "notified once only");

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
    assert!(!store.mark_issue_notified(other, id, now()).await.unwrap());
    let subject = IssueSubject::Appointment(appt);
    assert_eq!(
        store.resolve_issues_for(other, &subject, Resolution::MarkedResolved, None, None, now()).await.unwrap(),
        0
    );
});
