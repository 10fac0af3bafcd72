//! REST API tokens: list, create (the secret is shown once) and revoke.
//! Admins and the command line only; each change is audited by the store
//! in the same transaction.

use super::error::parse;
use super::{Caller, OpError, Operations};
use crate::domain::{ApiTokenId, TokenName};
use crate::store::Organization;

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

impl Operations {
    /// The live token whose secret a client sent, and its organization;
    /// an unknown or revoked one is refused without saying which.
    pub async fn authenticate_api_token(&self, secret: &str) -> Result<(Organization, ApiToken), OpError> {
        let refused = || OpError::Unauthenticated("a valid API token is required".into());
        let token = self.store.authenticate_api_token(secret, self.now()).await?.ok_or_else(refused)?;
        let org = self.store.organization(token.org_id).await?;
        Ok((org, token))
    }
}
