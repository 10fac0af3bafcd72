//! `calsync demo`'s setup on a fresh database: every sync state and error
//! code of the spec shows up (made by the verifier, not written), a second
//! start creates nothing, and the printed credentials log in.

mod support;

use engine::domain::{ErrorCode, Role, SyncStatus};
use engine::on_both_backends;
use engine::secret_key::SecretKey;
use engine::store::{AppointmentFilter, Organization, Store};
use server::demo::{prepare, DemoOptions};

fn key() -> SecretKey {
    SecretKey::from_bytes([9; 32])
}

async fn count(store: &Store, org: &Organization, status: Option<SyncStatus>, code: Option<ErrorCode>) -> i64 {
    let filter = AppointmentFilter { sync_status: status, error_code: code, ..AppointmentFilter::default() };
    store.count_appointments(org.id, &filter).await.unwrap()
}

/// POST /login as the browser's form does; true when a session was issued.
async fn logs_in(base: &str, email: &str, password: &str) -> bool {
    let response = support::client()
        .post(format!("{base}/login"))
        .header("origin", base)
        .form(&[("email", email), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    response.status().as_u16() == 303 && support::session_cookie(&response).is_some()
}

on_both_backends!(the_demo_covers_every_state_once_and_its_logins_work, |db| async move {
    let (_, base) = support::spawn_app_with(db.store.clone(), key(), |_| {}).await;
    let state = std::env::temp_dir().join(format!("calsync-demo-test-{}.json", uuid::Uuid::new_v4().simple()));
    let options = DemoOptions { calsync_url: base.clone(), sim_state: Some(state.clone()) };
    let store = &db.store;

    let first = prepare(store, &key(), &options).await.unwrap();
    let org = first.org.clone();
    let seeded = first.seeded.expect("a fresh database is seeded");

    for status in [
        SyncStatus::Synced,
        SyncStatus::Pending,
        SyncStatus::VerificationPending,
        SyncStatus::Failed,
        SyncStatus::OrphanedLocal,
    ] {
        assert!(count(store, &org, Some(status), None).await > 0, "no appointment is {status:?}");
    }
    for code in
        [ErrorCode::VerificationError, ErrorCode::CircuitOpen, ErrorCode::DataMismatch, ErrorCode::OrphanedLocal]
    {
        assert!(count(store, &org, None, Some(code)).await > 0, "no appointment has {code:?}");
    }
    assert!(count(store, &org, Some(SyncStatus::Failed), Some(ErrorCode::VerificationError)).await > 0);
    let open: std::collections::HashMap<ErrorCode, i64> =
        store.count_open_issues_by_code(org.id).await.unwrap().into_iter().collect();
    for code in
        [ErrorCode::OrphanedCalcom, ErrorCode::OrphanedLocal, ErrorCode::DataMismatch, ErrorCode::VerificationError]
    {
        assert!(open.get(&code).copied().unwrap_or(0) > 0, "no open {code:?} issue: {open:?}");
    }
    // The review queue's states and a suggested link are there to be seen.
    let queue = store.queue_issues(org.id, engine::store::QueueFilter::default(), 500).await.unwrap();
    assert!(queue.iter().any(|i| i.state() == engine::store::IssueState::Acknowledged && i.assigned_to.is_some()));
    let mut suggested = Vec::new();
    for issue in queue.iter().filter(|i| i.code == ErrorCode::OrphanedCalcom) {
        let booking = serde_json::from_str(issue.calcom_snapshot.as_deref().unwrap()).unwrap();
        for s in engine::links::suggestions(store, org.id, &booking).await.unwrap() {
            suggested.push(s.appointment.customer_name);
        }
    }
    assert_eq!(suggested, ["Jens Vogel"], "the rebooked customer, and nobody else");
    // The runs page has a bulk retry with its results, by the demo admin.
    let runs = store.recent_runs(org.id, 500).await.unwrap();
    let bulk = runs.iter().find(|r| r.kind == engine::store::RunKind::BulkRetry).expect("a bulk retry run");
    assert_eq!(bulk.status, engine::store::RunStatus::Succeeded);
    let tally = store.bulk_tally(org.id, bulk.id).await.unwrap();
    assert!(tally.queued > 0 && tally.pending == 0, "{tally:?}");
    let appointments = count(store, &org, None, None).await;
    assert_eq!(appointments as usize, seeded.appointments);
    assert_eq!(first.sim.booking_count(), seeded.calcom_bookings);
    assert_eq!(first.sim.webhooks().len(), 1, "calsync's webhook endpoint is subscribed");

    // The printed credentials work, for both roles.
    assert_eq!(first.accounts.len(), 2);
    for account in &first.accounts {
        let password = account.password.as_deref().expect("a new account's password is handed out");
        assert!(logs_in(&base, &account.email, password).await, "{} cannot log in", account.email);
    }
    assert!(first.accounts.iter().any(|a| a.role == Role::Viewer));
    let passwords: Vec<String> = first.accounts.iter().filter_map(|a| a.password.clone()).collect();
    first.sim.shutdown().await;

    // A restart finds everything and makes nothing new.
    let second = prepare(store, &key(), &options).await.unwrap();
    assert!(second.seeded.is_none());
    assert!(second.accounts.iter().all(|a| a.password.is_none()), "no password is printed twice");
    assert_eq!(count(store, &org, None, None).await, appointments);
    assert_eq!(store.users(org.id).await.unwrap().len(), 2);
    assert_eq!(second.sim.booking_count(), seeded.calcom_bookings, "the simulator kept its bookings");
    assert_eq!(second.sim.webhooks().len(), 1, "subscribed once");
    assert!(logs_in(&base, &second.accounts[0].email, &passwords[0]).await);
    second.sim.shutdown().await;
    let _ = std::fs::remove_file(&state);
});
