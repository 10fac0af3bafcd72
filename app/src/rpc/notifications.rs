//! The notification feed of the signed-in user's organization, with that
//! user's read state. Marking another organization's notification is a
//! `NotFound`, exactly like marking one that does not exist.

use chrono::{DateTime, Utc};
use engine::domain::{AppointmentId, IssueId, NotificationId};
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;
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
    /// Lines of detail, separated by `\n` (the first says what happened).
    pub body: String,
    /// Already in the organization's time zone, e.g. "25.11.2026 14:03 CET".
    pub at: String,
    /// The same instant, for `<time datetime>` and "2 hours ago". It
    /// travels as a number (see [`NotificationFeed::now`]).
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub at_utc: DateTime<Utc>,
    pub appointment_id: Option<AppointmentId>,
    pub issue_id: Option<IssueId>,
    pub read: bool,
    /// Where to go about it ("Review now" → the appointment), if anywhere.
    pub action: Option<FeedAction>,
}

/// The link under a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedAction {
    pub label: String,
    pub href: String,
}

/// A page of the feed with the server's clock at the time it was read:
/// relative times ("2 hours ago") are computed from this `now`, never from
/// the browser's clock, so the server's HTML and the hydrated page agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationFeed {
    /// Milliseconds since 1970 on the wire, not RFC 3339 text: reading
    /// text would put chrono's date parser (about 24 KB of code) into the
    /// WASM every page loads, the bell being on every page.
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub now: DateTime<Utc>,
    pub items: Vec<FeedItem>,
}

/// What the header's bell shows: the unread count and the latest few.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BellFeed {
    pub unread: i64,
    pub feed: NotificationFeed,
}

/// The page shows at most this many; older ones stay in the database.
pub const FEED_LIMIT: u32 = 200;

/// How many the bell's list shows.
pub const BELL_LIMIT: u32 = 5;

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_notifications(unread_only: bool) -> Result<NotificationFeed, AppError> {
    use crate::context::require_user;

    let user = require_user()?;
    feed_for(&user, unread_only, FEED_LIMIT).await
}

/// The bell's count and list. `None` without a session (the login page
/// shows the header too, and must not turn into a 401).
#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_bell() -> Result<Option<BellFeed>, AppError> {
    use crate::context::{server_context, signed_in_user};

    let Some(user) = signed_in_user() else {
        return Ok(None);
    };
    let unread = server_context()?.ops.unread_count(user.caller()).await?;
    let feed = feed_for(&user, false, BELL_LIMIT).await?;
    Ok(Some(BellFeed { unread, feed }))
}

#[cfg(feature = "ssr")]
async fn feed_for(
    user: &crate::context::CurrentUser,
    unread_only: bool,
    limit: u32,
) -> Result<NotificationFeed, AppError> {
    use crate::context::server_context;

    let ops = server_context()?.ops;
    let org = ops.organization(user.caller()).await?;
    let local = org.local_format();
    let now = Utc::now();
    let admin = user.role.is_admin();
    let feed = ops.notifications(user.caller(), unread_only, limit).await?;
    let items = feed
        .into_iter()
        .map(|n| FeedItem {
            id: n.id,
            kind: n.kind.as_str().to_owned(),
            kind_label: kind_label(n.kind).to_owned(),
            severity: n.severity.as_str().to_owned(),
            action: action_for(n.kind, n.appointment_id, n.issue_id, admin),
            title: n.title,
            body: n.body,
            at: format!(
                "{} {}",
                local.date_time(n.created_at),
                n.created_at.with_timezone(&org.time_zone).format("%Z")
            ),
            at_utc: n.created_at,
            appointment_id: n.appointment_id,
            issue_id: n.issue_id,
            read: n.read,
        })
        .collect();
    Ok(NotificationFeed { now, items })
}

/// The seed's "→ Review Now" for an issue, "→ View Details" for the rest.
#[cfg(feature = "ssr")]
fn action_for(
    kind: engine::ops::notifications::NotificationKind,
    appointment: Option<AppointmentId>,
    issue: Option<IssueId>,
    admin: bool,
) -> Option<FeedAction> {
    use engine::ops::notifications::NotificationKind;

    let (label, href) = match (kind, appointment, issue) {
        (NotificationKind::SyncIssue | NotificationKind::Reminder, Some(id), _) => {
            ("Review now", format!("/appointments/{id}"))
        }
        (_, Some(id), _) => ("View details", format!("/appointments/{id}")),
        // A Cal.com booking without an appointment is resolved in the queue.
        (_, None, Some(_)) => ("Review now", "/review".to_owned()),
        (NotificationKind::SyncRestored, None, None) => ("View details", "/runs".to_owned()),
        (NotificationKind::CalcomConnection, None, None) if admin => ("View details", "/settings#calcom".to_owned()),
        (NotificationKind::CalcomConnection, None, None) => ("View details", "/".to_owned()),
        (NotificationKind::Alert | NotificationKind::AlertRecovered, None, None) => {
            ("Open the queue", "/review".to_owned())
        }
        _ => return None,
    };
    Some(FeedAction { label: label.to_owned(), href })
}

#[cfg(feature = "ssr")]
fn kind_label(kind: engine::ops::notifications::NotificationKind) -> &'static str {
    use engine::ops::notifications::NotificationKind;
    match kind {
        NotificationKind::SyncIssue => "Sync issue",
        NotificationKind::VerificationFailed => "Verification failed",
        NotificationKind::SyncRestored => "Sync restored",
        NotificationKind::CalcomConnection => "Cal.com connection",
        NotificationKind::Reminder => "Reminder",
        NotificationKind::Alert => "Alert",
        NotificationKind::AlertRecovered => "Recovered",
    }
}

/// The unread count alone (the header's bell asks `get_bell` for it and
/// its list). `None` without a session (the login page shows
/// the header too, and must not turn into a 401).
#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_unread_count() -> Result<Option<i64>, AppError> {
    use crate::context::{server_context, signed_in_user};

    let Some(user) = signed_in_user() else {
        return Ok(None);
    };
    Ok(Some(server_context()?.ops.unread_count(user.caller()).await?))
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn mark_notification_read(id: NotificationId) -> Result<(), AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    Ok(server_context()?.ops.mark_read(user.caller(), id).await?)
}

/// Returns how many were unread.
#[server(prefix = "/rpc", output = Postcard)]
pub async fn mark_all_notifications_read() -> Result<u64, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    Ok(server_context()?.ops.mark_all_read(user.caller()).await?)
}
