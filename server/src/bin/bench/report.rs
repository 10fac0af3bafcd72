//! docs/benchmarks.md: each figure next to its target, a missed target
//! said plainly.

use crate::wasm::WasmSizes;

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

    /// Like `maybe`, with the target (when there is one) a minimum.
    pub fn maybe_at_least(
        what: impl Into<String>,
        value: f64,
        target: Option<f64>,
        unit: &'static str,
        note: String,
    ) -> Figure {
        Figure { what: what.into(), value, target, unit, note, floor: true }
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
    wasm: Option<WasmSizes>,
}

impl Report {
    pub fn new(machine: String, debug_build: bool) -> Report {
        Report { machine, debug_build, figures: Vec::new(), notes: Vec::new(), wasm: None }
    }

    pub fn add(&mut self, figure: Figure) {
        println!("{}: {:.1} {} ({}): {}", figure.what, figure.value, figure.unit, figure.verdict(), figure.note);
        self.figures.push(figure);
    }

    pub fn note(&mut self, note: String) {
        println!("{note}");
        self.notes.push(note);
    }

    pub fn add_wasm(&mut self, wasm: Option<WasmSizes>) {
        self.wasm = wasm;
    }

    pub fn markdown(&self) -> String {
        let mut md = String::from("# Benchmarks\n\nWritten by `make bench` (`server/src/bin/bench/`), against the Cal.com simulator with its rate limit off, except the import, shared-budget and webhook-burst rows, which run at its default limit (120 requests a minute per key).\n\n");
        md += &format!("- machine: {}\n", self.machine);
        md += &format!("- date: {}\n", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"));
        md += &format!(
            "- build: {}\n\n",
            if self.debug_build { "debug (unoptimized): times are pessimistic" } else { "release" }
        );
        md += "| measurement | value | target | result | note |\n|---|---|---|---|---|\n";
        for f in &self.figures {
            let bound = if f.floor { "≥" } else { "≤" };
            let target = f.target.map(|t| format!("{bound} {t} {}", f.unit)).unwrap_or_else(|| "—".into());
            md += &format!("| {} | {:.1} {} | {} | {} | {} |\n", f.what, f.value, f.unit, target, f.verdict(), f.note);
        }
        md += &wasm_rows(self.wasm.as_ref());
        for note in &self.notes {
            md += &format!("\n{note}\n");
        }
        md += HOW;
        md
    }
}

/// The main bundle and the heaviest first visit, against the same target:
/// a page is not usable before its own code has arrived too.
fn wasm_rows(wasm: Option<&WasmSizes>) -> String {
    const TARGET: u64 = 400 * 1024;
    let kb = |bytes: u64| bytes as f64 / 1024.0;
    let verdict = |bytes: u64| if bytes <= TARGET { "met" } else { "**missed**" };
    let Some(wasm) = wasm else {
        return "| release WASM bundle, gzip -9 | not built | ≤ 400 KB | — | `make bench` builds it first; running the binary alone does not |\n".into();
    };
    let mut md = format!(
        "| release WASM main bundle (every page), gzip -9 | {:.0} KB | ≤ 400 KB | {} | target/site/pkg/calsync.wasm, {:.0} KB uncompressed |\n",
        kb(wasm.main_gz),
        verdict(wasm.main_gz),
        kb(wasm.main_raw)
    );
    if let Some((page, gz)) = wasm.heaviest() {
        let all: Vec<String> = wasm.first_visit_gz.iter().map(|(page, gz)| format!("{page} {:.0}", kb(*gz))).collect();
        md += &format!(
            "| release WASM, heaviest first visit (main + page), gzip -9 | {:.0} KB | ≤ 400 KB | {} | {page}; every page in KB: {} |\n",
            kb(gz),
            verdict(gz),
            all.join(", ")
        );
    }
    md
}

/// How the figures come about, and what a missed one means.
const HOW: &str = "
## How these are measured

- **Calls** are counted by the in-process simulator. The comprehensive
  check lists the window 250 bookings a page (which also sets the
  `afterUpdatedAt` watermark); the 6-hour cycle asks for the bookings changed
  since the watermark (one page when little changed), where a naive
  verifier would GET every booking.
- **100,000 appointments**: one comprehensive check against a simulator
  running as a separate process (`calsync calcom-sim`, started from the
  release build), so the peak RSS (`VmHWM`, reset just before the run) is
  calsync's own, as it would be against the real Cal.com. Listing pages
  are reduced to the compared fields as they arrive, and outcomes are
  written 250 per transaction. The simulator keeps a listing's sorted
  selection between its pages (until a booking changes), as a database
  walks an index: it used to filter and sort the whole window for every
  page, so the floor was mostly its own sorting (8.2 s then, 1.4 s now)
  and 1,000,000 appointments were out of reach. `BENCH_LARGE=1000000`
  runs the same check on 1,000,000. The check works in consecutive time
  spans of at most about 20,000 appointments (by the count in the window,
  spread evenly), each listed, verified and written before the next, so it
  holds one span's listing, appointments and findings (about 1 KB per
  appointment) at a time, not the whole window. The bench fills the table
  with 1,000-row INSERTs sent unprepared: cached, they were about 120 MB of
  the peak at 100,000 and 270 MB at 1,000,000, none of it calsync's.
  Each database's check runs in a process of its own (the bench runs itself
  again with `BENCH_ONLY=large-one`), and before the peak is reset the
  memory the filling of the table freed is handed back (`malloc_trim`) and
  the pages it left in the SQLite connections' caches are dropped (`PRAGMA
  shrink_memory`: up to 2 MB a connection, 7–11 MB more at 1,000,000 than
  at 100,000, which the last rows took for growth of the check): in
  one process the PostgreSQL check at 1,000,000 \"peaked\" at 263 MB, most of
  it the SQLite run's and its own filling's leftovers. With
  `BENCH_LARGE=1000000` the same check of 100,000 also runs, in a process of
  its own, for the \"within 20 %\" row.
- **Floor and naive** (the ratios that mean something on any machine): the
  first check moves every appointment from pending into sync (as after an
  import) and writes a history row for each move; its floor is the same
  listing plus the same outcomes in one transaction (every state and as
  many history rows), nothing else. The daily check after it finds every
  appointment still in sync and writes no history; its floor is the
  listing plus every state. The naive verifier GETs each booking by uid and
  writes its outcome. On loopback without a rate limit a GET costs about
  what a row write costs, so \"naive ÷ calsync\" there cannot reach 50 × even
  for a verifier as fast as its floor; the judged row prices every call at
  Cal.com's 120 requests a minute (naive: one call per appointment;
  calsync: its counted listing calls plus its whole measured time, as if
  none of its work overlapped the waiting). Each figure is the median of
  three runs (`BENCH_LARGE_RUNS`), each in a fresh process and database:
  one run's floor varied by 1.7 × between runs on a shared machine.
- **How outcomes are written**: one multi-row statement per batch of 250
  history rows, and states 250 rows per statement on SQLite, 50 on
  PostgreSQL. The statement builder (`store::sql::Sql`) writes SQLite plain
  `?` placeholders: SQLite takes `$1` as a *named* parameter and sqlx looks
  each name up by walking the statement's list of them, so a statement's
  cost grew with the square of its placeholders, which held the statements
  at 25 rows, and each statement is a hand-off to sqlx's worker thread and
  back. On PostgreSQL the UPDATE's join with its rows of values is planned
  from the table's statistics, and above 50 rows a statement it was planned
  as a scan of the organization's rows (a daily check of 100,000: 5.6 s at
  50, 14 s at 250, 24 s at 100).
- **1,000,000 appointments**: the dashboard's counts come from
  `appointment_state_counts`, kept by triggers on SQLite, so the summary
  does not scan the table. Pages are fetched over HTTP by a signed-in
  admin: one at a time for latency, and with `wrk` (2 threads, 16
  connections, 10 s, in its own process) for throughput. Accepted sockets
  have `TCP_NODELAY` set: without it, every streamed page waited for the
  client's delayed ACK, which held latency at about 44 ms and throughput
  at about 360 requests/s.
- **Webhook → feed**: a booking moved in the simulator sends its signed
  webhook; calsync verifies it, flags the mismatch, notifies, and nudges
  the live feed, and the time is taken when the open `/events` stream
  shows the new notification.
- **Import** (`BENCH_ONLY=import`): one `calsync serve` (its app and
  workers, in the bench's process) is running while `calsync import` (the
  command line's own entry point, its own pool) reads a JSON Lines file
  of 10,000 appointments, each with its booking uid, 08:00–18:00 over 60
  days, into SQLite; the simulator holds the matching bookings. Nothing
  else runs: the worker's plain \"verify what is due\" (every 15 s)
  verifies them, choosing listings or per-uid requests by the planner.
  Calls are the simulator's from the start of the import; the time runs
  from the import's end until no appointment is pending. The worker
  claims up to 10,000 due appointments at once and plans them as one (a
  sizing request, then the pages of the window, widened by the longest
  booking). Claimed 1,000 at a time, each batch was planned on its own and
  its widened window also paged through the next batch's bookings: 59
  calls, where one plan takes about 42.
- **Shared budget** (`BENCH_ONLY=budget`): on PostgreSQL, 15,000 new
  appointments over 120 days (more than a minute's 120 calls of work),
  then at once the serving instances and one `calsync verify --org acme
  --full` per instance, all on one key. Instances and CLI runs are in the
  bench's process but each has its own connection pool, as separate
  processes have, so whatever they share goes through the database (the
  code paths of `calsync serve` and `calsync verify`). Run once with one
  instance and one full check, once with two and two; 429s, full checks
  that ran, and the two totals are the simulator's.
- **Webhook burst** (`BENCH_ONLY=burst`): 1,000 bookings with their
  appointments in sync, all cancelled in the simulator (silently), then
  one signed `BOOKING_CANCELLED` delivery each (HMAC-SHA256 under the
  organization's webhook secret, as Cal.com signs) sent by 50 concurrent
  senders to a serving calsync's `POST /webhooks/calcom/{org}` over
  loopback. Answer times are per request, at the sender; the change is
  visible when every appointment is Failed with a data mismatch; calls are
  the simulator's from the first delivery on. The same burst is then sent
  to the release `calsync serve` as a process of its own, killed with
  SIGKILL once half the deliveries have been answered and started again:
  a delivery is lost if it was answered 200 and the inbox has not acted on
  it within 120 s of the restart.
- **WASM**: the release build `make bench` builds (`wasm-release`
  profile: `opt-level = \"z\"`, LTO, one codegen unit, Leptos'
  `erase_components`, every page a lazy route split out by
  `cargo leptos build --split`, then `wasm-opt`), each file gzipped at
  level 9 on its own, as calsync serves it (`server::router`'s files
  group gzips at its best level for browsers that accept it). The main bundle is what every page loads; a page's
  first visit adds its own module (`split_<page>.wasm`) and the chunks
  the split manifest lists for it (the pieces it shares with other pages);
  the split loader fetches all of them before the page runs. Before the split the one
  bundle was 682 KB gzip. The earlier lazy-route attempt's intermittent
  hydration mismatches did not come back in repeated full browser-test
  runs with the split (the review badge's defect, fixed since, was their
  likely cause). Where the code goes, read from the function names of the
  build before splitting (2026-12-07, 2.6 MB of code before wasm-opt):
  reading server answers with serde_json about 8.5 % (one
  `deserialize_struct` of about 2.7 KB per answer type), the glue that
  makes each of about 140 components a type-erased view about 7 %, the
  reactive graph's code per resource (about 5 KB each) and per effect
  type most of the rest of the framework's share; calsync's own components
  are small. Taken out, in order: answers are read by one reader
  (`app::rpc::answer`: Leptos' default resource codec read a page's copy
  with `from_str` where the server-function client reads with
  `from_slice`, so every answer type's reader was compiled twice; 7 % of
  the code), `ConfirmButton`'s body is one function rather than one copy
  per call site's closure (4 %), wasm-opt strips the `producers` and
  `target_features` sections (about 200 bytes in each of the ~290 files;
  43 split files are empty modules), answers and errors travel in
  postcard (read by position: no field-name matching per answer type, and
  no JSON reader left in the browser, whose error messages had also
  brought float formatting into main) and the bell's times as
  milliseconds (reading RFC 3339 text had put about 24 KB of chrono's
  parser into main): main 285 → 250 KB; and forms are read by
  `components::post_form` instead of Leptos' `ActionForm`, whose serde_qs
  reader was a 20 KB file shared by the six pages with such forms (user
  settings 403 → 374 KB, main 248 KB). What remains is mostly the framework (tachys,
  the reactive graph, the router) and, per page, about 30 KB of gzip
  overhead: code some pages share but main does not lands in one file
  per combination of pages (up to 135 files a visit), and wasm-split
  (cargo-leptos 0.3.10) has no setting for fewer, larger files. (`wasm-opt` is
  binaryen 132 from npm: Debian's 108 made bundles the browser refuses.)
";
