//! Everything a request handler may need, built once at start: the store,
//! the Cal.com connector, the verifier, the live feed, the keys and limits.

use std::net::SocketAddr;
use std::sync::Arc;

use app::context::ServerContext;
use engine::calcom::CalcomConnector;
use engine::clock::SystemClock;
use engine::ops::Operations;
use engine::secret_key::SecretKey;
use engine::store::Store;
use engine::verify::circuit::Circuits;
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;
use engine::worker::{WakeUp, Worker};
use leptos::prelude::LeptosOptions;

use crate::auth;
use crate::http;
use crate::live::LiveFeed;

/// How often an organization's notification feed is checked while someone
/// has a page open: one query per organization, however many pages.
const LIVE_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The use cases (`engine::ops`), over the same store.
    #[from_ref(skip)]
    pub ops: Operations,
    pub store: Store,
    pub secret_key: Arc<SecretKey>,
    pub public_url: Arc<str>,
    /// Per-organization circuit breakers, shared by the workers and `/metrics`.
    pub circuits: Arc<Circuits>,
    /// Who may read `/metrics`.
    pub metrics_access: http::metrics::MetricsAccess,
    /// Each organization's Cal.com client, from its sealed credentials.
    pub connector: CalcomConnector,
    /// Verifies appointments (webhooks, "retry now") with the workers' rules.
    pub verifier: Verifier,
    /// Per-organization notification watchers behind `/events`.
    pub live: LiveFeed,
    /// Rung by "run now" so the worker starts the run at once.
    pub wake_worker: WakeUp,
    /// Rung by the webhook receiver so the inbox is drained at once.
    #[from_ref(skip)]
    pub wake_inbox: WakeUp,
    /// How long logins last.
    pub sessions: auth::SessionPolicy,
}

impl AppState {
    /// The state for serving on `addr`; also what tests build the app from.
    pub fn new(store: Store, secret_key: SecretKey, public_url: &str, site_root: &str, addr: SocketAddr) -> AppState {
        // Install the metrics recorder before anything records.
        let _ = http::metrics::handle();
        let leptos_options = LeptosOptions::builder()
            .output_name("calsync")
            .site_root(site_root)
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .env(leptos::prelude::Env::PROD)
            .build();
        let circuits = Arc::new(Circuits::default());
        let connector = CalcomConnector::new(store.clone(), secret_key.clone());
        let verifier = Verifier::new(store.clone(), circuits.clone(), RetryLadder::default(), Arc::new(SystemClock));
        let ops = Operations::new(store.clone());
        AppState {
            leptos_options,
            live: LiveFeed::new(ops.clone(), LIVE_POLL),
            ops,
            store,
            secret_key: Arc::new(secret_key),
            public_url: public_url.into(),
            circuits,
            metrics_access: http::metrics::MetricsAccess::for_listener(None, addr),
            connector,
            verifier,
            wake_worker: WakeUp::default(),
            wake_inbox: WakeUp::default(),
            sessions: auth::SessionPolicy::default(),
        }
    }

    /// Retries on another ladder than the spec's 1 and 5 minutes.
    pub fn with_ladder(mut self, ladder: RetryLadder) -> AppState {
        self.verifier = self.verifier.with_ladder(ladder);
        self
    }

    /// Notifications also go out by email (to users who want them).
    pub fn with_email(mut self) -> AppState {
        self.verifier = self.verifier.with_email(&self.public_url);
        self
    }

    /// The background verification worker for this process.
    pub fn worker(&self, stale_after: std::time::Duration) -> Worker<CalcomConnector> {
        let worker_id = format!("{}-{}", hostname(), std::process::id());
        Worker::new(self.store.clone(), self.verifier.clone(), self.connector.clone(), Arc::new(SystemClock), worker_id)
            .with_stale_after(stale_after)
    }

    /// What the server functions get from this state (`app` cannot name
    /// the server's types).
    pub fn server_context(&self) -> ServerContext {
        ServerContext {
            ops: self.ops.clone(),
            connector: self.connector.clone(),
            circuits: self.circuits.clone(),
            wake_worker: self.wake_worker.clone(),
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "calsync".to_owned())
}
