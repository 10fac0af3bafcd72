//! `make bench`: measures calsync against the in-process Cal.com simulator
//! (rate limit off) and writes docs/benchmarks.md. Built only with the
//! `bench` feature, so the production binary carries none of it.
//!
//! Sizes can be scaled down for slow machines: BENCH_COMPREHENSIVE
//! (default 10,000), BENCH_LARGE (100,000), BENCH_SUMMARY_ROWS (1,000,000).

mod machine;
mod report;
mod world;

use std::time::Instant;

use anyhow::Result;
use engine::store::{Backend, RunKind};

use report::{Figure, Report};
use world::World;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    engine::calcom::ensure_crypto_provider();
    let comprehensive = size("BENCH_COMPREHENSIVE", 10_000);
    let large = size("BENCH_LARGE", 100_000);
    let summary_rows = size("BENCH_SUMMARY_ROWS", 1_000_000);
    let mut report = Report::new(machine::describe(), cfg!(debug_assertions));

    // Calls for a comprehensive check, then for a cycle with nothing due.
    {
        let w = World::new(Backend::Sqlite).await?;
        w.populate(comprehensive).await?;
        let calls = w.calls_for(RunKind::Comprehensive).await?;
        let target = comprehensive.div_ceil(250) as u64 + 10;
        report.add(Figure::at_most(
            format!("Cal.com calls, comprehensive check of {comprehensive} appointments"),
            calls as f64,
            target as f64,
            "calls",
            format!("a naive verifier GETs each booking: {comprehensive} calls"),
        ));
        // The comprehensive check set the afterUpdatedAt watermark: a 6-hour
        // cycle now asks only whether anything changed since.
        let calls = w.calls_for(RunKind::Cycle).await?;
        report.add(Figure::at_most(
            format!("Cal.com calls, 6-hour cycle with nothing changed since the watermark ({comprehensive} synced)"),
            calls as f64,
            3.0,
            "calls",
            format!("one fingerprint request; re-checking every synced booking by uid would take {comprehensive} calls"),
        ));
        w.change_one_booking()?;
        let calls = w.calls_for(RunKind::Cycle).await?;
        report.add(Figure::maybe(
            format!("Cal.com calls, 6-hour cycle after one booking changed ({comprehensive} synced)"),
            calls as f64,
            None,
            "calls",
            "fingerprint, then one page of changes since the watermark; the change is verified from it".into(),
        ));
    }

    // Verifying a large window, on each database.
    for (backend, name) in [(Backend::Sqlite, "SQLite"), (Backend::Postgres, "PostgreSQL")] {
        let w = match World::new(backend).await {
            Ok(w) => w,
            Err(e) => {
                report.note(format!("{name}: not measured ({e})"));
                continue;
            }
        };
        w.populate(large).await?;
        machine::reset_peak_rss();
        let started = Instant::now();
        w.calls_for(RunKind::Comprehensive).await?;
        let seconds = started.elapsed().as_secs_f64();
        let peak = machine::peak_rss_mb();
        // A scaled-down run is not judged against a target set for 100,000.
        let full = large == 100_000;
        let scale = if full {
            String::new()
        } else {
            let linear = seconds * 100_000.0 / large.max(1) as f64;
            format!("scaled down from 100,000 to {large}; linear extrapolation to 100,000: {linear:.0} s (target 30 s on SQLite)")
        };
        let judged = full && backend == Backend::Sqlite;
        let (time_target, rss_target) = if judged { (Some(30.0), Some(300.0)) } else { (None, None) };
        report.add(Figure::maybe(
            format!("wall time, verify {large} appointments ({name})"),
            seconds,
            time_target,
            "s",
            scale.clone(),
        ));
        report.add(Figure::maybe(
            format!("peak RSS, verify {large} appointments ({name})"),
            peak,
            rss_target,
            "MB",
            format!(
                "whole process, including the in-process simulator holding every booking{}",
                if full { "" } else { "; target 300 MB applies to 100,000" }
            ),
        ));
    }

    // The dashboard's summary query on a large table.
    {
        let w = World::new(Backend::Sqlite).await?;
        w.bulk_rows(summary_rows).await?;
        let p99 = w.summary_p99_ms(200).await?;
        let scale = if summary_rows == 1_000_000 { String::new() } else { format!("{summary_rows} rows instead of 1,000,000") };
        report.add(Figure::at_most(format!("dashboard summary query p99, {summary_rows} rows (SQLite)"), p99, 50.0, "ms", scale));
    }

    report.add_wasm(machine::wasm_gzip_bytes());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    std::fs::create_dir_all(path.parent().expect("docs dir"))?;
    std::fs::write(&path, report.markdown())?;
    println!("{}", report.markdown());
    println!("written to {}", path.display());
    Ok(())
}
