//! `POST /login` and `POST /logout`. Plain form posts answered with 303
//! redirects, so they work without JavaScript.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use engine::domain::url::path_in_query;
use engine::domain::{OrgId, UserId};
use engine::ops::sign_in::SignIn;
use engine::ops::Operations;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::USER_KEY;
use crate::state::AppState;

/// The form's fields. No `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Who a session belongs to; the account itself is re-read on every request.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: UserId,
    pub org_id: OrgId,
    #[serde(flatten)]
    pub times: super::session_policy::Times,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    match try_login(&state.ops, peer, &session, form).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "login failed with an internal error");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on the server. Please try again.").into_response()
        }
    }
}

async fn try_login(ops: &Operations, peer: SocketAddr, session: &Session, form: LoginForm) -> anyhow::Result<Response> {
    let next = local_path(&form.next);
    let user = match ops.sign_in(&form.email, form.password, peer.ip()).await? {
        SignIn::SignedIn(user) => user,
        SignIn::Throttled { retry_at, by_account } => {
            tracing::warn!(ip = %peer.ip(), by_account, "login throttled");
            return Ok(too_many_attempts(retry_at, Utc::now()));
        }
        SignIn::Refused => {
            tracing::info!(ip = %peer.ip(), "login failed");
            let mut to = String::from("/login?error=invalid");
            if let Some(next) = &next {
                to.push_str("&next=");
                to.push_str(&path_in_query(next));
            }
            return Ok(Redirect::to(&to).into_response());
        }
    };
    // A new id at login: an id planted before login (session fixation) is worthless.
    session.cycle_id().await?;
    let now = Utc::now().timestamp_millis();
    let times = super::session_policy::Times { signed_in_ms: now, seen_ms: now };
    session.insert(USER_KEY, SessionUser { user_id: user.id, org_id: user.org_id, times }).await?;
    tracing::info!(user = %user.id, org = %user.org_id, "logged in");
    Ok(Redirect::to(next.as_deref().unwrap_or("/")).into_response())
}

pub async fn logout(State(state): State<AppState>, session: Session) -> Response {
    match session.get::<SessionUser>(USER_KEY).await {
        Ok(Some(user)) => state.ops.signed_out(user.org_id, user.user_id).await,
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not read the session at logout"),
    }
    // Deletes the stored session and expires the cookie.
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "could not end the session");
        return (StatusCode::INTERNAL_SERVER_ERROR, "Could not log out. Please try again.").into_response();
    }
    Redirect::to("/login?logged_out=1").into_response()
}

fn too_many_attempts(retry_at: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> Response {
    let seconds = (retry_at - now).num_seconds().max(1);
    let minutes = (seconds + 59) / 60;
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many login attempts</title>\
         <link rel=\"stylesheet\" href=\"/pkg/calsync.css\"></head><body><main class=\"page login\">\
         <h1>Too many failed logins</h1>\
         <p role=\"alert\" data-testid=\"throttled\">Too many failed login attempts. Please try again in {minutes} minute{s} \
         (after {at} UTC).</p><p><a href=\"/login\">Back to the login page</a></p></main></body></html>",
        s = if minutes == 1 { "" } else { "s" },
        at = retry_at.format("%H:%M"),
    );
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::response::Html(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// `next` only if it is a path on this site: an absolute or
/// protocol-relative URL would make the login page an open redirect.
pub(super) fn local_path(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(local_path("/appointments?x=1").as_deref(), Some("/appointments?x=1"));
        for bad in ["https://evil.example/", "//evil.example", "/\\evil.example", "", "evil", "/a\nb"] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
