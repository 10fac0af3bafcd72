//! `calsync backup FILE` and `calsync restore FILE`: a consistent copy of
//! the embedded SQLite database, made while calsync runs, and putting one
//! back while it does not. For PostgreSQL both say to use pg_dump and
//! pg_restore.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use engine::store::{sqlite_file, Store};

use crate::config;

/// A process that beat its presence this recently is taken to be running.
const IN_USE_WITHIN_SECS: i64 = 120;

pub async fn backup(database_url: &str, target: &Path) -> Result<()> {
    let store =
        Store::connect(database_url).await.map_err(|e| config::ConfigError::new("DATABASE_URL", e.to_string()))?;
    store.backup_to(target).await?;
    let size = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
    println!("backed up to {} ({} KiB, checked)", target.display(), size.div_ceil(1024));
    Ok(())
}

pub async fn restore(database_url: &str, backup: &Path) -> Result<()> {
    let database = sqlite_file(database_url).ok_or_else(|| {
        anyhow!("calsync restore puts back an embedded SQLite database; for PostgreSQL use pg_restore")
    })?;
    check_backup(backup).await?;
    if database.exists() {
        let current = Store::connect(database_url).await?;
        let busy = current.in_use(chrono::Duration::seconds(IN_USE_WITHIN_SECS)).await.unwrap_or(false);
        current.close().await;
        if busy {
            bail!("calsync is running on {} (or was within two minutes): stop it first", database.display());
        }
    }
    replace(backup, &database)?;
    // The backup may be from an older calsync: bring its schema up to date now.
    let restored = crate::commands::open(database_url).await?;
    restored.close().await;
    println!("restored {} from {}", database.display(), backup.display());
    Ok(())
}

async fn check_backup(backup: &Path) -> Result<()> {
    if !backup.is_file() {
        bail!("{} is not a file", backup.display());
    }
    let url = format!("sqlite://{}?mode=ro", backup.display());
    let copy = Store::connect(&url).await.with_context(|| format!("{} cannot be opened", backup.display()))?;
    let checked = copy.integrity().await;
    copy.close().await;
    checked.with_context(|| format!("{} is not a usable backup", backup.display()))
}

/// Copies `backup` over `database` atomically (a temporary file renamed
/// into place), dropping the old write-ahead log that belongs to the old file.
fn replace(backup: &Path, database: &Path) -> Result<()> {
    let staged = database.with_extension("restoring");
    std::fs::copy(backup, &staged).with_context(|| format!("copying to {}", staged.display()))?;
    std::fs::File::open(&staged).and_then(|f| f.sync_all()).context("writing the copy to disk")?;
    for suffix in ["-wal", "-shm"] {
        let side = format!("{}{suffix}", database.display());
        if Path::new(&side).exists() {
            std::fs::remove_file(&side).with_context(|| format!("removing {side}"))?;
        }
    }
    std::fs::rename(&staged, database).with_context(|| format!("moving the copy to {}", database.display()))?;
    Ok(())
}
