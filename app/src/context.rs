//! What server functions get from the server process: the engine's services
//! and the signed-in user. Provided for every request by the `server` crate:
//! the operations through Leptos' context, the user as a request extension that
//! the login middleware put there after checking the session.

use engine::domain::{OrgId, Role, UserId};
use std::sync::Arc;

use engine::calcom::CalcomConnector;
use engine::domain::Actor;
use engine::ops::{Caller, Operations};
use engine::verify::circuit::Circuits;
use engine::worker::WakeUp;
use leptos::prelude::*;

use crate::error::AppError;

#[derive(Clone)]
pub struct ServerContext {
    /// The use cases (`engine::ops`): every server function calls one.
    pub ops: Operations,
    /// Each organization's Cal.com client, for the review page's resolutions.
    pub connector: CalcomConnector,
    /// The worker's circuit breakers (this process's view), for the
    /// dashboard's Cal.com health.
    pub circuits: Arc<Circuits>,
    /// Rung by "run now" so the worker does not wait for its next tick.
    pub wake_worker: WakeUp,
}

// By hand: the connector holds sealed keys and has no Debug of its own.
impl std::fmt::Debug for ServerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerContext").finish_non_exhaustive()
    }
}

pub fn server_context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing from Leptos context");
        AppError::Internal.with_status()
    })
}

/// The account a request acts for, checked against the database on this
/// request (a disabled or deleted account has none).
#[derive(Clone, Debug, PartialEq)]
pub struct CurrentUser {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub org_name: String,
    pub name: String,
    pub email: String,
    pub role: Role,
}

impl CurrentUser {
    /// This user as the caller of an operation.
    pub fn caller(&self) -> Caller {
        Caller::new(self.org_id, Actor::User { id: self.user_id, role: self.role })
    }
}

/// The signed-in user, if any, without treating "nobody" as an error.
pub fn signed_in_user() -> Option<CurrentUser> {
    use_context::<http::request::Parts>()?.extensions.get::<CurrentUser>().cloned()
}

/// The signed-in user, or a 401 `Unauthenticated`.
pub fn require_user() -> Result<CurrentUser, AppError> {
    signed_in_user().ok_or_else(|| AppError::Unauthenticated.with_status())
}

/// The signed-in user if an admin; a viewer gets a 403 `Forbidden`.
pub fn require_admin() -> Result<CurrentUser, AppError> {
    let user = require_user()?;
    if user.role.is_admin() {
        Ok(user)
    } else {
        Err(AppError::Forbidden.with_status())
    }
}
