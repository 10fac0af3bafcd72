//! Counts for machines: the REST API's sync summary and the Prometheus
//! gauges of `/metrics`.

use super::{Caller, OpError, Operations};
use crate::domain::{ErrorCode, OrgId, SyncCounts};

pub use crate::store::Organization;

/// Open review issues per code, every code listed (zeros included), so
/// readers need no defaults.
pub type OpenIssues = Vec<(ErrorCode, i64)>;

impl Operations {
    /// Appointments per sync state, and open issues per code.
    pub async fn sync_summary(&self, caller: Caller) -> Result<(SyncCounts, OpenIssues), OpError> {
        let counts = self.store.sync_counts(caller.org).await?;
        Ok((counts, self.open_issues(caller.org).await?))
    }

    /// Every organization's open issues per code. Not scoped to a caller:
    /// the adapter serves it only to the holder of the metrics token.
    pub async fn open_issues_everywhere(&self) -> Result<Vec<(Organization, OpenIssues)>, OpError> {
        let mut all = Vec::new();
        for org in self.store.organizations().await? {
            let open = self.open_issues(org.id).await?;
            all.push((org, open));
        }
        Ok(all)
    }

    async fn open_issues(&self, org: OrgId) -> Result<OpenIssues, OpError> {
        let open = self.store.count_open_issues_by_code(org).await?;
        Ok(ErrorCode::ALL
            .iter()
            .map(|code| (*code, open.iter().find(|(c, _)| c == code).map_or(0, |(_, n)| *n)))
            .collect())
    }
}
