//! Triage in the review queue: which issues it lists (the filter in the
//! URL), and the steps an admin takes on one issue (acknowledge, assign,
//! ignore, stop ignoring). The rules live in `engine::triage`; this is its
//! web edge.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
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

/// The queue's filter, as it stands in the URL (`?show=ignored&mine=1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    pub show: QueueShow,
    /// Only the issues assigned to the signed-in admin.
    pub mine: bool,
}

impl QueueQuery {
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> QueueQuery {
        let show = match get("show").as_deref().map(str::trim) {
            Some("ignored") => QueueShow::Ignored,
            Some("all") => QueueShow::All,
            _ => QueueShow::Attention,
        };
        let mine = get("mine").is_some_and(|v| matches!(v.trim(), "1" | "true" | "on"));
        QueueQuery { show, mine }
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

#[server(prefix = "/rpc", input = Json)]
pub async fn triage_issue(issue_id: i64, request: TriageRequest) -> Result<TriageOutcome, AppError> {
    use crate::context::{require_admin, server_context};

    let user = require_admin()?;
    let store = server_context()?.store;
    server::triage_issue(&store, &user, issue_id, request).await
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use chrono::Utc;
    use engine::domain::{IssueId, UserId};
    use engine::store::{Issue, IssueState, Organization, QueueFilter, QueueView, Store, User};
    use engine::triage::{self, IgnoreFor, TriageError, TriageStep};

    use super::*;
    use crate::context::CurrentUser;
    use crate::rpc::appointments::server::actor;

    pub async fn triage_issue(
        store: &Store,
        user: &CurrentUser,
        issue_id: i64,
        request: TriageRequest,
    ) -> Result<TriageOutcome, AppError> {
        let org = store.organization(user.org_id).await?;
        let now = Utc::now();
        let step = match request {
            TriageRequest::Acknowledge => TriageStep::Acknowledge,
            TriageRequest::Assign(to) => TriageStep::Assign(to.map(UserId)),
            TriageRequest::StopIgnoring => TriageStep::StopIgnoring,
            TriageRequest::Ignore { reason, limit } => {
                let until = match limit {
                    IgnoreLimit::FurtherNotice => IgnoreFor::FurtherNotice,
                    IgnoreLimit::Until(day) => IgnoreFor::UntilDate(day),
                    IgnoreLimit::Times(n) => IgnoreFor::Occurrences(n),
                };
                TriageStep::ignore(&reason, until, org.time_zone, now).map_err(triage_error)?
            }
        };
        let message =
            triage::triage(store, &org, IssueId(issue_id), step, &actor(user), now).await.map_err(triage_error)?;
        Ok(TriageOutcome { message })
    }

    /// The engine's refusals in words, with the status that goes with each.
    pub fn triage_error(err: TriageError) -> AppError {
        match err {
            TriageError::Store(e) => e.into(),
            TriageError::NotApplicable(message) => AppError::conflict(message),
            TriageError::Invalid { field, rule } => AppError::invalid(field, rule),
        }
    }

    pub fn filter(query: QueueQuery, user: &CurrentUser) -> QueueFilter {
        let view = match query.show {
            QueueShow::Attention => QueueView::NeedsAttention,
            QueueShow::Ignored => QueueView::Ignored,
            QueueShow::All => QueueView::All,
        };
        QueueFilter { view, assigned_to: query.mine.then_some(user.user_id) }
    }

    /// The issue's state and who put it there, in words.
    pub fn state_of(issue: &Issue, org: &Organization, users: &[User]) -> (TriageState, Option<String>) {
        let name = |id: UserId| user_name(users, id);
        let local = engine::format::LocalFormat::new(org.time_zone, &org.locale);
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
        users.iter().find(|u| u.id == id).map_or("a former admin", |u| u.name.as_str())
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
