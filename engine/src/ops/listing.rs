//! The appointment list as people browse it: a filter whose days are the
//! organization's calendar days, any sort order, keyset pages, and which
//! appointments match in all (the set a bulk action confirms). The web
//! list, its CSV export and the dashboard's "failed" tile read it here.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::{Caller, OpError, Operations};
use crate::calendar::start_of_day;
use crate::domain::{ErrorCode, Members, SyncStatus};
use crate::store::PageCursor;

pub use crate::store::{Appointment, AppointmentFilter, AppointmentOrder, Organization};

/// Which appointments, as a person chose them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Criteria {
    pub state: Option<SyncStatus>,
    pub code: Option<ErrorCode>,
    /// First day, in the organization's time zone.
    pub from: Option<NaiveDate>,
    /// Last day (inclusive), in the organization's time zone.
    pub to: Option<NaiveDate>,
    pub search: Option<String>,
    /// Only those that need a person.
    pub needs_review: bool,
}

impl Criteria {
    /// The store's filter: a day starts at local midnight, or at the first
    /// instant after it when a DST gap swallows midnight.
    pub fn filter(&self, zone: Tz) -> AppointmentFilter {
        AppointmentFilter {
            sync_status: self.state,
            error_code: self.code,
            requires_review: self.needs_review.then_some(true),
            starts_from: self.from.and_then(|day| start_of_day(day, zone)),
            starts_before: self.to.and_then(|day| day.succ_opt()).and_then(|day| start_of_day(day, zone)),
            search: self.search.clone(),
        }
    }
}

/// One page of the list.
#[derive(Debug)]
pub struct ListPage {
    pub org: Organization,
    pub rows: Vec<Appointment>,
    /// The cursor of the next page, if there is one (opaque to callers).
    pub next: Option<String>,
}

/// How a page is asked for.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    pub order: AppointmentOrder,
    /// The previous page's `next`; an unreadable cursor starts from the
    /// top, as a stale bookmark should.
    pub after: Option<&'a str>,
    pub limit: u32,
}

impl Operations {
    /// One page of the appointments matching `criteria` (the list, each
    /// chunk of the CSV export).
    pub async fn appointment_page(
        &self,
        caller: Caller,
        criteria: &Criteria,
        page: PageRequest<'_>,
    ) -> Result<ListPage, OpError> {
        let org = self.store.organization(caller.org).await?;
        let filter = criteria.filter(org.time_zone);
        let after = page.after.and_then(|cursor| PageCursor::decode(cursor, page.order.key));
        let limit = page.limit;
        // One more than asked tells whether another page follows.
        let mut rows =
            self.store.list_appointments_ordered(org.id, &filter, page.order, after.as_ref(), limit + 1).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = more.then(|| rows.last().map(|a| PageCursor::after(a, page.order.key).encode())).flatten();
        Ok(ListPage { org, rows, next })
    }

    /// How many appointments match, and which (as a fingerprint): the set
    /// a bulk action's confirm step shows.
    pub async fn matching_appointments(&self, caller: Caller, criteria: &Criteria) -> Result<Members, OpError> {
        let org = self.store.organization(caller.org).await?;
        Ok(self.store.appointment_members(org.id, &criteria.filter(org.time_zone)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn days_are_the_organizations_and_the_last_day_is_included() {
        let criteria = Criteria {
            from: NaiveDate::from_ymd_opt(2025, 10, 26),
            to: NaiveDate::from_ymd_opt(2025, 10, 26),
            needs_review: true,
            ..Criteria::default()
        };
        let filter = criteria.filter(chrono_tz::Europe::Berlin);
        // Sunday 26 October 2025 in Berlin had 25 hours (end of summer time).
        assert_eq!(filter.starts_from, Some(Utc.with_ymd_and_hms(2025, 10, 25, 22, 0, 0).unwrap()));
        assert_eq!(filter.starts_before, Some(Utc.with_ymd_and_hms(2025, 10, 26, 23, 0, 0).unwrap()));
        assert_eq!(filter.requires_review, Some(true));
        assert_eq!(Criteria::default().filter(chrono_tz::UTC).requires_review, None, "not only those needing review");
    }
}
