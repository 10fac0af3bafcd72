//! The review queue: which unresolved issues it lists (a view and "only
//! mine"), each with what it is about, and the same issues grouped by
//! cause. Every signed-in user of the organization reads it; acting on it
//! is `super::triage` and `super::review`, for those who may administer.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Caller, OpError, Operations};
use crate::domain::{AppointmentId, OrgId};
use crate::links;
use crate::verify::compare::RemoteBooking;

pub use crate::links::Suggestion;
pub use crate::store::{
    name_among, Appointment, GroupKey, GroupTarget, Issue, IssueGroup, IssueState, Organization, QueueFilter,
    QueueView, User, MAX_GROUP_ACTION,
};

/// The most issues the queue lists at once: the page stays quick to load
/// and read; past it the queue says it stopped.
pub const QUEUE_LIMIT: u32 = 500;

/// The issues `view` lists; `mine` keeps those assigned to the caller, when
/// the caller is a person (the same filter lists a group and re-checks it
/// when the group is acted on).
pub fn queue_filter(caller: Caller, view: QueueView, mine: bool) -> QueueFilter {
    QueueFilter { view, assigned_to: caller.actor.user().filter(|_| mine) }
}

/// What the review queue is made of, before it is put into words.
#[derive(Debug)]
pub struct QueueFacts {
    pub org: Organization,
    /// Everyone of the organization, to name assignees and who triaged.
    pub users: Vec<User>,
    /// Oldest first, at most [`QUEUE_LIMIT`].
    pub rows: Vec<QueueRow>,
    /// More issues matched than are listed.
    pub truncated: bool,
    /// What the issues' ages are counted to.
    pub now: DateTime<Utc>,
    /// Whether the caller may triage and resolve from the queue.
    pub can_act: bool,
}

impl QueueFacts {
    /// Who an issue may be given to: the organization's active admins.
    pub fn assignees(&self) -> impl Iterator<Item = &User> {
        self.users.iter().filter(|u| u.role.is_admin() && !u.disabled)
    }
}

/// One listed issue and what it is about.
#[derive(Debug)]
pub struct QueueRow {
    pub issue: Issue,
    /// The appointment it is about, if it is about one.
    pub appointment: Option<Appointment>,
    /// Cal.com's booking as the issue recorded it, if it did.
    pub booking: Option<RemoteBooking>,
    /// For a Cal.com-only booking: the appointments it probably is.
    pub suggestions: Vec<Suggestion>,
}

/// The queue grouped by cause, before it is put into words.
#[derive(Debug)]
pub struct GroupFacts {
    /// For the causes' local times.
    pub org: Organization,
    pub groups: Vec<IssueGroup>,
    /// What the oldest members' ages are counted to.
    pub now: DateTime<Utc>,
    /// Whether the caller may act on a group.
    pub can_act: bool,
}

impl Operations {
    pub async fn review_queue(&self, caller: Caller, view: QueueView, mine: bool) -> Result<QueueFacts, OpError> {
        let org = self.store.organization(caller.org).await?;
        let now = self.now();
        let users = self.store.users(org.id).await?;
        let filter = queue_filter(caller, view, mine);
        // One more than listed tells whether more matched.
        let mut issues = self.store.queue_issues(org.id, filter, QUEUE_LIMIT + 1).await?;
        let truncated = issues.len() > QUEUE_LIMIT as usize;
        issues.truncate(QUEUE_LIMIT as usize);
        let rows = self.queue_rows(org.id, issues).await?;
        Ok(QueueFacts { org, users, rows, truncated, now, can_act: caller.actor.may_administer() })
    }

    /// The rows' appointments and suggestions in one query each, not one
    /// per row.
    async fn queue_rows(&self, org: OrgId, issues: Vec<Issue>) -> Result<Vec<QueueRow>, OpError> {
        let ids: Vec<AppointmentId> = issues.iter().filter_map(|i| i.appointment_id).collect();
        let appointments: HashMap<AppointmentId, Appointment> =
            self.store.appointments_by_ids(org, &ids).await?.into_iter().map(|a| (a.id, a)).collect();
        let bookings: Vec<Option<RemoteBooking>> = issues.iter().map(Issue::snapshot).collect();
        let calcom_only =
            |issue: &Issue, booking: &Option<RemoteBooking>| booking.is_some() && issue.appointment_id.is_none();
        let unlinked: Vec<&RemoteBooking> = issues
            .iter()
            .zip(&bookings)
            .filter(|(issue, booking)| calcom_only(issue, booking))
            .filter_map(|(_, booking)| booking.as_ref())
            .collect();
        let mut suggested = links::suggestions_for_each(&self.store, org, &unlinked).await?.into_iter();
        let rows = issues.into_iter().zip(bookings).map(|(issue, booking)| {
            let suggestions =
                if calcom_only(&issue, &booking) { suggested.next().unwrap_or_default() } else { Vec::new() };
            let appointment = issue.appointment_id.and_then(|id| appointments.get(&id)).cloned();
            QueueRow { issue, appointment, booking, suggestions }
        });
        Ok(rows.collect())
    }

    pub async fn issue_groups(&self, caller: Caller, view: QueueView, mine: bool) -> Result<GroupFacts, OpError> {
        let now = self.now();
        let org = self.store.organization(caller.org).await?;
        let groups = self.store.queue_groups(org.id, queue_filter(caller, view, mine)).await?;
        Ok(GroupFacts { org, groups, now, can_act: caller.actor.may_administer() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, ApiTokenId, Role, UserId};

    #[test]
    fn only_mine_keeps_the_issues_assigned_to_the_person_asking() {
        let me = Caller::new(OrgId(1), Actor::User { id: UserId(7), role: Role::Viewer });
        assert_eq!(queue_filter(me, QueueView::Ignored, true).assigned_to, Some(UserId(7)));
        assert_eq!(queue_filter(me, QueueView::Ignored, false).assigned_to, None);
        assert_eq!(queue_filter(me, QueueView::All, true).view, QueueView::All);
        let token = Caller::new(OrgId(1), Actor::ApiToken(ApiTokenId(3)));
        assert_eq!(queue_filter(token, QueueView::All, true).assigned_to, None, "a token has no issues of its own");
    }
}
