//! The simulator's raw answers against the contract (shared/calcom-api.md):
//! field names, types, casing, envelopes, pagination, status codes,
//! headers and webhooks — read as plain JSON, not through our own types,
//! so a mistake shared by client and simulator cannot hide here.

mod calcom_support;

use calcom_sim::{RateLimit, SeedBooking, SimConfig, SimHandle};
use calcom_support::{json, later, sim, sim_with, Raw, WebhookSink, KEY, VERSION};
use engine::calcom::webhook;
use reqwest::Method;
use serde_json::{json, Value};

fn is_instant(v: &Value) -> bool {
    // Cal.com's format: 2025-10-13T08:00:00.000Z
    let Some(s) = v.as_str() else { return false };
    s.len() == 24
        && s.ends_with('Z')
        && s.as_bytes()[10] == b'T'
        && s.as_bytes()[19] == b'.'
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn string_or_null(v: &Value) -> bool {
    v.is_string() || v.is_null()
}

fn instant_or_null(v: &Value) -> bool {
    is_instant(v) || v.is_null()
}

/// Asserts `object` has `field` and that its value passes `check`.
fn field(object: &Value, name: &str, check: fn(&Value) -> bool) {
    let value = object.get(name).unwrap_or_else(|| panic!("missing field {name:?} in {object}"));
    assert!(check(value), "field {name:?} has the wrong type: {value}");
}

/// A field Cal.com leaves `undefined` (so absent) unless it has a value.
fn optional(object: &Value, name: &str, check: fn(&Value) -> bool) {
    if let Some(value) = object.get(name) {
        assert!(check(value), "field {name:?} has the wrong type: {value}");
    }
}

fn assert_booking_shape(b: &Value) {
    field(b, "id", Value::is_i64);
    field(b, "uid", |v| v.as_str().is_some_and(|s| s.len() == 22 && s.chars().all(|c| c.is_ascii_alphanumeric())));
    field(b, "title", Value::is_string);
    field(b, "description", string_or_null);
    field(b, "status", |v| {
        matches!(v.as_str(), Some("accepted" | "pending" | "cancelled" | "rejected" | "awaiting_host"))
    });
    field(b, "start", is_instant);
    field(b, "end", is_instant);
    field(b, "duration", Value::is_i64);
    field(b, "eventTypeId", Value::is_i64);
    field(b, "eventType", Value::is_object);
    field(&b["eventType"], "id", Value::is_i64);
    field(&b["eventType"], "slug", Value::is_string);
    field(b, "hosts", |v| v.as_array().is_some_and(|a| !a.is_empty()));
    for host in b["hosts"].as_array().into_iter().flatten() {
        // A number, or "unknown" when the host's user was deleted.
        field(host, "id", |v| v.is_i64() || v == "unknown");
        field(host, "name", string_or_null);
        field(host, "email", Value::is_string);
        field(host, "username", string_or_null);
        optional(host, "timeZone", Value::is_string);
    }
    field(b, "attendees", Value::is_array);
    for attendee in b["attendees"].as_array().into_iter().flatten() {
        for name in ["name", "email", "timeZone"] {
            field(attendee, name, Value::is_string);
        }
        field(attendee, "language", string_or_null);
        field(attendee, "absent", Value::is_boolean);
        optional(attendee, "phoneNumber", Value::is_string);
    }
    field(b, "guests", Value::is_array);
    field(b, "location", string_or_null);
    field(b, "meetingUrl", string_or_null);
    field(b, "metadata", Value::is_object);
    field(b, "bookingFieldsResponses", Value::is_object);
    for name in
        ["cancellationReason", "cancelledByEmail", "reschedulingReason", "rescheduledFromUid", "rescheduledToUid"]
    {
        optional(b, name, Value::is_string);
    }
    field(b, "createdAt", is_instant);
    // `DateTime? @updatedAt`: null on rows older than the column.
    field(b, "updatedAt", instant_or_null);
    field(b, "icsUid", string_or_null);
    field(b, "absentHost", Value::is_boolean);
    field(b, "rating", |v| v.is_null() || v.is_number());
}

fn assert_error_envelope(body: &Value) {
    assert_eq!(body["status"], "error", "{body}");
    field(body, "timestamp", is_instant);
    field(body, "path", |v| v.as_str().is_some_and(|p| p.starts_with('/')));
    field(&body["error"], "code", Value::is_string);
    field(&body["error"], "message", Value::is_string);
    field(&body["error"], "details", Value::is_object);
    field(&body["error"]["details"], "statusCode", Value::is_i64);
}

#[tokio::test]
async fn a_booking_has_every_contract_field_with_its_type() {
    let sim = sim().await;
    let uid = sim.seed(vec![SeedBooking::at(later(&sim, 24))]).unwrap().remove(0);

    let (status, body) = json(Raw::new(&sim).get(&format!("/v2/bookings/{uid}")).await).await;

    assert_eq!(status, 200);
    assert_eq!(body["status"], "success");
    assert_booking_shape(&body["data"]);
    assert_eq!(body["data"]["uid"], uid.as_str());
    assert_eq!(body["data"]["duration"], 30);
    assert_eq!(body["data"]["eventType"], json!({"id": 1, "slug": "30min"}));
}

async fn seed_hours(sim: &SimHandle, hours: &[i64]) -> Vec<String> {
    sim.seed(hours.iter().map(|&h| SeedBooking::at(later(sim, h))).collect()).unwrap()
}

#[tokio::test]
async fn a_listing_has_the_envelope_and_every_pagination_field() {
    let sim = sim().await;
    seed_hours(&sim, &[1, 2, 3, 4, 5]).await;

    let (status, body) = json(Raw::new(&sim).get("/v2/bookings?take=2&skip=2").await).await;

    assert_eq!(status, 200);
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(2));
    body["data"].as_array().unwrap().iter().for_each(assert_booking_shape);
    assert_eq!(
        body["pagination"],
        json!({"totalItems": 5, "remainingItems": 1, "returnedItems": 2, "itemsPerPage": 2,
               "currentPage": 2, "totalPages": 3, "hasNextPage": true, "hasPreviousPage": true})
    );
}

#[tokio::test]
async fn take_defaults_to_100_and_must_be_1_to_250() {
    let sim = sim().await;
    sim.seed((0..150).map(|i| SeedBooking::at(later(&sim, 1 + i))).collect()).unwrap();
    let raw = Raw::new(&sim);

    let (_, body) = json(raw.get("/v2/bookings").await).await;
    assert_eq!(body["pagination"]["itemsPerPage"], 100);
    assert_eq!(body["data"].as_array().map(Vec::len), Some(100));
    let (_, body) = json(raw.get("/v2/bookings?take=250").await).await;
    assert_eq!(body["data"].as_array().map(Vec::len), Some(150));

    for bad in ["take=0", "take=251", "take=ten", "skip=-1", "status=soon", "sortStart=up", "afterStart=yesterday"] {
        let (status, body) = json(raw.get(&format!("/v2/bookings?{bad}")).await).await;
        assert_eq!(status, 400, "{bad}");
        assert_error_envelope(&body);
    }
}

fn uids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data is an array")
        .iter()
        .map(|b| b["uid"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn every_filter_and_sort_of_the_contract_works() {
    let sim = sim().await;
    let now = sim.now();
    let at = |h: i64| (now + chrono::Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let ann = engine::calcom::NewAttendee {
        name: "Ann Smith".into(),
        email: "ann@example.com".into(),
        time_zone: "UTC".into(),
        phone_number: None,
        language: None,
    };
    let h = |hours: i64| now + chrono::Duration::hours(hours);
    let u = sim
        .seed(vec![
            // 0: upcoming, Ann, created long ago
            SeedBooking { attendee: Some(ann), created_at: Some(h(-100)), ..SeedBooking::at(h(10)) },
            // 1: past
            SeedBooking { created_at: Some(h(-50)), ..SeedBooking::at(h(-10)) },
            // 2: cancelled (upcoming time)
            SeedBooking { status: Some(engine::calcom::BookingStatus::Cancelled), ..SeedBooking::at(h(20)) },
            // 3: pending = unconfirmed, event type 2
            SeedBooking {
                status: Some(engine::calcom::BookingStatus::Pending),
                event_type_id: Some(2),
                ..SeedBooking::at(h(30))
            },
            // 4: recurring occurrence, updated recently
            SeedBooking {
                recurring_booking_uid: Some("series".into()),
                created_at: Some(h(-20)),
                updated_at: Some(h(-1)),
                ..SeedBooking::at(h(40))
            },
        ])
        .unwrap();
    let raw = Raw::new(&sim);
    let list = |query: String| {
        let raw = &raw;
        async move {
            let (status, body) = json(raw.get(&format!("/v2/bookings?{query}")).await).await;
            assert_eq!(status, 200, "{query}: {body}");
            uids(&body)
        }
    };
    let set = |items: &[usize]| items.iter().map(|&i| u[i].clone()).collect::<Vec<_>>();

    assert_eq!(list("status=upcoming".into()).await, set(&[0, 3, 4]));
    assert_eq!(list("status=past".into()).await, set(&[1]));
    assert_eq!(list("status=cancelled".into()).await, set(&[2]));
    assert_eq!(list("status=unconfirmed".into()).await, set(&[3]));
    assert_eq!(list("status=recurring".into()).await, set(&[4]));
    assert_eq!(list("status=past,cancelled".into()).await, set(&[1, 2]));
    assert_eq!(list(format!("afterStart={}", at(15))).await, set(&[2, 3, 4]));
    assert_eq!(list(format!("beforeEnd={}", at(15))).await, set(&[1, 0]));
    assert_eq!(list(format!("afterStart={}&beforeEnd={}", at(0), at(25))).await, set(&[0, 2]));
    assert_eq!(list(format!("afterCreatedAt={}", at(-30))).await, set(&[2, 3, 4]));
    assert_eq!(list(format!("beforeCreatedAt={}", at(-30))).await, set(&[1, 0]));
    assert_eq!(list(format!("afterUpdatedAt={}", at(-5))).await, set(&[2, 3, 4]));
    assert_eq!(list(format!("beforeUpdatedAt={}", at(-5))).await, set(&[1, 0]));
    // `Attendee.email = $1` on PostgreSQL: exact and case-sensitive.
    assert_eq!(list("attendeeEmail=ann@example.com".into()).await, set(&[0]));
    assert_eq!(list("attendeeEmail=ANN@example.com".into()).await, set(&[]));
    assert_eq!(list("attendeeName=Ann%20Smith".into()).await, set(&[0]));
    assert_eq!(list("attendeeName=ann".into()).await, set(&[]));
    assert_eq!(list(format!("bookingUid={}", u[3])).await, set(&[3]));
    assert_eq!(list("eventTypeId=2".into()).await, set(&[3]));
    assert_eq!(list("eventTypeIds=1,2".into()).await.len(), 5);
    assert_eq!(list("sortStart=desc".into()).await, set(&[4, 3, 2, 0, 1]));
    assert_eq!(list("sortEnd=asc".into()).await, set(&[1, 0, 2, 3, 4]));
    assert_eq!(list("sortCreated=asc".into()).await, set(&[0, 1, 4, 2, 3]));
    assert_eq!(list("sortUpdatedAt=desc&take=1".into()).await.len(), 1);
    // One sort key only, in Cal.com's priority: start wins over updated.
    assert_eq!(list("sortUpdatedAt=asc&sortStart=desc".into()).await, set(&[4, 3, 2, 0, 1]));
    assert_eq!(list("sortCreated=asc&sortEnd=desc".into()).await, set(&[4, 3, 2, 0, 1]));
    // A single status has its own order: past and cancelled newest first.
    assert_eq!(list("status=past,cancelled&sortStart=desc".into()).await, set(&[2, 1]));
}

#[tokio::test]
async fn updated_at_may_be_null_and_then_sorts_first_descending_and_never_matches_after_updated_at() {
    let sim = sim().await;
    let now = sim.now();
    let h = |hours: i64| now + chrono::Duration::hours(hours);
    let u = sim
        .seed(vec![
            SeedBooking { created_at: Some(h(-100)), never_updated: true, ..SeedBooking::at(h(5)) },
            SeedBooking { created_at: Some(h(-10)), updated_at: Some(h(-2)), ..SeedBooking::at(h(6)) },
            SeedBooking { created_at: Some(h(-9)), updated_at: Some(h(-1)), ..SeedBooking::at(h(7)) },
        ])
        .unwrap();
    let raw = Raw::new(&sim);
    let (_, body) = json(raw.get(&format!("/v2/bookings/{}", u[0])).await).await;
    assert_eq!(body["data"]["updatedAt"], Value::Null);
    let (_, body) = json(raw.get("/v2/bookings?sortUpdatedAt=desc").await).await;
    assert_eq!(uids(&body), [u[0].clone(), u[2].clone(), u[1].clone()], "NULLS FIRST when descending (PostgreSQL)");
    let (_, body) = json(raw.get("/v2/bookings?sortUpdatedAt=asc").await).await;
    assert_eq!(uids(&body), [u[1].clone(), u[2].clone(), u[0].clone()], "NULLS LAST when ascending");
    let since = (now - chrono::Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (_, body) = json(raw.get(&format!("/v2/bookings?afterUpdatedAt={since}")).await).await;
    assert_eq!(uids(&body), [u[1].clone(), u[2].clone()], "updatedAt >= X is never true for NULL");
}

#[tokio::test]
async fn status_buckets_follow_the_handler() {
    let sim = sim().await;
    let now = sim.now();
    let h = |minutes: i64| now + chrono::Duration::minutes(minutes);
    let u = sim
        .seed(vec![
            // 0: started 2 h ago, still running: too old for upcoming, not yet past
            SeedBooking { end: Some(h(60)), ..SeedBooking::at(h(-120)) },
            // 1: started 30 min ago, still running for half an hour: upcoming
            SeedBooking { event_type_id: Some(2), ..SeedBooking::at(h(-30)) },
            // 2: waiting for its host: upcoming (not cancelled or rejected)
            SeedBooking { status: Some(engine::calcom::BookingStatus::AwaitingHost), ..SeedBooking::at(h(60)) },
            // 3: rejected: cancelled bucket
            SeedBooking { status: Some(engine::calcom::BookingStatus::Rejected), ..SeedBooking::at(h(90)) },
            // 4: a host-less booking of the past
            SeedBooking { host_missing: true, ..SeedBooking::at(h(-600)) },
        ])
        .unwrap();
    let raw = Raw::new(&sim);
    let list = |query: &'static str| {
        let raw = &raw;
        async move { uids(&json(raw.get(&format!("/v2/bookings?{query}")).await).await.1) }
    };
    assert_eq!(list("status=upcoming").await, [u[1].clone(), u[2].clone()]);
    assert_eq!(list("status=past").await, [u[4].clone()]);
    assert_eq!(list("status=cancelled").await, [u[3].clone()]);
    let (_, body) = json(raw.get(&format!("/v2/bookings/{}", u[4])).await).await;
    assert_booking_shape(&body["data"]);
    assert_eq!(
        body["data"]["hosts"],
        json!([{"id": "unknown", "name": null, "email": "unknown", "username": "unknown"}])
    );
    let (_, body) = json(raw.get(&format!("/v2/bookings/{}", u[2])).await).await;
    assert_eq!(body["data"]["status"], "awaiting_host");
}

#[tokio::test]
async fn create_answers_201_and_refuses_bad_input_with_400() {
    let sim = sim().await;
    let raw = Raw::new(&sim);
    let start = later(&sim, 24).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let good = json!({
        "start": start, "eventTypeId": 2,
        "attendee": {"name": "Ann", "email": "ann@example.com", "timeZone": "Europe/Berlin", "phoneNumber": "+4930123"},
        "metadata": {"calsync_appointment_id": "42"},
        "bookingFieldsResponses": {"notes": "first visit"}
    });

    let (status, body) = json(raw.post("/v2/bookings", good.clone()).await).await;
    assert_eq!(status, 201);
    assert_eq!(body["status"], "success");
    assert_booking_shape(&body["data"]);
    assert_eq!(body["data"]["start"], start.as_str());
    assert_eq!(body["data"]["duration"], 60);
    assert_eq!(body["data"]["metadata"], json!({"calsync_appointment_id": "42"}));
    assert_eq!(body["data"]["bookingFieldsResponses"]["notes"], "first visit");
    assert_eq!(body["data"]["attendees"][0]["phoneNumber"], "+4930123");

    let too_many: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let bad_inputs = [
        json!({"eventTypeId": 1, "attendee": good["attendee"]}),
        json!({"start": start, "eventTypeId": 1, "attendee": {"name": "Ann", "email": "nope", "timeZone": "UTC"}}),
        json!({"start": start, "eventTypeId": 1, "attendee": {"name": "Ann", "email": "a@b.de", "timeZone": "Mars/Base"}}),
        json!({"start": start, "eventTypeId": 1, "attendee": good["attendee"], "metadata": too_many}),
        json!({"start": "2001-01-01T00:00:00.000Z", "eventTypeId": 1, "attendee": good["attendee"]}),
    ];
    for bad in bad_inputs {
        let (status, body) = json(raw.post("/v2/bookings", bad.clone()).await).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_error_envelope(&body);
    }
    let (status, body) =
        json(raw.post("/v2/bookings", json!({"start": start, "eventTypeId": 99, "attendee": good["attendee"]})).await)
            .await;
    assert_eq!(status, 404);
    assert_error_envelope(&body);
}

#[tokio::test]
async fn cancel_answers_200_and_reschedule_201_with_a_new_booking() {
    let sim = sim().await;
    let raw = Raw::new(&sim);
    let [a, b]: [String; 2] = seed_hours(&sim, &[24, 25]).await.try_into().unwrap();

    let (status, body) =
        json(raw.post(&format!("/v2/bookings/{a}/cancel"), json!({"cancellationReason": "ill"})).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["data"]["status"].as_str(), body["data"]["cancellationReason"].as_str()),
        (Some("cancelled"), Some("ill"))
    );
    field(&body["data"], "cancelledByEmail", Value::is_string);
    let (status, body) = json(raw.post(&format!("/v2/bookings/{a}/cancel"), json!({})).await).await;
    assert_eq!(status, 400, "cancelling twice");
    assert_error_envelope(&body);

    let new_start = later(&sim, 48).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (status, body) = json(
        raw.post(&format!("/v2/bookings/{b}/reschedule"), json!({"start": new_start, "reschedulingReason": "later"}))
            .await,
    )
    .await;
    assert_eq!(status, 201);
    assert_booking_shape(&body["data"]);
    let new_uid = body["data"]["uid"].as_str().unwrap().to_owned();
    assert_ne!(new_uid, b);
    assert_eq!(body["data"]["rescheduledFromUid"], b.as_str());
    assert_eq!(body["data"]["start"], new_start.as_str());
    assert_eq!(body["data"]["status"], "accepted");

    let (_, old) = json(raw.get(&format!("/v2/bookings/{b}")).await).await;
    assert_eq!(old["data"]["status"], "cancelled");
    assert_eq!(old["data"]["rescheduledToUid"], new_uid.as_str());
    let (status, _) = json(raw.post(&format!("/v2/bookings/{b}/reschedule"), json!({"start": new_start})).await).await;
    assert_eq!(status, 400, "a cancelled booking cannot be moved");
}

#[tokio::test]
async fn errors_use_the_error_envelope_with_the_right_status() {
    let sim = sim().await;
    let raw = Raw::new(&sim);

    let (status, body) = json(raw.get("/v2/bookings/doesnotexist").await).await;
    assert_eq!(status, 404);
    assert_error_envelope(&body);

    let url = format!("{}/v2/bookings", sim.base_url);
    let wrong_key =
        raw.http.get(&url).bearer_auth("cal_wrong").header("cal-api-version", VERSION).send().await.unwrap();
    let (status, body) = json(wrong_key).await;
    assert_eq!(status, 401);
    assert_error_envelope(&body);
    let (status, _) = json(raw.http.get(&url).header("cal-api-version", VERSION).send().await.unwrap()).await;
    assert_eq!(status, 401, "no key at all");

    let (status, body) = json(raw.http.get(&url).bearer_auth(KEY).send().await.unwrap()).await;
    assert_eq!(status, 400, "the bookings endpoints need their cal-api-version");
    assert_error_envelope(&body);
}

#[tokio::test]
async fn several_keys_can_be_accepted() {
    let sim = sim_with(SimConfig::default().with_api_keys(["cal_live_a", "cal_live_b"])).await;
    let raw = Raw::new(&sim);
    for (key, expected) in [("cal_live_a", 200), ("cal_live_b", 200), (KEY, 401)] {
        let response = raw.http.get(format!("{}/v2/event-types", sim.base_url)).bearer_auth(key).send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{key}");
    }
}

#[tokio::test]
async fn event_types_come_in_the_envelope() {
    let sim = sim().await;
    let (status, body) = json(Raw::new(&sim).get("/v2/event-types").await).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "success");
    let types = body["data"].as_array().unwrap();
    assert_eq!(types.len(), 3);
    for (t, (id, slug, minutes)) in types.iter().zip([(1, "30min", 30), (2, "60min", 60), (3, "weekly-45min", 45)]) {
        assert_eq!(
            (t["id"].as_i64(), t["slug"].as_str(), t["lengthInMinutes"].as_i64()),
            (Some(id), Some(slug), Some(minutes))
        );
        field(t, "title", Value::is_string);
    }
}

#[tokio::test]
async fn rate_limit_headers_count_down_then_429_blocks_for_60_seconds() {
    let sim = sim_with(SimConfig::default().with_rate_limit(Some(RateLimit::per_minute(3)))).await;
    let raw = Raw::new(&sim);

    for (remaining, after) in [(2, 0), (1, 10), (0, 20)] {
        if after > 0 {
            sim.advance_clock(chrono::Duration::seconds(10));
        }
        let response = raw.get("/v2/event-types").await;
        assert_eq!(response.status().as_u16(), 200);
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("X-RateLimit-Limit-Default").as_deref(), Some("3"));
        assert_eq!(header("X-RateLimit-Remaining-Default"), Some(remaining.to_string()));
        let reset: i64 = header("X-RateLimit-Reset-Default").unwrap().parse().unwrap();
        // Seconds from now until the window ends (`timeToExpire`), not an epoch.
        assert_eq!(reset, 60 - after, "reset after {after} s");
    }

    let response = raw.get("/v2/event-types").await;
    assert_eq!(response.status().as_u16(), 429);
    assert!(response.headers().get("retry-after").is_none(), "Cal.com's throttler sends no Retry-After");
    assert_eq!(response.headers()["x-ratelimit-remaining-default"], "0");
    assert_eq!(response.headers()["x-ratelimit-reset-default"], "60", "the block's remaining seconds");
    assert_error_envelope(&response.json().await.unwrap());

    // Blocked for 60 s from the offending request, whatever the window says.
    sim.advance_clock(chrono::Duration::seconds(30));
    let response = raw.get("/v2/event-types").await;
    assert_eq!(
        (response.status().as_u16(), response.headers()["x-ratelimit-reset-default"].to_str().unwrap()),
        (429, "30")
    );
    sim.advance_clock(chrono::Duration::seconds(31));
    assert_eq!(raw.get("/v2/event-types").await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_key_with_a_custom_limit_gets_its_limits_name_in_the_headers() {
    let limit = RateLimit::per_minute(500).named("Long");
    let sim = sim_with(SimConfig::default().with_rate_limit(Some(limit))).await;
    let response = Raw::new(&sim).get("/v2/event-types").await;
    assert_eq!(response.headers()["x-ratelimit-limit-long"], "500");
    assert_eq!(response.headers()["x-ratelimit-remaining-long"], "499");
    assert!(response.headers().get("x-ratelimit-remaining-default").is_none());
}

#[tokio::test]
async fn the_date_header_follows_the_simulators_clock() {
    let sim = sim().await;
    sim.advance_clock(chrono::Duration::days(400));
    let response = Raw::new(&sim).get("/v2/event-types").await;
    let date = chrono::DateTime::parse_from_rfc2822(response.headers()["date"].to_str().unwrap()).unwrap();
    assert!((date.timestamp() - sim.now().timestamp()).abs() <= 1);
}

#[tokio::test]
async fn the_cursor_version_pages_by_cursor_with_one_status() {
    let sim = sim().await;
    seed_hours(&sim, &[1, 2, 3, 4, 5]).await;
    let raw = Raw::new(&sim);
    let get = |query: String| {
        let request = raw
            .http
            .get(format!("{}/v2/bookings?{query}", sim.base_url))
            .bearer_auth(KEY)
            .header("cal-api-version", "2026-05-01");
        async move { json(request.send().await.unwrap()).await }
    };

    let (status, first) = get("take=3".into()).await;
    assert_eq!(status, 200);
    assert_eq!(first["pagination"]["hasMore"], true);
    let cursor = first["pagination"]["nextCursor"].as_str().expect("a cursor").to_owned();
    let (_, second) = get(format!("take=3&cursor={cursor}")).await;
    assert_eq!(second["pagination"], json!({"nextCursor": null, "hasMore": false}));
    let mut all = uids(&first);
    all.extend(uids(&second));
    assert_eq!(all.len(), 5);

    for bad in ["status=upcoming,past", "skip=3", "cursor=garbage"] {
        let (status, body) = get(bad.into()).await;
        assert_eq!(status, 400, "{bad}");
        assert_error_envelope(&body);
    }
}

#[tokio::test]
async fn webhooks_are_signed_and_shaped_like_cal_com() {
    let sim = sim().await;
    let mut signed = WebhookSink::start().await;
    let mut unsigned = WebhookSink::start().await;
    let secret = "whsec_contract";
    sim.subscribe_webhooks(signed.url.clone(), Some(secret.into()));
    sim.subscribe_webhooks(unsigned.url.clone(), None);
    let raw = Raw::new(&sim);
    let start = later(&sim, 24).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let attendee = json!({"name": "Ann", "email": "ann@example.com", "timeZone": "Europe/Berlin"});

    let (_, created) =
        json(raw.post("/v2/bookings", json!({"start": start, "eventTypeId": 1, "attendee": attendee})).await).await;
    let uid = created["data"]["uid"].as_str().unwrap().to_owned();
    let later_start = later(&sim, 48).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (_, moved) =
        json(raw.post(&format!("/v2/bookings/{uid}/reschedule"), json!({"start": later_start})).await).await;
    let new_uid = moved["data"]["uid"].as_str().unwrap().to_owned();
    raw.post(&format!("/v2/bookings/{new_uid}/cancel"), json!({"cancellationReason": "ill"})).await;

    let mut events = Vec::new();
    for _ in 0..3 {
        let (headers, body) = signed.next().await;
        let signature = headers.get("x-cal-signature-256").expect("signed").to_str().unwrap();
        assert_eq!(signature, signature.to_lowercase(), "lower-case hex");
        assert!(webhook::verify(secret.as_bytes(), signature, &body), "HMAC-SHA256 of the raw body");
        events.push(serde_json::from_slice::<Value>(&body).unwrap());

        let (headers, _) = unsigned.next().await;
        assert_eq!(headers["x-cal-signature-256"], "no-secret-provided", "Cal.com's literal when there is no secret");
    }

    let triggers: Vec<&str> = events.iter().map(|e| e["triggerEvent"].as_str().unwrap()).collect();
    assert_eq!(triggers, ["BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"]);
    for event in &events {
        field(event, "createdAt", is_instant);
        let p = &event["payload"];
        for name in ["uid", "startTime", "endTime", "status", "title", "type"] {
            field(p, name, Value::is_string);
        }
        field(p, "attendees", |v| v.as_array().is_some_and(|a| a[0]["email"] == "ann@example.com"));
        field(p, "organizer", |v| v["email"].is_string() && v["timeZone"].is_string());
        assert!(p.get("start").is_none() && p.get("startTime").is_some(), "webhook names, not REST names");
    }
    assert_eq!(
        (events[0]["payload"]["uid"].as_str(), events[0]["payload"]["status"].as_str()),
        (Some(uid.as_str()), Some("ACCEPTED"))
    );
    assert_eq!(events[0]["payload"]["startTime"], start.replace(".000Z", "Z"));
    let rescheduled = &events[1]["payload"];
    assert_eq!(rescheduled["uid"], new_uid.as_str());
    assert_eq!(rescheduled["rescheduleUid"], uid.as_str());
    assert_eq!(rescheduled["rescheduleId"], created["data"]["id"]);
    assert_eq!(
        (events[2]["payload"]["status"].as_str(), events[2]["payload"]["cancellationReason"].as_str()),
        (Some("CANCELLED"), Some("ill"))
    );

    // Typed reading of the same bodies works too.
    let parsed: webhook::WebhookEvent = serde_json::from_value(events[1].clone()).unwrap();
    assert_eq!(parsed.trigger_event, webhook::Trigger::BookingRescheduled);
    // The simulator counts a delivery once the subscriber has answered it.
    for _ in 0..100 {
        if sim.counters().webhooks_delivered == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(sim.counters().webhooks_delivered, 6);
}

#[tokio::test]
async fn unknown_paths_answer_404_in_the_envelope() {
    let sim = sim().await;
    let (status, body) = json(Raw::new(&sim).control(Method::GET, "/v2/nothing-here", None).await).await;
    assert_eq!(status, 404);
    assert_error_envelope(&body);
}
