//! The bearer-token extractor: a handler that takes `ApiCaller` runs only
//! for a live token, and then only ever sees that token's organization.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use engine::domain::Actor;
use engine::ops::api_tokens::ApiToken;
use engine::ops::organizations::Organization;
use engine::ops::Caller;

use super::error::ApiError;
use crate::state::AppState;

/// Who is calling: the organization the token belongs to, and the token
/// (its name goes into the sync history as the actor).
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub org: Organization,
    pub token: ApiToken,
}

impl ApiCaller {
    /// How the sync history names changes made through this token.
    pub fn actor(&self) -> String {
        format!("api token {}", self.token.name)
    }

    /// This token as the caller of an operation.
    pub fn caller(&self) -> Caller {
        Caller::new(self.org.id, Actor::ApiToken(self.token.id))
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ApiCaller, ApiError> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(engine::api_token::from_authorization)
            .ok_or(ApiError::Unauthorized)?;
        let (org, token) = state.ops.authenticate_api_token(secret).await?;
        Ok(ApiCaller { org, token })
    }
}
