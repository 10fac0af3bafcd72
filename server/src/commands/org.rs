use anyhow::{anyhow, Result};
use chrono::Utc;
use engine::domain::{AuditAction, BaseUrl, Slug};
use engine::secrets::{seal, Purpose};
use engine::store::{CalcomConnectionUpdate, NewAuditEntry, NewOrganization, Store};

use crate::cli::{OrgCommand, SetCalcomArgs};
use crate::config;

pub async fn run(store: &Store, cmd: OrgCommand) -> Result<()> {
    match cmd {
        OrgCommand::Create { slug, name, time_zone } => {
            let new = NewOrganization {
                slug: Slug::parse(&slug).map_err(|e| anyhow!("--slug: {e}"))?.into(),
                name: name.trim().to_owned(),
                time_zone: time_zone.parse().map_err(|_| {
                    anyhow!("--time-zone: unknown time zone {time_zone:?}; use an IANA name like Europe/Berlin")
                })?,
            };
            if new.name.is_empty() {
                return Err(anyhow!("--name: must not be empty"));
            }
            let org = store.create_organization(&new, Utc::now()).await?;
            println!("created organization {} ({}), id {}", org.slug, org.name, org.id);
        }
        OrgCommand::SetCalcom(args) => set_calcom(store, args).await?,
        OrgCommand::List => {
            for org in store.organizations().await? {
                println!("{}\t{}\t{}\t{}", org.id, org.slug, org.name, org.time_zone);
            }
        }
    }
    Ok(())
}

/// Stores the Cal.com connection with both secrets sealed. Nothing here
/// prints or logs a secret; errors name the variable, never its value.
async fn set_calcom(store: &Store, args: SetCalcomArgs) -> Result<()> {
    let key = config::parse_secret_key(args.secret_key.as_deref())?;
    let org =
        store.organization_by_slug(&args.org).await.map_err(|_| anyhow!("--org: no organization {:?}", args.org))?;
    let base_url: String = BaseUrl::parse(&args.base_url).map_err(|e| anyhow!("--base-url: {e}"))?.into();
    let webhook_secret = match &args.webhook_secret_env {
        Some(var) => Some(
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| anyhow!("--webhook-secret-env: environment variable {var} is not set or empty"))?,
        ),
        None => None,
    };
    let api_key = super::stdin::read_secret("Cal.com API key")?;
    let update = CalcomConnectionUpdate {
        base_url: Some(base_url.clone()),
        api_key_sealed: Some(seal(&key, Purpose::CalcomApiKey(org.id), api_key.trim())),
        webhook_secret_sealed: webhook_secret.as_deref().map(|s| seal(&key, Purpose::WebhookSecret(org.id), s)),
        event_type_id: None,
    };
    let changed = if webhook_secret.is_some() { "base URL, API key, webhook secret" } else { "base URL, API key" };
    let entry = NewAuditEntry {
        user_id: None,
        action: AuditAction::SettingsCalcom,
        target: Some(base_url.clone()),
        detail: Some(format!("{changed} set by the command line")),
        at: Utc::now(),
    };
    // As the settings page does: the connection and its audit entry in one transaction.
    store.update_calcom_connection_audited(org.id, &update, &entry).await?;
    println!("Cal.com connection of {} set to {base_url}; {changed} stored (secrets encrypted)", org.slug);
    Ok(())
}
