//! The one error type every server function returns. It crosses the wire as
//! JSON, so the browser can tell "log in again" from "not allowed" from
//! "this field is wrong" and show words instead of a stack trace.

use leptos::server_fn::codec::JsonEncoding;
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

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<engine::store::StoreError> for AppError {
    fn from(err: engine::store::StoreError) -> Self {
        use engine::store::StoreError;
        match err {
            StoreError::NotFound(what) => AppError::NotFound(capitalize(what)),
            StoreError::Conflict(message) => AppError::Conflict(message),
            other => {
                tracing::error!(error = %other, "store error in server function");
                AppError::Internal
            }
        }
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
