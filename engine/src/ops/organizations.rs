//! Organizations: created and listed from the command line (there is no
//! page for it: one calsync usually serves one business).

use super::error::parse;
use super::{Caller, OpError, Operations};
use crate::domain::{AccountName, Actor, Slug, TimeZoneName};
use crate::store::NewOrganization;

pub use crate::store::Organization;

/// A new organization as typed.
#[derive(Debug, Clone)]
pub struct NewOrganizationInput {
    pub slug: Slug,
    pub name: AccountName,
    pub time_zone: TimeZoneName,
}

impl NewOrganizationInput {
    pub fn parse(slug: &str, name: &str, time_zone: &str) -> Result<NewOrganizationInput, OpError> {
        Ok(NewOrganizationInput {
            slug: parse("slug", Slug::parse(slug))?,
            name: parse("name", AccountName::parse(name))?,
            time_zone: parse("time_zone", TimeZoneName::parse(time_zone))?,
        })
    }
}

impl Operations {
    /// Only from the command line: whoever holds the server's shell.
    pub async fn create_organization(
        &self,
        actor: Actor,
        input: NewOrganizationInput,
    ) -> Result<Organization, OpError> {
        if actor != Actor::CommandLine {
            return Err(OpError::Forbidden);
        }
        let new =
            NewOrganization { slug: input.slug.into(), name: input.name.into(), time_zone: input.time_zone.zone() };
        Ok(self.store.create_organization(&new, self.now()).await?)
    }

    pub async fn organizations(&self, actor: Actor) -> Result<Vec<Organization>, OpError> {
        if actor != Actor::CommandLine {
            return Err(OpError::Forbidden);
        }
        Ok(self.store.organizations().await?)
    }

    /// The organization named `slug` on the command line, as the caller
    /// every other command acts as.
    pub async fn command_line_caller(&self, slug: &str) -> Result<(Caller, Organization), OpError> {
        let org = self.store.organization_by_slug(slug).await.map_err(|e| match e {
            crate::store::StoreError::NotFound(_) => OpError::field("org", format!("no organization {slug:?}")),
            other => other.into(),
        })?;
        Ok((Caller::new(org.id, Actor::CommandLine), org))
    }

    /// The caller's own organization.
    pub async fn organization(&self, caller: Caller) -> Result<Organization, OpError> {
        Ok(self.store.organization(caller.org).await?)
    }
}
