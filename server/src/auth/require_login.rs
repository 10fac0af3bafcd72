//! "Log in first": pages need a valid session; without one the browser is
//! sent (303) to `/login?next=…`. The signed-in account is re-read from the
//! database on each request, so disabling an account takes effect at once,
//! and handed to server functions as a request extension (`CurrentUser`).

use app::context::CurrentUser;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use engine::store::{Store, StoreError};
use tower_sessions::Session;

use engine::domain::url::path_in_query;

use super::login::SessionUser;
use super::session_policy::{SessionPolicy, Verdict};
use super::USER_KEY;
use crate::commands::AppState;

pub async fn require_login(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_static(&path) {
        return next.run(request).await;
    }
    match current_user(&state.store, &session, state.sessions).await {
        Ok(Some(user)) => {
            request.extensions_mut().insert(user);
        }
        Ok(None) if needs_login(&path) => {
            let target = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            return Redirect::to(&format!("/login?next={}", path_in_query(target))).into_response();
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "could not check the session");
            return (StatusCode::SERVICE_UNAVAILABLE, "Could not check your login. Please try again.").into_response();
        }
    }
    next.run(request).await
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CheckError {
    #[error("session: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The signed-in account of this session, if any (also used by handlers
/// on paths this middleware treats as files, such as the CSV export). A
/// session past its idle or absolute limit is ended here.
pub(crate) async fn current_user(
    store: &Store,
    session: &Session,
    policy: SessionPolicy,
) -> Result<Option<CurrentUser>, CheckError> {
    let Some(mut signed_in) = session.get::<SessionUser>(USER_KEY).await? else {
        return Ok(None);
    };
    let now = chrono::Utc::now();
    match policy.judge(signed_in.times, now) {
        Verdict::Expired => {
            session.flush().await?;
            return Ok(None);
        }
        Verdict::Touch => {
            // Saved at the end of the request, with the expiry moved forward.
            signed_in.times.seen_ms = now.timestamp_millis();
            session.insert(USER_KEY, signed_in).await?;
        }
        Verdict::Valid => {}
    }
    let user = match store.user(signed_in.org_id, signed_in.user_id).await {
        Ok(user) if !user.disabled => user,
        Ok(_) | Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let org = store.organization(user.org_id).await?;
    Ok(Some(CurrentUser {
        user_id: user.id,
        org_id: user.org_id,
        org_name: org.name,
        name: user.name,
        email: user.email,
        role: user.role,
    }))
}

/// Built assets and files from `public/`: never secret, never need a login.
fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

/// Everything but the login page and the endpoints with their own
/// authentication (health, metrics, REST API bearer tokens, signed
/// webhooks) and server functions, which answer 401/403 themselves.
fn needs_login(path: &str) -> bool {
    const OPEN: [&str; 5] = ["/login", "/logout", "/healthz", "/readyz", "/metrics"];
    const OPEN_TREES: [&str; 3] = ["/api/", "/webhooks/", "/rpc/"];
    !(OPEN.contains(&path) || OPEN_TREES.iter().any(|tree| path.starts_with(tree)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_need_a_login_but_assets_and_machine_endpoints_do_not() {
        for page in ["/", "/audit", "/no/such/page", "/login/x"] {
            assert!(needs_login(page) && !is_static(page), "{page}");
        }
        for open in ["/login", "/healthz", "/metrics", "/api/v1/appointments", "/webhooks/calcom/salon", "/rpc/x"] {
            assert!(!needs_login(open), "{open}");
        }
        assert!(is_static("/pkg/calsync.wasm") && is_static("/favicon.svg"));
    }
}
