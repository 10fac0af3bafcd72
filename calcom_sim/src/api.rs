//! The Cal.com API v2 surface. Every request passes the gate first: it is
//! counted, may meet an injected fault, must carry an accepted key, and is
//! rate limited per key; every answer carries a `Date` from the
//! simulator's clock, and every error Cal.com's full envelope (timestamp,
//! path, details).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, DATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::config::DEFAULT_LIMIT_NAME;
use super::faults::Injected;
use super::listing::{check_cursor_query, cursor_order, cursor_page, offset_page, select};
use super::ratelimit::{RateHeaderValues, Verdict};
use super::reply::{paged, success, ApiFailure};
use super::server::{lock, Sim};
use engine::calcom::model::{
    CancelBooking, CreateBooking, RescheduleBooking, API_VERSION, API_VERSION_CURSOR, VERSION_HEADER,
};
use engine::calcom::query::BookingQuery;

pub(crate) fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/v2/bookings", get(list_bookings).post(create_booking))
        .route("/v2/bookings/{uid}", get(get_booking))
        .route("/v2/bookings/{uid}/cancel", post(cancel_booking))
        .route("/v2/bookings/{uid}/reschedule", post(reschedule_booking))
        .route("/v2/event-types", get(event_types))
        // A route layer: it sees the matched route pattern, for counting.
        .route_layer(middleware::from_fn_with_state(sim.clone(), gate))
        .with_state(sim)
}

/// Any path nobody serves: Cal.com's 404 envelope.
pub(crate) fn unknown_route(sim: Arc<Sim>) -> impl Fn(Method, Uri) -> std::future::Ready<Response> + Clone {
    move |method: Method, uri: Uri| {
        let failure = ApiFailure::not_found(format!("Cannot {method} {}", uri.path()));
        std::future::ready(super::reply::complete_error(failure.into_response(), uri.path(), sim.now()))
    }
}

async fn gate(State(sim): State<Arc<Sim>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or(request.uri().path(), MatchedPath::as_str);
    let endpoint = format!("{} {route}", request.method());
    lock(&sim.counters).count_request(&endpoint);
    let path = request.uri().path().to_owned();
    let mut response = admit(&sim, request, next).await;
    lock(&sim.counters).count_status(response.status().as_u16());
    set_date(&mut response, sim.now());
    super::reply::complete_error(response, &path, sim.now())
}

/// Faults, then the key, then the rate limit, then the handler.
async fn admit(sim: &Sim, request: Request, next: Next) -> Response {
    let (latency, injected) = lock(&sim.faults).draw(&mut rand::rng());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(fault) = injected {
        return fault_response(fault).await;
    }
    let key = match bearer(request.headers()) {
        Some(key) if sim.accepts(key) => key.to_owned(),
        Some(_) => return ApiFailure::unauthorized("ApiAuthStrategy - api key - Invalid API Key").into_response(),
        None => return ApiFailure::unauthorized("No Authorization header provided").into_response(),
    };
    let verdict = lock(&sim.limiter).check(&key, sim.now());
    match verdict {
        Verdict::Unlimited => next.run(request).await,
        Verdict::Allowed(limits) => {
            let mut response = next.run(request).await;
            set_rate_headers(&mut response, &limits);
            response
        }
        // As Cal.com's throttler: no Retry-After, only the headers' Reset.
        Verdict::Limited(limits) => {
            let mut response = ApiFailure::too_many_requests().into_response();
            set_rate_headers(&mut response, &limits);
            response
        }
    }
}

async fn fault_response(fault: Injected) -> Response {
    match fault {
        Injected::Outage => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(CONTENT_TYPE, "text/html")],
            "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
        )
            .into_response(),
        Injected::Hang(hold) => {
            tokio::time::sleep(hold).await;
            ApiFailure::server(StatusCode::GATEWAY_TIMEOUT).into_response()
        }
        // A gateway in front of Cal.com answers these with its own page.
        Injected::Error(status @ 502..=504) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            [(CONTENT_TYPE, "text/html")],
            format!("<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center></body></html>"),
        )
            .into_response(),
        Injected::Error(status) => {
            ApiFailure::server(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
                .into_response()
        }
        Injected::Storm(reset) => {
            let mut response = ApiFailure::too_many_requests().into_response();
            let limits = RateHeaderValues { name: DEFAULT_LIMIT_NAME.into(), limit: 120, remaining: 0, reset };
            set_rate_headers(&mut response, &limits);
            response
        }
        Injected::Malformed => {
            (StatusCode::OK, [(CONTENT_TYPE, "application/json")], r#"{"status":"success","data":{"id":1,"uid":"#)
                .into_response()
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

fn set_rate_headers(response: &mut Response, limits: &RateHeaderValues) {
    let headers = response.headers_mut();
    let mut put = |field: &str, value: HeaderValue| {
        if let Ok(name) = axum::http::HeaderName::try_from(format!("X-RateLimit-{field}-{}", limits.name)) {
            headers.insert(name, value);
        }
    };
    put("Limit", HeaderValue::from(limits.limit));
    put("Remaining", HeaderValue::from(limits.remaining));
    put("Reset", HeaderValue::from(limits.reset));
}

/// hyper would add a `Date` from the real clock; ours follows the simulator's.
fn set_date(response: &mut Response, now: DateTime<Utc>) {
    let date = now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(value) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(DATE, value);
    }
}

/// How a bookings request wants its listing paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paging {
    Offset,
    Cursor,
}

/// Cal.com silently serves an older, differently shaped API without the
/// right version header; here that mistake fails loudly instead.
fn bookings_version(headers: &HeaderMap) -> Result<Paging, ApiFailure> {
    match headers.get(VERSION_HEADER).and_then(|v| v.to_str().ok()) {
        Some(API_VERSION) => Ok(Paging::Offset),
        Some(API_VERSION_CURSOR) => Ok(Paging::Cursor),
        other => Err(ApiFailure::bad_request(format!(
            "{VERSION_HEADER} must be {API_VERSION} or {API_VERSION_CURSOR} for bookings (got {other:?})"
        ))),
    }
}

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiFailure> {
    serde_json::from_slice(bytes).map_err(|e| ApiFailure::bad_request(format!("invalid request body: {e}")))
}

async fn get_booking(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(uid): Path<String>,
) -> Result<Response, ApiFailure> {
    bookings_version(&headers)?;
    let bookings = sim.bookings();
    if let Some(booking) = bookings.get(&uid) {
        return Ok(success(StatusCode::OK, sim.catalog.render(booking)));
    }
    // The uid of a recurring series answers with all its occurrences.
    let occurrences = bookings.series(&uid);
    if occurrences.is_empty() {
        return Err(ApiFailure::booking_not_found(&uid));
    }
    let rendered: Vec<_> = occurrences.into_iter().map(|b| sim.catalog.render(b)).collect();
    Ok(success(StatusCode::OK, rendered))
}

async fn list_bookings(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiFailure> {
    let paging = bookings_version(&headers)?;
    let Query(pairs) = pairs.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    let mut query = BookingQuery::from_pairs(&pairs).map_err(|e| ApiFailure::bad_request(e.to_string()))?;
    let now = sim.now();
    let faults = lock(&sim.faults).clone();
    let bookings = sim.bookings();
    match paging {
        Paging::Offset => {
            let selected = select(&bookings, &query, now, faults.ignore_window);
            let (range, pagination) = offset_page(selected.len(), &query, faults.totals);
            let page = selected.page(range).map(|b| sim.catalog.render(b)).collect();
            Ok(paged(page, pagination))
        }
        Paging::Cursor => {
            check_cursor_query(&query).map_err(|e| ApiFailure::bad_request(e.to_string()))?;
            query.sort = vec![cursor_order(&query)];
            let selected = select(&bookings, &query, now, faults.ignore_window);
            let (range, pagination) =
                cursor_page(&selected, &query).map_err(|e| ApiFailure::bad_request(e.to_string()))?;
            let page = selected.page(range).map(|b| sim.catalog.render(b)).collect();
            Ok(paged(page, pagination))
        }
    }
}

async fn create_booking(State(sim): State<Arc<Sim>>, headers: HeaderMap, bytes: Bytes) -> Result<Response, ApiFailure> {
    bookings_version(&headers)?;
    let request: CreateBooking = body(&bytes)?;
    let mut created = sim.create_booking(request)?;
    // A recurring event type answers with every occurrence.
    let answer = match created.len() {
        1 => success(StatusCode::CREATED, created.remove(0)),
        _ => success(StatusCode::CREATED, created),
    };
    Ok(unless_lost(&sim, answer).await)
}

/// The answer to a write, or (fault `loseWriteAnswers`) the gateway's 502
/// that reaches the client instead although the write was done.
async fn unless_lost(sim: &Sim, answer: Response) -> Response {
    if lock(&sim.faults).lose_write_answer() {
        return fault_response(Injected::Error(502)).await;
    }
    answer
}

async fn cancel_booking(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(uid): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiFailure> {
    bookings_version(&headers)?;
    // The reason is optional, and so is the body.
    let request: CancelBooking =
        if bytes.iter().all(u8::is_ascii_whitespace) { CancelBooking::default() } else { body(&bytes)? };
    let answer = success(StatusCode::OK, sim.cancel_booking(&uid, request)?);
    Ok(unless_lost(&sim, answer).await)
}

async fn reschedule_booking(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(uid): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiFailure> {
    bookings_version(&headers)?;
    let request: RescheduleBooking = body(&bytes)?;
    let answer = success(StatusCode::CREATED, sim.reschedule_booking(&uid, request)?);
    Ok(unless_lost(&sim, answer).await)
}

/// Served whatever the version header says (Cal.com's is 2024-06-14).
async fn event_types(State(sim): State<Arc<Sim>>) -> Response {
    success(StatusCode::OK, &sim.catalog.event_types)
}
