//! The audit log (logins, settings, accounts): admins only, since it names
//! who did what.

use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLine {
    /// In the organization's time zone and format, as on every page.
    pub at: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// The newest 100 entries of the admin's own organization.
#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_audit_log() -> Result<Vec<AuditLine>, AppError> {
    use crate::context::{require_admin, server_context};

    let user = require_admin()?;
    let ops = server_context()?.ops;
    let entries = ops.audit_log(user.caller(), 100).await?;
    let local = ops.organization(user.caller()).await?.local_format();
    Ok(entries
        .into_iter()
        .map(|e| AuditLine {
            at: local.date_time_seconds(e.at),
            action: e.action.as_str().to_owned(),
            target: e.target,
            detail: e.detail,
        })
        .collect())
}
