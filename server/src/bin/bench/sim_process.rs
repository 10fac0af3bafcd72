//! The simulator as a process of its own (`calsync calcom-sim`), for the
//! large run: calsync's peak memory is then calsync's, not calsync's plus
//! the simulator's 100,000 bookings, as it would be against the real Cal.com.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use calcom_sim::SeedBooking;
use engine::calcom::{ApiKey, ClientConfig};
use reqwest::Client;
use serde::Deserialize;

const API_KEY: &str = "cal_bench_key";
/// Bookings per control request: a few MB of JSON each.
const SEED_CHUNK: usize = 5000;

pub struct SimProcess {
    child: Child,
    pub base_url: String,
    http: Client,
}

#[derive(Deserialize)]
struct Created {
    uids: Vec<String>,
}

/// The release `calsync` binary `make bench` built, for the parts that run
/// it as a process of its own.
pub fn release_calsync() -> Result<PathBuf> {
    let exe = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/calsync");
    if !exe.exists() {
        bail!("{} is not built (make bench builds it)", exe.display());
    }
    Ok(exe)
}

impl SimProcess {
    /// Starts the release binary `make bench` built, without a rate limit.
    pub async fn start() -> Result<SimProcess> {
        let exe = release_calsync()?;
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let child = Command::new(&exe)
            .args(["calcom-sim", "--addr", &addr.to_string(), "--rate-limit", "0", "--api-key", API_KEY])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let sim = SimProcess { child, base_url: format!("http://{addr}"), http: Client::new() };
        for _ in 0..100 {
            let up = sim.http.get(format!("{}/_sim/health", sim.base_url)).send().await;
            if up.is_ok_and(|r| r.status().is_success()) {
                return Ok(sim);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the simulator did not come up at {}", sim.base_url)
    }

    /// Seeds bookings through the control API; their uids, in order.
    pub async fn seed(&self, seeds: Vec<SeedBooking>) -> Result<Vec<String>> {
        let mut uids = Vec::with_capacity(seeds.len());
        for chunk in seeds.chunks(SEED_CHUNK) {
            let response = self.http.post(format!("{}/_sim/bookings", self.base_url)).json(chunk).send().await?;
            if !response.status().is_success() {
                bail!("seeding the simulator: {}", response.status());
            }
            uids.extend(response.json::<Created>().await?.uids);
        }
        Ok(uids)
    }

    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::new(self.base_url.clone(), ApiKey::new(API_KEY))
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
