//! The Cal.com client against the simulator: every endpoint, every error
//! class, paging cost, and pacing under the rate limit.

mod calcom_support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use calcom_sim::{endpoint, BookingEdit, Faults, GenerateSpec, RateLimit, SeedBooking, SimConfig};
use calcom_support::{client, client_with, later, sim, sim_with};
use chrono::Utc;
use engine::calcom::{
    BookingQuery, BookingStatus, CalcomClient, CalcomError, ClientConfig, CreateBooking, NewAttendee, SortField,
    SortOrder, StatusFilter,
};
use engine::verify::compare::RemoteStatus;
use engine::verify::source::{BookingSource, BookingWriter, NewBooking, SourceError};

fn new_booking(start: chrono::DateTime<Utc>, email: &str) -> CreateBooking {
    CreateBooking {
        start,
        event_type_id: 1,
        attendee: NewAttendee {
            name: "Ann Example".into(),
            email: email.into(),
            time_zone: "Europe/Berlin".into(),
            phone_number: Some("+49 30 1234567".into()),
            language: Some("de".into()),
        },
        metadata: [("calsync_appointment_id".to_owned(), "42".to_owned())].into(),
        booking_fields_responses: Default::default(),
        guests: vec![],
        location: None,
    }
}

#[tokio::test]
async fn gets_a_booking_by_uid_with_every_field_typed() {
    let sim = sim().await;
    let start = later(&sim, 24);
    let uid = &sim
        .seed(vec![SeedBooking { metadata: [("k".into(), "v".into())].into(), ..SeedBooking::at(start) }])
        .unwrap()[0];

    let booking = client(&sim).booking(uid).await.unwrap();

    assert_eq!(&booking.uid, uid);
    assert_eq!(booking.status, BookingStatus::Accepted);
    assert_eq!((booking.start, booking.end, booking.duration), (start, start + chrono::Duration::minutes(30), 30));
    assert_eq!(booking.event_type.map(|e| e.slug), Some("30min".into()));
    assert_eq!(booking.attendees.len(), 1);
    assert_eq!(booking.metadata.get("k"), Some(&serde_json::json!("v")));
    assert!(booking.updated_at.is_some());
}

#[tokio::test]
async fn an_unknown_uid_is_not_found_and_a_wrong_key_unauthorized() {
    let sim = sim().await;
    assert!(matches!(client(&sim).booking("nope").await, Err(CalcomError::NotFound { .. })));

    let wrong = client_with(&sim, |c| c.api_key = "cal_wrong".into());
    assert!(matches!(wrong.booking("nope").await, Err(CalcomError::Unauthorized { status: 401, .. })));
    assert!(matches!(wrong.event_types().await, Err(CalcomError::Unauthorized { .. })));
}

#[tokio::test]
async fn the_uid_of_a_recurring_series_yields_its_first_occurrence() {
    let sim = sim().await;
    let seeds = [48, 24, 72]
        .map(|h| SeedBooking { recurring_booking_uid: Some("series-1".into()), ..SeedBooking::at(later(&sim, h)) });
    let uids = sim.seed(seeds.to_vec()).unwrap();
    let client = client(&sim);

    let first = client.booking("series-1").await.unwrap();
    assert_eq!(first.uid, uids[1], "the earliest occurrence");
    assert_eq!(first.recurring_booking_uid.as_deref(), Some("series-1"));
    assert_eq!(client.booking(&uids[2]).await.unwrap().uid, uids[2], "an occurrence's own uid answers with it");
}

/// Cal.com may answer an occurrence's uid with the whole series: the
/// client must pick the occurrence asked for, not the first.
#[tokio::test]
async fn from_an_array_the_occurrence_with_the_uid_is_taken() {
    let series = serde_json::json!({"status": "success", "data": [occurrence("occ-a", 1), occurrence("occ-b", 2)]});
    let app =
        axum::Router::new().route("/v2/bookings/{uid}", axum::routing::get(move || async move { axum::Json(series) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = CalcomClient::new(ClientConfig::new(base, "cal_x")).unwrap();
    assert_eq!(client.booking("occ-b").await.unwrap().id, 2);
    assert_eq!(client.booking("series").await.unwrap().id, 1);
}

fn occurrence(uid: &str, id: i64) -> serde_json::Value {
    serde_json::json!({"id": id, "uid": uid, "status": "accepted", "start": "2030-01-01T08:00:00.000Z",
        "end": "2030-01-01T08:30:00.000Z", "createdAt": "2029-12-01T00:00:00.000Z", "recurringBookingUid": "series"})
}

/// Acceptance (a): 10,000 bookings cost ceil(10000/250) = 40 list calls.
#[tokio::test]
async fn ten_thousand_bookings_are_listed_in_exactly_40_calls() {
    let sim = sim().await;
    let (from, to) = (later(&sim, 24), later(&sim, 24 * 31));
    let seeded: HashSet<String> = sim
        .generate(GenerateSpec { count: 10_000, from, to, event_type_id: None, status: None })
        .unwrap()
        .into_iter()
        .collect();
    sim.reset_counters();

    let listing = client(&sim).list_all_bookings(&BookingQuery::window(from, to)).await.unwrap();

    assert_eq!(sim.counters().calls(endpoint::LIST_BOOKINGS), 40, "the simulator counted 40 list calls");
    assert_eq!(listing.api_calls, 40, "and the client reports the same cost");
    assert_eq!(listing.bookings.len(), 10_000);
    let listed: HashSet<String> = listing.bookings.into_iter().map(|b| b.uid).collect();
    assert_eq!(listed, seeded, "every uid seen exactly once");
}

#[tokio::test]
async fn a_listing_that_changes_while_paged_is_started_over() {
    let sim = sim().await;
    let (from, to) = (later(&sim, 24), later(&sim, 48));
    sim.generate(GenerateSpec { count: 300, from, to, event_type_id: None, status: None }).unwrap();
    let client = client(&sim);

    // Page one, then a booking appears in the window: offsets shift.
    let query = BookingQuery::window(from, to);
    let page = client.list_bookings(&query.clone().take(250)).await.unwrap();
    sim.seed(vec![SeedBooking::at(from)]).unwrap();
    let listing = client.list_all_bookings(&query).await.unwrap();

    assert_eq!(page.pagination.total_items, 300);
    assert_eq!(listing.bookings.len(), 301, "the full, current listing");
}

#[tokio::test]
async fn filters_reach_the_server() {
    let sim = sim().await;
    let start = later(&sim, 24);
    let ann = NewAttendee {
        name: "Ann".into(),
        email: "ann@example.com".into(),
        time_zone: "UTC".into(),
        phone_number: None,
        language: None,
    };
    sim.seed(vec![
        SeedBooking { attendee: Some(ann), ..SeedBooking::at(start) },
        SeedBooking { status: Some(BookingStatus::Cancelled), ..SeedBooking::at(start) },
        SeedBooking { event_type_id: Some(2), ..SeedBooking::at(start) },
    ])
    .unwrap();
    let client = client(&sim);

    // Cal.com compares `Attendee.email = $1` on PostgreSQL: exact, case-sensitive.
    let by_email = |email: &str| BookingQuery { attendee_email: Some(email.into()), ..BookingQuery::default() };
    assert_eq!(client.list_bookings(&by_email("ann@example.com")).await.unwrap().bookings.len(), 1);
    assert_eq!(client.list_bookings(&by_email("ANN@example.com")).await.unwrap().bookings.len(), 0);
    let cancelled = client.list_bookings(&BookingQuery::default().status(StatusFilter::Cancelled)).await.unwrap();
    assert_eq!(cancelled.bookings.iter().map(|b| b.status.clone()).collect::<Vec<_>>(), [BookingStatus::Cancelled]);
    let long = BookingQuery { event_type_id: Some(2), ..BookingQuery::default() };
    assert_eq!(client.list_bookings(&long).await.unwrap().bookings[0].duration, 60);
}

#[tokio::test]
async fn changes_since_a_watermark_are_listed_whatever_never_updated_bookings_there_are() {
    let sim = sim().await;
    let (from, to) = (later(&sim, 24), later(&sim, 48));
    let long_ago = sim.now() - chrono::Duration::days(3);
    let seeds: Vec<SeedBooking> = (0..20)
        .map(|i| SeedBooking {
            created_at: Some(long_ago),
            // Every fourth one is older than Cal.com's updatedAt column.
            never_updated: i % 4 == 0,
            ..SeedBooking::at(from + chrono::Duration::minutes(30 * i))
        })
        .collect();
    let uids = sim.seed(seeds).unwrap();
    let client = client(&sim);
    let count = client.fingerprint(&BookingQuery::window(from, to)).await.unwrap();
    assert_eq!(count.total_items, Some(20));

    // What a `sortUpdatedAt=desc` "newest change" would read: a NULL row, which never changes.
    let newest = BookingQuery::window(from, to).take(1).sort(SortField::UpdatedAt, SortOrder::Desc);
    let top = client.list_bookings(&newest).await.unwrap();
    assert_eq!(top.bookings[0].updated_at, None, "PostgreSQL sorts NULLs first when descending");

    let watermark = sim.now() - chrono::Duration::minutes(5);
    sim.edit(&uids[3], BookingEdit { status: Some(BookingStatus::Cancelled), ..BookingEdit::default() }).unwrap();
    sim.edit(&uids[8], BookingEdit { start: Some(to - chrono::Duration::hours(1)), ..BookingEdit::default() }).unwrap();

    sim.reset_counters();
    let changed = client.bookings_updated_since(watermark).await.unwrap();
    let mut changed: Vec<&str> = changed.bookings.iter().map(|b| b.uid.as_str()).collect();
    changed.sort_unstable();
    let mut expected = [uids[3].as_str(), uids[8].as_str()];
    expected.sort_unstable();
    assert_eq!(changed, expected, "only the changed ones, the never-updated one among them");
    assert_eq!(sim.counters().calls(endpoint::LIST_BOOKINGS), 1, "one page of changes is one call");
    let unchanged = client.bookings_updated_since(sim.now() + chrono::Duration::seconds(1)).await.unwrap();
    assert!(unchanged.bookings.is_empty(), "NULL updatedAt rows never match afterUpdatedAt");
}

#[tokio::test]
async fn create_cancel_and_reschedule() {
    let sim = sim().await;
    let client = client(&sim);
    let start = later(&sim, 30);

    let created = client.create_booking(&new_booking(start, "ann@example.com")).await.unwrap().remove(0);
    assert_eq!((created.status, created.start, created.duration), (BookingStatus::Accepted, start, 30));
    assert_eq!(created.uid.len(), 22);
    assert_eq!(created.attendees[0].phone_number.as_deref(), Some("+49 30 1234567"));

    let moved =
        client.reschedule_booking(&created.uid, start + chrono::Duration::hours(2), Some("moved")).await.unwrap();
    assert_ne!(moved.uid, created.uid, "a reschedule is a new booking");
    assert_eq!(moved.rescheduled_from_uid.as_deref(), Some(created.uid.as_str()));
    assert_eq!(moved.start, start + chrono::Duration::hours(2));
    let old = client.booking(&created.uid).await.unwrap();
    assert_eq!((old.status, old.rescheduled_to_uid.as_deref()), (BookingStatus::Cancelled, Some(moved.uid.as_str())));

    let cancelled = client.cancel_booking(&moved.uid, Some("no longer needed")).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(cancelled.cancellation_reason.as_deref(), Some("no longer needed"));
    assert!(matches!(client.cancel_booking(&moved.uid, None).await, Err(CalcomError::BadRequest { status: 400, .. })));
    assert!(matches!(client.cancel_booking("nope", None).await, Err(CalcomError::NotFound { .. })));
}

#[tokio::test]
async fn refused_creations_are_bad_requests_or_not_found() {
    let sim = sim().await;
    let client = client(&sim);
    let past = sim.now() - chrono::Duration::hours(1);
    assert!(matches!(client.create_booking(&new_booking(past, "a@b.de")).await, Err(CalcomError::BadRequest { .. })));
    assert!(matches!(
        client.create_booking(&new_booking(later(&sim, 5), "not-an-email")).await,
        Err(CalcomError::BadRequest { .. })
    ));
    let unknown_type = CreateBooking { event_type_id: 999, ..new_booking(later(&sim, 5), "a@b.de") };
    assert!(matches!(client.create_booking(&unknown_type).await, Err(CalcomError::NotFound { .. })));
}

#[tokio::test]
async fn event_types_are_listed() {
    let sim = sim().await;
    let types = client(&sim).event_types().await.unwrap();
    let summary: Vec<(i64, &str, i64)> = types.iter().map(|t| (t.id, t.slug.as_str(), t.length_in_minutes)).collect();
    assert_eq!(summary, [(1, "30min", 30), (2, "60min", 60), (3, "weekly-45min", 45)]);
}

#[tokio::test]
async fn cursor_paging_walks_every_page() {
    let sim = sim().await;
    let (from, to) = (later(&sim, 24), later(&sim, 240));
    let seeded: HashSet<String> = sim
        .generate(GenerateSpec { count: 600, from, to, event_type_id: None, status: None })
        .unwrap()
        .into_iter()
        .collect();
    let client = client(&sim);

    let listing = client.list_all_bookings_cursor(&BookingQuery::window(from, to)).await.unwrap();
    assert_eq!(listing.api_calls, 3);
    assert_eq!(listing.bookings.iter().map(|b| b.uid.clone()).collect::<HashSet<_>>(), seeded);

    // One status per call: two statuses cost two walks.
    let two = BookingQuery::window(from, to).take(250).status(StatusFilter::Upcoming).status(StatusFilter::Cancelled);
    let listing = client.list_all_bookings_cursor(&two).await.unwrap();
    assert_eq!((listing.bookings.len(), listing.api_calls), (600, 4));
}

#[tokio::test]
async fn a_429_storm_is_waited_out_within_the_retry_budget() {
    let sim = sim().await;
    let client = client(&sim);
    sim.set_faults(Faults { rate_limit_storm: 2, storm_retry_after: 1, ..Faults::default() });

    let started = Instant::now();
    let types = client.event_types().await.expect("the caller never sees the 429s");

    assert_eq!(types.len(), 3);
    assert!(started.elapsed() >= Duration::from_secs(2), "the 429's Reset was waited out twice");
    assert_eq!(client.api_calls(), 3);
    assert_eq!(sim.counters().answered(429), 2);
}

#[tokio::test]
async fn a_storm_longer_than_the_retry_budget_surfaces_as_rate_limited() {
    let sim = sim().await;
    let client = client_with(&sim, |c| c.max_rate_limit_retries = 1);
    sim.set_faults(Faults { rate_limit_storm: 5, storm_retry_after: 0, ..Faults::default() });
    assert_eq!(client.event_types().await, Err(CalcomError::RateLimited { retry_after: Some(Duration::ZERO) }));
    assert_eq!(client.api_calls(), 2);

    // A Reset beyond what the client will wait is returned at once.
    let impatient = client_with(&sim, |c| c.max_retry_after = Duration::from_secs(10));
    sim.set_faults(Faults { rate_limit_storm: 1, storm_retry_after: 60, ..Faults::default() });
    let started = Instant::now();
    assert_eq!(
        impatient.event_types().await,
        Err(CalcomError::RateLimited { retry_after: Some(Duration::from_secs(60)) })
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn server_errors_outages_and_garbage_are_told_apart() {
    let sim = sim().await;
    let client = client(&sim);

    sim.set_faults(Faults { error_rate: 1.0, error_status: 502, ..Faults::default() });
    assert!(matches!(client.booking("x").await, Err(CalcomError::Server { status: 502, .. })));

    sim.set_faults(Faults { outage: true, ..Faults::default() });
    let outage = client.list_bookings(&BookingQuery::default()).await.unwrap_err();
    assert!(matches!(outage, CalcomError::Server { status: 503, .. }), "{outage:?}");
    assert!(outage.is_transient());

    sim.set_faults(Faults { malformed: true, ..Faults::default() });
    assert!(matches!(client.booking("x").await, Err(CalcomError::Malformed(_))));

    sim.reset_faults();
    assert!(matches!(client.booking("x").await, Err(CalcomError::NotFound { .. })), "healthy again");
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let sim = sim().await;
    let client = client_with(&sim, |c| c.request_timeout = Duration::from_millis(300));
    sim.set_faults(Faults { hang_ms: 5_000, ..Faults::default() });

    let started = Instant::now();
    assert_eq!(client.booking("x").await, Err(CalcomError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(2), "the client's timeout, not the hang, decided");
}

#[tokio::test]
async fn nothing_listening_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = CalcomClient::new(ClientConfig::new(base, "cal_x")).unwrap();
    assert!(matches!(client.booking("x").await, Err(CalcomError::Network(_))));
}

/// Acceptance (b): 500 requests under the simulator's limit of 120 per
/// window, and not one 429 — the client waits for each new window itself.
/// The window is 2 s instead of Cal.com's 60 s (same limit), so the test
/// takes ~10 s instead of 4 minutes; the mechanism is the same: the client
/// reads `X-RateLimit-Remaining/Reset-Default` and sleeps until the reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_requests_never_meet_a_429() {
    let window = Duration::from_secs(2);
    let sim = sim_with(SimConfig::default().with_rate_limit(Some(RateLimit::per_window(120, window)))).await;
    let client = client(&sim);
    assert_eq!(client.budget().limit, 120);

    let started = Instant::now();
    // Five callers share the client, as the verifier's tasks would.
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..100 {
                    client.event_types().await?;
                }
                Ok::<_, CalcomError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("no request failed");
    }
    let elapsed = started.elapsed();

    let counters = sim.counters();
    assert_eq!(counters.calls(endpoint::LIST_EVENT_TYPES), 500);
    assert_eq!(counters.answered(429), 0, "the simulator never had to refuse one");
    assert_eq!(client.api_calls(), 500, "so no request was retried");
    // 500 requests at 120 per window need at least four waits for a new window.
    assert!(elapsed >= window * 4, "the client paced itself: {elapsed:?}");
}

#[tokio::test]
async fn the_api_key_stays_out_of_debug_output() {
    let config = ClientConfig::new("https://api.cal.com", "cal_live_supersecret");
    let client = CalcomClient::new(config.clone()).unwrap();
    assert!(!format!("{config:?}").contains("supersecret"));
    assert!(!format!("{client:?}").contains("supersecret"));
}

#[tokio::test]
async fn as_a_booking_source_404_is_absence_and_401_is_the_key() {
    let sim = sim().await;
    let start = later(&sim, 24);
    let uid = &sim.seed(vec![SeedBooking::at(start)]).unwrap()[0];
    let client = client(&sim);

    let found = BookingSource::booking(&client, uid).await.unwrap().expect("present");
    assert_eq!((found.status, found.start), (RemoteStatus::Accepted, start));
    assert_eq!(BookingSource::booking(&client, "gone").await, Ok(None));

    let wrong = client_with(&sim, |c| c.api_key = "cal_wrong".into());
    assert_eq!(BookingSource::booking(&wrong, uid).await, Err(SourceError::Unauthorized));
    sim.set_faults(Faults { outage: true, ..Faults::default() });
    assert!(matches!(BookingSource::booking(&client, uid).await, Err(SourceError::Transient(_))));
}

#[tokio::test]
async fn a_window_listing_holds_exactly_the_bookings_starting_in_it() {
    let sim = sim().await;
    let (from, to) = (later(&sim, 24), later(&sim, 30));
    let uids = sim
        .seed(vec![
            SeedBooking::at(from),
            // Starts inside, ends after the window: still the window's.
            SeedBooking { event_type_id: Some(2), ..SeedBooking::at(to - chrono::Duration::minutes(30)) },
            SeedBooking::at(to),
            SeedBooking::at(from - chrono::Duration::minutes(30)),
        ])
        .unwrap();

    let listing = client(&sim).list_window(from, to).await.unwrap();

    let listed: HashSet<&str> = listing.bookings.iter().map(|b| b.uid.as_str()).collect();
    assert_eq!(listed, HashSet::from([uids[0].as_str(), uids[1].as_str()]));
    assert_eq!(listing.api_calls, 1);
}

#[tokio::test]
async fn as_a_booking_writer_changes_go_through_and_refusals_are_rejections() {
    let sim = sim().await;
    let client = client(&sim);
    let new = NewBooking {
        start: later(&sim, 10),
        event_type_id: 1,
        attendee_name: "Ann".into(),
        attendee_email: "ann@example.com".into(),
        attendee_time_zone: "Europe/Berlin".into(),
        attendee_phone: None,
        metadata: vec![("calsync_appointment_id".into(), "7".into())],
    };
    let created = BookingWriter::create(&client, &new).await.unwrap();
    assert_eq!(sim.booking(&created.uid).unwrap().metadata["calsync_appointment_id"], "7");

    let moved = BookingWriter::reschedule(&client, &created.uid, later(&sim, 12), "moved").await.unwrap();
    assert_ne!(moved.uid, created.uid);
    BookingWriter::cancel(&client, &moved.uid, "gone").await.unwrap();
    assert!(matches!(BookingWriter::cancel(&client, &moved.uid, "again").await, Err(SourceError::Rejected(_))));
}

// ---- Cal.com as it really behaves (shared/calcom-api.md) ---------------------

/// Keys with custom limits get their limit's own name in the headers; the
/// client reads any name and still never meets a 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_limit_name_is_paced_like_the_default_one() {
    let limit = RateLimit::per_window(30, Duration::from_secs(1)).named("Long");
    let sim = sim_with(SimConfig::default().with_rate_limit(Some(limit))).await;
    let client = client_with(&sim, |c| c.budget = engine::calcom::RateBudget::default());
    for _ in 0..90 {
        client.event_types().await.expect("paced, never refused");
    }
    assert_eq!(client.budget().limit, 30, "learned from X-RateLimit-Limit-Long");
    assert_eq!(sim.counters().answered(429), 0);
}

/// Another client on the same key spends the budget: its 429s carry no
/// Retry-After, only `Reset` in seconds, and ours waits that out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_without_retry_after_is_waited_out_by_its_reset() {
    let limit = RateLimit::per_window(5, Duration::from_secs(2));
    let sim = sim_with(SimConfig::default().with_rate_limit(Some(limit))).await;
    engine::calcom::ensure_crypto_provider();
    let raw = reqwest::Client::new();
    let mut blocked = None;
    for _ in 0..6 {
        let answer = raw
            .get(format!("{}/v2/event-types", sim.base_url))
            .bearer_auth(calcom_sim::DEFAULT_API_KEY)
            .send()
            .await
            .unwrap();
        if answer.status() == 429 {
            blocked = Some(answer);
        }
    }
    let blocked = blocked.expect("the sixth request is over the limit");
    assert!(blocked.headers().get("retry-after").is_none(), "Cal.com sends no Retry-After");
    let reset: u64 = blocked.headers()["x-ratelimit-reset-default"].to_str().unwrap().parse().unwrap();
    assert_eq!(reset, 2, "seconds from now until the block ends, not an epoch");

    let client = client(&sim);
    let started = Instant::now();
    assert_eq!(client.event_types().await.unwrap().len(), 3, "our caller never sees the 429");
    assert!(started.elapsed() >= Duration::from_millis(1500), "waited for the block to end");
}

#[tokio::test]
async fn estimated_or_missing_totals_still_page_through_everything() {
    let sim = sim().await;
    let (from, to) = (later(&sim, 24), later(&sim, 240));
    let seeded: HashSet<String> = sim
        .generate(GenerateSpec { count: 600, from, to, event_type_id: None, status: None })
        .unwrap()
        .into_iter()
        .collect();
    let client = client(&sim);
    for totals in [calcom_sim::Totals::Estimated, calcom_sim::Totals::Absent] {
        sim.set_faults(Faults { totals, ..Faults::default() });
        let listing = client.list_all_bookings(&BookingQuery::window(from, to)).await.unwrap();
        let listed: HashSet<String> = listing.bookings.iter().map(|b| b.uid.clone()).collect();
        assert_eq!(listed, seeded, "{totals:?}: every booking, whatever the total said");
        assert_eq!(listing.outside_filter, 0);
    }
}

#[tokio::test]
async fn a_listing_that_ignores_its_window_proves_nothing_missing() {
    let sim = sim().await;
    let (from, to) = (later(&sim, 24), later(&sim, 30));
    sim.seed(vec![SeedBooking::at(from), SeedBooking::at(to + chrono::Duration::days(3))]).unwrap();
    let client = client(&sim);
    let honest = client.list_window(from, to).await.unwrap();
    assert!(honest.proves_absence());

    sim.set_faults(Faults { ignore_window: true, ..Faults::default() });
    let listing = client.list_window(from, to).await.unwrap();
    assert_eq!(listing.bookings.len(), 1, "what lies in the window is still read");
    let why = listing.untrusted.expect("a row outside the window makes the listing untrusted");
    assert!(why.contains("outside the time window"), "{why}");
}

#[tokio::test]
async fn a_taken_slot_is_refused_in_cal_coms_words() {
    let sim = sim().await;
    let client = client(&sim);
    let start = later(&sim, 10);
    client.create_booking(&new_booking(start, "first@example.com")).await.unwrap();
    let taken = client.create_booking(&new_booking(start + chrono::Duration::minutes(15), "second@example.com")).await;
    let Err(err @ CalcomError::BadRequest { status: 400, .. }) = taken else { panic!("{taken:?}") };
    assert_eq!(
        err.summary(),
        "Cal.com refused the request (HTTP 400): User either already has booking at this time or is not available"
    );
    let refused = BookingWriter::create(
        &client,
        &NewBooking {
            start,
            event_type_id: 1,
            attendee_name: "Second".into(),
            attendee_email: "second@example.com".into(),
            attendee_time_zone: "Europe/Berlin".into(),
            attendee_phone: None,
            metadata: vec![],
        },
    )
    .await;
    assert!(
        matches!(&refused, Err(SourceError::Rejected(words)) if words.contains("already has booking")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_reschedule_lasts_the_event_types_length_and_a_second_cancel_is_refused() {
    let sim = sim().await;
    let start = later(&sim, 20);
    // Seeded with a custom length: 50 minutes of a 30-minute event type.
    let uid = sim
        .seed(vec![SeedBooking { end: Some(start + chrono::Duration::minutes(50)), ..SeedBooking::at(start) }])
        .unwrap()
        .remove(0);
    let client = client(&sim);
    let moved = client.reschedule_booking(&uid, start + chrono::Duration::hours(3), None).await.unwrap();
    assert_eq!(
        moved.end - moved.start,
        chrono::Duration::minutes(30),
        "the event type's length, not the old booking's"
    );
    client.cancel_booking(&moved.uid, None).await.unwrap();
    let again = client.cancel_booking(&moved.uid, None).await.unwrap_err();
    let CalcomError::BadRequest { status: 400, message } = &again else { panic!("{again:?}") };
    assert!(message.contains("has been cancelled already"), "{message}");
}
