use leptos::prelude::*;

use crate::rpc::answer::answer;
use leptos_router::hooks::use_location;

use crate::components::bell::Bell;
use crate::components::icon::{Icon, IconKind};
use crate::components::menu::{close_on_link, close_on_navigation};
use crate::rpc::notifications::get_bell;
use crate::rpc::session::get_signed_in;

/// The bar at the top of every page: navigation, the bell, and a menu of
/// who is signed in with the logout button (a plain form, so it works
/// before hydration). One line on a desktop; on a phone the links wrap onto
/// their own compact row under the brand, the bell and the user menu.
/// The menus are `<details>`: they open and close without WASM.
#[component]
pub fn Header() -> impl IntoView {
    let signed_in = answer(|| (), |_| get_signed_in());
    let bell = answer(|| (), |_| get_bell());
    // The link of the section being shown is marked for people and screen
    // readers alike (an appointment's page belongs to "Appointments").
    let pathname = use_location().pathname;
    let current = move |href: &str| {
        let path = pathname.get();
        let here = if href == "/" { path == "/" } else { path == href || path.starts_with(&format!("{href}/")) };
        here.then_some("page")
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">"calsync"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let bell = bell.await.ok().flatten();
                    let user_menu = NodeRef::<leptos::html::Details>::new();
                    close_on_navigation(user_menu);
                    signed_in.await.ok().flatten().map(|user| view! {
                        <nav class="main-nav" aria-label="Main">
                            <a href="/" aria-current=move || current("/")>"Dashboard"</a>
                            <a href="/appointments" aria-current=move || current("/appointments")>"Appointments"</a>
                            <a href="/review" aria-current=move || current("/review")>"Review queue"</a>
                            <a href="/runs" aria-current=move || current("/runs")>"Runs"</a>
                            <a href="/deliveries" aria-current=move || current("/deliveries")>"Webhooks"</a>
                            <a href="/sync-health" aria-current=move || current("/sync-health")>"Metrics"</a>
                            {user.role.is_admin().then(|| view! {
                                <a href="/audit" aria-current=move || current("/audit")>"Audit log"</a>
                                <a href="/settings" data-testid="nav-settings" aria-current=move || current("/settings")>"Settings"</a>
                            })}
                        </nav>
                        <div class="account">
                            {bell.map(|initial| view! { <Bell initial/> })}
                            <details node_ref=user_menu class="menu user-menu" data-testid="user-menu">
                                <summary class="menu-button" title="Account and logout">
                                    <span class="user-name" data-testid="user-name">{user.name}</span>
                                    <Icon kind=IconKind::ChevronDown/>
                                </summary>
                                <div class="menu-panel" on:click=close_on_link(user_menu)>
                                    <p class="menu-who">
                                        <span data-testid="user-role">{user.role.label()}</span>
                                        " · "
                                        <span>{user.org_name}</span>
                                    </p>
                                    <a href="/account" data-testid="account-link">"Your account"</a>
                                    <form method="post" action="/logout" class="logout">
                                        <button type="submit" class="button secondary small" data-testid="logout">"Log out"</button>
                                    </form>
                                </div>
                            </details>
                        </div>
                    })
                })}
            </Suspense>
        </header>
    }
}
