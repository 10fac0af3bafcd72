//! Server functions: the browser's only way to ask the server anything.
//! Each checks who is asking (`context::require_user` / `require_admin`)
//! and reads only that user's organization.

pub mod account;
pub mod alerts;
pub mod answer;
pub mod appointments;
pub mod audit;
pub mod dashboard;
pub mod deliveries;
pub mod metrics;
pub mod notifications;
pub mod resolve;
pub mod runs;
pub mod session;
pub mod settings;
pub mod triage;
