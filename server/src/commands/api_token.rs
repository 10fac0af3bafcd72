//! `calsync api-token`: create, list and revoke an organization's REST API
//! tokens, through the same operations as the settings page.

use anyhow::Result;
use chrono::{DateTime, Utc};
use engine::domain::ApiTokenId;
use engine::ops::{OpError, Operations};

use super::refused;
use crate::cli::ApiTokenCommand;

pub async fn run(ops: &Operations, cmd: ApiTokenCommand) -> Result<()> {
    let slug = match &cmd {
        ApiTokenCommand::Create { org, .. } | ApiTokenCommand::List { org } | ApiTokenCommand::Revoke { org, .. } => {
            org
        }
    };
    let (caller, org) = ops.command_line_caller(slug).await.map_err(refused)?;
    match cmd {
        ApiTokenCommand::Create { name, .. } => {
            let issued = ops.create_api_token(caller, &name).await.map_err(refused)?;
            println!("created API token {} ({:?}) for {}", issued.token.id, issued.token.name, org.slug);
            println!("{}", issued.secret);
            println!("Store it now: it will not be shown again. Send it as `Authorization: Bearer <token>`.");
        }
        ApiTokenCommand::List { .. } => {
            println!("id\tname\tprefix\tcreated\tlast used\trevoked");
            for t in ops.api_tokens(caller).await.map_err(refused)? {
                println!(
                    "{}\t{}\t{}…\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.prefix,
                    when(Some(t.created_at)),
                    when(t.last_used_at),
                    when(t.revoked_at)
                );
            }
        }
        ApiTokenCommand::Revoke { id, .. } => {
            let token = ops.revoke_api_token(caller, ApiTokenId(id)).await.map_err(|e| match e {
                OpError::NotFound(_) => refused(OpError::field("id", format!("no API token {id} in {}", org.slug))),
                other => refused(other),
            })?;
            println!("revoked API token {} ({:?})", token.id, token.name);
        }
    }
    Ok(())
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}
