//! One module per screen.

pub mod dashboard;
pub mod not_found;
