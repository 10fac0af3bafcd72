//! `GET /v2/bookings`: filtering, ordering and both kinds of paging, as
//! Cal.com's bookings handler does them (`get.handler.ts`): exact,
//! case-sensitive attendee filters; status buckets judged at the
//! simulator's now; ONE sort key (start, else end, else created, else
//! updated; PostgreSQL's NULL placement for `updatedAt`), then id;
//! `afterUpdatedAt` never matching a NULL `updatedAt`.
//!
//! The start-time index bounds the scan: `afterStart` is a lower bound on
//! start, and `beforeEnd` an upper one (a booking ends after it starts), so
//! a window listing only looks at the bookings in its window.
//!
//! A selection, once sorted, is kept (the last few, as booking ids) and
//! every page of the same listing is cut from it: paging through N bookings
//! filters and sorts them once, not once a page. What a selection depends
//! on is its key (the query without `take`/`skip`/`cursor`, the window as
//! served, the one sort order, and the simulator's now when a status filter
//! judges by it); every change to the bookings forgets them all.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::bookings::{Bookings, SimBooking};
use super::faults::Totals;
use engine::calcom::model::{BookingStatus, CursorPagination, DEFAULT_TAKE};
use engine::calcom::query::{BookingQuery, QueryError, SortField, SortOrder, StatusFilter};

/// Upcoming, unconfirmed and recurring bookings must also start no more than
/// this long ago.
const RECENT_START: Duration = Duration::hours(1);

/// Sorted selections kept, most recently used first: a listing being paged
/// through, and room for a few others interleaved with it.
const SELECTIONS_KEPT: usize = 4;

/// The bookings `query` selects (paging aside), in the order Cal.com uses
/// (see [`order`]). With `ignore_window`, `afterStart`/`beforeEnd` are
/// ignored, as some Cal.com versions did. Served from the bookings' kept
/// selections when the same listing was selected since their last change.
pub(crate) fn select<'a>(
    bookings: &'a Bookings,
    query: &BookingQuery,
    now: DateTime<Utc>,
    ignore_window: bool,
) -> Selection<'a> {
    let key = SelectionKey::new(query, now, ignore_window);
    // A uid picks one booking at most: cheaper to find than to keep.
    if key.query.booking_uid.is_some() {
        return Selection { bookings, ids: sorted_ids(bookings, &key.query, now) };
    }
    let kept = bookings.selections();
    let ids = match kept.get(&key) {
        Some(ids) => ids,
        None => {
            let ids = sorted_ids(bookings, &key.query, now);
            kept.put(key, ids.clone());
            ids
        }
    };
    Selection { bookings, ids }
}

/// Filters and sorts: the bookings `query` (its window already as served)
/// selects, by id, in [`order`].
fn sorted_ids(bookings: &Bookings, query: &BookingQuery, now: DateTime<Utc>) -> Arc<[i64]> {
    let candidates: Box<dyn Iterator<Item = &SimBooking>> = match &query.booking_uid {
        Some(uid) => Box::new(bookings.get(uid).into_iter()),
        None => Box::new(bookings.starting_between(query.after_start, query.before_end)),
    };
    let mut selected: Vec<&SimBooking> = candidates.filter(|b| matches(b, query, now)).collect();
    let (field, direction) = order(query);
    selected.sort_by(|a, b| compare(a, b, field, direction));
    selected.into_iter().map(|b| b.id).collect()
}

/// A listing's bookings in order, paging aside.
pub(crate) struct Selection<'a> {
    bookings: &'a Bookings,
    ids: Arc<[i64]>,
}

impl<'a> Selection<'a> {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// The bookings of one page.
    pub fn page(&self, range: Range<usize>) -> impl Iterator<Item = &'a SimBooking> + '_ {
        self.ids[range].iter().map(|&id| self.booking(id))
    }

    fn at(&self, index: usize) -> &'a SimBooking {
        self.booking(self.ids[index])
    }

    fn booking(&self, id: i64) -> &'a SimBooking {
        // Kept selections are forgotten by every change: their ids are all there.
        self.bookings.by_id(id).expect("a selection names only current bookings")
    }
}

/// Everything a selection depends on: the query without its paging, its
/// window as served (none under `ignoreWindow`), its one sort order (so
/// that equivalent `sort…` parameters share a selection), and `now` only
/// when a status filter judges by it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SelectionKey {
    query: BookingQuery,
    now: Option<DateTime<Utc>>,
}

impl SelectionKey {
    fn new(query: &BookingQuery, now: DateTime<Utc>, ignore_window: bool) -> SelectionKey {
        let mut query = query.clone();
        if ignore_window {
            query.after_start = None;
            query.before_end = None;
        }
        query.take = None;
        query.skip = None;
        query.cursor = None;
        query.sort = vec![order(&query)];
        let now = (!query.status.is_empty()).then_some(now);
        SelectionKey { query, now }
    }
}

/// The last few sorted selections (see the module's documentation); held
/// by [`Bookings`], which forgets them on every change.
#[derive(Debug, Default)]
pub(crate) struct KeptSelections(Mutex<VecDeque<(SelectionKey, Arc<[i64]>)>>);

impl KeptSelections {
    fn get(&self, key: &SelectionKey) -> Option<Arc<[i64]>> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let at = kept.iter().position(|(k, _)| k == key)?;
        let entry = kept.remove(at)?;
        let ids = entry.1.clone();
        kept.push_front(entry);
        Some(ids)
    }

    fn put(&self, key: SelectionKey, ids: Arc<[i64]>) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.truncate(SELECTIONS_KEPT - 1);
        kept.push_front((key, ids));
    }

    /// After any change to the bookings.
    pub fn forget(&mut self) {
        self.0.get_mut().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

fn matches(b: &SimBooking, q: &BookingQuery, now: DateTime<Utc>) -> bool {
    let within = |at: DateTime<Utc>, after: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>| {
        after.is_none_or(|t| at >= t) && before.is_none_or(|t| at <= t)
    };
    // SQL: a comparison with NULL is never true.
    let updated_within = match b.updated_at {
        Some(at) => within(at, q.after_updated_at, q.before_updated_at),
        None => q.after_updated_at.is_none() && q.before_updated_at.is_none(),
    };
    (q.status.is_empty() || q.status.iter().any(|&s| has_status(b, s, now)))
        && within(b.start, q.after_start, None)
        && within(b.end, None, q.before_end)
        && within(b.created_at, q.after_created_at, q.before_created_at)
        && updated_within
        && q.booking_uid.as_ref().is_none_or(|uid| *uid == b.uid)
        && q.event_type_id.is_none_or(|id| id == b.event_type_id)
        && (q.event_type_ids.is_empty() || q.event_type_ids.contains(&b.event_type_id))
        // `Attendee.email = $1` and `Attendee.name = $1` on PostgreSQL: exact, case-sensitive.
        && q.attendee_email.as_ref().is_none_or(|email| b.attendees.iter().any(|a| a.email == email.trim()))
        && q.attendee_name.as_ref().is_none_or(|name| b.attendees.iter().any(|a| a.name == name.trim()))
}

/// Cal.com's status buckets, judged at `now` (the simulator's clock).
fn has_status(b: &SimBooking, filter: StatusFilter, now: DateTime<Utc>) -> bool {
    use BookingStatus::*;
    let recurring = b.recurring_booking_uid.is_some();
    let dead = matches!(b.status, Cancelled | Rejected);
    let ahead = b.end >= now && b.start >= now - RECENT_START;
    match filter {
        // Of a recurring series only confirmed occurrences count as upcoming.
        StatusFilter::Upcoming => ahead && if recurring { b.status == Accepted } else { !dead },
        StatusFilter::Recurring => ahead && recurring && !dead,
        StatusFilter::Past => b.end <= now && !dead,
        StatusFilter::Cancelled => dead,
        StatusFilter::Unconfirmed => ahead && b.status == Pending,
    }
}

/// The one order Cal.com applies: the first of start, end, created and
/// updated that the query sorts by (whatever order the parameters came
/// in); without one, a single status's own order (past and cancelled are
/// newest first), else start ascending.
pub(crate) fn order(query: &BookingQuery) -> (SortField, SortOrder) {
    let asked = |field| query.sort.iter().find(|(f, _)| *f == field).map(|&(_, order)| (field, order));
    let own = match query.status.as_slice() {
        [StatusFilter::Past | StatusFilter::Cancelled] => (SortField::Start, SortOrder::Desc),
        _ => (SortField::Start, SortOrder::Asc),
    };
    SortField::ALL.into_iter().find_map(asked).unwrap_or(own)
}

/// The sort key; `None` only for a NULL `updatedAt`.
fn key(b: &SimBooking, field: SortField) -> Option<DateTime<Utc>> {
    match field {
        SortField::Start => Some(b.start),
        SortField::End => Some(b.end),
        SortField::Created => Some(b.created_at),
        SortField::UpdatedAt => b.updated_at,
    }
}

/// By `field` in `order`, then by id. NULLs as PostgreSQL places them:
/// last ascending, FIRST descending (so `sortUpdatedAt=desc` starts with
/// the never-updated rows).
fn compare(a: &SimBooking, b: &SimBooking, field: SortField, order: SortOrder) -> Ordering {
    let by_key = match (key(a, field), key(b, field)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
    };
    let directed = match order {
        SortOrder::Asc => by_key,
        SortOrder::Desc => by_key.reverse(),
    };
    directed.then_with(|| a.id.cmp(&b.id))
}

/// `skip`/`take` over the selection, and the `pagination` object (as JSON,
/// since estimated and absent totals change its shape).
pub(crate) fn offset_page(total: usize, query: &BookingQuery, totals: Totals) -> (Range<usize>, Value) {
    let take = query.take.unwrap_or(DEFAULT_TAKE) as u64;
    let skip = query.skip.unwrap_or(0);
    let exact = total as u64;
    let start = skip.min(exact);
    let end = (start + take).min(exact);
    let returned = end - start;
    let full = returned == take;
    let reported = match totals {
        Totals::Exact => Some(exact),
        // One more page than seen so far on a full page; exact on the last.
        Totals::Estimated if full => Some(end + take),
        Totals::Estimated => Some(exact),
        Totals::Absent => None,
    };
    let mut pagination = json!({
        "returnedItems": returned,
        "itemsPerPage": take,
        "currentPage": skip / take + 1,
        "hasPreviousPage": skip > 0,
    });
    match reported {
        Some(total_items) => {
            pagination["totalItems"] = json!(total_items);
            pagination["remainingItems"] = json!(total_items.saturating_sub(end));
            pagination["totalPages"] = json!(total_items.div_ceil(take));
            pagination["hasNextPage"] = json!(end < total_items);
        }
        // Without a total Cal.com can only tell by the page being full.
        None => pagination["hasNextPage"] = json!(full),
    }
    (start as usize..end as usize, pagination)
}

/// The cursor API orders like the offset one; its cursor names the last
/// booking returned by that key, so pages stay put when bookings are added
/// or removed elsewhere.
pub(crate) fn cursor_order(query: &BookingQuery) -> (SortField, SortOrder) {
    order(query)
}

/// Checks the cursor variant's rules: one status at most, no `skip`.
pub(crate) fn check_cursor_query(query: &BookingQuery) -> Result<(), QueryError> {
    let fail = |param: &str, problem: &str| Err(QueryError { param: param.into(), problem: problem.into() });
    if query.status.len() > 1 {
        return fail("status", "cursor pagination takes one status per request");
    }
    if query.skip.is_some() {
        return fail("skip", "not supported with cursor pagination; use cursor");
    }
    Ok(())
}

/// The page after `query.cursor` of `selected` (sorted by `cursor_order`).
pub(crate) fn cursor_page(
    selected: &Selection,
    query: &BookingQuery,
) -> Result<(Range<usize>, CursorPagination), QueryError> {
    let (field, order) = cursor_order(query);
    let start = match &query.cursor {
        None => 0,
        Some(cursor) => {
            let (at, id) = decode_cursor(cursor)
                .ok_or_else(|| QueryError { param: "cursor".into(), problem: "not a cursor this API issued".into() })?;
            let after = |b: &SimBooking| {
                let by_key = key(b, field).unwrap_or(at).cmp(&at);
                let directed = if order == SortOrder::Desc { by_key.reverse() } else { by_key };
                directed.then(b.id.cmp(&id)).is_gt()
            };
            // The slice's own binary search, probe for probe: where NULL
            // `updatedAt`s make `after` not partition the rows, the cursor
            // lands where it always did.
            selected.ids.partition_point(|&b| !after(selected.booking(b)))
        }
    };
    let take = query.take.unwrap_or(DEFAULT_TAKE) as usize;
    let end = (start + take).min(selected.len());
    let has_more = end < selected.len();
    let last = |b: &SimBooking| key(b, field).unwrap_or(b.created_at);
    let next_cursor = (has_more && end > start).then(|| {
        let last_returned = selected.at(end - 1);
        encode_cursor(last(last_returned), last_returned.id)
    });
    Ok((start..end, CursorPagination { next_cursor, has_more }))
}

fn encode_cursor(at: DateTime<Utc>, id: i64) -> String {
    hex::encode(format!("{}:{id}", at.timestamp_millis()))
}

fn decode_cursor(cursor: &str) -> Option<(DateTime<Utc>, i64)> {
    let text = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    let (millis, id) = text.split_once(':')?;
    Some((DateTime::from_timestamp_millis(millis.parse().ok()?)?, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    #[test]
    fn offset_pagination_fields_follow_cal_com() {
        let q = BookingQuery::default().take(250).skip(250);
        let (range, p) = offset_page(600, &q, Totals::Exact);
        assert_eq!(range, 250..500);
        assert_eq!(
            p,
            json!({"totalItems": 600, "remainingItems": 100, "returnedItems": 250, "itemsPerPage": 250,
                   "currentPage": 2, "totalPages": 3, "hasNextPage": true, "hasPreviousPage": true})
        );
        let (range, p) = offset_page(600, &BookingQuery::default().skip(1000), Totals::Exact);
        assert_eq!((range.len(), &p["hasNextPage"], &p["itemsPerPage"]), (0, &json!(false), &json!(100)));
    }

    #[test]
    fn estimated_totals_guess_one_more_page_and_absent_ones_are_left_out() {
        let q = BookingQuery::default().take(250);
        let (_, p) = offset_page(600, &q, Totals::Estimated);
        assert_eq!(p["totalItems"], 500, "a guess, not the 600 there are");
        let (_, last) = offset_page(600, &q.clone().skip(500), Totals::Estimated);
        assert_eq!(last["totalItems"], 600);
        let (_, p) = offset_page(600, &q, Totals::Absent);
        assert!(p.get("totalItems").is_none());
        assert_eq!(p["hasNextPage"], true);
    }

    #[test]
    fn one_sort_key_is_honoured_in_cal_coms_priority() {
        let q =
            BookingQuery::default().sort(SortField::UpdatedAt, SortOrder::Desc).sort(SortField::End, SortOrder::Asc);
        assert_eq!(order(&q), (SortField::End, SortOrder::Asc), "end outranks updated, whatever the parameter order");
        assert_eq!(order(&BookingQuery::default().status(StatusFilter::Past)), (SortField::Start, SortOrder::Desc));
        assert_eq!(order(&BookingQuery::default()), (SortField::Start, SortOrder::Asc));
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_millis(1_760_342_400_123).unwrap();
        assert_eq!(decode_cursor(&encode_cursor(at, 42)), Some((at, 42)));
        assert_eq!(decode_cursor("zz"), None);
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
    }

    /// Booking `id`: starts shared by several (the id breaks ties), every
    /// seventh never updated, every eleventh cancelled.
    fn booking(id: i64) -> SimBooking {
        let start = t0() + Duration::minutes(30 * (id * 37 % 101));
        SimBooking {
            id,
            uid: format!("uid{id}"),
            title: "t".into(),
            description: None,
            status: if id % 11 == 0 { BookingStatus::Cancelled } else { BookingStatus::Accepted },
            start,
            end: start + Duration::minutes(30 + id % 3 * 15),
            event_type_id: 1 + id % 2,
            attendees: vec![],
            guests: vec![],
            location: None,
            metadata: BTreeMap::new(),
            booking_fields_responses: serde_json::Map::new(),
            cancellation_reason: None,
            cancelled_by_email: None,
            rescheduling_reason: None,
            rescheduled_from_uid: None,
            rescheduled_to_uid: None,
            recurring_booking_uid: None,
            created_at: t0() - Duration::minutes(id * 13 % 61),
            updated_at: (id % 7 != 0).then(|| t0() - Duration::minutes(id * 5 % 23)),
            host_missing: false,
        }
    }

    fn fixture(n: i64) -> Bookings {
        let mut all = Bookings::default();
        for id in 1..=n {
            all.insert(booking(id)).unwrap();
        }
        all
    }

    /// `select` as it was before selections were kept: filter and sort
    /// everything, every time.
    fn uncached<'a>(
        bookings: &'a Bookings,
        query: &BookingQuery,
        now: DateTime<Utc>,
        ignore_window: bool,
    ) -> Selection<'a> {
        let mut query = query.clone();
        if ignore_window {
            query.after_start = None;
            query.before_end = None;
        }
        let mut selected: Vec<&SimBooking> = bookings.all().filter(|b| matches(b, &query, now)).collect();
        let (field, direction) = order(&query);
        selected.sort_by(|a, b| compare(a, b, field, direction));
        Selection { bookings, ids: selected.into_iter().map(|b| b.id).collect() }
    }

    fn ids<'a>(page: impl Iterator<Item = &'a SimBooking>) -> Vec<i64> {
        page.map(|b| b.id).collect()
    }

    /// One offset page: its ids and its pagination.
    fn offset(bookings: &Bookings, q: &BookingQuery, now: DateTime<Utc>, cached: bool) -> (Vec<i64>, Value) {
        let selected = if cached { select(bookings, q, now, false) } else { uncached(bookings, q, now, false) };
        let (range, pagination) = offset_page(selected.len(), q, Totals::Exact);
        (ids(selected.page(range)), pagination)
    }

    fn queries() -> Vec<BookingQuery> {
        let window = BookingQuery::window(t0() + Duration::hours(5), t0() + Duration::hours(30));
        vec![
            BookingQuery::default(),
            window.clone(),
            window.clone().sort(SortField::End, SortOrder::Desc),
            BookingQuery::changed_since(t0() - Duration::minutes(15)),
            // NULL `updatedAt`s first, as PostgreSQL sorts them descending.
            BookingQuery::default().only_sort(SortField::UpdatedAt, SortOrder::Desc),
            BookingQuery::default().only_sort(SortField::UpdatedAt, SortOrder::Asc),
            BookingQuery { event_type_id: Some(2), ..window }.status(StatusFilter::Upcoming),
            BookingQuery::default().status(StatusFilter::Cancelled),
        ]
    }

    #[test]
    fn pages_cut_from_a_kept_selection_are_those_a_fresh_one_gives() {
        let all = fixture(300);
        let now = t0() + Duration::hours(10);
        for query in queries() {
            // Offset paging, to the end and one page past it.
            let mut skip = 0;
            loop {
                let q = query.clone().take(7).skip(skip);
                let warm = offset(&all, &q, now, true);
                assert_eq!(warm, offset(&all, &q, now, false), "{q:?}");
                if warm.0.is_empty() {
                    break;
                }
                skip += 7;
            }
            // Cursor paging, with the cursor query's one sort.
            let mut q = query.clone().take(9);
            q.sort = vec![cursor_order(&q)];
            let mut seen = Vec::new();
            for _ in 0..100 {
                let warm = select(&all, &q, now, false);
                let (range, pagination) = cursor_page(&warm, &q).unwrap();
                let cold = uncached(&all, &q, now, false);
                let (cold_range, cold_pagination) = cursor_page(&cold, &q).unwrap();
                assert_eq!(
                    (ids(warm.page(range.clone())), &pagination),
                    (ids(cold.page(cold_range)), &cold_pagination)
                );
                seen.extend(ids(warm.page(range)));
                match pagination.next_cursor {
                    Some(next) if pagination.has_more => q.cursor = Some(next),
                    _ => break,
                }
            }
            assert!(!seen.is_empty(), "{query:?} selects something");
        }
        // The window listing was kept: its pages share one selection.
        let q = queries()[1].clone().take(7);
        let first = select(&all, &q, now, false);
        let later = select(&all, &q.clone().skip(14), now, false);
        assert!(Arc::ptr_eq(&first.ids, &later.ids));
    }

    #[test]
    fn ignoring_the_window_is_part_of_what_a_selection_depends_on() {
        let all = fixture(200);
        let now = t0();
        let q = BookingQuery::window(t0() + Duration::hours(5), t0() + Duration::hours(10)).take(250);
        let windowed = select(&all, &q, now, false).len();
        let ignored = select(&all, &q, now, true).len();
        assert_eq!(ignored, 200);
        assert!(windowed < ignored);
        assert_eq!(select(&all, &q, now, false).len(), windowed);
        assert_eq!(uncached(&all, &q, now, true).len(), ignored);
    }

    #[test]
    fn a_change_between_two_pages_shows_on_the_next() {
        let mut all = fixture(100);
        let now = t0();
        let q = BookingQuery::default().take(10);
        let next = q.clone().skip(10);
        let (first, _) = offset(&all, &q, now, true);
        assert_eq!(offset(&all, &next, now, true), offset(&all, &next, now, false));

        // A booking that sorts before everything: every page moves by one.
        let mut early = booking(1000);
        early.start = t0() - Duration::days(1);
        early.end = early.start + Duration::minutes(30);
        all.insert(early).unwrap();
        let (page, pagination) = offset(&all, &next, now, true);
        assert_eq!(page[0], first[9], "the first page's last booking moved to the second");
        assert_eq!(pagination["totalItems"], 101);
        assert_eq!((page, pagination), offset(&all, &next, now, false));

        // Moved from the second page to the very end.
        let moved = offset(&all, &next, now, true).0[3];
        all.update(&format!("uid{moved}"), |b| b.start += Duration::days(30));
        let (page, _) = offset(&all, &next, now, true);
        assert!(!page.contains(&moved));
        assert_eq!(offset(&all, &BookingQuery::default().take(1).skip(100), now, true).0, [moved]);
        assert_eq!(page, offset(&all, &next, now, false).0);

        // Removed.
        let gone = page[0];
        all.remove(&format!("uid{gone}"));
        let (page, pagination) = offset(&all, &next, now, true);
        assert!(!page.contains(&gone));
        assert_eq!(pagination["totalItems"], 100);
        assert_eq!((page, pagination), offset(&all, &next, now, false));

        all.clear();
        assert_eq!(offset(&all, &next, now, true).1["totalItems"], 0);
    }

    #[test]
    fn a_status_filter_is_judged_at_each_requests_now() {
        let all = fixture(100);
        let q = BookingQuery::default().status(StatusFilter::Upcoming).take(250);
        let before = t0() - Duration::hours(2);
        let (upcoming, _) = offset(&all, &q, before, true);
        assert_eq!(upcoming, offset(&all, &q, before, false).0);
        // Later the same day: the morning's bookings are past, on the same query.
        let later = t0() + Duration::hours(20);
        let (still, _) = offset(&all, &q, later, true);
        assert!(still.len() < upcoming.len(), "{} of {}", still.len(), upcoming.len());
        assert_eq!(still, offset(&all, &q, later, false).0);
        // Without a status filter the clock does not matter, and the selection is kept.
        let plain = BookingQuery::default();
        assert!(Arc::ptr_eq(&select(&all, &plain, before, false).ids, &select(&all, &plain, later, false).ids));
    }

    #[test]
    fn only_the_last_few_selections_are_kept() {
        let all = fixture(50);
        let kept = |q: &BookingQuery| select(&all, q, t0(), false).ids;
        let by_type = |id| BookingQuery { event_type_id: Some(id), ..BookingQuery::default() };
        let first = kept(&by_type(1));
        for id in 2..=SELECTIONS_KEPT as i64 {
            kept(&by_type(id));
        }
        assert!(Arc::ptr_eq(&first, &kept(&by_type(1))), "still kept, and now the most recent");
        kept(&by_type(10));
        kept(&by_type(11));
        assert!(Arc::ptr_eq(&first, &kept(&by_type(1))));
        for id in 20..20 + SELECTIONS_KEPT as i64 {
            kept(&by_type(id));
        }
        assert!(!Arc::ptr_eq(&first, &kept(&by_type(1))), "the oldest was forgotten");
    }
}
