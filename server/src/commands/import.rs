use std::io::BufRead;

use anyhow::{anyhow, Context, Result};
use chrono::Utc;
use engine::appointments::validate_new;
use engine::domain::AppointmentSource;
use engine::store::Store;

use crate::cli::ImportArgs;

/// Validates every line before writing any, so a bad file imports nothing
/// and the report names each bad line and field.
pub async fn run(store: &Store, args: ImportArgs) -> Result<()> {
    let org =
        store.organization_by_slug(&args.org).await.map_err(|_| anyhow!("--org: no organization {:?}", args.org))?;
    let reader: Box<dyn BufRead> = if args.file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file))?,
        ))
    };
    let mut appointments = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.context("cannot read input")?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str(&line).map_err(|e| e.to_string()).and_then(|value| {
            validate_new(&value, org.time_zone, AppointmentSource::Import).map_err(|e| e.to_string())
        });
        match parsed {
            Ok(a) => appointments.push(a),
            Err(problem) => problems.push(format!("line {}: {problem}", index + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(anyhow!("nothing imported; {}", problems.join("; ")));
    }
    let mut imported = 0;
    let mut skipped = 0;
    for new in &appointments {
        match store.insert_appointment(org.id, new, "import", Utc::now()).await {
            Ok(_) => imported += 1,
            Err(engine::store::StoreError::Conflict(_)) => skipped += 1,
            Err(e) => return Err(e.into()),
        }
    }
    println!("imported {imported} appointments, skipped {skipped} already present (same external_id)");
    Ok(())
}
