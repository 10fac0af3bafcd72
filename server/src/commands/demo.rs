//! `calsync demo`: `serve` plus a Cal.com simulator and a seeded `demo`
//! organization, for trying calsync without a Cal.com account.

use anyhow::{Context, Result};

use super::serve::{self, Settings};
use crate::cli::DemoArgs;
use crate::demo::{self, DemoOptions};

pub async fn run(database_url: &str, args: DemoArgs) -> Result<()> {
    let settings = Settings::parse(&args.serve)?;
    let store = super::open(database_url).await?;
    // The simulator calls calsync over loopback, whatever address it listens on.
    let addr = settings.addr;
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
    let calsync_url = if addr.is_ipv6() && host != "127.0.0.1" {
        format!("http://[{host}]:{}", addr.port())
    } else {
        format!("http://{host}:{}", addr.port())
    };
    let options = DemoOptions {
        calsync_url,
        sim_state: Some(args.sim_state.clone().unwrap_or_else(|| demo::sim_state_path(database_url))),
    };
    let prepared = demo::prepare(&store, &settings.secret_key, &options).await.context("setting up the demo")?;
    announce(&prepared, &settings.public_url, &options);

    let served = serve::serve(database_url, store, args.serve, settings).await;
    prepared.sim.shutdown().await;
    served
}

/// What a person needs to start looking around: where, and how to log in.
fn announce(prepared: &demo::Demo, public_url: &str, options: &DemoOptions) {
    println!();
    println!("calsync demo: {public_url}  (organization \"{}\")", prepared.org.slug);
    if let Some(report) = prepared.seeded {
        println!(
            "  seeded {} appointments and {} Cal.com bookings in every sync state",
            report.appointments, report.calcom_bookings
        );
    }
    for account in &prepared.accounts {
        match &account.password {
            Some(password) => {
                println!("  {:<6} {}  password: {password}   (shown only now)", account.role.as_str(), account.email)
            }
            None => println!(
                "  {:<6} {}  exists (its password was printed when it was created)",
                account.role.as_str(),
                account.email
            ),
        }
    }
    println!(
        "  Cal.com simulator: {} (state in {})",
        prepared.sim.base_url,
        options.sim_state.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
    );
    println!();
}
