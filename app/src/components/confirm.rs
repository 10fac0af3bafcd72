use leptos::prelude::*;

use super::hydrated::use_hydrated;

/// A button that asks before it acts: the first press shows the question
/// with "Yes" and "Cancel" buttons in the page (not a browser dialog, so it
/// is keyboard- and screen-reader-friendly and works in tests the same way).
/// Disabled until the page has hydrated: before that a press would be lost.
#[component]
pub fn ConfirmButton(
    #[prop(into)] label: String,
    #[prop(into)] question: String,
    /// Extra class for the first button (e.g. "danger").
    #[prop(optional, into)]
    class: String,
    /// `data-testid` of the first button; the confirm button gets `-confirm`.
    #[prop(into)]
    testid: String,
    #[prop(into)] disabled: Signal<bool>,
    /// Whether the question is showing. Pass one owned by the page when the
    /// button sits in a view that is re-rendered by polling, so an open
    /// question survives the refresh.
    #[prop(optional)]
    asking: Option<RwSignal<bool>>,
    on_confirm: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let asking = asking.unwrap_or_else(|| RwSignal::new(false));
    let hydrated = use_hydrated();
    let disabled = Signal::derive(move || !hydrated.get() || disabled.get());
    let on_confirm = Callback::new(move |()| on_confirm());
    let confirm_id = format!("{testid}-confirm");
    let yes_label = format!("Yes, {}", label.to_lowercase());
    let first_class = format!("button {class}");
    view! {
        <span class="confirm">
            <Show
                when=move || asking.get()
                fallback={
                    let label = label.clone();
                    let first_class = first_class.clone();
                    let testid = testid.clone();
                    move || view! {
                        <button
                            type="button"
                            class=first_class.clone()
                            data-testid=testid.clone()
                            disabled=move || disabled.get()
                            on:click=move |_| asking.set(true)
                        >
                            {label.clone()}
                        </button>
                    }
                }
            >
                <span role="group" aria-label="Confirm" class="confirm-ask">
                    <span>{question.clone()}</span>
                    " "
                    <button
                        type="button"
                        class="button"
                        data-testid=confirm_id.clone()
                        disabled=move || disabled.get()
                        on:click=move |_| {
                            asking.set(false);
                            on_confirm.run(());
                        }
                    >
                        {yes_label.clone()}
                    </button>
                    " "
                    <button type="button" class="button link" on:click=move |_| asking.set(false)>"Cancel"</button>
                </span>
            </Show>
        </span>
    }
}
