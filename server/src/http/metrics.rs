//! Prometheus `/metrics`: counters and histograms recorded by the engine,
//! plus gauges read at scrape time (circuit state, open issues by code).
//! If `CALSYNC_METRICS_TOKEN` is set, scrapers must send it as a bearer token.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// The process-wide recorder: installed once, however many apps (tests) are built.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
                .unwrap_or_else(|_| PrometheusBuilder::new())
                .build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Who may read `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone who can connect: only when calsync listens on loopback.
    Open,
    /// Scrapers that send this bearer token.
    Token(std::sync::Arc<str>),
    /// Nobody: a non-loopback address without a token.
    Closed,
}

impl MetricsAccess {
    /// Metrics name organizations and counts: open by default only to the
    /// machine itself.
    pub fn for_listener(token: Option<&str>, addr: std::net::SocketAddr) -> MetricsAccess {
        match token.filter(|t| !t.is_empty()) {
            Some(token) => MetricsAccess::Token(token.into()),
            None if addr.ip().is_loopback() => MetricsAccess::Open,
            None => MetricsAccess::Closed,
        }
    }
}

pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.metrics_access {
        MetricsAccess::Open => {}
        MetricsAccess::Token(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if given != Some(&**token) {
                return (StatusCode::UNAUTHORIZED, "metrics need the bearer token").into_response();
            }
        }
        MetricsAccess::Closed => {
            let why = "metrics are closed: calsync listens beyond loopback and CALSYNC_METRICS_TOKEN is not set";
            return (StatusCode::FORBIDDEN, why).into_response();
        }
    }
    // The recorder must exist before the gauges are set, or they go nowhere.
    let handle = handle();
    if let Err(err) = record_gauges(&state).await {
        tracing::warn!(error = %err, "metrics gauges unavailable");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
}

async fn record_gauges(state: &AppState) -> Result<(), engine::ops::OpError> {
    for (org, open) in state.ops.open_issues_everywhere().await? {
        let circuit = state.circuits.state(org.id);
        for name in ["closed", "open", "half_open"] {
            let value = if circuit.name() == name { 1.0 } else { 0.0 };
            metrics::gauge!("calsync_circuit_state", "org" => org.slug.clone(), "state" => name).set(value);
        }
        for (code, n) in open {
            metrics::gauge!("calsync_open_issues", "org" => org.slug.clone(), "code" => code.as_str()).set(n as f64);
        }
    }
    Ok(())
}
