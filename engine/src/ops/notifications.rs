//! One's notification feed (the page and the bell): read state is per
//! person, so only a signed-in user has a feed.

use super::{Caller, OpError, Operations};
use crate::domain::{NotificationId, OrgId, UserId};

pub use crate::store::{FeedVersion, Notification, NotificationKind};

impl Caller {
    /// The person asking; a token or the command line has no feed.
    fn person(self) -> Result<UserId, OpError> {
        self.actor.user().ok_or(OpError::Forbidden)
    }
}

impl Operations {
    /// Newest first, at most `limit`, with whether the caller has read each.
    pub async fn notifications(
        &self,
        caller: Caller,
        unread_only: bool,
        limit: u32,
    ) -> Result<Vec<Notification>, OpError> {
        let user = caller.person()?;
        Ok(self.store.notifications_for(caller.org, user, unread_only, limit).await?)
    }

    pub async fn unread_count(&self, caller: Caller) -> Result<i64, OpError> {
        Ok(self.store.unread_count(caller.org, caller.person()?).await?)
    }

    /// "Not yours" and "no such" look the same: not found.
    pub async fn mark_read(&self, caller: Caller, id: NotificationId) -> Result<(), OpError> {
        match self.store.mark_read(caller.org, caller.person()?, id, self.now()).await? {
            true => Ok(()),
            false => Err(OpError::NotFound("Notification")),
        }
    }

    /// How many were unread.
    pub async fn mark_all_read(&self, caller: Caller) -> Result<u64, OpError> {
        Ok(self.store.mark_all_read(caller.org, caller.person()?, self.now()).await?)
    }

    /// Moves with every new notification and read mark of the
    /// organization: the live feed polls it once for all its followers
    /// there, whoever they are (each then reads their own summary).
    pub async fn feed_version(&self, org: OrgId) -> Result<FeedVersion, OpError> {
        Ok(self.store.feed_version(org).await?)
    }

    /// The caller's unread count and the organization's newest
    /// notification id (0 for none). The version only says *that*
    /// something changed; the newest id is read after the count, so a
    /// summary that counts a notification always names it (or a newer
    /// one), however late its reader wakes up.
    pub async fn feed_summary(&self, caller: Caller) -> Result<(i64, i64), OpError> {
        let unread = self.unread_count(caller).await?;
        Ok((unread, self.store.feed_version(caller.org).await?.latest))
    }
}
