//! Background tasks of `calsync serve`. Each loops on an interval until
//! shutdown; a failed round is logged and the next one tries again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use engine::clock::{Clock, SystemClock};
use engine::mail::{deliver_due, SmtpMailer};
use engine::store::Store;
use engine::worker::{Connector, WakeUp, Worker};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Runs `round` every `every` (and whenever `wake` is rung) until `stop` changes.
fn every<F, Fut>(
    name: &'static str,
    every: Duration,
    mut stop: watch::Receiver<bool>,
    wake: Option<WakeUp>,
    mut round: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let woken = || async {
            match &wake {
                Some(wake) => wake.woken().await,
                None => std::future::pending().await,
            }
        };
        loop {
            tokio::select! {
                _ = ticker.tick() => round().await,
                _ = woken() => round().await,
                _ = stop.changed() => break,
            }
        }
        tracing::info!(worker = name, "stopped");
    })
}

/// How often old records are pruned: at start, then hourly.
const HOUSEKEEPING: Duration = Duration::from_secs(3600);

/// Deletes what `retention` no longer keeps, at start and then every hour.
pub fn spawn_housekeeping(
    store: Store,
    retention: engine::store::Retention,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    every("housekeeping", HOUSEKEEPING, stop, None, move || {
        let store = store.clone();
        async move {
            match store.prune(&retention, SystemClock.now()).await {
                Ok(pruned) if pruned.total() > 0 => tracing::info!(?pruned, "pruned old records"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning old records failed; trying again in an hour"),
            }
        }
    })
}

/// How often due reminders of acknowledged issues are sent.
const REMINDERS: Duration = Duration::from_secs(300);

/// Sends the reminders of acknowledged issues still open (see
/// `engine::reminders`), at start and then every five minutes.
pub fn spawn_reminders(store: Store, stop: watch::Receiver<bool>) -> JoinHandle<()> {
    every("reminders", REMINDERS, stop, None, move || {
        let store = store.clone();
        async move {
            match engine::reminders::send_due(&store, SystemClock.now()).await {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "reminded admins of acknowledged issues still open"),
                Err(e) => tracing::warn!(error = %e, "sending reminders failed; trying again in five minutes"),
            }
        }
    })
}

/// How often alert rules are evaluated and their webhooks posted.
const ALERTS: Duration = Duration::from_secs(60);

/// Alert rules' digests, threshold alerts and recovery notices (see
/// `engine::alerting`), then the outgoing alert webhooks, every minute.
/// `public_url` is set when emails are sent (their links need it).
pub fn spawn_alerts(
    store: Store,
    key: Arc<engine::secret_key::SecretKey>,
    public_url: Option<String>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let http = engine::alerting::webhook::client();
    every("alerts", ALERTS, stop, None, move || {
        let (store, key, public_url, http) = (store.clone(), key.clone(), public_url.clone(), http.clone());
        async move {
            let now = SystemClock.now();
            match engine::alerting::round(&store, public_url.as_deref(), now).await {
                Ok(report) if report != Default::default() => tracing::info!(?report, "alert round"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "alert round failed; trying again in a minute"),
            }
            match engine::alerting::webhook::deliver_due(&store, &key, &http, now).await {
                Ok(report) if report != Default::default() => tracing::info!(?report, "alert webhooks"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "posting alert webhooks failed; trying again in a minute"),
            }
        }
    })
}

/// Sends queued emails every 10 seconds.
pub fn spawn_mail(store: Store, mailer: SmtpMailer, stop: watch::Receiver<bool>) -> JoinHandle<()> {
    every("mail", Duration::from_secs(10), stop, None, move || {
        let (store, mailer) = (store.clone(), mailer.clone());
        async move {
            match deliver_due(&store, &mailer, SystemClock.now()).await {
                Ok(report) if report.sent + report.retrying + report.failed > 0 => {
                    tracing::info!(
                        sent = report.sent,
                        retrying = report.retrying,
                        failed = report.failed,
                        "email round"
                    );
                }
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "email round failed"),
            }
        }
    })
}

/// Beats this process's presence, on its own timer so that a long run
/// cannot make a live worker look dead to the other instances.
pub fn spawn_presence<C>(worker: Arc<Worker<C>>, stop: watch::Receiver<bool>) -> JoinHandle<()>
where
    C: Connector + 'static,
    C::Source: 'static,
{
    every("presence", worker.beat_every(), stop, None, move || {
        let worker = worker.clone();
        async move {
            if let Err(err) = worker.beat().await {
                tracing::error!(error = %err, "worker heartbeat failed");
            }
        }
    })
}

/// Verifies what is due and runs scheduled checks every 15 seconds, and at
/// once when a request rings `wake` ("run now").
pub fn spawn_verification<C>(worker: Arc<Worker<C>>, wake: WakeUp, stop: watch::Receiver<bool>) -> JoinHandle<()>
where
    C: Connector + 'static,
    C::Source: 'static,
{
    every("verification", Duration::from_secs(15), stop, Some(wake), move || {
        let worker = worker.clone();
        async move {
            match worker.tick().await {
                Ok(report) if report.verified > 0 || report.runs_started > 0 || report.interrupted > 0 => {
                    tracing::info!(
                        verified = report.verified,
                        runs = report.runs_started,
                        interrupted = report.interrupted,
                        "verification round"
                    );
                }
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "verification round failed"),
            }
        }
    })
}

/// Acts on stored webhook deliveries: at once when the receiver rings
/// `wake` (after a short pause, so a burst is handled as one), else every
/// few seconds (deliveries another instance received, a restart). Open
/// pages hear of the result at once.
pub fn spawn_inbox<C>(
    worker: Arc<Worker<C>>,
    wake: WakeUp,
    live: crate::live::LiveFeed,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()>
where
    C: Connector + 'static,
    C::Source: 'static,
{
    every("inbox", Duration::from_secs(3), stop, Some(wake), move || {
        let (worker, live) = (worker.clone(), live.clone());
        async move {
            // Deliveries of one burst arrive within moments: take them together.
            tokio::time::sleep(INBOX_COALESCE).await;
            match worker.drain_webhooks().await {
                Ok(handled) => {
                    for (org, deliveries) in handled {
                        tracing::info!(org = org.get(), deliveries, "acted on webhook deliveries");
                        live.nudge(org);
                    }
                }
                Err(err) => tracing::error!(error = %err, "acting on webhook deliveries failed"),
            }
        }
    })
}

/// How long the inbox waits after a delivery for the rest of its burst.
const INBOX_COALESCE: Duration = Duration::from_millis(250);
