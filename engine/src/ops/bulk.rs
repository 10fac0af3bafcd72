//! Acting on many appointments at once (admins): "retry selected" on the
//! rows ticked, and retry or mark-resolved of everything a filter matches,
//! queued as a run after the admin confirmed the set (`crate::bulk` has
//! the rules and the run itself).

use super::listing::Criteria;
use super::{Caller, OpError, Operations};
use crate::bulk::{self, BulkError, Confirmed};
use crate::domain::{Actor, AppointmentId, Members, RunId};

pub use crate::bulk::{RetryPlan, Selected, MAX_BULK, MAX_SELECTED};

impl From<BulkError> for OpError {
    /// Over the cap is the filter's fault; a changed set, nothing matching
    /// or another run is a conflict.
    fn from(err: BulkError) -> OpError {
        match err {
            BulkError::Store(e) => e.into(),
            BulkError::TooMany { .. } => OpError::field("filter", err.to_string()),
            BulkError::Note => OpError::field("note", err.to_string()),
            BulkError::Changed { .. } | BulkError::Empty | BulkError::Busy(_) => OpError::Conflict(err.to_string()),
        }
    }
}

/// A bulk action by filter as the admin confirmed it.
#[derive(Debug, Clone, Copy)]
pub struct Confirmation<'a> {
    pub criteria: &'a Criteria,
    /// The filter in words, for the run and the audit log ("state Failed").
    pub described: &'a str,
    /// The set the admin was shown.
    pub expected: Members,
}

impl Operations {
    /// A fresh verification for each of `ids` the organization has and
    /// that is not already waiting, in one transaction.
    pub async fn retry_selected(&self, caller: Caller, ids: &[AppointmentId]) -> Result<Selected, OpError> {
        let caller = caller.admin()?;
        if ids.len() > MAX_SELECTED {
            return Err(OpError::field("ids", format!("at most {MAX_SELECTED} at a time")));
        }
        let (org, actor) = self.resolving_admin(caller).await?;
        Ok(bulk::retry_selected(&self.store, &self.resolver(), &org, ids, &actor).await?)
    }

    /// Queues a retry of every appointment matching, if they are still the
    /// set the admin confirmed. The caller wakes its worker.
    pub async fn request_bulk_retry(&self, caller: Caller, confirmed: Confirmation<'_>) -> Result<RunId, OpError> {
        let (org, by) = self.bulk_admin(caller).await?;
        let filter = confirmed.criteria.filter(org.time_zone);
        let confirmed = Confirmed { filter: &filter, described: confirmed.described, expected: confirmed.expected, by };
        Ok(bulk::request_retry(&self.store, &org, &confirmed, self.now()).await?)
    }

    /// Queues "mark as resolved" with `note` for every appointment
    /// matching, like [`Operations::request_bulk_retry`].
    pub async fn request_bulk_resolve(
        &self,
        caller: Caller,
        confirmed: Confirmation<'_>,
        note: &str,
    ) -> Result<RunId, OpError> {
        let (org, by) = self.bulk_admin(caller).await?;
        let filter = confirmed.criteria.filter(org.time_zone);
        let confirmed = Confirmed { filter: &filter, described: confirmed.described, expected: confirmed.expected, by };
        Ok(bulk::request_resolve(&self.store, &org, &confirmed, note, self.now()).await?)
    }

    /// What a bulk retry of `criteria` will ask of Cal.com, for the confirm
    /// step; refused like the retry itself when nothing or too much matches.
    pub async fn plan_bulk_retry(&self, caller: Caller, criteria: &Criteria) -> Result<RetryPlan, OpError> {
        let (org, _) = self.bulk_admin(caller).await?;
        Ok(bulk::plan_retry(&self.store, &org, &criteria.filter(org.time_zone)).await?)
    }

    async fn bulk_admin(
        &self,
        caller: Caller,
    ) -> Result<(super::organizations::Organization, crate::domain::UserId), OpError> {
        let caller = caller.admin()?;
        let Actor::User { id, .. } = caller.actor else { return Err(OpError::Forbidden) };
        Ok((self.store.organization(caller.org).await?, id))
    }
}
