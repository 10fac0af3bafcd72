//! Verification: deciding what an appointment's state is from what Cal.com
//! answered. The rules are pure functions (no I/O), so every rule of the
//! spec is tested directly:
//! - `ladder`: when the next attempt is due (immediate, +1 min, +5 min, then a person);
//! - `next_cycle`: when the organization's regular cycle looks next (kept per organization);
//! - `circuit`: stop calling Cal.com while it is down, per organization;
//! - `health`: Cal.com's state for the dashboard (healthy, degraded, circuit open, bad key);
//! - `compare`: which fields of an appointment and its booking differ;
//! - `rules`: from evidence to the new sync state, issue and history entry;
//! - `window`: a complete Cal.com listing diffed against our appointments;
//! - `plan`: which due appointments to verify from listings, which one by one.
//!
//! Around them, with I/O: `service` (one appointment), `runner` (runs),
//! `hints` (webhooks), `source` (the port to Cal.com).

pub mod alerts;
pub mod circuit;
pub mod compare;
pub mod health;
pub mod hints;
pub mod ladder;
pub mod next_cycle;
pub mod plan;
pub mod rules;
pub mod runner;
pub mod service;
pub mod source;
pub mod webhook_health;
pub mod window;
