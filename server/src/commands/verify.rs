//! `calsync verify --org S [--full]`: one run now, from the command line,
//! with the same rules, run records and notifications as the scheduler.

use std::sync::Arc;

use anyhow::{anyhow, Result};
use engine::clock::SystemClock;
use engine::ops::runs::{RunKind, RunStatus};
use engine::ops::Operations;
use engine::store::Store;
use engine::verify::circuit::Circuits;
use engine::verify::runner::RunReport;
use engine::verify::service::Verifier;

use super::refused;
use crate::cli::VerifyArgs;
use crate::config;

pub async fn run(store: &Store, args: VerifyArgs) -> Result<()> {
    let key = config::parse_secret_key(args.secret_key.as_deref())?;
    let ops = Operations::new(store.clone());
    let (caller, _) = ops.command_line_caller(&args.org).await.map_err(refused)?;
    let ladder = config::parse_retry_delays(&args.retry_delays)?;
    let mut verifier = Verifier::new(store.clone(), Arc::new(Circuits::default()), ladder, Arc::new(SystemClock));
    if let (Some(url), Some(_)) = (args.public_url.as_deref(), args.smtp_url.as_deref().filter(|u| !u.is_empty())) {
        verifier = verifier.with_email(url);
    }
    let kind = if args.full { RunKind::Comprehensive } else { RunKind::Cycle };
    let connector = ops.calcom_connector(key);
    let (org, report) = ops.run_from_command_line(caller, &verifier, &connector, kind).await.map_err(refused)?;
    println!("{}", summary(&org.slug, kind, &report));
    if report.status != RunStatus::Succeeded {
        // The summary said why; the exit code tells scripts and cron.
        return Err(anyhow!("{kind} run {} for {} {}", report.run_id, org.slug, report.status));
    }
    Ok(())
}

fn summary(slug: &str, kind: RunKind, report: &RunReport) -> String {
    let c = &report.counts;
    let mut text = format!(
        "{kind} run {} for {slug}: {}; {} verified, {} synced, {} flagged for review, {} errors (retried later), {} Cal.com calls",
        report.run_id, report.status, c.processed, c.synced, c.flagged, c.errors, c.api_calls
    );
    if report.calcom_only > 0 {
        text.push_str(&format!(", {} Cal.com bookings without an appointment", report.calcom_only));
    }
    if report.restored > 0 {
        text.push_str(&format!(", {} issues resolved themselves", report.restored));
    }
    if report.settled > 0 {
        text.push_str(&format!(", {} findings of Cal.com-only bookings settled themselves", report.settled));
    }
    if let Some(detail) = &report.detail {
        let label = if report.status == RunStatus::Succeeded { "note" } else { "why" };
        text.push_str(&format!("\n  {label}: {detail}"));
    }
    text
}
