//! Fresh, migrated databases for tests: a temporary SQLite file, or a new
//! database on the machine's PostgreSQL server that is dropped afterwards.
//!
//! PostgreSQL is found through `CALSYNC_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). If it is unreachable the
//! tests fail: a suite that silently skips a backend proves nothing about it.

use sqlx::Connection;

pub mod smtp_sink;

use crate::store::{Backend, Store};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn postgres_admin_url() -> String {
    std::env::var("CALSYNC_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// A database that exists for one test.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("calsync-test-{}.db", uuid::Uuid::new_v4().simple()));
                (format!("sqlite://{}", path.display()), Cleanup::File(path))
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("calsync_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL for tests unreachable at {admin_url}: {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let (base, _) = admin_url.rsplit_once('/').expect("postgres URL has a database path");
                (format!("{base}/{name}"), Cleanup::Database { admin_url, name })
            }
        };
        let store = Store::open(&url).await.expect("open and migrate test database");
        TestDb { store, url, cleanup }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; a separate thread with
                // its own runtime can block on the async DROP safely.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    rt.block_on(async {
                        let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut admin)
                            .await
                            .ok()
                    })
                })
                .join();
            }
        }
    }
}

/// How long one database test may take. The slowest take about a minute on
/// a loaded two-core CI machine; one that hangs must fail with its name
/// rather than hold the whole suite until CI's own limit kills it silently.
pub const TEST_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(240);

/// Awaits a test body, failing the test if it runs past `TEST_TIME_LIMIT`.
pub async fn within_limit<T>(body: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(TEST_TIME_LIMIT, body).await {
        Ok(value) => value,
        Err(_) => panic!("the test did not finish within {} s: it hangs", TEST_TIME_LIMIT.as_secs()),
    }
}

/// Runs an async test body once on SQLite and once on PostgreSQL:
/// `on_both_backends!(name, |db| async move { ... });` defines `name::sqlite`
/// and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, |$db:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $db = $crate::testing::TestDb::new($crate::store::Backend::Sqlite).await;
                $crate::testing::within_limit($body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $db = $crate::testing::TestDb::new($crate::store::Backend::Postgres).await;
                $crate::testing::within_limit($body).await
            }
        }
    };
}
