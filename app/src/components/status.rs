use engine::domain::SyncStatus;
use leptos::prelude::*;

/// One tile of the dashboard: a state, its count and icon.
#[component]
pub fn StatusTile(status: SyncStatus, count: i64, #[prop(optional, into)] note: Option<String>) -> impl IntoView {
    view! {
        <section class=format!("tile tile-{}", status.as_str()) data-status=status.as_str()>
            <h2>{status.label()}</h2>
            <p class="count" data-testid=format!("count-{}", status.as_str())>{count}</p>
            <p class="icon" aria-hidden="true">{status.icon()}</p>
            {note.map(|n| view! { <p class="note">{n}</p> })}
        </section>
    }
}
