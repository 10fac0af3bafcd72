//! What a browser downloads of the release build's WASM: the main bundle
//! every page loads, and for each page (a lazy route, split out by
//! `cargo leptos build --split`) the main bundle plus the page's own module
//! (`split_<name>.wasm`) and the chunks the split manifest lists for it,
//! all of which the split loader fetches before the page runs. Each file
//! is gzipped on its own, as it is served.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct WasmSizes {
    pub main_raw: u64,
    pub main_gz: u64,
    /// Page (its lazy view's name) → bytes, gzipped, of its first visit.
    pub first_visit_gz: BTreeMap<String, u64>,
}

impl WasmSizes {
    /// The page whose first visit downloads most, and how much.
    pub fn heaviest(&self) -> Option<(&str, u64)> {
        self.first_visit_gz.iter().max_by_key(|(_, &gz)| gz).map(|(page, &gz)| (page.as_str(), gz))
    }
}

/// `None` if the release site has not been built.
pub fn measure() -> Option<WasmSizes> {
    let pkg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg");
    let main = pkg.join("calsync.wasm");
    let main_raw = std::fs::metadata(&main).ok()?.len();
    let main_gz = gzip_len(&main)?;
    let manifest: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("__wasm_split_manifest.json")).ok()?).ok()?;
    let mut first_visit_gz = BTreeMap::new();
    for (split, chunks) in manifest {
        // The manifest names only the shared chunks; the page's own code
        // is its split module.
        let mut total = main_gz + gzip_len(&pkg.join(format!("split_{split}.wasm")))?;
        for file in chunks {
            total += gzip_len(&pkg.join(format!("{file}.wasm")))?;
        }
        first_visit_gz.insert(page_name(&split), total);
    }
    Some(WasmSizes { main_raw, main_gz, first_visit_gz })
}

/// `__review_queue_view_4457065805857072765` → `review_queue`.
fn page_name(split: &str) -> String {
    let name = split.trim_start_matches('_');
    let name = name.rsplit_once('_').map_or(name, |(name, _hash)| name);
    name.strip_suffix("_view").unwrap_or(name).to_owned()
}

fn gzip_len(file: &PathBuf) -> Option<u64> {
    // gzip reads the file itself: feeding it through a pipe while its output
    // pipe fills up unread would deadlock on a bundle of any real size.
    let out = Command::new("gzip").arg("-9c").arg(file).output().ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}
