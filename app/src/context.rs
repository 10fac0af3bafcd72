//! What server functions get from the server process: the engine's services.
//! Provided into Leptos' context for every request by the `server` crate.

use engine::domain::OrgId;
use engine::store::Store;
use leptos::prelude::*;

use crate::error::AppError;

#[derive(Clone, Debug)]
pub struct ServerContext {
    pub store: Store,
}

pub fn server_context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing from Leptos context");
        AppError::Internal
    })
}

/// The organization a request acts for.
///
/// Until accounts exist (issue #3) this is the only organization there is;
/// with none or several, nothing is shown rather than guessing.
pub async fn current_org(ctx: &ServerContext) -> Result<Option<(OrgId, String)>, AppError> {
    let orgs = ctx.store.organizations().await?;
    Ok(match orgs.as_slice() {
        [only] => Some((only.id, only.name.clone())),
        _ => None,
    })
}
