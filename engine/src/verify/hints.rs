//! Acting on Cal.com's webhooks, off the inbox: deliveries stored by the
//! receiver are claimed per organization and a burst is coalesced into one
//! read of Cal.com (a few GETs for a few bookings, else one listing of the
//! changes since the burst began), after which the appointments of the
//! bookings they name are verified from that answer, through the same
//! planner and budget as every other verification. Bookings nobody has
//! are left to the comprehensive check: an appointment for them is often
//! on its way through the REST API.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::runner::Listings;
use super::service::Verifier;
use super::source::{BookingSource, SourceError};
use super::webhook_health;
use super::window::WindowIndex;
use crate::domain::AppointmentId;
use crate::store::{Delivery, DeliveryOutcome, Handled, Organization, StoreError};
use crate::webhooks::Trigger;

/// Deliveries taken from the inbox at a time.
const DRAIN: u32 = 500;
/// How long a claim on deliveries lasts (a crashed worker's lapse).
const LEASE: Duration = Duration::minutes(2);
/// Up to this many distinct bookings are read one by one; more by listing
/// what changed since the burst began.
const FEW: usize = 3;
/// How far the changes listing reaches back before the burst's first
/// delivery was sent (clock differences, a slow commit at Cal.com).
const OVERLAP: Duration = Duration::minutes(5);

/// What draining an organization's inbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drained {
    pub deliveries: usize,
    /// Appointments verified on the way (the deliveries' and any other due).
    pub verified: i64,
    pub api_calls: i64,
}

impl Verifier {
    /// Acts on every pending delivery of `org` this worker can claim.
    pub async fn drain_webhooks<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        worker: &str,
    ) -> Result<Drained, StoreError> {
        let mut drained = Drained::default();
        loop {
            let claimed = self.store().claim_deliveries(org.id, worker, self.now(), LEASE, DRAIN).await?;
            if claimed.is_empty() {
                return Ok(drained);
            }
            self.webhooks_heard(org).await?;
            drained.deliveries += claimed.len();
            let (verified, calls) = self.act_on(org, source, worker, &claimed).await?;
            drained.verified += verified;
            drained.api_calls += calls;
        }
    }

    /// One coalesced batch: reads Cal.com once for all of it, verifies the
    /// appointments its bookings belong to, records each delivery's outcome.
    async fn act_on<S: BookingSource>(
        &self,
        org: &Organization,
        source: &S,
        worker: &str,
        deliveries: &[Delivery],
    ) -> Result<(i64, i64), StoreError> {
        let relevant: Vec<&Delivery> =
            deliveries.iter().filter(|d| Trigger::from_name(&d.trigger).changes_sync()).collect();
        let uids: BTreeSet<&str> = relevant.iter().flat_map(|d| d.uids()).collect();
        let linked = self.store().appointments_linked_to(org.id, &uids.iter().copied().collect::<Vec<_>>()).await?;
        let linked_uids: BTreeSet<&str> = linked.iter().filter_map(|a| a.calcom_booking_uid.as_deref()).collect();
        let (index, failure, mut calls) = if linked.is_empty() {
            (WindowIndex::default(), None, 0)
        } else {
            self.read_named(source, &relevant, &linked_uids).await
        };
        let ids: Vec<AppointmentId> = linked.iter().map(|a| a.id).collect();
        let now = self.now();
        self.store().make_all_due(org.id, &ids, now).await?;
        let mut listings = Listings::of_changes(index);
        let (counts, _) = self.verify_due_with(org, source, worker, now, None, &mut listings).await?;
        calls += counts.api_calls;
        let handled: Vec<Handled> = deliveries
            .iter()
            .map(|d| {
                let touched: Vec<AppointmentId> = linked
                    .iter()
                    .filter(|a| a.calcom_booking_uid.as_deref().is_some_and(|uid| d.uids().any(|u| u == uid)))
                    .map(|a| a.id)
                    .collect();
                outcome(d, touched, failure.as_deref())
            })
            .collect();
        self.store().finish_deliveries(org.id, &handled, self.now()).await?;
        Ok((counts.processed, calls))
    }

    /// Cal.com's current version of the named bookings: one GET each for a
    /// few, else one listing of what changed since the batch's first
    /// delivery was sent. A failure concludes nothing: the appointments are
    /// due anyway and asked for by uid.
    async fn read_named<S: BookingSource>(
        &self,
        source: &S,
        deliveries: &[&Delivery],
        uids: &BTreeSet<&str>,
    ) -> (WindowIndex, Option<String>, i64) {
        if uids.len() <= FEW {
            let mut found = Vec::new();
            let mut failure = None;
            for uid in uids {
                match source.booking(uid).await {
                    Ok(Some(booking)) => found.push(booking),
                    Ok(None) => {}
                    Err(err) => failure = Some(words(&err)),
                }
            }
            return (WindowIndex::new(found), failure, uids.len() as i64);
        }
        let first = deliveries.iter().map(|d| d.sent_at.unwrap_or(d.received_at)).min().unwrap_or_else(|| self.now());
        match source.changes_since(first - OVERLAP).await {
            Ok(Some(listing)) => {
                let calls = listing.api_calls as i64;
                (WindowIndex::new(listing.bookings), None, calls)
            }
            Ok(None) => (WindowIndex::default(), None, 0),
            Err(err) => (WindowIndex::default(), Some(words(&err)), 1),
        }
    }

    /// A delivery arrived: an open "webhooks look disabled" alert is over.
    async fn webhooks_heard(&self, org: &Organization) -> Result<(), StoreError> {
        if let Some(opened) = self.store().close_webhook_alert(org.id).await? {
            let note = webhook_health::recovered(opened);
            self.announce(org, None, &note, |url: &str| crate::mail::content::notice(&note, url)).await?;
        }
        Ok(())
    }
}

fn words(err: &SourceError) -> String {
    format!("Cal.com could not be asked ({err}); the appointments stay due and are retried")
}

fn outcome(delivery: &Delivery, touched: Vec<AppointmentId>, failure: Option<&str>) -> Handled {
    let relevant = Trigger::from_name(&delivery.trigger).changes_sync();
    let (outcome, detail) = match (relevant, touched.is_empty(), failure) {
        (false, _, _) => (DeliveryOutcome::Ignored, Some(format!("{} cannot change sync state", delivery.trigger))),
        (true, true, _) => (DeliveryOutcome::Ignored, Some("no appointment has the booking it names".to_owned())),
        (true, false, Some(why)) => (DeliveryOutcome::Failed, Some(why.to_owned())),
        (true, false, None) => (DeliveryOutcome::Verified, None),
    };
    Handled { id: delivery.id, outcome, detail, appointment_ids: touched }
}

/// When a delivery for a booking changed at `changed_at` should have come.
pub fn announce_window_start(watermark: DateTime<Utc>) -> DateTime<Utc> {
    watermark - OVERLAP
}
