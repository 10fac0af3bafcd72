//! The HTTP surface besides Leptos' pages: health checks, metrics, Cal.com
//! webhooks, and the layers every request passes through (request ids,
//! tracing).

mod export;
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

use crate::commands::AppState;

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
        .route("/appointments.csv", get(export::appointments_csv))
}
