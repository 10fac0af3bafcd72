//! Helpers for the Cal.com client and simulator tests: a simulator per
//! test, a client for it, raw HTTP, and a webhook receiver.
#![allow(dead_code)]

use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use calcom_sim::{spawn, SimConfig, SimHandle};
use chrono::{DateTime, Utc};
use engine::calcom::{CalcomClient, ClientConfig};
use serde_json::Value;
use tokio::sync::mpsc;

pub const KEY: &str = calcom_sim::DEFAULT_API_KEY;
pub const VERSION: &str = "2024-08-13";

/// A simulator with Cal.com's defaults (key `cal_test_key`, 120/60 s).
pub async fn sim() -> SimHandle {
    sim_with(SimConfig::default()).await
}

pub async fn sim_with(config: SimConfig) -> SimHandle {
    spawn(config).await.expect("simulator starts")
}

/// A client for `sim` with short timeouts, so failures fail fast.
pub fn client(sim: &SimHandle) -> CalcomClient {
    client_with(sim, |_| {})
}

pub fn client_with(sim: &SimHandle, adjust: impl FnOnce(&mut ClientConfig)) -> CalcomClient {
    let mut config = sim.client_config();
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(5);
    adjust(&mut config);
    CalcomClient::new(config).expect("client builds")
}

/// `hours` after the simulator's now (bookings must not be in the past).
pub fn later(sim: &SimHandle, hours: i64) -> DateTime<Utc> {
    let now = sim.now();
    // Whole minutes, like real bookings.
    let now = DateTime::from_timestamp(now.timestamp() - now.timestamp() % 60, 0).expect("valid instant");
    now + chrono::Duration::hours(hours)
}

/// Raw HTTP against the simulator, for checking exact shapes.
pub struct Raw {
    pub http: reqwest::Client,
    pub base: String,
}

impl Raw {
    pub fn new(sim: &SimHandle) -> Raw {
        engine::calcom::ensure_crypto_provider();
        Raw { http: reqwest::Client::new(), base: sim.base_url.clone() }
    }

    /// GET with the right key and version.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .header("cal-api-version", VERSION)
            .send()
            .await
            .expect("simulator answers")
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .header("cal-api-version", VERSION)
            .json(&body)
            .send()
            .await
            .expect("simulator answers")
    }

    /// A control-API request (no key).
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("simulator answers")
    }
}

/// Status and JSON body.
pub async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// A webhook subscriber: where to send, and what arrived.
pub struct WebhookSink {
    pub url: String,
    pub received: mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
}

impl WebhookSink {
    pub async fn start() -> WebhookSink {
        let (tx, received) = mpsc::unbounded_channel();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((headers, body));
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        WebhookSink { url, received }
    }

    /// The next delivery, or a panic after 5 s.
    pub async fn next(&mut self) -> (HeaderMap, Bytes) {
        tokio::time::timeout(Duration::from_secs(5), self.received.recv())
            .await
            .expect("a webhook within 5 s")
            .expect("sink open")
    }

    /// Asserts that nothing arrives for a while.
    pub async fn assert_quiet(&mut self, wait: Duration) {
        if let Ok(Some((_, body))) = tokio::time::timeout(wait, self.received.recv()).await {
            panic!("unexpected webhook: {}", String::from_utf8_lossy(&body));
        }
    }
}
