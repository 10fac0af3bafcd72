//! Alert rules: when admins are pushed something, beyond the in-app feed
//! that records everything.
//!
//! - `rules`: the rules an organization sets (first failure, retries used
//!   up, open issues over a threshold), their defaults and the throttle.
//! - `notices`: the words of an alert, a digest and a recovery notice, and
//!   the outgoing webhook's JSON.
//! - `dispatch`: an event under its rule (push now or hold for the digest),
//!   and the round that sends digests, threshold alerts and recoveries.
//! - `webhook`: signing and posting the outgoing webhooks (Slack, a CRM).
//!
//! A rule pushes at most once per its throttle period; what it holds back
//! in between goes out as one digest when the period ends. When the rule's
//! condition clears, one recovery notice says so.

pub mod dispatch;
pub mod notices;
pub mod rules;
pub mod webhook;

pub use dispatch::{decide, raise, round, Channels};
pub use rules::{RuleForm, RuleKind, RuleSettings};
