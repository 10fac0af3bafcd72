//! Backups of the embedded database. SQLite makes a consistent copy while
//! calsync keeps running (`VACUUM INTO`); PostgreSQL has its own tools
//! (`pg_dump`), which do it better than we could.

use std::path::Path;

use super::{Backend, Store, StoreError};

impl Store {
    /// Writes a consistent copy of the whole database to `path`, which must
    /// not exist yet, and checks the copy.
    pub async fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Invalid(
                "calsync backup copies the embedded SQLite database; for PostgreSQL use pg_dump \
                 (pg_dump --format=custom --file=calsync.dump DATABASE) and pg_restore"
                    .into(),
            ));
        }
        if path.exists() {
            return Err(StoreError::Invalid(format!("{} exists already; choose a new file", path.display())));
        }
        let target = path.to_str().ok_or_else(|| StoreError::Invalid("the backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.pool).await?;
        let copy = Store::connect(&format!("sqlite://{target}")).await?;
        let checked = copy.integrity().await;
        copy.close().await;
        checked
    }

    /// SQLite's own check of the file; `Ok` when it finds nothing wrong.
    pub async fn integrity(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let row = sqlx::query("PRAGMA quick_check").fetch_one(&self.pool).await?;
        let verdict: String = super::row::get(&row, "quick_check")?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!("the database file is damaged: {verdict}")))
        }
    }

    /// Whether a calsync process beat its presence within `recent`: then
    /// the database is in use and must not be replaced.
    pub async fn in_use(&self, recent: chrono::Duration) -> Result<bool, StoreError> {
        let since = super::time::to_ms(chrono::Utc::now() - recent);
        let row = sqlx::query("SELECT COUNT(*) AS n FROM worker_presence WHERE heartbeat_at >= $1")
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok(super::row::get::<i64>(&row, "n")? > 0)
    }
}
