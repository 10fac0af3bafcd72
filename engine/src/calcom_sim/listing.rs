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

use std::cmp::Ordering;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::bookings::{Bookings, SimBooking};
use super::faults::Totals;
use crate::calcom::model::{BookingStatus, CursorPagination, DEFAULT_TAKE};
use crate::calcom::query::{BookingQuery, QueryError, SortField, SortOrder, StatusFilter};

/// Upcoming, unconfirmed and recurring bookings must also start no more than
/// this long ago.
const RECENT_START: Duration = Duration::hours(1);

/// The bookings `query` selects (paging aside), in the order Cal.com uses
/// (see [`order`]). With `ignore_window`, `afterStart`/`beforeEnd` are
/// ignored, as some Cal.com versions did.
pub(crate) fn select<'a>(
    bookings: &'a Bookings,
    query: &BookingQuery,
    now: DateTime<Utc>,
    ignore_window: bool,
) -> Vec<&'a SimBooking> {
    let mut query = query.clone();
    if ignore_window {
        query.after_start = None;
        query.before_end = None;
    }
    let candidates: Box<dyn Iterator<Item = &SimBooking>> = match &query.booking_uid {
        Some(uid) => Box::new(bookings.get(uid).into_iter()),
        None => Box::new(bookings.starting_between(query.after_start, query.before_end)),
    };
    let mut selected: Vec<&SimBooking> = candidates.filter(|b| matches(b, &query, now)).collect();
    let (field, direction) = order(&query);
    selected.sort_by(|a, b| compare(a, b, field, direction));
    selected
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
pub(crate) fn offset_page(total: usize, query: &BookingQuery, totals: Totals) -> (std::ops::Range<usize>, Value) {
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
    selected: &[&SimBooking],
    query: &BookingQuery,
) -> Result<(std::ops::Range<usize>, CursorPagination), QueryError> {
    let (field, order) = cursor_order(query);
    let start = match &query.cursor {
        None => 0,
        Some(cursor) => {
            let (at, id) = decode_cursor(cursor)
                .ok_or_else(|| QueryError { param: "cursor".into(), problem: "not a cursor this API issued".into() })?;
            let after = |b: &&SimBooking| {
                let by_key = key(b, field).unwrap_or(at).cmp(&at);
                let directed = if order == SortOrder::Desc { by_key.reverse() } else { by_key };
                directed.then(b.id.cmp(&id)).is_gt()
            };
            selected.partition_point(|b| !after(b))
        }
    };
    let take = query.take.unwrap_or(DEFAULT_TAKE) as usize;
    let end = (start + take).min(selected.len());
    let has_more = end < selected.len();
    let last = |b: &SimBooking| key(b, field).unwrap_or(b.created_at);
    let next_cursor = (has_more && end > start).then(|| encode_cursor(last(selected[end - 1]), selected[end - 1].id));
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
}
