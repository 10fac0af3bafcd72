use anyhow::{anyhow, Result};
use chrono::Utc;
use engine::store::{NewOrganization, Store};

use crate::cli::OrgCommand;

pub async fn run(store: &Store, cmd: OrgCommand) -> Result<()> {
    match cmd {
        OrgCommand::Create { slug, name, time_zone } => {
            let new = NewOrganization {
                slug: validate_slug(&slug)?,
                name: name.trim().to_owned(),
                time_zone: time_zone
                    .parse()
                    .map_err(|_| anyhow!("--time-zone: unknown time zone {time_zone:?}; use an IANA name like Europe/Berlin"))?,
            };
            if new.name.is_empty() {
                return Err(anyhow!("--name: must not be empty"));
            }
            let org = store.create_organization(&new, Utc::now()).await?;
            println!("created organization {} ({}), id {}", org.slug, org.name, org.id);
        }
        OrgCommand::List => {
            for org in store.organizations().await? {
                println!("{}\t{}\t{}\t{}", org.id, org.slug, org.name, org.time_zone);
            }
        }
    }
    Ok(())
}

/// Slugs appear in URLs (webhooks): lower-case letters, digits and dashes.
fn validate_slug(slug: &str) -> Result<String> {
    let ok = !slug.is_empty()
        && slug.len() <= 63
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-');
    ok.then(|| slug.to_owned())
        .ok_or_else(|| anyhow!("--slug: {slug:?} must be 1-63 lower-case letters, digits or dashes"))
}
