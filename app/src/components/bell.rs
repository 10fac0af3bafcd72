//! The header's notification bell: the unread count, rendered on the server
//! and kept current in the browser by the `/events` stream.

use leptos::prelude::*;

#[component]
pub fn Bell(initial: i64) -> impl IntoView {
    let unread = RwSignal::new(initial);
    // True once the first live summary arrived: the count is now followed
    // (browser tests wait for it; a stylesheet could show it).
    let live = RwSignal::new(false);
    follow_live_summary(unread, live);
    view! {
        <a href="/notifications" class="bell" data-testid="bell" data-live=move || live.get().to_string()
            aria-label=move || format!("Notifications, {} unread", unread.get())>
            <span aria-hidden="true">"🔔"</span>
            <span class="bell-count" class:zero=move || unread.get() == 0 data-testid="bell-count">
                {move || unread.get()}
            </span>
        </a>
    }
}

/// On the server there is nothing to follow: the count is already current.
#[cfg(not(feature = "hydrate"))]
fn follow_live_summary(_unread: RwSignal<i64>, _live: RwSignal<bool>) {}

/// Opens one `EventSource` for this header; the browser reconnects it by
/// itself after a network drop or a server restart. Closed when the header
/// goes away, so no page leaves a stream open behind it.
#[cfg(feature = "hydrate")]
fn follow_live_summary(unread: RwSignal<i64>, live: RwSignal<bool>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Ok(source) = web_sys::EventSource::new("/events") else {
        return;
    };
    let on_summary = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        if let Some(count) = event.data().as_string().as_deref().and_then(unread_in) {
            unread.set(count);
            live.set(true);
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

/// `unread` from the event's JSON (`{"unread":3,"latest":17}`).
#[cfg(feature = "hydrate")]
fn unread_in(data: &str) -> Option<i64> {
    let summary = js_sys::JSON::parse(data).ok()?;
    let unread = js_sys::Reflect::get(&summary, &"unread".into()).ok()?.as_f64()?;
    (unread >= 0.0).then_some(unread as i64)
}
