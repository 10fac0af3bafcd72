//! `calsync calcom-sim`: the local Cal.com v2 simulator as a process, for
//! demos and for trying calsync without a Cal.com account.

use anyhow::{Context, Result};
use calcom_sim::{serve_with_shutdown, RateLimit, SimConfig};

use crate::cli::CalcomSimArgs;
use crate::config;

pub async fn run(args: CalcomSimArgs) -> Result<()> {
    let addr = config::parse_socket_addr("CALCOM_SIM_ADDR", &args.addr)?;
    let mut sim = SimConfig::default()
        .with_api_keys(args.api_keys)
        .with_rate_limit(RateLimit::per_minute_or_off(args.rate_limit));
    if let Some(path) = args.state {
        sim = sim.with_state_file(path);
    }
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, "Cal.com simulator listening (control API under /_sim/)");
    serve_with_shutdown(listener, sim, super::shutdown_signal()).await.context("the simulator stopped with an error")
}
