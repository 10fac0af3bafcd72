//! The REST API under /api/v1, authenticated by per-organization bearer
//! tokens, documented at /api/v1/openapi.json. Every answer, errors
//! included, is JSON.

mod appointments;
mod auth;
mod error;
mod extract;
mod openapi;
mod schema;
mod sync;

use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::routing::{any, get};
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::commands::AppState;

pub const PREFIX: &str = "/api/v1";

/// The API's routes with their full paths, ready to merge into the app.
pub fn router() -> Router<AppState> {
    let (routes, doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest(
            PREFIX,
            OpenApiRouter::new()
                .routes(routes!(appointments::create, appointments::list))
                .routes(routes!(appointments::get_one, appointments::update))
                .routes(routes!(appointments::verify))
                .routes(routes!(sync::summary)),
        )
        .split_for_parts();
    let json: Arc<str> = openapi_json(&doc).into();
    routes
        .route(
            &format!("{PREFIX}/openapi.json"),
            get(move || {
                let json = json.clone();
                async move { ([(CONTENT_TYPE, "application/json")], json.to_string()) }
            }),
        )
        // Wrong method or unknown path below the prefix: JSON, not axum's
        // empty 405 or the HTML page of the app's fallback.
        .route(&format!("{PREFIX}/{{*rest}}"), any(error::no_such_endpoint))
        .route(PREFIX, any(error::no_such_endpoint))
        .method_not_allowed_fallback(error::method_not_allowed)
}

/// The document as served. Serialising it cannot fail (it holds only
/// strings, numbers and maps), but if it did, say so rather than panic.
pub fn openapi_json(doc: &utoipa::openapi::OpenApi) -> String {
    doc.to_pretty_json().unwrap_or_else(|e| format!("{{\"error\":\"internal\",\"message\":\"{e}\"}}"))
}
