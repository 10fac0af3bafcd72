//! The appointment list: its filter (which lives in the URL so it sticks and
//! can be shared), one page of rows, and "retry" for one or many.

use chrono::NaiveDate;
use engine::domain::url::query_value;
use engine::domain::{ErrorCode, Members, SortKey, SyncStatus};
use leptos::prelude::*;
use leptos::server_fn::codec::{Json, Postcard};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Rows per page.
pub const PAGE_SIZE: u32 = 25;

/// The list's filter and position, as URL query parameters. Unknown or
/// malformed values are dropped rather than refused: a stale shared link
/// should still open the list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppointmentQuery {
    pub state: Option<SyncStatus>,
    pub code: Option<ErrorCode>,
    /// First day shown, in the organization's time zone.
    pub from: Option<NaiveDate>,
    /// Last day shown (inclusive), in the organization's time zone.
    pub to: Option<NaiveDate>,
    pub q: Option<String>,
    /// Only appointments that need a person.
    pub review: bool,
    /// What the rows are ordered by (start time unless chosen).
    pub sort_by: SortKey,
    /// Descending instead of ascending (e.g. latest first).
    pub desc: bool,
    /// Page cursor: `<sort value>_<id>` of the last row of the previous page.
    pub after: Option<String>,
}

impl AppointmentQuery {
    /// Reads the query from URL parameters.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> AppointmentQuery {
        let text = |key: &str| get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        AppointmentQuery {
            state: text("state").and_then(|v| v.parse().ok()),
            code: text("code").and_then(|v| v.parse().ok()),
            from: text("from").and_then(|v| v.parse().ok()),
            to: text("to").and_then(|v| v.parse().ok()),
            q: text("q"),
            review: text("review").is_some_and(|v| v == "1" || v == "true" || v == "on"),
            // `sort=desc` is how links said "latest first" before other orders existed.
            sort_by: text("sort").and_then(|v| v.parse().ok()).unwrap_or_default(),
            desc: text("dir").is_some_and(|v| v == "desc") || text("sort").is_some_and(|v| v == "desc"),
            after: text("after").filter(|v| cursor_id(v).is_some()),
        }
    }

    /// The URL query string (without `?`) for this filter, leaving out the page cursor.
    pub fn filter_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if let Some(state) = self.state {
            params.push(("state", state.as_str().to_owned()));
        }
        if let Some(code) = self.code {
            params.push(("code", code.as_str().to_owned()));
        }
        if let Some(from) = self.from {
            params.push(("from", from.to_string()));
        }
        if let Some(to) = self.to {
            params.push(("to", to.to_string()));
        }
        if let Some(q) = &self.q {
            params.push(("q", q.clone()));
        }
        if self.review {
            params.push(("review", "1".to_owned()));
        }
        if self.sort_by != SortKey::Start {
            params.push(("sort", self.sort_by.as_str().to_owned()));
        }
        if self.desc {
            params.push(("dir", "desc".to_owned()));
        }
        params
    }

    /// The filter in words, for the bulk retry's confirmation and audit
    /// entry: "state Failed, search “Kunde”" or "no filter".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(state) = self.state {
            parts.push(format!("state {}", state.label()));
        }
        if let Some(code) = self.code {
            parts.push(format!("code {}", code.as_str()));
        }
        match (self.from, self.to) {
            (Some(from), Some(to)) => parts.push(format!("starting {from} to {to}")),
            (Some(from), None) => parts.push(format!("starting from {from}")),
            (None, Some(to)) => parts.push(format!("starting up to {to}")),
            (None, None) => {}
        }
        if let Some(q) = &self.q {
            parts.push(format!("search “{q}”"));
        }
        if self.review {
            parts.push("needing review".to_owned());
        }
        if parts.is_empty() {
            "no filter (every appointment)".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// `?state=…&…` for links, with an optional cursor.
    pub fn to_url_query(&self, after: Option<&str>) -> String {
        let mut params = self.filter_params();
        if let Some(after) = after {
            params.push(("after", after.to_owned()));
        }
        if params.is_empty() {
            return String::new();
        }
        let pairs: Vec<String> = params.into_iter().map(|(k, v)| format!("{k}={}", query_value(&v))).collect();
        format!("?{}", pairs.join("&"))
    }
}

/// The row id a cursor string ends with (its sort value comes first).
pub fn cursor_id(cursor: &str) -> Option<i64> {
    cursor.rsplit_once('_')?.1.parse().ok()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppointmentRow {
    pub id: i64,
    pub customer: String,
    pub service: String,
    /// Start in the organization's time zone and format.
    pub time: String,
    pub status: SyncStatus,
    pub code: Option<ErrorCode>,
    pub detail: Option<String>,
    pub requires_review: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppointmentPage {
    pub rows: Vec<AppointmentRow>,
    /// How many match the filter in all.
    pub total: i64,
    /// Which match, for a bulk action's confirm step to send back.
    pub members: Members,
    /// Cursor for the next page, if there is one.
    pub next_after: Option<String>,
    /// Whether the user may retry and resolve (admins).
    pub can_act: bool,
    pub time_zone: String,
}

/// What a bulk action did: how many changed and how many it left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkOutcome {
    pub changed: u32,
    pub skipped: u32,
}

#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn list_appointments(query: AppointmentQuery) -> Result<AppointmentPage, AppError> {
    use crate::context::{require_user, server_context};
    use engine::ops::listing::{ListPage, PageRequest};

    let user = require_user()?;
    let ops = server_context()?.ops;
    let criteria = server::criteria(&query);
    let request = PageRequest { order: server::order(&query), after: query.after.as_deref(), limit: PAGE_SIZE };
    let ListPage { org, rows, next: next_after } = ops.appointment_page(user.caller(), &criteria, request).await?;
    let members = ops.matching_appointments(user.caller(), &criteria).await?;
    let local = org.local_format();
    Ok(AppointmentPage {
        rows: rows
            .into_iter()
            .map(|a| AppointmentRow {
                id: a.id.get(),
                customer: a.customer_name,
                service: a.service,
                time: local.date_time(a.starts_at),
                status: a.sync.status,
                code: a.sync.error_code,
                detail: a.sync.error_detail,
                requires_review: a.sync.requires_manual_review,
            })
            .collect(),
        total: members.count,
        members,
        next_after,
        can_act: user.role.is_admin(),
        time_zone: org.time_zone.name().to_owned(),
    })
}

/// Queues a fresh verification for each appointment (admins), in one
/// transaction. Unknown ids (including other organizations') and ones
/// already queued are skipped.
#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn retry_appointments(ids: Vec<i64>) -> Result<BulkOutcome, AppError> {
    use crate::context::{require_admin, server_context};
    use engine::domain::AppointmentId;

    let user = require_admin()?;
    let ids: Vec<AppointmentId> = ids.into_iter().map(AppointmentId).collect();
    let done = server_context()?.ops.retry_selected(user.caller(), &ids).await?;
    Ok(BulkOutcome { changed: done.queued as u32, skipped: done.skipped as u32 })
}

/// Queues a fresh verification for every appointment matching the filter
/// (admins), not only the ones on screen, as a background run the admin
/// can follow. `expected` is the set the admin confirmed (as listed): if
/// the filter matches another set by now, nothing is queued and the answer
/// says so. At most `engine::bulk::MAX_BULK` at a time.
#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn retry_all_matching(query: AppointmentQuery, expected: Members) -> Result<BulkStarted, AppError> {
    server::retry_matching(&query, expected).await
}

/// Marks every appointment matching the filter that needs review as
/// resolved with `note` (admins), as a background run like
/// `retry_all_matching`, under the same re-check and cap.
#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn resolve_all_matching(
    query: AppointmentQuery,
    expected: Members,
    note: String,
) -> Result<BulkStarted, AppError> {
    server::resolve_matching(&query, expected, &note).await
}

/// What "retry all matching" will ask of Cal.com, in words, for the
/// confirm step (admins). Refused, like the retry itself, when nothing or
/// too much matches.
#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn plan_retry_matching(query: AppointmentQuery) -> Result<String, AppError> {
    server::plan_matching(&query).await
}

/// A bulk action queued as a run: what it does and where to follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkStarted {
    pub run_id: i64,
    /// How many appointments it covers.
    pub count: i64,
    pub action: BulkAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Retry,
    Resolution,
}

impl BulkAction {
    pub const fn label(self) -> &'static str {
        match self {
            BulkAction::Retry => "Retry",
            BulkAction::Resolution => "Resolution",
        }
    }
}

impl BulkStarted {
    /// The run's page, with every appointment's result.
    pub fn href(&self) -> String {
        format!("/runs/{}", self.run_id)
    }
}

/// Server-side helpers shared by the list, the review page and the CSV export.
#[cfg(feature = "ssr")]
pub mod server {

    use engine::domain::Members;
    use engine::ops::bulk::Confirmation;
    use engine::ops::listing::{AppointmentOrder, Criteria};

    use super::{AppointmentQuery, BulkAction, BulkStarted};
    use crate::context::{require_admin, server_context};
    use crate::error::AppError;

    /// Queues a bulk retry of every appointment matching `query` for the
    /// signed-in admin, if it still matches the `expected` set they
    /// confirmed, and wakes the worker to run it.
    pub async fn retry_matching(query: &AppointmentQuery, expected: Members) -> Result<BulkStarted, AppError> {
        let (user, context) = (require_admin()?, server_context()?);
        let (criteria, described) = (criteria(query), query.describe());
        let confirmed = Confirmation { criteria: &criteria, described: &described, expected };
        let run = context.ops.request_bulk_retry(user.caller(), confirmed).await?;
        context.wake_worker.wake();
        Ok(BulkStarted { run_id: run.get(), count: expected.count, action: BulkAction::Retry })
    }

    /// Queues a bulk resolution of every appointment matching `query` with
    /// `note`, like [`retry_matching`].
    pub async fn resolve_matching(
        query: &AppointmentQuery,
        expected: Members,
        note: &str,
    ) -> Result<BulkStarted, AppError> {
        let (user, context) = (require_admin()?, server_context()?);
        let (criteria, described) = (criteria(query), query.describe());
        let confirmed = Confirmation { criteria: &criteria, described: &described, expected };
        let run = context.ops.request_bulk_resolve(user.caller(), confirmed, note).await?;
        context.wake_worker.wake();
        Ok(BulkStarted { run_id: run.get(), count: expected.count, action: BulkAction::Resolution })
    }

    /// The planned calls of a bulk retry of `query`, in words.
    pub async fn plan_matching(query: &AppointmentQuery) -> Result<String, AppError> {
        let user = require_admin()?;
        let plan = server_context()?.ops.plan_bulk_retry(user.caller(), &criteria(query)).await?;
        Ok(plan.words())
    }

    /// The list's filter as the engine takes it.
    pub fn criteria(query: &AppointmentQuery) -> Criteria {
        Criteria {
            state: query.state,
            code: query.code,
            from: query.from,
            to: query.to,
            search: query.q.clone(),
            needs_review: query.review,
        }
    }

    /// The list's order from its query.
    pub fn order(query: &AppointmentQuery) -> AppointmentOrder {
        AppointmentOrder { key: query.sort_by, descending: query.desc }
    }
}
#[cfg(test)]
mod tests {
    use super::AppointmentQuery;
    use engine::domain::{ErrorCode, SyncStatus};

    #[test]
    fn a_filter_reads_as_words_for_the_confirmation_and_the_audit_log() {
        assert_eq!(AppointmentQuery::default().describe(), "no filter (every appointment)");
        let query = AppointmentQuery {
            state: Some(SyncStatus::Failed),
            code: Some(ErrorCode::DataMismatch),
            from: "2026-12-01".parse().ok(),
            q: Some("Kunde".into()),
            review: true,
            ..AppointmentQuery::default()
        };
        assert_eq!(
            query.describe(),
            format!(
                "state {}, code DATA_MISMATCH, starting from 2026-12-01, search “Kunde”, needing review",
                SyncStatus::Failed.label()
            )
        );
    }
}
