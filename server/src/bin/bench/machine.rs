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

/// VmRSS: the resident set size now.
pub fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    kb_field(&status, "VmRSS:").map(|kb| kb / 1024.0).unwrap_or(0.0)
}

/// Hands the allocator's freed memory back to the system, so a resident
/// size measured next is what is in use, not what glibc's malloc keeps
/// for later. (The one unsafe call in the workspace, in the bench only:
/// glibc offers no other way to ask for it.)
#[allow(unsafe_code)]
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
