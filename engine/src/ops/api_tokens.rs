//! REST API tokens: list, create (the secret is shown once) and revoke.
//! Admins and the command line only; each change is audited by the store
//! in the same transaction.

use super::error::parse;
use super::{Caller, OpError, Operations};
use crate::domain::{ApiTokenId, TokenName};

pub use crate::store::{ApiToken, IssuedToken};

impl Operations {
    /// The organization's tokens, oldest first, revoked ones included.
    pub async fn api_tokens(&self, caller: Caller) -> Result<Vec<ApiToken>, OpError> {
        let caller = caller.admin()?;
        Ok(self.store.api_tokens(caller.org).await?)
    }

    pub async fn create_api_token(&self, caller: Caller, name: &str) -> Result<IssuedToken, OpError> {
        let caller = caller.admin()?;
        let name = parse("name", TokenName::parse(name))?;
        Ok(self.store.create_api_token(caller.org, &name, caller.actor.user(), self.now()).await?)
    }

    /// Another organization's token is "not found", like an absent one.
    pub async fn revoke_api_token(&self, caller: Caller, id: ApiTokenId) -> Result<ApiToken, OpError> {
        let caller = caller.admin()?;
        Ok(self.store.revoke_api_token(caller.org, id, caller.actor.user(), self.now()).await?)
    }
}
