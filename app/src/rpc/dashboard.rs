use engine::domain::SyncCounts;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSummary {
    /// `None` when no organization is set up yet.
    pub organization: Option<String>,
    pub counts: SyncCounts,
}

#[server(prefix = "/rpc")]
pub async fn get_dashboard_summary() -> Result<DashboardSummary, AppError> {
    use crate::context::{current_org, server_context};

    let ctx = server_context()?;
    let Some((org, name)) = current_org(&ctx).await? else {
        return Ok(DashboardSummary { organization: None, counts: SyncCounts::default() });
    };
    let counts = ctx.store.sync_counts(org).await?;
    Ok(DashboardSummary { organization: Some(name), counts })
}
