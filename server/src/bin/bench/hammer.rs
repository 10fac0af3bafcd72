//! Many browsers at once on the server-rendered pages: `clients` concurrent
//! sessions load the pages in turn until `loads` responses have come back.
//! Every response must be a 200 whose body ends; a body that stops moving
//! for `STALL` counts as a stall (a hung render), never as slow.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use reqwest::header::COOKIE;

use crate::web::{percentile, Site};

/// Far beyond a page's render time (milliseconds), far below a person's patience.
const STALL: Duration = Duration::from_secs(10);

pub struct Hammered {
    pub loads: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub stalls: usize,
    pub not_ok: usize,
}

pub async fn hammer(site: &Site, paths: &[&str], clients: usize, loads: usize) -> Result<Hammered> {
    let next = Arc::new(AtomicUsize::new(0));
    let paths: Arc<Vec<String>> = Arc::new(paths.iter().map(|p| format!("{}{p}", site.base)).collect());
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, paths, http, cookie) = (next.clone(), paths.clone(), site.http().clone(), site.cookie().to_owned());
        tasks.push(tokio::spawn(async move {
            let (mut times, mut stalls, mut not_ok) = (Vec::new(), 0, 0);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= loads {
                    break;
                }
                let url = &paths[n % paths.len()];
                let started = Instant::now();
                let load = async {
                    let response = http.get(url).header(COOKIE, &cookie).send().await?;
                    let ok = response.status().is_success();
                    response.bytes().await?;
                    Ok::<bool, reqwest::Error>(ok)
                };
                match tokio::time::timeout(STALL, load).await {
                    Ok(Ok(true)) => times.push(started.elapsed().as_secs_f64() * 1000.0),
                    Ok(_) => not_ok += 1,
                    Err(_) => {
                        eprintln!("[bench] {url} stalled (load {n})");
                        stalls += 1;
                    }
                }
            }
            (times, stalls, not_ok)
        }));
    }
    let (mut times, mut stalls, mut not_ok) = (Vec::new(), 0, 0);
    for task in tasks {
        let (t, s, n) = task.await?;
        times.extend(t);
        stalls += s;
        not_ok += n;
    }
    let loads = times.len() + stalls + not_ok;
    if times.is_empty() {
        times.push(f64::NAN);
    }
    Ok(Hammered { loads, p50_ms: percentile(&mut times, 50), p99_ms: percentile(&mut times, 99), stalls, not_ok })
}
