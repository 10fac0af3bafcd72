//! `calsync backup` and `calsync restore`, through the real binary: a copy
//! made while the database is in use, put back later, holds exactly what
//! was there; PostgreSQL is sent to its own tools.

use std::path::Path;
use std::process::{Command, Output};

use chrono::Utc;
use engine::store::{NewOrganization, Store};

fn calsync(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_calsync"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("calsync runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn slugs(url: &str) -> Vec<String> {
    let store = Store::connect(url).await.unwrap();
    let slugs = store.organizations().await.unwrap().into_iter().map(|o| o.slug).collect();
    store.close().await;
    slugs
}

async fn add_org(store: &Store, slug: &str) {
    let new = NewOrganization { slug: slug.into(), name: slug.into(), time_zone: chrono_tz::UTC };
    store.create_organization(&new, Utc::now()).await.unwrap();
}

#[tokio::test]
async fn a_backup_taken_in_use_restores_exactly_what_it_held() {
    let dir = std::env::temp_dir().join(format!("calsync-backup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("calsync.db");
    let url = format!("sqlite://{}", db.display());
    let copy = dir.join("copy.db");

    // In use: a pool holds the database open while the copy is made.
    let store = Store::open(&url).await.unwrap();
    add_org(&store, "before").await;
    let out = calsync(&url, &["backup", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("checked"), "{}", text(&out));
    add_org(&store, "after").await;
    let again = calsync(&url, &["backup", copy.to_str().unwrap()]);
    assert!(!again.status.success() && text(&again).contains("exists already"), "never overwrites: {}", text(&again));
    store.close().await;

    let out = calsync(&url, &["restore", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(slugs(&url).await, ["before"], "what the backup held, not what came later");

    let garbage = dir.join("garbage.db");
    std::fs::write(&garbage, b"not a database").unwrap();
    let out = calsync(&url, &["restore", garbage.to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(slugs(&url).await, ["before"], "a bad backup changes nothing");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn restore_refuses_while_calsync_runs_on_the_database() {
    let dir = std::env::temp_dir().join(format!("calsync-restore-busy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("calsync.db").display());
    let store = Store::open(&url).await.unwrap();
    add_org(&store, "live").await;
    let copy = dir.join("copy.db");
    assert!(calsync(&url, &["backup", copy.to_str().unwrap()]).status.success());
    store.worker_heartbeat("calsync-1234", Utc::now()).await.unwrap();
    store.close().await;
    let out = calsync(&url, &["restore", copy.to_str().unwrap()]);
    assert!(!out.status.success() && text(&out).contains("stop it first"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn postgresql_is_sent_to_pg_dump() {
    let db = engine::testing::TestDb::new(engine::store::Backend::Postgres).await;
    let out = calsync(&db.url, &["backup", "/tmp/never-written.db"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("pg_dump"), "{}", text(&out));
    assert!(!Path::new("/tmp/never-written.db").exists());
}
