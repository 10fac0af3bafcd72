//! Accounts over real HTTP on both databases: the login wall, login and
//! logout, sessions, throttling, roles, tenant isolation, CSRF, and secrets
//! that never leak.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{Duration, TimeZone, Utc};
use engine::domain::{AppointmentSource, AppointmentStatus, OrgId, Role};
use engine::on_both_backends;
use engine::secret_key::SecretKey;
use engine::store::{NewAppointment, NewOrganization, NewUser, Store};
use leptos::server_fn::ServerFn;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Response, StatusCode};
use support::{answer, client};

const KEY: [u8; 32] = [7; 32];
const PASSWORD: &str = "correct horse battery";

/// Everything the app logs during this test binary, to look for secrets in.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .try_init();
        logs
    })
    .clone()
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn serve(store: Store) -> String {
    serve_with(store, server::auth::SessionPolicy::default()).await
}

async fn serve_with(store: Store, sessions: server::auth::SessionPolicy) -> String {
    captured_logs();
    support::spawn_app_with(store, SecretKey::from_bytes(KEY), |state| state.sessions = sessions).await.1
}

async fn org(store: &Store, slug: &str, name: &str) -> OrgId {
    let new = NewOrganization { slug: slug.into(), name: name.into(), time_zone: chrono_tz::Europe::Berlin };
    store.create_organization(&new, Utc::now()).await.unwrap().id
}

async fn user(store: &Store, org: OrgId, email: &str, role: Role) {
    let password_hash = engine::password::hash(PASSWORD.into()).await.unwrap();
    let new = NewUser { email: email.into(), name: format!("{role} of {org}"), role, password_hash };
    store.create_user(org, &new, Utc::now()).await.unwrap();
}

async fn appointments(store: &Store, org: OrgId, count: u32) {
    for hour in 0..count {
        let starts_at = Utc.with_ymd_and_hms(2025, 10, 13, 8 + hour, 0, 0).unwrap();
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
        store.insert_appointment(org, &new, "test", Utc::now()).await.unwrap();
    }
}

async fn post_login(base: &str, email: &str, password: &str, cookie: Option<&str>) -> Response {
    let mut request = client().post(format!("{base}/login")).header(ORIGIN, base).form(&[
        ("email", email),
        ("password", password),
        ("next", "/audit"),
    ]);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap()
}

/// `calsync_session=…` from a response's Set-Cookie, with its attributes.
fn set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("calsync_session="))
        .map(str::to_owned)
}

/// Logs in and returns the `Cookie` header value to send afterwards.
async fn login(base: &str, email: &str) -> String {
    let response = post_login(base, email, PASSWORD, None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&response).expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

async fn get(base: &str, path: &str, cookie: Option<&str>) -> Response {
    let mut request = client().get(format!("{base}{path}"));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap()
}

/// Calls a server function the way the browser does.
async fn rpc<F: ServerFn>(base: &str, cookie: Option<&str>) -> Response {
    let mut request = client()
        .post(format!("{base}{}", F::PATH))
        .header(ORIGIN, base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("");
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap()
}

type Dashboard = app::rpc::dashboard::GetDashboardSummary;
type AuditLog = app::rpc::audit::GetAuditLog;

on_both_backends!(pages_redirect_to_login_without_a_session, |db| async move {
    let base = serve(db.store.clone()).await;
    // A path that looks like a file is no way around the login: only files
    // that exist are served to anyone.
    let pages = [
        ("/", "/"),
        ("/audit?x=1", "/audit%3Fx%3D1"),
        ("/no/such/page", "/no/such/page"),
        ("/appointments/1.json", "/appointments/1.json"),
        ("/appointments.csv", "/appointments.csv"),
        ("/pkg/missing.js", "/pkg/missing.js"),
    ];
    for (path, next) in pages {
        let response = get(&base, path, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[LOCATION], format!("/login?next={next}").as_str());
    }
    let page = get(&base, "/login?next=/audit", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<form method="post" action="/login""#), "{html}");
    assert!(html.contains(r#"name="next" value="/audit""#), "next survives without JavaScript: {html}");
    for open in ["/healthz", "/favicon.svg"] {
        assert_eq!(get(&base, open, None).await.status(), StatusCode::OK, "{open}");
    }
    let icon = get(&base, "/favicon.svg", None).await.text().await.unwrap();
    assert!(icon.contains("<svg"), "the file itself: {icon}");
    // Files go out gzipped to browsers that accept it (this client does not
    // decompress, so the header is there to see).
    let gzipped = client().get(format!("{base}/favicon.svg")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(gzipped.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
    let body = gzipped.bytes().await.unwrap();
    assert_eq!(&body[..2], [0x1f, 0x8b], "a gzip stream");
});

on_both_backends!(login_with_right_and_wrong_password_and_logout, |db| async move {
    let org_id = org(&db.store, "salon", "Salon Schmidt").await;
    user(&db.store, org_id, "ann@example.com", Role::Admin).await;
    let base = serve(db.store.clone()).await;

    for (email, password) in [("ann@example.com", "wrong password!"), ("nobody@example.com", PASSWORD)] {
        let response = post_login(&base, email, password, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[LOCATION], "/login?error=invalid&next=/audit", "same answer for both: {email}");
        assert!(set_cookie(&response).is_none(), "no session for a failed login");
    }
    let page = get(&base, "/login?error=invalid", None).await.text().await.unwrap();
    assert!(page.contains("Wrong email or password."), "{page}");

    let response = post_login(&base, "Ann@Example.com", PASSWORD, None).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/audit", "back to where the user wanted to go");
    let set = set_cookie(&response).unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http here: {set}");
    let cookie = set.split(';').next().unwrap().to_owned();

    let html = get(&base, "/", Some(&cookie)).await.text().await.unwrap();
    assert!(html.contains("Salon Schmidt") && html.contains(r#"data-testid="user-role""#), "{html}");
    assert!(html.contains("Admin") && html.contains(r#"action="/logout""#), "{html}");

    // Logging in again rotates the id; the old one is worthless.
    let again = post_login(&base, "ann@example.com", PASSWORD, Some(&cookie)).await;
    let rotated = set_cookie(&again).unwrap().split(';').next().unwrap().to_owned();
    assert_ne!(rotated, cookie);
    assert_eq!(get(&base, "/", Some(&cookie)).await.status(), StatusCode::SEE_OTHER, "old id no longer valid");
    assert_eq!(get(&base, "/", Some(&rotated)).await.status(), StatusCode::OK);

    let out =
        client().post(format!("{base}/logout")).header(ORIGIN, &base).header(COOKIE, &rotated).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()[LOCATION], "/login?logged_out=1");
    assert_eq!(get(&base, "/", Some(&rotated)).await.status(), StatusCode::SEE_OTHER, "the session is gone");

    let actions: Vec<String> =
        db.store.audit_log(org_id, 20).await.unwrap().into_iter().map(|e| e.action.to_string()).collect();
    for action in ["auth.login", "auth.login_failed", "auth.logout"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
});

on_both_backends!(server_functions_need_a_session_and_admin_functions_an_admin, |db| async move {
    let org_id = org(&db.store, "salon", "Salon Schmidt").await;
    user(&db.store, org_id, "admin@example.com", Role::Admin).await;
    user(&db.store, org_id, "viewer@example.com", Role::Viewer).await;
    let base = serve(db.store.clone()).await;

    for (status, body) in [
        answer::<Dashboard>(rpc::<Dashboard>(&base, None).await).await,
        answer::<AuditLog>(rpc::<AuditLog>(&base, None).await).await,
    ] {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, "Unauthenticated");
    }
    let viewer = login(&base, "viewer@example.com").await;
    assert_eq!(rpc::<Dashboard>(&base, Some(&viewer)).await.status(), StatusCode::OK, "viewers see the dashboard");
    let (status, refused) = answer::<AuditLog>(rpc::<AuditLog>(&base, Some(&viewer)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(refused, "Forbidden");

    let admin = login(&base, "admin@example.com").await;
    let (status, log) = answer::<AuditLog>(rpc::<AuditLog>(&base, Some(&admin)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(log.to_string().contains("auth.login"), "{log}");
});

on_both_backends!(a_user_sees_only_their_own_organization, |db| async move {
    let a = org(&db.store, "alpha", "Alpha Salon").await;
    let b = org(&db.store, "beta", "Beta Barbers").await;
    appointments(&db.store, a, 2).await;
    appointments(&db.store, b, 3).await;
    user(&db.store, a, "ann@alpha.example", Role::Admin).await;
    user(&db.store, b, "bob@beta.example", Role::Admin).await;
    let base = serve(db.store.clone()).await;
    let _bob = login(&base, "bob@beta.example").await;
    let ann = login(&base, "ann@alpha.example").await;

    let html = get(&base, "/", Some(&ann)).await.text().await.unwrap();
    assert!(html.contains("Alpha Salon"), "{html}");
    assert!(html.contains(r#"data-testid="count-pending" class="count">2<"#), "{html}");
    assert!(!html.contains("Beta Barbers"), "{html}");

    let (_, summary) = answer::<Dashboard>(rpc::<Dashboard>(&base, Some(&ann)).await).await;
    assert_eq!(summary["organization"], "Alpha Salon");
    assert_eq!(summary["counts"]["pending"], 2);

    let log = answer::<AuditLog>(rpc::<AuditLog>(&base, Some(&ann)).await).await.1.to_string();
    assert!(!log.contains("bob@beta.example"), "nothing of org B: {log}");
});

on_both_backends!(the_sixth_failure_is_refused_per_account_and_per_address, |db| async move {
    let org_id = org(&db.store, "salon", "Salon").await;
    user(&db.store, org_id, "ann@example.com", Role::Admin).await;
    user(&db.store, org_id, "bea@example.com", Role::Viewer).await;
    user(&db.store, org_id, "cid@example.com", Role::Viewer).await;
    let base = serve(db.store.clone()).await;

    // Per account: five wrong passwords, then even the right one waits.
    for _ in 0..5 {
        assert_eq!(post_login(&base, "ann@example.com", "wrong password!", None).await.status(), StatusCode::SEE_OTHER);
    }
    let refused = post_login(&base, "ann@example.com", PASSWORD, None).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let text = refused.text().await.unwrap();
    assert!(text.contains("try again in 15 minutes"), "{text}");
    let actions: Vec<String> =
        db.store.audit_log(org_id, 50).await.unwrap().into_iter().map(|e| e.action.to_string()).collect();
    assert!(actions.iter().any(|a| a == "auth.throttled"), "{actions:?}");

    // Per address: that was already five failures from this address, so
    // another account is refused too...
    assert_eq!(post_login(&base, "bea@example.com", PASSWORD, None).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...and once the window is over, a successful login does not reset the
    // address's count for other accounts.
    db.store.clear_login_failures("ip:127.0.0.1").await.unwrap();
    for ghost in 1..=4 {
        post_login(&base, &format!("ghost{ghost}@example.com"), "whatever123", None).await;
    }
    assert_eq!(post_login(&base, "bea@example.com", PASSWORD, None).await.status(), StatusCode::SEE_OTHER);
    post_login(&base, "ghost5@example.com", "whatever123", None).await;
    assert_eq!(post_login(&base, "cid@example.com", PASSWORD, None).await.status(), StatusCode::TOO_MANY_REQUESTS);
});

on_both_backends!(cross_origin_state_changes_are_refused, |db| async move {
    let org_id = org(&db.store, "salon", "Salon").await;
    user(&db.store, org_id, "ann@example.com", Role::Admin).await;
    let base = serve(db.store.clone()).await;
    let cookie = login(&base, "ann@example.com").await;

    let evil = client()
        .post(format!("{base}/logout"))
        .header(ORIGIN, "http://evil.example")
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let sneaky = client()
        .post(format!("{base}{}", Dashboard::PATH))
        .header("sec-fetch-site", "cross-site")
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(sneaky.status(), StatusCode::FORBIDDEN);
    let login_csrf = client()
        .post(format!("{base}/login"))
        .header(ORIGIN, "http://evil.example")
        .form(&[("email", "ann@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login_csrf.status(), StatusCode::FORBIDDEN);
    // Cal.com's webhooks authenticate by signature, not by our cookie: the
    // cross-site check is not theirs to pass, the signature is.
    let webhook = client()
        .post(format!("{base}/webhooks/calcom/salon"))
        .header(ORIGIN, "http://evil.example")
        .header(COOKIE, &cookie)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.status(), StatusCode::UNAUTHORIZED, "refused for its signature");
    assert_eq!(get(&base, "/", Some(&cookie)).await.status(), StatusCode::OK, "still logged in");
});

fn calsync(url: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_calsync"));
    cmd.args(args)
        .env("DATABASE_URL", url)
        .env("CALSYNC_SECRET_KEY", hex_key())
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn hex_key() -> String {
    KEY.iter().map(|b| format!("{b:02x}")).collect()
}

on_both_backends!(cli_creates_accounts_and_seals_calcom_secrets_that_never_leak, |db| async move {
    const API_KEY: &str = "cal_live_SEEKRIT_0123456789";
    const WEBHOOK_SECRET: &str = "whsec_SEEKRIT_abcdef";
    let org_id = org(&db.store, "salon", "Salon").await;

    let short = calsync(
        &db.url,
        &["admin", "create", "--org", "salon", "--email", "a@example.com", "--name", "A"],
        "short\n",
        &[],
    );
    assert!(!short.status.success());
    let line = String::from_utf8_lossy(&short.stderr).trim().to_owned();
    assert_eq!(line, "error: password (standard input): must be at least 10 characters");

    let ok = calsync(
        &db.url,
        &["admin", "create", "--org", "salon", "--email", "ann@example.com", "--name", "Ann", "--role", "viewer"],
        &format!("{PASSWORD}\n"),
        &[],
    );
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let created = db.store.user_by_email("ann@example.com").await.unwrap().unwrap();
    assert_eq!(created.role, Role::Viewer);
    // Audited as the settings page's invitation is, naming the new account.
    let log = db.store.audit_log(org_id, 10).await.unwrap();
    let added = log.iter().find(|e| e.action.as_str() == "user.invite").expect("the new account is audited");
    assert_eq!(added.target.as_deref(), Some(format!("user:{}", created.id).as_str()));
    assert_eq!(added.detail.as_deref(), Some("ann@example.com invited as viewer by the command line"));
    let dup = calsync(
        &db.url,
        &["admin", "create", "--org", "salon", "--email", "ANN@example.com", "--name", "A"],
        PASSWORD,
        &[],
    );
    assert!(String::from_utf8_lossy(&dup.stderr).contains("exists"), "{dup:?}");

    // The webhook secret comes from the environment variable the flag names.
    let set_calcom = |secret_env: &str, stdin: &str, env: &[(&str, &str)]| {
        let args = ["org", "set-calcom", "--org", "salon", "--base-url", "https://api.cal.example"];
        calsync(&db.url, &[&args[..], &["--webhook-secret-env", secret_env]].concat(), stdin, env)
    };
    let set = set_calcom("CALCOM_WH", &format!("{API_KEY}\n"), &[("CALCOM_WH", WEBHOOK_SECRET)]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    let missing = set_calcom("NOPE_UNSET", API_KEY, &[]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NOPE_UNSET is not set"), "{missing:?}");
    for out in [&set, &missing] {
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains("SEEKRIT"), "the CLI never prints a secret: {all}");
    }

    let conn = db.store.calcom_connection(org_id).await.unwrap();
    let key = SecretKey::from_bytes(KEY);
    use engine::secrets::{open, Purpose};
    assert_eq!(conn.base_url, "https://api.cal.example");
    assert_eq!(open(&key, Purpose::CalcomApiKey(org_id), conn.api_key_sealed.as_deref().unwrap()).unwrap(), API_KEY);
    assert_eq!(
        open(&key, Purpose::WebhookSecret(org_id), conn.webhook_secret_sealed.as_deref().unwrap()).unwrap(),
        WEBHOOK_SECRET
    );

    user(&db.store, org_id, "admin@example.com", Role::Admin).await;
    let base = serve(db.store.clone()).await;
    let viewer = login(&base, "ann@example.com").await;
    let admin = login(&base, "admin@example.com").await;
    // Every page and answer that could show the connection, each checked to
    // have answered as it should: a refusal or a redirect would be scanned
    // for nothing.
    let mut bodies = Vec::new();
    for (cookie, admin) in [(&viewer, false), (&admin, true)] {
        let audit = if admin { StatusCode::OK } else { StatusCode::FORBIDDEN };
        let pages = [
            ("/", StatusCode::OK),
            ("/settings", StatusCode::OK),
            ("/audit", audit),
            ("/metrics", StatusCode::OK),
            ("/readyz", StatusCode::OK),
        ];
        for (path, expected) in pages {
            let response = get(&base, path, Some(cookie)).await;
            assert_eq!(response.status(), expected, "{path} (admin: {admin})");
            bodies.push(response.text().await.unwrap());
        }
        for ((status, body), expected, path) in [
            (answer::<Dashboard>(rpc::<Dashboard>(&base, Some(cookie)).await).await, StatusCode::OK, Dashboard::PATH),
            (answer::<AuditLog>(rpc::<AuditLog>(&base, Some(cookie)).await).await, audit, AuditLog::PATH),
        ] {
            assert_eq!(status, expected, "{path} (admin: {admin})");
            bodies.push(body.to_string());
        }
    }
    let settings = &bodies[5 + 2 + 1];
    assert!(settings.contains("https://api.cal.example"), "the admin's settings page shows the connection: {settings}");
    for body in &bodies {
        assert!(!body.contains("SEEKRIT"), "a secret in a response: {body}");
        assert!(!body.contains("argon2"), "a password hash in a response: {body}");
    }
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    assert!(logs.contains("logged in"), "the capture works");
    assert!(!logs.contains("SEEKRIT") && !logs.contains(PASSWORD), "a secret in the logs");
});

on_both_backends!(a_login_slides_with_activity_and_ends_at_its_limits, |db| async move {
    use std::time::Duration as Std;
    let org_id = org(&db.store, "salon", "Salon Schmidt").await;
    user(&db.store, org_id, "ann@example.com", Role::Admin).await;
    // Limits far apart from the test's own steps, and every step timed from
    // the login, so that a slow machine (a page taking a second) cannot turn
    // "active" into "idle": the loop only ends later, which proves more.
    let (idle, max) = (Std::from_millis(3000), Std::from_millis(7000));
    let policy = server::auth::SessionPolicy { idle, max };
    let base = serve_with(db.store.clone(), policy).await;
    let signed_in = |response: &Response| response.status() == StatusCode::OK;

    // Active every half second: still signed in well after the idle limit.
    let cookie = login(&base, "ann@example.com").await;
    let logged_in = std::time::Instant::now();
    let mut last_ok = Std::ZERO;
    while logged_in.elapsed() < Std::from_millis(4500) {
        let at = logged_in.elapsed();
        assert!(signed_in(&get(&base, "/account", Some(&cookie)).await), "activity keeps the login ({at:?} after it)");
        last_ok = at;
        tokio::time::sleep(Std::from_millis(500)).await;
    }
    assert!(last_ok > idle, "the login outlived its idle limit by being used: last check {last_ok:?} after login");
    // Past the absolute limit, however active.
    tokio::time::sleep((max + Std::from_millis(300)).saturating_sub(logged_in.elapsed())).await;
    assert_eq!(
        get(&base, "/account", Some(&cookie)).await.status(),
        StatusCode::SEE_OTHER,
        "seven seconds after login"
    );

    // Idle for longer than the idle limit.
    let cookie = login(&base, "ann@example.com").await;
    assert!(signed_in(&get(&base, "/account", Some(&cookie)).await));
    tokio::time::sleep(idle + Std::from_millis(400)).await;
    assert_eq!(get(&base, "/account", Some(&cookie)).await.status(), StatusCode::SEE_OTHER, "idle too long");
});
