//! calsync served on a loopback port, as a browser meets it: an admin
//! signed in through the login form, pages rendered on the server, the
//! live-updates stream, and load from `wrk` in a separate process.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::Utc;
use engine::domain::{OrgId, Role};
use engine::secret_key::SecretKey;
use engine::store::{NewUser, Store};
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Client, Response};
use server::commands::without_nagle;
use server::live::Summary;
use server::router::build_app;
use server::state::AppState;

const EMAIL: &str = "bench@calsync.invalid";
const PASSWORD: &str = "benchmark password";

pub fn key() -> SecretKey {
    SecretKey::from_bytes([9; 32])
}

/// The same key as `CALSYNC_SECRET_KEY` spells it (hex), for what runs as
/// a `calsync` command or process.
pub fn key_hex() -> String {
    key().as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

pub struct Site {
    pub base: String,
    http: Client,
    cookie: String,
    /// Keeps the webhook inbox worker running while the site is.
    _inbox: tokio::sync::watch::Sender<bool>,
}

impl Site {
    /// Serves `store` and signs in an admin of `org` created for the purpose.
    pub async fn serve(store: Store, org: OrgId) -> Result<Site> {
        let password_hash = engine::password::hash(PASSWORD.into()).await?;
        let admin = NewUser { email: EMAIL.into(), name: "Bench Admin".into(), role: Role::Admin, password_hash };
        store.create_user(org, &admin, Utc::now()).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let state = AppState::new(store, key(), &base, "target/site", addr);
        let app = build_app(state.clone());
        // Webhooks land in the inbox; as in `calsync serve`, a worker acts on them.
        let (inbox, stopped) = tokio::sync::watch::channel(false);
        let worker = std::sync::Arc::new(state.worker(std::time::Duration::from_secs(60)));
        server::workers::spawn_inbox(worker, state.wake_inbox.clone(), state.live.clone(), stopped);
        tokio::spawn(async move {
            axum::serve(without_nagle(listener), app.into_make_service_with_connect_info::<SocketAddr>()).await
        });
        let http = Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let cookie = sign_in(&http, &base).await?;
        Ok(Site { base, http, cookie, _inbox: inbox })
    }

    pub fn http(&self) -> &Client {
        &self.http
    }

    /// The signed-in admin's `Cookie` header.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// Latency of a server-rendered page over `samples` sequential requests:
    /// (p50, p99) in ms.
    pub async fn page_latency_ms(&self, path: &str, samples: usize) -> Result<(f64, f64)> {
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let started = Instant::now();
            let response = self.http.get(format!("{}{path}", self.base)).header(COOKIE, &self.cookie).send().await?;
            let status = response.status();
            response.bytes().await?;
            if !status.is_success() {
                bail!("GET {path}: {status}");
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        Ok((percentile(&mut times, 50), percentile(&mut times, 99)))
    }

    /// Requests per second `wrk` reaches on `path` (2 threads, 16
    /// connections, `seconds` long), or why it could not be measured.
    pub fn wrk_requests_per_second(&self, path: &str, seconds: u64) -> Result<f64> {
        let output = Command::new("wrk")
            .args(["-t2", "-c16", &format!("-d{seconds}s"), "--latency"])
            .args(["-H", &format!("Cookie: {}", self.cookie)])
            .arg(format!("{}{path}", self.base))
            .output()
            .context("wrk is not installed (scripts/setup --bench installs it)")?;
        let text = String::from_utf8_lossy(&output.stdout);
        if text.contains("Non-2xx or 3xx responses") {
            bail!("wrk saw error responses:\n{text}");
        }
        text.lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))
    }

    /// The live-updates stream, as an open page holds it.
    pub async fn events(&self) -> Result<Events> {
        let response = self.http.get(format!("{}/events", self.base)).header(COOKIE, &self.cookie).send().await?;
        if !response.status().is_success() {
            bail!("GET /events: {}", response.status());
        }
        Ok(Events { response, buffer: String::new() })
    }
}

async fn sign_in(http: &Client, base: &str) -> Result<String> {
    let form = format!("email={}&password={}&next=%2F", EMAIL.replace('@', "%40"), PASSWORD.replace(' ', "+"));
    let response = http
        .post(format!("{base}/login"))
        .header(ORIGIN, base)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await?;
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("calsync_session="))
        .with_context(|| format!("login refused: {}", response.status()))?;
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}

pub struct Events {
    response: Response,
    buffer: String,
}

impl Events {
    /// The next summary event, waiting at most `within`.
    pub async fn next(&mut self, within: Duration) -> Result<Summary> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return Ok(serde_json::from_str(data)?);
                }
                continue; // a keep-alive comment
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .context("no live update in time")??
                .context("the live-updates stream ended")?;
            self.buffer.push_str(std::str::from_utf8(&chunk)?);
        }
    }
}

/// The `p`th percentile of `values` (sorted in place).
pub fn percentile(values: &mut [f64], p: usize) -> f64 {
    values.sort_by(f64::total_cmp);
    values[(values.len() * p / 100).min(values.len() - 1)]
}
