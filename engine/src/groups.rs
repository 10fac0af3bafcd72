//! Acting on a group of the review queue's issues at once: every unresolved
//! issue with one error code and reason or Cal.com outage (an outage's
//! failures, a batch of bookings deleted in Cal.com). The admin confirms the
//! members they were shown (count and fingerprint); the store re-checks
//! them in the same transaction and refuses if the group changed meanwhile.
//! One audit entry records the whole step.

use chrono::{DateTime, Utc};

use crate::domain::AuditAction;
use crate::format::plural;
use crate::resolve::Actor;
use crate::store::{
    GroupChange, GroupKey, GroupTarget, NewAuditEntry, Organization, Outage, Store, TriageChange, MAX_GROUP_ACTION,
};
use crate::triage::{assignee, how_long, TriageError, TriageStep};

/// What to do with every member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupStep {
    Triage(TriageStep),
    /// Close them all by hand; a note is required, as for one issue.
    MarkResolved {
        note: String,
    },
}

/// What a group's members share, in words: the Cal.com outage they failed
/// in ("Cal.com outage 13.10.2025 14:02 – 14:31", "… since 14:02" while it
/// lasts), else their shared reason, else what their code means.
pub fn cause(org: &Organization, key: &GroupKey, outage: Option<&Outage>) -> String {
    let local = org.local_format();
    match (key.outage, outage) {
        (Some(_), Some(Outage { started_at, ended_at: Some(ended_at), .. })) => {
            format!("Cal.com outage {}", local.range(*started_at, *ended_at))
        }
        (Some(_), Some(Outage { started_at, ended_at: None, .. })) => {
            format!("Cal.com outage since {}", local.date_time(*started_at))
        }
        (Some(_), None) => "Cal.com outage".to_owned(),
        (None, _) => key.detail.clone().unwrap_or_else(|| key.code.label().to_owned()),
    }
}

/// Applies `step` to the group `target` names; returns what happened, for
/// the admin.
pub async fn act_on_group(
    store: &Store,
    org: &Organization,
    target: &GroupTarget,
    step: GroupStep,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<String, TriageError> {
    let n = u64::try_from(target.expected.count).unwrap_or(0);
    if n == 0 {
        return Err(TriageError::NotApplicable("The group is empty: nothing to do.".into()));
    }
    if n > MAX_GROUP_ACTION {
        return Err(TriageError::NotApplicable(format!(
            "A group action covers at most {MAX_GROUP_ACTION} issues; this group has {n}. \
             Narrow it (for example to the issues assigned to you) or act in parts."
        )));
    }
    let (change, action, words) = plan(store, org, step, actor).await?;
    let code = target.key.code.as_str();
    let group = match (&target.key.detail, target.key.outage) {
        (_, Some(id)) => {
            let outage = store.outages(org.id, &[id]).await?;
            format!("{code} · {}", cause(org, &target.key, outage.first()))
        }
        (Some(reason), None) => format!("{code} · {reason}"),
        (None, None) => code.to_owned(),
    };
    let entry = |changed: u64| NewAuditEntry {
        user_id: Some(actor.user_id),
        action,
        target: Some(format!("group {group}")),
        detail: Some(format!("{changed} issue{} {words}", plural(changed))),
        at: now,
    };
    let changed = store.change_group(org.id, target, &change, (actor.user_id, now), entry).await?;
    let skipped = match n - changed.min(n) {
        0 => String::new(),
        left => format!("; {left} already were or did not fit"),
    };
    Ok(format!("{changed} issue{} of {group} {words}{skipped}", plural(changed)))
}

/// The change, its audit action and the words for "N issues …".
async fn plan(
    store: &Store,
    org: &Organization,
    step: GroupStep,
    actor: &Actor,
) -> Result<(GroupChange, AuditAction, String), TriageError> {
    let triage = |change| GroupChange::Triage(change);
    Ok(match step {
        GroupStep::Triage(TriageStep::Acknowledge) => {
            (triage(TriageChange::Acknowledge), AuditAction::IssueAcknowledge, "acknowledged".to_owned())
        }
        GroupStep::Triage(TriageStep::Assign(Some(user))) => {
            let to = assignee(store, org, user).await?;
            (triage(TriageChange::Assign(Some(user))), AuditAction::IssueAssign, format!("assigned to {}", to.name))
        }
        GroupStep::Triage(TriageStep::Assign(None)) => {
            (triage(TriageChange::Assign(None)), AuditAction::IssueAssign, "unassigned".to_owned())
        }
        GroupStep::Triage(TriageStep::Ignore { reason, until }) => {
            let words = format!("ignored {}: {reason}", how_long(org, until));
            (triage(TriageChange::Ignore { reason, until }), AuditAction::IssueIgnore, words)
        }
        GroupStep::Triage(TriageStep::StopIgnoring) => {
            (triage(TriageChange::StopIgnoring), AuditAction::IssueUnignore, "back in the queue".to_owned())
        }
        GroupStep::MarkResolved { note } => {
            let note = note.trim();
            if note.is_empty() {
                return Err(TriageError::Invalid { field: "note", rule: "is required to mark issues resolved" });
            }
            let change = GroupChange::MarkResolved { note: note.to_owned(), actor: actor.name.clone() };
            (change, AuditAction::IssueMarkResolved, format!("marked as resolved: {note}"))
        }
    })
}
