//! The login form. A plain HTML form posting to `/login` (an axum handler,
//! not a server function), so it works before the wasm bundle has loaded.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Words for the `?error=` codes the login handler redirects with. One
/// message for an unknown email and a wrong password: no account probing.
fn message(code: &str) -> Option<&'static str> {
    match code {
        "invalid" => Some("Wrong email or password."),
        "required" => Some("Please log in to continue."),
        _ => None,
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let error = move || query.with(|q| q.get("error").and_then(|code| message(&code)));
    let notice = move || query.with(|q| q.get("logged_out").is_some());

    view! {
        <div class="login">
            <h1>"Log in to calsync"</h1>
            {move || notice().then(|| view! { <p class="muted" data-testid="logged-out">"You are logged out."</p> })}
            {move || error().map(|text| view! { <p class="error" role="alert" data-testid="login-error">{text}</p> })}
            <form method="post" action="/login" class="login-form">
                <input type="hidden" name="next" value=next/>
                <label>
                    "Email"
                    <input type="email" name="email" autocomplete="username" required=true data-testid="email"/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required=true data-testid="password"/>
                </label>
                <button type="submit" class="button" data-testid="login">"Log in"</button>
            </form>
        </div>
    }
}
