//! The audit log: admins only, since it names who did what.

use super::{Caller, OpError, Operations};

pub use crate::store::AuditEntry;

impl Operations {
    /// The newest `limit` entries of the caller's organization.
    pub async fn audit_log(&self, caller: Caller, limit: u32) -> Result<Vec<AuditEntry>, OpError> {
        let caller = caller.admin()?;
        Ok(self.store.audit_log(caller.org, limit).await?)
    }
}
