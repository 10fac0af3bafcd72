//! Which due appointments to verify from a listing of Cal.com, and which
//! one request each: by the calls each costs. One planner for all due work
//! (new appointments, retries on the ladder, "verify now", webhook hints,
//! the cycle), so an import of 10,000 appointments costs a few listings,
//! not 10,000 requests. Pure: the runner sizes and lists what it says.

use chrono::{DateTime, Duration, Utc};

/// Cal.com's largest page.
pub const PAGE: u64 = 250;

/// A new span starts after a gap longer than this between two due
/// appointments: bookings in the gap would be listed for nothing.
pub const GAP: Duration = Duration::days(2);

/// At most this many spans are sized (one request each); beyond it the
/// closest neighbours are merged.
pub const MAX_SPANS: usize = 8;

/// A listing costs its pages plus the request that sized it: below this
/// many due appointments in a span, asking for each is never dearer.
pub const MIN_DUE_TO_LIST: usize = 3;

/// A stretch of time holding due appointments, to be listed as one window
/// `[from, to)` if that is cheaper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Due appointments starting in it.
    pub due: usize,
}

impl Span {
    /// Whether sizing (one request) can pay off.
    pub fn worth_sizing(&self) -> bool {
        self.due >= MIN_DUE_TO_LIST
    }

    /// Whether listing `size` bookings (the sizing already spent) costs
    /// fewer requests than one per due appointment.
    pub fn worth_listing(&self, size: u64) -> bool {
        size.div_ceil(PAGE).max(1) < self.due as u64
    }
}

/// What verifying due appointments costs in calls to Cal.com, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Requests that size a span (one per span worth sizing).
    pub sizings: u64,
    /// Windows listed, and their pages (one request each).
    pub listings: u64,
    pub pages: u64,
    /// Bookings asked for one by one.
    pub single: u64,
}

impl Cost {
    pub fn calls(&self) -> u64 {
        self.sizings + self.pages + self.single
    }

    pub fn add(&mut self, other: Cost) {
        self.sizings += other.sizings;
        self.listings += other.listings;
        self.pages += other.pages;
        self.single += other.single;
    }
}

impl Span {
    /// What the runner spends on this span when Cal.com holds about `size`
    /// bookings in it: the same choices it makes (size, then list or ask
    /// one by one), so a plan shown before a bulk action matches the run.
    pub fn cost(&self, size: u64) -> Cost {
        let due = self.due as u64;
        if !self.worth_sizing() {
            return Cost { single: due, ..Cost::default() };
        }
        if self.worth_listing(size) {
            Cost { sizings: 1, listings: 1, pages: size.div_ceil(PAGE).max(1), single: 0 }
        } else {
            Cost { sizings: 1, single: due, ..Cost::default() }
        }
    }
}

/// Groups the starts of due appointments into spans: apart where the gap
/// exceeds [`GAP`], then merged, closest first, down to [`MAX_SPANS`].
pub fn spans(mut starts: Vec<DateTime<Utc>>) -> Vec<Span> {
    starts.sort_unstable();
    let mut spans: Vec<Span> = Vec::new();
    for start in starts {
        match spans.last_mut() {
            Some(span) if start - (span.to - Duration::minutes(1)) <= GAP => {
                span.to = start + Duration::minutes(1);
                span.due += 1;
            }
            _ => spans.push(Span { from: start, to: start + Duration::minutes(1), due: 1 }),
        }
    }
    while spans.len() > MAX_SPANS {
        let closest = (1..spans.len()).min_by_key(|&i| spans[i].from - spans[i - 1].to).unwrap_or(1);
        let later = spans.remove(closest);
        let earlier = &mut spans[closest - 1];
        earlier.to = later.to;
        earlier.due += later.due;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    #[test]
    fn a_dense_week_is_one_span() {
        let starts: Vec<_> = (0..7).flat_map(|d| (8..18).map(move |h| day(2 + d, h))).collect();
        let spans = spans(starts);
        assert_eq!(spans, [Span { from: day(2, 8), to: day(8, 17) + Duration::minutes(1), due: 70 }]);
    }

    #[test]
    fn appointments_far_apart_get_spans_of_their_own() {
        let spans = spans(vec![day(20, 9), day(2, 9), day(2, 11), day(21, 10)]);
        let shape: Vec<(DateTime<Utc>, usize)> = spans.iter().map(|s| (s.from, s.due)).collect();
        assert_eq!(shape, [(day(2, 9), 2), (day(20, 9), 2)]);
    }

    #[test]
    fn too_many_spans_merge_their_closest_neighbours() {
        // Twelve lone appointments three days apart: all gaps are equal, so the earliest neighbours merge.
        let starts: Vec<_> = (0..12).map(|i| day(1, 0) + Duration::days(3 * i)).collect();
        let spans = spans(starts);
        assert_eq!(spans.len(), MAX_SPANS);
        assert_eq!(spans.iter().map(|s| s.due).sum::<usize>(), 12);
        assert!(spans.windows(2).all(|w| w[0].to <= w[1].from), "still in order, not overlapping");
    }

    #[test]
    fn a_spans_cost_follows_the_runners_choice() {
        let span = |due| Span { from: day(2, 9), to: day(3, 9), due };
        assert_eq!(span(2).cost(10), Cost { single: 2, ..Cost::default() }, "too few to size: one by one");
        let listed = span(40).cost(600);
        assert_eq!(listed, Cost { sizings: 1, listings: 1, pages: 3, single: 0 });
        assert_eq!(listed.calls(), 4, "the sizing and three pages of 250");
        assert_eq!(span(5).cost(5_000).calls(), 6, "sized, then cheaper one by one");
    }

    #[test]
    fn listing_is_chosen_only_when_it_costs_fewer_requests() {
        let span = |due| Span { from: day(2, 9), to: day(3, 9), due };
        assert!(!span(2).worth_sizing());
        assert!(span(3).worth_sizing());
        assert!(span(3).worth_listing(10), "one page for three");
        assert!(!span(3).worth_listing(600), "three pages for three appointments");
        assert!(span(1000).worth_listing(10_000), "40 pages for 1000");
        assert!(!span(5).worth_listing(5_000));
    }
}
