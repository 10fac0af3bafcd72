//! `calsync org`: create and list organizations, set one's Cal.com
//! connection (the same operation as the settings page's form).

use anyhow::{anyhow, Result};
use engine::domain::Actor;
use engine::ops::calcom_connection::ConnectionInput;
use engine::ops::organizations::NewOrganizationInput;
use engine::ops::Operations;

use super::refused;
use crate::cli::{OrgCommand, SetCalcomArgs};
use crate::config;

pub async fn run(ops: &Operations, cmd: OrgCommand) -> Result<()> {
    match cmd {
        OrgCommand::Create { slug, name, time_zone } => {
            let input = NewOrganizationInput::parse(&slug, &name, &time_zone).map_err(refused)?;
            let org = ops.create_organization(Actor::CommandLine, input).await.map_err(refused)?;
            println!("created organization {} ({}), id {}", org.slug, org.name, org.id);
        }
        OrgCommand::SetCalcom(args) => set_calcom(ops, args).await?,
        OrgCommand::List => {
            for org in ops.organizations(Actor::CommandLine).await.map_err(refused)? {
                println!("{}\t{}\t{}\t{}", org.id, org.slug, org.name, org.time_zone);
            }
        }
    }
    Ok(())
}

/// Stores the Cal.com connection with both secrets sealed. Nothing here
/// prints or logs a secret; errors name the variable, never its value.
async fn set_calcom(ops: &Operations, args: SetCalcomArgs) -> Result<()> {
    let key = config::parse_secret_key(args.secret_key.as_deref())?;
    let (caller, org) = ops.command_line_caller(&args.org).await.map_err(refused)?;
    let webhook_secret = match &args.webhook_secret_env {
        Some(var) => std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| anyhow!("--webhook-secret-env: environment variable {var} is not set or empty"))?,
        None => String::new(),
    };
    // The base URL is checked before the key is asked for.
    ConnectionInput::parse(&args.base_url, "", "").map_err(refused)?;
    let api_key = super::stdin::read_secret("Cal.com API key")?;
    let input = ConnectionInput::parse(&args.base_url, &api_key, &webhook_secret).map_err(refused)?;
    let connector = ops.calcom_connector(key);
    let saved = ops.save_calcom_connection(&connector, caller, input).await.map_err(refused)?;
    let stored = if saved.has_webhook_secret { "API key, webhook secret" } else { "API key" };
    println!("Cal.com connection of {} set to {}; {stored} stored (secrets encrypted)", org.slug, saved.base_url);
    Ok(())
}
