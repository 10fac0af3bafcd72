//! The webhook deliveries log: every delivery Cal.com sent, newest first,
//! with what calsync made of it, like a payment provider's event log.
//! Admins and viewers (it names bookings, not people's secrets).

use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How many deliveries one page shows.
pub const PAGE_SIZE: u32 = 50;

/// Which deliveries to show, as the page's URL says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryQuery {
    pub outcome: Option<String>,
    pub trigger: Option<String>,
    pub uid: Option<String>,
    /// Older than this delivery (the next page).
    pub before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLine {
    pub id: i64,
    /// When it arrived, in the organization's time zone and format.
    pub received: String,
    pub trigger: String,
    pub bookings: Vec<String>,
    /// "verified", "ignored", "failed", or "waiting" while not yet acted on.
    pub outcome: String,
    /// Why, in words (e.g. why it was ignored or failed).
    pub detail: Option<String>,
    pub appointments: Vec<i64>,
    /// How many times the same body came again.
    pub replays: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryPage {
    pub lines: Vec<DeliveryLine>,
    /// The query for the next (older) page, when there is one.
    pub older: Option<i64>,
    /// The filter's choices.
    pub outcomes: Vec<String>,
    pub time_zone: String,
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_deliveries(query: DeliveryQuery) -> Result<DeliveryPage, AppError> {
    use crate::context::{require_user, server_context};
    use engine::ops::deliveries::{self, DeliveryOutcome, DeliveryStatus};

    let user = require_user()?;
    let ops = server_context()?.ops;
    let org = ops.organization(user.caller()).await?;
    let DeliveryQuery { outcome, trigger, uid, before } = query;
    let query = deliveries::DeliveryQuery { outcome, trigger, uid, before };
    let deliveries = ops.deliveries(user.caller(), query, PAGE_SIZE).await?;
    let local = org.local_format();
    let older = (deliveries.len() == PAGE_SIZE as usize).then(|| deliveries.last().map(|d| d.id)).flatten();
    let lines = deliveries
        .into_iter()
        .map(|d| DeliveryLine {
            id: d.id,
            received: local.date_time_seconds(d.received_at),
            bookings: d.uids().map(str::to_owned).collect(),
            outcome: match (d.status, d.outcome) {
                (_, Some(outcome)) => outcome.as_str().to_owned(),
                (DeliveryStatus::Pending, None) | (DeliveryStatus::Done, None) => "waiting".to_owned(),
            },
            trigger: d.trigger,
            detail: d.detail,
            appointments: d.appointment_ids.into_iter().map(|id| id.get()).collect(),
            replays: d.replays,
        })
        .collect();
    Ok(DeliveryPage {
        lines,
        older,
        outcomes: DeliveryOutcome::ALL.iter().map(|o| o.as_str().to_owned()).collect(),
        time_zone: org.time_zone.name().to_owned(),
    })
}
