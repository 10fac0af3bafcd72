use leptos::prelude::*;

/// Whether the page's WASM is running: `false` in the server-rendered HTML,
/// `true` once the browser has hydrated the component. Buttons that only
/// work with WASM render disabled until then, because pages are loaded
/// lazily and a click in the moment before hydration would do nothing.
pub fn use_hydrated() -> Signal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_hydrated.set(true));
    hydrated.into()
}
