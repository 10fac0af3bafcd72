//! /api/v1/sync: the organization's sync picture at a glance.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use engine::domain::SyncStatus;

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::schema::SyncSummary;
use crate::state::AppState;

/// Appointments per sync state, and open review issues per error code.
#[utoipa::path(
    get, path = "/sync/summary", tag = "sync", operation_id = "syncSummary",
    responses(
        (status = 200, body = SyncSummary),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn summary(caller: ApiCaller, State(state): State<AppState>) -> Result<Json<SyncSummary>, ApiError> {
    let (counts, issues) = state.ops.sync_summary(caller.caller()).await?;
    // Every state and code is listed, zeros included, so clients need no defaults.
    let by_status = SyncStatus::ALL.iter().map(|s| (s.as_str().to_owned(), counts.get(*s))).collect();
    let open_issues: BTreeMap<String, i64> =
        issues.into_iter().map(|(code, n)| (code.as_str().to_owned(), n)).collect();
    Ok(Json(SyncSummary { by_status, total: counts.total(), requires_review: counts.requires_review, open_issues }))
}
