use engine::domain::Role;
use leptos::prelude::*;

use crate::components::bell::Bell;
use crate::rpc::notifications::get_unread_count;
use crate::rpc::session::get_signed_in;

/// The bar at the top of every page: navigation, and who is signed in with
/// a logout button (a plain form, so it works before hydration).
#[component]
pub fn Header() -> impl IntoView {
    let signed_in = Resource::new(|| (), |_| get_signed_in());
    let unread = Resource::new(|| (), |_| get_unread_count());
    view! {
        <header class="topbar">
            <a class="brand" href="/">"calsync"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let unread = unread.await.ok().flatten().unwrap_or(0);
                    signed_in.await.ok().flatten().map(|user| view! {
                        <nav aria-label="Main">
                            <a href="/">"Dashboard"</a>
                            <a href="/appointments">"Appointments"</a>
                            <a href="/review">"Review queue"</a>
                            <a href="/runs">"Runs"</a>
                            <a href="/sync-health">"Metrics"</a>
                            {(user.role == Role::Admin).then(|| view! {
                                <a href="/audit">"Audit log"</a>
                                <a href="/settings" data-testid="nav-settings">"Settings"</a>
                            })}
                        </nav>
                        <div class="account">
                            <Bell initial=unread/>
                            <a href="/account" data-testid="user-name">{user.name}</a>
                            " "
                            <span class="muted" data-testid="user-role">{user.role.label()}</span>
                            " · "
                            <span class="muted">{user.org_name}</span>
                            <form method="post" action="/logout" class="logout">
                                <button type="submit" class="button link" data-testid="logout">"Log out"</button>
                            </form>
                        </div>
                    })
                })}
            </Suspense>
        </header>
    }
}
