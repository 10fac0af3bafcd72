//! Putting the simulator together: its shared state (`Sim`), the router,
//! serving on a listener, and `spawn` for tests (a server on 127.0.0.1:0
//! whose handle controls it in-process).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::bookings::{Bookings, Catalog};
use super::clock::SimClock;
use super::config::SimConfig;
use super::control::SimControl;
use super::counters::CallCounters;
use super::faults::Faults;
use super::ratelimit::KeyLimiter;
use super::webhooks::WebhookHub;
use super::{api, control, persist, webhooks};
use engine::calcom::{ApiKey, ClientConfig, RateBudget};
use engine::clock::Clock;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("calcom-sim I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("calcom-sim state file {}: {detail}", path.display())]
    State { path: PathBuf, detail: String },
    /// Bad seed data or a bad control request.
    #[error("{0}")]
    Invalid(String),
    /// A seeded uid that already exists.
    #[error("{0}")]
    Conflict(String),
    #[error("the simulator must be started inside a Tokio runtime")]
    NoRuntime,
}

/// Everything the handlers share.
pub(crate) struct Sim {
    pub catalog: Catalog,
    pub clock: SimClock,
    api_keys: Vec<ApiKey>,
    bookings: Mutex<Bookings>,
    pub limiter: Mutex<KeyLimiter>,
    pub faults: Mutex<Faults>,
    pub counters: Mutex<CallCounters>,
    pub hub: WebhookHub,
    /// Tells the save task that something changed (with `--state`).
    dirty: Option<mpsc::UnboundedSender<()>>,
    state_file: Option<PathBuf>,
}

/// Locks a mutex whose data stays valid even if a holder panicked (every
/// change to it is completed before the lock is released).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sim {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn bookings(&self) -> MutexGuard<'_, Bookings> {
        lock(&self.bookings)
    }

    pub fn accepts(&self, key: &str) -> bool {
        self.api_keys.iter().any(|k| k.expose() == key)
    }

    pub fn first_key(&self) -> ApiKey {
        self.api_keys.first().cloned().unwrap_or_else(|| ApiKey::new(super::config::DEFAULT_API_KEY))
    }

    /// Call after every change to bookings or subscribers.
    pub fn changed(&self) {
        if let Some(dirty) = &self.dirty {
            let _ = dirty.send(());
        }
    }

    pub fn count_webhook(&self, delivered: bool) {
        let mut counters = lock(&self.counters);
        if delivered {
            counters.webhooks_delivered += 1;
        } else {
            counters.webhooks_failed += 1;
        }
    }

    /// Writes the state file now (if there is one).
    pub fn flush(&self) -> Result<(), SimError> {
        match &self.state_file {
            Some(path) => persist::save(self, path),
            None => Ok(()),
        }
    }
}

/// A simulator with its state loaded and its background tasks (webhook
/// delivery, state saving) running, ready to be served.
pub struct SimServer {
    sim: Arc<Sim>,
    tasks: Vec<JoinHandle<()>>,
}

impl SimServer {
    /// Loads `--state` (if given) and starts the background tasks; must be
    /// called inside a Tokio runtime.
    pub fn start(config: SimConfig) -> Result<SimServer, SimError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| SimError::NoRuntime)?;
        let saved = match &config.state_file {
            Some(path) => persist::load(path)?,
            None => None,
        };
        let mut bookings = Bookings::default();
        let mut subscribers = Vec::new();
        if let Some(saved) = saved {
            for booking in saved.bookings {
                bookings
                    .insert(booking)
                    .map_err(|dup| SimError::Invalid(format!("state file repeats uid {}", dup.0)))?;
            }
            while bookings.last_id() < saved.last_id {
                bookings.next_id();
            }
            subscribers = saved.subscribers;
        }
        let (hub, changes) = WebhookHub::new(subscribers);
        let (dirty, dirty_rx) = match config.state_file {
            Some(_) => {
                let (tx, rx) = mpsc::unbounded_channel();
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let sim = Arc::new(Sim {
            catalog: Catalog::default(),
            clock: SimClock::new(config.clock.clone()),
            api_keys: config.api_keys.clone(),
            bookings: Mutex::new(bookings),
            limiter: Mutex::new(KeyLimiter::new(config.rate_limit)),
            faults: Mutex::new(Faults::default()),
            counters: Mutex::new(CallCounters::default()),
            hub,
            dirty,
            state_file: config.state_file.clone(),
        });
        // The tasks hold only weak references: dropping the last handle
        // ends them (their channels close with the `Sim`).
        let mut tasks = vec![runtime.spawn(webhooks::deliver_loop(changes, Arc::downgrade(&sim)))];
        if let (Some(rx), Some(path)) = (dirty_rx, config.state_file) {
            tasks.push(runtime.spawn(persist::save_loop(rx, Arc::downgrade(&sim), path, config.persist_debounce)));
        }
        Ok(SimServer { sim, tasks })
    }

    /// The whole HTTP surface: `/v2/…` (Cal.com) and `/_sim/…` (control).
    pub fn router(&self) -> Router {
        api::router(self.sim.clone())
            .merge(control::router(self.sim.clone()))
            .fallback(api::unknown_route(self.sim.clone()))
    }

    pub fn control(&self) -> SimControl {
        SimControl::new(self.sim.clone())
    }

    /// Serves until the process ends.
    pub async fn serve(self, listener: TcpListener) -> Result<(), SimError> {
        self.serve_with_shutdown(listener, std::future::pending()).await
    }

    /// Serves until `shutdown` completes, then saves the state file.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), SimError> {
        let served = axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await;
        let sim = self.sim.clone();
        // Writing 100,000 bookings blocks for a while: not on an async worker.
        let flushed = tokio::task::spawn_blocking(move || sim.flush())
            .await
            .map_err(|e| SimError::Io(std::io::Error::other(e.to_string())))?;
        served?;
        flushed
    }

    /// Serves on 127.0.0.1 with a port of the system's choosing, in the
    /// background.
    pub async fn spawn(self) -> Result<SimHandle, SimError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let control = self.control();
        let tasks = self.tasks.iter().map(|t| t.abort_handle()).collect();
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = self.serve_with_shutdown(listener, shutdown).await {
                tracing::error!(error = %e, "calcom-sim stopped");
            }
        });
        Ok(SimHandle {
            base_url: format!("http://{addr}"),
            addr,
            control,
            stop: Some(stop),
            server: Some(server),
            tasks,
        })
    }
}

/// Serves a simulator built from `config` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, config: SimConfig) -> Result<(), SimError> {
    SimServer::start(config)?.serve(listener).await
}

/// Serves until `shutdown` completes, then saves the state file (for the CLI: pass Ctrl-C).
pub async fn serve_with_shutdown(
    listener: TcpListener,
    config: SimConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SimError> {
    SimServer::start(config)?.serve_with_shutdown(listener, shutdown).await
}

/// Starts a simulator on 127.0.0.1:0 in the background (tests).
pub async fn spawn(config: SimConfig) -> Result<SimHandle, SimError> {
    SimServer::start(config)?.spawn().await
}

/// A running simulator: where it listens, and its controls (in-process,
/// through `Deref` to `SimControl`). Dropping it stops the server.
pub struct SimHandle {
    pub base_url: String,
    pub addr: SocketAddr,
    control: SimControl,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl SimHandle {
    pub fn control(&self) -> &SimControl {
        &self.control
    }

    /// The first accepted API key.
    pub fn api_key(&self) -> ApiKey {
        self.control.sim().first_key()
    }

    /// A client configuration for this simulator: its URL, its first key
    /// and a budget matching its rate limit.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new(self.base_url.clone(), self.api_key());
        if let Some(limit) = self.control.rate_limit() {
            config.budget = RateBudget::new(limit.limit, limit.window);
        }
        config
    }

    /// Stops serving (open requests finish), saves the state file, ends the
    /// background tasks.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::ops::Deref for SimHandle {
    type Target = SimControl;

    fn deref(&self) -> &SimControl {
        &self.control
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}
