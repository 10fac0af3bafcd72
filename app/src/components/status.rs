use engine::domain::SyncStatus;
use leptos::prelude::*;

use super::icon::StatusIcon;

/// One tile of the dashboard: a state, its count and icon.
#[component]
pub fn StatusTile(
    status: SyncStatus,
    count: i64,
    #[prop(optional, into)] note: Option<String>,
    /// Actions under the count (e.g. "Retry all").
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <section class=format!("tile tile-{}", status.as_str()) data-status=status.as_str()>
            <h2>{status.label()}</h2>
            <p class="count" data-testid=format!("count-{}", status.as_str())>{count}</p>
            <p class="icon" aria-hidden="true"><StatusIcon status/></p>
            {note.map(|n| view! { <p class="note">{n}</p> })}
            {children.map(|c| c())}
        </section>
    }
}

/// A dashboard tile that is not a sync state: a title, a value and a note.
#[component]
pub fn InfoTile(
    #[prop(into)] title: String,
    /// Extra class, e.g. the health state for its colour.
    #[prop(optional, into)]
    class: String,
    #[prop(into)] testid: String,
    children: Children,
) -> impl IntoView {
    view! {
        <section class=format!("tile tile-info {class}") data-testid=testid>
            <h2>{title}</h2>
            {children()}
        </section>
    }
}
