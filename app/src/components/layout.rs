use leptos::prelude::*;

/// The bar at the top of every page.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"calsync"</a>
            <nav aria-label="Main">
                <a href="/">"Dashboard"</a>
            </nav>
        </header>
    }
}
