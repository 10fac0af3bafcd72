//! The command line. Every option can also come from the environment
//! variable named beside it.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "calsync", version, about = "Keeps appointments and Cal.com bookings in sync")]
pub struct Cli {
    /// sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://calsync.db", global = true)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web application and workers (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Import appointments from a JSON Lines file (one object per line, the
    /// REST API's create format); prints how many were imported.
    Import(ImportArgs),
    /// Manage an organization's REST API tokens.
    #[command(subcommand)]
    ApiToken(ApiTokenCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CALSYNC_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: String,
    /// 64 hex characters; signs sessions and encrypts secrets at rest.
    #[arg(long, env = "CALSYNC_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// The URL people use to reach calsync (links in emails).
    #[arg(long, env = "CALSYNC_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Where the built site (pkg/ with wasm, js, css) is.
    #[arg(long, env = "CALSYNC_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// SMTP server for emails, e.g. smtp://127.0.0.1:2525 or
    /// smtp://user:pass@mail.example.com:587?tls=required. Unset: in-app notifications only.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of calsync's emails.
    #[arg(long, env = "SMTP_FROM", default_value = "calsync <noreply@localhost>")]
    pub smtp_from: String,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// IANA time zone.
        #[arg(long, default_value = "Europe/Berlin")]
        time_zone: String,
    },
    /// List organizations.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ApiTokenCommand {
    /// Create a token and print it (shown this once only).
    Create {
        /// The organization's slug.
        #[arg(long)]
        org: String,
        /// What the token is for, e.g. the client system's name.
        #[arg(long)]
        name: String,
    },
    /// List the organization's tokens (never the secrets).
    List {
        #[arg(long)]
        org: String,
    },
    /// Revoke a token at once.
    Revoke {
        #[arg(long)]
        org: String,
        /// The token's id, as `list` shows it.
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The organization's slug.
    #[arg(long)]
    pub org: String,
    /// JSON Lines file; `-` reads standard input.
    pub file: String,
}

impl ServeArgs {
    /// `calsync` without a subcommand serves, taking its settings from the
    /// environment and defaults.
    pub fn from_env() -> ServeArgs {
        #[derive(Parser)]
        struct ServeOnly {
            #[command(flatten)]
            args: ServeArgs,
        }
        ServeOnly::parse_from(["calsync"]).args
    }
}
