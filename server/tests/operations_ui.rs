//! The operator's screens over real HTTP on both databases: the dashboard's
//! figures and Cal.com health, "retry all failed", the runs page with "run
//! now" executed by the worker, and the 30-day metrics. Viewers may look
//! but not act; another organization sees none of it.

mod support;

use calcom_sim::SeedBooking;
use chrono::{Duration, Utc};
use engine::calcom::NewAttendee;
use engine::domain::{ErrorCode, Role, SyncStatus};
use engine::on_both_backends;
use engine::store::{Appointment, EventKind, IssueSubject, NewIssue, NewSyncEvent, Resolution, SyncState};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{world, World, ADMIN, VIEWER};

type GetDashboardSummary = app::rpc::dashboard::GetDashboardSummary;
type RetryAllFailed = app::rpc::dashboard::RetryAllFailed;
type RetryAllMatching = app::rpc::appointments::RetryAllMatching;
type PlanRetryFailed = app::rpc::dashboard::PlanRetryFailed;
type PlanRetryMatching = app::rpc::appointments::PlanRetryMatching;
type ListRuns = app::rpc::runs::ListRuns;
type GetRun = app::rpc::runs::GetRun;
type RunNow = app::rpc::runs::RunNow;
type GetSyncMetrics = app::rpc::metrics::GetSyncMetrics;

/// Records one verification of `a` with `result` as the verifier would.
async fn verified(w: &World, a: &Appointment, result: &str, duration_ms: i64) {
    let event = NewSyncEvent {
        appointment_id: Some(a.id),
        kind: EventKind::Verification,
        result: Some(result.into()),
        attempt: Some(1),
        duration_ms: Some(duration_ms),
        detail: None,
        technical: None,
        actor: "system".into(),
        actor_user_id: None,
        at: Utc::now(),
    };
    w.store.record_event(a.org_id, &event).await.unwrap();
}

async fn set_status(w: &World, a: &Appointment, status: SyncStatus, code: Option<ErrorCode>) {
    let state = SyncState {
        status,
        error_code: code,
        error_detail: code.map(|c| format!("{c} detected")),
        attempts: 1,
        last_verified_at: Some(Utc::now()),
        next_verification_at: Some(Utc::now() + Duration::hours(6)),
        requires_manual_review: false,
    };
    let event = NewSyncEvent {
        appointment_id: Some(a.id),
        kind: EventKind::Updated,
        result: None,
        attempt: None,
        duration_ms: None,
        detail: Some("arranged by the test".into()),
        technical: None,
        actor: "test".into(),
        actor_user_id: None,
        at: Utc::now(),
    };
    w.store.set_sync_state(a.org_id, a.id, &state, &event).await.unwrap();
}

async fn health(w: &World, cookie: &str) -> Value {
    let (status, summary) = w.rpc::<GetDashboardSummary>(cookie, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    summary
}

on_both_backends!(the_dashboard_shows_schedule_and_calcom_health, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment(w.org.id, "Tom Klein", Some("uid-1"), 2).await;
    let admin = w.login(ADMIN).await;

    let summary = health(&w, &admin).await;
    assert_eq!(summary["health"], "healthy", "{summary}");
    assert!(summary["last_verified"].is_null(), "{summary}");
    let secs = summary["next_check_in_secs"].as_i64().unwrap();
    assert!((0..=6 * 3600).contains(&secs), "the next 6-hourly slot: {summary}");
    assert_eq!(summary["can_act"], true);

    // Five failures in a row open the circuit: the tile says until when.
    for _ in 0..5 {
        w.state.circuits.record_failure(w.org.id, Utc::now());
    }
    let summary = health(&w, &admin).await;
    assert!(summary["health"]["circuit_open"]["until"].is_string(), "{summary}");
    assert!(summary["health_detail"].as_str().unwrap().contains("paused"), "{summary}");

    // Closed again, but a verification could not reach Cal.com: degraded.
    w.state.circuits.record_success(w.org.id);
    verified(&w, &a, "synced", 120).await;
    verified(&w, &a, "error", 5000).await;
    let summary = health(&w, &admin).await;
    assert_eq!(summary["health"], json!({ "degraded": { "recent_errors": 1 } }), "{summary}");
    assert!(summary["last_verified"].is_string(), "{summary}");

    // Cal.com refused the key after its last real answer.
    verified(&w, &a, "unauthorized", 30).await;
    assert_eq!(health(&w, &admin).await["health"], "bad_api_key");

    // The page itself shows the tiles on first paint.
    let (status, html) = w.page(&admin, "/").await;
    assert_eq!(status, StatusCode::OK);
    for testid in ["tile-last-verification", "next-check-countdown", r#"data-health="bad_api_key""#, "review-link"] {
        assert!(html.contains(testid), "{testid} missing: {html}");
    }

    // An organization without a Cal.com connection is told so, and sees
    // nothing of Salon Schmidt's.
    let other = support::org(&w.store, "other", "Other Salon").await;
    support::user(&w.store, other.id, "bob@other.de", "Bob Other", Role::Admin).await;
    let bob = w.login("bob@other.de").await;
    let summary = health(&w, &bob).await;
    assert_eq!(summary["health"], "not_connected", "{summary}");
    assert!(summary["last_verified"].is_null(), "{summary}");
});

on_both_backends!(retry_all_failed_queues_each_failed_appointment_once, |db| async move {
    let w = world(db.store.clone()).await;
    let failed: Vec<Appointment> = vec![
        w.appointment(w.org.id, "Tom Klein", Some("uid-1"), 1).await,
        w.appointment(w.org.id, "Anna Schmidt", Some("uid-2"), 2).await,
    ];
    let fine = w.appointment(w.org.id, "Max Müller", Some("uid-3"), 3).await;
    for a in &failed {
        set_status(&w, a, SyncStatus::Failed, Some(ErrorCode::VerificationError)).await;
    }
    set_status(&w, &fine, SyncStatus::Synced, None).await;
    let (admin, viewer) = (w.login(ADMIN).await, w.login(VIEWER).await);

    // Before confirming, the admin is told what it will ask of Cal.com:
    // two appointments days apart are asked for one by one.
    let (status, _) = w.rpc::<PlanRetryFailed>(&viewer, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, plan) = w.rpc::<PlanRetryFailed>(&admin, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(
        plan,
        "About 2 calls to Cal.com (2 bookings asked for one by one), under a minute at the key's 120 a minute. \
         It runs in the background inside that limit, and a scheduled verification that falls due meanwhile \
         starts on time."
    );
    let (status, plan) = w.rpc::<PlanRetryMatching>(&admin, json!({ "query": { "q": "Tom" } })).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert!(plan.as_str().unwrap().starts_with("About 1 call to Cal.com (1 booking asked for one by one)"), "{plan}");

    let shown = health(&w, &admin).await["failed"].clone();
    assert_eq!(shown["count"], 2, "the dashboard's failed appointments, for the confirm step");
    let (status, _) = w.rpc::<RetryAllFailed>(&viewer, json!({ "expected": shown })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let reload = |a: &Appointment| {
        let (store, a) = (w.store.clone(), a.clone());
        async move { store.appointment(a.org_id, a.id).await.unwrap() }
    };
    assert_eq!(reload(&failed[0]).await.sync.status, SyncStatus::Failed, "the viewer changed nothing");

    // The count the admin confirmed is checked again: a stale one queues nothing.
    let three = json!({ "count": 3, "id_sum": 6, "id_square_sum": 14 });
    let (status, stale) = w.rpc::<RetryAllFailed>(&admin, json!({ "expected": three })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{stale}");
    assert_eq!(
        stale["Conflict"],
        "2 appointments match this filter now, not the 3 you confirmed; nothing was done. \
         Check the list and confirm again."
    );
    assert_eq!(reload(&failed[0]).await.sync.status, SyncStatus::Failed, "nothing queued on a stale count");
    let (status, started) = w.rpc::<RetryAllFailed>(&admin, json!({ "expected": shown })).await;
    assert_eq!((status, started["count"].clone()), (StatusCode::OK, json!(2)), "{started}");
    let run = started["run_id"].as_i64().expect("the run to follow");
    assert_eq!(
        reload(&failed[0]).await.sync.status,
        SyncStatus::Failed,
        "queued for the worker, not done in the request"
    );
    let (_, runs) = w.rpc::<ListRuns>(&viewer, json!({})).await;
    assert_eq!(runs["runs"][0]["kind"], "Retry of matching appointments", "{runs}");
    assert_eq!(runs["runs"][0]["status"], "queued", "{runs}");

    w.state.worker(std::time::Duration::from_secs(60)).tick().await.unwrap();
    let (status, detail) = w.rpc::<GetRun>(&viewer, json!({ "id": run, "show": "all", "after": null })).await;
    assert_eq!(status, StatusCode::OK, "a viewer may follow it: {detail}");
    assert_eq!(detail["run"]["status"], "succeeded", "{detail}");
    assert_eq!(detail["run"]["trigger"], "Asked for by Jane Admin", "{detail}");
    assert_eq!(detail["run"]["scope"], "state Failed", "the filter it ran on: {detail}");
    assert_eq!(
        detail["bulk"]["tally"],
        json!([["all", 2], ["queued", 2], ["already_queued", 0], ["gone", 0], ["pending", 0]])
    );
    let items = detail["bulk"]["items"].as_array().unwrap();
    let named: Vec<_> =
        items.iter().map(|i| (i["customer"].as_str().unwrap(), i["result"].as_str().unwrap())).collect();
    assert_eq!(named, vec![("Tom Klein", "queued"), ("Anna Schmidt", "queued")]);
    for a in &failed {
        let history = w.store.appointment_events(w.org.id, a.id).await.unwrap();
        let queued = history.iter().find(|e| e.kind == EventKind::VerificationQueued).expect("queued by the run");
        assert_eq!(queued.actor, "Jane Admin", "audited with the admin's name");
    }
    let events = w.store.appointment_events(w.org.id, fine.id).await.unwrap();
    assert!(events.iter().all(|e| e.kind != EventKind::VerificationQueued), "synced appointments are left alone");

    // Another organization cannot read the run, nor its page.
    let other = support::org(&w.store, "other", "Other Salon").await;
    support::user(&w.store, other.id, "bob@other.de", "Bob Other", Role::Admin).await;
    let bob = w.login("bob@other.de").await;
    let (status, _) = w.rpc::<GetRun>(&bob, json!({ "id": run, "show": "all", "after": null })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, html) = w.page(&bob, &format!("/runs/{run}")).await;
    assert!(html.contains("Run not found") && !html.contains("Tom Klein"), "{html}");
    let (_, html) = w.page(&viewer, &format!("/runs/{run}")).await;
    assert!(html.contains("Result for each appointment") && html.contains("Tom Klein"), "{html}");
    assert!(html.contains(r#"data-testid="run-scope">state Failed<"#), "the page names the filter: {html}");

    // "Retry all matching" takes the list's filter, not only the page.
    let (_, page) = w.rpc::<ListAppointments>(&admin, json!({ "query": { "q": "müller" } })).await;
    let (status, started) =
        w.rpc::<RetryAllMatching>(&admin, json!({ "query": { "q": "müller" }, "expected": page["members"] })).await;
    assert_eq!((status, started["count"].clone()), (StatusCode::OK, json!(1)), "{started}");
    w.state.worker(std::time::Duration::from_secs(60)).tick().await.unwrap();
    let run = started["run_id"].clone();
    let (_, detail) = w.rpc::<GetRun>(&admin, json!({ "id": run, "show": "queued", "after": null })).await;
    assert_eq!(detail["bulk"]["items"][0]["customer"], "Max Müller", "{detail}");
    let audit = w.store.audit_log(w.org.id, 1).await.unwrap().remove(0);
    assert_eq!(audit.detail.as_deref(), Some("retry of 1 appointment matching search “müller”"));
});

on_both_backends!(run_now_is_queued_audited_and_run_once_by_the_worker, |db| async move {
    let w = world(db.store.clone()).await;
    let start = (Utc::now() + Duration::days(2)).date_naive().and_hms_opt(8, 0, 0).unwrap().and_utc();
    let attendee = NewAttendee {
        name: "Tom Klein".into(),
        email: "tom.klein@example.com".into(),
        time_zone: "Europe/Berlin".into(),
        phone_number: None,
        language: None,
    };
    let seed =
        SeedBooking { attendee: Some(attendee), end: Some(start + Duration::minutes(30)), ..SeedBooking::at(start) };
    let uid = w.sim.control().seed(vec![seed]).unwrap().remove(0);
    let tom = w.appointment(w.org.id, "Tom Klein", Some(&uid), 2).await;
    w.appointment(w.org.id, "Anna Schmidt", Some("not-in-calcom"), 3).await;
    let (admin, viewer) = (w.login(ADMIN).await, w.login(VIEWER).await);

    let (status, _) = w.rpc::<RunNow>(&viewer, json!({ "choice": "comprehensive" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, runs) = w.rpc::<ListRuns>(&viewer, json!({})).await;
    assert_eq!(runs["runs"], json!([]), "the viewer queued nothing");
    assert_eq!(runs["can_act"], false);

    let (status, id) = w.rpc::<RunNow>(&admin, json!({ "choice": "comprehensive" })).await;
    assert_eq!(status, StatusCode::OK, "{id}");
    let (status, twice) = w.rpc::<RunNow>(&admin, json!({ "choice": "comprehensive" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "a double click queues one run: {twice}");
    let said = twice["Conflict"].as_str().unwrap_or_default();
    assert!(
        said.starts_with("a comprehensive check is already queued (asked for ") && said.ends_with(" by Jane Admin)"),
        "{said}"
    );
    let (_, runs) = w.rpc::<ListRuns>(&admin, json!({})).await;
    assert_eq!(runs["runs"][0]["status"], "queued", "{runs}");
    assert_eq!(runs["runs"][0]["trigger"], "Run now by Jane Admin", "{runs}");
    let audit = w.store.audit_log(w.org.id, 10).await.unwrap();
    assert!(audit.iter().any(|e| e.action.as_str() == "run.request" && e.user_id.is_some()), "{audit:?}");

    w.state.worker(std::time::Duration::from_secs(60)).tick().await.unwrap();
    let (_, runs) = w.rpc::<ListRuns>(&admin, json!({})).await;
    let run = runs["runs"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(run["status"], "succeeded", "{runs}");
    assert_eq!(run["kind"], "Comprehensive check");
    assert_eq!((run["total"].as_i64(), run["processed"].as_i64()), (Some(2), Some(2)), "{run}");
    assert_eq!(run["synced"], 1, "{run}");
    let tom = w.store.appointment(w.org.id, tom.id).await.unwrap();
    assert_eq!(tom.sync.status, SyncStatus::Synced);

    // The page renders the run and the buttons for admins only.
    let (_, html) = w.page(&admin, "/runs").await;
    assert!(html.contains("Comprehensive check") && html.contains(r#"data-testid="run-cycle""#), "{html}");
    // Disabled in the HTML: a press before the page's WASM runs would be lost.
    let tag = html.split(r#"data-testid="run-cycle""#).nth(1).and_then(|rest| rest.split('>').next()).unwrap();
    assert!(tag.contains("disabled"), "run-cycle is enabled before hydration: {tag}");
    let (_, html) = w.page(&viewer, "/runs").await;
    assert!(html.contains("Comprehensive check") && !html.contains(r#"data-testid="run-cycle""#), "{html}");

    // Another organization sees no runs of this one.
    let other = support::org(&w.store, "other", "Other Salon").await;
    support::user(&w.store, other.id, "bob@other.de", "Bob Other", Role::Admin).await;
    let (_, runs) = w.rpc::<ListRuns>(&w.login("bob@other.de").await, json!({})).await;
    assert_eq!(runs["runs"], json!([]));
});

on_both_backends!(metrics_cover_the_last_thirty_days, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment(w.org.id, "Tom Klein", Some("uid-1"), 1).await;
    let b = w.appointment(w.org.id, "Anna Schmidt", Some("uid-2"), 2).await;
    for ms in [100, 200, 300] {
        verified(&w, &a, "synced", ms).await;
    }
    verified(&w, &a, "error", 1000).await;
    verified(&w, &a, "circuit_open", 0).await;
    for (appointment, code) in [(&a, ErrorCode::DataMismatch), (&b, ErrorCode::OrphanedLocal)] {
        let issue = NewIssue {
            code,
            subject: IssueSubject::Appointment(appointment.id),
            calcom_snapshot: None,
            differences: None,
            detail: None,
        };
        w.store.open_issue(w.org.id, &issue, Utc::now()).await.unwrap();
    }
    let jane = w.store.user_by_email(ADMIN).await.unwrap().unwrap().id;
    let subject = IssueSubject::Appointment(a.id);
    w.store
        .resolve_issues_for(w.org.id, &subject, Resolution::MarkedResolved, Some(jane), Some("ok"), Utc::now())
        .await
        .unwrap();
    let viewer = w.login(VIEWER).await;

    let (status, m) = w.rpc::<GetSyncMetrics>(&viewer, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!((m["verifications"].as_i64(), m["synced"].as_i64()), (Some(5), Some(3)), "{m}");
    assert_eq!(
        (m["avg_ms"].as_i64(), m["min_ms"].as_i64(), m["max_ms"].as_i64()),
        (Some(400), Some(100), Some(1000)),
        "{m}"
    );
    assert_eq!((m["issues_opened"].as_i64(), m["issues_resolved"].as_i64()), (Some(2), Some(1)), "{m}");
    assert_eq!((m["reviews_pending"].as_i64(), m["reviews_resolved"].as_i64()), (Some(1), Some(1)), "{m}");
    let trend = m["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 7);
    assert_eq!(trend[6]["verifications"], 5, "today is the last day: {m}");
    assert!(trend[..6].iter().all(|d| d["verifications"] == 0), "{m}");

    let (_, html) = w.page(&viewer, "/sync-health").await;
    assert!(html.contains(r#"data-testid="trend-chart""#) && html.contains("60.0%"), "{html}");
});

type ListAppointments = app::rpc::appointments::ListAppointments;

fn names(page: &Value) -> Vec<String> {
    page["rows"].as_array().unwrap().iter().map(|r| r["customer"].as_str().unwrap().to_owned()).collect()
}

on_both_backends!(the_list_sorts_by_any_column_and_pages_without_gaps, |db| async move {
    let w = world(db.store.clone()).await;
    // Names in an order unrelated to their start times.
    let mut expected = Vec::new();
    for i in 0..30 {
        let name = format!("Kunde {:02}", (i * 7) % 30);
        w.appointment(w.org.id, &name, None, 1 + i).await;
        expected.push(name);
    }
    expected.sort();
    let admin = w.login(ADMIN).await;

    for desc in [false, true] {
        let query = json!({ "sort_by": "customer", "desc": desc });
        let (status, first) = w.rpc::<ListAppointments>(&admin, json!({ "query": query })).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let after = first["next_after"].as_str().expect("a second page").to_owned();
        let query = json!({ "sort_by": "customer", "desc": desc, "after": after });
        let (_, second) = w.rpc::<ListAppointments>(&admin, json!({ "query": query })).await;
        assert!(second["next_after"].is_null());
        let mut seen = names(&first);
        seen.extend(names(&second));
        let mut want = expected.clone();
        if desc {
            want.reverse();
        }
        assert_eq!(seen, want, "desc={desc}");
    }

    // By state (alphabetical by code): descending, the one synced row comes
    // before the pending ones.
    let (_, page) = w.rpc::<ListAppointments>(&admin, json!({ "query": {} })).await;
    let first_id = page["rows"][0]["id"].as_i64().unwrap();
    let first = w.store.appointment(w.org.id, engine::domain::AppointmentId(first_id)).await.unwrap();
    set_status(&w, &first, SyncStatus::Synced, None).await;
    let (_, by_status) =
        w.rpc::<ListAppointments>(&admin, json!({ "query": { "sort_by": "status", "desc": true } })).await;
    assert_eq!(by_status["rows"][0]["id"].as_i64(), Some(first_id), "synced sorts after pending, so first descending");

    // The order lives in the URL and the page renders sortable headers.
    let (_, html) = w.page(&admin, "/appointments?sort=customer&dir=desc").await;
    assert!(html.contains(r#"aria-sort="descending""#) && html.contains("Kunde 29"), "{html}");
    assert!(html.find("Kunde 29").unwrap() < html.find("Kunde 28").unwrap(), "descending by customer");
});

on_both_backends!(resolve_all_is_offered_only_where_every_row_counted_needs_review, |db| async move {
    let w = world(db.store.clone()).await;
    w.appointment(w.org.id, "Kunde Ruhig", None, 1).await;
    let flagged = w.appointment(w.org.id, "Kunde Offen", None, 2).await;
    let state = SyncState {
        requires_manual_review: true,
        error_code: Some(ErrorCode::DataMismatch),
        status: SyncStatus::Failed,
        ..flagged.sync.clone()
    };
    let event = NewSyncEvent {
        appointment_id: Some(flagged.id),
        kind: EventKind::Updated,
        result: None,
        attempt: None,
        duration_ms: None,
        detail: Some("arranged by the test".into()),
        technical: None,
        actor: "test".into(),
        actor_user_id: None,
        at: Utc::now(),
    };
    w.store.set_sync_state(w.org.id, flagged.id, &state, &event).await.unwrap();
    let admin = w.login(ADMIN).await;

    // Both rows listed: "resolve all 2" would close only one, so the page
    // offers the narrower list instead.
    let (_, all) = w.page(&admin, "/appointments").await;
    assert!(all.contains("Kunde Ruhig") && all.contains("Kunde Offen"), "{all}");
    assert!(!all.contains(r#"data-testid="resolve-matching""#), "{all}");
    assert!(all.contains(r#"href="/appointments?review=1" data-testid="resolve-matching-hint""#), "{all}");

    let (_, review) = w.page(&admin, "/appointments?review=1").await;
    assert!(review.contains("Kunde Offen") && !review.contains("Kunde Ruhig"), "{review}");
    assert!(
        review.contains(r#"data-testid="resolve-matching""#) && review.contains("Resolve all 1 matching"),
        "{review}"
    );
    assert!(!review.contains("resolve-matching-hint"), "{review}");
});
