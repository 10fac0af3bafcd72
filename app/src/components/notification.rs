//! One notification as the seed's "In-App Notification" shows it: icon,
//! title, "2 hours ago" (the absolute time on hover), the lines of detail
//! and a "Review now" / "View details" link. Used by the notifications page
//! and the bell's list.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::components::icon::{Icon, IconKind};
use crate::components::ticker::use_ticker;
use crate::rpc::notifications::FeedItem;

/// "just now", "5 minutes ago", "2 hours ago", "3 days ago", "2 months
/// ago": how long before `now` something happened. `now` is the server's
/// clock sent with the data, so the server and the hydrating browser
/// compute the same words. A time after `now` (clocks a little apart)
/// reads "just now".
pub fn relative_time(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds().max(0);
    let (n, unit) = match seconds {
        s if s < 60 => return "just now".to_owned(),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s if s < 30 * 86_400 => (s / 86_400, "day"),
        s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural} ago")
}

/// The server's `now`, moving on in the browser: exactly `server_now` at
/// first (the server's HTML and the hydrated page agree), then, once a
/// minute after hydration, `server_now` plus the time the page has been
/// open, so "just now" becomes "5 minutes ago" without a reload. The
/// browser's own clock is used only for that difference, never as the time.
pub fn use_now(server_now: DateTime<Utc>) -> Signal<DateTime<Utc>> {
    let ticks = use_ticker(std::time::Duration::from_secs(60));
    #[cfg(feature = "hydrate")]
    {
        let opened = js_sys::Date::now();
        Signal::derive(move || {
            if ticks.get() == 0 {
                return server_now;
            }
            let open_ms = (js_sys::Date::now() - opened).max(0.0) as i64;
            server_now + chrono::Duration::milliseconds(open_ms)
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ticks;
        Signal::stored(server_now)
    }
}

/// `<time>` with the relative words, the instant in `datetime` and the
/// organization's local time in `title` (shown on hover).
#[component]
pub fn RelativeTime(at: DateTime<Utc>, now: Signal<DateTime<Utc>>, #[prop(into)] absolute: String) -> impl IntoView {
    view! {
        <time class="when" datetime=at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) title=absolute>
            {move || relative_time(at, now.get())}
        </time>
    }
}

/// One notification as a list item (`<li>`; put it in a `<ul>`). `compact`
/// shows only the first line of detail (the bell's list). `children` go at
/// the end of the footer (the page's "Mark read" form).
#[component]
pub fn NotificationItem(
    item: FeedItem,
    /// From [`use_now`].
    now: Signal<DateTime<Utc>>,
    #[prop(optional)] compact: bool,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let state = if item.read { "read" } else { "unread" };
    let class = format!("notification severity-{} {state}", item.severity);
    let mut lines: Vec<String> =
        item.body.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    if compact {
        lines.truncate(1);
    }
    // The bell's copies are told apart from the page's (both can be in one page).
    let testid = if compact { "bell-notification" } else { "notification" };
    let action = item.action.clone().map(|a| {
        view! {
            <a class="notification-action" href=a.href data-testid=format!("{testid}-action")>
                {a.label}
                " "
                <Icon kind=IconKind::ArrowRight/>
            </a>
        }
    });
    view! {
        <li class=class data-testid=testid data-read=item.read.to_string() data-kind=item.kind.clone()>
            <span class="notification-icon" title=item.kind_label.clone()>
                <Icon kind=IconKind::for_notification(&item.kind)/>
            </span>
            <div class="notification-main">
                <p class="notification-head">
                    <span class="visually-hidden">{format!("{}: ", item.kind_label)}</span>
                    <strong class="notification-title">{item.title}</strong>
                    {(!item.read).then(|| view! { " " <span class="unread-tag">"New"</span> })}
                    " "
                    <RelativeTime at=item.at_utc now absolute=item.at/>
                </p>
                {lines.into_iter().map(|line| view! { <p class="notification-line">{line}</p> }).collect_view()}
                <div class="notification-foot">
                    {action}
                    {children.map(|c| c())}
                </div>
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn relative_times_read_like_the_seed() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 20, 0, 0).unwrap();
        let ago = |d: Duration| relative_time(now - d, now);
        assert_eq!(ago(Duration::seconds(5)), "just now");
        assert_eq!(ago(Duration::seconds(-30)), "just now");
        assert_eq!(ago(Duration::minutes(1)), "1 minute ago");
        assert_eq!(ago(Duration::minutes(59)), "59 minutes ago");
        assert_eq!(ago(Duration::hours(2)), "2 hours ago");
        assert_eq!(ago(Duration::hours(24)), "1 day ago");
        assert_eq!(ago(Duration::days(3)), "3 days ago");
        assert_eq!(ago(Duration::days(65)), "2 months ago");
        assert_eq!(ago(Duration::days(800)), "2 years ago");
    }
}
