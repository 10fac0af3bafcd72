//! `GET /v2/bookings`: filtering, ordering and both kinds of paging.
//!
//! The start-time index bounds the scan: `afterStart` is a lower bound on
//! start, and `beforeEnd` an upper one (a booking ends after it starts), so
//! a window listing only looks at the bookings in its window.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::bookings::{Bookings, SimBooking};
use crate::calcom::model::{BookingStatus, CursorPagination, Pagination, DEFAULT_TAKE};
use crate::calcom::query::{BookingQuery, QueryError, SortField, SortOrder, StatusFilter};

/// The bookings `query` selects (paging aside), in the order it asks for
/// (start, then id, unless told otherwise).
pub(crate) fn select<'a>(bookings: &'a Bookings, query: &BookingQuery, now: DateTime<Utc>) -> Vec<&'a SimBooking> {
    let candidates: Box<dyn Iterator<Item = &SimBooking>> = match &query.booking_uid {
        Some(uid) => Box::new(bookings.get(uid).into_iter()),
        None => Box::new(bookings.starting_between(query.after_start, query.before_end)),
    };
    let mut selected: Vec<&SimBooking> = candidates.filter(|b| matches(b, query, now)).collect();
    if !query.sort.is_empty() {
        selected.sort_by(|a, b| compare(a, b, &query.sort));
    }
    selected
}

fn matches(b: &SimBooking, q: &BookingQuery, now: DateTime<Utc>) -> bool {
    let within = |at: DateTime<Utc>, after: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>| {
        after.is_none_or(|t| at >= t) && before.is_none_or(|t| at <= t)
    };
    (q.status.is_empty() || q.status.iter().any(|&s| has_status(b, s, now)))
        && within(b.start, q.after_start, None)
        && within(b.end, None, q.before_end)
        && within(b.created_at, q.after_created_at, q.before_created_at)
        && within(b.updated_at, q.after_updated_at, q.before_updated_at)
        && q.booking_uid.as_ref().is_none_or(|uid| *uid == b.uid)
        && q.event_type_id.is_none_or(|id| id == b.event_type_id)
        && (q.event_type_ids.is_empty() || q.event_type_ids.contains(&b.event_type_id))
        && q.attendee_email.as_ref().is_none_or(|email| b.attendees.iter().any(|a| a.email.eq_ignore_ascii_case(email)))
        && q.attendee_name.as_ref().is_none_or(|name| {
            let name = name.to_lowercase();
            b.attendees.iter().any(|a| a.name.to_lowercase().contains(&name))
        })
}

/// Cal.com's status buckets, judged at `now` (the simulator's clock).
fn has_status(b: &SimBooking, filter: StatusFilter, now: DateTime<Utc>) -> bool {
    use BookingStatus::*;
    let recurring = b.recurring_booking_uid.is_some();
    match filter {
        // Of a recurring series only confirmed occurrences count as upcoming.
        StatusFilter::Upcoming => {
            b.end >= now && if recurring { b.status == Accepted } else { matches!(b.status, Accepted | Pending) }
        }
        StatusFilter::Recurring => b.end >= now && recurring && b.status == Accepted,
        StatusFilter::Past => b.end <= now && !matches!(b.status, Cancelled | Rejected),
        StatusFilter::Cancelled => matches!(b.status, Cancelled | Rejected),
        StatusFilter::Unconfirmed => b.end >= now && b.status == Pending,
    }
}

fn key(b: &SimBooking, field: SortField) -> DateTime<Utc> {
    match field {
        SortField::Start => b.start,
        SortField::End => b.end,
        SortField::Created => b.created_at,
        SortField::UpdatedAt => b.updated_at,
    }
}

fn directed(ordering: Ordering, order: SortOrder) -> Ordering {
    match order {
        SortOrder::Asc => ordering,
        SortOrder::Desc => ordering.reverse(),
    }
}

/// By each requested field in turn, then by id so the order is total.
fn compare(a: &SimBooking, b: &SimBooking, sort: &[(SortField, SortOrder)]) -> Ordering {
    sort.iter()
        .map(|&(field, order)| directed(key(a, field).cmp(&key(b, field)), order))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.id.cmp(&b.id))
}

/// `skip`/`take` over the selection, and the `pagination` object.
pub(crate) fn offset_page(total: usize, query: &BookingQuery) -> (std::ops::Range<usize>, Pagination) {
    let take = query.take.unwrap_or(DEFAULT_TAKE) as u64;
    let skip = query.skip.unwrap_or(0);
    let total_items = total as u64;
    let start = skip.min(total_items);
    let end = (start + take).min(total_items);
    let returned = end - start;
    let pagination = Pagination {
        total_items,
        remaining_items: total_items - end,
        returned_items: returned,
        items_per_page: take,
        current_page: skip / take + 1,
        total_pages: total_items.div_ceil(take),
        has_next_page: end < total_items,
        has_previous_page: skip > 0,
    };
    (start as usize..end as usize, pagination)
}

/// The cursor API orders by one field (the first asked for, else start)
/// then id; its cursor names the last booking returned by that key, so
/// pages stay put when bookings are added or removed elsewhere.
pub(crate) fn cursor_order(query: &BookingQuery) -> (SortField, SortOrder) {
    query.sort.first().copied().unwrap_or((SortField::Start, SortOrder::Asc))
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
            let after = |b: &&SimBooking| directed(key(b, field).cmp(&at), order).then(b.id.cmp(&id)).is_gt();
            selected.partition_point(|b| !after(b))
        }
    };
    let take = query.take.unwrap_or(DEFAULT_TAKE) as usize;
    let end = (start + take).min(selected.len());
    let has_more = end < selected.len();
    let next_cursor =
        (has_more && end > start).then(|| encode_cursor(key(selected[end - 1], field), selected[end - 1].id));
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
        let (range, p) = offset_page(600, &q);
        assert_eq!(range, 250..500);
        assert_eq!(
            p,
            Pagination {
                total_items: 600,
                remaining_items: 100,
                returned_items: 250,
                items_per_page: 250,
                current_page: 2,
                total_pages: 3,
                has_next_page: true,
                has_previous_page: true,
            }
        );
        let (range, p) = offset_page(600, &BookingQuery::default().skip(1000));
        assert_eq!((range.len(), p.has_next_page, p.items_per_page), (0, false, 100));
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_millis(1_760_342_400_123).unwrap();
        assert_eq!(decode_cursor(&encode_cursor(at, 42)), Some((at, 42)));
        assert_eq!(decode_cursor("zz"), None);
    }
}
