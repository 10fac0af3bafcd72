//! Webhook received → notification visible in the feed: a booking moves in
//! the simulator, which sends its signed webhook to calsync; calsync
//! verifies, flags the mismatch and notifies; an open page's live-updates
//! stream shows the new notification. Timed from the move to the event.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use calcom_sim::matched::{seed_matching, Customer};
use calcom_sim::{spawn, BookingEdit, SimConfig, SimHandle};
use chrono::{Duration as ChronoDuration, Utc};
use engine::domain::OrgId;
use engine::secrets::{seal, Purpose};
use engine::store::{Backend, CalcomConnectionUpdate, NewOrganization, Store};
use engine::testing::TestDb;

use crate::web::{key, percentile, Site};

pub const WEBHOOK_SECRET: &str = "bench webhook secret";

/// (p50, max) in ms over `samples` moved bookings.
pub async fn webhook_to_feed_ms(samples: usize) -> Result<(f64, f64)> {
    let db = TestDb::new(Backend::Sqlite).await;
    let new = NewOrganization { slug: "live".into(), name: "Live".into(), time_zone: chrono_tz::Europe::Berlin };
    let org = db.store.create_organization(&new, Utc::now()).await?;
    let sim = spawn(SimConfig::default()).await?;
    connect(&db.store, org.id, &sim).await?;
    let site = Site::serve(db.store.clone(), org.id).await?;
    sim.control()
        .subscribe_webhooks(format!("{}/webhooks/calcom/{}", site.base, org.slug), Some(WEBHOOK_SECRET.into()));

    let mut events = site.events().await?;
    let mut latest = events.next(Duration::from_secs(5)).await?.latest;
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let uid = booking_with_appointment(&db.store, org.id, &sim, i).await?;
        let booking = sim.control().booking(&uid).context("the seeded booking")?;
        let started = Instant::now();
        let moved = BookingEdit {
            start: Some(booking.start + ChronoDuration::hours(3)),
            webhook: true,
            ..BookingEdit::default()
        };
        sim.control().edit(&uid, moved)?;
        loop {
            let summary =
                events.next(Duration::from_secs(10)).await.context("the notification never reached the feed")?;
            if summary.latest > latest {
                latest = summary.latest;
                break;
            }
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    if times.is_empty() {
        bail!("no samples");
    }
    Ok((percentile(&mut times, 50), percentile(&mut times, 100)))
}

pub async fn connect(store: &Store, org: OrgId, sim: &SimHandle) -> Result<()> {
    let update = CalcomConnectionUpdate {
        base_url: Some(sim.base_url.clone()),
        api_key_sealed: Some(seal(&key(), Purpose::CalcomApiKey(org), sim.api_key().expose())),
        webhook_secret_sealed: Some(seal(&key(), Purpose::WebhookSecret(org), WEBHOOK_SECRET)),
        event_type_id: Some(1),
    };
    store.update_calcom_connection(org, &update, Utc::now()).await?;
    Ok(())
}

/// A booking `i` days ahead and the appointment that matches it.
async fn booking_with_appointment(store: &Store, org: OrgId, sim: &SimHandle, i: usize) -> Result<String> {
    let start =
        (Utc::now() + ChronoDuration::days(2 + i as i64)).date_naive().and_hms_opt(9, 0, 0).context("time")?.and_utc();
    let (name, email) = (format!("Kunde {i}"), format!("kunde{i}@example.com"));
    let customer = Customer { name: &name, email: &email };
    Ok(seed_matching(store, org, sim, start, customer, Utc::now()).await.0)
}
