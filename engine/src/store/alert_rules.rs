//! Alert rules and their state (see `crate::alerting`), the organization's
//! alert webhook, and the outgoing webhooks' outbox. The throttle and the
//! recovery are guarded updates, so several instances push each alert once.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::audit::{self, NewAuditEntry};
use super::row::{get, parse};
use super::time::{from_ms, to_ms};
use super::{Store, StoreError};
use crate::alerting::rules::{RuleKind, RuleSettings, DIGEST_LINES};
use crate::domain::OrgId;

/// A rule with what it has done so far.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    pub settings: RuleSettings,
    /// Since when the rule's condition holds (None: clear).
    pub firing_since: Option<DateTime<Utc>>,
    pub last_pushed_at: Option<DateTime<Utc>>,
    /// Events the throttle held back for the next digest, and up to
    /// `DIGEST_LINES` of their lines.
    pub held: i64,
    pub held_lines: Vec<String>,
}

impl AlertRule {
    fn fresh(kind: RuleKind) -> AlertRule {
        AlertRule {
            settings: RuleSettings::default_for(kind),
            firing_since: None,
            last_pushed_at: None,
            held: 0,
            held_lines: Vec::new(),
        }
    }
}

/// What happened to one event under its rule's throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Send it now.
    Now,
    /// Held back for the digest.
    Held,
}

/// Where alerts are posted; the secret is sealed (`Purpose::AlertWebhookSecret`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertWebhookUpdate {
    /// `Some(None)` removes the URL; `None` keeps it.
    pub url: Option<Option<String>>,
    pub secret_sealed: Option<String>,
}

/// An outgoing alert webhook due to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingWebhook {
    pub id: i64,
    pub org_id: OrgId,
    pub payload: String,
    pub attempts: i64,
}

const COLUMNS: &str =
    "rule, enabled, threshold, throttle_minutes, by_email, by_webhook, firing_since, last_pushed_at, held, held_lines";

fn from_row(row: &AnyRow) -> Result<AlertRule, StoreError> {
    let flag = |column: &'static str| get::<i64>(row, column).map(|v| v != 0);
    let number = |column: &'static str| get::<i64>(row, column).map(|v| u32::try_from(v).unwrap_or(u32::MAX));
    let lines: String = get(row, "held_lines")?;
    Ok(AlertRule {
        settings: RuleSettings {
            kind: parse(row, "rule")?,
            enabled: flag("enabled")?,
            threshold: number("threshold")?,
            throttle_minutes: number("throttle_minutes")?,
            by_email: flag("by_email")?,
            by_webhook: flag("by_webhook")?,
        },
        firing_since: get::<Option<i64>>(row, "firing_since")?.map(from_ms),
        last_pushed_at: get::<Option<i64>>(row, "last_pushed_at")?.map(from_ms),
        held: get(row, "held")?,
        held_lines: lines.lines().map(str::to_owned).collect(),
    })
}

/// The throttle's SQL condition: no push yet, or the period has passed.
const MAY_PUSH: &str = "(last_pushed_at IS NULL OR last_pushed_at + throttle_minutes * 60000 <= $3)";

impl Store {
    /// Every rule of the organization, defaults for those never saved, in
    /// `RuleKind::ALL` order.
    pub async fn alert_rules(&self, org: OrgId) -> Result<Vec<AlertRule>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM alert_rules WHERE org_id = $1");
        let rows = sqlx::query(&sql).bind(org.get()).fetch_all(&self.pool).await?;
        let stored = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(RuleKind::ALL
            .iter()
            .map(|&kind| stored.iter().find(|r| r.settings.kind == kind).cloned().unwrap_or(AlertRule::fresh(kind)))
            .collect())
    }

    pub async fn alert_rule(&self, org: OrgId, kind: RuleKind) -> Result<AlertRule, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM alert_rules WHERE org_id = $1 AND rule = $2");
        let row = sqlx::query(&sql).bind(org.get()).bind(kind.as_str()).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(from_row).transpose()?.unwrap_or(AlertRule::fresh(kind)))
    }

    /// Organizations with at least one rule saved or fired, for the
    /// alert round (the others have only the defaults, whose one enabled
    /// rule leaves a row behind when it first pushes).
    pub async fn orgs_with_alert_rules(&self) -> Result<Vec<OrgId>, StoreError> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT DISTINCT org_id FROM alert_rules ORDER BY org_id").fetch_all(&self.pool).await?;
        Ok(ids.into_iter().map(OrgId).collect())
    }

    /// Saves the rules and the webhook settings with one audit entry. A
    /// rule's state (firing, held) is kept.
    pub async fn save_alert_rules(
        &self,
        org: OrgId,
        rules: &[RuleSettings],
        webhook: &AlertWebhookUpdate,
        entry: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for rule in rules {
            insert_rule(
                &mut tx,
                org,
                rule,
                entry.at,
                "DO UPDATE SET enabled = excluded.enabled, threshold = excluded.threshold, \
                 throttle_minutes = excluded.throttle_minutes, by_email = excluded.by_email, \
                 by_webhook = excluded.by_webhook, updated_at = excluded.updated_at",
            )
            .await?;
        }
        if let Some(url) = &webhook.url {
            sqlx::query("UPDATE organizations SET alert_webhook_url = $2, updated_at = $3 WHERE id = $1")
                .bind(org.get())
                .bind(url.as_deref())
                .bind(to_ms(entry.at))
                .execute(&mut *tx)
                .await?;
        }
        if let Some(secret) = &webhook.secret_sealed {
            sqlx::query("UPDATE organizations SET alert_webhook_secret_enc = $2 WHERE id = $1")
                .bind(org.get())
                .bind(secret)
                .execute(&mut *tx)
                .await?;
        }
        audit::insert(&mut *tx, org, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The alert webhook's URL and sealed secret, if set.
    pub async fn alert_webhook(&self, org: OrgId) -> Result<(Option<String>, Option<String>), StoreError> {
        let row = sqlx::query("SELECT alert_webhook_url, alert_webhook_secret_enc FROM organizations WHERE id = $1")
            .bind(org.get())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("organization"))?;
        Ok((get(&row, "alert_webhook_url")?, get(&row, "alert_webhook_secret_enc")?))
    }

    /// Decides one event under the throttle: `Push::Now` (and the push
    /// time recorded) if the period allows, otherwise counted (with its
    /// line) for the digest. Either way the rule is now firing.
    pub async fn alert_event(
        &self,
        org: OrgId,
        rule: &RuleSettings,
        line: &str,
        now: DateTime<Utc>,
    ) -> Result<Push, StoreError> {
        let mut tx = self.begin_write().await?;
        ensure_row(&mut tx, org, rule, now).await?;
        let pushed = sqlx::query(&format!(
            "UPDATE alert_rules SET last_pushed_at = $3, firing_since = COALESCE(firing_since, $3) \
             WHERE org_id = $1 AND rule = $2 AND {MAY_PUSH}"
        ))
        .bind(org.get())
        .bind(rule.kind.as_str())
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await?;
        let push = if pushed.rows_affected() == 1 {
            Push::Now
        } else {
            sqlx::query(
                "UPDATE alert_rules SET firing_since = COALESCE(firing_since, $3), \
                 held_lines = CASE WHEN held < $5 THEN held_lines || $4 ELSE held_lines END, held = held + 1 \
                 WHERE org_id = $1 AND rule = $2",
            )
            .bind(org.get())
            .bind(rule.kind.as_str())
            .bind(to_ms(now))
            .bind(format!("{}\n", line.replace('\n', " ")))
            .bind(DIGEST_LINES as i64)
            .execute(&mut *tx)
            .await?;
            Push::Held
        };
        tx.commit().await?;
        Ok(push)
    }

    /// Marks a state rule (open issues over the threshold) as firing;
    /// true only for the call that turned it on.
    pub async fn alert_start_firing(
        &self,
        org: OrgId,
        rule: &RuleSettings,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        ensure_row(&mut tx, org, rule, now).await?;
        let done = sqlx::query(
            "UPDATE alert_rules SET firing_since = $3 WHERE org_id = $1 AND rule = $2 AND firing_since IS NULL",
        )
        .bind(org.get())
        .bind(rule.kind.as_str())
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes the held-back events for a digest if the throttle allows one
    /// now: their count and lines, the push time recorded. `None` if
    /// nothing is held or the period is not over (or another instance took
    /// them first).
    /// `rule` is the rule as the caller just read it: the guard on `held`
    /// refuses the take if an event came in since.
    pub async fn alert_take_digest(
        &self,
        org: OrgId,
        rule: &AlertRule,
        now: DateTime<Utc>,
    ) -> Result<Option<(i64, Vec<String>)>, StoreError> {
        if rule.held == 0 {
            return Ok(None);
        }
        let taken = sqlx::query(&format!(
            "UPDATE alert_rules SET held = 0, held_lines = '', last_pushed_at = $3 \
             WHERE org_id = $1 AND rule = $2 AND held = $4 AND {MAY_PUSH}"
        ))
        .bind(org.get())
        .bind(rule.settings.kind.as_str())
        .bind(to_ms(now))
        .bind(rule.held)
        .execute(&self.pool)
        .await?;
        Ok((taken.rows_affected() == 1).then(|| (rule.held, rule.held_lines.clone())))
    }

    /// Clears a firing rule; true only for the call that cleared it (which
    /// sends the recovery notice). Held events go with it: the recovery
    /// says the condition is over.
    pub async fn alert_recover(&self, org: OrgId, kind: RuleKind) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE alert_rules SET firing_since = NULL, held = 0, held_lines = '' \
             WHERE org_id = $1 AND rule = $2 AND firing_since IS NOT NULL",
        )
        .bind(org.get())
        .bind(kind.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues an alert webhook to be posted.
    pub async fn enqueue_alert_webhook(
        &self,
        org: OrgId,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO alert_webhooks (org_id, payload, next_attempt_at, created_at) VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(org.get())
        .bind(payload)
        .bind(to_ms(now))
        .fetch_one(&self.pool)
        .await?;
        get(&row, "id")
    }

    /// Claims up to `limit` due webhooks until `until` (another instance
    /// skips them meanwhile).
    pub async fn claim_alert_webhooks(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutgoingWebhook>, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, org_id, payload, attempts FROM alert_webhooks WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until <= $1) ORDER BY id LIMIT $2",
        )
        .bind(to_ms(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::new();
        for row in &rows {
            let id: i64 = get(row, "id")?;
            let done = sqlx::query(
                "UPDATE alert_webhooks SET claimed_until = $2 WHERE id = $1 AND (claimed_until IS NULL OR claimed_until <= $3)",
            )
            .bind(id)
            .bind(to_ms(until))
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                claimed.push(OutgoingWebhook {
                    id,
                    org_id: OrgId(get(row, "org_id")?),
                    payload: get(row, "payload")?,
                    attempts: get(row, "attempts")?,
                });
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records a webhook's attempt: sent, tried again at `retry_at`, or
    /// (`retry_at` None) given up.
    pub async fn finish_alert_webhook(
        &self,
        id: i64,
        result: Result<(), &str>,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (status, error, next) = match (result, retry_at) {
            (Ok(()), _) => ("sent", None, now),
            (Err(e), Some(at)) => ("pending", Some(e), at),
            (Err(e), None) => ("failed", Some(e), now),
        };
        sqlx::query(
            "UPDATE alert_webhooks SET status = $2, last_error = $3, next_attempt_at = $4, attempts = attempts + 1, \
             claimed_until = NULL, sent_at = CASE WHEN $2 = 'sent' THEN $5 ELSE sent_at END WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(error)
        .bind(to_ms(next))
        .bind(to_ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The organization's alert webhooks by status, for the settings page.
    pub async fn alert_webhook_counts(&self, org: OrgId) -> Result<(i64, i64, i64), StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM alert_webhooks WHERE org_id = $1 GROUP BY status")
            .bind(org.get())
            .fetch_all(&self.pool)
            .await?;
        let mut counts = (0, 0, 0);
        for row in &rows {
            let n: i64 = get(row, "n")?;
            match get::<String>(row, "status")?.as_str() {
                "pending" => counts.0 += n,
                "sent" => counts.1 += n,
                _ => counts.2 += n,
            }
        }
        Ok(counts)
    }
}

/// The rule's row, with its current settings, before its state changes.
async fn ensure_row(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    rule: &RuleSettings,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    insert_rule(conn, org, rule, now, "DO NOTHING").await
}

/// Writes `rule`'s settings; `on_conflict` says what an existing row does.
async fn insert_rule(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    rule: &RuleSettings,
    at: DateTime<Utc>,
    on_conflict: &str,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO alert_rules (org_id, rule, enabled, threshold, throttle_minutes, by_email, by_webhook, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (org_id, rule) {on_conflict}"
    );
    sqlx::query(&sql)
        .bind(org.get())
        .bind(rule.kind.as_str())
        .bind(i64::from(rule.enabled))
        .bind(i64::from(rule.threshold))
        .bind(i64::from(rule.throttle_minutes))
        .bind(i64::from(rule.by_email))
        .bind(i64::from(rule.by_webhook))
        .bind(to_ms(at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
