//! What the page's last action did, in words: a status line that screen
//! readers announce, or why it failed as an alert. Every page shows its
//! actions' results through this one component, so they look and sound
//! alike.

use leptos::prelude::*;

use crate::error::AppError;
use crate::rpc::appointments::BulkStarted;

/// `None` before the first action; then its words or its error.
pub type Said = Option<Result<String, AppError>>;

/// `testid` names the status line; `error_testid` the alert.
#[component]
pub fn Outcome(
    #[prop(into)] said: Signal<Said>,
    #[prop(into, default = "action-result".into())] testid: String,
    #[prop(into, default = "action-error".into())] error_testid: String,
) -> impl IntoView {
    move || {
        said.get().map(|said| match said {
            Ok(words) => view! { <p class="notice" role="status" data-testid=testid.clone()>{words}</p> }.into_any(),
            Err(err) => view! { <p class="error" role="alert" data-testid=error_testid.clone()>{err.to_string()}</p> }
                .into_any(),
        })
    }
}

/// An action's last value in words: `words` says what a success did.
pub fn said_by<I, O>(
    action: Action<I, Result<O, AppError>>,
    words: impl Fn(O) -> String + Send + Sync + 'static,
) -> Signal<Said>
where
    I: Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().map(|result| result.map(&words)))
}

/// A bulk action's answer: the run it started, with a link to follow it, or
/// why nothing was queued.
#[component]
pub fn BulkRunStarted(
    #[prop(into)] started: Signal<Option<Result<BulkStarted, AppError>>>,
    #[prop(into)] testid: String,
    #[prop(into)] error_testid: String,
) -> impl IntoView {
    move || {
        started.get().map(|started| match started {
            Ok(run) => view! {
                <p class="notice" role="status" data-testid=testid.clone()>
                    {format!(
                        "{} of {} appointment{} started in the background as run #{}. ",
                        run.action.label(),
                        run.count,
                        if run.count == 1 { "" } else { "s" },
                        run.run_id,
                    )}
                    <a href=run.href() data-testid="bulk-run-link">"Follow its progress and results"</a>
                </p>
            }
            .into_any(),
            Err(err) => view! { <p class="error" role="alert" data-testid=error_testid.clone()>{err.to_string()}</p> }
                .into_any(),
        })
    }
}
