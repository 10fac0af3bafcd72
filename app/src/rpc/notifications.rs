//! The notification feed of the signed-in user's organization, with that
//! user's read state. Marking another organization's notification is a
//! `NotFound`, exactly like marking one that does not exist.

use engine::domain::{AppointmentId, IssueId, NotificationId};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One notification as the page shows it. Kind and severity travel as
/// their stored spellings (the store's enums are server-only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    pub id: NotificationId,
    pub kind: String,
    pub kind_label: String,
    pub severity: String,
    pub title: String,
    pub body: String,
    /// Already in the organization's time zone, e.g. "2026-11-25 14:03 CET".
    pub at: String,
    pub appointment_id: Option<AppointmentId>,
    pub issue_id: Option<IssueId>,
    pub read: bool,
}

/// The page shows at most this many; older ones stay in the database.
pub const FEED_LIMIT: u32 = 200;

#[server(prefix = "/rpc")]
pub async fn get_notifications(unread_only: bool) -> Result<Vec<FeedItem>, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    let store = server_context()?.store;
    let zone = store.organization(user.org_id).await?.time_zone;
    let feed = store.notifications_for(user.org_id, user.user_id, unread_only, FEED_LIMIT).await?;
    Ok(feed
        .into_iter()
        .map(|n| FeedItem {
            id: n.id,
            kind: n.kind.as_str().to_owned(),
            kind_label: kind_label(n.kind).to_owned(),
            severity: n.severity.as_str().to_owned(),
            title: n.title,
            body: n.body,
            at: n.created_at.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z").to_string(),
            appointment_id: n.appointment_id,
            issue_id: n.issue_id,
            read: n.read,
        })
        .collect())
}

#[cfg(feature = "ssr")]
fn kind_label(kind: engine::store::NotificationKind) -> &'static str {
    use engine::store::NotificationKind;
    match kind {
        NotificationKind::SyncIssue => "Sync issue",
        NotificationKind::VerificationFailed => "Verification failed",
        NotificationKind::SyncRestored => "Sync restored",
        NotificationKind::CalcomConnection => "Cal.com connection",
    }
}

/// The header's bell count. `None` without a session (the login page shows
/// the header too, and must not turn into a 401).
#[server(prefix = "/rpc")]
pub async fn get_unread_count() -> Result<Option<i64>, AppError> {
    use crate::context::{server_context, signed_in_user};

    let Some(user) = signed_in_user() else {
        return Ok(None);
    };
    Ok(Some(server_context()?.store.unread_count(user.org_id, user.user_id).await?))
}

#[server(prefix = "/rpc")]
pub async fn mark_notification_read(id: NotificationId) -> Result<(), AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    let store = server_context()?.store;
    if store.mark_read(user.org_id, user.user_id, id, chrono::Utc::now()).await? {
        Ok(())
    } else {
        // "Not yours" and "no such" look the same.
        Err(AppError::not_found("Notification"))
    }
}

/// Returns how many were unread.
#[server(prefix = "/rpc")]
pub async fn mark_all_notifications_read() -> Result<u64, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    Ok(server_context()?.store.mark_all_read(user.org_id, user.user_id, chrono::Utc::now()).await?)
}

/// The icon for a kind (shown next to the label, never alone).
pub fn kind_icon(kind: &str) -> &'static str {
    match kind {
        "sync_issue" => "⚠️",
        "verification_failed" => "❌",
        "sync_restored" => "✅",
        "calcom_connection" => "🔌",
        _ => "🔔",
    }
}
