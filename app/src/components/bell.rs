//! The header's notification bell: the unread count, rendered on the server
//! and kept current in the browser by the `/events` stream.

use leptos::prelude::*;

use crate::components::icon::{Icon, IconKind};
use crate::components::menu::{close_on_link, close_on_navigation};
use crate::components::notification::{use_now, NotificationItem};
use crate::rpc::notifications::{BellFeed, NotificationFeed};

/// The bell and its drop-down list of the latest notifications (a
/// `<details>`, so it opens without WASM), with a link to all of them.
#[component]
pub fn Bell(initial: BellFeed) -> impl IntoView {
    let unread = RwSignal::new(initial.unread);
    let feed = RwSignal::new(initial.feed);
    // True once the first live summary arrived: the count is now followed
    // (browser tests wait for it; a stylesheet could show it).
    let live = RwSignal::new(false);
    follow_live_summary(unread, feed, live);
    let menu = NodeRef::<leptos::html::Details>::new();
    close_on_navigation(menu);
    view! {
        <details node_ref=menu class="menu bell" data-testid="bell" data-live=move || live.get().to_string()>
            <summary class="menu-button bell-button" aria-label=move || format!("Notifications, {} unread", unread.get())>
                <Icon kind=IconKind::Bell/>
                <span class="bell-count" class:zero=move || unread.get() == 0 data-testid="bell-count">
                    {move || unread.get()}
                </span>
            </summary>
            <div class="menu-panel bell-panel" on:click=close_on_link(menu)>
                <p class="bell-head">
                    <strong>"Notifications"</strong>
                    " "
                    <span class="muted" data-testid="bell-unread">{move || format!("({} unread)", unread.get())}</span>
                </p>
                {move || {
                    let NotificationFeed { now, items } = feed.get();
                    let now = use_now(now);
                    if items.is_empty() {
                        view! { <p class="muted" data-testid="bell-empty">"No notifications yet."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="notification-list compact" data-testid="bell-list">
                                {items.into_iter().map(|item| view! { <NotificationItem item now compact=true/> }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    }
                }}
                <a class="bell-all" href="/notifications" data-testid="bell-all">"All notifications"</a>
            </div>
        </details>
    }
}

/// On the server there is nothing to follow: the count is already current.
#[cfg(not(feature = "hydrate"))]
fn follow_live_summary(_unread: RwSignal<i64>, _feed: RwSignal<NotificationFeed>, _live: RwSignal<bool>) {}

/// Opens one `EventSource` for this header; the browser reconnects it by
/// itself after a network drop or a server restart. Closed when the header
/// goes away, so no page leaves a stream open behind it. When the count or
/// the latest notification changes, the list is fetched again.
#[cfg(feature = "hydrate")]
fn follow_live_summary(unread: RwSignal<i64>, feed: RwSignal<NotificationFeed>, live: RwSignal<bool>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Ok(source) = web_sys::EventSource::new("/events") else {
        return;
    };
    let on_summary = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        let Some((count, latest)) = event.data().as_string().as_deref().and_then(summary_in) else {
            return;
        };
        let shown = feed.with_untracked(|f| f.items.first().map(|i| i.id.get()));
        let changed = count != unread.get_untracked() || (latest > 0 && shown != Some(latest));
        unread.set(count);
        live.set(true);
        if changed {
            leptos::task::spawn_local(async move {
                if let Ok(Some(fresh)) = crate::rpc::notifications::get_bell().await {
                    unread.set(fresh.unread);
                    feed.set(fresh.feed);
                }
            });
        }
    });
    if source.add_event_listener_with_callback("summary", on_summary.as_ref().unchecked_ref()).is_err() {
        source.close();
        return;
    }
    // The closure must live as long as the source; both are browser-only
    // values, which the wrapper lets the (Send) cleanup hold.
    let held = send_wrapper::SendWrapper::new((source, on_summary));
    on_cleanup(move || held.0.close());
}

/// `unread` and `latest` from the event's JSON (`{"unread":3,"latest":17}`).
#[cfg(feature = "hydrate")]
fn summary_in(data: &str) -> Option<(i64, i64)> {
    let summary = js_sys::JSON::parse(data).ok()?;
    let unread = js_sys::Reflect::get(&summary, &"unread".into()).ok()?.as_f64()?;
    let latest = js_sys::Reflect::get(&summary, &"latest".into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    (unread >= 0.0).then_some((unread as i64, latest as i64))
}
