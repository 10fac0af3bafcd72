//! What the numbers were measured on, and the process's memory.

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
