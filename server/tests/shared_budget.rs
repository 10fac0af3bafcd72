//! One Cal.com budget per API key, shared by every process that uses it:
//! two "instances" (each its own pool, as separate processes have) and a
//! real `calsync verify` process, against the simulator at Cal.com's
//! default limit (120 requests a minute, then a 60 s block).

mod support;

use std::process::Command;

use calcom_sim::{endpoint, spawn, SimConfig};
use engine::calcom::CalcomConnector;
use engine::on_both_backends;
use engine::store::Store;

/// Requests each instance makes: together more than a minute's budget.
const EACH: usize = 65;

on_both_backends!(two_instances_and_the_cli_sharing_a_key_never_meet_a_429, |db| async move {
    engine::calcom::ensure_crypto_provider();
    let sim = spawn(SimConfig::default()).await.unwrap();
    let org = support::org(&db.store, "salon", "Salon Schmidt").await;
    support::connect(&db.store, org.id, &sim).await;

    let mut instances = Vec::new();
    for _ in 0..2 {
        let store = Store::connect(&db.url).await.unwrap();
        let client = CalcomConnector::new(store, support::key()).client(org.id).await.expect("connected");
        instances.push(tokio::spawn(async move {
            for _ in 0..EACH {
                client.event_types().await.expect("paced, never refused");
            }
        }));
    }
    let url = db.url.clone();
    let cli = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_calsync"))
            .args(["verify", "--org", "salon", "--full"])
            .env("DATABASE_URL", url)
            .env("CALSYNC_SECRET_KEY", "07".repeat(32))
            .env("RUST_LOG", "warn")
            .output()
            .expect("calsync runs")
    });
    for instance in instances {
        instance.await.unwrap();
    }
    let cli = cli.await.unwrap();
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stdout));

    let counters = sim.control().counters();
    assert_eq!(counters.calls(endpoint::LIST_EVENT_TYPES), 2 * EACH as u64);
    assert!(counters.total > 120, "more than one window's worth: {}", counters.total);
    assert_eq!(counters.answered(429), 0, "no process drove the key into its limit");
});

on_both_backends!(a_keys_custom_limit_is_learned_from_calcoms_headers_and_kept_for_the_dashboard, |db| async move {
    use calcom_sim::RateLimit;
    engine::calcom::ensure_crypto_provider();
    let sim = spawn(SimConfig::default().with_rate_limit(Some(RateLimit::per_minute(30)))).await.unwrap();
    let org = support::org(&db.store, "salon", "Salon Schmidt").await;
    support::connect(&db.store, org.id, &sim).await;
    assert_eq!(db.store.organization(org.id).await.unwrap().calcom_rate_limit, None);

    let client = CalcomConnector::new(db.store.clone(), support::key()).client(org.id).await.expect("connected");
    client.event_types().await.unwrap();
    assert_eq!(db.store.organization(org.id).await.unwrap().calcom_rate_limit, Some(30), "not the default 120");
});
