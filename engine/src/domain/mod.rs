//! Types shared by the server and the browser: identifiers, sync states,
//! error codes and appointment attributes. Nothing here touches I/O, so the
//! hydrate build can use it too.

mod actor;
mod appointment;
mod audit;
mod health;
mod ids;
mod input;
mod members;
mod resolution;
mod sort;
mod sync;
pub mod url;
mod user;

pub use actor::Actor;
pub use appointment::{AppointmentSource, AppointmentStatus};
pub use audit::AuditAction;
pub use health::CalcomHealth;
pub use ids::{ApiTokenId, AppointmentId, IssueId, NotificationId, OrgId, OutageId, RunId, UserId};
pub use input::{
    AccountName, BaseUrl, EmailAddress, Invalid, Slug, TimeZoneName, TokenName, ACK_REMINDER_HOURS, MAX_TEXT,
    WINDOW_DAYS_AHEAD, WINDOW_DAYS_BACK,
};
pub use members::Members;
pub use resolution::{BookingAction, ResolveAction};
pub use sort::SortKey;
pub use sync::{ErrorCode, SyncCounts, SyncStatus};
pub use user::{EmailPreference, Role};

/// A string that names none of an enum's variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownVariant {
    pub what: &'static str,
    pub value: String,
}

/// Declares a string-backed enum: every variant has exactly one wire/database
/// spelling, used by serde, Display and FromStr alike, so the three can never
/// disagree.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::domain::UnknownVariant {
                        what: $what,
                        value: other.to_owned(),
                    }),
                }
            }
        }
    };
}
pub(crate) use string_enum;
