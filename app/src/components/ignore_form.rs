//! "Ignore…": a reason and how long, behind a disclosure; for one issue
//! of the review queue or a whole group. The server checks what is sent
//! (`engine::triage`), so the form only gathers it.

use leptos::prelude::*;

use crate::rpc::triage::IgnoreLimit;

/// Ids are `{prefix}-{key}` for the disclosure and `{prefix}-{field}-{key}`
/// for its fields; `label` is the submit button's text.
#[component]
pub fn IgnoreForm(
    prefix: &'static str,
    key: i64,
    #[prop(into)] label: String,
    busy: Signal<bool>,
    on_ignore: Callback<(String, IgnoreLimit)>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let kind = RwSignal::new("further".to_owned());
    let until = RwSignal::new(String::new());
    let times = RwSignal::new("3".to_owned());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let limit = match kind.get_untracked().as_str() {
            "until" => IgnoreLimit::Until(until.get_untracked()),
            // An unreadable number goes to the server as 0, which refuses it in words.
            "times" => IgnoreLimit::Times(times.get_untracked().trim().parse().unwrap_or(0)),
            _ => IgnoreLimit::FurtherNotice,
        };
        on_ignore.run((reason.get_untracked(), limit));
    };
    let id = move |what: &str| format!("{prefix}-{what}-{key}");
    view! {
        <details class="ignore" data-testid=format!("{prefix}-{key}")>
            <summary>{format!("{label}…")}</summary>
            <form on:submit=submit class="ignore-form">
                <label for=id("reason")>"Reason"</label>
                <input id=id("reason") type="text" required maxlength="200" data-testid=id("reason")
                    on:input=move |ev| reason.set(event_target_value(&ev))/>
                <label for=id("kind")>"For how long"</label>
                <select id=id("kind") data-testid=id("kind") on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="further" selected>"Until further notice"</option>
                    <option value="until">"Through a date"</option>
                    <option value="times">"For a number of occurrences"</option>
                </select>
                <Show when=move || kind.get() == "until">
                    <label for=id("until")>"Through"</label>
                    <input id=id("until") type="date" data-testid=id("until")
                        on:input=move |ev| until.set(event_target_value(&ev))/>
                </Show>
                <Show when=move || kind.get() == "times">
                    <label for=id("times")>"Occurrences"</label>
                    <input id=id("times") type="number" min="1" max="1000" prop:value=move || times.get()
                        data-testid=id("times") on:input=move |ev| times.set(event_target_value(&ev))/>
                </Show>
                <button type="submit" class="button small" data-testid=id("submit")
                    disabled=move || busy.get() || reason.with(|r| r.trim().is_empty())>
                    {label.clone()}
                </button>
            </form>
        </details>
    }
}
