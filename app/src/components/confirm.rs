use leptos::prelude::*;

use super::hydrated::use_hydrated;
use crate::error::AppError;

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
    /// Called when the question is shown: to fetch what `detail` shows.
    #[prop(optional)]
    on_ask: Option<Callback<()>>,
    /// A line under the question (`data-testid` `{testid}-detail`) that
    /// the answer depends on, such as the calls a bulk action will make;
    /// "Yes" waits while it is `None` (still being worked out).
    #[prop(optional, into)]
    detail: Option<Signal<Option<String>>>,
    on_confirm: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    // The body does not depend on the closure's type: written once, not once
    // per call site, it keeps 14 copies of this view out of the WASM bundle.
    let question = Question { label, question, class, testid, disabled, asking, on_ask, detail };
    confirm_button_view(question, Callback::new(move |()| on_confirm()))
}

/// What a [`ConfirmButton`] shows and asks.
struct Question {
    label: String,
    question: String,
    class: String,
    testid: String,
    disabled: Signal<bool>,
    asking: Option<RwSignal<bool>>,
    on_ask: Option<Callback<()>>,
    detail: Option<Signal<Option<String>>>,
}

fn confirm_button_view(question: Question, on_confirm: Callback<()>) -> AnyView {
    let Question { label, question, class, testid, disabled, asking, on_ask, detail } = question;
    let asking = asking.unwrap_or_else(|| RwSignal::new(false));
    let hydrated = use_hydrated();
    let disabled = Signal::derive(move || !hydrated.get() || disabled.get());
    let waiting = Signal::derive(move || detail.is_some_and(|d| d.with(Option::is_none)));
    let detail_id = format!("{testid}-detail");
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
                            on:click=move |_| {
                                asking.set(true);
                                if let Some(on_ask) = on_ask {
                                    on_ask.run(());
                                }
                            }
                        >
                            {label.clone()}
                        </button>
                    }
                }
            >
                <span role="group" aria-label="Confirm" class="confirm-ask">
                    <span>{question.clone()}</span>
                    {detail.map(|detail| {
                        let detail_id = detail_id.clone();
                        view! {
                            <span class="confirm-detail" data-testid=detail_id aria-live="polite">
                                {move || detail.get().unwrap_or_else(|| "Working out what this involves…".to_owned())}
                            </span>
                        }
                    })}
                    " "
                    <button
                        type="button"
                        class="button"
                        data-testid=confirm_id.clone()
                        disabled=move || disabled.get() || waiting.get()
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
    .into_any()
}

/// A [`ConfirmButton`]'s `detail` worked out by a server call: `None`
/// while it runs, then its answer, or its refusal in words.
pub fn planned<I>(plan: Action<I, Result<String, AppError>>) -> Signal<Option<String>>
where
    I: Send + Sync + 'static,
{
    Signal::derive(move || match plan.pending().get() {
        true => None,
        false => plan.value().get().map(|answer| answer.unwrap_or_else(|err| err.to_string())),
    })
}
