//! `calsync api-token`: create, list and revoke an organization's REST API tokens.

use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use engine::domain::ApiTokenId;
use engine::store::{Store, StoreError};

use crate::cli::ApiTokenCommand;

pub async fn run(store: &Store, cmd: ApiTokenCommand) -> Result<()> {
    let slug = match &cmd {
        ApiTokenCommand::Create { org, .. } | ApiTokenCommand::List { org } | ApiTokenCommand::Revoke { org, .. } => {
            org
        }
    };
    let org = store.organization_by_slug(slug).await.map_err(|_| anyhow!("--org: no organization {slug:?}"))?;
    match cmd {
        ApiTokenCommand::Create { name, .. } => {
            let issued = store.create_api_token(org.id, &name, None, Utc::now()).await.map_err(|e| match e {
                StoreError::Invalid(why) => anyhow!("--name: {why}"),
                other => other.into(),
            })?;
            println!("created API token {} ({:?}) for {}", issued.token.id, issued.token.name, org.slug);
            println!("{}", issued.secret);
            println!("Store it now: it will not be shown again. Send it as `Authorization: Bearer <token>`.");
        }
        ApiTokenCommand::List { .. } => {
            println!("id\tname\tprefix\tcreated\tlast used\trevoked");
            for t in store.api_tokens(org.id).await? {
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
            let token =
                store.revoke_api_token(org.id, ApiTokenId(id), None, Utc::now()).await.map_err(|e| match e {
                    StoreError::NotFound(_) => anyhow!("--id: no API token {id} in {}", org.slug),
                    other => other.into(),
                })?;
            println!("revoked API token {} ({:?})", token.id, token.name);
        }
    }
    Ok(())
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}
