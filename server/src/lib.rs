//! The `calsync` binary's library: configuration, command line, HTTP router
//! and the commands. Kept thin: the work happens in `engine` and `app`.

// The runs page's view type is deep enough to exceed the default (128)
// when its layout is computed here.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod http;
pub mod live;
pub mod router;
pub mod state;
pub mod telemetry;
pub mod workers;
