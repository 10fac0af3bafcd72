//! The filters of `GET /v2/bookings`, written once: the client turns a
//! `BookingQuery` into query-string pairs, the simulator parses the pairs
//! back (with Cal.com's validation), so the two cannot drift apart.

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{format_instant, parse_instant, Booking, MAX_TAKE};
use crate::domain::string_enum;

string_enum! {
    /// `status=` values (a comma list means any of them).
    pub enum StatusFilter : "booking status filter" {
        Upcoming = "upcoming",
        Recurring = "recurring",
        Past = "past",
        Cancelled = "cancelled",
        Unconfirmed = "unconfirmed",
    }
}

string_enum! {
    pub enum SortOrder : "sort order" {
        Asc = "asc",
        Desc = "desc",
    }
}

/// What a `sort…` parameter orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortField {
    Start,
    End,
    Created,
    UpdatedAt,
}

impl SortField {
    pub const ALL: [SortField; 4] = [SortField::Start, SortField::End, SortField::Created, SortField::UpdatedAt];

    pub const fn param(self) -> &'static str {
        match self {
            SortField::Start => "sortStart",
            SortField::End => "sortEnd",
            SortField::Created => "sortCreated",
            SortField::UpdatedAt => "sortUpdatedAt",
        }
    }
}

/// A listing request. Empty fields are not sent; `take: None` means
/// Cal.com's default (100).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingQuery {
    pub take: Option<u32>,
    pub skip: Option<u64>,
    pub status: Vec<StatusFilter>,
    /// Start at or after.
    pub after_start: Option<DateTime<Utc>>,
    /// End at or before.
    pub before_end: Option<DateTime<Utc>>,
    pub after_created_at: Option<DateTime<Utc>>,
    pub before_created_at: Option<DateTime<Utc>>,
    pub after_updated_at: Option<DateTime<Utc>>,
    pub before_updated_at: Option<DateTime<Utc>>,
    pub attendee_email: Option<String>,
    pub attendee_name: Option<String>,
    pub booking_uid: Option<String>,
    pub event_type_id: Option<i64>,
    pub event_type_ids: Vec<i64>,
    /// In priority order; one entry per field.
    pub sort: Vec<(SortField, SortOrder)>,
    /// Only with `cal-api-version: 2026-05-01`.
    pub cursor: Option<String>,
}

/// A parameter Cal.com would refuse with 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {problem}")]
pub struct QueryError {
    pub param: String,
    pub problem: String,
}

impl BookingQuery {
    /// Bookings that start at or after `from` and end at or before `to`.
    pub fn window(from: DateTime<Utc>, to: DateTime<Utc>) -> BookingQuery {
        BookingQuery { after_start: Some(from), before_end: Some(to), ..BookingQuery::default() }
    }

    /// Bookings changed at or after `since`, in creation order: creation
    /// order never changes, so a booking updated during the walk stays where
    /// it is instead of moving to the end and shifting the rows behind it
    /// past our offset. NULL `updatedAt` rows never match (`afterUpdatedAt`
    /// is SQL `updatedAt >= since`), so old never-updated bookings cannot
    /// hide a change the way they can at the top of `sortUpdatedAt=desc`.
    pub fn changed_since(since: DateTime<Utc>) -> BookingQuery {
        BookingQuery::default().updated_since(since).only_sort(SortField::Created, SortOrder::Asc)
    }

    pub fn take(mut self, take: u32) -> BookingQuery {
        self.take = Some(take);
        self
    }

    pub fn skip(mut self, skip: u64) -> BookingQuery {
        self.skip = Some(skip);
        self
    }

    pub fn status(mut self, status: StatusFilter) -> BookingQuery {
        self.status.push(status);
        self
    }

    pub fn updated_since(mut self, since: DateTime<Utc>) -> BookingQuery {
        self.after_updated_at = Some(since);
        self
    }

    /// Orders by `field` (replacing an earlier order on the same field).
    pub fn sort(mut self, field: SortField, order: SortOrder) -> BookingQuery {
        self.sort.retain(|(f, _)| *f != field);
        self.sort.push((field, order));
        self
    }

    /// Orders by `field` alone: Cal.com honours one sort key only (start,
    /// else end, else created, else updated), so asking for two would
    /// silently get the first.
    pub fn only_sort(mut self, field: SortField, order: SortOrder) -> BookingQuery {
        self.sort = vec![(field, order)];
        self
    }

    /// Whether `booking` satisfies this query's time and uid filters, as
    /// Cal.com should have applied them. A listing with rows that do not is
    /// not filtering, and proves nothing by what it leaves out.
    pub fn admits(&self, booking: &Booking) -> bool {
        let at_or_after = |at: DateTime<Utc>, bound: Option<DateTime<Utc>>| bound.is_none_or(|b| at >= b);
        let at_or_before = |at: DateTime<Utc>, bound: Option<DateTime<Utc>>| bound.is_none_or(|b| at <= b);
        let updated = |check: &dyn Fn(DateTime<Utc>) -> bool, bound: Option<DateTime<Utc>>| {
            bound.is_none() || booking.updated_at.is_some_and(check)
        };
        at_or_after(booking.start, self.after_start)
            && at_or_before(booking.end, self.before_end)
            && at_or_after(booking.created_at, self.after_created_at)
            && at_or_before(booking.created_at, self.before_created_at)
            && updated(&|at| at_or_after(at, self.after_updated_at), self.after_updated_at)
            && updated(&|at| at_or_before(at, self.before_updated_at), self.before_updated_at)
            && self.booking_uid.as_ref().is_none_or(|uid| *uid == booking.uid)
    }

    /// The query string, in a stable order.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut put = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((name, value));
            }
        };
        put("take", self.take.map(|t| t.to_string()));
        put("skip", self.skip.map(|s| s.to_string()));
        put("status", (!self.status.is_empty()).then(|| join(self.status.iter().map(|s| s.as_str()))));
        let instants = [
            ("afterStart", self.after_start),
            ("beforeEnd", self.before_end),
            ("afterCreatedAt", self.after_created_at),
            ("beforeCreatedAt", self.before_created_at),
            ("afterUpdatedAt", self.after_updated_at),
            ("beforeUpdatedAt", self.before_updated_at),
        ];
        for (name, at) in instants {
            put(name, at.map(format_instant));
        }
        put("attendeeEmail", self.attendee_email.clone());
        put("attendeeName", self.attendee_name.clone());
        put("bookingUid", self.booking_uid.clone());
        put("eventTypeId", self.event_type_id.map(|id| id.to_string()));
        put("eventTypeIds", (!self.event_type_ids.is_empty()).then(|| join(self.event_type_ids.iter())));
        for (field, order) in &self.sort {
            put(field.param(), Some(order.as_str().to_owned()));
        }
        put("cursor", self.cursor.clone());
        pairs
    }

    /// Parses a query string the way Cal.com validates it: `take` 1–250,
    /// known statuses and orders, ISO 8601 dates, integer ids. Unknown
    /// parameters are ignored.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Result<BookingQuery, QueryError> {
        let mut q = BookingQuery::default();
        for (name, value) in pairs {
            let (name, value) = (name.as_ref(), value.as_ref());
            let fail = |problem: String| QueryError { param: name.to_owned(), problem };
            match name {
                "take" => q.take = Some(parse_take(value).map_err(fail)?),
                "skip" => q.skip = Some(value.parse().map_err(|_| fail("must be a non-negative integer".into()))?),
                "status" => q.status = parse_list(value, |s| s.parse().map_err(|e| format!("{e}"))).map_err(fail)?,
                "afterStart" => q.after_start = Some(parse_date(value).map_err(fail)?),
                "beforeEnd" => q.before_end = Some(parse_date(value).map_err(fail)?),
                "afterCreatedAt" => q.after_created_at = Some(parse_date(value).map_err(fail)?),
                "beforeCreatedAt" => q.before_created_at = Some(parse_date(value).map_err(fail)?),
                "afterUpdatedAt" => q.after_updated_at = Some(parse_date(value).map_err(fail)?),
                "beforeUpdatedAt" => q.before_updated_at = Some(parse_date(value).map_err(fail)?),
                "attendeeEmail" => q.attendee_email = Some(value.to_owned()),
                "attendeeName" => q.attendee_name = Some(value.to_owned()),
                "bookingUid" => q.booking_uid = Some(value.to_owned()),
                "eventTypeId" => q.event_type_id = Some(parse_id(value).map_err(fail)?),
                "eventTypeIds" => q.event_type_ids = parse_list(value, parse_id).map_err(fail)?,
                "cursor" => q.cursor = Some(value.to_owned()),
                other => {
                    if let Some(field) = SortField::ALL.into_iter().find(|f| f.param() == other) {
                        let order = value.parse().map_err(|_| fail("must be asc or desc".into()))?;
                        q = q.sort(field, order);
                    }
                }
            }
        }
        Ok(q)
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

fn parse_take(value: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(take) if (1..=MAX_TAKE).contains(&take) => Ok(take),
        _ => Err(format!("must be an integer from 1 to {MAX_TAKE}")),
    }
}

fn parse_id(value: &str) -> Result<i64, String> {
    value.trim().parse().map_err(|_| format!("{value:?} is not an integer id"))
}

fn parse_list<T>(value: &str, item: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(item).collect()
}

/// ISO 8601: a full instant (any offset) or a bare date (midnight UTC).
fn parse_date(value: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = parse_instant(value) {
        return Ok(at);
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| format!("{value:?} is not an ISO 8601 date"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn full_query() -> BookingQuery {
        let at = |h| Utc.with_ymd_and_hms(2025, 10, 13, h, 0, 0).unwrap();
        BookingQuery {
            take: Some(250),
            skip: Some(500),
            status: vec![StatusFilter::Upcoming, StatusFilter::Unconfirmed],
            after_start: Some(at(1)),
            before_end: Some(at(2)),
            after_created_at: Some(at(3)),
            before_created_at: Some(at(4)),
            after_updated_at: Some(at(5)),
            before_updated_at: Some(at(6)),
            attendee_email: Some("a@b.de".into()),
            attendee_name: Some("Ann".into()),
            booking_uid: Some("uid1".into()),
            event_type_id: Some(1),
            event_type_ids: vec![1, 2],
            sort: vec![(SortField::UpdatedAt, SortOrder::Desc), (SortField::Start, SortOrder::Asc)],
            cursor: Some("c".into()),
        }
    }

    #[test]
    fn every_filter_survives_the_round_trip() {
        let q = full_query();
        let pairs = q.to_pairs();
        assert!(pairs.contains(&("status", "upcoming,unconfirmed".into())));
        assert!(pairs.contains(&("afterStart", "2025-10-13T01:00:00.000Z".into())));
        assert!(pairs.contains(&("sortUpdatedAt", "desc".into())));
        assert_eq!(BookingQuery::from_pairs(&pairs).unwrap(), q);
    }

    #[test]
    fn take_must_be_1_to_250() {
        for bad in ["0", "251", "-1", "ten"] {
            let err = BookingQuery::from_pairs(&[("take", bad)]).unwrap_err();
            assert_eq!(err.param, "take");
        }
        assert_eq!(BookingQuery::from_pairs(&[("take", "1")]).unwrap().take, Some(1));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        assert_eq!(BookingQuery::from_pairs(&[("status", "upcoming,soon")]).unwrap_err().param, "status");
        assert_eq!(BookingQuery::from_pairs(&[("sortStart", "up")]).unwrap_err().param, "sortStart");
        assert_eq!(BookingQuery::from_pairs(&[("afterStart", "yesterday")]).unwrap_err().param, "afterStart");
        assert_eq!(BookingQuery::from_pairs(&[("eventTypeIds", "1,x")]).unwrap_err().param, "eventTypeIds");
    }

    #[test]
    fn bare_dates_mean_midnight_utc_and_unknown_params_are_ignored() {
        let q = BookingQuery::from_pairs(&[("afterStart", "2025-10-13"), ("whatever", "x")]).unwrap();
        assert_eq!(q.after_start, Some(Utc.with_ymd_and_hms(2025, 10, 13, 0, 0, 0).unwrap()));
    }
}
