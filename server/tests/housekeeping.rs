//! `calsync serve` prunes on its own: the real binary, started with a
//! retention setting, deletes what that setting no longer keeps.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use engine::on_both_backends;
use engine::store::{NewOrganization, RunCounts, RunKind, RunStart, RunStatus, Start, Trigger};

const KEY_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";

on_both_backends!(serve_prunes_finished_runs_past_their_retention, |db| async move {
    let store = db.store.clone();
    let now = Utc::now();
    let new = NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::UTC };
    let org = store.create_organization(&new, now - Duration::days(60)).await.unwrap().id;
    for days_ago in [45, 5] {
        let at = now - Duration::days(days_ago);
        let start = RunStart {
            kind: RunKind::Cycle,
            trigger: Trigger::Schedule,
            slot_at: Some(at),
            worker_id: "old".into(),
            requested_by: None,
        };
        let Start::Started(id) = store.start_run(org, &start, at).await.unwrap() else { panic!("not started") };
        store.finish_run(org, id, RunStatus::Succeeded, RunCounts::default(), None, at).await.unwrap();
    }

    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_calsync"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("CALSYNC_ADDR", addr.to_string())
        .env("CALSYNC_SECRET_KEY", KEY_HEX)
        .env("CALSYNC_KEEP_RUNS", "30d")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start calsync");
    let started = Instant::now();
    let remaining = loop {
        let runs: Vec<i64> = sqlx::query_scalar("SELECT started_at FROM job_runs WHERE org_id = $1")
            .bind(org.get())
            .fetch_all(store.pool())
            .await
            .unwrap();
        if runs.len() < 2 || started.elapsed() > StdDuration::from_secs(20) {
            break runs;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(remaining.len(), 1, "the 45-day-old run is pruned at start, the 5-day-old one kept");
    assert!(remaining[0] > (now - Duration::days(30)).timestamp_millis());
});
