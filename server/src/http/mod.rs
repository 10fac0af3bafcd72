//! The HTTP surface besides Leptos' pages: health checks, metrics, Cal.com
//! webhooks, the CSV export, and the layers requests pass through (request
//! ids, tracing, time limit, stall guard). `server::router` puts them in
//! their route groups.

pub mod export;
mod health;
pub mod metrics;
pub mod render_threads;
mod request_id;
pub mod stall_guard;
pub mod static_files;
pub mod timeout;
mod webhooks;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use request_id::middleware;

pub fn router(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .route(
            "/webhooks/calcom/{org}",
            post(webhooks::receive).layer(axum::extract::DefaultBodyLimit::max(webhooks::MAX_BODY)),
        )
}
