//! Cal.com's answer envelopes: `{"status": "success", "data": …}` and
//! `{"status": "error", "timestamp", "path", "error": {"code", "message",
//! "details"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use engine::calcom::model::{ApiError, Envelope, ErrorEnvelope, PagedEnvelope, STATUS_ERROR, STATUS_SUCCESS};

/// A refusal, rendered as Cal.com's error envelope. Codes are the NestJS
/// exception names Cal.com uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiFailure {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiFailure {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiFailure {
        ApiFailure { status, code, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::BAD_REQUEST, "BadRequestException", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::NOT_FOUND, "NotFoundException", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::UNAUTHORIZED, "UnauthorizedException", message)
    }

    pub fn too_many_requests() -> ApiFailure {
        ApiFailure::new(StatusCode::TOO_MANY_REQUESTS, "ThrottlerException", "Too Many Requests")
    }

    pub fn server(status: StatusCode) -> ApiFailure {
        let code = match status {
            StatusCode::BAD_GATEWAY => "BadGatewayException",
            StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailableException",
            StatusCode::GATEWAY_TIMEOUT => "GatewayTimeoutException",
            _ => "InternalServerErrorException",
        };
        ApiFailure::new(status, code, status.canonical_reason().unwrap_or("Server error"))
    }

    pub fn booking_not_found(uid: &str) -> ApiFailure {
        ApiFailure::not_found(format!("Booking with uid={uid} was not found in the database"))
    }
}

impl ApiFailure {
    /// Cal.com's error envelope (NestJS's `HttpException` details included).
    fn envelope(&self, path: Option<&str>, at: Option<DateTime<Utc>>) -> ErrorEnvelope {
        let details = json!({
            "message": self.message,
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "statusCode": self.status.as_u16(),
        });
        ErrorEnvelope {
            status: STATUS_ERROR.into(),
            timestamp: at,
            path: path.map(str::to_owned),
            error: ApiError { code: self.code.into(), message: self.message.clone(), details: Some(details) },
        }
    }
}

impl IntoResponse for ApiFailure {
    /// Without the request at hand: the gate (or the router's error layer)
    /// fills in when and where, from the failure kept in the extensions.
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.envelope(None, None))).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Adds `timestamp` and `path` to an error envelope, as Cal.com sends them.
pub(crate) fn complete_error(mut response: Response, path: &str, now: DateTime<Utc>) -> Response {
    let Some(failure) = response.extensions_mut().remove::<ApiFailure>() else { return response };
    let mut completed = (failure.status, Json(failure.envelope(Some(path), Some(now)))).into_response();
    // Keep what the gate set (Date, rate-limit headers), not the old body's length.
    std::mem::swap(completed.headers_mut(), response.headers_mut());
    completed.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
    completed
        .headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    completed
}

pub(crate) fn success<T: Serialize>(status: StatusCode, data: T) -> Response {
    (status, Json(Envelope { status: STATUS_SUCCESS.into(), data })).into_response()
}

pub(crate) fn paged<T: Serialize, P: Serialize>(data: Vec<T>, pagination: P) -> Response {
    Json(PagedEnvelope { status: STATUS_SUCCESS.into(), data, pagination }).into_response()
}
