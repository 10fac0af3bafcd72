//! Body, path and query extractors whose every rejection is an `ApiError`
//! (JSON, 4xx) instead of axum's plain-text answers.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// A JSON body as an untyped value: validation then names every bad field
/// at once (`engine::appointments`), which serde's first-error-wins cannot.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<JsonBody, ApiError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::field("body", "could not be read")
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::field("body", format!("is not valid JSON: {e}")))
    }
}

/// An appointment id from the path. Not a positive integer (ids start at 1)
/// is invalid input; a number that names nothing is left to the handler's 404.
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<IdPath, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_: PathRejection| ApiError::field("id", "must be an appointment id"))?;
        match raw.parse::<i64>() {
            Ok(id) if id >= 1 => Ok(IdPath(id)),
            _ => Err(ApiError::field("id", "must be a positive integer appointment id")),
        }
    }
}

/// Query parameters into `T`; unknown or repeated parameters are named.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<QueryParams<T>, ApiError> {
        Query::<T>::from_request_parts(parts, state).await.map(|Query(q)| QueryParams(q)).map_err(
            |e: QueryRejection| {
                // The rejection's text quotes serde ("unknown field `x`, expected …").
                let detail = e.body_text();
                let detail = detail.strip_prefix("Failed to deserialize query string: ").unwrap_or(&detail);
                ApiError::field("query", detail.to_owned())
            },
        )
    }
}
