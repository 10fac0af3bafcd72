//! `kill -9` in the middle of a verification run, then a restart: the real
//! `calsync serve` binary against an in-process Cal.com simulator slowed
//! down so that a run is in progress when the process dies. After the
//! restart the interrupted run is recorded as such, the dead process's
//! claims are taken over at once (not after their 10-minute lease), every
//! appointment is verified, and no notification or email is sent twice.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use calcom_sim::{spawn, Faults, RateLimit, SeedBooking, SimConfig, SimHandle};
use chrono::{Duration, Utc};
use engine::calcom::NewAttendee;
use engine::domain::{AppointmentSource, AppointmentStatus, OrgId, Role};
use engine::on_both_backends;
use engine::secret_key::SecretKey;
use engine::secrets::{seal, Purpose};
use engine::store::{CalcomConnectionUpdate, NewAppointment, NewOrganization, NewUser, Store};

const KEY_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";
/// Seconds after which a silent calsync counts as dead (`CALSYNC_WORKER_STALE_SECS`).
const STALE_SECS: u64 = 2;
/// Appointments whose booking matches, and ones whose booking moved.
const MATCHING: i64 = 40;
const MOVED: i64 = 2;

/// A running `calsync serve`, killed with SIGKILL when dropped.
struct Calsync(Child);

impl Calsync {
    /// On a free port, with emails queued for an SMTP server that is not
    /// there (the outbox then shows any repeats).
    fn start(database_url: &str) -> Calsync {
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        Calsync::serve(database_url, addr)
    }

    fn serve(database_url: &str, addr: std::net::SocketAddr) -> Calsync {
        let child = Command::new(env!("CARGO_BIN_EXE_calsync"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("CALSYNC_ADDR", addr.to_string())
            .env("CALSYNC_SECRET_KEY", KEY_HEX)
            .env("CALSYNC_WORKER_STALE_SECS", STALE_SECS.to_string())
            .env("SMTP_URL", "smtp://127.0.0.1:9")
            .env("RUST_LOG", "warn")
            .env_remove("SMTP_FROM")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start calsync");
        Calsync(child)
    }

    /// SIGKILL: no shutdown code runs, exactly like a crash.
    fn kill(mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().unwrap();
    }
}

impl Drop for Calsync {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn scalar(store: &Store, sql: &str, org: OrgId) -> i64 {
    let row = sqlx::query(sql).bind(org.get()).fetch_one(store.pool()).await.unwrap();
    sqlx::Row::get(&row, "n")
}

/// A count query and the test its answer must pass.
type Check<'a> = (&'a str, fn(i64) -> bool);

/// Polls until every query's count passes its test (a real process and
/// real time: there is no clock to move).
async fn wait_for(store: &Store, org: OrgId, what: &str, limit: StdDuration, checks: &[Check<'_>]) {
    let started = Instant::now();
    loop {
        let mut all = true;
        for (sql, ok) in checks {
            all &= ok(scalar(store, sql, org).await);
        }
        if all {
            return;
        }
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

/// An organization connected to the simulator, an admin who wants every
/// email, and appointments beyond the listed window among many other
/// bookings (so each is asked for by uid, slowly), two of whose bookings
/// moved.
async fn setup(store: &Store, sim: &SimHandle) -> OrgId {
    let now = Utc::now();
    let new = NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::UTC };
    // A day old: calsync starts owing it today's slots, so it starts a run at once.
    let org = store.create_organization(&new, now - Duration::days(1)).await.unwrap().id;
    let key = SecretKey::parse(KEY_HEX).unwrap();
    let config = sim.client_config();
    let update = CalcomConnectionUpdate {
        base_url: Some(config.base_url.clone()),
        api_key_sealed: Some(seal(&key, Purpose::CalcomApiKey(org), config.api_key.expose())),
        webhook_secret_sealed: None,
        event_type_id: Some(1),
    };
    store.update_calcom_connection(org, &update, now).await.unwrap();
    let admin = NewUser {
        email: "admin@example.com".into(),
        name: "Admin".into(),
        role: Role::Admin,
        password_hash: "x".into(),
    };
    store.create_user(org, &admin, now).await.unwrap();

    let first = now + Duration::days(200);
    for n in 0..MATCHING + MOVED {
        let starts_at = first + Duration::hours(n);
        let email = format!("kunde{n}@example.com");
        let attendee = NewAttendee {
            name: format!("Kunde {n}"),
            email: email.clone(),
            time_zone: "UTC".into(),
            phone_number: None,
            language: None,
        };
        let booked_at = if n < MATCHING { starts_at } else { starts_at + Duration::minutes(30) };
        // Booked yesterday: no change since the watermark, so the cycle's
        // changes listing does not hold them and each is asked for by uid.
        let seed = SeedBooking {
            attendee: Some(attendee),
            created_at: Some(now - Duration::days(1)),
            ..SeedBooking::at(booked_at)
        };
        let uid = sim.control().seed(vec![seed]).unwrap().remove(0);
        let appointment = NewAppointment {
            external_id: None,
            customer_name: format!("Kunde {n}"),
            customer_email: Some(email),
            customer_phone: None,
            service: "Beratung".into(),
            starts_at,
            ends_at: starts_at + Duration::minutes(30),
            time_zone: chrono_tz::UTC,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Api,
            calcom_booking_uid: Some(uid),
            calcom_event_type_id: Some(1),
        };
        store.insert_appointment(org, &appointment, "test", now).await.unwrap();
    }
    // So many other bookings around them that listing their stretch would
    // cost more than asking for each: the run asks per uid, slowly.
    let crowd = (0..15_000)
        .map(|i| SeedBooking {
            created_at: Some(now - Duration::days(1)),
            ..SeedBooking::at(first + Duration::seconds(10 * i))
        })
        .collect();
    sim.control().seed(crowd).unwrap();
    org
}

on_both_backends!(a_killed_server_is_taken_over_at_once_on_restart, |db| async move {
    engine::calcom::ensure_crypto_provider();
    // A key with a generous custom limit: pacing is not what this test is about.
    let sim = spawn(SimConfig::default().with_rate_limit(Some(RateLimit::per_minute(6000)))).await.unwrap();
    let store = db.store.clone();
    let org = setup(&store, &sim).await;
    // Every answer takes 300 ms: the run is still asking when it is killed.
    sim.control().set_faults(Faults { latency_ms: 300, ..Faults::default() });

    let first = Calsync::start(&db.url);
    let claimed = "SELECT COUNT(*) AS n FROM appointments WHERE org_id = $1 AND claimed_by IS NOT NULL";
    let verified = "SELECT COUNT(*) AS n FROM appointments WHERE org_id = $1 AND last_verified_at IS NOT NULL";
    let checks: [Check<'_>; 2] = [(claimed, |n| n > 0), (verified, |n| n >= 3)];
    wait_for(&store, org, "a run verifying claimed appointments", StdDuration::from_secs(20), &checks).await;
    first.kill();
    let running = "SELECT COUNT(*) AS n FROM job_runs WHERE org_id = $1 AND status = 'running'";
    assert_eq!(scalar(&store, running, org).await, 1, "the killed process left its run running");
    assert!(scalar(&store, claimed, org).await > 0, "and its claims held");

    // Back to full speed; restart once the dead process is past the threshold.
    sim.control().reset_faults();
    tokio::time::sleep(StdDuration::from_secs(STALE_SECS) + StdDuration::from_millis(300)).await;
    let _second = Calsync::start(&db.url);
    let settled = "SELECT COUNT(*) AS n FROM appointments WHERE org_id = $1 AND claimed_by IS NULL \
                   AND sync_status IN ('synced', 'failed')";
    let checks: [Check<'_>; 1] = [(settled, |n| n == MATCHING + MOVED)];
    wait_for(&store, org, "every appointment verified after the restart", StdDuration::from_secs(15), &checks).await;

    let interrupted = "SELECT COUNT(*) AS n FROM job_runs WHERE org_id = $1 AND status = 'interrupted'";
    assert_eq!(scalar(&store, interrupted, org).await, 1, "the killed run is recorded as interrupted");
    assert_eq!(scalar(&store, running, org).await, 0);
    let synced = "SELECT COUNT(*) AS n FROM appointments WHERE org_id = $1 AND sync_status = 'synced'";
    assert_eq!(scalar(&store, synced, org).await, MATCHING);
    let issues =
        "SELECT COUNT(*) AS n FROM sync_issues WHERE org_id = $1 AND resolved_at IS NULL AND code = 'DATA_MISMATCH'";
    assert_eq!(scalar(&store, issues, org).await, MOVED);
    let notes = "SELECT COUNT(*) AS n FROM notifications WHERE org_id = $1 AND kind = 'sync_issue'";
    assert_eq!(scalar(&store, notes, org).await, MOVED, "one notification per issue, across the crash");
    let emails = "SELECT COUNT(*) AS n FROM email_outbox WHERE org_id = $1";
    assert_eq!(scalar(&store, emails, org).await, MOVED, "one email per notification to the one admin");
});

async fn wait_ready(base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("calsync at {base} never became ready");
}

on_both_backends!(an_acknowledged_delivery_survives_kill_9, |db| async move {
    engine::calcom::ensure_crypto_provider();
    let sim = spawn(SimConfig::default().with_rate_limit(Some(RateLimit::per_minute(6000)))).await.unwrap();
    let store = db.store.clone();
    let now = Utc::now();
    let new = NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::UTC };
    let org = store.create_organization(&new, now).await.unwrap().id;
    let key = SecretKey::parse(KEY_HEX).unwrap();
    let update = CalcomConnectionUpdate {
        base_url: Some(sim.base_url.clone()),
        api_key_sealed: Some(seal(&key, Purpose::CalcomApiKey(org), sim.api_key().expose())),
        webhook_secret_sealed: Some(seal(&key, Purpose::WebhookSecret(org), "whsec_crash")),
        event_type_id: Some(1),
    };
    store.update_calcom_connection(org, &update, now).await.unwrap();
    let start = (now + Duration::days(3)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
    let customer = calcom_sim::matched::Customer { name: "Tom Klein", email: "tom@example.com" };
    let (uid, appointment) = calcom_sim::matched::seed_matching(&store, org, &sim, start, customer, now).await;
    let cancel =
        calcom_sim::BookingEdit { status: Some(engine::calcom::BookingStatus::Cancelled), ..Default::default() };
    sim.control().edit(&uid, cancel).unwrap();
    // Cal.com hangs: the delivery cannot be acted on before the kill.
    sim.control().set_faults(Faults { hang_ms: 60_000, ..Faults::default() });

    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let base = format!("http://{addr}");
    let first = Calsync::serve(&db.url, addr);
    wait_ready(&base).await;
    let body = serde_json::json!({
        "triggerEvent": "BOOKING_CANCELLED", "createdAt": Utc::now().to_rfc3339(),
        "payload": { "uid": uid, "status": "CANCELLED" }
    })
    .to_string();
    let answer = reqwest::Client::new()
        .post(format!("{base}/webhooks/calcom/salon"))
        .header("X-Cal-Signature-256", engine::calcom::webhook::sign(b"whsec_crash", body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200, "acknowledged");
    first.kill();
    let pending = "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE org_id = $1 AND status = 'pending'";
    assert_eq!(scalar(&store, pending, org).await, 1, "acknowledged, not yet acted on, and not lost");

    sim.control().reset_faults();
    tokio::time::sleep(StdDuration::from_secs(STALE_SECS) + StdDuration::from_millis(300)).await;
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let _second = Calsync::serve(&db.url, addr);
    let done =
        "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE org_id = $1 AND status = 'done' AND outcome = 'verified'";
    wait_for(&store, org, "the delivery acted on after the restart", StdDuration::from_secs(15), &[(done, |n| n == 1)])
        .await;
    let after = store.appointment(org, appointment.id).await.unwrap();
    assert_eq!(after.sync.error_code, Some(engine::domain::ErrorCode::DataMismatch), "cancelled in Cal.com");
});

on_both_backends!(sigterm_releases_the_run_and_claims_for_the_others, |db| async move {
    engine::calcom::ensure_crypto_provider();
    let sim = spawn(SimConfig::default().with_rate_limit(Some(RateLimit::per_minute(6000)))).await.unwrap();
    let store = db.store.clone();
    let org = setup(&store, &sim).await;
    // Every answer takes 2 s: the run outlasts the shutdown grace.
    sim.control().set_faults(Faults { latency_ms: 2_000, ..Faults::default() });
    let mut server = Calsync::start(&db.url);
    let claimed = "SELECT COUNT(*) AS n FROM appointments WHERE org_id = $1 AND claimed_by IS NOT NULL";
    let checks: [Check<'_>; 1] = [(claimed, |n| n > 0)];
    wait_for(&store, org, "a run holding claims", StdDuration::from_secs(30), &checks).await;

    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < StdDuration::from_secs(40), "calsync did not stop after SIGTERM");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    };
    assert!(status.success(), "a clean exit: {status:?}");
    assert_eq!(scalar(&store, claimed, org).await, 0, "its claims were released");
    let running = "SELECT COUNT(*) AS n FROM job_runs WHERE org_id = $1 AND status = 'running'";
    assert_eq!(scalar(&store, running, org).await, 0);
    let stopped = "SELECT COUNT(*) AS n FROM job_runs WHERE org_id = $1 AND status = 'interrupted' \
                   AND error_detail = 'calsync was stopped before the run finished'";
    assert_eq!(scalar(&store, stopped, org).await, 1, "the cut run says so");
    let presence = sqlx::query("SELECT COUNT(*) AS n FROM worker_presence").fetch_one(store.pool()).await.unwrap();
    assert_eq!(sqlx::Row::get::<i64, _>(&presence, "n"), 0, "it no longer counts as alive");
});
