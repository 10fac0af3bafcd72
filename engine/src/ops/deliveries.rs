//! The webhook deliveries log, as the page's filter asks for it. Viewers
//! read it too: it names bookings, never a secret.

use super::{Caller, OpError, Operations};

pub use crate::store::{Delivery, DeliveryFilter, DeliveryOutcome, DeliveryStatus};

/// The filter as typed: blank means "any"; the outcome must be one the
/// log knows.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub outcome: Option<String>,
    pub trigger: Option<String>,
    pub uid: Option<String>,
    /// Older than this delivery (the next page).
    pub before: Option<i64>,
}

impl DeliveryQuery {
    pub fn parse(self) -> Result<DeliveryFilter, OpError> {
        let nonempty = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let outcome = match nonempty(self.outcome) {
            Some(text) => Some(text.parse::<DeliveryOutcome>().map_err(|e| OpError::field("outcome", e.to_string()))?),
            None => None,
        };
        Ok(DeliveryFilter { outcome, trigger: nonempty(self.trigger), uid: nonempty(self.uid), before_id: self.before })
    }
}

impl Operations {
    /// Newest first, at most `limit`.
    pub async fn deliveries(&self, caller: Caller, query: DeliveryQuery, limit: u32) -> Result<Vec<Delivery>, OpError> {
        let filter = query.parse()?;
        Ok(self.store.deliveries(caller.org, &filter, limit).await?)
    }
}
