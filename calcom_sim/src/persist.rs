//! `--state FILE`: bookings and webhook subscribers in a JSON file, read at
//! start and rewritten (debounced) after changes, so a demo survives a
//! restart. Faults, counters, rate windows and the clock offset are
//! deliberately not kept: a restart starts those afresh.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::bookings::SimBooking;
use super::server::{Sim, SimError};
use super::webhooks::Subscriber;

const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StateFile {
    pub version: u32,
    pub last_id: i64,
    pub bookings: Vec<SimBooking>,
    #[serde(default)]
    pub subscribers: Vec<Subscriber>,
}

/// What is written: borrowed, so saving does not copy every booking.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateFileRef<'a> {
    version: u32,
    last_id: i64,
    bookings: Vec<&'a SimBooking>,
    subscribers: Vec<Subscriber>,
}

/// The saved state, or `None` if there is no file yet. A file that exists
/// but cannot be read is an error: starting empty would overwrite it.
pub(crate) fn load(path: &Path) -> Result<Option<StateFile>, SimError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SimError::State { path: path.to_owned(), detail: e.to_string() }),
    };
    let state: StateFile =
        serde_json::from_slice(&bytes).map_err(|e| SimError::State { path: path.to_owned(), detail: e.to_string() })?;
    if state.version != FORMAT_VERSION {
        let detail = format!("format version {} (this simulator writes {FORMAT_VERSION})", state.version);
        return Err(SimError::State { path: path.to_owned(), detail });
    }
    Ok(Some(state))
}

/// Writes the current state: to a temporary file first, then renamed over
/// the old one, so a crash mid-write leaves the previous state intact.
pub(crate) fn save(sim: &Sim, path: &Path) -> Result<(), SimError> {
    let bytes = {
        let bookings = sim.bookings();
        let state = StateFileRef {
            version: FORMAT_VERSION,
            last_id: bookings.last_id(),
            bookings: bookings.all().collect(),
            subscribers: sim.hub.snapshot(),
        };
        serde_json::to_vec(&state).map_err(|e| SimError::State { path: path.to_owned(), detail: e.to_string() })?
    };
    let temporary = temporary_path(path);
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| SimError::State { path: path.to_owned(), detail: e.to_string() })
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Runs until the simulator is dropped: after each change, waits
/// `debounce` (collecting further changes), then saves once.
pub(crate) async fn save_loop(
    mut changes: mpsc::UnboundedReceiver<()>,
    sim: Weak<Sim>,
    path: PathBuf,
    debounce: Duration,
) {
    while changes.recv().await.is_some() {
        tokio::time::sleep(debounce).await;
        while changes.try_recv().is_ok() {}
        let Some(sim) = sim.upgrade() else { return };
        let path = path.clone();
        // Serialising 100,000 bookings takes a while: not on the async workers.
        let saved = tokio::task::spawn_blocking(move || save(&sim, &path)).await;
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "calcom-sim: state not saved"),
            Err(e) => tracing::error!(error = %e, "calcom-sim: state saving task failed"),
        }
    }
}
