//! Who is signed in, for the route groups that use sessions
//! (`server::router`): the signed-in area sends a browser without a valid
//! session (303) to `/login?next=…`; the open browser routes only attach
//! the account. It is re-read from the database on each request, so
//! disabling an account takes effect at once, and handed to handlers and
//! server functions as a request extension (`CurrentUser`).

use app::context::CurrentUser;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use engine::ops::{OpError, Operations};
use tower_sessions::Session;

use engine::domain::url::path_in_query;

use super::login::SessionUser;
use super::session_policy::{SessionPolicy, Verdict};
use super::USER_KEY;
use crate::state::AppState;

/// For the signed-in area (pages, the CSV export, the live feed): without
/// a valid session the browser is sent to the login page, to come back here.
pub async fn require_login(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match signed_in_account(&state, &session).await {
        Ok(user) => user,
        Err(unavailable) => return unavailable,
    };
    let Some(user) = user else {
        let target = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        return Redirect::to(&format!("/login?next={}", path_in_query(target))).into_response();
    };
    request.extensions_mut().insert(user);
    next.run(request).await
}

/// For what anyone may reach but which differs for a signed-in account (the
/// login page, server functions, which answer 401/403 themselves): the
/// account is attached if there is one, nothing is refused.
pub async fn attach_user(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match signed_in_account(&state, &session).await {
        Ok(user) => user,
        Err(unavailable) => return unavailable,
    };
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

/// The session's account, or the 503 to answer when it cannot be checked.
async fn signed_in_account(state: &AppState, session: &Session) -> Result<Option<CurrentUser>, Response> {
    current_user(&state.ops, session, state.sessions).await.map_err(|e| {
        tracing::error!(error = %e, "could not check the session");
        (StatusCode::SERVICE_UNAVAILABLE, "Could not check your login. Please try again.").into_response()
    })
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CheckError {
    #[error("session: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error(transparent)]
    Operation(#[from] OpError),
}

/// The signed-in account of this session, if any. A session past its idle
/// or absolute limit is ended here.
async fn current_user(
    ops: &Operations,
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
    let Some((user, org)) = ops.session_account(signed_in.org_id, signed_in.user_id).await? else {
        return Ok(None);
    };
    Ok(Some(CurrentUser {
        user_id: user.id,
        org_id: user.org_id,
        org_name: org.name,
        name: user.name,
        email: user.email,
        role: user.role,
    }))
}
