//! The audit log (logins, settings, accounts): admins only, since it names
//! who did what.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLine {
    pub at: DateTime<Utc>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// The newest 100 entries of the admin's own organization.
#[server(prefix = "/rpc")]
pub async fn get_audit_log() -> Result<Vec<AuditLine>, AppError> {
    use crate::context::{require_admin, server_context};

    let user = require_admin()?;
    let entries = server_context()?.store.audit_log(user.org_id, 100).await?;
    Ok(entries
        .into_iter()
        .map(|e| AuditLine { at: e.at, action: e.action, target: e.target, detail: e.detail })
        .collect())
}
