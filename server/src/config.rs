//! Settings from the environment and command line, validated up front so a
//! wrong value stops start-up with one line naming the setting.

use std::net::SocketAddr;

use engine::secret_key::SecretKey;

/// A setting whose value cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(setting: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError { setting, message: message.into() }
    }
}

pub fn parse_addr(text: &str) -> Result<SocketAddr, ConfigError> {
    parse_socket_addr("CALSYNC_ADDR", text)
}

pub fn parse_socket_addr(setting: &'static str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.parse().map_err(|_| {
        ConfigError::new(setting, format!("{text:?} is not a socket address; expected IP:PORT such as 127.0.0.1:3000"))
    })
}

/// Seconds after which a silent worker counts as dead: 2 to 3600. Beats
/// come four times per period, so a live worker is never taken for dead.
pub fn parse_worker_stale_secs(text: &str) -> Result<std::time::Duration, ConfigError> {
    match text.trim().parse::<u64>() {
        Ok(secs @ 2..=3600) => Ok(std::time::Duration::from_secs(secs)),
        _ => Err(ConfigError::new(
            "CALSYNC_WORKER_STALE_SECS",
            format!("{text:?} is not a number of seconds from 2 to 3600"),
        )),
    }
}

pub fn parse_secret_key(text: Option<&str>) -> Result<SecretKey, ConfigError> {
    let text = text.filter(|t| !t.is_empty()).ok_or_else(|| {
        ConfigError::new(
            "CALSYNC_SECRET_KEY",
            "is not set; generate one with `openssl rand -hex 32` (`make run` does this for you)",
        )
    })?;
    SecretKey::parse(text).map_err(|e| ConfigError::new("CALSYNC_SECRET_KEY", e.to_string()))
}

/// The address people use to reach calsync, for links in emails. Defaults to
/// the listen address.
pub fn parse_public_url(text: Option<&str>, addr: SocketAddr) -> Result<String, ConfigError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(format!("http://{addr}"));
    };
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(text.trim_end_matches('/').to_owned())
        }
        _ => Err(ConfigError::new(
            "CALSYNC_PUBLIC_URL",
            format!("{text:?} is not an http(s) URL such as https://calsync.example.com"),
        )),
    }
}

pub fn parse_retry_delays(text: &str) -> Result<engine::verify::ladder::RetryLadder, ConfigError> {
    engine::verify::ladder::RetryLadder::parse(text)
        .map_err(|e| ConfigError::new("CALSYNC_RETRY_DELAYS", e.to_string()))
}

pub fn parse_webhook_silence(text: &str) -> Result<std::time::Duration, ConfigError> {
    duration("CALSYNC_WEBHOOK_SILENCE", text)
}

/// A duration setting as `parse_duration` reads it ("90s", "5m", "24h").
fn duration(setting: &'static str, text: &str) -> Result<std::time::Duration, ConfigError> {
    engine::verify::ladder::parse_duration(text.trim())
        .ok()
        .and_then(|d| d.to_std().ok())
        .ok_or_else(|| ConfigError::new(setting, format!("{text:?} is not a duration like 30d, 24h, 90m or 3600s")))
}

pub fn parse_session_policy(idle: &str, max: &str) -> Result<crate::auth::SessionPolicy, ConfigError> {
    let (idle, max) = (duration("CALSYNC_SESSION_IDLE", idle)?, duration("CALSYNC_SESSION_MAX", max)?);
    if idle > max {
        return Err(ConfigError::new("CALSYNC_SESSION_IDLE", "must not be longer than CALSYNC_SESSION_MAX"));
    }
    Ok(crate::auth::SessionPolicy { idle, max })
}

/// How long runs, deliveries, emails and read notifications are kept
/// (`CALSYNC_KEEP_*`): each at least a day, so a typo cannot empty a table.
pub fn parse_retention(
    runs: &str,
    deliveries: &str,
    emails: &str,
    notifications: &str,
) -> Result<engine::store::Retention, ConfigError> {
    let keep = |setting: &'static str, text: &str| {
        let kept = duration(setting, text)?;
        let kept = chrono::Duration::from_std(kept).map_err(|_| ConfigError::new(setting, "is too long"))?;
        if kept < chrono::Duration::days(1) {
            return Err(ConfigError::new(setting, format!("{text:?} is shorter than a day; write e.g. 30d")));
        }
        Ok(kept)
    };
    Ok(engine::store::Retention {
        runs: keep("CALSYNC_KEEP_RUNS", runs)?,
        deliveries: keep("CALSYNC_KEEP_DELIVERIES", deliveries)?,
        emails: keep("CALSYNC_KEEP_EMAILS", emails)?,
        notifications: keep("CALSYNC_KEEP_NOTIFICATIONS", notifications)?,
        ..engine::store::Retention::default()
    })
}

pub fn check_database_url(text: &str) -> Result<(), ConfigError> {
    engine::store::Backend::from_url(text).map(|_| ()).map_err(|e| ConfigError::new("DATABASE_URL", e.to_string()))
}

/// The mailer, if `SMTP_URL` is set. Must run inside the Tokio runtime.
pub fn mailer(url: Option<&str>, from: &str) -> Result<Option<engine::mail::SmtpMailer>, ConfigError> {
    let Some(url) = url.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    engine::mail::SmtpMailer::new(url, from).map(Some).map_err(|e| match e {
        engine::mail::MailError::From(_) => ConfigError::new("SMTP_FROM", e.to_string()),
        // Never echo the URL: it may hold the SMTP password.
        _ => ConfigError::new(
            "SMTP_URL",
            "is not a usable SMTP URL (smtp://host:port, smtps://host:465, ...?tls=required)",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_names_its_setting() {
        assert_eq!(parse_addr("localhost").unwrap_err().setting, "CALSYNC_ADDR");
        assert_eq!(parse_secret_key(None).unwrap_err().setting, "CALSYNC_SECRET_KEY");
        assert_eq!(parse_secret_key(Some("short")).unwrap_err().setting, "CALSYNC_SECRET_KEY");
        let addr = parse_addr("127.0.0.1:3000").unwrap();
        assert_eq!(parse_public_url(Some("ftp://x"), addr).unwrap_err().setting, "CALSYNC_PUBLIC_URL");
        assert_eq!(check_database_url("mysql://x").unwrap_err().setting, "DATABASE_URL");
        assert_eq!(parse_retry_delays("soon").unwrap_err().setting, "CALSYNC_RETRY_DELAYS");
        assert_eq!(parse_retention("90d", "30d", "12h", "90d").unwrap_err().setting, "CALSYNC_KEEP_EMAILS");
        assert_eq!(parse_retention("90d", "month", "30d", "90d").unwrap_err().setting, "CALSYNC_KEEP_DELIVERIES");
    }

    #[test]
    fn retention_reads_days_and_keeps_the_figures_default() {
        let kept = parse_retention("90d", "30d", "720h", "2d").unwrap();
        assert_eq!(kept.runs, chrono::Duration::days(90));
        assert_eq!(kept.emails, chrono::Duration::days(30));
        assert_eq!(kept.notifications, chrono::Duration::days(2));
        assert_eq!(kept.figures, engine::store::Retention::default().figures);
    }

    #[test]
    fn public_url_defaults_to_listen_address_and_drops_trailing_slash() {
        let addr = parse_addr("127.0.0.1:3000").unwrap();
        assert_eq!(parse_public_url(None, addr).unwrap(), "http://127.0.0.1:3000");
        assert_eq!(parse_public_url(Some("https://sync.example.com/"), addr).unwrap(), "https://sync.example.com");
    }

    #[test]
    fn error_is_one_line() {
        let err = parse_secret_key(Some("nothex")).unwrap_err().to_string();
        assert!(err.starts_with("CALSYNC_SECRET_KEY: "), "{err}");
        assert!(!err.contains('\n'));
    }
}
