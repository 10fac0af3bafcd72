//! Secrets come in on standard input, never as arguments: arguments are
//! visible to every user in `ps` and end up in shell history.

use std::io::Read;

use anyhow::{anyhow, Context, Result};

/// All of standard input without one trailing line break, so both
/// `echo secret |` and `printf secret |` work.
pub fn read_secret(what: &str) -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the {what} from standard input"))?;
    let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text).to_owned();
    if text.is_empty() {
        return Err(anyhow!("{what}: expected on standard input, got nothing"));
    }
    Ok(text)
}
