//! Every failure of the REST API as one JSON shape, so clients parse errors
//! the same way everywhere and never see axum's plain-text rejections:
//! `{"error": "<code>", "message": "<words>", "fields": [{"field", "message"}]}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::appointments::{FieldError, FieldErrors};
use engine::ops::OpError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No, a malformed, an unknown or a revoked bearer token.
    #[error("a valid API token is required: send `Authorization: Bearer <token>`")]
    Unauthorized,
    /// The request cannot be read at all.
    #[error("{0}")]
    BadRequest(String),
    /// Absent, or another organization's: the two must look the same.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The token may not do this.
    #[error("this API token may not do this")]
    Forbidden,
    #[error("{0}")]
    InvalidInput(FieldErrors),
    #[error("the request body must be JSON, sent with `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// Logged in full; the client only learns that it was our fault.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// One bad field.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::InvalidInput(FieldErrors {
            errors: vec![FieldError { field: field.to_owned(), message: message.into() }],
        })
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::InvalidInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::NotFound(_) => "not_found",
            ApiError::Forbidden => "forbidden",
            ApiError::InvalidInput(_) => "invalid_input",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::Internal(_) => "internal",
        }
    }
}

/// An operation's refusal as the API says it; the status is the one
/// `OpError::status` gives (checked by a test below).
impl From<OpError> for ApiError {
    fn from(e: OpError) -> ApiError {
        match e {
            OpError::Invalid { field, message } => ApiError::field(field, message),
            OpError::Fields(errors) => ApiError::InvalidInput(errors),
            OpError::Malformed(why) => ApiError::BadRequest(why),
            // A bearer token's refusal never says why (no oracle for guessing).
            OpError::Unauthenticated(_) => ApiError::Unauthorized,
            OpError::Forbidden => ApiError::Forbidden,
            OpError::NotFound(what) => ApiError::NotFound(what),
            OpError::Conflict(why) => ApiError::Conflict(why),
            OpError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> ApiError {
        ApiError::InvalidInput(e)
    }
}

/// The error body, as documented in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable: unauthorized, bad_request, forbidden, not_found, invalid_input,
    /// unsupported_media_type, payload_too_large, method_not_allowed, conflict, internal.
    #[schema(example = "invalid_input")]
    pub error: &'static str,
    /// For people.
    pub message: String,
    /// With `invalid_input`: every bad field, at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    #[schema(example = "ends_at")]
    pub field: String,
    #[schema(example = "must be after starts_at")]
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "REST API request failed");
        }
        let fields = match &self {
            ApiError::InvalidInput(errors) => errors
                .errors
                .iter()
                .map(|e| FieldErrorBody { field: e.field.clone(), message: e.message.clone() })
                .collect(),
            _ => Vec::new(),
        };
        let message = match &self {
            ApiError::InvalidInput(_) => "the request has invalid fields".to_owned(),
            other => other.to_string(),
        };
        let body = ErrorBody { error: self.code(), message, fields };
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"calsync\""));
        }
        response
    }
}

/// For paths under /api/v1 that name no endpoint.
pub async fn no_such_endpoint() -> ApiError {
    ApiError::NotFound("endpoint")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operations_refusal_keeps_its_status() {
        let refusals = [
            OpError::field("email", "bad"),
            OpError::Fields(FieldErrors::default()),
            OpError::Malformed("not JSON".into()),
            OpError::Unauthenticated("bad signature".into()),
            OpError::Forbidden,
            OpError::NotFound("appointment"),
            OpError::Conflict("taken".into()),
            OpError::Internal("boom".into()),
        ];
        for refusal in refusals {
            let status = refusal.status();
            assert_eq!(ApiError::from(refusal).status().as_u16(), status);
        }
    }
}
