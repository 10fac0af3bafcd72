//! Cal.com's health for one organization, as the dashboard tile says it.
//! (`verify::health` decides it; the browser only shows it.)

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

// Externally tagged (serde's default): postcard, the server functions' answer
// format, cannot read an internally tagged enum (that needs a format that
// describes itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalcomHealth {
    /// No Cal.com base URL and key configured.
    NotConnected,
    Healthy,
    /// Cal.com answers, but some recent calls failed (timeouts, 5xx, 429).
    Degraded {
        recent_errors: i64,
    },
    /// Calls are paused after repeated failures; a probe goes out at `until`.
    CircuitOpen {
        until: DateTime<Utc>,
    },
    /// Cal.com refused the API key more recently than it answered anything.
    BadApiKey,
}

impl CalcomHealth {
    pub const fn label(&self) -> &'static str {
        match self {
            CalcomHealth::NotConnected => "Not connected",
            CalcomHealth::Healthy => "Healthy",
            CalcomHealth::Degraded { .. } => "Degraded",
            CalcomHealth::CircuitOpen { .. } => "Circuit open",
            CalcomHealth::BadApiKey => "Bad API key",
        }
    }

    /// For CSS and tests.
    pub const fn key(&self) -> &'static str {
        match self {
            CalcomHealth::NotConnected => "not_connected",
            CalcomHealth::Healthy => "healthy",
            CalcomHealth::Degraded { .. } => "degraded",
            CalcomHealth::CircuitOpen { .. } => "circuit_open",
            CalcomHealth::BadApiKey => "bad_api_key",
        }
    }
}
