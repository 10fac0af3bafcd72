//! Applies the rules: an event is pushed now or held for the digest, and
//! the alert round sends what is due (digests, threshold alerts, recovery
//! notices). Pushes go to the feed, to the admins' email (each person's
//! email preference still applies) and to the organization's webhook.

use chrono::{DateTime, Utc};

use super::notices::{self, WebhookPayload};
use super::rules::{RuleKind, RuleSettings};
use crate::domain::EmailPreference;
use crate::domain::OrgId;
use crate::mail::content;
use crate::store::NotificationKind;
use crate::store::{NewEmail, NewNotification, Organization, Push, Store, StoreError};

/// Where one event goes besides the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Channels {
    pub email: bool,
    pub webhook: bool,
}

impl Channels {
    pub fn any(self) -> bool {
        self.email || self.webhook
    }
}

/// Decides one event under `kind`'s rule: the channels it is pushed on
/// now, or none (rule off, or held for the digest).
pub async fn decide(
    store: &Store,
    org: OrgId,
    kind: RuleKind,
    line: &str,
    now: DateTime<Utc>,
) -> Result<Channels, StoreError> {
    Ok(decide_under_rule(store, org, kind, line, now).await?.1)
}

/// `decide`, with the rule it read.
async fn decide_under_rule(
    store: &Store,
    org: OrgId,
    kind: RuleKind,
    line: &str,
    now: DateTime<Utc>,
) -> Result<(RuleSettings, Channels), StoreError> {
    let rule = store.alert_rule(org, kind).await?.settings;
    if !rule.enabled {
        return Ok((rule, Channels::default()));
    }
    let channels = match store.alert_event(org, &rule, line, now).await? {
        Push::Now => Channels { email: rule.by_email, webhook: rule.by_webhook },
        Push::Held => Channels::default(),
    };
    Ok((rule, channels))
}

/// An event of a rule that has no feed notification of its own (a first
/// failure): pushed as an alert on every channel the rule allows, or held.
/// True if it went out now.
pub async fn raise(
    store: &Store,
    org: &Organization,
    kind: RuleKind,
    line: &str,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (rule, channels) = decide_under_rule(store, org.id, kind, line, now).await?;
    if !channels.any() {
        return Ok(false);
    }
    send(store, org, &rule, "alert.fired", &notices::fired(&rule, line), channels, public_url, now).await?;
    Ok(true)
}

/// Sends one notice: the feed always, then email and webhook as `channels` say.
#[allow(clippy::too_many_arguments)]
pub async fn send(
    store: &Store,
    org: &Organization,
    rule: &RuleSettings,
    event: &str,
    note: &NewNotification,
    channels: Channels,
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let emails = match public_url {
        Some(url) if channels.email => emails_for(store, org.id, note, content::alert(note, url)).await?,
        _ => Vec::new(),
    };
    store.notify_with_emails(org.id, note, emails, now).await?;
    if channels.webhook {
        post(store, org, rule.kind, event, note, now).await?;
    }
    Ok(())
}

/// Queues the webhook for a notice, if the organization set one up.
pub async fn post(
    store: &Store,
    org: &Organization,
    kind: RuleKind,
    event: &str,
    note: &NewNotification,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if store.alert_webhook(org.id).await?.0.is_none() {
        return Ok(());
    }
    let payload = WebhookPayload::new(event, kind, org, note, now);
    let json = serde_json::to_string(&payload).expect("a payload is plain data");
    store.enqueue_alert_webhook(org.id, &json, now).await?;
    Ok(())
}

/// Whether a person with `preference` is emailed a notification of `kind`:
/// `all` everything, `issues` everything but the "sync restored" all-clear,
/// `none` nothing (the feed still shows it).
pub fn wants_email(preference: EmailPreference, kind: NotificationKind) -> bool {
    match preference {
        EmailPreference::All => true,
        EmailPreference::Issues => kind != NotificationKind::SyncRestored,
        EmailPreference::None => false,
    }
}

/// One email per person who wants this kind of notification.
pub async fn emails_for(
    store: &Store,
    org: OrgId,
    note: &NewNotification,
    email: content::EmailContent,
) -> Result<Vec<NewEmail>, StoreError> {
    let recipients = store.email_recipients(org).await?;
    Ok(recipients
        .into_iter()
        .filter(|r| wants_email(r.preference, note.kind))
        .map(|r| NewEmail {
            notification_id: None,
            user_id: Some(r.user_id),
            to: r.email,
            subject: email.subject.clone(),
            text_body: email.text.clone(),
            html_body: email.html.clone(),
        })
        .collect())
}

/// What one alert round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub fired: u64,
    pub digests: u64,
    pub recovered: u64,
}

/// Sends what is due for every organization with alert rules: threshold
/// alerts, digests whose throttle period is over, recovery notices. Safe
/// on several instances: every step is a guarded update.
pub async fn round(store: &Store, public_url: Option<&str>, now: DateTime<Utc>) -> Result<RoundReport, StoreError> {
    let mut report = RoundReport::default();
    for org_id in store.orgs_with_alert_rules().await? {
        let org = store.organization(org_id).await?;
        let open: i64 = store.count_open_issues_by_code(org_id).await?.iter().map(|(_, n)| n).sum();
        let failing = store.sync_counts(org_id).await?.failed;
        for rule in store.alert_rules(org_id).await? {
            let settings = rule.settings;
            let holds = match settings.kind {
                RuleKind::FirstFailure => failing > 0,
                RuleKind::RetriesUsedUp => open > 0,
                RuleKind::OpenOver => open > i64::from(settings.threshold),
            };
            let channels = Channels { email: settings.by_email, webhook: settings.by_webhook };
            if rule.firing_since.is_some() && (!holds || !settings.enabled) {
                if store.alert_recover(org_id, settings.kind).await? && settings.enabled {
                    let note = notices::recovered(settings.kind, rule.firing_since, now, &org);
                    send(store, &org, &settings, "alert.recovered", &note, channels, public_url, now).await?;
                    report.recovered += 1;
                }
                continue;
            }
            if !settings.enabled {
                continue;
            }
            if settings.kind == RuleKind::OpenOver && holds && store.alert_start_firing(org_id, &settings, now).await? {
                let line = notices::open_over_line(open, settings.threshold);
                if let Push::Now = store.alert_event(org_id, &settings, &line, now).await? {
                    send(
                        store,
                        &org,
                        &settings,
                        "alert.fired",
                        &notices::fired(&settings, &line),
                        channels,
                        public_url,
                        now,
                    )
                    .await?;
                    report.fired += 1;
                }
                continue;
            }
            if let Some((count, lines)) = store.alert_take_digest(org_id, &rule, now).await? {
                let note = notices::digest(&settings, count, &lines, rule.last_pushed_at, &org);
                send(store, &org, &settings, "alert.digest", &note, channels, public_url, now).await?;
                report.digests += 1;
            }
        }
    }
    Ok(report)
}
