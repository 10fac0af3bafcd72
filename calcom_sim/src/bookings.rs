//! The simulator's bookings: a compact record per booking, indexed by id,
//! uid, start time and recurring series, so lookups are O(1) and window
//! listings only touch the bookings in the window. The API shape
//! (`calcom::Booking`) is rendered from a record on the way out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::listing::KeptSelections;
use engine::calcom::model::{Attendee, Booking, BookingStatus, EventType, EventTypeRef, Host, HostId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SimBooking {
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub description: Option<String>,
    pub status: BookingStatus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub event_type_id: i64,
    pub attendees: Vec<Attendee>,
    #[serde(default)]
    pub guests: Vec<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub booking_fields_responses: Map<String, Value>,
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    #[serde(default)]
    pub cancelled_by_email: Option<String>,
    #[serde(default)]
    pub rescheduling_reason: Option<String>,
    #[serde(default)]
    pub rescheduled_from_uid: Option<String>,
    #[serde(default)]
    pub rescheduled_to_uid: Option<String>,
    #[serde(default)]
    pub recurring_booking_uid: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `None` for rows older than Cal.com's `updatedAt` column: they have
    /// never been updated since, and Cal.com sends `null`.
    pub updated_at: Option<DateTime<Utc>>,
    /// The host's user was deleted: rendered with Cal.com's stand-in host.
    #[serde(default)]
    pub host_missing: bool,
}

impl SimBooking {
    pub fn duration_minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }

    /// Whether the meeting is on (accepted, pending, awaiting its host).
    pub fn is_live(&self) -> bool {
        self.status.is_live() == Some(true)
    }
}

/// An event type that books a series: `count` occurrences, `every` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recurrence {
    pub count: u32,
    pub every: chrono::Duration,
}

/// The account behind the simulator: one host and its event types.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    pub host: Host,
    pub event_types: Vec<EventType>,
    /// Event types that book a series (their create answers with an array).
    pub recurrences: BTreeMap<i64, Recurrence>,
}

/// The event type that books four weekly occurrences.
pub const RECURRING_EVENT_TYPE: i64 = 3;

impl Default for Catalog {
    fn default() -> Catalog {
        let event_type = |id, slug: &str, title: &str, minutes| EventType {
            id,
            slug: slug.into(),
            title: title.into(),
            length_in_minutes: minutes,
            description: None,
            hidden: false,
        };
        Catalog {
            host: Host {
                id: HostId::Number(1),
                name: Some("Sim Host".into()),
                email: Some("host@calcom-sim.local".into()),
                username: Some("sim-host".into()),
                time_zone: Some("Europe/Berlin".into()),
            },
            event_types: vec![
                event_type(1, "30min", "30 Minute Meeting", 30),
                event_type(2, "60min", "60 Minute Meeting", 60),
                event_type(RECURRING_EVENT_TYPE, "weekly-45min", "Weekly 45 Minutes", 45),
            ],
            recurrences: BTreeMap::from([(
                RECURRING_EVENT_TYPE,
                Recurrence { count: 4, every: chrono::Duration::weeks(1) },
            )]),
        }
    }
}

impl Catalog {
    pub fn event_type(&self, id: i64) -> Option<&EventType> {
        self.event_types.iter().find(|e| e.id == id)
    }

    /// The host's name as titles use it.
    pub fn host_name(&self) -> &str {
        self.host.name.as_deref().unwrap_or("the host")
    }

    /// The booking as `GET /v2/bookings/{uid}` shows it: as
    /// `output.service.ts` fills `BookingOutput_2024_08_13`, fields Cal.com
    /// leaves `undefined` are left out (cancellation fields unless cancelled,
    /// reschedule links unless rescheduled, phone numbers nobody gave).
    pub fn render(&self, b: &SimBooking) -> Booking {
        let slug = self.event_type(b.event_type_id).map(|e| e.slug.clone()).unwrap_or_default();
        let cancelled = b.status == BookingStatus::Cancelled;
        Booking {
            id: b.id,
            uid: b.uid.clone(),
            title: b.title.clone(),
            description: b.description.clone(),
            status: b.status.clone(),
            start: b.start,
            end: b.end,
            duration: b.duration_minutes(),
            event_type_id: Some(b.event_type_id),
            event_type: Some(EventTypeRef { id: b.event_type_id, slug }),
            hosts: vec![if b.host_missing { Host::missing() } else { self.host.clone() }],
            attendees: b.attendees.clone(),
            guests: b.guests.clone(),
            location: b.location.clone(),
            meeting_url: b.location.clone().filter(|l| l.starts_with("http")),
            metadata: b.metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect(),
            booking_fields_responses: b.booking_fields_responses.clone(),
            cancellation_reason: b.cancellation_reason.clone().filter(|_| cancelled),
            cancelled_by_email: b.cancelled_by_email.clone().filter(|_| cancelled),
            rescheduling_reason: b.rescheduling_reason.clone(),
            rescheduled_from_uid: b.rescheduled_from_uid.clone(),
            rescheduled_to_uid: b.rescheduled_to_uid.clone(),
            recurring_booking_uid: b.recurring_booking_uid.clone(),
            created_at: b.created_at,
            updated_at: b.updated_at,
            ics_uid: Some(format!("{}@Cal.com", b.uid)),
            absent_host: false,
            rating: None,
        }
    }
}

/// A uid that is already taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DuplicateUid(pub String);

#[derive(Debug, Default)]
pub(crate) struct Bookings {
    by_id: HashMap<i64, SimBooking>,
    by_uid: HashMap<String, i64>,
    by_start: BTreeSet<(DateTime<Utc>, i64)>,
    by_series: HashMap<String, BTreeSet<i64>>,
    last_id: i64,
    /// The listings' last sorted selections (see `listing`): every change
    /// below forgets them.
    selections: KeptSelections,
}

impl Bookings {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    pub fn last_id(&self) -> i64 {
        self.last_id
    }

    pub fn contains_uid(&self, uid: &str) -> bool {
        self.by_uid.contains_key(uid)
    }

    pub fn insert(&mut self, booking: SimBooking) -> Result<(), DuplicateUid> {
        if self.by_uid.contains_key(&booking.uid) {
            return Err(DuplicateUid(booking.uid));
        }
        self.selections.forget();
        // Ids of loaded or seeded bookings must never be handed out again.
        self.last_id = self.last_id.max(booking.id);
        self.by_uid.insert(booking.uid.clone(), booking.id);
        self.by_start.insert((booking.start, booking.id));
        if let Some(series) = &booking.recurring_booking_uid {
            self.by_series.entry(series.clone()).or_default().insert(booking.id);
        }
        self.by_id.insert(booking.id, booking);
        Ok(())
    }

    pub fn get(&self, uid: &str) -> Option<&SimBooking> {
        self.by_uid.get(uid).and_then(|id| self.by_id.get(id))
    }

    pub fn by_id(&self, id: i64) -> Option<&SimBooking> {
        self.by_id.get(&id)
    }

    pub fn selections(&self) -> &KeptSelections {
        &self.selections
    }

    /// The occurrences of the recurring series `uid`, by start.
    pub fn series(&self, uid: &str) -> Vec<&SimBooking> {
        let mut occurrences: Vec<&SimBooking> =
            self.by_series.get(uid).into_iter().flatten().filter_map(|id| self.by_id.get(id)).collect();
        occurrences.sort_by_key(|b| (b.start, b.id));
        occurrences
    }

    /// Changes one booking in place, keeping the indexes right; returns it
    /// as it is afterwards.
    pub fn update(&mut self, uid: &str, change: impl FnOnce(&mut SimBooking)) -> Option<&SimBooking> {
        let id = *self.by_uid.get(uid)?;
        self.selections.forget();
        let booking = self.by_id.get_mut(&id)?;
        let old_start = booking.start;
        change(booking);
        // The uid and id are the record's identity; edits may not touch them.
        booking.uid = uid.to_owned();
        booking.id = id;
        if booking.start != old_start {
            self.by_start.remove(&(old_start, id));
            self.by_start.insert((booking.start, id));
        }
        self.by_id.get(&id)
    }

    pub fn remove(&mut self, uid: &str) -> Option<SimBooking> {
        let id = self.by_uid.remove(uid)?;
        self.selections.forget();
        let booking = self.by_id.remove(&id)?;
        self.by_start.remove(&(booking.start, id));
        if let Some(series) = &booking.recurring_booking_uid {
            if let Some(ids) = self.by_series.get_mut(series) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.by_series.remove(series);
                }
            }
        }
        Some(booking)
    }

    pub fn clear(&mut self) {
        *self = Bookings::default();
    }

    /// Bookings with `from <= start <= to` (either bound open), by start then id.
    pub fn starting_between(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> impl Iterator<Item = &SimBooking> + '_ {
        use std::ops::Bound;
        let lower = from.map_or(Bound::Unbounded, |at| Bound::Included((at, i64::MIN)));
        let upper = to.map_or(Bound::Unbounded, |at| Bound::Included((at, i64::MAX)));
        // An inverted window is empty (BTreeSet::range would panic on it).
        let empty = matches!((from, to), (Some(f), Some(t)) if f > t);
        let range = if empty { None } else { Some(self.by_start.range((lower, upper))) };
        range.into_iter().flatten().filter_map(|(_, id)| self.by_id.get(id))
    }

    pub fn all(&self) -> impl Iterator<Item = &SimBooking> + '_ {
        self.starting_between(None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn booking(id: i64, uid: &str, hour: u32) -> SimBooking {
        let start = Utc.with_ymd_and_hms(2025, 10, 13, hour, 0, 0).unwrap();
        SimBooking {
            id,
            uid: uid.into(),
            title: "t".into(),
            description: None,
            status: BookingStatus::Accepted,
            start,
            end: start + Duration::minutes(30),
            event_type_id: 1,
            attendees: vec![],
            guests: vec![],
            location: None,
            metadata: BTreeMap::new(),
            booking_fields_responses: Map::new(),
            cancellation_reason: None,
            cancelled_by_email: None,
            rescheduling_reason: None,
            rescheduled_from_uid: None,
            rescheduled_to_uid: None,
            recurring_booking_uid: None,
            created_at: start,
            updated_at: Some(start),
            host_missing: false,
        }
    }

    #[test]
    fn the_start_index_follows_edits_and_removals() {
        let mut all = Bookings::default();
        all.insert(booking(1, "a", 9)).unwrap();
        all.insert(booking(2, "b", 10)).unwrap();
        assert_eq!(all.insert(booking(3, "a", 11)), Err(DuplicateUid("a".into())));
        all.update("a", |b| b.start += Duration::hours(3));
        let order: Vec<&str> = all.all().map(|b| b.uid.as_str()).collect();
        assert_eq!(order, ["b", "a"]);
        all.remove("b");
        let at = |h| Some(Utc.with_ymd_and_hms(2025, 10, 13, h, 0, 0).unwrap());
        assert_eq!(all.starting_between(at(9), at(11)).count(), 0);
        assert_eq!(all.starting_between(at(12), at(12)).count(), 1, "bounds are inclusive");
        assert_eq!(all.starting_between(at(13), at(12)).count(), 0, "inverted windows are empty");
        assert_eq!(all.next_id(), 3, "ids continue after the highest inserted");
    }

    #[test]
    fn series_are_found_by_their_uid() {
        let mut all = Bookings::default();
        for (id, hour) in [(1, 10), (2, 9)] {
            let mut b = booking(id, &format!("occ{id}"), hour);
            b.recurring_booking_uid = Some("series".into());
            all.insert(b).unwrap();
        }
        let uids: Vec<&str> = all.series("series").iter().map(|b| b.uid.as_str()).collect();
        assert_eq!(uids, ["occ2", "occ1"]);
        assert!(all.series("occ1").is_empty());
    }
}
