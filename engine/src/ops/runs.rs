//! Runs asked for by an admin ("run now"): queued for the worker, one of
//! each kind at a time, audited with the request.

use super::{Caller, OpError, Operations};
use crate::domain::{Actor, RunId};
use crate::store::Start;
use crate::verify::runner::busy_message;

pub use crate::store::RunKind;

impl Operations {
    /// Queues a run of `kind`; while one is queued or running (whoever
    /// started it) nothing is queued and the conflict names that run. The
    /// caller wakes its worker so the run starts at once.
    pub async fn request_run(&self, caller: Caller, kind: RunKind) -> Result<RunId, OpError> {
        let caller = caller.admin()?;
        let Actor::User { id, .. } = caller.actor else { return Err(OpError::Forbidden) };
        match self.store.request_run(caller.org, kind, id, self.now()).await? {
            Start::Started(run) => Ok(run),
            Start::Busy(active) => {
                let zone = self.store.organization(caller.org).await?.time_zone;
                Err(OpError::Conflict(busy_message(&active, zone)))
            }
            Start::SlotTaken => Err(OpError::Conflict("the last run of this kind has just finished; ask again".into())),
        }
    }
}
