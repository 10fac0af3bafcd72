//! One module per subcommand.

mod admin;
mod api_token;
mod backup;
mod calcom_sim;
mod demo;
mod import;
mod migrate;
mod org;
mod serve;
mod stdin;
mod verify;

use anyhow::Result;
use engine::ops::{OpError, Operations};
use engine::store::Store;

use crate::cli::{Cli, Command, ServeArgs};
use crate::config;

pub(crate) use serve::shutdown_signal;
pub use serve::without_nagle;

pub async fn run(cli: Cli) -> Result<()> {
    config::check_database_url(&cli.database_url)?;
    match cli.command.unwrap_or_else(|| Command::Serve(ServeArgs::from_env())) {
        Command::Serve(args) => serve::run(&cli.database_url, args).await,
        Command::Migrate => migrate::run(&cli.database_url).await,
        Command::Org(cmd) => org::run(&operations(&cli.database_url).await?, cmd).await,
        Command::Admin(cmd) => admin::run(&operations(&cli.database_url).await?, cmd).await,
        Command::ApiToken(cmd) => api_token::run(&operations(&cli.database_url).await?, cmd).await,
        Command::Import(args) => import::run(&operations(&cli.database_url).await?, args).await,
        Command::Verify(args) => verify::run(&open(&cli.database_url).await?, args).await,
        Command::CalcomSim(args) => calcom_sim::run(args).await,
        Command::Demo(args) => demo::run(&cli.database_url, args).await,
        Command::Backup { file } => backup::backup(&cli.database_url, &file).await,
        Command::Restore { file } => backup::restore(&cli.database_url, &file).await,
    }
}

/// The use cases over the database at `url`.
async fn operations(url: &str) -> Result<Operations> {
    Ok(Operations::new(open(url).await?))
}

/// An operation's refusal as the command line says it: the field becomes
/// its flag (`base_url` → `--base-url`), the words are the web's and the
/// REST API's. Secrets come on standard input, so their fields say so.
pub(crate) fn refused(error: OpError) -> anyhow::Error {
    match error {
        OpError::Invalid { field, message } => {
            let name = match field {
                "password" => "password (standard input)".to_owned(),
                "api_key" => "Cal.com API key (standard input)".to_owned(),
                "webhook_secret" => "--webhook-secret-env".to_owned(),
                "file" => "FILE".to_owned(),
                flag => format!("--{}", flag.replace('_', "-")),
            };
            anyhow::anyhow!("{name}: {message}")
        }
        OpError::Fields(errors) => anyhow::anyhow!("{errors}"),
        OpError::NotFound(what) => anyhow::anyhow!("{what} not found"),
        OpError::Conflict(why) | OpError::Malformed(why) | OpError::Unauthenticated(why) => anyhow::anyhow!("{why}"),
        OpError::Forbidden => anyhow::anyhow!("not allowed from the command line"),
        OpError::Internal(cause) => anyhow::anyhow!(cause),
    }
}

/// Opens the database and brings its schema up to date; the error names
/// DATABASE_URL so a wrong value is obvious.
pub(crate) async fn open(url: &str) -> Result<Store> {
    Store::open(url).await.map_err(|e| config::ConfigError::new("DATABASE_URL", e.to_string()).into())
}
