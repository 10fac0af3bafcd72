//! The HTTP surface besides Leptos' pages: health checks and the layers
//! every request passes through (request ids, tracing).

mod health;
pub mod metrics;
mod request_id;

use axum::routing::get;
use axum::Router;

use crate::commands::AppState;

pub use request_id::middleware;

pub fn router(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
}
