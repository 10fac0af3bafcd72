use engine::domain::SyncCounts;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the dashboard shows: the signed-in user's organization only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSummary {
    pub organization: String,
    pub counts: SyncCounts,
}

#[server(prefix = "/rpc")]
pub async fn get_dashboard_summary() -> Result<DashboardSummary, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    let counts = server_context()?.store.sync_counts(user.org_id).await?;
    Ok(DashboardSummary { organization: user.org_name, counts })
}
