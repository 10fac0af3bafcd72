//! /api/v1/sync: the organization's sync picture at a glance.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use engine::domain::{ErrorCode, SyncStatus};

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
    let counts = state.store.sync_counts(caller.org.id).await?;
    let issues = state.store.count_open_issues_by_code(caller.org.id).await?;
    // Every state and code is listed, zeros included, so clients need no defaults.
    let by_status = SyncStatus::ALL.iter().map(|s| (s.as_str().to_owned(), counts.get(*s))).collect();
    let mut open_issues: BTreeMap<String, i64> = ErrorCode::ALL.iter().map(|c| (c.as_str().to_owned(), 0)).collect();
    for (code, n) in issues {
        open_issues.insert(code.as_str().to_owned(), n);
    }
    Ok(Json(SyncSummary { by_status, total: counts.total(), requires_review: counts.requires_review, open_issues }))
}
