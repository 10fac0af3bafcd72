//! Who does an operation. The audit log names them, and the rules that
//! differ by who asks (an admin may, a viewer may not; nobody disables
//! their own account) read it here instead of each caller deciding.

use super::{ApiTokenId, Role, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in person, with the role their account has on this request.
    User { id: UserId, role: Role },
    /// A REST API client, by the token it sent.
    ApiToken(ApiTokenId),
    /// Someone with shell access to the server (`calsync org …`): they hold
    /// the database and the secret key already, so they may do anything.
    CommandLine,
}

impl Actor {
    /// The account to name in the audit log, if a person acted.
    pub fn user(self) -> Option<UserId> {
        match self {
            Actor::User { id, .. } => Some(id),
            Actor::ApiToken(_) | Actor::CommandLine => None,
        }
    }

    /// Whether this actor may change the organization's settings, accounts
    /// and tokens.
    pub fn may_administer(self) -> bool {
        match self {
            Actor::User { role, .. } => role.is_admin(),
            Actor::ApiToken(_) => false,
            Actor::CommandLine => true,
        }
    }

    /// How an audit entry's detail ends when no person is named.
    pub fn by_whom(self) -> &'static str {
        match self {
            Actor::User { .. } => "",
            Actor::ApiToken(_) => " by an API token",
            Actor::CommandLine => " by the command line",
        }
    }
}
