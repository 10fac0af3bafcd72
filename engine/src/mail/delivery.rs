//! The outbox worker: sends what is due, backs off on failure, and gives
//! up only after many tries. Delivery is at-least-once: if the process dies
//! between the server's acceptance and our "sent" mark, the claim lapses
//! and the email goes again; everything else sends exactly once.

use chrono::{DateTime, Duration, Utc};

use super::{EmailContent, SmtpMailer};
use crate::store::{Store, StoreError};

/// Waits after the 1st, 2nd, … failure; after the last, the email is failed.
const BACKOFF_MINUTES: [i64; 8] = [1, 2, 5, 15, 30, 60, 180, 360];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    pub retrying: u32,
    pub failed: u32,
}

pub fn retry_at(attempts_before: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    usize::try_from(attempts_before).ok().and_then(|i| BACKOFF_MINUTES.get(i)).map(|m| now + Duration::minutes(*m))
}

/// What names an outbox row's message for good: its organization, its id
/// and a digest of what it says (ids alone repeat across installations).
fn outbox_key(email: &crate::store::QueuedEmail) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(email.to.as_bytes())
        .chain_update([0])
        .chain_update(email.subject.as_bytes())
        .chain_update([0])
        .chain_update(email.text_body.as_bytes())
        .finalize();
    format!("{}.{}.{}", email.org_id.get(), email.id, &hex::encode(digest)[..16])
}

/// Sends every email due at `now`.
pub async fn deliver_due(store: &Store, mailer: &SmtpMailer, now: DateTime<Utc>) -> Result<DeliveryReport, StoreError> {
    let mut report = DeliveryReport::default();
    loop {
        let batch = store.claim_emails(now, Duration::minutes(5), 50).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        for email in batch {
            let key = outbox_key(&email);
            let content = EmailContent { subject: email.subject, text: email.text_body, html: email.html_body };
            match mailer.send(&email.to, &content, &key).await {
                Ok(()) => {
                    store.mark_email_sent(email.id, now).await?;
                    report.sent += 1;
                }
                Err(err) => {
                    let next = retry_at(email.attempts, now);
                    tracing::warn!(email_id = email.id, attempts = email.attempts + 1, error = %err, "email not delivered");
                    store.mark_email_failed(email.id, &err.to_string(), next).await?;
                    if next.is_some() {
                        report.retrying += 1;
                    } else {
                        report.failed += 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn backoff_grows_then_gives_up() {
        let t = Utc.with_ymd_and_hms(2025, 10, 11, 8, 0, 0).unwrap();
        assert_eq!(retry_at(0, t), Some(t + Duration::minutes(1)));
        assert_eq!(retry_at(3, t), Some(t + Duration::minutes(15)));
        assert_eq!(retry_at(8, t), None);
    }
}
