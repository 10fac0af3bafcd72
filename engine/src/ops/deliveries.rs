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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_filter_means_any_and_an_unknown_outcome_is_named() {
        let blank = DeliveryQuery { outcome: Some(" ".into()), trigger: Some("".into()), uid: None, before: Some(9) };
        let filter = blank.parse().unwrap();
        assert_eq!((filter.outcome, filter.trigger, filter.uid, filter.before_id), (None, None, None, Some(9)));
        let typed = DeliveryQuery { trigger: Some(" BOOKING_CANCELLED ".into()), ..DeliveryQuery::default() };
        assert_eq!(typed.parse().unwrap().trigger.as_deref(), Some("BOOKING_CANCELLED"));
        let outcome = DeliveryOutcome::ALL[0];
        let known = DeliveryQuery { outcome: Some(outcome.as_str().into()), ..DeliveryQuery::default() };
        assert_eq!(known.parse().unwrap().outcome, Some(outcome));
        let unknown = DeliveryQuery { outcome: Some("lost".into()), ..DeliveryQuery::default() };
        assert!(matches!(unknown.parse(), Err(OpError::Invalid { field: "outcome", .. })));
    }
}
