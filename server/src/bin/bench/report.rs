//! docs/benchmarks.md: each figure next to its target, a missed target
//! said plainly.

pub struct Figure {
    what: String,
    value: f64,
    target: Option<f64>,
    unit: &'static str,
    note: String,
    /// The target is a minimum (throughput), not a maximum.
    floor: bool,
}

impl Figure {
    pub fn at_most(what: impl Into<String>, value: f64, target: f64, unit: &'static str, note: String) -> Figure {
        Figure { what: what.into(), value, target: Some(target), unit, note, floor: false }
    }

    pub fn at_least(what: impl Into<String>, value: f64, target: f64, unit: &'static str, note: String) -> Figure {
        Figure { what: what.into(), value, target: Some(target), unit, note, floor: true }
    }

    pub fn maybe(what: impl Into<String>, value: f64, target: Option<f64>, unit: &'static str, note: String) -> Figure {
        Figure { what: what.into(), value, target, unit, note, floor: false }
    }

    fn verdict(&self) -> &'static str {
        match self.target {
            Some(t) if (self.floor && self.value >= t) || (!self.floor && self.value <= t) => "met",
            Some(_) => "**missed**",
            None => "reported",
        }
    }
}

pub struct Report {
    machine: String,
    debug_build: bool,
    figures: Vec<Figure>,
    notes: Vec<String>,
    wasm: Option<(String, u64, u64)>,
}

impl Report {
    pub fn new(machine: String, debug_build: bool) -> Report {
        Report { machine, debug_build, figures: Vec::new(), notes: Vec::new(), wasm: None }
    }

    pub fn add(&mut self, figure: Figure) {
        println!("{}: {:.1} {} ({})", figure.what, figure.value, figure.unit, figure.verdict());
        self.figures.push(figure);
    }

    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    pub fn add_wasm(&mut self, wasm: Option<(String, u64, u64)>) {
        self.wasm = wasm;
    }

    pub fn markdown(&self) -> String {
        let mut md = String::from("# Benchmarks\n\nWritten by `make bench` (`server/src/bin/bench/`), against the in-process Cal.com simulator with its rate limit off.\n\n");
        md += &format!("- machine: {}\n", self.machine);
        md += &format!("- date: {}\n", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"));
        md +=
            &format!("- build: {}\n\n", if self.debug_build { "debug (unoptimized): times are pessimistic" } else { "release" });
        md += "| measurement | value | target | result | note |\n|---|---|---|---|---|\n";
        for f in &self.figures {
            let bound = if f.floor { "≥" } else { "≤" };
            let target = f.target.map(|t| format!("{bound} {t} {}", f.unit)).unwrap_or_else(|| "—".into());
            md += &format!("| {} | {:.1} {} | {} | {} | {} |\n", f.what, f.value, f.unit, target, f.verdict(), f.note);
        }
        match &self.wasm {
            Some((path, raw, gz)) => {
                md += &format!(
                    "| release WASM bundle, gzip -9 | {:.0} KB | ≤ 400 KB | {} | {path}, {:.0} KB uncompressed |\n",
                    *gz as f64 / 1024.0,
                    if *gz <= 400 * 1024 { "met" } else { "**missed**" },
                    *raw as f64 / 1024.0
                )
            }
            None => md += "| release WASM bundle, gzip -9 | not built | ≤ 400 KB | — | `make bench` builds it first; running the binary alone does not |\n",
        }
        for note in &self.notes {
            md += &format!("\n{note}\n");
        }
        md
    }
}
