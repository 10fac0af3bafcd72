//! Triage in the review queue: which issues it lists (the filter in the
//! URL), the steps an admin takes on one issue (acknowledge, assign,
//! ignore, stop ignoring), and the queue grouped by cause with steps on a
//! whole group. The rules live in `engine::triage` and `engine::groups`;
//! this is their web edge.

use engine::domain::{ErrorCode, Members};
use leptos::prelude::*;
use leptos::server_fn::codec::{Json, Postcard};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Which of the queue's issues are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueShow {
    /// Open and acknowledged: what someone has to look at.
    #[default]
    Attention,
    Ignored,
    All,
}

impl QueueShow {
    pub const ALL: [QueueShow; 3] = [QueueShow::Attention, QueueShow::Ignored, QueueShow::All];

    pub const fn as_str(self) -> &'static str {
        match self {
            QueueShow::Attention => "attention",
            QueueShow::Ignored => "ignored",
            QueueShow::All => "all",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            QueueShow::Attention => "Needs attention",
            QueueShow::Ignored => "Ignored",
            QueueShow::All => "All unresolved",
        }
    }
}

/// The queue's filter, as it stands in the URL (`?show=ignored&mine=1&group=cause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    pub show: QueueShow,
    /// Only the issues assigned to the signed-in admin.
    pub mine: bool,
    /// Groups by cause (code and reason) instead of one row per issue.
    pub group: bool,
}

impl QueueQuery {
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> QueueQuery {
        let show = match get("show").as_deref().map(str::trim) {
            Some("ignored") => QueueShow::Ignored,
            Some("all") => QueueShow::All,
            _ => QueueShow::Attention,
        };
        let mine = get("mine").is_some_and(|v| matches!(v.trim(), "1" | "true" | "on"));
        let group = get("group").is_some_and(|v| v.trim() == "cause");
        QueueQuery { show, mine, group }
    }
}

/// Where an issue stands, as the queue shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageState {
    Open,
    Acknowledged,
    Ignored,
}

impl TriageState {
    pub const fn label(self) -> &'static str {
        match self {
            TriageState::Open => "Open",
            TriageState::Acknowledged => "Acknowledged",
            TriageState::Ignored => "Ignored",
        }
    }
}

/// How long to ignore, as the form sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreLimit {
    FurtherNotice,
    /// `YYYY-MM-DD`, through that day in the organization's zone.
    Until(String),
    Times(u32),
}

/// One triage step on one issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageRequest {
    Acknowledge,
    /// `None` unassigns.
    Assign(Option<i64>),
    Ignore {
        reason: String,
        limit: IgnoreLimit,
    },
    StopIgnoring,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageOutcome {
    pub message: String,
}

/// Issues that share a cause: an error code and the Cal.com outage they
/// failed in, or the words of their reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLine {
    pub code: ErrorCode,
    /// The reason as the issues state it; `None` for issues without one
    /// and for an outage's group.
    pub reason: Option<String>,
    /// The Cal.com outage the members failed in.
    pub outage: Option<i64>,
    /// The cause in words: "Cal.com outage 13.10.2025 14:02 – 14:31", the
    /// reason, or what the code means.
    pub cause: String,
    pub count: u64,
    /// The members as listed, for the confirm step to send back.
    pub members: Members,
    /// How long the oldest member has waited: "3 h".
    pub age: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueGroups {
    pub groups: Vec<GroupLine>,
    pub can_act: bool,
    /// The most issues one group action covers.
    pub cap: u64,
}

/// What to do with every member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupRequest {
    Acknowledge,
    AssignToMe,
    Ignore { reason: String, limit: IgnoreLimit },
    StopIgnoring,
    MarkResolved { note: String },
}

/// A group as the admin confirmed it: its cause, the filter it was listed
/// under and the members they were shown (count and fingerprint), which
/// the server re-checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupConfirmed {
    pub code: ErrorCode,
    pub reason: Option<String>,
    pub outage: Option<i64>,
    pub query: QueueQuery,
    pub members: Members,
}

#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn get_issue_groups(query: QueueQuery) -> Result<IssueGroups, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    let ops = server_context()?.ops;
    server::groups(&ops, &user, query).await
}

#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn act_on_group(group: GroupConfirmed, request: GroupRequest) -> Result<TriageOutcome, AppError> {
    use crate::context::{require_admin, server_context};

    let user = require_admin()?;
    server::act_on_group(&server_context()?, &user, group, request).await
}

#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn triage_issue(issue_id: i64, request: TriageRequest) -> Result<TriageOutcome, AppError> {
    use crate::context::{require_admin, server_context};

    let user = require_admin()?;
    server::triage_issue(&server_context()?, &user, issue_id, request).await
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use chrono::Utc;
    use engine::domain::{IssueId, OutageId, UserId};
    use engine::groups;
    use engine::ops::queue::{
        name_among, queue_filter, GroupKey, GroupTarget, Issue, IssueState, Organization, QueueView, User,
        MAX_GROUP_ACTION,
    };
    use engine::ops::triage::{GroupInput, TriageInput};
    use engine::ops::Operations;
    use engine::triage::{self, IgnoreFor};

    use super::*;
    use crate::context::{CurrentUser, ServerContext};

    pub async fn triage_issue(
        context: &ServerContext,
        user: &CurrentUser,
        issue_id: i64,
        request: TriageRequest,
    ) -> Result<TriageOutcome, AppError> {
        let input = match request {
            TriageRequest::Acknowledge => TriageInput::Acknowledge,
            TriageRequest::Assign(to) => TriageInput::Assign(to.map(UserId)),
            TriageRequest::StopIgnoring => TriageInput::StopIgnoring,
            TriageRequest::Ignore { reason, limit } => TriageInput::Ignore { reason, until: ignore_for(limit) },
        };
        let message = context.ops.triage_issue(user.caller(), IssueId(issue_id), input).await?;
        Ok(TriageOutcome { message })
    }

    fn ignore_for(limit: IgnoreLimit) -> IgnoreFor {
        match limit {
            IgnoreLimit::FurtherNotice => IgnoreFor::FurtherNotice,
            IgnoreLimit::Until(day) => IgnoreFor::UntilDate(day),
            IgnoreLimit::Times(n) => IgnoreFor::Occurrences(n),
        }
    }

    pub async fn groups(ops: &Operations, user: &CurrentUser, query: QueueQuery) -> Result<IssueGroups, AppError> {
        let facts = ops.issue_groups(user.caller(), view(query.show), query.mine).await?;
        let (org, now) = (&facts.org, facts.now);
        Ok(IssueGroups {
            groups: facts
                .groups
                .into_iter()
                .map(|g| GroupLine {
                    cause: groups::cause(org, &g.key, g.outage.as_ref()),
                    code: g.key.code,
                    outage: g.key.outage.map(OutageId::get),
                    reason: g.key.detail,
                    count: g.count,
                    members: g.members,
                    age: age(g.oldest, now),
                })
                .collect(),
            can_act: facts.can_act,
            cap: MAX_GROUP_ACTION,
        })
    }

    pub async fn act_on_group(
        context: &ServerContext,
        user: &CurrentUser,
        group: GroupConfirmed,
        request: GroupRequest,
    ) -> Result<TriageOutcome, AppError> {
        let input = match request {
            GroupRequest::Acknowledge => GroupInput::Triage(TriageInput::Acknowledge),
            GroupRequest::AssignToMe => GroupInput::Triage(TriageInput::AssignToMe),
            GroupRequest::Ignore { reason, limit } => {
                GroupInput::Triage(TriageInput::Ignore { reason, until: ignore_for(limit) })
            }
            GroupRequest::StopIgnoring => GroupInput::Triage(TriageInput::StopIgnoring),
            GroupRequest::MarkResolved { note } => GroupInput::MarkResolved { note },
        };
        let target = GroupTarget {
            key: GroupKey { code: group.code, detail: group.reason, outage: group.outage.map(OutageId) },
            filter: queue_filter(user.caller(), view(group.query.show), group.query.mine),
            expected: group.members,
        };
        let message = context.ops.act_on_group(user.caller(), &target, input).await?;
        Ok(TriageOutcome { message })
    }

    /// The engine's name for what the URL's `show` lists.
    pub fn view(show: QueueShow) -> QueueView {
        match show {
            QueueShow::Attention => QueueView::NeedsAttention,
            QueueShow::Ignored => QueueView::Ignored,
            QueueShow::All => QueueView::All,
        }
    }

    /// The issue's state and who put it there, in words.
    pub fn state_of(issue: &Issue, org: &Organization, users: &[User]) -> (TriageState, Option<String>) {
        let name = |id: UserId| user_name(users, id);
        let local = org.local_format();
        match (issue.state(), &issue.ignored, issue.acknowledged) {
            (IssueState::Ignored, Some(ignored), _) => {
                let limit = triage::how_long(org, ignored.until);
                let by = name(ignored.stamp.by);
                (TriageState::Ignored, Some(format!("{limit} by {by}: {}", ignored.reason)))
            }
            (IssueState::Acknowledged, _, Some(ack)) => {
                (TriageState::Acknowledged, Some(format!("by {}, {}", name(ack.by), local.date_time(ack.at))))
            }
            _ => (TriageState::Open, None),
        }
    }

    /// A user's name as the queue shows it; users are never deleted, but
    /// a stale id must not break the page.
    pub fn user_name(users: &[User], id: UserId) -> &str {
        name_among(users, id)
    }

    /// "5 min", "3 h", "2 d": how long an issue has been waiting.
    pub fn age(opened: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> String {
        let minutes = (now - opened).num_minutes().max(0);
        match minutes {
            0 => "under a minute".to_owned(),
            1..=59 => format!("{minutes} min"),
            60..=2879 => format!("{} h", minutes / 60),
            _ => format!("{} d", minutes / 1440),
        }
    }
}
