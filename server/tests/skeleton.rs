//! The walking skeleton end to end over real HTTP: health checks, request
//! ids, the server-rendered dashboard, and start-up errors of the binary.

mod support;

use std::net::SocketAddr;
use std::process::Command;

use chrono::{Duration, TimeZone, Utc};
use engine::domain::{AppointmentSource, AppointmentStatus};
use engine::on_both_backends;
use engine::secret_key::SecretKey;
use engine::store::{NewAppointment, NewOrganization, Store};
use server::router::build_app;
use server::state::AppState;
use support::spawn_app as serve;

on_both_backends!(health_and_readiness_answer_with_request_ids, |db| async move {
    let base = serve(db.store.clone()).await;
    let client = reqwest::Client::new();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let id = health.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let ready = client.get(format!("{base}/readyz")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.headers()["x-request-id"], "trace-me-42", "a caller's id is kept");
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");

    db.store.close().await;
    let down = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(down.status(), 503, "a closed database is not ready");
});

/// Signs a fresh admin of `org` in and returns the Cookie header value.
async fn signed_in(store: &Store, org: engine::domain::OrgId, base: &str) -> String {
    let password_hash = engine::password::hash("long enough password".into()).await.unwrap();
    let new = engine::store::NewUser {
        email: "admin@example.com".into(),
        name: "Admin".into(),
        role: engine::domain::Role::Admin,
        password_hash,
    };
    store.create_user(org, &new, Utc::now()).await.unwrap();
    support::login(base, "admin@example.com", "long enough password").await
}

on_both_backends!(unknown_paths_are_404_pages, |db| async move {
    let org = db
        .store
        .create_organization(
            &NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::UTC },
            Utc::now(),
        )
        .await
        .unwrap();
    let base = serve(db.store.clone()).await;
    let cookie = signed_in(&db.store, org.id, &base).await;
    let response =
        reqwest::Client::new().get(format!("{base}/no/such/page")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
});

/// The dashboard shows the signed-in user's organization.
#[tokio::test]
async fn dashboard_is_server_rendered_with_counts_from_the_database() {
    let db = engine::testing::TestDb::new(engine::store::Backend::Sqlite).await;
    let now = Utc::now();
    let org = db
        .store
        .create_organization(
            &NewOrganization {
                slug: "salon".into(),
                name: "Salon Schmidt".into(),
                time_zone: chrono_tz::Europe::Berlin,
            },
            now,
        )
        .await
        .unwrap();
    for hour in [9, 10] {
        let starts_at = Utc.with_ymd_and_hms(2025, 10, 13, hour, 0, 0).unwrap();
        let new = NewAppointment {
            external_id: None,
            customer_name: format!("Kunde {hour}"),
            customer_email: None,
            customer_phone: None,
            service: "Schnitt".into(),
            starts_at,
            ends_at: starts_at + Duration::minutes(30),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Admin,
            calcom_booking_uid: None,
            calcom_event_type_id: None,
        };
        db.store.insert_appointment(org.id, &new, "test", now).await.unwrap();
    }
    let base = serve(db.store.clone()).await;
    let cookie = signed_in(&db.store, org.id, &base).await;
    let html = reqwest::Client::new()
        .get(format!("{base}/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Salon Schmidt"), "{html}");
    assert!(html.contains(r#"data-testid="count-pending" class="count">2<"#), "{html}");
    assert!(html.contains(r#"data-testid="count-synced" class="count">0<"#), "{html}");
    assert!(html.contains("/pkg/calsync.js"), "the page loads the hydration bundle");
}

fn calsync(env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_calsync"));
    cmd.args(args);
    for var in ["DATABASE_URL", "CALSYNC_SECRET_KEY", "CALSYNC_ADDR", "SMTP_URL", "SMTP_FROM"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn one_error_line(output: &std::process::Output) -> String {
    assert!(!output.status.success(), "must fail");
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "exactly one line: {stderr}");
    stderr
}

#[test]
fn a_wrong_database_url_is_one_clear_line_and_a_failure_exit() {
    let out = calsync(&[("DATABASE_URL", "mysql://root:pw@localhost/db")], &["migrate"]);
    let line = one_error_line(&out);
    assert!(line.starts_with("error: DATABASE_URL: "), "{line}");
    assert!(!line.contains("pw@"), "password hidden: {line}");

    let out = calsync(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")], &["migrate"]);
    let line = one_error_line(&out);
    assert!(line.starts_with("error: DATABASE_URL: ") && line.contains("refused"), "{line}");

    let out = calsync(&[("DATABASE_URL", "sqlite:///no/such/dir/calsync.db")], &["migrate"]);
    assert!(one_error_line(&out).starts_with("error: DATABASE_URL: "));
}

#[test]
fn serve_refuses_bad_settings_naming_them() {
    let dir = std::env::temp_dir().join(format!("calsync-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/cfg.db", dir.display());
    let key = "ab".repeat(32);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("DATABASE_URL", &url)], "CALSYNC_SECRET_KEY"),
        (&[("DATABASE_URL", &url), ("CALSYNC_SECRET_KEY", "xyz")], "CALSYNC_SECRET_KEY"),
        (&[("DATABASE_URL", &url), ("CALSYNC_SECRET_KEY", &key), ("CALSYNC_ADDR", "localhost")], "CALSYNC_ADDR"),
        (&[("DATABASE_URL", &url), ("CALSYNC_SECRET_KEY", &key), ("SMTP_URL", "http://user:hunter2@x")], "SMTP_URL"),
        (
            &[
                ("DATABASE_URL", &url),
                ("CALSYNC_SECRET_KEY", &key),
                ("SMTP_URL", "smtp://127.0.0.1:1"),
                ("SMTP_FROM", "nobody"),
            ],
            "SMTP_FROM",
        ),
    ];
    for (env, setting) in cases {
        let line = one_error_line(&calsync(env, &["serve"]));
        assert!(line.starts_with(&format!("error: {setting}: ")), "{line}");
        assert!(!line.contains(&key), "the key never appears: {line}");
        assert!(!line.contains("hunter2"), "the SMTP password never appears: {line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn migrate_creates_a_missing_sqlite_file() {
    let dir = std::env::temp_dir().join(format!("calsync-mig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fresh.db");
    let out = calsync(&[("DATABASE_URL", &format!("sqlite://{}", file.display()))], &["migrate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(file.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

on_both_backends!(metrics_expose_open_issues_and_circuit_state, |db| async move {
    use engine::domain::ErrorCode;
    use engine::store::{IssueSubject, NewIssue};
    let org = db
        .store
        .create_organization(
            &NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::UTC },
            Utc::now(),
        )
        .await
        .unwrap();
    let issue = NewIssue {
        code: ErrorCode::OrphanedCalcom,
        subject: IssueSubject::CalcomBooking { uid: "x1".into() },
        calcom_snapshot: None,
        differences: None,
        detail: None,
    };
    db.store.open_issue(org.id, &issue, Utc::now()).await.unwrap();
    let base = serve(db.store.clone()).await;
    let text = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"calsync_open_issues{org="salon",code="ORPHANED_CALCOM"} 1"#), "{text}");
    assert!(text.contains(r#"calsync_open_issues{org="salon",code="DATA_MISMATCH"} 0"#), "{text}");
    assert!(text.contains(r#"calsync_circuit_state{org="salon",state="closed"} 1"#), "{text}");
});

on_both_backends!(metrics_are_closed_beyond_loopback_without_a_token, |db| async move {
    use server::http::metrics::MetricsAccess;
    engine::calcom::ensure_crypto_provider();
    let wide: SocketAddr = "0.0.0.0:3000".parse().unwrap();
    assert_eq!(MetricsAccess::for_listener(None, wide), MetricsAccess::Closed);
    assert_eq!(MetricsAccess::for_listener(None, "127.0.0.1:3000".parse().unwrap()), MetricsAccess::Open);
    let serve_with = |access: MetricsAccess| {
        let store = db.store.clone();
        async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut state =
                AppState::new(store, SecretKey::from_bytes([3; 32]), "http://sync.example", "target/site", addr);
            state.metrics_access = access;
            let app = build_app(state);
            tokio::spawn(async move {
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
            });
            format!("http://{addr}/metrics")
        }
    };
    let closed = serve_with(MetricsAccess::for_listener(None, wide)).await;
    assert_eq!(reqwest::get(&closed).await.unwrap().status().as_u16(), 403);
    let guarded = serve_with(MetricsAccess::for_listener(Some("scrape-me"), wide)).await;
    assert_eq!(reqwest::get(&guarded).await.unwrap().status().as_u16(), 401);
    let http = reqwest::Client::new();
    let answer = http.get(&guarded).bearer_auth("scrape-me").send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
});
