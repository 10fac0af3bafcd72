//! What the numbers were measured on, and the process's memory.

use std::process::Command;

pub fn describe() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_gb = kb_field(&meminfo, "MemTotal:").map(|kb| kb / 1024.0 / 1024.0).unwrap_or(0.0);
    format!("nproc {cpus}, {model}, {ram_gb:.1} GB RAM")
}

fn kb_field(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// VmHWM: the highest resident set size so far.
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    kb_field(&status, "VmHWM:").map(|kb| kb / 1024.0).unwrap_or(0.0)
}

/// Writing 5 to clear_refs resets VmHWM (Linux ≥ 4.0), so each measurement
/// starts from the current size instead of the previous one's peak.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The release WASM bundle's size after gzip -9, if it was built.
pub fn wasm_gzip_bytes() -> Option<(String, u64, u64)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg");
    let wasm = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "wasm"))?;
    let raw = std::fs::metadata(&wasm).ok()?.len();
    // gzip reads the file itself: feeding it through a pipe while its output
    // pipe fills up unread would deadlock on a bundle of any real size.
    let out = Command::new("gzip").arg("-9c").arg(&wasm).output().ok()?;
    let name = wasm.file_name()?.to_string_lossy().into_owned();
    out.status.success().then(|| (format!("target/site/pkg/{name}"), raw, out.stdout.len() as u64))
}
