//! `calsync verify` against Cal.com as it really answers: the exit code
//! says whether the run succeeded, and a failed run says why in words.

mod support;

use std::process::Command;

use calcom_sim::{spawn, Faults, GenerateSpec, SimConfig};
use engine::on_both_backends;

/// `calsync verify --org salon [--full]` against `database_url`: exit
/// status, standard output and standard error.
fn verify(database_url: &str, full: bool) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_calsync"));
    cmd.args(["verify", "--org", "salon"]).env("DATABASE_URL", database_url).env("CALSYNC_SECRET_KEY", "07".repeat(32));
    if full {
        cmd.arg("--full");
    }
    let out = cmd.env("RUST_LOG", "warn").output().expect("calsync runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

on_both_backends!(a_failed_run_exits_non_zero_and_says_why, |db| async move {
    engine::calcom::ensure_crypto_provider();
    let sim = spawn(SimConfig::default().with_rate_limit(None)).await.unwrap();
    let org = support::org(&db.store, "salon", "Salon Schmidt").await;
    support::connect(&db.store, org.id, &sim).await;

    let url = db.url.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || verify(&url, true)).await.unwrap();
    assert!(ok, "a healthy Cal.com: {out}{err}");
    assert!(out.contains(": succeeded;"), "{out}");

    sim.control().set_faults(Faults { outage: true, ..Faults::default() });
    let url = db.url.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || verify(&url, true)).await.unwrap();
    assert!(!ok, "the run failed, so must the command");
    assert!(out.contains(": failed;"), "{out}");
    assert!(
        out.contains("why: Listing Cal.com's bookings failed: Cal.com was unavailable (HTTP 503 Service Unavailable)"),
        "the words, not an HTML body: {out}"
    );
    assert!(!out.contains("<html"), "{out}");
    assert!(err.contains("failed"), "{err}");
});

on_both_backends!(a_second_full_check_is_refused_naming_the_running_one, |db| async move {
    engine::calcom::ensure_crypto_provider();
    let sim = spawn(SimConfig::default().with_rate_limit(None)).await.unwrap();
    let org = support::org(&db.store, "salon", "Salon Schmidt").await;
    support::connect(&db.store, org.id, &sim).await;
    let (from, to) = (sim.now() + chrono::Duration::days(1), sim.now() + chrono::Duration::days(20));
    sim.generate(GenerateSpec { count: 1000, from, to, event_type_id: None, status: None }).unwrap();
    // Slow pages: the first check is still listing when the second asks.
    sim.set_faults(Faults { latency_ms: 700, ..Faults::default() });

    let url = db.url.clone();
    let first = tokio::task::spawn_blocking(move || verify(&url, true));
    let running = "SELECT COUNT(*) AS n FROM job_runs WHERE org_id = $1 AND status = 'running'";
    let started = std::time::Instant::now();
    loop {
        let row = sqlx::query(running).bind(org.id.get()).fetch_one(db.store.pool()).await.unwrap();
        if sqlx::Row::get::<i64, _>(&row, "n") == 1 {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the first check never started");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let url = db.url.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || verify(&url, true)).await.unwrap();
    assert!(!ok, "refused: {out}");
    assert!(
        err.contains("a comprehensive check is already running (started ") && err.contains("from the command line)"),
        "{err}"
    );
    let (ok, out, err) = first.await.unwrap();
    assert!(ok, "{out}{err}");
    let runs = "SELECT COUNT(*) AS n FROM job_runs WHERE org_id = $1 AND kind = 'comprehensive'";
    let row = sqlx::query(runs).bind(org.id.get()).fetch_one(db.store.pool()).await.unwrap();
    assert_eq!(sqlx::Row::get::<i64, _>(&row, "n"), 1, "one full check ran");
});
