//! Accounts on the web: server-side sessions, the login/logout handlers
//! (the rules, throttling included, are `engine::ops::sign_in`), the "log
//! in first" middleware and the CSRF check.

mod csrf;
mod login;
mod require_login;
mod session_policy;
pub mod session_store;

use axum::routing::post;
use axum::Router;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::state::AppState;

pub use csrf::{same_origin_only, CsrfGuard, Origins};
pub use require_login::{attach_user, require_login};
pub use session_policy::SessionPolicy;
pub use session_store::DbSessionStore;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "calsync_session";

/// The session key holding who is signed in.
const USER_KEY: &str = "user";

/// `GET /login` is a Leptos page; these are the form targets. They are
/// checked for cross-site use even without a cookie (`CsrfGuard::always`).
pub fn routes() -> Router<AppState> {
    Router::new().route("/login", post(login::login)).route("/logout", post(login::logout))
}

/// Sessions kept in our database. The cookie holds only a random id;
/// `Secure` whenever people reach us over https.
pub fn session_layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(DbSessionStore::new(state.store.clone()))
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.public_url.starts_with("https://"))
        .with_path("/")
        // The row's expiry: the idle limit from the last save, moved forward
        // as `SessionPolicy` records activity.
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::seconds(
            i64::try_from(state.sessions.idle.as_secs()).unwrap_or(i64::MAX),
        )))
}
