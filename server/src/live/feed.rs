//! One watcher task per organization with someone listening. It polls the
//! feed's version (one small query) every `every` and publishes it on a
//! watch channel; any number of open pages share that single poll. The task
//! ends on its first tick with nobody left listening.
//!
//! Work this process does itself (a webhook's verification) nudges the
//! watcher to poll at once, so its notifications reach open pages without
//! waiting for the tick; the tick still catches what other instances write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::domain::OrgId;
use engine::ops::notifications::FeedVersion;
use engine::ops::Operations;
use tokio::sync::{watch, Notify};

/// What `subscribe` and `nudge` need of a running watcher.
struct Watcher {
    sender: watch::Sender<FeedVersion>,
    nudge: Arc<Notify>,
}

#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

struct Inner {
    ops: Operations,
    every: Duration,
    orgs: Mutex<HashMap<OrgId, Watcher>>,
    /// Flipped at shutdown so open streams end; otherwise graceful shutdown
    /// would wait for browsers that never hang up.
    closing: watch::Sender<bool>,
}

impl LiveFeed {
    pub fn new(ops: Operations, every: Duration) -> LiveFeed {
        let (closing, _) = watch::channel(false);
        LiveFeed { inner: Arc::new(Inner { ops, every, orgs: Mutex::default(), closing }) }
    }

    pub fn ops(&self) -> &Operations {
        &self.inner.ops
    }

    /// The organization's feed version, starting a watcher if none runs.
    /// The first value may be a placeholder; the watcher's first poll
    /// replaces it at once.
    pub fn subscribe(&self, org: OrgId) -> watch::Receiver<FeedVersion> {
        let mut orgs = self.inner.orgs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(watcher) = orgs.get(&org) {
            return watcher.sender.subscribe();
        }
        let (sender, receiver) = watch::channel(FeedVersion::default());
        let nudge = Arc::new(Notify::new());
        orgs.insert(org, Watcher { sender: sender.clone(), nudge: nudge.clone() });
        tokio::spawn(self.clone().watch(org, sender, nudge));
        receiver
    }

    /// Asks the organization's watcher, if one runs, to poll now rather
    /// than at its next tick.
    pub fn nudge(&self, org: OrgId) {
        let orgs = self.inner.orgs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(watcher) = orgs.get(&org) {
            // A permit is kept if the watcher is busy, so it polls once more.
            watcher.nudge.notify_one();
        }
    }

    /// Changes once, to true, when the server shuts down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    /// Ends every open stream (at shutdown).
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    async fn watch(self, org: OrgId, sender: watch::Sender<FeedVersion>, nudge: Arc<Notify>) {
        let mut tick = tokio::time::interval(self.inner.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = nudge.notified() => {}
            }
            {
                // Checked under the lock `subscribe` takes, so nobody can
                // join a watcher that is just leaving.
                let mut orgs = self.inner.orgs.lock().unwrap_or_else(|e| e.into_inner());
                if sender.receiver_count() == 0 || *self.inner.closing.borrow() {
                    orgs.remove(&org);
                    return;
                }
            }
            match self.inner.ops.feed_version(org).await {
                Ok(version) => {
                    sender.send_if_modified(|current| {
                        let changed = *current != version;
                        *current = version;
                        changed
                    });
                }
                Err(e) => tracing::warn!(%org, error = %e, "live feed: could not read the notification feed"),
            }
        }
    }
}
