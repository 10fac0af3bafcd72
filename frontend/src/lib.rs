//! The browser entry point: hydrates the server-rendered page.

// The workspace denies unsafe code; wasm-bindgen's export glue for `hydrate` is some.
#![allow(unsafe_code)]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
