//! `calsync verify` against Cal.com as it really answers: the exit code
//! says whether the run succeeded, and a failed run says why in words.

mod support;

use std::process::Command;

use engine::calcom_sim::{spawn, Faults, SimConfig};
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
