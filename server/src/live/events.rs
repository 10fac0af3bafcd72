//! `GET /events`: the signed-in user's notification summary as Server-Sent
//! Events. One event on connect, then one whenever it changes. The browser's
//! `EventSource` reconnects by itself after a drop.

use std::convert::Infallible;
use std::time::Duration;

use app::context::CurrentUser;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use engine::ops::notifications::FeedVersion;
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::LiveFeed;

/// What each event's `data` holds, as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The user's unread notifications.
    pub unread: i64,
    /// The organization's newest notification id (0 for none).
    pub latest: i64,
}

/// Proxies drop idle connections; a comment line every so often keeps it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn stream(State(feed): State<LiveFeed>, user: Option<Extension<CurrentUser>>) -> Response {
    // The login middleware redirects requests without a session; this is
    // for a session whose account vanished between the two.
    let Some(Extension(user)) = user else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let follower = Follower {
        versions: feed.subscribe(user.org_id),
        closing: feed.closing(),
        feed,
        user,
        last: None,
        started: false,
    };
    Sse::new(summaries(follower)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response()
}

struct Follower {
    feed: LiveFeed,
    user: CurrentUser,
    versions: watch::Receiver<FeedVersion>,
    closing: watch::Receiver<bool>,
    /// The last summary sent; `None` before the first.
    last: Option<Summary>,
    /// Whether the first attempt to send was made (a failed first count
    /// must wait for a change, not retry in a tight loop).
    started: bool,
}

fn summaries(follower: Follower) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(follower, |mut f| async move {
        loop {
            // The first summary goes out at once; later ones wait for the
            // organization's feed to move.
            if f.started {
                tokio::select! {
                    changed = f.versions.changed() => if changed.is_err() { return None },
                    // `closing` only ever flips to true.
                    _ = f.closing.changed() => return None,
                }
            }
            f.started = true;
            let summary = match summarize(&f).await {
                Ok(summary) => summary,
                Err(e) => {
                    tracing::warn!(error = %e, "live feed: could not count unread notifications");
                    continue;
                }
            };
            // Another user's read marks move the version too; this user's
            // page only hears about changes to what it shows.
            if f.last == Some(summary) {
                continue;
            }
            f.last = Some(summary);
            let event = Event::default().event("summary").json_data(summary).unwrap_or_default();
            return Some((Ok(event), f));
        }
    })
}

async fn summarize(f: &Follower) -> Result<Summary, engine::ops::OpError> {
    let (unread, latest) = f.feed.ops().feed_summary(f.user.caller()).await?;
    Ok(Summary { unread, latest })
}
