//! Appointments as they arrive from outside (REST API, imports): validation
//! of untrusted input into the store's typed `NewAppointment`.

mod input;

pub use input::{patterns, validate_new, FieldError, FieldErrors, KNOWN_FIELDS, LIMITS};
