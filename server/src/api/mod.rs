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

use crate::state::AppState;

pub const PREFIX: &str = "/api/v1";

/// The routes under /api/v1 and the OpenAPI document they make.
fn documented_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest(
            PREFIX,
            OpenApiRouter::new()
                .routes(routes!(appointments::create, appointments::list))
                .routes(routes!(appointments::get_one, appointments::update))
                .routes(routes!(appointments::verify))
                .routes(routes!(sync::summary)),
        )
        .split_for_parts();
    openapi::finish(&mut doc);
    (routes, doc)
}

/// The OpenAPI document as served at /api/v1/openapi.json.
pub fn document() -> utoipa::openapi::OpenApi {
    documented_routes().1
}

/// The API's routes with their full paths, ready to merge into the app.
pub fn router() -> Router<AppState> {
    let (routes, doc) = documented_routes();
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
    let json = serde_json::to_value(doc).map(|mut value| {
        camel_case_links(&mut value);
        value
    });
    json.and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|e| format!("{{\"error\":\"internal\",\"message\":\"{e}\"}}"))
}

/// utoipa 5 writes a Link's fields in snake case (`operation_id`); OpenAPI
/// spells them `operationId`, `operationRef` and `requestBody`.
fn camel_case_links(doc: &mut serde_json::Value) {
    let operations = doc["paths"].as_object_mut().into_iter().flat_map(|paths| paths.values_mut());
    let operations = operations.filter_map(|item| item.as_object_mut()).flat_map(|item| item.values_mut());
    for operation in operations {
        let Some(responses) = operation.get_mut("responses").and_then(|r| r.as_object_mut()) else { continue };
        for response in responses.values_mut() {
            let Some(links) = response.get_mut("links").and_then(|l| l.as_object_mut()) else { continue };
            for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                for (snake, camel) in [
                    ("operation_id", "operationId"),
                    ("operation_ref", "operationRef"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(value) = link.remove(snake) {
                        link.insert(camel.to_owned(), value);
                    }
                }
            }
        }
    }
}
