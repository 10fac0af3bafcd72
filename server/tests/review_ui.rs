//! The appointment list, review page and review queue over real HTTP on
//! both databases, against the Cal.com simulator: filters, resolutions
//! that change Cal.com and our records, audit with the admin's name,
//! viewers who may look but not act, tenant isolation and the CSV export.

mod support;

use calcom_sim::SeedBooking;
use chrono::{DateTime, Duration, Utc};
use engine::calcom::NewAttendee;
use engine::domain::{AppointmentSource, AppointmentStatus, ErrorCode, OrgId, Role, SyncStatus};
use engine::on_both_backends;
use engine::store::{Appointment, EventKind, IssueSubject, NewAppointment, NewIssue, NewSyncEvent, SyncState};
use engine::verify::compare::{Difference, RemoteBooking, RemoteStatus};
use reqwest::header::COOKIE;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{org, user, world, World};

type ListAppointments = app::rpc::appointments::ListAppointments;
type RetryAppointments = app::rpc::appointments::RetryAppointments;
type GetReview = app::rpc::resolve::GetReview;
type ResolveAppointment = app::rpc::resolve::ResolveAppointment;
type GetReviewQueue = app::rpc::resolve::GetReviewQueue;
type ResolveBooking = app::rpc::resolve::ResolveBooking;
type GetDashboardSummary = app::rpc::dashboard::GetDashboardSummary;
type TriageIssue = app::rpc::triage::TriageIssue;

fn start() -> DateTime<Utc> {
    // Ahead of now, so the simulator accepts bookings at this time.
    (Utc::now() + Duration::days(3)).date_naive().and_hms_opt(8, 0, 0).unwrap().and_utc()
}

/// What these tests arrange beyond the shared world: appointments by the
/// hour, flagged states with their issues, bookings seeded in Cal.com.
trait Arrange {
    async fn appointment_at(&self, org: OrgId, name: &str, uid: Option<&str>, hours: i64) -> Appointment;
    async fn flag(&self, a: &Appointment, code: ErrorCode, snapshot: Option<&RemoteBooking>, diffs: Vec<Difference>);
    fn seed(&self, at: DateTime<Utc>, email: &str) -> String;
    async fn reload(&self, a: &Appointment) -> Appointment;
}

impl Arrange for World {
    async fn appointment_at(&self, org: OrgId, name: &str, uid: Option<&str>, hours: i64) -> Appointment {
        let starts_at = start() + Duration::hours(hours);
        let new = NewAppointment {
            external_id: None,
            customer_name: name.into(),
            customer_email: Some(format!("{}@example.com", name.to_lowercase().replace(' ', "."))),
            customer_phone: Some("+49 123 456789".into()),
            service: "Herrenschnitt".into(),
            starts_at,
            ends_at: starts_at + Duration::minutes(30),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Retell,
            calcom_booking_uid: uid.map(Into::into),
            calcom_event_type_id: Some(1),
        };
        self.store.insert_appointment(org, &new, "test", Utc::now()).await.unwrap()
    }

    /// Puts the appointment in the flagged state verification would have
    /// left it in, with its open issue.
    async fn flag(&self, a: &Appointment, code: ErrorCode, snapshot: Option<&RemoteBooking>, diffs: Vec<Difference>) {
        let status = if code == ErrorCode::OrphanedLocal { SyncStatus::OrphanedLocal } else { SyncStatus::Failed };
        let state = SyncState {
            status,
            error_code: Some(code),
            error_detail: Some(format!("{code} detected")),
            attempts: 3,
            last_verified_at: Some(Utc::now()),
            next_verification_at: None,
            requires_manual_review: true,
        };
        let event = NewSyncEvent {
            appointment_id: Some(a.id),
            kind: EventKind::Verification,
            result: Some("flagged".into()),
            attempt: Some(3),
            duration_ms: Some(12),
            detail: Some(format!("{code} detected")),
            technical: None,
            actor: "system".into(),
            actor_user_id: None,
            at: Utc::now(),
        };
        self.store.set_sync_state(a.org_id, a.id, &state, &event).await.unwrap();
        let issue = NewIssue {
            code,
            subject: IssueSubject::Appointment(a.id),
            calcom_snapshot: snapshot.map(|b| serde_json::to_string(b).unwrap()),
            differences: (!diffs.is_empty()).then(|| serde_json::to_string(&diffs).unwrap()),
            detail: Some(format!("{code} detected")),
        };
        self.store.open_issue(a.org_id, &issue, Utc::now()).await.unwrap();
    }

    fn seed(&self, at: DateTime<Utc>, email: &str) -> String {
        let seed = SeedBooking {
            attendee: Some(NewAttendee {
                name: "Tom Klein".into(),
                email: email.into(),
                time_zone: "Europe/Berlin".into(),
                phone_number: None,
                language: None,
            }),
            ..SeedBooking::at(at)
        };
        self.sim.control().seed(vec![seed]).unwrap().remove(0)
    }

    async fn reload(&self, a: &Appointment) -> Appointment {
        self.store.appointment(a.org_id, a.id).await.unwrap()
    }
}

fn ids(list: &Value) -> Vec<i64> {
    list["rows"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

on_both_backends!(the_list_filters_by_state_code_search_and_date_and_pages, |db| async move {
    let w = world(db.store.clone()).await;
    let tom = w.appointment_at(w.org.id, "Tom Klein", Some("gone"), 0).await;
    let anna = w.appointment_at(w.org.id, "Anna Schmidt", None, 26).await;
    let max = w.appointment_at(w.org.id, "Max Müller", None, 50).await;
    w.flag(&tom, ErrorCode::OrphanedLocal, None, vec![]).await;
    let admin = w.login("jane@salon.de").await;

    let (status, all) = w.rpc::<ListAppointments>(&admin, json!({ "query": {} })).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(ids(&all), vec![tom.id.get(), anna.id.get(), max.id.get()]);
    assert_eq!(all["total"], 3);
    assert_eq!(all["can_act"], true);
    let local = tom.starts_at.with_timezone(&chrono_tz::Europe::Berlin).format("%d.%m.%Y %H:%M").to_string();
    assert_eq!(all["rows"][0]["time"], local.as_str(), "German format in the org's time zone");

    for (query, expected) in [
        (json!({ "state": "orphaned_local" }), vec![tom.id.get()]),
        (json!({ "code": "ORPHANED_LOCAL" }), vec![tom.id.get()]),
        (json!({ "q": "schmidt" }), vec![anna.id.get()]),
        (json!({ "review": true }), vec![tom.id.get()]),
        (json!({ "desc": true }), vec![max.id.get(), anna.id.get(), tom.id.get()]),
        (json!({ "from": (start() + Duration::days(1)).date_naive().to_string() }), vec![anna.id.get(), max.id.get()]),
        (json!({ "to": start().date_naive().to_string() }), vec![tom.id.get()]),
    ] {
        let (_, page) = w.rpc::<ListAppointments>(&admin, json!({ "query": query })).await;
        assert_eq!(ids(&page), expected, "{query}");
    }

    // The same filter through the URL: the SSR page shows only the match.
    let (status, html) = w.page(&admin, "/appointments?state=orphaned_local").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tom Klein") && !html.contains("Anna Schmidt"), "{html}");
    assert!(html.contains("ORPHANED_LOCAL") && html.contains(r#"data-testid="retry-selected""#), "{html}");
    let (_, html) = w.page(&admin, "/appointments?q=nobody").await;
    assert!(html.contains("No appointments match this filter."), "{html}");

    // Pages of 25 with a cursor.
    for hour in 0..30 {
        w.appointment_at(w.org.id, &format!("Kunde {hour}"), None, 100 + hour).await;
    }
    let (_, first) = w.rpc::<ListAppointments>(&admin, json!({ "query": {} })).await;
    assert_eq!(first["rows"].as_array().unwrap().len(), 25);
    let after = first["next_after"].as_str().unwrap().to_owned();
    let (_, second) = w.rpc::<ListAppointments>(&admin, json!({ "query": { "after": after } })).await;
    assert_eq!(second["rows"].as_array().unwrap().len(), 8);
    assert!(second["next_after"].is_null());
});

on_both_backends!(an_orphans_review_shows_the_evidence_that_cal_com_has_no_booking, |db| async move {
    let w = world(db.store.clone()).await;
    let uid = w.seed(start(), "tom.klein@example.com");
    let a = w.appointment_at(w.org.id, "Tom Klein", Some(&uid), 0).await;
    let delivery = engine::store::NewDelivery {
        body_sha256: "0".repeat(64),
        trigger: "BOOKING_CREATED".into(),
        uid: Some(uid.clone()),
        previous_uid: None,
        sent_at: None,
    };
    w.store.store_delivery(w.org.id, &delivery, Utc::now()).await.unwrap();
    let client = w.state.connector.client(w.org.id).await.expect("connected to the simulator");
    w.state.verifier.verify_one(&w.org, &client, &a).await.unwrap();
    let admin = w.login("jane@salon.de").await;
    let (_, review) = w.rpc::<GetReview>(&admin, json!({ "id": a.id.get() })).await;
    assert_eq!(review["orphan_evidence"], Value::Null, "no evidence while Cal.com has it: {review}");

    assert!(w.sim.control().delete(&uid));
    for _ in 0..3 {
        w.state.verifier.verify_one(&w.org, &client, &w.reload(&a).await).await.unwrap();
    }
    assert_eq!(w.reload(&a).await.sync.status, SyncStatus::OrphanedLocal);
    let (status, review) = w.rpc::<GetReview>(&admin, json!({ "id": a.id.get() })).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    let evidence = &review["orphan_evidence"];
    let checks = evidence["checks"].as_array().unwrap_or_else(|| panic!("evidence for an orphan: {review}"));
    assert_eq!(checks.len(), 3, "the three misses since it was last found, not the check that found it: {evidence}");
    assert_eq!(checks[0]["attempt"], 3, "newest first");
    let asked = format!("asked Cal.com for booking {uid} alone; it answered 404 Not Found");
    assert!(checks.iter().all(|c| c["how"][0].as_str().unwrap().ends_with(&asked)), "{evidence}");
    let webhook = evidence["last_webhook"].as_str().unwrap();
    assert!(webhook.starts_with("BOOKING_CREATED received "), "{webhook}");
    assert!(webhook.ends_with(": not yet processed"), "{webhook}");

    let (_, html) = w.page(&admin, &format!("/appointments/{}", a.id)).await;
    assert!(html.contains(r#"data-testid="orphan-evidence""#) && html.contains(&asked), "{html}");
    assert!(html.contains(&format!("/deliveries?uid={uid}")), "a link to the booking's deliveries");
});

on_both_backends!(an_orphan_is_created_in_calcom_and_synced, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment_at(w.org.id, "Tom Klein", Some("deleted-in-calcom"), 0).await;
    w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    let admin = w.login("jane@salon.de").await;

    let (status, review) = w.rpc::<GetReview>(&admin, json!({ "id": a.id.get() })).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert_eq!(review["found_in_calcom"], false);
    assert!(review["actions"].as_array().unwrap().contains(&json!("create_in_calcom")), "{review}");

    let (status, done) = w
        .rpc::<ResolveAppointment>(&admin, json!({ "id": a.id.get(), "action": "create_in_calcom", "note": null }))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let a = w.reload(&a).await;
    let uid = a.calcom_booking_uid.clone().unwrap();
    assert_ne!(uid, "deleted-in-calcom");
    let booking = w.sim.control().booking(&uid).expect("the simulator has the booking");
    assert_eq!(booking.start, a.starts_at);
    assert_eq!(
        booking.end, a.ends_at,
        "ours ends when the booking Cal.com made does, so no phantom difference follows"
    );
    assert_eq!((a.sync.status, a.sync.requires_manual_review), (SyncStatus::Synced, false));
    let last = w.store.appointment_events(w.org.id, a.id).await.unwrap().remove(0);
    assert_eq!((last.kind, last.actor.as_str()), (EventKind::Resolution, "Jane Admin"));

    let (_, html) = w.page(&admin, &format!("/appointments/{}", a.id)).await;
    assert!(html.contains("Jane Admin") && html.contains("Created in Cal.com"), "history on the page: {html}");

    // The calls the resolution made are on the dashboard's API budget.
    let (_, summary) = w.rpc::<GetDashboardSummary>(&admin, json!({})).await;
    let budget = &summary["api_budget"];
    let total = budget["total"].as_u64().unwrap_or_else(|| panic!("{summary}"));
    assert!(total >= 2, "a listing of the minute and the booking itself: {budget}");
    let bars: u64 = budget["per_minute"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(bars, total, "{budget}");
    assert_eq!(budget["limit"], 120);
    let (_, html) = w.page(&admin, "/").await;
    assert!(html.contains("tile-api-budget") && html.contains(&format!("{total} calls to Cal.com")), "{html}");
});

on_both_backends!(a_mismatch_is_resolved_by_accepting_calcoms_version, |db| async move {
    let w = world(db.store.clone()).await;
    let moved = start() + Duration::hours(2);
    let uid = w.seed(moved, "tom.klein@example.com");
    let a = w.appointment_at(w.org.id, "Tom Klein", Some(&uid), 0).await;
    let theirs = RemoteBooking {
        uid: uid.clone(),
        status: RemoteStatus::Accepted,
        start: moved,
        end: moved + Duration::minutes(30),
        attendee_emails: vec!["tom.klein@example.com".into()],
        attendee_phones: vec![],
        rescheduled_to_uid: None,
        changed_at: Some(moved - Duration::days(1)),
        event_type_id: None,
    };
    let diffs = vec![Difference { field: "start".into(), ours: "ours".into(), calcom: "theirs".into() }];
    w.flag(&a, ErrorCode::DataMismatch, Some(&theirs), diffs).await;
    let admin = w.login("jane@salon.de").await;

    let (_, review) = w.rpc::<GetReview>(&admin, json!({ "id": a.id.get() })).await;
    let start_row = review["comparison"].as_array().unwrap().iter().find(|c| c["field"] == "start").unwrap().clone();
    assert_eq!(start_row["differs"], true, "{review}");
    let status_row = review["comparison"].as_array().unwrap().iter().find(|c| c["field"] == "status").unwrap().clone();
    assert_eq!(status_row["differs"], false, "{review}");
    // When each side last changed, in words and the organization's format.
    let changed =
        review["comparison"].as_array().unwrap().iter().find(|c| c["field"] == "last_changed").unwrap().clone();
    assert_eq!(changed["label"], "Last changed", "{review}");
    let local = w.org.local_format();
    assert_eq!(changed["calcom"], local.date_time(moved - Duration::days(1)), "{review}");
    assert_eq!(changed["ours"], local.date_time(w.reload(&a).await.updated_at), "{review}");
    let (_, html) = w.page(&admin, &format!("/appointments/{}", a.id)).await;
    assert!(html.contains(r#"data-testid="comparison""#) && html.contains(r#"data-differs="true""#), "{html}");
    assert!(html.contains("Last changed") && html.contains("Attendee email"), "fields named for people: {html}");

    let (status, done) =
        w.rpc::<ResolveAppointment>(&admin, json!({ "id": a.id.get(), "action": "accept_calcom" })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let a = w.reload(&a).await;
    assert_eq!(a.starts_at, moved, "Cal.com's time is ours now");
    assert_eq!(a.sync.status, SyncStatus::Synced);
    assert!(w.store.open_issues_for(w.org.id, &IssueSubject::Appointment(a.id)).await.unwrap().is_empty());
});

on_both_backends!(mark_resolved_needs_a_note_and_names_the_admin, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment_at(w.org.id, "Tom Klein", Some("gone"), 0).await;
    w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    let admin = w.login("jane@salon.de").await;

    let (status, refused) =
        w.rpc::<ResolveAppointment>(&admin, json!({ "id": a.id.get(), "action": "mark_resolved", "note": "  " })).await;
    assert_ne!(status, StatusCode::OK, "{refused}");
    let (status, done) = w
        .rpc::<ResolveAppointment>(
            &admin,
            json!({ "id": a.id.get(), "action": "mark_resolved", "note": "Customer cancelled by phone" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let row = sqlx::query(
        "SELECT actor, detail, result FROM sync_events WHERE org_id = $1 AND appointment_id = $2 AND kind = 'resolution'",
    )
    .bind(w.org.id.get())
    .bind(a.id.get())
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    assert_eq!(sqlx::Row::get::<String, _>(&row, "actor"), "Jane Admin");
    assert!(sqlx::Row::get::<String, _>(&row, "detail").contains("Customer cancelled by phone"));
    assert_eq!(sqlx::Row::get::<String, _>(&row, "result"), "marked_resolved");
    assert!(!w.reload(&a).await.sync.requires_manual_review);
    // The page keeps the closed issue with how, by whom and why.
    let (_, review) = w.rpc::<GetReview>(&admin, json!({ "id": a.id.get() })).await;
    assert_eq!(review["closed_issues"][0]["code"], "ORPHANED_LOCAL", "{review}");
    assert_eq!(review["closed_issues"][0]["how"], "Marked as resolved by Jane Admin: Customer cancelled by phone");
    let (_, html) = w.page(&admin, &format!("/appointments/{}", a.id)).await;
    assert!(html.contains("closed-issues") && html.contains("Customer cancelled by phone"), "{html}");
});

on_both_backends!(viewers_see_without_buttons_and_are_refused, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment_at(w.org.id, "Tom Klein", Some("gone"), 0).await;
    w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    let flagged = w.reload(&a).await;
    let viewer = w.login("vic@salon.de").await;

    let (status, review) = w.rpc::<GetReview>(&viewer, json!({ "id": a.id.get() })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(review["actions"], json!([]));
    for action in ["retry_verification", "create_in_calcom", "cancel_both", "mark_resolved"] {
        let (status, body) =
            w.rpc::<ResolveAppointment>(&viewer, json!({ "id": a.id.get(), "action": action, "note": "x" })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{action}: {body}");
    }
    let (status, _) = w.rpc::<RetryAppointments>(&viewer, json!({ "ids": [a.id.get()] })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = w.rpc::<ResolveBooking>(&viewer, json!({ "issue_id": 1, "action": "import" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(w.reload(&a).await, flagged, "nothing changed");

    let (_, html) = w.page(&viewer, &format!("/appointments/{}", a.id)).await;
    assert!(html.contains("Database information") && html.contains("Tom Klein"), "{html}");
    assert!(!html.contains(r#"data-testid="resolutions""#) && !html.contains("action-create-in-calcom"), "{html}");
    let (_, html) = w.page(&viewer, "/appointments").await;
    assert!(html.contains("Tom Klein") && !html.contains("retry-selected"), "{html}");
});

on_both_backends!(another_organizations_appointments_and_issues_are_not_found, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment_at(w.org.id, "Tom Klein", Some("gone"), 0).await;
    w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    let other = org(&w.store, "other", "Other Salon").await;
    user(&w.store, other.id, "bob@other.de", "Bob Other", Role::Admin).await;
    let bob = w.login("bob@other.de").await;

    let (status, body) = w.rpc::<GetReview>(&bob, json!({ "id": a.id.get() })).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another organization's appointment does not exist: {body}");
    assert!(body.to_string().contains("NotFound"), "{body}");
    let (status, body) = w.rpc::<ResolveAppointment>(&bob, json!({ "id": a.id.get(), "action": "cancel_both" })).await;
    assert!(status == StatusCode::NOT_FOUND && body.to_string().contains("NotFound"), "{body}");
    let (_, outcome) = w.rpc::<RetryAppointments>(&bob, json!({ "ids": [a.id.get()] })).await;
    assert_eq!(outcome, json!({ "changed": 0, "skipped": 1 }));
    let (_, list) = w.rpc::<ListAppointments>(&bob, json!({ "query": {} })).await;
    assert_eq!(list["total"], 0);
    let (_, queue) = w.rpc::<GetReviewQueue>(&bob, json!({ "query": {} })).await;
    assert_eq!(queue["items"], json!([]));
    let (_, html) = w.page(&bob, &format!("/appointments/{}", a.id)).await;
    assert!(html.contains("Appointment not found.") && !html.contains("Tom Klein"), "{html}");
    assert_eq!(w.reload(&a).await.status, AppointmentStatus::Scheduled);
});

/// The dashboard's ORPHANED_CALCOM count.
async fn orphaned_calcom_tile(w: &World, cookie: &str) -> i64 {
    let (_, summary) = w.rpc::<GetDashboardSummary>(cookie, json!({})).await;
    summary["counts"]["orphaned_calcom"].as_i64().unwrap_or_else(|| panic!("{summary}"))
}

on_both_backends!(orphaned_calcom_bookings_are_imported_or_marked_resolved, |db| async move {
    let w = world(db.store.clone()).await;
    let admin = w.login("jane@salon.de").await;
    let mut issues = Vec::new();
    for (hours, email) in [(5, "walk.in@example.com"), (6, "spam@example.com")] {
        let at = start() + Duration::hours(hours);
        let uid = w.seed(at, email);
        let snapshot = RemoteBooking {
            uid: uid.clone(),
            status: RemoteStatus::Accepted,
            start: at,
            end: at + Duration::minutes(30),
            attendee_emails: vec![email.into()],
            attendee_phones: vec![],
            rescheduled_to_uid: None,
            changed_at: None,
            event_type_id: None,
        };
        let issue = NewIssue {
            code: ErrorCode::OrphanedCalcom,
            subject: IssueSubject::CalcomBooking { uid: uid.clone() },
            calcom_snapshot: Some(serde_json::to_string(&snapshot).unwrap()),
            differences: None,
            detail: Some("Only in Cal.com".into()),
        };
        issues.push((w.store.open_issue(w.org.id, &issue, Utc::now()).await.unwrap().id(), uid));
    }
    let (_, queue) = w.rpc::<GetReviewQueue>(&admin, json!({ "query": {} })).await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 2, "{queue}");
    assert_eq!(orphaned_calcom_tile(&w, &admin).await, 2, "the dashboard tile counts Cal.com-only bookings");
    assert_eq!(queue["items"][0]["attendee"], "walk.in@example.com");
    let (_, html) = w.page(&admin, "/review").await;
    assert!(html.contains(&format!("import-{}", issues[0].0)) && html.contains("ORPHANED_CALCOM"), "{html}");

    let (status, done) =
        w.rpc::<ResolveBooking>(&admin, json!({ "issue_id": issues[0].0.get(), "action": "import" })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let imported = w.store.appointments_by_booking_uid(w.org.id, &issues[0].1).await.unwrap();
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0].sync.status, SyncStatus::Synced);
    assert_eq!(done["appointment_id"], imported[0].id.get());

    let (status, done) = w
        .rpc::<ResolveBooking>(
            &admin,
            json!({ "issue_id": issues[1].0.get(), "action": "mark_resolved", "note": "Test booking" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (_, queue) = w.rpc::<GetReviewQueue>(&admin, json!({ "query": {} })).await;
    assert_eq!(queue["items"], json!([]));
    assert_eq!(orphaned_calcom_tile(&w, &admin).await, 0);
    let row = sqlx::query(
        "SELECT actor FROM sync_events WHERE org_id = $1 AND appointment_id IS NULL AND kind = 'resolution'",
    )
    .bind(w.org.id.get())
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    assert_eq!(sqlx::Row::get::<String, _>(&row, "actor"), "Jane Admin");
    let audit = w.store.audit_log(w.org.id, 10).await.unwrap();
    let entry =
        audit.iter().find(|e| e.action.as_str() == "booking.mark_resolved").expect("the hand-made close is audited");
    assert_eq!(entry.target.as_deref(), Some(issues[1].1.as_str()));
    assert_eq!(entry.detail.as_deref(), Some("Test booking"));
    let (_, html) = w.page(&admin, "/review").await;
    assert!(html.contains("Nothing to review"), "{html}");
});

on_both_backends!(bulk_retry_reports_changed_and_skipped, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment_at(w.org.id, "Tom Klein", Some("gone"), 0).await;
    let b = w.appointment_at(w.org.id, "Anna Schmidt", None, 1).await;
    w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    let admin = w.login("jane@salon.de").await;
    let (status, outcome) =
        w.rpc::<RetryAppointments>(&admin, json!({ "ids": [a.id.get(), b.id.get(), 999_999] })).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome, json!({ "changed": 2, "skipped": 1 }));
    assert_eq!(w.reload(&a).await.sync.status, SyncStatus::VerificationPending);
    let (_, again) = w.rpc::<RetryAppointments>(&admin, json!({ "ids": [a.id.get()] })).await;
    assert_eq!(again, json!({ "changed": 0, "skipped": 1 }), "already queued");
});

on_both_backends!(csv_export_follows_the_filter_escapes_and_stays_in_the_org, |db| async move {
    let w = world(db.store.clone()).await;
    let tom = w.appointment_at(w.org.id, "Klein, Tom \"TK\"", Some("gone"), 0).await;
    w.appointment_at(w.org.id, "=HYPERLINK(\"x\")", None, 1).await;
    w.flag(&tom, ErrorCode::OrphanedLocal, None, vec![]).await;
    let other = org(&w.store, "other", "Other Salon").await;
    user(&w.store, other.id, "bob@other.de", "Bob Other", Role::Admin).await;
    w.appointment_at(other.id, "Secret Customer", None, 0).await;
    let admin = w.login("jane@salon.de").await;

    let response = w.http.get(format!("{}/appointments.csv", w.base)).header(COOKIE, &admin).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,customer,email"));
    assert!(lines[1].contains("\"Klein, Tom \"\"TK\"\"\""), "{csv}");
    assert!(lines[1].contains("ORPHANED_LOCAL"), "{csv}");
    assert!(lines[2].contains("\"'=HYPERLINK(\"\"x\"\")\""), "formula defused: {csv}");
    assert!(!csv.contains("Secret Customer"), "{csv}");

    let (_, csv) = w.page(&admin, "/appointments.csv?code=ORPHANED_LOCAL").await;
    assert_eq!(csv.lines().count(), 2, "{csv}");

    let bob = w.login("bob@other.de").await;
    let (_, csv) = w.page(&bob, "/appointments.csv").await;
    assert!(csv.contains("Secret Customer") && !csv.contains("Klein"), "{csv}");

    let anonymous = w.http.get(format!("{}/appointments.csv", w.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "no session, no data");
});

/// The audit log's triage entries, newest first (logins are audited too).
async fn issue_audit(w: &World) -> Vec<String> {
    let entries = w.store.audit_log(w.org.id, 50).await.unwrap();
    entries.into_iter().map(|e| e.action.to_string()).filter(|a| a.starts_with("issue.")).collect()
}

/// The queue's rows for `query`.
async fn queue_rows(w: &World, cookie: &str, query: Value) -> Vec<Value> {
    let (status, queue) = w.rpc::<GetReviewQueue>(cookie, json!({ "query": query })).await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    queue["items"].as_array().unwrap().clone()
}

on_both_backends!(admins_acknowledge_assign_and_ignore_issues_in_the_queue, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment_at(w.org.id, "Tom Klein", Some("gone"), 0).await;
    w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    let admin = w.login("jane@salon.de").await;
    let rows = queue_rows(&w, &admin, json!({})).await;
    let issue = rows[0]["issue_id"].as_i64().unwrap();
    assert_eq!((rows[0]["state"].as_str(), rows[0]["assignee"].is_null()), (Some("open"), true), "{rows:?}");
    let (_, html) = w.page(&admin, "/review").await;
    assert!(html.contains(&format!("ack-{issue}")) && html.contains(&format!("ignore-{issue}")), "{html}");

    let (status, done) = w.rpc::<TriageIssue>(&admin, json!({ "issue_id": issue, "request": "acknowledge" })).await;
    assert_eq!(
        (status, done["message"].as_str()),
        (StatusCode::OK, Some(format!("Issue #{issue} acknowledged").as_str()))
    );
    let (status, again) = w.rpc::<TriageIssue>(&admin, json!({ "issue_id": issue, "request": "acknowledge" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(again.to_string().contains("already acknowledged"), "{again}");

    let (_, queue) = w.rpc::<GetReviewQueue>(&admin, json!({ "query": {} })).await;
    let me = queue["me"].as_i64().unwrap();
    assert_eq!(queue["assignees"], json!([{ "id": me, "name": "Jane Admin" }]), "viewers cannot take issues");
    assert!(queue_rows(&w, &admin, json!({ "mine": true })).await.is_empty());
    let (status, _) = w.rpc::<TriageIssue>(&admin, json!({ "issue_id": issue, "request": { "assign": me } })).await;
    assert_eq!(status, StatusCode::OK);
    let mine = queue_rows(&w, &admin, json!({ "mine": true })).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["state"], "acknowledged");
    assert!(mine[0]["state_note"].as_str().unwrap().starts_with("by Jane Admin, "), "{mine:?}");
    assert_eq!(mine[0]["assignee"]["name"], "Jane Admin");

    // Bad input is refused with the field and the rule, and changes nothing.
    for (limit, field) in [(json!({ "until": "2001-01-01" }), "until"), (json!({ "times": 0 }), "times")] {
        let request = json!({ "ignore": { "reason": "known", "limit": limit } });
        let (status, body) = w.rpc::<TriageIssue>(&admin, json!({ "issue_id": issue, "request": request })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains(field), "{body}");
    }
    let request = json!({ "ignore": { "reason": " ", "limit": "further_notice" } });
    let (status, _) = w.rpc::<TriageIssue>(&admin, json!({ "issue_id": issue, "request": request })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(queue_rows(&w, &admin, json!({})).await.len(), 1);

    let request = json!({ "ignore": { "reason": "customer moved it by phone", "limit": { "times": 2 } } });
    let (status, done) = w.rpc::<TriageIssue>(&admin, json!({ "issue_id": issue, "request": request })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(queue_rows(&w, &admin, json!({})).await.is_empty(), "out of the default view");
    let ignored = queue_rows(&w, &admin, json!({ "show": "ignored" })).await;
    assert_eq!(ignored[0]["state"], "ignored");
    assert_eq!(ignored[0]["state_note"], "for 2 more occurrences by Jane Admin: customer moved it by phone");
    let (_, html) = w.page(&admin, "/review?show=ignored").await;
    assert!(html.contains(&format!("unignore-{issue}")), "{html}");

    let actions: Vec<String> = issue_audit(&w).await;
    assert_eq!(actions, ["issue.ignore", "issue.assign", "issue.acknowledge"], "every step: audited");
    let (_, audit) = w.page(&admin, "/audit").await;
    assert!(audit.contains("issue.ignore") && audit.contains("customer moved it by phone"), "{audit}");
});

on_both_backends!(viewers_and_other_organizations_cannot_triage, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment_at(w.org.id, "Tom Klein", Some("gone"), 0).await;
    w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    let viewer = w.login("vic@salon.de").await;
    let rows = queue_rows(&w, &viewer, json!({})).await;
    let issue = rows[0]["issue_id"].as_i64().unwrap();
    let (status, _) = w.rpc::<TriageIssue>(&viewer, json!({ "issue_id": issue, "request": "acknowledge" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, html) = w.page(&viewer, "/review").await;
    assert!(!html.contains(&format!("ack-{issue}")), "no triage buttons for viewers");

    let other = org(&w.store, "other", "Other").await;
    user(&w.store, other.id, "bob@other.de", "Bob", Role::Admin).await;
    let bob = w.login("bob@other.de").await;
    let (status, _) = w.rpc::<TriageIssue>(&bob, json!({ "issue_id": issue, "request": "acknowledge" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let admin = w.login("jane@salon.de").await;
    let bob_id = w.store.user_by_email("bob@other.de").await.unwrap().unwrap().id.get();
    let (status, _) = w.rpc::<TriageIssue>(&admin, json!({ "issue_id": issue, "request": { "assign": bob_id } })).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an admin of another organization is nobody here");
    assert_eq!(queue_rows(&w, &admin, json!({})).await[0]["state"], "open");
    assert!(issue_audit(&w).await.is_empty(), "refused steps leave no trace");
});

on_both_backends!(a_problem_that_comes_back_is_shown_as_a_regression, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment_at(w.org.id, "Tom Klein", Some("gone"), 0).await;
    w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    let subject = IssueSubject::Appointment(a.id);
    for _ in 0..2 {
        w.store
            .resolve_issues_for(w.org.id, &subject, engine::store::Resolution::AutoResolved, None, None, Utc::now())
            .await
            .unwrap();
        w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    }
    let admin = w.login("jane@salon.de").await;
    let rows = queue_rows(&w, &admin, json!({})).await;
    assert_eq!(rows.len(), 1, "one row, not three: {rows:?}");
    assert_eq!(rows[0]["regressions"], 2);
    let issue = rows[0]["issue_id"].as_i64().unwrap();
    let (_, html) = w.page(&admin, "/review").await;
    assert!(html.contains(&format!("regressed-{issue}")) && html.contains("Regressed ×2"), "{html}");
    let (_, summary) = w.rpc::<GetDashboardSummary>(&admin, json!({})).await;
    assert_eq!(
        (summary["open_reviews"].as_i64(), summary["oldest_review"]["age"].as_str(), summary["regressions"].as_i64()),
        (Some(1), Some("under a minute"), Some(1)),
        "counted as a regression among the open reviews"
    );
    let (_, html) = w.page(&admin, "/").await;
    assert!(html.contains("1 of them is a regression: closed before, back again."), "{html}");
    assert_eq!(summary["oldest_review"]["href"], format!("/appointments/{}", a.id), "the oldest is linked");
});

on_both_backends!(a_cal_com_only_booking_is_linked_to_the_appointment_it_probably_is, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment_at(w.org.id, "Tom Klein", Some("gone"), 0).await;
    w.flag(&a, ErrorCode::OrphanedLocal, None, vec![]).await;
    // He booked again in Cal.com, five minutes later, with the same phone.
    let at = a.starts_at + Duration::minutes(5);
    let snapshot = RemoteBooking {
        uid: "rebooked".into(),
        status: RemoteStatus::Accepted,
        start: at,
        end: at + Duration::minutes(30),
        attendee_emails: vec!["tk@example.org".into()],
        attendee_phones: vec!["+49 (123) 456-789".into()],
        rescheduled_to_uid: None,
        changed_at: None,
        event_type_id: None,
    };
    let issue = NewIssue {
        code: ErrorCode::OrphanedCalcom,
        subject: IssueSubject::CalcomBooking { uid: "rebooked".into() },
        calcom_snapshot: Some(serde_json::to_string(&snapshot).unwrap()),
        differences: None,
        detail: None,
    };
    let issue = w.store.open_issue(w.org.id, &issue, Utc::now()).await.unwrap().id().get();
    let admin = w.login("jane@salon.de").await;
    let rows = queue_rows(&w, &admin, json!({})).await;
    let row = rows.iter().find(|r| r["issue_id"] == issue).unwrap();
    let suggestion = &row["suggestions"][0];
    assert_eq!(suggestion["appointment_id"], a.id.get());
    assert_eq!(
        suggestion["reasons"],
        "same phone number, Cal.com's starts 5 min later, its own booking is gone from Cal.com"
    );
    let (_, html) = w.page(&admin, "/review").await;
    assert!(html.contains(&format!("link-{issue}-{}", a.id)), "{html}");

    // The appointment's review page offers the same booking, by the same rule.
    let (status, review) = w.rpc::<GetReview>(&admin, json!({ "id": a.id.get() })).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert_eq!(review["links"].as_array().unwrap().len(), 1, "{review}");
    assert_eq!(review["links"][0]["issue_id"], issue);
    assert_eq!(review["links"][0]["booking_uid"], "rebooked");
    assert_eq!(review["links"][0]["reasons"], suggestion["reasons"]);
    let (_, html) = w.page(&admin, &format!("/appointments/{}", a.id)).await;
    assert!(html.contains(&format!("link-booking-{issue}")), "{html}");
    let viewer = w.login("vic@salon.de").await;
    let (_, html) = w.page(&viewer, &format!("/appointments/{}", a.id)).await;
    assert!(html.contains(&format!("booking-link-{issue}")), "viewers see the suggestion: {html}");
    assert!(!html.contains(&format!("link-booking-{issue}")), "but get no button: {html}");
    // Another appointment of his, with a live booking of its own, is not offered it.
    let other = w.appointment_at(w.org.id, "Tom Klein", Some("kept"), 0).await;
    let (_, review) = w.rpc::<GetReview>(&admin, json!({ "id": other.id.get() })).await;
    assert_eq!(review["links"], json!([]), "{review}");

    let link = json!({ "issue_id": issue, "action": { "link": a.id.get() } });
    let (status, _) = w.rpc::<ResolveBooking>(&viewer, link.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, done) = w.rpc::<ResolveBooking>(&admin, link.clone()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["message"], format!("Appointment #{} linked to Cal.com booking rebooked", a.id));
    let linked = w.reload(&a).await;
    assert_eq!(linked.calcom_booking_uid.as_deref(), Some("rebooked"));
    assert_eq!(linked.sync.status, SyncStatus::VerificationPending);
    assert!(queue_rows(&w, &admin, json!({})).await.is_empty(), "both issues closed");
    let (status, again) = w.rpc::<ResolveBooking>(&admin, link).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
});

type GetIssueGroups = app::rpc::triage::GetIssueGroups;
type ActOnGroup = app::rpc::triage::ActOnGroup;

on_both_backends!(a_group_of_issues_is_acknowledged_and_resolved_after_its_count_is_rechecked, |db| async move {
    let w = world(db.store.clone()).await;
    let mut members = Vec::new();
    for (i, name) in ["Tom Klein", "Anna Schmidt", "Lisa Wagner"].into_iter().enumerate() {
        let a = w.appointment_at(w.org.id, name, Some(&format!("u{i}")), i as i64).await;
        w.flag(&a, ErrorCode::VerificationError, None, vec![]).await;
        members.push(a);
    }
    let orphan = w.appointment_at(w.org.id, "Jens Vogel", Some("gone"), 5).await;
    w.flag(&orphan, ErrorCode::OrphanedLocal, None, vec![]).await;
    let admin = w.login("jane@salon.de").await;

    let (status, found) = w.rpc::<GetIssueGroups>(&admin, json!({ "query": { "group": true } })).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let groups: Vec<(Value, Value, Value)> = found["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["code"].clone(), g["reason"].clone(), g["count"].clone()))
        .collect();
    assert_eq!(
        groups,
        [
            (json!("VERIFICATION_ERROR"), json!("VERIFICATION_ERROR detected"), json!(3)),
            (json!("ORPHANED_LOCAL"), Value::Null, json!(1)),
        ]
    );
    let (_, html) = w.page(&admin, "/review?group=cause").await;
    assert!(html.contains("group-0-ack") && html.contains(">3 issues<"), "{html}");
    assert!(!html.contains("data-testid=\"review-queue\""), "grouped, not one row per issue: {html}");

    let shown = found["groups"][0]["members"].clone();
    assert_eq!(shown["count"], 3, "{found}");
    let group = |members: &Value| json!({ "code": "VERIFICATION_ERROR", "reason": "VERIFICATION_ERROR detected", "query": {}, "members": members });
    let two = json!({ "count": 2, "id_sum": 3, "id_square_sum": 5 });
    let (status, body) = w.rpc::<ActOnGroup>(&admin, json!({ "group": group(&two), "request": "acknowledge" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("The group now has 3 issues, not the 2 you confirmed"), "{body}");
    // As many members, but not the ones listed: also refused.
    let others = json!({ "count": 3, "id_sum": shown["id_sum"].as_i64().unwrap() + 1, "id_square_sum": 0 });
    let (status, body) =
        w.rpc::<ActOnGroup>(&admin, json!({ "group": group(&others), "request": "acknowledge" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("The group now holds other issues than the 3 you confirmed"), "{body}");

    let viewer = w.login("vic@salon.de").await;
    let (status, _) = w.rpc::<ActOnGroup>(&viewer, json!({ "group": group(&shown), "request": "acknowledge" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, html) = w.page(&viewer, "/review?group=cause").await;
    assert!(html.contains("group-0") && !html.contains("group-0-ack"), "viewers see groups, no buttons: {html}");
    let other = org(&w.store, "other", "Other Salon").await;
    user(&w.store, other.id, "bob@other.de", "Bob Other", Role::Admin).await;
    let bob = w.login("bob@other.de").await;
    let (status, body) = w.rpc::<ActOnGroup>(&bob, json!({ "group": group(&shown), "request": "acknowledge" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "another organization has no such group: {body}");

    let (status, done) = w.rpc::<ActOnGroup>(&admin, json!({ "group": group(&shown), "request": "acknowledge" })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["message"], "3 issues of VERIFICATION_ERROR · VERIFICATION_ERROR detected acknowledged");
    let rows = queue_rows(&w, &admin, json!({})).await;
    let acknowledged = rows.iter().filter(|r| r["code"] == "VERIFICATION_ERROR" && r["state"] == "acknowledged");
    assert_eq!(acknowledged.count(), 3, "{rows:?}");
    let (status, done) =
        w.rpc::<ActOnGroup>(&admin, json!({ "group": group(&shown), "request": "assign_to_me" })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(queue_rows(&w, &admin, json!({ "mine": true })).await.len(), 3);

    let resolve = |note: &str| json!({ "group": group(&shown), "request": { "mark_resolved": { "note": note } } });
    let (status, body) = w.rpc::<ActOnGroup>(&admin, resolve(" ")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, done) = w.rpc::<ActOnGroup>(&admin, resolve("Cal.com outage, all rechecked")).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let rows = queue_rows(&w, &admin, json!({})).await;
    assert_eq!(rows.len(), 1, "only the orphan is left: {rows:?}");
    for a in &members {
        let a = w.reload(a).await;
        assert!(!a.sync.requires_manual_review, "{a:?}");
    }
    let audit = w.store.audit_log(w.org.id, 20).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).filter(|a| a.starts_with("issue.")).collect();
    assert_eq!(actions, ["issue.mark_resolved", "issue.assign", "issue.acknowledge"], "one entry per group step");
});

on_both_backends!(the_failures_of_one_cal_com_outage_are_one_group_named_by_its_time, |db| async move {
    let w = world(db.store.clone()).await;
    let began = Utc::now() - Duration::minutes(40);
    w.store.outage_began(w.org.id, began).await.unwrap();
    for (i, name) in ["Tom Klein", "Anna Schmidt"].into_iter().enumerate() {
        let a = w.appointment_at(w.org.id, name, Some(&format!("u{i}")), i as i64).await;
        w.flag(&a, ErrorCode::VerificationError, None, vec![]).await;
    }
    let ended = Utc::now();
    w.store.outage_ended(w.org.id, ended).await.unwrap();
    let after = w.appointment_at(w.org.id, "Lisa Wagner", Some("u9"), 9).await;
    w.flag(&after, ErrorCode::VerificationError, None, vec![]).await;
    let admin = w.login("jane@salon.de").await;

    let (status, found) = w.rpc::<GetIssueGroups>(&admin, json!({ "query": { "group": true } })).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let cause = format!("Cal.com outage {}", w.org.local_format().range(began, ended));
    let outage = &found["groups"][0];
    assert_eq!((&outage["cause"], &outage["count"], &outage["reason"]), (&json!(cause), &json!(2), &Value::Null));
    assert!(outage["outage"].is_i64(), "{found}");
    let apart = &found["groups"][1];
    assert_eq!((&apart["cause"], &apart["count"]), (&json!("VERIFICATION_ERROR detected"), &json!(1)), "{found}");
    let (_, html) = w.page(&admin, "/review?group=cause").await;
    assert!(html.contains(&cause), "{html}");

    let group = json!({ "code": "VERIFICATION_ERROR", "reason": null, "outage": outage["outage"], "query": {}, "members": outage["members"] });
    let (status, done) = w.rpc::<ActOnGroup>(&admin, json!({ "group": group, "request": "acknowledge" })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["message"], format!("2 issues of VERIFICATION_ERROR · {cause} acknowledged"));
    let rows = queue_rows(&w, &admin, json!({})).await;
    let acknowledged: Vec<&Value> =
        rows.iter().filter(|r| r["state"] == "acknowledged").map(|r| &r["customer"]).collect();
    assert_eq!(acknowledged.len(), 2, "the outage's two, not the failure after it: {rows:?}");
});

on_both_backends!(a_group_is_ignored_with_one_reason_and_brought_back, |db| async move {
    let w = world(db.store.clone()).await;
    for (i, name) in ["Tom Klein", "Anna Schmidt"].into_iter().enumerate() {
        let a = w.appointment_at(w.org.id, name, Some(&format!("u{i}")), i as i64).await;
        w.flag(&a, ErrorCode::VerificationError, None, vec![]).await;
    }
    let admin = w.login("jane@salon.de").await;
    let (_, found) = w.rpc::<GetIssueGroups>(&admin, json!({ "query": { "group": true } })).await;
    let shown = found["groups"][0]["members"].clone();
    let group = |show: &str| json!({ "code": "VERIFICATION_ERROR", "reason": "VERIFICATION_ERROR detected", "query": { "show": show }, "members": shown });
    let ignore = |reason: &str, limit: Value| json!({ "ignore": { "reason": reason, "limit": limit } });

    // The same rules as for one issue: a reason is required, a count must be at least 1.
    let (status, body) = w
        .rpc::<ActOnGroup>(
            &admin,
            json!({ "group": group("attention"), "request": ignore(" ", json!("further_notice")) }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = w
        .rpc::<ActOnGroup>(
            &admin,
            json!({ "group": group("attention"), "request": ignore("flaky", json!({ "times": 0 })) }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(queue_rows(&w, &admin, json!({})).await.len(), 2, "nothing ignored by a refused step");

    let request = ignore("Cal.com maintenance window", json!({ "times": 2 }));
    let (status, done) = w.rpc::<ActOnGroup>(&admin, json!({ "group": group("attention"), "request": request })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let said = done["message"].as_str().unwrap();
    assert!(said.starts_with("2 issues of VERIFICATION_ERROR · VERIFICATION_ERROR detected ignored "), "{said}");
    assert!(said.ends_with(": Cal.com maintenance window"), "{said}");
    assert!(queue_rows(&w, &admin, json!({})).await.is_empty(), "out of the queue");
    let ignored = queue_rows(&w, &admin, json!({ "show": "ignored" })).await;
    assert_eq!(ignored.iter().filter(|r| r["state"] == "ignored").count(), 2, "{ignored:?}");
    let (_, html) = w.page(&admin, "/review?group=cause&show=ignored").await;
    assert!(html.contains("group-0-unignore") && !html.contains("group-0-ack"), "{html}");
    let (_, html) = w.page(&admin, "/review?group=cause").await;
    assert!(!html.contains("group-0-unignore"), "{html}");

    let (status, done) =
        w.rpc::<ActOnGroup>(&admin, json!({ "group": group("ignored"), "request": "stop_ignoring" })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["message"], "2 issues of VERIFICATION_ERROR · VERIFICATION_ERROR detected back in the queue");
    assert_eq!(queue_rows(&w, &admin, json!({})).await.len(), 2);
    let audit = w.store.audit_log(w.org.id, 20).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).filter(|a| a.starts_with("issue.")).collect();
    assert_eq!(actions, ["issue.unignore", "issue.ignore"], "one entry per group step, none for the refusals");
});

type ResolveAllMatching = app::rpc::appointments::ResolveAllMatching;
type GetRun = app::rpc::runs::GetRun;

on_both_backends!(resolve_all_matching_closes_the_filters_reviews_as_a_run_with_each_result, |db| async move {
    let w = world(db.store.clone()).await;
    let tom = w.appointment_at(w.org.id, "Tom Klein", Some("u1"), 0).await;
    let anna = w.appointment_at(w.org.id, "Anna Schmidt", Some("u2"), 1).await;
    for a in [&tom, &anna] {
        w.flag(a, ErrorCode::DataMismatch, None, vec![]).await;
    }
    let (admin, viewer) = (w.login("jane@salon.de").await, w.login("vic@salon.de").await);
    let query = json!({ "code": "DATA_MISMATCH" });
    let (_, page) = w.rpc::<ListAppointments>(&admin, json!({ "query": query })).await;
    let shown = page["members"].clone();
    assert_eq!((&shown["count"], &page["total"]), (&json!(2), &json!(2)), "{page}");
    let ask = |note: &str| json!({ "query": query, "expected": shown, "note": note });

    let (status, _) = w.rpc::<ResolveAllMatching>(&viewer, ask("Rechecked by phone")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = w.rpc::<ResolveAllMatching>(&admin, ask("  ")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let stale = json!({ "query": query, "expected": { "count": 2, "id_sum": 1, "id_square_sum": 1 }, "note": "x" });
    let (status, body) = w.rpc::<ResolveAllMatching>(&admin, stale).await;
    assert_eq!(status, StatusCode::CONFLICT, "the same count, other members: {body}");
    let (status, started) = w.rpc::<ResolveAllMatching>(&admin, ask("Rechecked by phone")).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!((&started["action"], &started["count"]), (&json!("resolution"), &json!(2)));
    assert!(w.reload(&tom).await.sync.requires_manual_review, "queued for the worker, not done in the request");

    // Anna is resolved by hand before the run reaches her: it leaves her be.
    let by_hand = json!({ "id": anna.id.get(), "action": "mark_resolved", "note": "Called her" });
    assert_eq!(w.rpc::<ResolveAppointment>(&admin, by_hand).await.0, StatusCode::OK);
    w.state.worker(std::time::Duration::from_secs(60)).tick().await.unwrap();

    let run = started["run_id"].clone();
    let (status, detail) = w.rpc::<GetRun>(&viewer, json!({ "id": run, "show": "all", "after": null })).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["run"]["kind"], "Resolution of matching appointments", "{detail}");
    assert_eq!((&detail["run"]["status"], &detail["run"]["note"]), (&json!("succeeded"), &json!("Rechecked by phone")));
    assert_eq!(
        detail["bulk"]["tally"],
        json!([["all", 2], ["resolved", 1], ["not_in_review", 1], ["gone", 0], ["pending", 0]])
    );
    let results: Vec<(&str, &str)> = detail["bulk"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["customer"].as_str().unwrap(), i["result"].as_str().unwrap()))
        .collect();
    assert_eq!(results, [("Tom Klein", "resolved"), ("Anna Schmidt", "not_in_review")]);
    assert!(!w.reload(&tom).await.sync.requires_manual_review);
    let history = w.store.appointment_events(w.org.id, tom.id).await.unwrap();
    let line = history.iter().find(|e| e.kind == EventKind::Resolution).expect("Tom's history says so");
    assert_eq!(
        (line.actor.as_str(), line.detail.as_deref()),
        ("Jane Admin", Some("Marked as resolved: Rechecked by phone"))
    );
    let (_, html) = w.page(&viewer, &format!("/runs/{run}")).await;
    assert!(html.contains(r#"data-testid="run-note">Rechecked by phone<"#), "{html}");
    assert!(html.contains("Needed no review, left alone"), "{html}");
    let audit = w.store.audit_log(w.org.id, 5).await.unwrap();
    let asked = audit.iter().find(|e| e.action.as_str() == "appointments.resolve_matching").expect("audited");
    assert_eq!(
        asked.detail.as_deref(),
        Some("resolution of 2 appointments matching code DATA_MISMATCH: Rechecked by phone")
    );
});

// Larger than a page: the export streams page after page (no length known
// up front), every appointment once, in the list's order.
on_both_backends!(a_csv_export_of_many_pages_streams_every_appointment_once, |db| async move {
    let w = world(db.store.clone()).await;
    w.appointment_at(w.org.id, "Kunde", None, 0).await;
    let copy = "INSERT INTO appointments (org_id, customer_name, service, starts_at, ends_at, time_zone, status, \
                source, sync_status, created_at, updated_at) \
                SELECT org_id, customer_name, service, starts_at, ends_at, time_zone, status, source, sync_status, \
                created_at, updated_at FROM appointments WHERE org_id = $1";
    let pages = server::http::export::PAGE as usize;
    while w.store.count_appointments(w.org.id, &Default::default()).await.unwrap() <= 2 * pages as i64 {
        sqlx::query(copy).bind(w.org.id.get()).execute(w.store.pool()).await.unwrap();
    }
    let total = w.store.count_appointments(w.org.id, &Default::default()).await.unwrap() as usize;
    let admin = w.login("jane@salon.de").await;
    let response = w.http.get(format!("{}/appointments.csv", w.base)).header(COOKIE, &admin).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("content-length").is_none(), "streamed, not built whole first");
    let csv = response.text().await.unwrap();
    let ids: Vec<&str> = csv.lines().skip(1).map(|line| line.split(',').next().unwrap()).collect();
    assert_eq!(ids.len(), total, "every appointment, across {} pages", total.div_ceil(pages));
    let distinct: std::collections::HashSet<&&str> = ids.iter().collect();
    assert_eq!(distinct.len(), total, "none twice at a page boundary");
});
