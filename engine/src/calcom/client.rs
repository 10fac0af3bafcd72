//! The Cal.com API v2 client. One per organization (its key, its budget);
//! clones share the connection pool, the pacer and the call counter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;

use super::api_key::ApiKey;
use super::error::CalcomError;
use super::model::{
    parse_instant, Booking, BookingPage, CancelBooking, CreateBooking, CursorPagination, Envelope, EventType,
    Pagination, RescheduleBooking, UnreadableBooking, API_VERSION, API_VERSION_CURSOR, API_VERSION_EVENT_TYPES,
    MAX_TAKE, VERSION_HEADER,
};
use super::pacing::{Pacer, RateBudget, RateHeaders, SharedBudget};
use super::query::BookingQuery;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://api.cal.com`, or the simulator's address.
    pub base_url: String,
    pub api_key: ApiKey,
    pub connect_timeout: Duration,
    /// For the whole exchange, body included.
    pub request_timeout: Duration,
    /// The key's budget; corrected from `X-RateLimit-Limit-Default`.
    pub budget: RateBudget,
    /// How many times a 429 is waited out before it is returned.
    pub max_rate_limit_retries: u32,
    /// A 429 asking for a longer wait is returned at once instead.
    pub max_retry_after: Duration,
    /// The key's budget as every process that uses it shares it; `None`:
    /// this client paces itself alone (tests, benchmarks).
    pub shared_budget: Option<SharedBudgetHandle>,
}

/// A [`SharedBudget`] in a configuration (which must be `Debug`).
#[derive(Clone)]
pub struct SharedBudgetHandle(pub Arc<dyn SharedBudget>);

impl std::fmt::Debug for SharedBudgetHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedBudget")
    }
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, api_key: impl Into<ApiKey>) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            api_key: api_key.into(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            budget: RateBudget::default(),
            max_rate_limit_retries: 3,
            // Cal.com blocks a key for 60 s after it exceeds its budget.
            max_retry_after: Duration::from_secs(90),
            shared_budget: None,
        }
    }
}

/// Every booking a listing returned, and what it cost.
pub type FullListing = Kept<Booking>;

/// A complete listing (every page fetched without error), each booking
/// reduced to what the caller keeps, and what the listing says about its
/// own trustworthiness.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept<T> {
    pub bookings: Vec<T>,
    /// Rows that could not be read as bookings (each reported on its own).
    pub unreadable: Vec<UnreadableBooking>,
    /// Rows that do not satisfy the listing's own filters (start, end or
    /// update bounds): Cal.com has been seen to ignore them, and then the
    /// listing cannot prove a booking missing.
    pub outside_filter: u64,
    /// The newest `updatedAt` among all rows (NULLs ignored).
    pub newest_update: Option<DateTime<Utc>>,
    /// Cal.com's clock (the `Date` header) when the first page answered.
    pub server_time: Option<DateTime<Utc>>,
    /// HTTP requests made for it, 429 retries included.
    pub api_calls: u64,
}

impl<T> Default for Kept<T> {
    fn default() -> Kept<T> {
        Kept {
            bookings: Vec::new(),
            unreadable: Vec::new(),
            outside_filter: 0,
            newest_update: None,
            server_time: None,
            api_calls: 0,
        }
    }
}

/// A listing that failed, and on which page (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("page {page}: {error}")]
pub struct PageError {
    pub page: u64,
    pub error: CalcomError,
}

impl From<PageError> for CalcomError {
    fn from(failed: PageError) -> CalcomError {
        failed.error
    }
}

/// What `take=1` tells about a query: how many bookings Cal.com says it
/// selects. Only an estimate for some keys, so it may steer what a listing
/// costs, never what a listing proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// `None` when Cal.com sent no total.
    pub total_items: Option<u64>,
    pub newest_update: Option<DateTime<Utc>>,
}

/// One page of a cursor listing (`cal-api-version: 2026-05-01`).
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage {
    pub bookings: Vec<Booking>,
    pub unreadable: Vec<UnreadableBooking>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

#[derive(Clone)]
pub struct CalcomClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    authorization: HeaderValue,
    pacer: Pacer,
    calls: AtomicU64,
    max_rate_limit_retries: u32,
    max_retry_after: Duration,
}

impl std::fmt::Debug for CalcomClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalcomClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("api_calls", &self.api_calls())
            .finish_non_exhaustive()
    }
}

/// One request, rebuilt for each attempt.
struct Call<'a> {
    method: Method,
    path: &'a [&'a str],
    version: &'static str,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

impl<'a> Call<'a> {
    fn get(path: &'a [&'a str], version: &'static str) -> Call<'a> {
        Call { method: Method::GET, path, version, query: Vec::new(), body: None }
    }

    fn post(path: &'a [&'a str], body: &impl Serialize) -> Result<Call<'a>, CalcomError> {
        let body = serde_json::to_vec(body).map_err(|e| CalcomError::Config(format!("request body: {e}")))?;
        Ok(Call { method: Method::POST, path, version: API_VERSION, query: Vec::new(), body: Some(body) })
    }
}

/// A successful answer and the requests it took.
struct Reply {
    body: Vec<u8>,
    attempts: u64,
    /// The answer's `Date` header.
    server_time: Option<DateTime<Utc>>,
}

impl CalcomClient {
    pub fn new(config: ClientConfig) -> Result<CalcomClient, CalcomError> {
        super::ensure_crypto_provider();
        let base_url = Url::parse(&config.base_url)
            .map_err(|e| CalcomError::Config(format!("base URL {:?}: {e}", config.base_url)))?;
        if base_url.cannot_be_a_base() {
            return Err(CalcomError::Config(format!("base URL {:?} cannot have paths", config.base_url)));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", config.api_key.expose()))
            .map_err(|_| CalcomError::Config("the API key contains characters a header cannot carry".into()))?;
        // Keeps the key out of reqwest's and hyper's Debug output.
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("calsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CalcomError::Config(e.to_string()))?;
        Ok(CalcomClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                authorization,
                pacer: Pacer::new(config.budget, config.shared_budget.map(|shared| shared.0)),
                calls: AtomicU64::new(0),
                max_rate_limit_retries: config.max_rate_limit_retries,
                max_retry_after: config.max_retry_after,
            }),
        })
    }

    /// HTTP requests this client (and its clones) sent so far, retries included.
    pub fn api_calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// The budget in force (after corrections from the server's headers).
    pub fn budget(&self) -> RateBudget {
        self.inner.pacer.budget()
    }

    /// `GET /v2/bookings/{uid}`. For the uid of a recurring series Cal.com
    /// answers with all occurrences: the one with this uid, else the first.
    pub async fn booking(&self, uid: &str) -> Result<Booking, CalcomError> {
        let reply = self.execute(&Call::get(&["v2", "bookings", uid], API_VERSION)).await?;
        let envelope: Envelope<OneOrMany> = decode(&reply.body)?;
        let occurrences = envelope.data.into_bookings().map_err(|e| malformed_booking(uid, &e))?;
        let index = occurrences.iter().position(|b| b.uid == uid).unwrap_or(0);
        occurrences
            .into_iter()
            .nth(index)
            .ok_or_else(|| CalcomError::Malformed(format!("recurring booking {uid} has no occurrences")))
    }

    /// One page of `GET /v2/bookings`.
    pub async fn list_bookings(&self, query: &BookingQuery) -> Result<BookingPage, CalcomError> {
        self.list_page(query).await.map(|(page, _)| page)
    }

    async fn list_page(&self, query: &BookingQuery) -> Result<(BookingPage, u64), CalcomError> {
        let mut call = Call::get(&["v2", "bookings"], API_VERSION);
        call.query = query.to_pairs();
        let reply = self.execute(&call).await?;
        let envelope: RawPage<'_, Pagination> = decode_borrowed(&reply.body)?;
        let (bookings, unreadable) = read_rows(&envelope.data);
        let page =
            BookingPage { bookings, unreadable, pagination: envelope.pagination, server_time: reply.server_time };
        Ok((page, reply.attempts))
    }

    /// Every page of a listing (250 a page unless `take` says otherwise),
    /// or an error: a partial listing is never returned.
    pub async fn list_all_bookings(&self, query: &BookingQuery) -> Result<FullListing, PageError> {
        self.list_all_kept(query, &Some).await
    }

    /// Every page of a listing like `list_all_bookings`, keeping of each
    /// booking only what `keep` returns. Each page is reduced as it arrives:
    /// a window of 100,000 bookings is never held as full models at once.
    ///
    /// Paging never trusts `totalItems` or `hasNextPage` alone (both can be
    /// estimates): a full page is followed by the next unless Cal.com says it
    /// is the last and its total agrees; a short or empty page ends it. A booking met twice (pages shifted by a booking
    /// created during the walk) keeps its later version.
    pub async fn list_all_kept<T>(
        &self,
        query: &BookingQuery,
        keep: &(dyn Fn(Booking) -> Option<T> + Sync),
    ) -> Result<Kept<T>, PageError> {
        let mut query = query.clone();
        let take = query.take.unwrap_or(MAX_TAKE);
        query.take = Some(take);
        let mut skip = query.skip.unwrap_or(0);
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut kept: Vec<Option<T>> = Vec::new();
        let mut listing = Kept::<T>::default();
        loop {
            query.skip = Some(skip);
            let page_number = skip / u64::from(take) + 1;
            let (page, attempts) =
                self.list_page(&query).await.map_err(|error| PageError { page: page_number, error })?;
            listing.api_calls += attempts;
            listing.server_time = listing.server_time.or(page.server_time);
            listing.unreadable.extend(page.unreadable);
            let returned = page.pagination.returned_items.max(page.bookings.len() as u64);
            let mut new_rows = 0;
            for booking in page.bookings {
                if !query.admits(&booking) {
                    listing.outside_filter += 1;
                }
                listing.newest_update = listing.newest_update.max(booking.updated_at);
                let uid = booking.uid.clone();
                let item = keep(booking);
                match seen.get(&uid) {
                    Some(&at) => kept[at] = item,
                    None => {
                        new_rows += 1;
                        seen.insert(uid, kept.len());
                        kept.push(item);
                    }
                }
            }
            let full = returned >= u64::from(take);
            // A full page ends the listing only when Cal.com says so AND its
            // total agrees (an estimate or a missing total cannot end it).
            let says_last = !page.pagination.has_next_page && page.pagination.total_items == skip + returned;
            if returned == 0 || !(full || page.pagination.has_next_page) || (full && says_last) {
                listing.bookings = kept.into_iter().flatten().collect();
                return Ok(listing);
            }
            if new_rows == 0 && full {
                // Every row seen before: `skip` was ignored, and paging on would never end.
                let error = CalcomError::Malformed("the page repeats earlier rows (skip ignored)".into());
                return Err(PageError { page: page_number, error });
            }
            skip += returned;
        }
    }

    /// Everything that changed at or after `since`, all pages (see
    /// [`BookingQuery::changed_since`] for why this cannot be fooled).
    pub async fn bookings_updated_since(&self, since: DateTime<Utc>) -> Result<FullListing, PageError> {
        self.list_all_bookings(&BookingQuery::changed_since(since)).await
    }

    /// `take=1` over `query`'s filters: one request for Cal.com's count.
    pub async fn fingerprint(&self, query: &BookingQuery) -> Result<Fingerprint, CalcomError> {
        let mut query = query.clone().take(1);
        query.skip = None;
        let page = self.list_bookings(&query).await?;
        let total = page.pagination.total_items;
        // A missing total and an empty first page are told apart by the rows.
        let total_items = (total > 0 || page.bookings.is_empty()).then_some(total);
        Ok(Fingerprint { total_items, newest_update: page.bookings.first().and_then(|b| b.updated_at) })
    }

    /// `POST /v2/bookings`: the booking, or for a recurring event type every
    /// occurrence Cal.com created (it answers with an array then), by start.
    pub async fn create_booking(&self, new: &CreateBooking) -> Result<Vec<Booking>, CalcomError> {
        let reply = self.execute(&Call::post(&["v2", "bookings"], new)?).await?;
        let envelope: Envelope<OneOrMany> = decode(&reply.body)?;
        let mut created = envelope.data.into_bookings().map_err(|e| malformed_booking("created", &e))?;
        created.sort_by_key(|b| (b.start, b.id));
        Ok(created)
    }

    /// `POST /v2/bookings/{uid}/cancel`: the cancelled booking.
    pub async fn cancel_booking(&self, uid: &str, reason: Option<&str>) -> Result<Booking, CalcomError> {
        let body = CancelBooking { cancellation_reason: reason.map(str::to_owned) };
        self.post(&["v2", "bookings", uid, "cancel"], &body).await
    }

    /// `POST /v2/bookings/{uid}/reschedule`: the NEW booking (new uid); the
    /// old one is now cancelled with `rescheduledToUid` pointing here.
    pub async fn reschedule_booking(
        &self,
        uid: &str,
        start: DateTime<Utc>,
        reason: Option<&str>,
    ) -> Result<Booking, CalcomError> {
        let body = RescheduleBooking { start, rescheduling_reason: reason.map(str::to_owned) };
        self.post(&["v2", "bookings", uid, "reschedule"], &body).await
    }

    /// `GET /v2/event-types` (served under `cal-api-version: 2024-06-14`).
    pub async fn event_types(&self) -> Result<Vec<EventType>, CalcomError> {
        let reply = self.execute(&Call::get(&["v2", "event-types"], API_VERSION_EVENT_TYPES)).await?;
        let envelope: Envelope<Vec<EventType>> = decode(&reply.body)?;
        Ok(envelope.data)
    }

    /// One page of the cursor listing (`cal-api-version: 2026-05-01`, at
    /// most one status; `skip` is not used).
    pub async fn list_bookings_cursor(
        &self,
        query: &BookingQuery,
        cursor: Option<&str>,
    ) -> Result<CursorPage, CalcomError> {
        self.cursor_page(query, cursor).await.map(|(page, _)| page)
    }

    async fn cursor_page(&self, query: &BookingQuery, cursor: Option<&str>) -> Result<(CursorPage, u64), CalcomError> {
        let mut query = query.clone();
        query.skip = None;
        query.cursor = cursor.map(str::to_owned);
        let mut call = Call::get(&["v2", "bookings"], API_VERSION_CURSOR);
        call.query = query.to_pairs();
        let reply = self.execute(&call).await?;
        let envelope: RawPage<'_, CursorPagination> = decode_borrowed(&reply.body)?;
        let (bookings, unreadable) = read_rows(&envelope.data);
        let page = CursorPage {
            bookings,
            unreadable,
            next_cursor: envelope.pagination.next_cursor,
            has_more: envelope.pagination.has_more,
        };
        Ok((page, reply.attempts))
    }

    /// Every page of the cursor listing. The cursor API takes one status per
    /// call, so several statuses are listed one after the other.
    pub async fn list_all_bookings_cursor(&self, query: &BookingQuery) -> Result<FullListing, CalcomError> {
        let statuses: Vec<Option<_>> =
            if query.status.is_empty() { vec![None] } else { query.status.iter().copied().map(Some).collect() };
        let mut listing = FullListing::default();
        let mut seen = std::collections::HashSet::new();
        for status in statuses {
            let mut query = query.clone();
            query.take = Some(query.take.unwrap_or(MAX_TAKE));
            query.status = status.into_iter().collect();
            let mut cursor: Option<String> = None;
            loop {
                let (page, attempts) = self.cursor_page(&query, cursor.as_deref()).await?;
                listing.api_calls += attempts;
                listing.unreadable.extend(page.unreadable);
                for booking in page.bookings.into_iter().filter(|b| seen.insert(b.uid.clone())) {
                    listing.outside_filter += u64::from(!query.admits(&booking));
                    listing.newest_update = listing.newest_update.max(booking.updated_at);
                    listing.bookings.push(booking);
                }
                match (page.has_more, page.next_cursor) {
                    (true, Some(next)) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                    (true, _) => return Err(CalcomError::Malformed("hasMore without a new nextCursor".into())),
                    (false, _) => break,
                }
            }
        }
        Ok(listing)
    }

    async fn post<T: DeserializeOwned>(&self, path: &[&str], body: &impl Serialize) -> Result<T, CalcomError> {
        let reply = self.execute(&Call::post(path, body)?).await?;
        let envelope: Envelope<T> = decode(&reply.body)?;
        Ok(envelope.data)
    }

    fn url(&self, path: &[&str]) -> Result<Url, CalcomError> {
        let mut url = self.inner.base_url.clone();
        {
            // Segments are percent-encoded: a uid cannot change the path.
            let mut segments =
                url.path_segments_mut().map_err(|_| CalcomError::Config("base URL cannot have paths".into()))?;
            segments.pop_if_empty().extend(path);
        }
        Ok(url)
    }

    /// Sends a call, pacing it to the budget and waiting out 429s (bounded).
    async fn execute(&self, call: &Call<'_>) -> Result<Reply, CalcomError> {
        let url = self.url(call.path)?;
        let mut attempts = 0;
        loop {
            let permit = self.inner.pacer.acquire().await;
            attempts += 1;
            self.inner.calls.fetch_add(1, Ordering::Relaxed);
            let response = match self.request(call, url.clone()).send().await {
                Ok(response) => response,
                Err(err) => {
                    metrics::counter!("calsync_calcom_requests_total", "status" => "transport_error").increment(1);
                    return Err(CalcomError::from_transport(err));
                }
            };
            metrics::counter!("calsync_calcom_requests_total", "status" => status_class(response.status()))
                .increment(1);
            let headers = RateHeaders::read(response.headers());
            permit.observe(&headers).await;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                // Without Retry-After, the window's reset (or a whole window) is the best guess.
                let wait = headers.retry_after.or_else(|| headers.until_reset()).unwrap_or(self.budget().window);
                self.inner.pacer.back_off(wait).await;
                if attempts > u64::from(self.inner.max_rate_limit_retries) || wait > self.inner.max_retry_after {
                    return Err(CalcomError::RateLimited { retry_after: Some(wait) });
                }
                continue;
            }
            let server_time = headers.server_now.and_then(|at| DateTime::from_timestamp(at, 0));
            let body = response.bytes().await.map_err(CalcomError::from_transport)?;
            if status.is_success() {
                return Ok(Reply { body: body.to_vec(), attempts, server_time });
            }
            return Err(CalcomError::from_status(status.as_u16(), &body));
        }
    }

    fn request(&self, call: &Call<'_>, url: Url) -> reqwest::RequestBuilder {
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .header(AUTHORIZATION, self.inner.authorization.clone())
            .header(VERSION_HEADER, call.version);
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(body) = &call.body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
        }
        request
    }
}

/// A label with few values, for the request counter.
fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        429 => "429",
        200..=299 => "2xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, CalcomError> {
    serde_json::from_slice(body).map_err(|e| CalcomError::Malformed(e.to_string()))
}

/// `{"status": "success", "data": [...], "pagination": {...}}` with each
/// row left unread, so that one odd row cannot fail the page.
#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "P: serde::Deserialize<'de> + Default"))]
struct RawPage<'a, P> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
    #[serde(default)]
    pagination: P,
}

fn decode_borrowed<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, CalcomError> {
    serde_json::from_slice(body).map_err(|e| CalcomError::Malformed(e.to_string()))
}

/// `data` of a single-booking answer: one booking, or (recurring) several.
#[derive(serde::Deserialize)]
#[serde(transparent)]
struct OneOrMany(Box<RawValue>);

impl OneOrMany {
    fn into_bookings(self) -> Result<Vec<Booking>, UnreadableBooking> {
        let unreadable = |e: serde_json::Error| UnreadableBooking { uid: None, start: None, problem: e.to_string() };
        if self.0.get().trim_start().starts_with('[') {
            let rows: Vec<&RawValue> = serde_json::from_str(self.0.get()).map_err(unreadable)?;
            rows.into_iter().map(read_row).collect()
        } else {
            read_row(&self.0).map(|b| vec![b])
        }
    }
}

fn malformed_booking(what: &str, row: &UnreadableBooking) -> CalcomError {
    let uid = row.uid.as_deref().unwrap_or(what);
    CalcomError::Malformed(format!("booking {uid}: {}", row.problem))
}

/// Reads each row on its own.
fn read_rows(rows: &[&RawValue]) -> (Vec<Booking>, Vec<UnreadableBooking>) {
    let mut bookings = Vec::with_capacity(rows.len());
    let mut unreadable = Vec::new();
    for row in rows {
        match read_row(row) {
            Ok(booking) => bookings.push(booking),
            Err(bad) => unreadable.push(bad),
        }
    }
    (bookings, unreadable)
}

fn read_row(row: &RawValue) -> Result<Booking, UnreadableBooking> {
    serde_json::from_str::<Booking>(row.get()).map_err(|error| {
        // As much of the row's identity as can be read, for the report.
        #[derive(serde::Deserialize)]
        struct Identity {
            #[serde(default)]
            uid: Option<serde_json::Value>,
            #[serde(default)]
            start: Option<serde_json::Value>,
        }
        let identity = serde_json::from_str::<Identity>(row.get()).ok();
        let text = |v: &Option<serde_json::Value>| v.as_ref().and_then(|v| v.as_str()).map(str::to_owned);
        UnreadableBooking {
            uid: identity.as_ref().and_then(|i| text(&i.uid)),
            start: identity.as_ref().and_then(|i| text(&i.start)).and_then(|s| parse_instant(&s).ok()),
            problem: error.to_string(),
        }
    })
}
