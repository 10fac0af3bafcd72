//! Bulk verification: one complete listing of a time window from Cal.com,
//! diffed locally against our appointments in that window. Only what the
//! listing cannot account for needs a per-uid request.
//!
//! The caller must pass a *complete* listing (every page fetched without
//! error): absence from a partial listing proves nothing.

use std::collections::{HashMap, HashSet};

use super::compare::RemoteBooking;
use crate::domain::AppointmentId;
use crate::store::Appointment;

/// What the listing says about one of our appointments.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// The booking was in the listing (after following reschedules).
    /// `relink` is set when the appointment should point at another uid:
    /// it had none and was matched, or its booking was rescheduled.
    Found { booking: RemoteBooking, relink: Option<String> },
    /// Has a uid the listing does not contain: ask Cal.com for that uid.
    AskByUid(String),
    /// Has no uid and nothing in the window matches it.
    NoMatch,
    /// The listing cannot decide (a row it could not read may be this
    /// appointment's booking): ask Cal.com directly.
    AskDirectly,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowDiff {
    pub findings: Vec<(AppointmentId, Finding)>,
    /// Live bookings in the window that no appointment accounts for.
    pub calcom_only: Vec<RemoteBooking>,
}

/// Follows `rescheduledToUid` links to the booking that replaced `uid`,
/// giving up on loops or links that leave the listing.
fn follow<'a>(lookup: impl Fn(&str) -> Option<&'a RemoteBooking>, uid: &str) -> Option<&'a RemoteBooking> {
    let mut current = lookup(uid)?;
    let mut seen = HashSet::from([current.uid.as_str()]);
    while let Some(next) = current.rescheduled_to_uid.as_deref() {
        match lookup(next) {
            Some(b) if seen.insert(b.uid.as_str()) => current = b,
            _ => break,
        }
    }
    Some(current)
}

fn normalized_phone(phone: &str) -> String {
    phone.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Which of the appointment's contact details the booking's attendees share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamePerson {
    /// An attendee email equal to the customer's, ignoring case.
    pub email: bool,
    /// An attendee phone with the customer's digits (at least five of them).
    pub phone: bool,
}

impl SamePerson {
    pub fn of(a: &Appointment, b: &RemoteBooking) -> SamePerson {
        let email =
            a.customer_email.as_deref().is_some_and(|e| b.attendee_emails.iter().any(|x| x.eq_ignore_ascii_case(e)));
        let phone = a
            .customer_phone
            .as_deref()
            .map(normalized_phone)
            .filter(|p| p.len() >= 5)
            .is_some_and(|p| b.attendee_phones.iter().any(|x| normalized_phone(x) == p));
        SamePerson { email, phone }
    }

    pub fn any(self) -> bool {
        self.email || self.phone
    }
}

/// An appointment without a uid matches a live booking that starts at the
/// same instant with the same attendee email or phone.
fn matches_unlinked(a: &Appointment, b: &RemoteBooking) -> bool {
    // A status calsync does not know may be live: matched, then judged as proving nothing.
    a.starts_at == b.start && b.may_be_live() && SamePerson::of(a, b).any()
}

pub fn diff_window(local: &[Appointment], listing: &[RemoteBooking]) -> WindowDiff {
    let by_uid: HashMap<&str, &RemoteBooking> = listing.iter().map(|b| (b.uid.as_str(), b)).collect();
    let mut accounted: HashSet<&str> = HashSet::new();
    let mut findings = Vec::with_capacity(local.len());

    let (linked, unlinked): (Vec<&Appointment>, Vec<&Appointment>) =
        local.iter().partition(|a| a.calcom_booking_uid.is_some());

    for a in linked {
        let uid = a.calcom_booking_uid.as_deref().unwrap_or_default();
        let finding = match follow(|u| by_uid.get(u).copied(), uid) {
            // Rescheduled to a booking this listing does not hold (another
            // part of the window, or outside it): asking by uid follows it.
            Some(b) if b.rescheduled_to_uid.as_deref().is_some_and(|next| !by_uid.contains_key(next)) => {
                Finding::AskByUid(uid.to_owned())
            }
            Some(b) => {
                accounted.insert(uid);
                accounted.insert(b.uid.as_str());
                let relink = (b.uid != uid).then(|| b.uid.clone());
                Finding::Found { booking: b.clone(), relink }
            }
            None => Finding::AskByUid(uid.to_owned()),
        };
        findings.push((a.id, finding));
    }
    for a in unlinked {
        let candidate = listing.iter().find(|b| !accounted.contains(b.uid.as_str()) && matches_unlinked(a, b));
        let finding = match candidate {
            Some(b) => {
                accounted.insert(b.uid.as_str());
                Finding::Found { booking: b.clone(), relink: Some(b.uid.clone()) }
            }
            None => Finding::NoMatch,
        };
        findings.push((a.id, finding));
    }
    // A cancelled or rejected booking nobody has needs nothing: only live ones are orphans.
    let calcom_only = listing.iter().filter(|b| b.is_live() && !accounted.contains(b.uid.as_str())).cloned().collect();
    WindowDiff { findings, calcom_only }
}

/// One complete listing, indexed by uid so that many batches of
/// appointments can be checked against it (the cycle's bulk path) without
/// re-reading Cal.com.
#[derive(Debug, Default)]
pub struct WindowIndex {
    bookings: Vec<RemoteBooking>,
    by_uid: HashMap<String, usize>,
}

impl WindowIndex {
    pub fn new(bookings: Vec<RemoteBooking>) -> WindowIndex {
        let by_uid = bookings.iter().enumerate().map(|(i, b)| (b.uid.clone(), i)).collect();
        WindowIndex { bookings, by_uid }
    }

    fn get(&self, uid: &str) -> Option<&RemoteBooking> {
        self.by_uid.get(uid).map(|&i| &self.bookings[i])
    }

    pub fn contains(&self, uid: &str) -> bool {
        self.by_uid.contains_key(uid)
    }

    pub fn len(&self) -> usize {
        self.bookings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bookings.is_empty()
    }

    pub fn uids(&self) -> impl Iterator<Item = &str> {
        self.bookings.iter().map(|b| b.uid.as_str())
    }

    /// What the listing says about a linked appointment, like
    /// [`diff_window`]; `None` for an unlinked one, which only a direct
    /// check may match (matching it here could hand it a booking another
    /// appointment already holds). A reschedule whose new booking is not
    /// in the listing is asked for by uid: the cancelled old booking alone
    /// would look like a mismatch.
    pub fn finding(&self, a: &Appointment) -> Option<Finding> {
        let uid = a.calcom_booking_uid.as_deref()?;
        Some(match follow(|u| self.get(u), uid) {
            Some(b) if b.rescheduled_to_uid.as_deref().is_some_and(|next| !self.contains(next)) => {
                Finding::AskByUid(uid.to_owned())
            }
            Some(b) => Finding::Found { booking: b.clone(), relink: (b.uid != uid).then(|| b.uid.clone()) },
            None => Finding::AskByUid(uid.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AppointmentSource, AppointmentStatus, OrgId, SyncStatus};
    use crate::store::SyncState;
    use crate::verify::compare::RemoteStatus;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 13, h, 0, 0).unwrap()
    }

    fn appt(id: i64, uid: Option<&str>, hour: u32, email: Option<&str>) -> Appointment {
        Appointment {
            id: AppointmentId(id),
            org_id: OrgId(1),
            external_id: None,
            customer_name: format!("Kunde {id}"),
            customer_email: email.map(Into::into),
            customer_phone: Some("+49 123 456789".into()),
            service: "Schnitt".into(),
            starts_at: at(hour),
            ends_at: at(hour) + Duration::minutes(30),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Api,
            calcom_booking_uid: uid.map(Into::into),
            calcom_event_type_id: None,
            sync: SyncState {
                status: SyncStatus::Pending,
                error_code: None,
                error_detail: None,
                attempts: 0,
                last_verified_at: None,
                next_verification_at: None,
                requires_manual_review: false,
            },
            created_at: at(0),
            updated_at: at(0),
        }
    }

    fn booking(uid: &str, hour: u32, status: RemoteStatus, email: &str) -> RemoteBooking {
        RemoteBooking {
            uid: uid.into(),
            status,
            start: at(hour),
            end: at(hour) + Duration::minutes(30),
            attendee_emails: vec![email.into()],
            attendee_phones: vec![],
            rescheduled_to_uid: None,
            changed_at: None,
            event_type_id: None,
        }
    }

    #[test]
    fn listed_uids_are_found_and_missing_ones_asked_for() {
        let local = [appt(1, Some("a"), 9, None), appt(2, Some("gone"), 10, None)];
        let listing = [booking("a", 9, RemoteStatus::Accepted, "x@y.de")];
        let diff = diff_window(&local, &listing);
        assert_eq!(diff.findings[0], (AppointmentId(1), Finding::Found { booking: listing[0].clone(), relink: None }));
        assert_eq!(diff.findings[1], (AppointmentId(2), Finding::AskByUid("gone".into())));
        assert!(diff.calcom_only.is_empty());
    }

    #[test]
    fn reschedules_are_followed_and_relinked() {
        let mut old = booking("old", 9, RemoteStatus::Cancelled, "x@y.de");
        old.rescheduled_to_uid = Some("new".into());
        let new = booking("new", 11, RemoteStatus::Accepted, "x@y.de");
        let diff = diff_window(&[appt(1, Some("old"), 9, None)], &[old, new.clone()]);
        assert_eq!(diff.findings[0].1, Finding::Found { booking: new, relink: Some("new".into()) });
        assert!(diff.calcom_only.is_empty(), "the new booking belongs to the appointment");
    }

    #[test]
    fn a_reschedule_to_a_booking_the_listing_lacks_is_asked_for_by_uid() {
        let mut old = booking("old", 9, RemoteStatus::Cancelled, "x@y.de");
        old.rescheduled_to_uid = Some("elsewhere".into());
        let diff = diff_window(&[appt(1, Some("old"), 9, None)], &[old]);
        assert_eq!(
            diff.findings[0].1,
            Finding::AskByUid("old".into()),
            "the cancelled original is not the answer: its replacement, outside this listing, is"
        );
    }

    #[test]
    fn reschedule_loops_do_not_hang() {
        let mut a = booking("a", 9, RemoteStatus::Cancelled, "x@y.de");
        a.rescheduled_to_uid = Some("b".into());
        let mut b = booking("b", 10, RemoteStatus::Cancelled, "x@y.de");
        b.rescheduled_to_uid = Some("a".into());
        let diff = diff_window(&[appt(1, Some("a"), 9, None)], &[a, b]);
        assert!(matches!(diff.findings[0].1, Finding::Found { .. }));
    }

    #[test]
    fn appointments_without_uid_are_matched_by_start_and_email_or_phone() {
        let local =
            [appt(1, None, 9, Some("tom@example.com")), appt(2, None, 10, None), appt(3, None, 12, Some("z@z.de"))];
        let by_email = booking("e", 9, RemoteStatus::Accepted, "TOM@example.com");
        let mut by_phone = booking("p", 10, RemoteStatus::Accepted, "other@x.de");
        by_phone.attendee_phones = vec!["+49123456789".into()];
        let diff = diff_window(&local, &[by_email.clone(), by_phone.clone()]);
        assert_eq!(diff.findings[0].1, Finding::Found { booking: by_email, relink: Some("e".into()) });
        assert_eq!(diff.findings[1].1, Finding::Found { booking: by_phone, relink: Some("p".into()) });
        assert_eq!(diff.findings[2].1, Finding::NoMatch);
    }

    #[test]
    fn live_bookings_nobody_accounts_for_are_calcom_only() {
        let listing = [
            booking("mine", 9, RemoteStatus::Accepted, "a@b.de"),
            booking("stranger", 10, RemoteStatus::Accepted, "s@b.de"),
            booking("pending-stranger", 11, RemoteStatus::Pending, "s@b.de"),
            booking("cancelled-stranger", 12, RemoteStatus::Cancelled, "s@b.de"),
        ];
        let diff = diff_window(&[appt(1, Some("mine"), 9, None)], &listing);
        let uids: Vec<_> = diff.calcom_only.iter().map(|b| b.uid.as_str()).collect();
        assert_eq!(uids, ["stranger", "pending-stranger"]);
    }

    #[test]
    fn one_booking_is_matched_to_one_unlinked_appointment_only() {
        let local = [appt(1, None, 9, Some("t@x.de")), appt(2, None, 9, Some("t@x.de"))];
        let diff = diff_window(&local, &[booking("only", 9, RemoteStatus::Accepted, "t@x.de")]);
        assert!(matches!(diff.findings[0].1, Finding::Found { .. }));
        assert_eq!(diff.findings[1].1, Finding::NoMatch);
    }

    #[test]
    fn the_index_finds_what_the_diff_finds() {
        let mut old = booking("old", 9, RemoteStatus::Cancelled, "x@y.de");
        old.rescheduled_to_uid = Some("new".into());
        let listing = vec![
            old,
            booking("new", 11, RemoteStatus::Accepted, "x@y.de"),
            booking("e", 13, RemoteStatus::Accepted, "tom@example.com"),
        ];
        let local = [appt(1, Some("old"), 9, None), appt(2, Some("gone"), 10, None)];
        let diff = diff_window(&local, &listing);
        let index = WindowIndex::new(listing);
        for (a, (_, expected)) in local.iter().zip(diff.findings) {
            assert_eq!(index.finding(a), Some(expected), "appointment {}", a.id);
        }
        let unlinked = appt(3, None, 13, Some("tom@example.com"));
        assert_eq!(index.finding(&unlinked), None, "an unlinked appointment is left to a direct check");
    }

    #[test]
    fn a_reschedule_leaving_the_listing_is_asked_for_by_uid() {
        let mut old = booking("old", 9, RemoteStatus::Cancelled, "x@y.de");
        old.rescheduled_to_uid = Some("elsewhere".into());
        let index = WindowIndex::new(vec![old]);
        assert_eq!(index.finding(&appt(1, Some("old"), 9, None)), Some(Finding::AskByUid("old".into())));
    }
}
