//! The use cases: what an admin, an API client or the command line may do,
//! each written once. Adapters (the server functions in `app::rpc`, the
//! REST API and the command line in `server`) parse their transport, call
//! one operation with a [`Caller`], and turn an [`OpError`] into their
//! answer; the rules (who may, which values are accepted, what is audited
//! in the same transaction) live here and below.
//!
//! Every page's reads and writes, the REST API, the CSV export, the webhook
//! receiver, sign-in and most commands go through here; read models reach
//! adapters as re-exports of the module that returns them. What still
//! calls `store` from `server` is listed in docs/architecture.md ("Known
//! gaps").

pub mod accounts;
pub mod alerts;
pub mod api_tokens;
pub mod appointments;
pub mod audit;
pub mod bulk;
pub mod calcom_connection;
pub mod dashboard;
pub mod deliveries;
mod error;
pub mod figures;
pub mod listing;
pub mod notifications;
pub mod organizations;
pub mod queue;
pub mod review;
pub mod runs;
pub mod schedules;
pub mod sign_in;
pub mod triage;
pub mod webhooks;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use error::OpError;

use crate::clock::{Clock, SystemClock};
use crate::domain::{Actor, AuditAction, OrgId};
use crate::store::{NewAuditEntry, Store};

/// The use cases over one database. Built once at start; cheap to clone.
#[derive(Clone)]
pub struct Operations {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operations").finish_non_exhaustive()
    }
}

impl Operations {
    pub fn new(store: Store) -> Operations {
        Operations { store, clock: Arc::new(SystemClock) }
    }

    /// Reads "now" from `clock` (tests with a fixed time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Operations {
        self.clock = clock;
        self
    }

    /// A Cal.com connector over this database, sealing with `key` (for a
    /// command that stores secrets; the server builds its own once).
    pub fn calcom_connector(&self, key: crate::secret_key::SecretKey) -> crate::calcom::CalcomConnector {
        crate::calcom::CalcomConnector::new(self.store.clone(), key)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// Who asks, for which organization. Made by the adapter from what it
/// authenticated (a session, a token, shell access).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub org: OrgId,
    pub actor: Actor,
}

impl Caller {
    pub fn new(org: OrgId, actor: Actor) -> Caller {
        Caller { org, actor }
    }

    /// This caller, if they may change the organization's settings.
    fn admin(self) -> Result<Caller, OpError> {
        if self.actor.may_administer() {
            Ok(self)
        } else {
            Err(OpError::Forbidden)
        }
    }

    /// The audit entry of an act of this caller; `detail` says what was
    /// done, never a secret.
    fn audit(self, action: AuditAction, target: Option<String>, detail: &str, at: DateTime<Utc>) -> NewAuditEntry {
        NewAuditEntry {
            user_id: self.actor.user(),
            action,
            target,
            detail: Some(format!("{detail}{}", self.actor.by_whom())),
            at,
        }
    }
}
