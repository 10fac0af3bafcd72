//! The one error type every server function returns. It crosses the wire
//! typed (in postcard, like the answers: JSON here would keep serde_json's
//! reader, and with it float formatting for its error messages, in the WASM
//! every page loads), so the browser can tell "log in again" from "not
//! allowed" from "this field is wrong" and show words instead of a stack
//! trace.

use leptos::server_fn::codec::PostcardEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please log in.")]
    Unauthenticated,
    #[error("You are not allowed to do this.")]
    Forbidden,
    #[error("{0} not found.")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// Something failed on the server; the details are in the server log
    /// under the request id, never in the browser.
    #[error("Something went wrong on the server. Please try again.")]
    Internal,
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    /// "This field is wrong": a 422, shown next to the field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid { field: field.into(), message: message.into() }.with_status()
    }

    /// The request is sound but the state of things refuses it: a 409.
    pub fn conflict(message: impl Into<String>) -> AppError {
        AppError::Conflict(message.into()).with_status()
    }

    /// `what` (capitalized, "Appointment") does not exist here: a 404.
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::NotFound(what.into()).with_status()
    }

    /// The HTTP status that goes with the error, so that logs, proxies and
    /// scripts see a user's typo as a 4xx and only a real fault as a 5xx.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Invalid { .. } => 422,
            AppError::Internal => 500,
            AppError::Transport(_) => 502,
        }
    }

    /// Sets [`AppError::status`] on the server function's response; a no-op
    /// in the browser and outside a request.
    pub fn with_status(self) -> AppError {
        let status = self.status();
        self.with_http_status(status)
    }

    #[cfg_attr(not(feature = "ssr"), allow(unused_variables))]
    fn with_http_status(self, status: u16) -> AppError {
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(status) {
                response.set_status(status);
            }
        }
        self
    }
}

impl FromServerFnError for AppError {
    type Encoder = PostcardEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

/// An operation's refusal in the browser's terms, with the status
/// `OpError::status` gives it (the one mapping, shared with the REST API).
#[cfg(feature = "ssr")]
impl From<engine::ops::OpError> for AppError {
    fn from(err: engine::ops::OpError) -> Self {
        use engine::ops::OpError;
        let status = err.status();
        let error = match err {
            OpError::Invalid { field, message } => AppError::Invalid { field: field.to_owned(), message },
            // A form shows one field's error at a time: the first.
            OpError::Fields(errors) => match errors.errors.into_iter().next() {
                Some(first) => AppError::Invalid { field: first.field, message: first.message },
                None => AppError::Invalid { field: String::new(), message: "is invalid".into() },
            },
            OpError::Malformed(message) => AppError::Invalid { field: String::new(), message },
            OpError::Unauthenticated(_) => AppError::Unauthenticated,
            OpError::Forbidden => AppError::Forbidden,
            OpError::NotFound(what) => AppError::NotFound(capitalize(what)),
            OpError::Conflict(message) => AppError::Conflict(message),
            OpError::Internal(cause) => {
                tracing::error!(error = %cause, "operation failed in server function");
                AppError::Internal
            }
        };
        error.with_http_status(status)
    }
}

#[cfg(feature = "ssr")]
fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
