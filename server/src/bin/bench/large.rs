//! The large comprehensive check (100,000 appointments, or BENCH_LARGE),
//! each database's run in a process of its own: the parent runs this
//! binary again with `BENCH_ONLY=large-one`, and reads one line of figures
//! back. In one process the peak RSS of the second run carried whatever
//! the first run and the filling of the table left resident (the
//! PostgreSQL run at 1,000,000 "peaked" at 263 MB, mostly the SQLite run's
//! and its own populate's leftovers).

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result};
use engine::store::{Backend, RunKind};
use serde::{Deserialize, Serialize};

use crate::machine;
use crate::world::World;

/// Appointments the naive verifier is timed on; its figure for the whole
/// table is this rate times the table (it would take as long).
const NAIVE_SAMPLE: usize = 2_000;
/// The marker of the child's one line of figures on its stdout.
const MARK: &str = "LARGE-RUN ";

/// What the checks of `appointments` measured: the first, which moves
/// every appointment from pending into sync (as after an import), and the
/// daily one after it, which finds them all still in sync.
#[derive(Debug, Serialize, Deserialize)]
pub struct LargeRun {
    pub appointments: usize,
    pub seconds: f64,
    /// VmHWM during the first check.
    pub peak_mb: f64,
    /// VmRSS when the first check began (the table filled, its leftovers freed).
    pub start_mb: f64,
    /// Cal.com requests of the first check.
    pub calls: i64,
    /// History rows the first check wrote (one per move into sync).
    pub history_rows: u64,
    /// The floor of the first check: its listing, its states and its history rows.
    pub floor_seconds: f64,
    pub daily_seconds: f64,
    /// The floor of the daily check: its listing and its states (it writes no history).
    pub daily_floor_seconds: f64,
    pub naive_seconds_each: f64,
    pub naive_sample: usize,
}

impl LargeRun {
    pub fn naive_seconds(&self) -> f64 {
        self.naive_seconds_each * self.appointments as f64
    }
}

/// The same check run several times, each in a process of its own.
pub struct Runs(Vec<LargeRun>);

/// A figure's median over the runs, and every run's value for the note.
pub struct Median {
    pub value: f64,
    each: Vec<f64>,
}

impl Median {
    /// `note`, prefixed with the runs' values when there were several.
    pub fn with(&self, note: String) -> String {
        if self.each.len() < 2 {
            return note;
        }
        let each: Vec<String> = self.each.iter().map(|v| format!("{v:.2}")).collect();
        let runs = format!("median of {} runs ({})", self.each.len(), each.join(", "));
        if note.is_empty() {
            runs
        } else {
            format!("{runs}; {note}")
        }
    }
}

impl Runs {
    pub fn appointments(&self) -> usize {
        self.0[0].appointments
    }

    pub fn count(&self) -> usize {
        self.0.len()
    }

    pub fn naive_sample(&self) -> usize {
        self.0[0].naive_sample
    }

    /// The median of `figure` over the runs (of an even count, the mean of the middle two).
    pub fn median(&self, figure: impl Fn(&LargeRun) -> f64) -> Median {
        let each: Vec<f64> = self.0.iter().map(&figure).collect();
        let mut sorted = each.clone();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let value = if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 };
        Median { value, each }
    }

    /// The run where `figure` is highest.
    pub fn highest(&self, figure: impl Fn(&LargeRun) -> f64) -> &LargeRun {
        self.0.iter().max_by(|a, b| figure(a).total_cmp(&figure(b))).expect("at least one run")
    }
}

/// Runs the check `count` times, each in a process of its own.
/// `Ok(None)`: the database is not there (PostgreSQL not running).
pub fn runs(backend: Backend, appointments: usize, count: usize) -> Result<Option<Runs>> {
    let mut runs = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        match in_own_process(backend, appointments)? {
            Some(run) => runs.push(run),
            None => return Ok(None),
        }
    }
    Ok(Some(Runs(runs)))
}

/// Runs the check of `appointments` on `backend` in a new process of this
/// binary. `Ok(None)`: the database is not there (PostgreSQL not running).
fn in_own_process(backend: Backend, appointments: usize) -> Result<Option<LargeRun>> {
    let out = Command::new(std::env::current_exe()?)
        .env("BENCH_ONLY", "large-one")
        .env("BENCH_BACKEND", backend.name())
        .env("BENCH_LARGE", appointments.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .context("running the bench again for one large check")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if let Some(line) = stdout.lines().find_map(|l| l.strip_prefix(MARK)) {
        return Ok(serde_json::from_str(line)?);
    }
    anyhow::bail!("the large check of {appointments} on {} ended without figures ({})", backend.name(), out.status)
}

/// The child's side: one check, its figures printed as one line.
pub async fn child() -> Result<()> {
    let named = std::env::var("BENCH_BACKEND").unwrap_or_default();
    let backend = Backend::named(&named).with_context(|| format!("BENCH_BACKEND names no database: {named:?}"))?;
    let appointments = crate::size("BENCH_LARGE", 100_000);
    let run = match World::apart(backend).await {
        Ok(world) => Some(measure(&world, appointments).await?),
        Err(e) => {
            eprintln!("{}: not measured ({e})", backend.name());
            None
        }
    };
    println!("{MARK}{}", serde_json::to_string(&run)?);
    Ok(())
}

async fn measure(w: &World, appointments: usize) -> Result<LargeRun> {
    w.populate(appointments).await?;
    // What filling the table allocated, freed or left cached is not the check's.
    w.forget_cached_pages().await?;
    machine::release_free_memory();
    let start_mb = machine::rss_mb();
    machine::reset_peak_rss();
    let started = Instant::now();
    let first = w.run(RunKind::Comprehensive).await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_mb = machine::peak_rss_mb();
    let history_rows = w.history_rows().await?;
    let started = Instant::now();
    w.run(RunKind::Comprehensive).await?;
    let daily_seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(w.history_rows().await? == history_rows, "the daily check wrote history for routine confirmations");
    let daily_floor_seconds = w.floor_seconds(0).await?;
    let floor_seconds = w.floor_seconds(history_rows).await?;
    let naive_sample = NAIVE_SAMPLE.min(appointments);
    let naive_seconds_each = w.naive_seconds_each(naive_sample).await?;
    Ok(LargeRun {
        appointments,
        seconds,
        peak_mb,
        start_mb,
        calls: first.counts.api_calls,
        history_rows,
        floor_seconds,
        daily_seconds,
        daily_floor_seconds,
        naive_seconds_each,
        naive_sample,
    })
}
