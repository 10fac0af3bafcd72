//! The runs page: every scheduled and manual verification run (and bulk
//! retry) with its counts and duration, each linked to its own page, a progress bar for the one running, and buttons to
//! run the cycle or the comprehensive check now (admins).

use std::time::Duration;

use leptos::prelude::*;

use crate::rpc::answer::answer;

use crate::components::confirm::ConfirmButton;
use crate::components::outcome::{said_by, Outcome};
use crate::components::ticker::use_ticker;
use crate::error::AppError;
use crate::rpc::runs::{list_runs, run_now, RunChoice, RunList, RunRow};

/// Re-read often enough to watch a run progress.
const REFRESH_EVERY: Duration = Duration::from_secs(2);

type RunNow = Action<RunChoice, Result<i64, AppError>>;

#[component]
pub fn RunsPage() -> impl IntoView {
    let start = Action::new(|choice: &RunChoice| run_now(*choice));
    let poll = use_ticker(REFRESH_EVERY);
    let page = answer(move || (poll.get(), start.version().get()), |_| list_runs());
    let asking = (RwSignal::new(false), RwSignal::new(false));

    view! {
        <div class="runs">
            <div class="page-head">
                <h1>"Verification runs"</h1>
            </div>
            <StartOutcome start/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <Runs page start asking/> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn StartOutcome(start: RunNow) -> impl IntoView {
    let said = said_by(start, |id| format!("Run {id} queued; it starts within a few seconds."));
    view! { <Outcome said testid="run-requested" error_testid="run-error"/> }
}

#[component]
fn Runs(page: RunList, start: RunNow, asking: (RwSignal<bool>, RwSignal<bool>)) -> impl IntoView {
    let busy = Signal::derive(move || start.pending().get());
    view! {
        <section class="run-controls" aria-label="Schedule">
            <p class="muted">
                "Next verification cycle: " <strong data-testid="next-cycle">{page.next_cycle.clone()}</strong>
                {page.next_comprehensive.clone().map(|at| view! {
                    " · next comprehensive check: " <strong data-testid="next-comprehensive">{at}</strong>
                }.into_any())}
            </p>
            {page.can_act.then(|| view! {
                <div class="actions">
                    <RunButton choice=RunChoice::Cycle start asking=asking.0 busy/>
                    <RunButton choice=RunChoice::Comprehensive start asking=asking.1 busy/>
                </div>
            }.into_any())}
        </section>
        {if page.runs.is_empty() {
            view! { <p class="empty" data-testid="runs-empty">"No runs yet. The first scheduled run starts at the next slot."</p> }.into_any()
        } else {
            view! { <RunTable runs=page.runs/> }.into_any()
        }}
    }
}

/// "Run … now" with its confirmation, for either kind of run.
#[component]
fn RunButton(choice: RunChoice, start: RunNow, asking: RwSignal<bool>, busy: Signal<bool>) -> impl IntoView {
    let (label, question, testid, class) = match choice {
        RunChoice::Cycle => ("Run verification cycle now", "Verify every due appointment now?", "run-cycle", ""),
        RunChoice::Comprehensive => (
            "Run comprehensive check now",
            "List the whole Cal.com window and check every appointment now?",
            "run-comprehensive",
            "secondary",
        ),
    };
    view! {
        <ConfirmButton
            label
            question
            class
            testid
            asking
            disabled=busy
            on_confirm=move || { start.dispatch(choice); }
        />
    }
}

#[component]
fn RunTable(runs: Vec<RunRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="list" data-testid="runs">
                <thead>
                    <tr>
                        <th scope="col">"Run"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Duration"</th>
                        <th scope="col" class="num">"Checked"</th>
                        <th scope="col" class="num">"Synced"</th>
                        <th scope="col" class="num">"Flagged"</th>
                        <th scope="col" class="num">"Errors"</th>
                        <th scope="col" class="num">"API calls"</th>
                    </tr>
                </thead>
                <tbody>
                    {runs.into_iter().map(|run| view! { <RunLine run/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn RunLine(run: RunRow) -> impl IntoView {
    let checked = if run.total > 0 { format!("{} / {}", run.processed, run.total) } else { run.processed.to_string() };
    view! {
        <tr data-testid="run" data-run-id=run.id data-status=run.status.clone()>
            <td>
                <strong><a href=format!("/runs/{}", run.id) data-testid="run-link">{run.kind.clone()}</a></strong>
                <div class="muted">{format!("#{} · {}", run.id, run.trigger)}</div>
                {run.scope.clone().map(|scope| view! { <div class="muted">{format!("Matching {scope}")}</div> })}
            </td>
            <td>{run.started.clone()}</td>
            <td>
                <span class=format!("run-status run-{}", run.status) data-testid="run-status">{run.status.clone()}</span>
                {run.progress_percent.map(|p| view! { <Progress percent=p/> })}
                {run.error_detail.clone().map(|d| view! { <div class="sync-detail muted">{d}</div> })}
            </td>
            <td>{run.duration.clone()}</td>
            <td class="num" data-testid="run-checked">{checked}</td>
            {if run.bulk {
                // It queues verifications and calls nothing itself.
                view! { <td colspan="4"><a href=format!("/runs/{}", run.id)>"Results per appointment"</a></td> }.into_any()
            } else {
                view! {
                    <td class="num">{run.synced}</td>
                    <td class="num">{run.flagged}</td>
                    <td class="num">{run.errors}</td>
                    <td class="num">{run.api_calls}</td>
                }.into_any()
            }}
        </tr>
    }
}

#[component]
pub fn Progress(percent: u8) -> impl IntoView {
    view! {
        <div
            class="progress"
            role="progressbar"
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=percent
            data-testid="run-progress"
        >
            <div class="progress-bar" style=format!("width: {percent}%")></div>
        </div>
    }
}
