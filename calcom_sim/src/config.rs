//! How a simulator is set up: which API keys it accepts, its rate limit,
//! where it keeps its state, and its clock. Plain data (no clap), so the
//! CLI, tests and demos build it the same way.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use engine::calcom::ApiKey;
use engine::clock::{Clock, SystemClock};

/// The key accepted when no other is configured.
pub const DEFAULT_API_KEY: &str = "cal_test_key";

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Accepted `Authorization: Bearer` keys.
    pub api_keys: Vec<ApiKey>,
    /// `None`: no rate limiting at all.
    pub rate_limit: Option<RateLimit>,
    /// Bookings and webhook subscribers survive restarts in this JSON file.
    pub state_file: Option<PathBuf>,
    /// The time the simulator lives in; the control API can move it forward.
    pub clock: Arc<dyn Clock>,
    /// Changes are written to `state_file` at most this often.
    pub persist_debounce: Duration,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            api_keys: vec![ApiKey::new(DEFAULT_API_KEY)],
            rate_limit: Some(RateLimit::default()),
            state_file: None,
            clock: Arc::new(SystemClock),
            persist_debounce: Duration::from_millis(200),
        }
    }
}

impl SimConfig {
    /// Replaces the accepted keys (an empty list keeps the default key).
    pub fn with_api_keys<K: Into<ApiKey>>(mut self, keys: impl IntoIterator<Item = K>) -> SimConfig {
        let keys: Vec<ApiKey> = keys.into_iter().map(Into::into).collect();
        if !keys.is_empty() {
            self.api_keys = keys;
        }
        self
    }

    pub fn with_rate_limit(mut self, rate_limit: Option<RateLimit>) -> SimConfig {
        self.rate_limit = rate_limit;
        self
    }

    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> SimConfig {
        self.state_file = Some(path.into());
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> SimConfig {
        self.clock = clock;
        self
    }
}

/// A fixed-window limit per API key, as Cal.com applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub window: Duration,
    /// How long a key that went over stays blocked.
    pub block: Duration,
    /// The bucket's name in the headers: `Default` for ordinary keys, the
    /// custom limit's name (e.g. `Long`) for keys with their own limits.
    pub name: String,
}

/// The bucket name of an ordinary API key.
pub const DEFAULT_LIMIT_NAME: &str = "Default";

impl Default for RateLimit {
    /// Cal.com's API-key limit: 120 per 60 s, blocked for 60 s after.
    fn default() -> RateLimit {
        RateLimit::per_minute(120)
    }
}

impl RateLimit {
    pub fn per_minute(limit: u32) -> RateLimit {
        RateLimit::per_window(limit, Duration::from_secs(60))
    }

    /// For `--rate-limit N`: N per minute, 0 meaning off.
    pub fn per_minute_or_off(limit: u32) -> Option<RateLimit> {
        (limit > 0).then(|| RateLimit::per_minute(limit))
    }

    /// A shorter window (tests): the block lasts one window too.
    pub fn per_window(limit: u32, window: Duration) -> RateLimit {
        RateLimit { limit, window, block: window, name: DEFAULT_LIMIT_NAME.into() }
    }

    /// The same limit under a custom bucket name.
    pub fn named(mut self, name: impl Into<String>) -> RateLimit {
        self.name = name.into();
        self
    }
}
