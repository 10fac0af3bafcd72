//! Typed access to calsync's database. One `Store` serves SQLite (embedded
//! default) and PostgreSQL through sqlx's `Any` driver, so every query is
//! written once. Every function that reads or writes tenant data takes the
//! organization it is scoped to.

mod agenda;
mod alert_rules;
mod api_tokens;
mod appointment_updates;
mod appointments;
mod audit;
mod backup;
mod bulk;
mod call_minutes;
mod claims;
mod connect;
mod email_prefs;
mod error;
mod events;
mod groups;
mod issues;
mod links;
mod login_failures;
mod metrics;
mod notifications;
mod order;
mod orgs;
mod outages;
mod outbox;
mod presence;
mod rate_budget;
mod reminders;
mod resolutions;
mod retention;
mod row;
mod runs;
mod sessions;
mod sql;
mod sync_cursor;
mod sync_writes;
pub mod time;
mod triage;
mod users;
mod verification_stats;
mod webhook_inbox;

pub use agenda::Agenda;
pub use alert_rules::{AlertRule, AlertWebhookUpdate, OutgoingWebhook, Push};
pub use api_tokens::{ApiToken, IssuedToken};
#[cfg(test)]
pub(crate) use appointments::sample as sample_appointment;
pub use appointments::{Appointment, AppointmentFilter, NewAppointment, SyncState};
pub use audit::{AuditEntry, NewAuditEntry};
pub use bulk::{BulkItem, BulkItemFilter, BulkOutcome, BulkRequest, BulkRequested, BulkTally};
pub use call_minutes::CallMinute;
pub use connect::{redact_url, sqlite_file, Backend};
pub use error::StoreError;
pub use events::{EventKind, NewSyncEvent, SyncEvent};
pub use groups::{GroupChange, GroupKey, GroupTarget, IssueGroup, MAX_GROUP_ACTION};
pub use issues::{
    IgnoreUntil, Ignored, Issue, IssueState, IssueSubject, NewIssue, Opened, Regression, Resolution, Stamp,
};
pub use login_failures::FailureCount;
pub use metrics::{DurationStats, IssueTally, VerificationTally};
pub use notifications::{FeedVersion, NewNotification, Notification, NotificationKind, Severity};
pub use order::{AppointmentOrder, PageCursor, SortValue};
#[cfg(test)]
pub(crate) use orgs::sample as sample_organization;
pub use orgs::{CalcomConnection, CalcomConnectionUpdate, NewOrganization, Organization, ScheduleUpdate};
pub use outages::Outage;
pub use outbox::{NewEmail, QueuedEmail, Recipient};
pub use presence::Recovered;
pub use resolutions::{AppointmentResolution, FactsChange};
pub use retention::{Pruned, Retention};
pub use runs::{ActiveRun, Run, RunCounts, RunKind, RunStart, RunStatus, Start, Trigger};
pub use sync_cursor::SyncCursor;
pub use sync_writes::StateWrite;
pub use triage::{OldestIssue, QueueFilter, QueueView, TriageChange};
pub use users::{name_among, normalize_email, Credentials, NewUser, User, FORMER_USER};
pub use webhook_inbox::{Delivery, DeliveryFilter, DeliveryOutcome, DeliveryStatus, Handled, NewDelivery, Stored};

use sqlx::AnyPool;

/// A handle on the database. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The raw pool, for the few callers (session store, tests) that need it.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that will write. On SQLite it takes the write lock at
    /// its start (`BEGIN IMMEDIATE`), waiting out another writer as the busy
    /// timeout allows. A plain `BEGIN` takes it only at the first write, and a
    /// transaction that has read by then and finds another writer holding
    /// the lock (another request, or a dropped transaction whose rollback is
    /// still on its way) fails at once with "database is locked": SQLite
    /// does not wait there, as waiting could deadlock two readers turned
    /// writers.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Answers whether the database can run a query right now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
