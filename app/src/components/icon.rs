//! Icons as inline SVG: they look the same on every machine, whatever
//! fonts it has (emoji render as empty boxes where no emoji font is
//! installed). Each is drawn on a 24×24 grid with round 2-unit strokes in
//! `currentColor`, so it takes the colour and size of the text around it.
//! The `<svg>` is phrasing content (fine inside `<span>`, `<button>`, `<p>`),
//! carries no ids, and is the same markup on the server and in the browser.
//! Decorative: always next to words that say the same, hence `aria-hidden`.

use engine::domain::SyncStatus;
use leptos::prelude::*;

/// A circle of radius 9 round the centre, then the mark inside it.
macro_rules! circled {
    ($mark:literal) => {
        concat!("M3 12a9 9 0 1 0 18 0a9 9 0 1 0-18 0", $mark)
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconKind {
    /// A tick in a circle: synced, sync restored.
    Check,
    /// A cross in a circle: failed, not found.
    Cross,
    /// A triangle with "!": needs review.
    Warning,
    /// Two arrows going round: only in Cal.com (to be brought over).
    Refresh,
    /// An hourglass: pending.
    Hourglass,
    /// A clock face: time, scheduled.
    Clock,
    /// A magnifying glass: being verified.
    Search,
    Bell,
    /// An "i" in a circle.
    Info,
    /// A plug: the Cal.com connection.
    Plug,
    /// An arrow pointing right: "Review now".
    ArrowRight,
    /// Three lines: the phone menu.
    Menu,
    /// A "v": a menu that opens.
    ChevronDown,
}

impl IconKind {
    /// The icon of a sync state (the spec's ✅ ⏳ ❌ ⚠️ 🔄 🔍).
    pub const fn for_status(status: SyncStatus) -> IconKind {
        match status {
            SyncStatus::Synced => IconKind::Check,
            SyncStatus::Pending => IconKind::Hourglass,
            SyncStatus::Failed => IconKind::Cross,
            SyncStatus::OrphanedLocal => IconKind::Warning,
            SyncStatus::OrphanedCalcom => IconKind::Refresh,
            SyncStatus::VerificationPending => IconKind::Search,
        }
    }

    /// The icon of a notification kind, as stored ("sync_issue", …).
    pub fn for_notification(kind: &str) -> IconKind {
        match kind {
            "sync_issue" => IconKind::Warning,
            "verification_failed" => IconKind::Cross,
            "sync_restored" => IconKind::Check,
            "calcom_connection" => IconKind::Plug,
            "reminder" => IconKind::Clock,
            _ => IconKind::Info,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            IconKind::Check => "check",
            IconKind::Cross => "cross",
            IconKind::Warning => "warning",
            IconKind::Refresh => "refresh",
            IconKind::Hourglass => "hourglass",
            IconKind::Clock => "clock",
            IconKind::Search => "search",
            IconKind::Bell => "bell",
            IconKind::Info => "info",
            IconKind::Plug => "plug",
            IconKind::ArrowRight => "arrow-right",
            IconKind::Menu => "menu",
            IconKind::ChevronDown => "chevron-down",
        }
    }

    /// One path per icon (several sub-paths); a dot is a zero-length
    /// segment with a round cap.
    pub const fn path(self) -> &'static str {
        match self {
            IconKind::Check => circled!("M8 12.5l2.75 2.75L16 9.5"),
            IconKind::Cross => circled!("M9 9l6 6M15 9l-6 6"),
            IconKind::Warning => "M12 3.5L2.5 20h19zM12 10v4M12 17h.01",
            IconKind::Refresh => "M4 12a8 8 0 0 1 14-5.3M18 3v4h-4M20 12a8 8 0 0 1-14 5.3M6 21v-4h4",
            IconKind::Hourglass => "M6 3h12M6 21h12M7 3v3l5 6-5 6v3M17 3v3l-5 6 5 6v3",
            IconKind::Clock => circled!("M12 7v5l3 2"),
            IconKind::Search => "M4 10.5a6.5 6.5 0 1 0 13 0a6.5 6.5 0 1 0-13 0M15.5 15.5L20.5 20.5",
            IconKind::Bell => "M6 16v-5a6 6 0 0 1 12 0v5l1.5 2h-15zM10 20.5a2 2 0 0 0 4 0",
            IconKind::Info => circled!("M12 11v5M12 8h.01"),
            IconKind::Plug => "M9 3v5M15 3v5M6 8h12v3a6 6 0 0 1-12 0zM12 17v4",
            IconKind::ArrowRight => "M5 12h14M13 6l6 6-6 6",
            IconKind::Menu => "M4 6h16M4 12h16M4 18h16",
            IconKind::ChevronDown => "M6 9l6 6 6-6",
        }
    }
}

/// `<Icon kind=IconKind::Check/>`: an inline SVG, 1em square, decorative.
#[component]
pub fn Icon(kind: IconKind) -> impl IntoView {
    let class = format!("icon icon-{}", kind.name());
    view! {
        <svg
            class=class
            viewBox="0 0 24 24"
            width="1em"
            height="1em"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
        >
            <path d=kind.path()/>
        </svg>
    }
}

/// The icon of a sync state.
#[component]
pub fn StatusIcon(status: SyncStatus) -> impl IntoView {
    view! { <Icon kind=IconKind::for_status(status)/> }
}
