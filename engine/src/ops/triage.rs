//! Triage of the review queue: acknowledge, assign, ignore (with a reason,
//! through a date or for N occurrences), stop ignoring, one issue or a
//! confirmed group at once. Admins only; the rules are `crate::triage` and
//! `crate::groups`, each step audited in its transaction.

use super::{Caller, OpError, Operations};
use crate::domain::{IssueId, UserId};
use crate::groups::{self, GroupStep};
use crate::store::{GroupTarget, Organization};
use crate::triage::{self, IgnoreFor, TriageError, TriageStep};

/// One triage step as asked for; "ignore" is checked against the
/// organization's calendar when it is carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageInput {
    Acknowledge,
    Assign(Option<UserId>),
    /// The caller takes it (a group's "assign to me").
    AssignToMe,
    Ignore {
        reason: String,
        until: IgnoreFor,
    },
    StopIgnoring,
}

/// What an admin does to a whole group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupInput {
    Triage(TriageInput),
    /// Close them all by hand; a note is required, as for one issue.
    MarkResolved {
        note: String,
    },
}

impl From<TriageError> for OpError {
    fn from(err: TriageError) -> OpError {
        match err {
            TriageError::Store(e) => e.into(),
            TriageError::NotApplicable(message) => OpError::Conflict(message),
            TriageError::Invalid { field, rule } => OpError::field(field, rule),
        }
    }
}

impl Operations {
    /// One step on one issue; the words for the admin.
    pub async fn triage_issue(&self, caller: Caller, issue: IssueId, input: TriageInput) -> Result<String, OpError> {
        let (org, actor) = self.resolving_admin(caller).await?;
        let now = self.now();
        let step = step(&org, input, actor.user_id, now)?;
        Ok(triage::triage(&self.store, &org, issue, step, &actor, now).await?)
    }

    /// One step on every issue of a group the admin confirmed (its count
    /// and members re-checked).
    pub async fn act_on_group(
        &self,
        caller: Caller,
        target: &GroupTarget,
        input: GroupInput,
    ) -> Result<String, OpError> {
        let (org, actor) = self.resolving_admin(caller).await?;
        let now = self.now();
        let group_step = match input {
            GroupInput::Triage(input) => GroupStep::Triage(step(&org, input, actor.user_id, now)?),
            GroupInput::MarkResolved { note } => GroupStep::MarkResolved { note },
        };
        Ok(groups::act_on_group(&self.store, &org, target, group_step, &actor, now).await?)
    }
}

fn step(
    org: &Organization,
    input: TriageInput,
    me: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<TriageStep, OpError> {
    Ok(match input {
        TriageInput::Acknowledge => TriageStep::Acknowledge,
        TriageInput::Assign(to) => TriageStep::Assign(to),
        TriageInput::AssignToMe => TriageStep::Assign(Some(me)),
        TriageInput::StopIgnoring => TriageStep::StopIgnoring,
        TriageInput::Ignore { reason, until } => TriageStep::ignore(&reason, until, org.time_zone, now)?,
    })
}
