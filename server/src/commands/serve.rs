//! `calsync serve`: the web application.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use engine::secret_key::SecretKey;
use engine::store::Store;
use engine::verify::ladder::RetryLadder;
use engine::worker::Worker;

use crate::auth;
use crate::cli::ServeArgs;
use crate::config;
use crate::http;
use crate::router::build_app;
use crate::state::AppState;

pub async fn run(database_url: &str, args: ServeArgs) -> Result<()> {
    let settings = Settings::parse(&args)?;
    let store = super::open(database_url).await?;
    serve(database_url, store, args, settings).await
}

/// `serve`'s settings, checked before anything starts.
pub(crate) struct Settings {
    pub addr: SocketAddr,
    pub secret_key: SecretKey,
    pub public_url: String,
    mailer: Option<engine::mail::SmtpMailer>,
    ladder: RetryLadder,
    worker_stale_after: std::time::Duration,
    webhook_silence: std::time::Duration,
    metrics_token: Option<String>,
    sessions: auth::SessionPolicy,
    retention: engine::store::Retention,
}

impl Settings {
    pub(crate) fn parse(args: &ServeArgs) -> Result<Settings> {
        let addr = config::parse_addr(&args.addr)?;
        let secret_key = config::parse_secret_key(args.secret_key.as_deref())?;
        let public_url = config::parse_public_url(args.public_url.as_deref(), addr)?;
        let mailer = config::mailer(args.smtp_url.as_deref(), &args.smtp_from)?;
        let ladder = config::parse_retry_delays(&args.retry_delays)?;
        let worker_stale_after = config::parse_worker_stale_secs(&args.worker_stale_secs)?;
        let webhook_silence = config::parse_webhook_silence(&args.webhook_silence)?;
        let metrics_token = args.metrics_token.clone().filter(|t| !t.is_empty());
        let sessions = config::parse_session_policy(&args.session_idle, &args.session_max)?;
        let retention = config::parse_retention(
            &args.keep_runs,
            &args.keep_deliveries,
            &args.keep_emails,
            &args.keep_notifications,
        )?;
        Ok(Settings {
            addr,
            secret_key,
            public_url,
            mailer,
            ladder,
            worker_stale_after,
            webhook_silence,
            metrics_token,
            sessions,
            retention,
        })
    }
}

/// Serves on an opened store until a shutdown signal; `demo` calls this
/// too, after its setup, so both run the same server.
pub(crate) async fn serve(database_url: &str, store: Store, args: ServeArgs, settings: Settings) -> Result<()> {
    let Settings {
        addr,
        secret_key,
        public_url,
        mailer,
        ladder,
        worker_stale_after,
        webhook_silence,
        metrics_token,
        sessions,
        retention,
    } = settings;
    let mut state = AppState::new(store, secret_key, &public_url, &args.site_root, addr).with_ladder(ladder);
    state.verifier = state.verifier.with_webhook_silence(webhook_silence);
    state.metrics_access = http::metrics::MetricsAccess::for_listener(metrics_token.as_deref(), addr);
    state.sessions = sessions;
    if state.metrics_access == http::metrics::MetricsAccess::Closed {
        tracing::warn!(%addr, "/metrics is closed: calsync listens beyond loopback and CALSYNC_METRICS_TOKEN is not set");
    }
    if mailer.is_some() {
        state = state.with_email();
    }
    let app = build_app(state.clone());

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = Arc::new(state.worker(worker_stale_after));
    let mut workers = vec![
        crate::workers::spawn_presence(worker.clone(), stopped.clone()),
        crate::workers::spawn_verification(worker.clone(), state.wake_worker.clone(), stopped.clone()),
        crate::workers::spawn_inbox(worker.clone(), state.wake_inbox.clone(), state.live.clone(), stopped.clone()),
        crate::workers::spawn_housekeeping(state.store.clone(), retention, stopped.clone()),
        crate::workers::spawn_reminders(state.store.clone(), stopped.clone()),
    ];
    workers.push(auth::session_store::spawn_cleanup(
        auth::DbSessionStore::new(state.store.clone()),
        std::time::Duration::from_secs(600),
        stopped.clone(),
    ));
    let email_links = mailer.is_some().then(|| state.public_url.to_string());
    workers.push(crate::workers::spawn_alerts(
        state.store.clone(),
        state.secret_key.clone(),
        email_links,
        stopped.clone(),
    ));
    match mailer {
        Some(mailer) => workers.push(crate::workers::spawn_mail(state.store.clone(), mailer, stopped.clone())),
        None => tracing::warn!("SMTP_URL is not set: notifications stay in the app, no emails are sent"),
    }

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| config::ConfigError::new("CALSYNC_ADDR", format!("cannot listen on {addr}: {e}")))?;
    tracing::info!(%addr, %public_url, database = %engine::store::redact_url(database_url), "calsync listening");
    let signalled = Arc::new(tokio::sync::Notify::new());
    let server =
        axum::serve(without_nagle(listener), app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown({
                let (live, signalled) = (state.live.clone(), signalled.clone());
                async move {
                    shutdown_signal().await;
                    signalled.notify_one();
                    // Open pages' event streams end now; other requests may finish.
                    live.close();
                }
            });
    tokio::select! {
        served = std::future::IntoFuture::into_future(server) => served.context("server stopped with an error")?,
        () = async {
            signalled.notified().await;
            tokio::time::sleep(REQUEST_GRACE).await;
        } => tracing::warn!("requests still open {} s after the signal were cut", REQUEST_GRACE.as_secs()),
    }
    stop_workers(&worker, workers, stop).await;
    tracing::info!("calsync stopped");
    Ok(())
}

/// How long requests in flight may take to finish after SIGTERM.
const REQUEST_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
/// How long the workers' current rounds may take to finish after SIGTERM;
/// a round still going then is cut and its work released.
const WORKER_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

/// Stops the background tasks: each finishes its current round (within
/// [`WORKER_GRACE`]), then this worker's running runs are marked
/// interrupted and its claims released, so another instance or the next
/// start takes over at once instead of after the claims' lease.
async fn stop_workers<C>(
    worker: &Worker<C>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
) where
    C: engine::worker::Connector,
{
    let _ = stop.send(true);
    let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
    if tokio::time::timeout(WORKER_GRACE, futures_util::future::join_all(tasks)).await.is_err() {
        tracing::warn!("background work still running {} s after the signal was cut", WORKER_GRACE.as_secs());
        aborts.iter().for_each(tokio::task::AbortHandle::abort);
    }
    match worker.release().await {
        Ok(released) if released.runs_interrupted + released.claims_released > 0 => tracing::info!(
            runs = released.runs_interrupted,
            claims = released.claims_released,
            "released this instance's work for the others"
        ),
        Ok(_) => {}
        Err(err) => {
            tracing::error!(error = %err, "releasing this instance's work failed; its claims lapse on their own")
        }
    }
}

/// Accepted connections with Nagle's algorithm off. Pages are streamed in
/// several small writes; with it on, each write after the first waits for
/// the client's delayed ACK (40 ms on Linux), which capped a loaded page at
/// ~40 ms and the dashboard at ~360 requests/s on 16 connections.
pub fn without_nagle(listener: tokio::net::TcpListener) -> NoDelayListener {
    use axum::serve::ListenerExt;
    listener.tap_io(set_nodelay as fn(&mut tokio::net::TcpStream))
}

/// A concrete type, not `impl Listener`: axum's connection info (the
/// client's address, for throttling) is implemented for `TapIo` itself.
pub type NoDelayListener = axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)>;

fn set_nodelay(tcp: &mut tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut sig) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            sig.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
