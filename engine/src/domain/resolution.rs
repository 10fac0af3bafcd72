//! The one-click resolutions an admin can choose, as the review page and
//! the review queue offer them and the engine carries them out (which apply
//! to a case is decided by `ops::review::applicable_actions`).

use serde::{Deserialize, Serialize};

/// The resolutions the review page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolveAction {
    RetryVerification,
    CreateInCalcom,
    AcceptCalcom,
    PushOurs,
    CancelBoth,
    MarkResolved,
}

impl ResolveAction {
    pub const fn label(self) -> &'static str {
        match self {
            ResolveAction::RetryVerification => "Retry verification",
            ResolveAction::CreateInCalcom => "Create in Cal.com",
            ResolveAction::AcceptCalcom => "Accept Cal.com's version",
            ResolveAction::PushOurs => "Push ours to Cal.com",
            ResolveAction::CancelBoth => "Cancel appointment (both sides)",
            ResolveAction::MarkResolved => "Mark as resolved",
        }
    }

    /// What the confirmation asks.
    pub const fn question(self) -> &'static str {
        match self {
            ResolveAction::RetryVerification => "Check this appointment against Cal.com again now?",
            ResolveAction::CreateInCalcom => "Create a new Cal.com booking for this appointment?",
            ResolveAction::AcceptCalcom => "Overwrite our time and status with Cal.com's?",
            ResolveAction::PushOurs => "Change the Cal.com booking to match our record?",
            ResolveAction::CancelBoth => "Cancel this appointment here and in Cal.com? This cannot be undone.",
            ResolveAction::MarkResolved => "Close the open issues without changing anything?",
        }
    }

    pub const fn slug(self) -> &'static str {
        match self {
            ResolveAction::RetryVerification => "retry",
            ResolveAction::CreateInCalcom => "create-in-calcom",
            ResolveAction::AcceptCalcom => "accept-calcom",
            ResolveAction::PushOurs => "push-ours",
            ResolveAction::CancelBoth => "cancel-both",
            ResolveAction::MarkResolved => "mark-resolved",
        }
    }
}

/// What an admin may do with a Cal.com booking we have no appointment for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingAction {
    /// Create our appointment from it.
    Import,
    /// It is this appointment's booking (a suggested link).
    Link(i64),
    MarkResolved,
}
