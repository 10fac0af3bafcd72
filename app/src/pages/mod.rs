//! One module per screen.

pub mod account;
pub mod appointments;
pub mod audit;
pub mod dashboard;
pub mod deliveries;
pub mod login;
pub mod metrics;
pub mod not_found;
pub mod notifications;
pub mod queue;
pub mod queue_groups;
pub mod review;
pub mod run;
pub mod runs;
pub mod settings;
