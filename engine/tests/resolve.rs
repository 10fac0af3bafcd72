//! The review page's resolutions as engine operations, on both databases:
//! each changes Cal.com (a fake here) and records state, closed issues and
//! an audited history entry naming the admin.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::clock::{Clock, ManualClock};
use engine::domain::{AppointmentSource, AppointmentStatus, ErrorCode, SyncStatus, UserId};
use engine::on_both_backends;
use engine::resolve::{Actor, ResolveError, Resolver};
use engine::store::{
    Appointment, EventKind, IssueSubject, NewAppointment, NewIssue, NewOrganization, Organization, Resolution, Store,
};
use engine::verify::circuit::Circuits;
use engine::verify::compare::{RemoteBooking, RemoteStatus};
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;
use engine::verify::source::{BookingSource, SourceError};

mod support;
use support::FakeCalcom;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 11, 8, 0, 0).unwrap()
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap()
}

struct Case {
    store: Store,
    org: Organization,
    clock: ManualClock,
    calcom: FakeCalcom,
    verifier: Verifier,
    resolver: Resolver,
    admin: Actor,
}

async fn case(store: Store) -> Case {
    let org = store
        .create_organization(
            &NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin },
            t0(),
        )
        .await
        .unwrap();
    let row = sqlx::query(
        "INSERT INTO users (org_id, email, name, role, password_hash, created_at) VALUES ($1, 'jane@salon.de', 'Jane Admin', 'admin', 'x', 0) RETURNING id",
    )
    .bind(org.id.get())
    .fetch_one(store.pool())
    .await
    .unwrap();
    let admin = Actor { user_id: UserId(sqlx::Row::get(&row, "id")), name: "Jane Admin".into() };
    let clock = ManualClock::at(t0());
    let verifier =
        Verifier::new(store.clone(), Arc::new(Circuits::default()), RetryLadder::default(), Arc::new(clock.clone()));
    let resolver = Resolver::new(store.clone(), Arc::new(clock.clone()));
    Case { store, org, clock, calcom: FakeCalcom::default(), verifier, resolver, admin }
}

impl Case {
    async fn appointment(&self, uid: Option<&str>) -> Appointment {
        let new = NewAppointment {
            external_id: None,
            customer_name: "Tom Klein".into(),
            customer_email: Some("tom@example.com".into()),
            customer_phone: Some("+49 123 456789".into()),
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

    /// Verifies until the rules have flagged the appointment.
    async fn flagged(&self, a: &Appointment) -> Appointment {
        for wait in [0, 1, 5] {
            self.clock.advance(Duration::minutes(wait));
            let current = self.reload(a).await;
            self.verifier.verify_one(&self.org, &self.calcom, &current).await.unwrap();
            if self.reload(a).await.sync.requires_manual_review {
                break;
            }
        }
        let a = self.reload(a).await;
        assert!(a.sync.requires_manual_review, "{:?}", a.sync);
        a
    }

    async fn reload(&self, a: &Appointment) -> Appointment {
        self.store.appointment(self.org.id, a.id).await.unwrap()
    }

    async fn open_issues(&self, a: &Appointment) -> usize {
        self.store.open_issues_for(self.org.id, &IssueSubject::Appointment(a.id)).await.unwrap().len()
    }

    async fn last_event(&self, a: &Appointment) -> engine::store::SyncEvent {
        self.store.appointment_events(self.org.id, a.id).await.unwrap().remove(0)
    }
}

fn booking(uid: &str, hours_later: i64) -> RemoteBooking {
    RemoteBooking {
        uid: uid.into(),
        status: RemoteStatus::Accepted,
        start: start() + Duration::hours(hours_later),
        end: start() + Duration::hours(hours_later) + Duration::minutes(45),
        attendee_emails: vec!["tom@example.com".into()],
        attendee_phones: vec![],
        rescheduled_to_uid: None,
        changed_at: None,
        event_type_id: None,
    }
}

on_both_backends!(an_orphan_is_created_in_calcom_and_synced, |db| async move {
    let c = case(db.store.clone()).await;
    let a = c.flagged(&c.appointment(Some("deleted")).await).await;
    assert_eq!(a.sync.error_code, Some(ErrorCode::OrphanedLocal));
    let done = c.resolver.create_in_calcom(&c.org, &a, &c.admin, 1, &c.calcom).await.unwrap();
    assert_eq!(done.issues_closed, 1);
    let a = c.reload(&a).await;
    let uid = a.calcom_booking_uid.clone().unwrap();
    assert_ne!(uid, "deleted");
    assert!(c.calcom.booking(&uid).await.unwrap().is_some(), "Cal.com has it now");
    assert_eq!(a.sync.status, SyncStatus::Synced);
    assert!(!a.sync.requires_manual_review);
    let event = c.last_event(&a).await;
    assert_eq!((event.kind, event.actor.as_str()), (EventKind::Resolution, "Jane Admin"));
    assert_eq!(event.result.as_deref(), Some("created_in_calcom"));
    assert_eq!(c.open_issues(&a).await, 0);
    // Cal.com ended it after its event type's 30 minutes, not our 45: ours
    // follows, says so, and the next verification finds nothing to report.
    assert_eq!(a.ends_at, a.starts_at + Duration::minutes(30));
    assert!(
        event.detail.as_deref().is_some_and(|d| d.ends_with("; Cal.com's event type ends it at 10:30 (ours said 10:45), so ours does too")),
        "{event:?}"
    );
    let v = c.verifier.verify_one(&c.org, &c.calcom, &a).await.unwrap();
    assert_eq!(v.decision.state.status, SyncStatus::Synced, "no phantom difference: {:?}", v.decision.state);
});

on_both_backends!(a_failed_calcom_call_records_nothing, |db| async move {
    let c = case(db.store.clone()).await;
    let a = c.flagged(&c.appointment(Some("deleted")).await).await;
    c.calcom.fail_with(Some(SourceError::Transient("HTTP 503".into())));
    let err = c.resolver.create_in_calcom(&c.org, &a, &c.admin, 1, &c.calcom).await.unwrap_err();
    assert!(matches!(err, ResolveError::Calcom(_)));
    assert_eq!(c.reload(&a).await.sync, a.sync, "unchanged");
    assert_eq!(c.open_issues(&a).await, 1);
});

on_both_backends!(a_mismatch_accepting_calcoms_version, |db| async move {
    let c = case(db.store.clone()).await;
    c.calcom.put(booking("moved", 2));
    let a = c.flagged(&c.appointment(Some("moved")).await).await;
    assert_eq!(a.sync.error_code, Some(ErrorCode::DataMismatch));
    c.resolver.accept_calcom(&c.org, &a, &c.admin, &c.calcom).await.unwrap();
    let a = c.reload(&a).await;
    assert_eq!(a.starts_at, start() + Duration::hours(2));
    assert_eq!(a.sync.status, SyncStatus::Synced);
    assert_eq!(c.open_issues(&a).await, 0);
    // And a fresh verification agrees.
    let v = c.verifier.verify_one(&c.org, &c.calcom, &a).await.unwrap();
    assert_eq!(v.decision.state.status, SyncStatus::Synced);
});

on_both_backends!(a_mismatch_pushing_ours_reschedules_in_calcom, |db| async move {
    let c = case(db.store.clone()).await;
    c.calcom.put(booking("moved", 2));
    let a = c.flagged(&c.appointment(Some("moved")).await).await;
    c.resolver.push_ours(&c.org, &a, &c.admin, &c.calcom, &c.calcom).await.unwrap();
    let a = c.reload(&a).await;
    let new_uid = a.calcom_booking_uid.clone().unwrap();
    assert_eq!(new_uid, "moved-r");
    assert_eq!(c.calcom.booking(&new_uid).await.unwrap().unwrap().start, start());
    assert_eq!(a.starts_at, start(), "ours unchanged");
    assert_eq!(c.last_event(&a).await.result.as_deref(), Some("pushed_local"));
    assert_eq!(a.ends_at, start() + Duration::minutes(30), "the moved booking's end, from its event type");
    let v = c.verifier.verify_one(&c.org, &c.calcom, &a).await.unwrap();
    assert_eq!(v.decision.state.status, SyncStatus::Synced, "no phantom difference: {:?}", v.decision.state);
});

on_both_backends!(mark_resolved_needs_a_note_and_keeps_it, |db| async move {
    let c = case(db.store.clone()).await;
    let a = c.flagged(&c.appointment(Some("deleted")).await).await;
    assert!(matches!(c.resolver.mark_resolved(&c.org, &a, &c.admin, "  ").await, Err(ResolveError::NotApplicable(_))));
    c.resolver.mark_resolved(&c.org, &a, &c.admin, "customer cancelled by phone").await.unwrap();
    let issues = c.store.open_issues(c.org.id, None, 10).await.unwrap();
    assert!(issues.is_empty());
    let a = c.reload(&a).await;
    assert!(!a.sync.requires_manual_review);
    assert_eq!(c.last_event(&a).await.detail.as_deref(), Some("Marked as resolved: customer cancelled by phone"));
});

on_both_backends!(cancel_on_both_sides, |db| async move {
    let c = case(db.store.clone()).await;
    c.calcom.put(booking("moved", 2));
    let a = c.flagged(&c.appointment(Some("moved")).await).await;
    c.resolver.cancel_both(&c.org, &a, &c.admin, &c.calcom).await.unwrap();
    assert_eq!(c.calcom.booking("moved").await.unwrap().unwrap().status, RemoteStatus::Cancelled);
    let a = c.reload(&a).await;
    assert_eq!(a.status, AppointmentStatus::Cancelled);
    assert_eq!(a.sync.status, SyncStatus::Synced);
});

on_both_backends!(retry_now_queues_a_fresh_ladder, |db| async move {
    let c = case(db.store.clone()).await;
    let a = c.flagged(&c.appointment(Some("deleted")).await).await;
    c.resolver.retry_now(&c.org, &a, &c.admin).await.unwrap();
    let a = c.reload(&a).await;
    assert_eq!(a.sync.status, SyncStatus::VerificationPending);
    assert_eq!(a.sync.attempts, 0);
    assert_eq!(a.sync.next_verification_at, Some(c.clock.now()));
    assert_eq!(c.open_issues(&a).await, 1, "the issue stays open until the problem is gone");
    assert_eq!(c.last_event(&a).await.kind, EventKind::VerificationQueued);
});

on_both_backends!(a_calcom_only_booking_is_imported, |db| async move {
    let c = case(db.store.clone()).await;
    let stranger = booking("stranger", 3);
    let issue = c
        .store
        .open_issue(
            c.org.id,
            &NewIssue {
                code: ErrorCode::OrphanedCalcom,
                subject: IssueSubject::CalcomBooking { uid: "stranger".into() },
                calcom_snapshot: None,
                differences: None,
                detail: None,
            },
            c.clock.now(),
        )
        .await
        .unwrap()
        .id();
    let done = c.resolver.import_booking(&c.org, issue, &c.admin, &stranger, "Anna Schmidt").await.unwrap();
    let created = c.store.appointment(c.org.id, done.appointment.unwrap()).await.unwrap();
    assert_eq!(created.calcom_booking_uid.as_deref(), Some("stranger"));
    assert_eq!(created.source, AppointmentSource::Calcom);
    assert_eq!(created.sync.status, SyncStatus::Synced);
    let closed = c.store.issue(c.org.id, issue).await.unwrap();
    assert_eq!(closed.resolution, Some(Resolution::ImportedFromCalcom));
    assert_eq!(closed.appointment_id, Some(created.id));
    let again = c.resolver.import_booking(&c.org, issue, &c.admin, &stranger, "Anna Schmidt").await;
    assert!(again.is_err(), "importing twice creates no copy");
});

on_both_backends!(retrying_many_queues_them_all_in_one_go_and_keeps_their_issues, |db| async move {
    let c = case(db.store.clone()).await;
    let a = c.flagged(&c.appointment(Some("gone-1")).await).await;
    let b = c.flagged(&c.appointment(Some("gone-2")).await).await;
    let queued = c.resolver.retry_many(&c.org, &[a.clone(), b.clone()], &c.admin).await.unwrap();
    assert_eq!(queued, 2);
    for x in [&a, &b] {
        let now = c.reload(x).await;
        assert_eq!(now.sync.status, SyncStatus::VerificationPending);
        assert_eq!((now.sync.attempts, now.sync.next_verification_at), (0, Some(c.clock.now())));
        assert_eq!(c.open_issues(x).await, 1, "a retry is not a resolution");
        let event = c.last_event(x).await;
        assert_eq!((event.detail.as_deref(), event.actor.as_str()), (Some("Verification requested"), "Jane Admin"));
    }
    assert_eq!(c.resolver.retry_many(&c.org, &[], &c.admin).await.unwrap(), 0, "an empty page writes nothing");
});
