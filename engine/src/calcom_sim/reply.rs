//! Cal.com's answer envelopes: `{"status": "success", "data": …}` and
//! `{"status": "error", "error": {"code", "message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::calcom::model::{ApiError, Envelope, ErrorEnvelope, PagedEnvelope, STATUS_ERROR, STATUS_SUCCESS};

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

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let body = ErrorEnvelope {
            status: STATUS_ERROR.into(),
            timestamp: None,
            path: None,
            error: ApiError { code: self.code.into(), message: self.message },
        };
        (self.status, Json(body)).into_response()
    }
}

pub(crate) fn success<T: Serialize>(status: StatusCode, data: T) -> Response {
    (status, Json(Envelope { status: STATUS_SUCCESS.into(), data })).into_response()
}

pub(crate) fn paged<T: Serialize, P: Serialize>(data: Vec<T>, pagination: P) -> Response {
    Json(PagedEnvelope { status: STATUS_SUCCESS.into(), data, pagination }).into_response()
}
