//! What server tests share: the app served on a loopback port with an
//! organization, an admin and a viewer, a Cal.com simulator it is connected
//! to, and calls as a signed-in browser makes them (login form, server
//! functions, pages).

#![allow(dead_code)] // each test file uses its own part of this

use std::net::SocketAddr;

use calcom_sim::{spawn, SimConfig, SimHandle};
use chrono::{Duration, Utc};
use engine::domain::{AppointmentSource, AppointmentStatus, OrgId, Role};
use engine::secret_key::SecretKey;
use engine::secrets::{seal, Purpose};
use engine::store::{
    Appointment, CalcomConnectionUpdate, NewAppointment, NewOrganization, NewUser, Organization, Store,
};
use leptos::server_fn::ServerFn;
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use server::commands::without_nagle;
use server::router::build_app;
use server::state::AppState;

pub const PASSWORD: &str = "correct horse battery";
pub const ADMIN: &str = "jane@salon.de";
pub const VIEWER: &str = "vic@salon.de";

pub fn key() -> SecretKey {
    SecretKey::from_bytes([7; 32])
}

pub struct World {
    pub store: Store,
    pub org: Organization,
    pub sim: SimHandle,
    pub state: AppState,
    pub base: String,
    pub http: Client,
}

pub async fn org(store: &Store, slug: &str, name: &str) -> Organization {
    let new = NewOrganization { slug: slug.into(), name: name.into(), time_zone: chrono_tz::Europe::Berlin };
    store.create_organization(&new, Utc::now()).await.unwrap()
}

pub async fn user(store: &Store, org: OrgId, email: &str, name: &str, role: Role) {
    let password_hash = engine::password::hash(PASSWORD.into()).await.unwrap();
    let new = NewUser { email: email.into(), name: name.into(), role, password_hash };
    store.create_user(org, &new, Utc::now()).await.unwrap();
}

/// Connects `org` to the simulator with its valid key.
pub async fn connect(store: &Store, org: OrgId, sim: &SimHandle) {
    let update = CalcomConnectionUpdate {
        base_url: Some(sim.base_url.clone()),
        api_key_sealed: Some(seal(&key(), Purpose::CalcomApiKey(org), sim.api_key().expose())),
        webhook_secret_sealed: None,
        event_type_id: Some(1),
    };
    store.update_calcom_connection(org, &update, Utc::now()).await.unwrap();
}

/// The app serving "Salon Schmidt" (connected to a fresh simulator) with
/// Jane Admin and Vic Viewer.
pub async fn world(store: Store) -> World {
    engine::calcom::ensure_crypto_provider();
    let org = org(&store, "salon", "Salon Schmidt").await;
    user(&store, org.id, ADMIN, "Jane Admin", Role::Admin).await;
    user(&store, org.id, VIEWER, "Vic Viewer", Role::Viewer).await;
    let sim = spawn(SimConfig::default()).await.unwrap();
    connect(&store, org.id, &sim).await;
    let org = store.organization(org.id).await.unwrap();

    let (state, base) = spawn_app_with(store.clone(), key(), |_| {}).await;
    World { store, org, sim, state, base, http: client() }
}

/// The files the server serves to anyone: `public/` as the build copies it
/// (the build's `/pkg/` is not needed by these tests).
pub const SITE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../public");

/// The app as `calsync serve` builds it, served on a free loopback port
/// from a task of the test's runtime; returns its base URL.
pub async fn spawn_app(store: Store) -> String {
    spawn_app_with(store, key(), |_| {}).await.1
}

/// `spawn_app` with another secret key and the state adjusted first (a
/// session policy, say); returns the state it serves too.
pub async fn spawn_app_with(store: Store, key: SecretKey, adjust: impl FnOnce(&mut AppState)) -> (AppState, String) {
    engine::calcom::ensure_crypto_provider();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let mut state = AppState::new(store, key, &format!("http://{addr}"), SITE_ROOT, addr);
    adjust(&mut state);
    let app = build_app(state.clone());
    tokio::spawn(async move {
        axum::serve(without_nagle(listener), app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    (state, format!("http://{addr}"))
}

/// A client as a test wants it: redirects shown, not followed, and a bound
/// on every request, so a server that never answers fails the request that
/// waited instead of hanging the test binary.
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Signs in through the login form as a browser does; returns the session
/// cookie to send back.
pub async fn login(base: &str, email: &str, password: &str) -> String {
    let response = client()
        .post(format!("{base}/login"))
        .header(ORIGIN, base)
        .form(&[("email", email), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "logging in as {email}");
    session_cookie(&response).expect("a session cookie")
}

/// A server function's answer as the browser reads it, shown as JSON for
/// assertions. Answers and errors travel in postcard: on success the
/// function's output, otherwise its error (`AppError`); a body that is no
/// such error (a refusal by a layer in front of the server functions) comes
/// back as its text.
pub async fn answer<F: ServerFn>(response: reqwest::Response) -> (StatusCode, Value)
where
    F::Output: DeserializeOwned + Serialize,
    F::Error: DeserializeOwned + Serialize,
{
    let status = response.status();
    let body = response.bytes().await.unwrap();
    if status.is_success() {
        let output: F::Output = postcard::from_bytes(&body).unwrap_or_else(|err| {
            panic!("{} answered {status} with no {}: {err}", F::PATH, std::any::type_name::<F::Output>())
        });
        return (status, serde_json::to_value(output).unwrap());
    }
    match postcard::from_bytes::<F::Error>(&body) {
        Ok(error) => (status, serde_json::to_value(error).unwrap()),
        Err(_) => (status, Value::String(String::from_utf8_lossy(&body).into_owned())),
    }
}

/// What to send back as `Cookie` after a login response: its
/// `calsync_session=…` pair without the attributes, if it set one.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    let set = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("calsync_session="))?;
    set.split(';').next().map(str::to_owned)
}

impl World {
    /// Signs in through the login form; returns the session cookie.
    pub async fn login(&self, email: &str) -> String {
        login(&self.base, email, PASSWORD).await
    }

    /// Calls a server function with JSON arguments, as the browser does.
    pub async fn rpc<F: ServerFn>(&self, cookie: &str, args: Value) -> (StatusCode, Value)
    where
        F::Output: DeserializeOwned + Serialize,
        F::Error: DeserializeOwned + Serialize,
    {
        let response = self
            .http
            .post(format!("{}{}", self.base, F::PATH))
            .header(ORIGIN, &self.base)
            .header(COOKIE, cookie)
            .json(&args)
            .send()
            .await
            .unwrap();
        answer::<F>(response).await
    }

    /// A server-rendered page. A body that stops moving for 15 s fails the
    /// test (a hung render is a defect, never retried around; the server's
    /// own stall guard would cut it after 30 s).
    pub async fn page(&self, cookie: &str, path: &str) -> (StatusCode, String) {
        let mut response = self.http.get(format!("{}{path}", self.base)).header(COOKIE, cookie).send().await.unwrap();
        let status = response.status();
        // Read chunk by chunk so that a stalled stream shows how far it got.
        let mut got = Vec::new();
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(15), response.chunk()).await {
                Ok(Ok(Some(c))) => got.extend_from_slice(&c),
                Ok(Ok(None)) => return (status, String::from_utf8(got).unwrap()),
                Ok(Err(e)) => panic!("reading {path}: {e}"),
                Err(_) => panic!(
                    "the server-rendered {path} stalled mid-body after {} bytes{}:\n{}",
                    got.len(),
                    stall_dump(),
                    String::from_utf8_lossy(&got)
                ),
            }
        }
    }
}
/// When a page stalls: every thread's stack of this process (the server
/// runs in it), written by gdb if the machine has it, so a stall seen once
/// in CI can be told apart as a blocked thread or a lost wake-up. Returns
/// where the stacks went, for the failure message.
fn stall_dump() -> String {
    let pid = std::process::id();
    let file = std::env::temp_dir().join(format!("calsync-stall-{pid}.txt"));
    let stacks = std::process::Command::new("gdb")
        .args(["-p", &pid.to_string(), "-batch", "-ex", "thread apply all bt"])
        .output();
    match stacks {
        Ok(out) if std::fs::write(&file, [&out.stdout[..], &out.stderr[..]].concat()).is_ok() => {
            format!(" (thread stacks in {})", file.display())
        }
        _ => String::new(),
    }
}

impl World {
    /// An appointment `days` ahead at 08:00 UTC, linked to `uid` if given.
    pub async fn appointment(&self, org: OrgId, name: &str, uid: Option<&str>, days: i64) -> Appointment {
        let starts_at = (Utc::now() + Duration::days(days)).date_naive().and_hms_opt(8, 0, 0).unwrap().and_utc();
        let new = NewAppointment {
            external_id: None,
            customer_name: name.into(),
            customer_email: Some(format!("{}@example.com", name.to_lowercase().replace(' ', "."))),
            customer_phone: None,
            service: "Herrenschnitt".into(),
            starts_at,
            ends_at: starts_at + Duration::minutes(30),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Retell,
            calcom_booking_uid: uid.map(Into::into),
            calcom_event_type_id: Some(1),
        };
        self.store.insert_appointment(org, &new, "test", Utc::now()).await.unwrap()
    }
}
