//! Structured logs. `RUST_LOG` filters (default: info for calsync, warn for
//! libraries); `CALSYNC_LOG_FORMAT=json` switches to one JSON object a line.

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::ConfigError;

const DEFAULT_FILTER: &str = "warn,calsync=info,server=info,engine=info,app=info,tower_http=info";

pub fn init() -> Result<(), ConfigError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => {
            EnvFilter::try_new(&spec).map_err(|e| ConfigError::new("RUST_LOG", format!("{spec:?}: {e}")))?
        }
        _ => EnvFilter::new(DEFAULT_FILTER),
    };
    let json = match std::env::var("CALSYNC_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") | Err(_) => false,
        Ok(other) => return Err(ConfigError::new("CALSYNC_LOG_FORMAT", format!("{other:?}; expected text or json"))),
    };
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(true);
    // A second init (tests) keeps the first subscriber; that is fine.
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
    Ok(())
}
