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
    /// Manage admin and viewer accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Import appointments from a JSON Lines file (one object per line, the
    /// REST API's create format); prints how many were imported.
    Import(ImportArgs),
    /// Manage an organization's REST API tokens.
    #[command(subcommand)]
    ApiToken(ApiTokenCommand),
    /// Verify an organization's appointments now and print a summary.
    Verify(VerifyArgs),
    /// Run a local Cal.com API v2 simulator (for demos and tests; never
    /// needed in production).
    CalcomSim(CalcomSimArgs),
    /// Serve like `serve`, plus a Cal.com simulator and a seeded `demo`
    /// organization to look around in (never use in production).
    Demo(DemoArgs),
    /// Write a consistent copy of the SQLite database to FILE (calsync may
    /// keep running). For PostgreSQL use pg_dump.
    Backup {
        /// Where to write the copy; must not exist yet.
        file: std::path::PathBuf,
    },
    /// Replace the SQLite database with the backup FILE (calsync must be
    /// stopped). For PostgreSQL use pg_restore.
    Restore {
        /// A file `calsync backup` wrote.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// The simulator's state file (default: calsync-demo-calcom.json next
    /// to the SQLite database, else in the working directory).
    #[arg(long, env = "CALSYNC_DEMO_STATE")]
    pub sim_state: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The organization's slug.
    #[arg(long)]
    pub org: String,
    /// Run the comprehensive check (the whole Cal.com window) instead of
    /// the cycle of due appointments.
    #[arg(long)]
    pub full: bool,
    /// Opens the stored Cal.com API key.
    #[arg(long, env = "CALSYNC_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// With SMTP_URL set, issues found also queue emails linking here.
    #[arg(long, env = "CALSYNC_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[arg(long, env = "SMTP_URL", hide_env_values = true, hide = true)]
    pub smtp_url: Option<String>,
    /// Delays before the 2nd, 3rd, … verification attempt of an appointment
    /// Cal.com could not confirm (the spec's ladder: 1 minute, 5 minutes).
    #[arg(long, env = "CALSYNC_RETRY_DELAYS", default_value = "1m,5m")]
    pub retry_delays: String,
}

#[derive(Debug, Args)]
pub struct CalcomSimArgs {
    #[arg(long, env = "CALCOM_SIM_ADDR", default_value = "127.0.0.1:3001")]
    pub addr: String,
    /// Accepted API key; repeat for several (default: cal_test_key).
    #[arg(long = "api-key")]
    pub api_keys: Vec<String>,
    /// Keep bookings and webhook subscribers in this JSON file across restarts.
    #[arg(long)]
    pub state: Option<std::path::PathBuf>,
    /// Requests per minute per key before 429; 0 turns the limit off.
    #[arg(long, default_value_t = 120)]
    pub rate_limit: u32,
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
    /// Delays before the 2nd, 3rd, … verification attempt of an appointment
    /// Cal.com could not confirm (the spec's ladder: 1 minute, 5 minutes).
    #[arg(long, env = "CALSYNC_RETRY_DELAYS", default_value = "1m,5m")]
    pub retry_delays: String,
    /// Seconds without a heartbeat after which another calsync process is
    /// taken for dead: its runs are interrupted and its claims released.
    #[arg(long, env = "CALSYNC_WORKER_STALE_SECS", default_value = "60")]
    pub worker_stale_secs: String,
    /// No Cal.com webhook for this long while cycles find bookings changed:
    /// the admins are told webhooks look disabled (units s, m, h).
    #[arg(long, env = "CALSYNC_WEBHOOK_SILENCE", default_value = "24h")]
    pub webhook_silence: String,
    /// Bearer token `/metrics` requires. Unset: `/metrics` is open on a
    /// loopback address and closed on any other.
    #[arg(long, env = "CALSYNC_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// A login ends after this long without a request (units s, m, h).
    #[arg(long, env = "CALSYNC_SESSION_IDLE", default_value = "2h")]
    pub session_idle: String,
    /// A login ends this long after signing in, however active (units s, m, h).
    #[arg(long, env = "CALSYNC_SESSION_MAX", default_value = "12h")]
    pub session_max: String,
    /// Finished runs are deleted after this long (units h, d; at least 1d).
    #[arg(long, env = "CALSYNC_KEEP_RUNS", default_value = "90d")]
    pub keep_runs: String,
    /// Handled webhook deliveries are deleted after this long.
    #[arg(long, env = "CALSYNC_KEEP_DELIVERIES", default_value = "30d")]
    pub keep_deliveries: String,
    /// Sent (or given-up) emails are deleted after this long.
    #[arg(long, env = "CALSYNC_KEEP_EMAILS", default_value = "30d")]
    pub keep_emails: String,
    /// Notifications someone has read are deleted after this long.
    #[arg(long, env = "CALSYNC_KEEP_NOTIFICATIONS", default_value = "90d")]
    pub keep_notifications: String,
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
    /// Connect an organization to Cal.com. Reads the API key from standard
    /// input (never from an argument: those show up in `ps` and shell
    /// history); both secrets are stored encrypted with CALSYNC_SECRET_KEY.
    SetCalcom(SetCalcomArgs),
}

#[derive(Debug, Args)]
pub struct SetCalcomArgs {
    /// The organization's slug.
    #[arg(long)]
    pub org: String,
    /// Cal.com API base URL, e.g. https://api.cal.com.
    #[arg(long)]
    pub base_url: String,
    /// Name of an environment variable holding the webhook signing secret.
    #[arg(long, value_name = "VAR")]
    pub webhook_secret_env: Option<String>,
    /// 64 hex characters; the key secrets are encrypted with.
    #[arg(long, env = "CALSYNC_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account. Reads the password (at least 10 characters) from
    /// standard input.
    Create(CreateUserArgs),
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    /// The organization's slug.
    #[arg(long)]
    pub org: String,
    /// Login email; unique across all organizations.
    #[arg(long)]
    pub email: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// admin (changes things) or viewer (only looks). Checked by the same
    /// rule as the settings page's, so both refuse in the same words.
    #[arg(long, default_value = "admin")]
    pub role: String,
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
