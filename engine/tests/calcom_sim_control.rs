//! The simulator's control API (`/_sim/…`) over HTTP, as the CLI and the
//! end-to-end tests use it, and its state file.

mod calcom_support;

use std::time::{Duration, Instant};

use calcom_sim::{spawn, SimConfig};
use calcom_support::{json, later, sim, sim_with, Raw, WebhookSink};
use engine::calcom::model::format_instant;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn ten_thousand_bookings_seed_in_one_request_each_way() {
    let sim = sim().await;
    let raw = Raw::new(&sim);
    let (from, to) = (later(&sim, 24), later(&sim, 24 * 30));

    // (How fast this is belongs to the benchmarks, not to a timed test.)
    let response = raw
        .control(
            Method::POST,
            "/_sim/bookings/generate",
            Some(json!({"count": 10000, "from": format_instant(from), "to": format_instant(to)})),
        )
        .await;
    let (status, body) = json(response).await;

    assert_eq!(status, 201);
    assert_eq!(body["created"], 10000);
    assert_eq!(body["uids"].as_array().map(Vec::len), Some(10000));

    // An explicit list of 10,000 (the bulk seeding path).
    let seeds: Vec<Value> =
        (0..10_000).map(|i| json!({"start": format_instant(from + chrono::Duration::minutes(i))})).collect();
    let (status, body) = json(raw.control(Method::POST, "/_sim/bookings", Some(Value::Array(seeds))).await).await;
    assert_eq!((status, body["created"].as_u64()), (201, Some(10000)));
    assert_eq!(sim.booking_count(), 20_000);
}

#[tokio::test]
async fn seeding_is_all_or_nothing() {
    let sim = sim().await;
    let raw = Raw::new(&sim);
    let start = format_instant(later(&sim, 5));
    let (status, _) =
        json(raw.control(Method::POST, "/_sim/bookings", Some(json!([{"start": start, "uid": "taken"}]))).await).await;
    assert_eq!(status, 201);

    let (status, body) = json(
        raw.control(Method::POST, "/_sim/bookings", Some(json!([{"start": start}, {"start": start, "uid": "taken"}])))
            .await,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) =
        json(raw.control(Method::POST, "/_sim/bookings", Some(json!([{"start": start, "eventTypeId": 99}]))).await)
            .await;
    assert_eq!(status, 400);
    assert_eq!(sim.booking_count(), 1, "nothing of the refused batches was kept");
}

#[tokio::test]
async fn bookings_are_listed_edited_and_deleted_silently() {
    let sim = sim().await;
    let mut sink = WebhookSink::start().await;
    let raw = Raw::new(&sim);
    let (status, _) = json(
        raw.control(Method::POST, "/_sim/webhooks", Some(json!({"subscriberUrl": sink.url, "secret": "s"}))).await,
    )
    .await;
    assert_eq!(status, 201);
    let start = later(&sim, 24);
    let seeds = json!([{"start": format_instant(start), "createdAt": "2020-01-01T00:00:00.000Z"}, {"start": format_instant(start)}]);
    let (_, seeded) = json(raw.control(Method::POST, "/_sim/bookings", Some(seeds)).await).await;
    let (a, b) = (seeded["uids"][0].as_str().unwrap().to_owned(), seeded["uids"][1].as_str().unwrap().to_owned());

    let (status, listed) = json(raw.control(Method::GET, "/_sim/bookings", None).await).await;
    assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(2)));

    let moved_to = format_instant(start + chrono::Duration::hours(3));
    let (status, edited) = json(
        raw.control(
            Method::PATCH,
            &format!("/_sim/bookings/{a}"),
            Some(json!({"start": moved_to, "status": "cancelled"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!((edited["start"].as_str(), edited["status"].as_str()), (Some(moved_to.as_str()), Some("cancelled")));
    let updated = chrono::DateTime::parse_from_rfc3339(edited["updatedAt"].as_str().unwrap()).unwrap();
    assert!((sim.now() - updated.with_timezone(&chrono::Utc)).num_seconds().abs() < 5, "updatedAt moved to now");
    let (_, via_api) = json(raw.get(&format!("/v2/bookings/{a}")).await).await;
    assert_eq!(via_api["data"]["status"], "cancelled");
    assert_eq!(via_api["data"]["duration"], 30, "moving the start keeps the duration");

    let response = raw.control(Method::DELETE, &format!("/_sim/bookings/{b}"), None).await;
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(raw.get(&format!("/v2/bookings/{b}")).await.status().as_u16(), 404);
    assert_eq!(raw.control(Method::DELETE, &format!("/_sim/bookings/{b}"), None).await.status().as_u16(), 404);

    sink.assert_quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn an_edit_can_be_announced_with_a_webhook() {
    let sim = sim().await;
    let mut sink = WebhookSink::start().await;
    sim.subscribe_webhooks(sink.url.clone(), None);
    let uid = sim.seed(vec![calcom_sim::SeedBooking::at(later(&sim, 24))]).unwrap().remove(0);
    let raw = Raw::new(&sim);

    raw.control(Method::PATCH, &format!("/_sim/bookings/{uid}"), Some(json!({"status": "rejected", "webhook": true})))
        .await;

    let (_, body) = sink.next().await;
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (event["triggerEvent"].as_str(), event["payload"]["status"].as_str()),
        (Some("BOOKING_REJECTED"), Some("REJECTED"))
    );
    assert_eq!(event["payload"]["uid"], uid.as_str());
}

#[tokio::test]
async fn faults_are_set_read_and_reset() {
    let sim = sim().await;
    let raw = Raw::new(&sim);

    let (status, faults) =
        json(raw.control(Method::PUT, "/_sim/faults", Some(json!({"outage": true, "latencyMs": 10}))).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        (faults["outage"].as_bool(), faults["latencyMs"].as_u64(), faults["errorRate"].as_f64()),
        (Some(true), Some(10), Some(0.0))
    );
    assert_eq!(raw.get("/v2/event-types").await.status().as_u16(), 503);
    assert_eq!(raw.control(Method::GET, "/_sim/health", None).await.status().as_u16(), 200, "control stays up");

    let (status, _) = json(raw.control(Method::PUT, "/_sim/faults", Some(json!({"errorRate": 2}))).await).await;
    assert_eq!(status, 400);

    assert_eq!(raw.control(Method::DELETE, "/_sim/faults", None).await.status().as_u16(), 204);
    assert_eq!(raw.get("/v2/event-types").await.status().as_u16(), 200);

    raw.control(Method::PUT, "/_sim/faults", Some(json!({"errorRate": 1.0, "errorStatus": 500}))).await;
    let (status, body) = json(raw.get("/v2/event-types").await).await;
    assert_eq!((status, body["status"].as_str()), (500, Some("error")));
    raw.control(Method::PUT, "/_sim/faults", Some(json!({"rateLimitStorm": 1, "stormRetryAfter": 7}))).await;
    let response = raw.get("/v2/event-types").await;
    let reset = response.headers()["x-ratelimit-reset-default"].to_str().unwrap().to_owned();
    assert_eq!((response.status().as_u16(), reset.as_str()), (429, "7"));
    assert!(response.headers().get("retry-after").is_none(), "like Cal.com's throttler: Reset only");
    assert_eq!(raw.get("/v2/event-types").await.status().as_u16(), 200, "the storm is over");
}

#[tokio::test]
async fn counters_count_every_request_per_endpoint_and_status() {
    let sim = sim().await;
    let raw = Raw::new(&sim);
    raw.get("/v2/event-types").await;
    raw.get("/v2/bookings").await;
    raw.get("/v2/bookings/nope").await;
    raw.get("/v2/bookings/nope2").await;

    let (status, counters) = json(raw.control(Method::GET, "/_sim/counters", None).await).await;
    assert_eq!(status, 200);
    assert_eq!(counters["total"], 4);
    assert_eq!(
        counters["byEndpoint"],
        json!({"GET /v2/event-types": 1, "GET /v2/bookings": 1, "GET /v2/bookings/{uid}": 2})
    );
    assert_eq!(counters["byStatus"], json!({"200": 2, "404": 2}));

    assert_eq!(raw.control(Method::DELETE, "/_sim/counters", None).await.status().as_u16(), 204);
    let (_, counters) = json(raw.control(Method::GET, "/_sim/counters", None).await).await;
    assert_eq!(counters["total"], 0);
}

#[tokio::test]
async fn the_clock_moves_forward_on_request() {
    let sim = sim().await;
    let raw = Raw::new(&sim);
    let uid = sim.seed(vec![calcom_sim::SeedBooking::at(later(&sim, 2))]).unwrap().remove(0);
    let (_, upcoming) = json(raw.get("/v2/bookings?status=upcoming").await).await;
    assert_eq!(upcoming["data"][0]["uid"], uid.as_str());

    let before = sim.now();
    let (status, clock) =
        json(raw.control(Method::POST, "/_sim/clock/advance", Some(json!({"seconds": 3 * 3600}))).await).await;
    assert_eq!(status, 200);
    assert_eq!(clock["offsetSeconds"], 10800.0);
    assert!(sim.now() - before >= chrono::Duration::hours(3));

    let (_, past) = json(raw.get("/v2/bookings?status=past").await).await;
    assert_eq!(past["data"][0]["uid"], uid.as_str(), "three hours later the booking is past");
}

#[tokio::test]
async fn the_rate_limit_can_be_changed_and_turned_off() {
    let sim = sim().await;
    let raw = Raw::new(&sim);
    let (_, limit) = json(raw.control(Method::GET, "/_sim/rate-limit", None).await).await;
    assert_eq!(limit, json!({"limit": 120, "windowSeconds": 60.0, "blockSeconds": 60.0, "name": "Default"}));

    raw.control(Method::PUT, "/_sim/rate-limit", Some(json!({"limit": 1, "windowSeconds": 60}))).await;
    assert_eq!(raw.get("/v2/event-types").await.status().as_u16(), 200);
    assert_eq!(raw.get("/v2/event-types").await.status().as_u16(), 429);

    // A key with a custom limit: its headers carry the limit's name.
    raw.control(Method::PUT, "/_sim/rate-limit", Some(json!({"limit": 5, "windowSeconds": 60, "name": "Long"}))).await;
    let response = raw.get("/v2/event-types").await;
    assert_eq!(response.headers()["x-ratelimit-remaining-long"], "4");
    let (status, _) = json(
        raw.control(Method::PUT, "/_sim/rate-limit", Some(json!({"limit": 5, "windowSeconds": 60, "name": "x y"})))
            .await,
    )
    .await;
    assert_eq!(status, 400, "a name that cannot be a header");

    raw.control(Method::PUT, "/_sim/rate-limit", Some(Value::Null)).await;
    for _ in 0..5 {
        let response = raw.get("/v2/event-types").await;
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers().get("x-ratelimit-limit-default").is_none(), "no limit, no headers");
    }
    let (status, _) =
        json(raw.control(Method::PUT, "/_sim/rate-limit", Some(json!({"limit": 0, "windowSeconds": 60}))).await).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn reset_forgets_everything_but_the_configuration() {
    let sim = sim().await;
    let raw = Raw::new(&sim);
    sim.seed(vec![calcom_sim::SeedBooking::at(later(&sim, 2))]).unwrap();
    sim.subscribe_webhooks("http://127.0.0.1:9/none", None);
    sim.advance_clock(chrono::Duration::hours(1));
    raw.get("/v2/event-types").await;

    assert_eq!(raw.control(Method::POST, "/_sim/reset", None).await.status().as_u16(), 204);

    let (_, health) = json(raw.control(Method::GET, "/_sim/health", None).await).await;
    assert_eq!(health, json!({"status": "ok", "bookings": 0}));
    let (_, clock) = json(raw.control(Method::GET, "/_sim/clock", None).await).await;
    assert_eq!(clock["offsetSeconds"], 0.0);
    let (_, hooks) = json(raw.control(Method::GET, "/_sim/webhooks", None).await).await;
    assert_eq!(hooks["subscribers"], json!([]));
    assert_eq!(sim.counters().total, 0);
}

#[tokio::test]
async fn the_state_file_survives_a_restart() {
    let path = std::env::temp_dir().join(format!("calcom-sim-{}.json", uuid::Uuid::new_v4().simple()));
    let config = || SimConfig::default().with_state_file(&path);

    let first = spawn(config()).await.unwrap();
    let uids = first.seed(vec![calcom_sim::SeedBooking::at(later(&first, 3)); 3]).unwrap();
    first.subscribe_webhooks("http://127.0.0.1:9/hook", Some("secret".into()));
    let before = first.bookings();
    first.shutdown().await;

    let second = spawn(config()).await.unwrap();
    assert_eq!(second.bookings(), before, "every booking, field for field");
    assert_eq!(second.webhooks()[0].subscriber_url, "http://127.0.0.1:9/hook");
    assert!(second.webhooks()[0].has_secret);

    // Changes are written without a shutdown too (debounced).
    assert!(second.delete(&uids[0]));
    let deadline = Instant::now() + Duration::from_secs(5);
    let saved = loop {
        let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if saved["bookings"].as_array().map(Vec::len) == Some(2) || Instant::now() > deadline {
            break saved;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(saved["bookings"].as_array().map(Vec::len), Some(2));
    second.shutdown().await;

    let third = spawn(config()).await.unwrap();
    let created = third.seed(vec![calcom_sim::SeedBooking::at(later(&third, 3))]).unwrap();
    let ids: Vec<i64> = third.bookings().iter().map(|b| b.id).collect();
    assert_eq!(third.booking(&created[0]).unwrap().id, 4, "ids continue after the saved ones: {ids:?}");
    third.shutdown().await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_corrupt_state_file_is_an_error_not_a_fresh_start() {
    let path = std::env::temp_dir().join(format!("calcom-sim-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, b"{ not json").unwrap();
    let started = spawn(SimConfig::default().with_state_file(&path)).await;
    assert!(matches!(started, Err(calcom_sim::SimError::State { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), b"{ not json", "left untouched");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn the_simulator_serves_on_a_given_listener() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(calcom_sim::serve(listener, SimConfig::default()));
    let health: Value = reqwest::get(format!("{base}/_sim/health")).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    server.abort();
}

#[tokio::test]
async fn bad_control_requests_name_the_problem() {
    let sim = sim_with(SimConfig::default()).await;
    let raw = Raw::new(&sim);
    let (status, body) =
        json(raw.control(Method::POST, "/_sim/bookings", Some(json!([{"start": "soon"}]))).await).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("invalid"), "{body}");
    let (status, _) =
        json(raw.control(Method::POST, "/_sim/webhooks", Some(json!({"subscriberUrl": "not a url"}))).await).await;
    assert_eq!(status, 400);
    let (status, _) = json(raw.control(Method::PATCH, "/_sim/bookings/nope", Some(json!({}))).await).await;
    assert_eq!(status, 404);
}
