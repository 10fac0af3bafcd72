//! Appointments as they arrive from outside (REST API, imports): validation
//! of untrusted input into the store's typed `NewAppointment`.

mod input;

pub use input::{validate_new, FieldError, FieldErrors, LIMITS};
