//! The header's drop-down menus are `<details>`: they open and close with no
//! script at all. Once the page runs, a menu also closes when one of its
//! links is followed (the router changes the page without a reload, so the
//! header, and an open menu, would otherwise stay as they were), on any
//! other change of page (back, forward), on a click outside it, and on
//! Escape.

use leptos::html::Details;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos_router::hooks::use_location;

/// Closes `menu` whenever the page changes, on a click elsewhere and on
/// Escape. Call once per menu.
pub fn close_on_navigation(menu: NodeRef<Details>) {
    close_on_outside_click(menu);
    let location = use_location();
    // Not on its first run (hydration): a menu opened before the page ran stays open.
    Effect::new(move |first_run_done: Option<()>| {
        location.pathname.track();
        location.search.track();
        if first_run_done.is_some() {
            close(menu);
        }
    });
}

/// A click handler for a menu's panel: a click on a link closes the menu.
pub fn close_on_link(menu: NodeRef<Details>) -> impl Fn(leptos::ev::MouseEvent) + Clone + 'static {
    move |ev| {
        let on_link = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|e| e.closest("a").ok().flatten())
            .is_some();
        if on_link {
            close(menu);
        }
    }
}

#[cfg(feature = "hydrate")]
fn close_on_outside_click(menu: NodeRef<Details>) {
    let click = window_event_listener(leptos::ev::click, move |ev| {
        let Some(details) = menu.get_untracked() else {
            return;
        };
        let target = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::Node>().ok());
        if !target.is_some_and(|node| details.contains(Some(&node))) {
            close(menu);
        }
    });
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            close(menu);
        }
    });
    on_cleanup(move || {
        click.remove();
        escape.remove();
    });
}

#[cfg(not(feature = "hydrate"))]
fn close_on_outside_click(_menu: NodeRef<Details>) {}

fn close(menu: NodeRef<Details>) {
    if let Some(details) = menu.get_untracked() {
        let _ = details.remove_attribute("open");
    }
}
