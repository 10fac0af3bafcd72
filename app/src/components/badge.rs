use engine::domain::{ErrorCode, SyncStatus};
use leptos::prelude::*;

use super::icon::StatusIcon;

/// A sync state as the spec shows it (icon and words), with the error code
/// and detail underneath when there is one.
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
        {code.map(|code| view! { <div class="sync-code" title=code.label()><code>{code.as_str()}</code></div> })}
        {detail.map(|detail| view! { <div class="sync-detail muted">{detail}</div> })}
    }
}
