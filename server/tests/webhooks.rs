//! `POST /webhooks/calcom/{org}` end to end: the Cal.com simulator sends
//! its signed webhooks to a running calsync, which stores them in its inbox
//! and answers at once; the inbox worker re-verifies the bookings'
//! appointments; forged deliveries store nothing; replays are ignored.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use calcom_sim::matched::{seed_matching, Customer};
use calcom_sim::{spawn, BookingEdit, SimConfig, SimHandle};
use chrono::{Duration as ChronoDuration, Utc};
use engine::calcom::webhook::sign;
use engine::domain::{ErrorCode, SyncStatus};
use engine::on_both_backends;
use engine::secret_key::SecretKey;
use engine::secrets::{seal, Purpose};
use engine::store::{Appointment, CalcomConnectionUpdate, NewOrganization, Organization, Store};
use server::router::build_app;
use server::state::AppState;

const WEBHOOK_SECRET: &str = "whsec_salon_test";

fn key() -> SecretKey {
    SecretKey::from_bytes([7; 32])
}

struct World {
    store: Store,
    org: Organization,
    sim: SimHandle,
    state: AppState,
    base: String,
    http: reqwest::Client,
}

async fn world(store: Store) -> World {
    engine::calcom::ensure_crypto_provider();
    let now = Utc::now();
    let org = store
        .create_organization(
            &NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin },
            now,
        )
        .await
        .unwrap();
    let sim = spawn(SimConfig::default()).await.unwrap();
    let update = CalcomConnectionUpdate {
        base_url: Some(sim.base_url.clone()),
        api_key_sealed: Some(seal(&key(), Purpose::CalcomApiKey(org.id), sim.api_key().expose())),
        webhook_secret_sealed: Some(seal(&key(), Purpose::WebhookSecret(org.id), WEBHOOK_SECRET)),
        event_type_id: Some(1),
    };
    store.update_calcom_connection(org.id, &update, now).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let state = AppState::new(store.clone(), key(), &format!("http://{addr}"), "target/site", addr);
    let app = build_app(state.clone());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    World { store, org, sim, state, base: format!("http://{addr}"), http: reqwest::Client::new() }
}

impl World {
    /// The inbox worker, as `calsync serve` runs it.
    fn start_inbox(&self) {
        let worker = std::sync::Arc::new(self.state.worker(Duration::from_secs(60)));
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        std::mem::forget(_stop);
        server::workers::spawn_inbox(worker, self.state.wake_inbox.clone(), self.state.live.clone(), stopped);
    }

    /// One pass of the inbox worker.
    async fn drain(&self) {
        self.state.worker(Duration::from_secs(60)).drain_webhooks().await.unwrap();
    }

    async fn outcome(&self) -> Vec<(String, Option<String>)> {
        let deliveries = self.store.deliveries(self.org.id, &Default::default(), 100).await.unwrap();
        deliveries
            .into_iter()
            .map(|d| (d.status.as_str().to_owned(), d.outcome.map(|o| o.as_str().to_owned())))
            .collect()
    }

    fn hook_url(&self) -> String {
        format!("{}/webhooks/calcom/{}", self.base, self.org.slug)
    }

    /// A booking two days ahead and its appointment, verified as synced.
    async fn synced_booking(&self) -> (String, Appointment) {
        let start = (Utc::now() + ChronoDuration::days(2)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
        let customer = Customer { name: "Tom Klein", email: "tom@example.com" };
        seed_matching(&self.store, self.org.id, &self.sim, start, customer, Utc::now()).await
    }

    async fn appointment(&self, a: &Appointment) -> Appointment {
        self.store.appointment(self.org.id, a.id).await.unwrap()
    }

    async fn deliveries(&self) -> i64 {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE org_id = $1")
            .bind(self.org.id.get())
            .fetch_one(self.store.pool())
            .await
            .unwrap();
        sqlx::Row::get(&row, "n")
    }

    async fn post(&self, body: &str, signature: Option<&str>) -> (u16, serde_json::Value) {
        let mut request =
            self.http.post(self.hook_url()).header("content-type", "application/json").body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("X-Cal-Signature-256", signature);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

fn cancelled_body(uid: &str) -> String {
    serde_json::json!({
        "triggerEvent": "BOOKING_CANCELLED",
        "createdAt": Utc::now().to_rfc3339(),
        "payload": { "uid": uid, "status": "CANCELLED" }
    })
    .to_string()
}

on_both_backends!(a_change_announced_by_the_simulator_is_verified_within_seconds, |db| async move {
    let w = world(db.store.clone()).await;
    w.start_inbox();
    let (uid, a) = w.synced_booking().await;
    w.sim.control().subscribe_webhooks(w.hook_url(), Some(WEBHOOK_SECRET.into()));

    // Someone moves the booking in Cal.com; Cal.com sends a signed webhook.
    let moved = a.starts_at + ChronoDuration::hours(3);
    w.sim.control().edit(&uid, BookingEdit { start: Some(moved), webhook: true, ..BookingEdit::default() }).unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let current = w.appointment(&a).await;
        if current.sync.error_code == Some(ErrorCode::DataMismatch) {
            assert_eq!(current.sync.status, SyncStatus::Failed);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not re-verified within 5 s: {:?}", current.sync);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(w.deliveries().await, 1);
});

on_both_backends!(forged_or_unsigned_deliveries_are_refused_and_change_nothing, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.synced_booking().await;
    w.sim
        .control()
        .edit(&uid, BookingEdit { status: Some(engine::calcom::BookingStatus::Cancelled), ..BookingEdit::default() })
        .unwrap();
    let body = cancelled_body(&uid);

    let (status, reply) = w.post(&body, Some(&sign(b"not the secret", body.as_bytes()))).await;
    assert_eq!(status, 401, "{reply}");
    let (status, _) = w.post(&body, None).await;
    assert_eq!(status, 401);
    let (status, _) = w.post(&body, Some("zz-not-hex")).await;
    assert_eq!(status, 401);
    // What Cal.com sends for a webhook configured without a secret.
    let (status, reply) = w.post(&body, Some("no-secret-provided")).await;
    assert_eq!(status, 401);
    let error = reply["error"].as_str().unwrap_or_default();
    assert!(error.contains("no secret in Cal.com") && error.contains("webhook settings"), "{error}");

    assert_eq!(w.deliveries().await, 0, "nothing stored");
    let after = w.appointment(&a).await;
    assert_eq!(after.sync, a.sync, "the appointment was not touched");
    assert!(w.store.appointment_events(w.org.id, a.id).await.unwrap().len() == 1, "only the creation event");
});

on_both_backends!(a_signed_delivery_is_acted_on_once_and_replays_are_ignored, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.synced_booking().await;
    w.sim
        .control()
        .edit(&uid, BookingEdit { status: Some(engine::calcom::BookingStatus::Cancelled), ..BookingEdit::default() })
        .unwrap();
    let body = cancelled_body(&uid);
    let signature = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());

    let (status, reply) = w.post(&body, Some(&signature)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("accepted")), "{reply}");
    assert_eq!(w.outcome().await, [("pending".to_owned(), None)], "stored, acted on by the inbox worker");
    w.drain().await;
    assert_eq!(w.outcome().await, [("done".to_owned(), Some("verified".to_owned()))]);
    let delivery = w.store.deliveries(w.org.id, &Default::default(), 1).await.unwrap().remove(0);
    assert_eq!(delivery.appointment_ids, [a.id], "the appointment it touched");
    let after = w.appointment(&a).await;
    assert_eq!(after.sync.error_code, Some(ErrorCode::DataMismatch), "cancelled in Cal.com, scheduled here");
    let events = w.store.appointment_events(w.org.id, a.id).await.unwrap().len();

    let (status, reply) = w.post(&body, Some(&signature)).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("replay")));
    w.drain().await;
    assert_eq!(w.deliveries().await, 1);
    let delivery = w.store.deliveries(w.org.id, &Default::default(), 1).await.unwrap().remove(0);
    assert_eq!(delivery.replays, 1, "the replay is counted on the first delivery");
    assert_eq!(w.store.appointment_events(w.org.id, a.id).await.unwrap().len(), events, "a replay verifies nothing");
});

on_both_backends!(unknown_organizations_and_garbage_get_clear_errors, |db| async move {
    let w = world(db.store.clone()).await;
    let response = w.http.post(format!("{}/webhooks/calcom/nobody", w.base)).body("{}").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let garbage = "not json";
    let (status, reply) = w.post(garbage, Some(&sign(WEBHOOK_SECRET.as_bytes(), garbage.as_bytes()))).await;
    assert_eq!(status, 400, "{reply}");
    let huge = format!("{{\"triggerEvent\":\"BOOKING_CREATED\",\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
    let (status, reply) = w.post(&huge, Some(&sign(WEBHOOK_SECRET.as_bytes(), huge.as_bytes()))).await;
    assert_eq!(status, 413, "{reply}");
    assert_eq!(w.deliveries().await, 0, "nothing stored for any of them");
});

on_both_backends!(a_delivery_is_answered_before_calcom_is_asked, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.synced_booking().await;
    // Cal.com hangs: acting on the delivery would wait 30 s.
    w.sim.control().set_faults(calcom_sim::Faults { hang_ms: 30_000, ..Default::default() });
    let body = cancelled_body(&uid);
    let started = std::time::Instant::now();
    let (status, reply) = w.post(&body, Some(&sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes()))).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("accepted")));
    assert!(started.elapsed() < Duration::from_secs(1), "answered in {:?}", started.elapsed());
    assert_eq!(w.deliveries().await, 1, "stored durably before the answer");
    assert_eq!(w.appointment(&a).await.sync, a.sync, "nothing acted on yet");
});

on_both_backends!(a_burst_is_coalesced_into_one_read_of_calcom, |db| async move {
    let w = world(db.store.clone()).await;
    let mut bookings = Vec::new();
    for n in 0..12 {
        let start = (Utc::now() + ChronoDuration::days(2 + n)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
        let name = format!("Kunde {n}");
        let email = format!("kunde{n}@example.com");
        bookings.push(
            seed_matching(&w.store, w.org.id, &w.sim, start, Customer { name: &name, email: &email }, Utc::now()).await,
        );
    }
    for (uid, _) in &bookings {
        let cancel = BookingEdit { status: Some(engine::calcom::BookingStatus::Cancelled), ..BookingEdit::default() };
        w.sim.control().edit(uid, cancel).unwrap();
        let body = cancelled_body(uid);
        let (status, _) = w.post(&body, Some(&sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes()))).await;
        assert_eq!(status, 200);
    }
    w.sim.control().reset_counters();
    w.drain().await;
    let counters = w.sim.control().counters();
    assert_eq!(counters.total, 1, "twelve deliveries, one listing of what changed");
    assert_eq!(counters.calls(calcom_sim::endpoint::GET_BOOKING), 0);
    for (_, a) in &bookings {
        assert_eq!(w.appointment(a).await.sync.error_code, Some(ErrorCode::DataMismatch));
    }
    assert!(w
        .outcome()
        .await
        .iter()
        .all(|(status, outcome)| status == "done" && outcome.as_deref() == Some("verified")));
});

on_both_backends!(two_instances_act_on_each_delivery_once, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.synced_booking().await;
    let body = cancelled_body(&uid);
    w.sim
        .control()
        .edit(&uid, BookingEdit { status: Some(engine::calcom::BookingStatus::Cancelled), ..BookingEdit::default() })
        .unwrap();
    w.post(&body, Some(&sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes()))).await;
    // A second instance: its own pool and worker on the same database.
    let other_store = Store::connect(&db.url).await.unwrap();
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let other = AppState::new(other_store, key(), "http://127.0.0.1:9", "target/site", addr);
    let (one, two) = (w.state.worker(Duration::from_secs(60)), other.worker(Duration::from_secs(60)));
    let (x, y) = tokio::join!(one.drain_webhooks(), two.drain_webhooks());
    let handled: usize = x.unwrap().iter().chain(y.unwrap().iter()).map(|(_, n)| n).sum();
    assert_eq!(handled, 1, "one delivery, acted on by exactly one instance");
    let verifications = w
        .store
        .appointment_events(w.org.id, a.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == engine::store::EventKind::Verification)
        .count();
    assert_eq!(verifications, 1);
});

on_both_backends!(the_deliveries_page_shows_each_delivery_and_filters_them, |db| async move {
    let w = world(db.store.clone()).await;
    let (uid, a) = w.synced_booking().await;
    w.sim
        .control()
        .edit(&uid, BookingEdit { status: Some(engine::calcom::BookingStatus::Cancelled), ..BookingEdit::default() })
        .unwrap();
    let body = cancelled_body(&uid);
    let (status, _) = w.post(&body, Some(&sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes()))).await;
    assert_eq!(status, 200);
    // A delivery for a booking no appointment has: ignored.
    let stranger = cancelled_body("booking-nobody-knows");
    let (status, _) = w.post(&stranger, Some(&sign(WEBHOOK_SECRET.as_bytes(), stranger.as_bytes()))).await;
    assert_eq!(status, 200);
    w.drain().await;

    // A viewer reads the log (it names bookings, no secrets).
    let password_hash = engine::password::hash("viewer password 1".into()).await.unwrap();
    let viewer = engine::store::NewUser {
        email: "vic@salon.de".into(),
        name: "Vic".into(),
        role: engine::domain::Role::Viewer,
        password_hash,
    };
    w.store.create_user(w.org.id, &viewer, Utc::now()).await.unwrap();
    let http = support::client();
    let login = http
        .post(format!("{}/login", w.base))
        .header("origin", &w.base)
        .form(&[("email", "vic@salon.de"), ("password", "viewer password 1"), ("next", "/")])
        .send()
        .await
        .unwrap();
    let cookie = support::session_cookie(&login).expect("a session");
    let page = |query: &'static str| {
        let (http, base, cookie) = (http.clone(), w.base.clone(), cookie.clone());
        async move {
            let response = http.get(format!("{base}/deliveries{query}")).header("cookie", cookie).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    let (status, html) = page("").await;
    assert_eq!(status, 200);
    let deliveries = w.store.deliveries(w.org.id, &Default::default(), 10).await.unwrap();
    let verified = deliveries.iter().find(|d| d.uid.as_deref() == Some(uid.as_str())).unwrap();
    let ignored = deliveries.iter().find(|d| d.uid.as_deref() == Some("booking-nobody-knows")).unwrap();
    assert!(html.contains(&format!(r#"data-testid="delivery-{}" data-outcome="verified""#, verified.id)), "{html}");
    assert!(html.contains(&format!(r#"data-testid="delivery-{}" data-outcome="ignored""#, ignored.id)), "{html}");
    assert!(html.contains("BOOKING_CANCELLED") && html.contains(&uid), "trigger and booking shown");
    assert!(html.contains(&format!(r#"href="/appointments/{}""#, a.id)), "the appointment it touched is linked");

    let (_, only_ignored) = page("?outcome=ignored").await;
    assert!(only_ignored.contains(&format!("delivery-{}", ignored.id)));
    assert!(!only_ignored.contains(&format!("delivery-{}\"", verified.id)), "filtered by outcome");
    let (_, by_booking) = page("?uid=booking-nobody-knows").await;
    assert!(by_booking.contains(&format!("delivery-{}", ignored.id)) && !by_booking.contains(&uid));
    let (_, bad) = page("?outcome=maybe").await;
    assert!(bad.contains(r#"role="alert""#), "an unknown outcome is refused in words: {bad}");

    // The dashboard's Cal.com tile says when the last one came.
    let (_, dashboard) = {
        let response = http.get(format!("{}/", w.base)).header("cookie", cookie.clone()).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    assert!(dashboard.contains("Last webhook delivery"), "{dashboard}");
});
