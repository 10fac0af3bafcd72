//! The client against Cal.com's answers as Cal.com writes them
//! (`tests/fixtures/calcom/*.jsonc`, written from Cal.com's output DTOs
//! with each field's source beside it), served over real HTTP. These are
//! not our simulator's answers: a shape the two agree on but Cal.com does
//! not would fail here.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeZone, Utc};
use engine::calcom::{BookingStatus, CalcomClient, CalcomError, ClientConfig, CreateBooking, HostId, NewAttendee};
use engine::verify::compare::RemoteStatus;
use engine::verify::source::{BookingSource, BookingWriter, NewBooking};

/// A fixture with its `//` comments removed (outside strings).
fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/calcom/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let (mut in_string, mut escaped, mut cut) = (false, false, line.len());
        let bytes = line.as_bytes();
        for i in 0..bytes.len() {
            match bytes[i] {
                _ if escaped => escaped = false,
                b'\\' if in_string => escaped = true,
                b'"' => in_string = !in_string,
                b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => {
                    cut = i;
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    serde_json::from_str::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("{name} is not JSON once stripped: {e}"));
    out
}

type Answers = HashMap<&'static str, (StatusCode, String)>;

fn answer((status, body): &(StatusCode, String)) -> Response {
    (*status, [("content-type", "application/json")], body.clone()).into_response()
}

/// A stand-in Cal.com that answers each path with its fixture.
async fn cal_com() -> CalcomClient {
    engine::calcom::ensure_crypto_provider();
    let mut answers: Answers = HashMap::new();
    answers.insert("k2Vn8ZJq4XbM7dR1sT9wYc", (StatusCode::OK, fixture("booking-accepted.jsonc")));
    answers.insert("old8ZJq4XbM7dR1sT9wYc0", (StatusCode::OK, fixture("booking-host-deleted.jsonc")));
    answers.insert("r1Vn8ZJq4XbM7dR1sT9wYd", (StatusCode::OK, fixture("booking-cancelled-rescheduled.jsonc")));
    answers.insert("missingUidXbM7dR1sT9wYc", (StatusCode::NOT_FOUND, fixture("error-not-found.jsonc")));
    let page = (StatusCode::OK, fixture("bookings-page-estimated.jsonc"));
    let created = (StatusCode::CREATED, fixture("create-recurring.jsonc"));
    let answers = std::sync::Arc::new(answers);
    let app = axum::Router::new()
        .route(
            "/v2/bookings/{uid}",
            axum::routing::get(|State(answers): State<std::sync::Arc<Answers>>, Path(uid): Path<String>| async move {
                answers.get(uid.as_str()).map_or_else(|| StatusCode::IM_A_TEAPOT.into_response(), answer)
            }),
        )
        .route(
            "/v2/bookings",
            axum::routing::get(move || std::future::ready(answer(&page)))
                .post(move || std::future::ready(answer(&created))),
        )
        .with_state(answers);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    CalcomClient::new(ClientConfig::new(url, "cal_live_fixture")).unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn a_full_booking_reads_every_field() {
    let client = cal_com().await;
    let b = client.booking("k2Vn8ZJq4XbM7dR1sT9wYc").await.unwrap();
    assert_eq!((b.id, b.status.clone(), b.duration), (8123, BookingStatus::Accepted, 45));
    assert_eq!(b.hosts[0].id, HostId::Number(42));
    assert_eq!(b.attendees[0].phone_number.as_deref(), Some("+49 123 456789"));
    assert_eq!(b.updated_at, Some(at("2026-11-29T16:03:10.002Z")));
    assert_eq!(b.metadata["calsync_appointment_id"], "1236");
    let remote = BookingSource::booking(&client, "k2Vn8ZJq4XbM7dR1sT9wYc").await.unwrap().unwrap();
    assert_eq!(remote.attendee_emails, ["tom.klein@example.com"]);
    assert_eq!((remote.start, remote.end), (at("2026-12-03T10:00:00Z"), at("2026-12-03T10:45:00Z")));
}

#[tokio::test]
async fn a_booking_whose_host_is_gone_is_read_and_is_live() {
    let client = cal_com().await;
    let b = client.booking("old8ZJq4XbM7dR1sT9wYc0").await.unwrap();
    assert_eq!(b.hosts[0].id, HostId::Text("unknown".into()));
    assert_eq!(b.hosts[0].name, None);
    assert_eq!(b.status, BookingStatus::AwaitingHost);
    assert_eq!((b.updated_at, b.event_type, b.event_type_id), (None, None, None));
    let remote = BookingSource::booking(&client, "old8ZJq4XbM7dR1sT9wYc0").await.unwrap().unwrap();
    assert_eq!(remote.status, RemoteStatus::AwaitingHost);
    assert!(remote.is_live(), "a meeting waiting for its host is still on");
}

#[tokio::test]
async fn a_rescheduled_booking_points_at_its_successor() {
    let client = cal_com().await;
    let remote = BookingSource::booking(&client, "r1Vn8ZJq4XbM7dR1sT9wYd").await.unwrap().unwrap();
    assert_eq!(remote.status, RemoteStatus::Cancelled);
    assert_eq!(remote.rescheduled_to_uid.as_deref(), Some("n3Vn8ZJq4XbM7dR1sT9wYe"));
}

#[tokio::test]
async fn cal_coms_404_envelope_is_a_definite_not_found() {
    let client = cal_com().await;
    let err = client.booking("missingUidXbM7dR1sT9wYc").await.unwrap_err();
    let CalcomError::NotFound { message } = &err else { panic!("{err:?}") };
    assert!(message.contains("was not found in the database"), "{message}");
    assert_eq!(BookingSource::booking(&client, "missingUidXbM7dR1sT9wYc").await.unwrap(), None);
}

#[tokio::test]
async fn one_bad_row_does_not_fail_its_page_and_totals_may_be_missing() {
    let client = cal_com().await;
    let page = client.list_bookings(&engine::calcom::BookingQuery::default()).await.unwrap();
    let uids: Vec<&str> = page.bookings.iter().map(|b| b.uid.as_str()).collect();
    assert_eq!(uids, ["p1Vn8ZJq4XbM7dR1sT9wY1", "p2Vn8ZJq4XbM7dR1sT9wY2", "p3Vn8ZJq4XbM7dR1sT9wY3"]);
    assert_eq!(page.unreadable.len(), 1);
    assert_eq!(page.unreadable[0].uid.as_deref(), Some("p4Vn8ZJq4XbM7dR1sT9wY4"), "reported on its own, by uid");
    assert_eq!(page.bookings[1].status, BookingStatus::Other("on_hold".into()), "kept as sent");
    assert!(page.bookings[2].attendees[0].email.is_empty(), "a seat without an email");
    assert_eq!(page.pagination.total_items, 0, "a missing total reads as none");

    // Through the verifier's port: the unknown status is neither live nor dead.
    let listing =
        BookingSource::list_window(&client, at("2026-12-03T00:00:00Z"), at("2026-12-04T00:00:00Z")).await.unwrap();
    let unknown = listing.bookings.iter().find(|b| b.uid == "p2Vn8ZJq4XbM7dR1sT9wY2").unwrap();
    assert_eq!(unknown.status, RemoteStatus::Unknown);
    assert!(!unknown.is_live() && unknown.may_be_live());
    assert_eq!(listing.unreadable.len(), 1);
    assert!(listing.proves_absence(), "every row lies in the window asked for");
}

#[tokio::test]
async fn a_recurring_create_answers_every_occurrence_and_ours_is_linked() {
    let client = cal_com().await;
    let new = CreateBooking {
        start: at("2026-12-10T09:00:00Z"),
        event_type_id: 23,
        attendee: NewAttendee {
            name: "Tom Klein".into(),
            email: "tom.klein@example.com".into(),
            time_zone: "Europe/Berlin".into(),
            phone_number: None,
            language: None,
        },
        metadata: Default::default(),
        booking_fields_responses: Default::default(),
        guests: Vec::new(),
        location: None,
    };
    let created = client.create_booking(&new).await.unwrap();
    assert_eq!(created.len(), 2);
    assert!(created.iter().all(|b| b.recurring_booking_uid.as_deref() == Some("series-7b2")));
    let ours = BookingWriter::create(
        &client,
        &NewBooking {
            start: Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap(),
            event_type_id: 23,
            attendee_name: "Tom Klein".into(),
            attendee_email: "tom.klein@example.com".into(),
            attendee_time_zone: "Europe/Berlin".into(),
            attendee_phone: None,
            metadata: vec![],
        },
    )
    .await
    .unwrap();
    assert_eq!(ours.uid, "w1Vn8ZJq4XbM7dR1sT9wY1", "the occurrence at our start");
}
