//! `calsync import`: appointments as JSON lines, one per appointment, in
//! the REST API's create format, through the same operation's rules.

use std::io::BufRead;

use anyhow::{Context, Result};
use engine::ops::Operations;

use super::refused;
use crate::cli::ImportArgs;

/// Reads every line first: the operation validates all of them before
/// writing any, so a bad file imports nothing and the report names each
/// bad line and field.
pub async fn run(ops: &Operations, args: ImportArgs) -> Result<()> {
    let (caller, _) = ops.command_line_caller(&args.org).await.map_err(refused)?;
    let reader: Box<dyn BufRead> = if args.file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file))?,
        ))
    };
    let mut lines = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.context("cannot read input")?;
        if !line.trim().is_empty() {
            lines.push((index + 1, line));
        }
    }
    let numbered: Vec<(usize, &str)> = lines.iter().map(|(n, line)| (*n, line.as_str())).collect();
    let (imported, skipped) = ops.import_appointments(caller, &numbered).await.map_err(refused)?;
    println!("imported {imported} appointments, skipped {skipped} already present (same external_id)");
    Ok(())
}
