//! Live updates for open pages: `GET /events`, a Server-Sent Events stream
//! of the signed-in user's notification summary. One watcher per
//! organization polls the database; connections only recount when it sees
//! the feed change.

mod events;
mod feed;

use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub use events::Summary;
pub use feed::LiveFeed;

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", get(events::stream))
}
