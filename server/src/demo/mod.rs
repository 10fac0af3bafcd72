//! `calsync demo`'s setup: a Cal.com simulator on loopback, the `demo`
//! organization connected to it, two accounts, and data in every sync
//! state. Everything is made once; a restart finds it and reuses it.

mod accounts;
mod data;
mod seed;

use std::path::PathBuf;

use calcom_sim::{SimConfig, SimError, SimHandle, SimServer};
use chrono::Utc;
use engine::calcom::CalcomConnector;
use engine::secret_key::SecretKey;
use engine::secrets::{open, seal, Purpose, SecretsError};
use engine::store::{AppointmentFilter, CalcomConnectionUpdate, NewOrganization, Organization, Store, StoreError};

pub use accounts::Account;
pub use data::ORG_SLUG;
pub use seed::SeedReport;

/// The simulator's state file, kept next to the database.
pub const SIM_STATE_FILE: &str = "calsync-demo-calcom.json";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the Cal.com simulator: {0}")]
    Sim(#[from] SimError),
    #[error("the demo organization's Cal.com credentials: {0}")]
    Secrets(#[from] SecretsError),
    #[error("hashing a demo password: {0}")]
    Password(#[from] engine::password::PasswordError),
    #[error("an admin's resolution in the demo's history: {0}")]
    Resolve(#[from] engine::resolve::ResolveError),
    #[error("an admin's triage step in the demo: {0}")]
    Triage(#[from] engine::triage::TriageError),
    #[error("an admin's bulk retry in the demo: {0}")]
    Bulk(#[from] engine::bulk::BulkError),
    #[error("no Cal.com client for the demo organization (see the log)")]
    NoClient,
}

/// Where the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// How the simulator reaches calsync (its webhooks go here).
    pub calsync_url: String,
    /// The simulator's state file; `None` keeps it in memory (tests).
    pub sim_state: Option<PathBuf>,
}

/// A prepared demo. Dropping it stops the simulator.
pub struct Demo {
    pub sim: SimHandle,
    pub org: Organization,
    pub accounts: Vec<Account>,
    /// Set when this start seeded the data (the first one).
    pub seeded: Option<SeedReport>,
}

pub async fn prepare(store: &Store, key: &SecretKey, options: &DemoOptions) -> Result<Demo, DemoError> {
    engine::calcom::ensure_crypto_provider();
    let now = Utc::now();
    let org = match store.organization_by_slug(ORG_SLUG).await {
        Ok(org) => org,
        Err(StoreError::NotFound(_)) => {
            let new = NewOrganization {
                slug: ORG_SLUG.into(),
                name: data::ORG_NAME.into(),
                time_zone: chrono_tz::Europe::Berlin,
            };
            store.create_organization(&new, now).await?
        }
        Err(e) => return Err(e.into()),
    };

    // The simulator's key and webhook secret live only sealed in the
    // database: a restart opens them again instead of inventing new ones.
    let connection = store.calcom_connection(org.id).await?;
    let mut update = CalcomConnectionUpdate { event_type_id: Some(1), ..CalcomConnectionUpdate::default() };
    let api_key = match connection.api_key_sealed.as_deref() {
        Some(sealed) => open(key, Purpose::CalcomApiKey(org.id), sealed)?,
        None => {
            let fresh = format!("cal_demo_{}", uuid::Uuid::new_v4().simple());
            update.api_key_sealed = Some(seal(key, Purpose::CalcomApiKey(org.id), &fresh));
            fresh
        }
    };
    let webhook_secret = match connection.webhook_secret_sealed.as_deref() {
        Some(sealed) => open(key, Purpose::WebhookSecret(org.id), sealed)?,
        None => {
            let fresh = format!("whsec_demo_{}", uuid::Uuid::new_v4().simple());
            update.webhook_secret_sealed = Some(seal(key, Purpose::WebhookSecret(org.id), &fresh));
            fresh
        }
    };

    let mut config = SimConfig::default().with_api_keys([api_key]);
    if let Some(path) = &options.sim_state {
        config = config.with_state_file(path.clone());
    }
    // A fresh port each start (no clash with anything else on the machine);
    // the organization is pointed at it below.
    let sim = SimServer::start(config)?.spawn().await?;
    update.base_url = Some(sim.base_url.clone());
    store.update_calcom_connection(org.id, &update, now).await?;

    let hook = format!("{}/webhooks/calcom/{}", options.calsync_url.trim_end_matches('/'), org.slug);
    if !sim.webhooks().iter().any(|s| s.subscriber_url == hook) {
        sim.subscribe_webhooks(hook, Some(webhook_secret));
    }

    let accounts = accounts::ensure(store, &org).await?;

    let seeded = if store.count_appointments(org.id, &AppointmentFilter::default()).await? == 0 {
        let connector = CalcomConnector::new(store.clone(), key.clone());
        let source = connector.client(org.id).await.ok_or(DemoError::NoClient)?;
        Some(seed::seed(store, &org, sim.control(), &source, now).await?)
    } else {
        None
    };
    Ok(Demo { sim, org, accounts, seeded })
}

/// The state file next to a SQLite database, else in the working directory.
pub fn sim_state_path(database_url: &str) -> PathBuf {
    let file = engine::store::sqlite_file(database_url);
    match file.as_deref().and_then(std::path::Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(SIM_STATE_FILE),
        _ => PathBuf::from(SIM_STATE_FILE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_file_sits_next_to_the_database() {
        assert_eq!(sim_state_path("sqlite://calsync.db"), PathBuf::from(SIM_STATE_FILE));
        assert_eq!(
            sim_state_path("sqlite:///var/lib/calsync/db.sqlite?mode=rwc"),
            PathBuf::from("/var/lib/calsync").join(SIM_STATE_FILE)
        );
        assert_eq!(sim_state_path("postgres://postgres@127.0.0.1/calsync"), PathBuf::from(SIM_STATE_FILE));
    }
}
