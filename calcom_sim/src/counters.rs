//! Requests counted per endpoint (every request that reached the `/v2`
//! API, whatever it was answered), per status code, and webhook deliveries.
//! Tests read them to assert what a piece of code cost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Endpoint names as counted: method and route pattern.
pub mod endpoint {
    pub const GET_BOOKING: &str = "GET /v2/bookings/{uid}";
    pub const LIST_BOOKINGS: &str = "GET /v2/bookings";
    pub const CREATE_BOOKING: &str = "POST /v2/bookings";
    pub const CANCEL_BOOKING: &str = "POST /v2/bookings/{uid}/cancel";
    pub const RESCHEDULE_BOOKING: &str = "POST /v2/bookings/{uid}/reschedule";
    pub const LIST_EVENT_TYPES: &str = "GET /v2/event-types";
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallCounters {
    pub total: u64,
    pub by_endpoint: BTreeMap<String, u64>,
    pub by_status: BTreeMap<u16, u64>,
    pub webhooks_delivered: u64,
    pub webhooks_failed: u64,
}

impl CallCounters {
    /// Requests to one endpoint (see `endpoint`).
    pub fn calls(&self, endpoint: &str) -> u64 {
        self.by_endpoint.get(endpoint).copied().unwrap_or(0)
    }

    /// Answers with one status code.
    pub fn answered(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    pub(crate) fn count_request(&mut self, endpoint: &str) {
        self.total += 1;
        *self.by_endpoint.entry(endpoint.to_owned()).or_default() += 1;
    }

    pub(crate) fn count_status(&mut self, status: u16) {
        *self.by_status.entry(status).or_default() += 1;
    }
}
