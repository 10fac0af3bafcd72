//! `make bench`: measures calsync against the in-process Cal.com simulator
//! (rate limit off) and writes docs/benchmarks.md. Built only with the
//! `bench` feature, so the production binary carries none of it.
//!
//! Sizes can be scaled down for slow machines: BENCH_COMPREHENSIVE
//! (default 10,000), BENCH_LARGE (100,000), BENCH_SUMMARY_ROWS (1,000,000).
//! The render-throughput figure needs `wrk` (scripts/setup --bench).
//! The parts against the simulator at its default rate limit scale with
//! BENCH_IMPORT_APPOINTMENTS (10,000), BENCH_BUDGET_APPOINTMENTS (15,000)
//! and BENCH_BURST_DELIVERIES (1,000), BENCH_BURST_SENDERS (50).

mod budget;
mod burst;
mod fleet;
mod hammer;
mod import;
mod large;
mod live;
mod machine;
mod report;
mod sim_process;
mod storage;
mod wasm;
mod web;
mod worker_round;
mod world;

use std::time::Instant;

use anyhow::Result;
use engine::store::{Backend, RunKind};

use report::{Figure, Report};
use world::World;

pub(crate) fn size(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    engine::calcom::ensure_crypto_provider();
    let comprehensive = size("BENCH_COMPREHENSIVE", 10_000);
    let large = size("BENCH_LARGE", 100_000);
    let summary_rows = size("BENCH_SUMMARY_ROWS", 1_000_000);
    let mut report = Report::new(machine::describe(), cfg!(debug_assertions));
    // BENCH_ONLY=month, =worker, …: just that part, printed, docs untouched.
    match std::env::var("BENCH_ONLY").as_deref() {
        Ok("month") => return month_figures(&mut report).await,
        Ok("worker") => return worker_figures(&mut report).await,
        Ok("large") => return large_figures(&mut report, large).await,
        Ok("large-one") => return large::child().await,
        Ok("hammer") => return hammer_figures(&mut report).await,
        Ok("import") => return import_figures(&mut report).await,
        Ok("budget") => return budget_figures(&mut report).await,
        Ok("burst") => return burst_figures(&mut report).await,
        Ok("live") => {
            live_figures(&mut report).await;
            return Ok(());
        }
        _ => {}
    }

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
            format!(
                "one (near-empty) page of changes since the watermark; re-checking every synced booking by uid would take {comprehensive} calls"
            ),
        ));
        w.change_one_booking()?;
        let calls = w.calls_for(RunKind::Cycle).await?;
        report.add(Figure::maybe(
            format!("Cal.com calls, 6-hour cycle after one booking changed ({comprehensive} synced)"),
            calls as f64,
            None,
            "calls",
            "one page of changes since the watermark; the change is verified from it".into(),
        ));
    }

    large_figures(&mut report, large).await?;

    // The dashboard and the appointment list on a large table.
    {
        let w = World::new(Backend::Sqlite).await?;
        w.bulk_rows(summary_rows).await?;
        let p99 = w.summary_p99_ms(200).await?;
        let full = summary_rows == 1_000_000;
        let scale = if full { String::new() } else { format!("{summary_rows} rows instead of 1,000,000") };
        report.add(Figure::at_most(
            format!("dashboard summary query p99, {summary_rows} rows (SQLite)"),
            p99,
            50.0,
            "ms",
            scale.clone(),
        ));

        let site = web::Site::serve(w.store().clone(), w.org_id()).await?;
        let (p50, p99) = site.page_latency_ms("/appointments?state=failed", 200).await?;
        report.add(Figure::at_most(
            format!("filtered appointments page (server-rendered, status = failed) p99, {summary_rows} rows (SQLite)"),
            p99,
            100.0,
            "ms",
            format!(
                "p50 {p50:.1} ms; the whole HTTP request, sequential{}",
                if full { String::new() } else { format!("; {scale}") }
            ),
        ));
        let (p50, p99) = site.page_latency_ms("/", 100).await?;
        report.add(Figure::maybe(
            format!("dashboard page (server-rendered) p99, {summary_rows} rows (SQLite)"),
            p99,
            None,
            "ms",
            format!("p50 {p50:.1} ms; one request at a time"),
        ));
        match site.wrk_requests_per_second("/", 10) {
            Ok(rps) => report.add(Figure::at_least(
                format!("dashboard server-side render throughput, {summary_rows} rows (SQLite)"),
                rps,
                300.0,
                "req/s",
                "wrk -t2 -c16 -d10s on loopback, calsync and wrk sharing the machine's cores".into(),
            )),
            Err(e) => report.note(format!("Dashboard render throughput: not measured ({e:#}).")),
        }
    }

    live_figures(&mut report).await;

    worker_figures(&mut report).await?;
    hammer_figures(&mut report).await?;
    month_figures(&mut report).await?;
    import_figures(&mut report).await?;
    budget_figures(&mut report).await?;
    burst_figures(&mut report).await?;

    report.add_wasm(wasm::measure());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    std::fs::create_dir_all(path.parent().expect("docs dir"))?;
    std::fs::write(&path, report.markdown())?;
    println!("{}", report.markdown());
    println!("written to {}", path.display());
    Ok(())
}

/// Webhook received → notification on an open page.
async fn live_figures(report: &mut Report) {
    match live::webhook_to_feed_ms(20).await {
        Ok((p50, max)) => report.add(Figure::at_most(
            "webhook received → notification in the open page's live feed, slowest of 20",
            max,
            2000.0,
            "ms",
            format!("p50 {p50:.0} ms; the simulator sends the signed webhook, the page holds the /events stream"),
        )),
        Err(e) => report.note(format!("Webhook → feed latency: not measured ({e:#}).")),
    }
}

/// Storage over a simulated month, on each database.
async fn month_figures(report: &mut Report) -> Result<()> {
    let month_size = size("BENCH_MONTH_APPOINTMENTS", 10_000);
    for backend in Backend::ALL {
        let name = backend.name();
        let started = Instant::now();
        let month = storage::month(backend, month_size, 30).await?;
        let judged = backend == Backend::Sqlite && month_size == 10_000;
        report.add(Figure::maybe(
            format!("database size after 30 simulated days ÷ after 7, {month_size} appointments ({name})"),
            month.ratio(),
            judged.then_some(1.2),
            "×",
            format!(
                "{:.1} MB after day 7, {:.1} MB after day 30: {:.0} bytes per appointment; {} bookings changed, {} history rows; simulated in {:.0} s",
                month.bytes_day_7 as f64 / 1e6,
                month.bytes_day_30 as f64 / 1e6,
                month.bytes_day_30 as f64 / month.appointments.max(1) as f64,
                month.changes,
                month.history_rows,
                started.elapsed().as_secs_f64()
            ),
        ));
    }

    Ok(())
}

/// Verifying a large window, on each database, against a simulator in a
/// process of its own (the memory figure is calsync's alone), and the same
/// work done by the floor and by a naive verifier on the same machine in the
/// same run, so that the figures read as ratios wherever they are measured.
/// Each check runs `BENCH_LARGE_RUNS` times (3 by default, 1 above 100,000),
/// each in a fresh process and database, and the report gives the median:
/// on a shared 2-core machine one run's floor varied by 1.7 × between runs.
async fn large_figures(report: &mut Report, large: usize) -> Result<()> {
    let count = size("BENCH_LARGE_RUNS", if large > 100_000 { 1 } else { 3 }).max(1);
    for backend in Backend::ALL {
        let name = backend.name();
        let Some(runs) = large::runs(backend, large, count)? else {
            report.note(format!("{name}: the large check was not measured (no database)"));
            continue;
        };
        // Memory flat in N: the same check of 100,000, in a process of its own too.
        let reference = if large > 100_000 { large::runs(backend, 100_000, 1)? } else { None };
        add_large_figures(report, backend, &runs, reference.as_ref());
    }
    Ok(())
}

fn add_large_figures(report: &mut Report, backend: Backend, runs: &large::Runs, reference: Option<&large::Runs>) {
    let name = backend.name();
    let n = runs.appointments();
    // A scaled-down run is not judged against a target set for 100,000.
    let full = n == 100_000;
    let judged = full && backend == Backend::Sqlite;
    let seconds = runs.median(|r| r.seconds);
    let scale = if full || n > 100_000 {
        String::new()
    } else {
        let linear = seconds.value * 100_000.0 / n.max(1) as f64;
        format!(
            "scaled down from 100,000 to {n}; linear extrapolation to 100,000: {linear:.0} s (target 30 s on SQLite)"
        )
    };
    report.add(Figure::maybe(
        format!("wall time, verify {n} appointments ({name})"),
        seconds.value,
        judged.then_some(30.0),
        "s",
        seconds.with(scale),
    ));
    // The highest peak of the runs, not their median: memory is a limit.
    let peak = runs.highest(|r| r.peak_mb);
    report.add(Figure::maybe(
        format!("peak RSS, verify {n} appointments ({name})"),
        peak.peak_mb,
        (judged || n > 100_000).then_some(300.0),
        "MB",
        format!(
            "the highest of {} runs; calsync's process, this check alone (the simulator runs in a process of its \
             own; the table was filled, and that memory and, on SQLite, the pages it left in the connections' \
             caches freed first): {:.1} MB resident when the check began",
            runs.count(),
            peak.start_mb
        ),
    ));
    if let Some(reference) = reference {
        let base = reference.highest(|r| r.peak_mb);
        report.add(Figure::at_most(
            format!("peak RSS, verify {n} appointments ÷ verify {} ({name})", base.appointments),
            peak.peak_mb / base.peak_mb,
            1.2,
            "×",
            format!("{:.1} MB ÷ {:.1} MB, each check in a process of its own", peak.peak_mb, base.peak_mb),
        ));
    }
    let first = runs.median(|r| r.seconds / r.floor_seconds);
    let floor = runs.median(|r| r.floor_seconds).value;
    let history_rows = runs.highest(|r| r.history_rows as f64).history_rows;
    report.add(Figure::maybe(
        format!("calsync's time ÷ the floor's, verify {n} appointments ({name})"),
        first.value,
        full.then_some(2.0),
        "×",
        first.with(format!(
            "floor (median) {floor:.1} s: the same window listed from the same simulator and the same outcomes \
             written in one transaction ({n} states, {history_rows} history rows: each appointment's move from \
             pending into sync), nothing else"
        )),
    ));
    let daily = runs.median(|r| r.daily_seconds);
    report.add(Figure::maybe(
        format!("wall time, daily check of {n} appointments all in sync ({name})"),
        daily.value,
        None,
        "s",
        daily.with("the same check again the next day: every appointment confirmed, no history row written".into()),
    ));
    let daily_ratio = runs.median(|r| r.daily_seconds / r.daily_floor_seconds);
    let daily_floor = runs.median(|r| r.daily_floor_seconds).value;
    report.add(Figure::maybe(
        format!("calsync's time ÷ the floor's, daily check of {n} appointments all in sync ({name})"),
        daily_ratio.value,
        full.then_some(2.0),
        "×",
        daily_ratio.with(format!(
            "floor (median) {daily_floor:.1} s: the same listing and every state written in one transaction"
        )),
    ));
    let naive_each = runs.median(|r| r.naive_seconds_each).value;
    let naive_seconds = naive_each * n as f64;
    let loopback = runs.median(|r| r.naive_seconds() / r.seconds);
    report.add(Figure::maybe(
        format!("naive verifier's time ÷ calsync's, verify {n} appointments, simulator without a rate limit ({name})"),
        loopback.value,
        None,
        "×",
        loopback.with(format!(
            "naive: one GET by uid and one write per appointment, {:.2} ms each (median) over {} of them, so \
             {naive_seconds:.0} s for {n}. On loopback a GET costs about what a row write costs, so this ratio \
             cannot reach 50 × even if calsync took no more than its floor ({:.0} ×); the row below prices the \
             calls as Cal.com does",
            naive_each * 1000.0,
            runs.naive_sample(),
            naive_seconds / floor
        )),
    ));
    // Cal.com answers 120 requests a minute per key: every call costs at
    // least half a second of the check's wall time, whatever the machine.
    let per_call: f64 = 60.0 / 120.0;
    let calls = runs.highest(|r| r.calls as f64).calls;
    let naive_at_limit = n as f64 * per_call.max(naive_each);
    let calsync_at_limit = calls as f64 * per_call + seconds.value;
    report.add(Figure::maybe_at_least(
        format!("naive verifier's time ÷ calsync's, verify {n} appointments, at Cal.com's rate limit ({name})"),
        naive_at_limit / calsync_at_limit,
        full.then_some(50.0),
        "×",
        format!(
            "at 120 requests a minute: naive {n} GETs, {:.1} hours; calsync {calls} listing requests ({:.0} s) \
             plus its measured {:.1} s of work (median), counted as if none of it overlapped the waiting",
            naive_at_limit / 3600.0,
            calls as f64 * per_call,
            seconds.value
        ),
    ));
}

/// A worker round over many idle organizations, on each database.
/// Every page, many sessions at once, on each database: no render may stall.
async fn hammer_figures(report: &mut Report) -> Result<()> {
    let clients = size("BENCH_HAMMER_CLIENTS", 20);
    let loads = size("BENCH_HAMMER_LOADS", 2_000);
    for backend in Backend::ALL {
        let name = backend.name();
        let w = World::new(backend).await?;
        w.populate(500).await?;
        let site = web::Site::serve(w.store().clone(), w.org_id()).await?;
        let first = w.store().list_appointments(w.org_id(), &Default::default(), None, 1).await?;
        let one = first.first().map(|a| format!("/appointments/{}", a.id)).unwrap_or_else(|| "/appointments".into());
        let run = w.store().recent_runs(w.org_id(), 1).await?;
        let run = run.first().map(|r| format!("/runs/{}", r.id)).unwrap_or_else(|| "/runs".into());
        let paths = [
            "/",
            "/appointments",
            "/review",
            "/runs",
            "/deliveries",
            "/sync-health",
            "/notifications",
            "/audit",
            "/settings",
            "/settings/schedule",
            "/settings/alerts",
            "/settings/users",
            "/settings/tokens",
            "/account",
            &one,
            &run,
        ];
        let h = hammer::hammer(&site, &paths, clients, loads).await?;
        report.add(Figure::at_most(
            format!("page renders that stalled, {clients} concurrent sessions × {} page loads ({name})", h.loads),
            (h.stalls + h.not_ok) as f64,
            0.0,
            "stalled or failed",
            format!(
                "every page of the app in turn; {} stalled (no byte for 10 s), {} not 200; p50 {:.1} ms, p99 {:.1} ms per page",
                h.stalls, h.not_ok, h.p50_ms, h.p99_ms
            ),
        ));
    }
    Ok(())
}

async fn worker_figures(report: &mut Report) -> Result<()> {
    let orgs = size("BENCH_IDLE_ORGS", 1_000);
    for backend in Backend::ALL {
        let name = backend.name();
        let (median, slowest) = worker_round::idle_round_ms(backend, orgs, 21).await?;
        report.add(Figure::at_most(
            format!("worker round over {orgs} organizations with nothing due ({name})"),
            median,
            100.0,
            "ms",
            format!("median of 21 rounds, slowest {slowest:.1} ms; all database time (no Cal.com call is needed)"),
        ));
    }
    Ok(())
}

/// Issue 15: a first import verified in bulk by a serving instance.
async fn import_figures(report: &mut Report) -> Result<()> {
    let n = size("BENCH_IMPORT_APPOINTMENTS", 10_000);
    let days = size("BENCH_IMPORT_DAYS", 60);
    let i = import::import_verified(Backend::Sqlite, n, days).await?;
    let full = n == 10_000;
    let scale = if full { String::new() } else { "; scaled down from 10,000 (targets apply to 10,000)".into() };
    report.add(Figure::at_most(
        format!("Cal.com calls until {n} imported appointments are all verified (SQLite)"),
        i.calls as f64,
        50.0,
        "calls",
        format!(
            "`calsync import` of {n} appointments with their booking uids over {days} days, one `calsync serve` verifying what is due, simulator at 120/min; {}; {} answered 429; a per-uid verifier: {n} calls{scale}",
            i.by_endpoint, i.limited
        ),
    ));
    report.add(Figure::at_most(
        format!("wall time from the end of the import until all {n} are verified (SQLite)"),
        i.seconds,
        180.0,
        "s",
        format!(
            "{} synced; the import itself took {:.0} s; the worker checks what is due every 15 s{scale}",
            i.synced, i.import_seconds
        ),
    ));
    Ok(())
}

/// Issue 15: two instances and two concurrent full checks on one key.
async fn budget_figures(report: &mut Report) -> Result<()> {
    let n = size("BENCH_BUDGET_APPOINTMENTS", 15_000);
    let days = size("BENCH_BUDGET_DAYS", 120);
    let one = match budget::scenario(1, n, days).await {
        Ok(one) => one,
        Err(e) => {
            report.note(format!("Shared budget: not measured ({e:#})."));
            return Ok(());
        }
    };
    let two = budget::scenario(2, n, days).await?;
    let setup = format!(
        "{n} new appointments over {days} days left to the instances, plus `calsync verify --org acme --full` per instance started at once, one key, simulator at 120/min (PostgreSQL)"
    );
    report.add(Figure::at_most(
        "Cal.com answers 429, two instances and two concurrent full checks sharing one key (PostgreSQL)",
        two.limited as f64,
        0.0,
        "responses",
        format!("{setup}; {} calls in {:.0} s", two.calls, two.seconds),
    ));
    report.add(Figure::at_most(
        "full checks that ran of two started at once (PostgreSQL)",
        two.ran as f64,
        1.0,
        "runs",
        format!(
            "the other answered: {}",
            two.refused.first().map(String::as_str).unwrap_or("(none refused)").replace('|', "/")
        ),
    ));
    let excess = (two.calls as f64 / one.calls.max(1) as f64 - 1.0) * 100.0;
    report.add(Figure::at_most(
        "total Cal.com calls, two instances + two full checks vs. one instance + one (PostgreSQL)",
        excess.abs(),
        10.0,
        "% apart",
        format!(
            "{} calls vs. {} with one instance ({:.0} s, {} answered 429); {setup}",
            two.calls, one.calls, one.seconds, one.limited
        ),
    ));
    Ok(())
}

/// Issue 17: a burst of signed webhook deliveries.
async fn burst_figures(report: &mut Report) -> Result<()> {
    let deliveries = size("BENCH_BURST_DELIVERIES", 1_000);
    let senders = size("BENCH_BURST_SENDERS", 50);
    let b = burst::burst(Backend::Sqlite, deliveries, senders).await?;
    let what = format!("{deliveries} signed webhook deliveries from {senders} concurrent senders (SQLite)");
    report.add(Figure::at_most(
        format!("answers other than 200, {what}"),
        b.non_ok as f64,
        0.0,
        "answers",
        format!("`POST /webhooks/calcom/acme` of a serving calsync; all sent in {:.1} s", b.sending_seconds),
    ));
    report.add(Figure::at_most(
        format!("webhook answer p99, {what}"),
        b.p99_ms,
        50.0,
        "ms",
        format!("p50 {:.1} ms; the receiver checks the signature, stores the delivery and answers", b.p50_ms),
    ));
    report.add(Figure::at_most(
        format!("first delivery sent → every change visible in its appointment, {what}"),
        b.visible_seconds,
        60.0,
        "s",
        "each delivery names a booking just cancelled in Cal.com; visible when every appointment is Failed (data mismatch)"
            .into(),
    ));
    report.add(Figure::at_most(
        format!("Cal.com calls for the burst, {what}"),
        b.calls as f64,
        20.0,
        "calls",
        format!("simulator at 120/min; {}; one GET per delivery would be {deliveries}", b.by_endpoint),
    ));
    let crash = burst::kill_mid_burst(Backend::Sqlite, deliveries, senders).await?;
    report.add(Figure::at_most(
        format!("acknowledged deliveries lost to a kill -9 in the middle of a burst of {deliveries} (SQLite)"),
        crash.lost as f64,
        0.0,
        "deliveries",
        format!(
            "a real `calsync serve` process killed when half were answered: {} acknowledged ({} not yet acted on \
             when it died), {} of them acted on {:.1} s after the restart, {} of their appointments without the \
             change",
            crash.acknowledged,
            crash.pending_at_kill,
            crash.acknowledged - crash.lost,
            crash.recovered_seconds,
            crash.unchanged
        ),
    ));
    Ok(())
}
