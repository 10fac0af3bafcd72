//! The one error of an operation, and the one place that says which HTTP
//! status each kind is. Server functions, the REST API and the webhook
//! receiver all answer with [`OpError::status`]; the command line prints
//! the same words.

use crate::appointments::FieldErrors;
use crate::domain::Invalid;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// A typed value breaks its rule; `field` is the input's name
    /// (`email`, `base_url`), which each adapter spells its own way
    /// (a form field, a JSON member, `--base-url`).
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// Several fields of one input are wrong, each named (an appointment's
    /// JSON: a client fixes its request in one go).
    #[error("{0}")]
    Fields(FieldErrors),
    /// Who is asking could not be established (a missing or wrong webhook
    /// signature); the words say what to fix, never a secret.
    #[error("{0}")]
    Unauthenticated(String),
    /// The request cannot be read at all (a body that is not JSON).
    #[error("{0}")]
    Malformed(String),
    /// The actor may not do this (a viewer changing settings).
    #[error("not allowed")]
    Forbidden,
    /// Absent, or another organization's: the two must look the same.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is sound but the state of things refuses it (someone was
    /// quicker, a duplicate, your own account).
    #[error("{0}")]
    Conflict(String),
    /// Our fault: logged in full by the adapter, never shown.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl OpError {
    /// `field` breaks the rule `invalid` states.
    pub fn invalid(field: &'static str, invalid: Invalid) -> OpError {
        OpError::Invalid { field, message: invalid.rule.to_owned() }
    }

    /// `field` is wrong, in these words.
    pub fn field(field: &'static str, message: impl Into<String>) -> OpError {
        OpError::Invalid { field, message: message.into() }
    }

    /// The HTTP status of this error, for every adapter that speaks HTTP:
    /// a person's mistake is a 4xx, only our own fault a 5xx.
    pub fn status(&self) -> u16 {
        match self {
            OpError::Invalid { .. } | OpError::Fields(_) => 422,
            OpError::Malformed(_) => 400,
            OpError::Unauthenticated(_) => 401,
            OpError::Forbidden => 403,
            OpError::NotFound(_) => 404,
            OpError::Conflict(_) => 409,
            OpError::Internal(_) => 500,
        }
    }
}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> OpError {
        match e {
            StoreError::NotFound(what) => OpError::NotFound(what),
            StoreError::Conflict(why) => OpError::Conflict(why),
            other => OpError::Internal(Box::new(other)),
        }
    }
}

/// Parses a typed input, naming the field when it is refused.
pub(crate) fn parse<T>(field: &'static str, parsed: Result<T, Invalid>) -> Result<T, OpError> {
    parsed.map_err(|invalid| OpError::invalid(field, invalid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persons_mistake_is_a_4xx_and_our_fault_a_5xx() {
        assert_eq!(OpError::field("email", "bad").status(), 422);
        assert_eq!(OpError::Malformed("not JSON".into()).status(), 400);
        assert_eq!(OpError::Unauthenticated("bad signature".into()).status(), 401);
        assert_eq!(OpError::Forbidden.status(), 403);
        assert_eq!(OpError::from(StoreError::NotFound("user")).status(), 404);
        assert_eq!(OpError::from(StoreError::Conflict("taken".into())).status(), 409);
        assert_eq!(OpError::from(StoreError::Invalid("x".into())).status(), 500);
    }
}
