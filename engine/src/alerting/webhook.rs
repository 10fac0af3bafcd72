//! Posting alert webhooks: at least once, retried with growing pauses,
//! each signed so the receiver can tell it came from calsync.
//!
//! The signature follows Stripe's scheme, which receivers know how to
//! check: `X-Calsync-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<body>" with the organization's secret>`; the timestamp lets a
//! receiver refuse replays. `X-Calsync-Delivery` is the delivery id, the
//! same on every retry, to deduplicate on.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret_key::SecretKey;
use crate::secrets::{open, Purpose};
use crate::store::{OutgoingWebhook, Store, StoreError};

pub const SIGNATURE_HEADER: &str = "x-calsync-signature";
pub const DELIVERY_HEADER: &str = "x-calsync-delivery";

/// Pauses after each failed attempt; after the last the delivery is given up.
const RETRY_PAUSES_MIN: [i64; 5] = [1, 5, 15, 60, 180];
/// Webhooks one round posts.
const BATCH: u32 = 50;

/// The client webhooks are posted with. It does not follow redirects: the
/// admin chose the URL, and a redirect would send the alert elsewhere.
pub fn client() -> reqwest::Client {
    crate::calcom::ensure_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client without TLS options builds")
}

/// The signature header's value for `body` sent at `at`.
pub fn sign(secret: &str, at: DateTime<Utc>, body: &str) -> String {
    let t = at.timestamp();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header as a receiver would (tests, and receivers
/// written in Rust).
pub fn verify(secret: &str, header: &str, body: &str) -> bool {
    let part = |name: &str| header.split(',').find_map(|p| p.strip_prefix(name));
    let (Some(t), Some(v1)) = (part("t="), part("v1=")) else { return false };
    let (Ok(t), Ok(given)) = (t.parse::<i64>(), hex::decode(v1)) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u64,
    pub retrying: u64,
    pub failed: u64,
}

/// Posts the due alert webhooks.
pub async fn deliver_due(
    store: &Store,
    key: &SecretKey,
    http: &reqwest::Client,
    now: DateTime<Utc>,
) -> Result<DeliveryReport, StoreError> {
    let mut report = DeliveryReport::default();
    for hook in store.claim_alert_webhooks(now, now + Duration::minutes(2), BATCH).await? {
        let result = post_one(store, key, http, &hook, now).await?;
        let retry_at = usize::try_from(hook.attempts)
            .ok()
            .and_then(|n| RETRY_PAUSES_MIN.get(n))
            .map(|&minutes| now + Duration::minutes(minutes));
        match (&result, retry_at) {
            (Ok(()), _) => report.sent += 1,
            (Err(_), Some(_)) => report.retrying += 1,
            (Err(_), None) => report.failed += 1,
        }
        if let Err(reason) = &result {
            tracing::warn!(org = hook.org_id.get(), delivery = hook.id, %reason, "alert webhook not accepted");
        }
        store.finish_alert_webhook(hook.id, result.as_ref().map(|_| ()).map_err(String::as_str), retry_at, now).await?;
    }
    Ok(report)
}

/// One attempt; `Err` says in words why it did not go through.
async fn post_one(
    store: &Store,
    key: &SecretKey,
    http: &reqwest::Client,
    hook: &OutgoingWebhook,
    now: DateTime<Utc>,
) -> Result<Result<(), String>, StoreError> {
    let (url, sealed) = store.alert_webhook(hook.org_id).await?;
    let (Some(url), Some(sealed)) = (url, sealed) else {
        return Ok(Err("the organization's alert webhook was removed".to_owned()));
    };
    let Ok(secret) = open(key, Purpose::AlertWebhookSecret(hook.org_id), &sealed) else {
        return Ok(Err("the webhook secret cannot be read with this server's key".to_owned()));
    };
    let sent = http
        .post(&url)
        .timeout(StdDuration::from_secs(10))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, sign(&secret, now, &hook.payload))
        .header(DELIVERY_HEADER, hook.id.to_string())
        .body(hook.payload.clone())
        .send()
        .await;
    Ok(match sent {
        Ok(answer) if answer.status().is_success() => Ok(()),
        Ok(answer) => Err(format!("the receiver answered {}", answer.status())),
        Err(e) if e.is_timeout() => Err("the receiver did not answer within 10 s".to_owned()),
        Err(_) => Err("the receiver could not be reached".to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_signature_checks_out_only_for_its_body_and_secret() {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap();
        let header = sign("whsec", at, r#"{"text":"hi"}"#);
        assert!(header.starts_with(&format!("t={},v1=", at.timestamp())), "{header}");
        assert!(verify("whsec", &header, r#"{"text":"hi"}"#));
        assert!(!verify("other", &header, r#"{"text":"hi"}"#));
        assert!(!verify("whsec", &header, r#"{"text":"ho"}"#));
        assert!(!verify("whsec", "v1=00", r#"{"text":"hi"}"#));
    }
}
