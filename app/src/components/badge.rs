use engine::domain::{ErrorCode, SyncStatus};
use leptos::prelude::*;

use super::icon::StatusIcon;

/// A sync state as the spec shows it (icon and words), with the error code
/// and detail underneath when there is one.
///
/// Only phrasing content (spans), so the badge may sit inside a `<p>` or a
/// `<td>`: a `<div>` inside a `<p>` is moved out by the browser's parser, the
/// DOM then differs from the server's markup and hydration panics.
#[component]
pub fn SyncBadge(
    status: SyncStatus,
    #[prop(default = None)] code: Option<ErrorCode>,
    #[prop(default = None)] detail: Option<String>,
    #[prop(optional)] review: bool,
) -> impl IntoView {
    view! {
        <span class=format!("badge badge-{}", status.as_str()) data-status=status.as_str()>
            <span aria-hidden="true"><StatusIcon status/>" "</span>
            {status.label()}
        </span>
        {review.then(|| view! { <span class="badge badge-review">"Review"</span> })}
        {code.map(|code| view! { <span class="sync-code" title=code.label()><code>{code.as_str()}</code></span> })}
        {detail.map(|detail| view! { <span class="sync-detail muted">{detail}</span> })}
    }
}
