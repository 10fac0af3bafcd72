//! The review queue's triage steps as engine operations: acknowledge an
//! issue, assign it to an admin, ignore it for a while (with a reason) or
//! stop ignoring it. Each checks where the issue stands, so a refusal says
//! why in words, and writes the change with its audit entry in one
//! transaction. The web calls these; so would any other front end.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::{AuditAction, IssueId, UserId, MAX_TEXT};
use crate::resolve::Actor;
use crate::store::{
    IgnoreUntil, Issue, IssueState, NewAuditEntry, Organization, Store, StoreError, TriageChange, User,
};

/// Most occurrences an "ignore for N more times" may cover.
pub const MAX_IGNORED_OCCURRENCES: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The step does not fit the issue as it stands.
    #[error("{0}")]
    NotApplicable(String),
    /// A field of the request breaks its rule.
    #[error("{field} {rule}")]
    Invalid { field: &'static str, rule: &'static str },
}

/// How long to ignore, as the admin chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreFor {
    FurtherNotice,
    /// Through this day in the organization's time zone, `YYYY-MM-DD`.
    UntilDate(String),
    Occurrences(u32),
}

/// One triage step, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageStep {
    Acknowledge,
    Assign(Option<UserId>),
    Ignore { reason: String, until: IgnoreUntil },
    StopIgnoring,
}

impl TriageStep {
    /// Checks an "ignore" request: a reason, and a limit that is in the
    /// future (a date counts through its last minute in `tz`).
    pub fn ignore(reason: &str, until: IgnoreFor, tz: Tz, now: DateTime<Utc>) -> Result<TriageStep, TriageError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_TEXT {
            return Err(TriageError::Invalid { field: "reason", rule: "must say why, in at most 200 characters" });
        }
        let until = match until {
            IgnoreFor::FurtherNotice => IgnoreUntil::FurtherNotice,
            IgnoreFor::Occurrences(n) if (1..=MAX_IGNORED_OCCURRENCES).contains(&n) => IgnoreUntil::Occurrences(n),
            IgnoreFor::Occurrences(_) => {
                return Err(TriageError::Invalid { field: "times", rule: "must be a whole number from 1 to 1000" })
            }
            IgnoreFor::UntilDate(day) => IgnoreUntil::Date(end_of_day(&day, tz, now)?),
        };
        Ok(TriageStep::Ignore { reason: reason.to_owned(), until })
    }
}

/// The first instant after `day` in `tz`, if that is in the future.
fn end_of_day(day: &str, tz: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, TriageError> {
    const RULE: &str = "must be a date (YYYY-MM-DD) from today on";
    let invalid = TriageError::Invalid { field: "until", rule: RULE };
    let date = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").map_err(|_| invalid)?;
    let end = date
        .succ_opt()
        .and_then(|next| crate::calendar::start_of_day(next, tz))
        .ok_or(TriageError::Invalid { field: "until", rule: RULE })?;
    if end <= now {
        return Err(TriageError::Invalid { field: "until", rule: RULE });
    }
    Ok(end)
}

/// Applies `step` to the organization's issue `id` on behalf of `actor`;
/// returns what happened, for the admin.
pub async fn triage(
    store: &Store,
    org: &Organization,
    id: IssueId,
    step: TriageStep,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<String, TriageError> {
    let issue = store.issue(org.id, id).await?;
    let (change, action, detail, message) = plan(store, org, &issue, step).await?;
    let entry = NewAuditEntry {
        user_id: Some(actor.user_id),
        action,
        target: Some(format!("issue #{id}")),
        detail: Some(detail),
        at: now,
    };
    store.triage_issue(org.id, id, &change, &entry).await?;
    Ok(message)
}

/// What the step writes, its audit action and words, and the admin's message.
async fn plan(
    store: &Store,
    org: &Organization,
    issue: &Issue,
    step: TriageStep,
) -> Result<(TriageChange, AuditAction, String, String), TriageError> {
    let id = issue.id;
    let code = issue.code.as_str();
    let state = issue.state();
    if state == IssueState::Resolved {
        return Err(TriageError::NotApplicable(format!("Issue #{id} is already closed.")));
    }
    Ok(match step {
        TriageStep::Acknowledge => {
            match state {
                IssueState::Acknowledged => {
                    return Err(TriageError::NotApplicable(format!("Issue #{id} is already acknowledged.")))
                }
                IssueState::Ignored => {
                    return Err(TriageError::NotApplicable(format!("Issue #{id} is ignored; stop ignoring it first.")))
                }
                IssueState::Open | IssueState::Resolved => {}
            }
            (
                TriageChange::Acknowledge,
                AuditAction::IssueAcknowledge,
                format!("{code} acknowledged"),
                format!("Issue #{id} acknowledged"),
            )
        }
        TriageStep::Assign(Some(user)) => {
            let assignee = assignee(store, org, user).await?;
            (
                TriageChange::Assign(Some(user)),
                AuditAction::IssueAssign,
                format!("{code} assigned to {}", assignee.name),
                format!("Issue #{id} assigned to {}", assignee.name),
            )
        }
        TriageStep::Assign(None) => (
            TriageChange::Assign(None),
            AuditAction::IssueAssign,
            format!("{code} unassigned"),
            format!("Issue #{id} unassigned"),
        ),
        TriageStep::Ignore { reason, until } => {
            if state == IssueState::Ignored {
                return Err(TriageError::NotApplicable(format!("Issue #{id} is already ignored.")));
            }
            let how_long = how_long(org, until);
            let detail = format!("{code} ignored {how_long}: {reason}");
            (
                TriageChange::Ignore { reason, until },
                AuditAction::IssueIgnore,
                detail,
                format!("Issue #{id} ignored {how_long}"),
            )
        }
        TriageStep::StopIgnoring => {
            if state != IssueState::Ignored {
                return Err(TriageError::NotApplicable(format!("Issue #{id} is not ignored.")));
            }
            (
                TriageChange::StopIgnoring,
                AuditAction::IssueUnignore,
                format!("{code} no longer ignored"),
                format!("Issue #{id} is back in the queue"),
            )
        }
    })
}

/// The admin an issue may be given to: a member of this organization who
/// may act on the queue.
pub(crate) async fn assignee(store: &Store, org: &Organization, user: UserId) -> Result<User, TriageError> {
    let assignee = store.user(org.id, user).await?;
    if !assignee.role.is_admin() || assignee.disabled {
        return Err(TriageError::NotApplicable(format!(
            "{} cannot take issues: only active admins can.",
            assignee.name
        )));
    }
    Ok(assignee)
}

/// How long an ignore holds, in words: "through 31.12.2026" (the last day
/// it covers, in the organization's zone; the stored instant is the first
/// moment after it), "for 3 more occurrences", "until further notice".
pub fn how_long(org: &Organization, until: IgnoreUntil) -> String {
    match until {
        IgnoreUntil::FurtherNotice => "until further notice".to_owned(),
        IgnoreUntil::Date(at) => {
            format!("through {}", org.local_format().date(at - chrono::Duration::minutes(1)))
        }
        IgnoreUntil::Occurrences(n) => format!("for {n} more occurrence{}", if n == 1 { "" } else { "s" }),
    }
}
