//! One run's page (`/runs/:id`): its state, progress and counts, and for a
//! bulk action what it did with each appointment, filtered by result and
//! paged. Re-read while the run is active, so progress moves on its own.

use std::time::Duration;

use leptos::prelude::*;

use crate::rpc::answer::answer;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::ticker::use_ticker;
use crate::pages::runs::Progress;
use crate::rpc::runs::{get_run, BulkResults, ItemShow, RunDetail, RunRow};

const REFRESH_EVERY: Duration = Duration::from_secs(2);

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let show = Memo::new(move |_| query.with(|q| q.get("show").map(|s| ItemShow::parse(&s)).unwrap_or_default()));
    let after = Memo::new(move |_| query.with(|q| q.get("after").and_then(|a| a.parse::<i64>().ok())));
    let poll = use_ticker(REFRESH_EVERY);
    // Stops asking once the run is over: its results no longer change.
    let done = RwSignal::new(false);
    let tick = Memo::new(move |_| if done.get() { 0 } else { poll.get() });
    let detail = answer(
        move || (id.get(), show.get(), after.get(), tick.get()),
        |(id, show, after, _)| async move {
            match id {
                Some(id) => get_run(id, show, after).await,
                None => Err(crate::error::AppError::NotFound("Run".into())),
            }
        },
    );
    view! {
        <div class="run-page">
            <p><a href="/runs">"← All runs"</a></p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(detail) => {
                            done.set(!detail.run.is_active());
                            view! { <Detail detail/> }.into_any()
                        }
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn Detail(detail: RunDetail) -> impl IntoView {
    let RunDetail { run, bulk } = detail;
    view! {
        <div class="page-head">
            <h1>{format!("Run #{}: {}", run.id, run.kind)}</h1>
        </div>
        <Summary run=run.clone()/>
        {bulk.map(|bulk| view! { <Results run_id=run.id bulk/> })}
    }
}

#[component]
fn Summary(run: RunRow) -> impl IntoView {
    let progress =
        if run.total > 0 { format!("{} of {}", run.processed, run.total) } else { run.processed.to_string() };
    view! {
        <dl class="run-facts" data-testid="run-summary" data-status=run.status.clone()>
            <dt>"Origin"</dt>
            <dd>{run.trigger.clone()}</dd>
            {run.scope.clone().map(|scope| view! {
                <dt>"Appointments matching"</dt>
                <dd data-testid="run-scope">{scope}</dd>
            })}
            {run.note.clone().map(|note| view! {
                <dt>"Note"</dt>
                <dd data-testid="run-note">{note}</dd>
            })}
            <dt>"Started"</dt>
            <dd>{run.started.clone()}</dd>
            <dt>"Status"</dt>
            <dd>
                <span class=format!("run-status run-{}", run.status) data-testid="run-status">{run.status.clone()}</span>
                {run.progress_percent.map(|p| view! { <Progress percent=p/> })}
                {run.error_detail.clone().map(|d| view! { <div class="sync-detail muted">{d}</div> })}
            </dd>
            <dt>"Duration"</dt>
            <dd>{run.duration.clone()}</dd>
            <dt>{if run.bulk { "Done" } else { "Checked" }}</dt>
            <dd data-testid="run-processed">{progress}</dd>
            {(!run.bulk).then(|| view! {
                <dt>"Synced · flagged · errors"</dt>
                <dd>{format!("{} · {} · {}", run.synced, run.flagged, run.errors)}</dd>
                <dt>"Calls to Cal.com"</dt>
                <dd>{run.api_calls}</dd>
            })}
        </dl>
    }
}

#[component]
fn Results(run_id: i64, bulk: BulkResults) -> impl IntoView {
    let BulkResults { tally, show, items, next_after } = bulk;
    let link = move |to: ItemShow| match to {
        ItemShow::All => format!("/runs/{run_id}"),
        to => format!("/runs/{run_id}?show={}", to.as_str()),
    };
    view! {
        <section aria-labelledby="results-title">
            <h2 id="results-title">"Result for each appointment"</h2>
            <nav class="filter result-filters" aria-label="Filter by result" data-testid="result-filters">
                {tally.into_iter().map(|(what, count)| view! {
                    <a
                        href=link(what)
                        aria-current=(what == show).then_some("page")
                        data-testid=format!("tally-{}", what.as_str())
                        data-count=count
                    >
                        {format!("{} ({count})", what.label())}
                    </a>
                }).collect_view()}
            </nav>
            {if items.is_empty() {
                view! { <p class="empty" data-testid="items-empty">"No appointment has this result."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="list" data-testid="run-items">
                            <thead>
                                <tr>
                                    <th scope="col">"Appointment"</th>
                                    <th scope="col">"Start"</th>
                                    <th scope="col">"Result"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {items.into_iter().map(|item| view! {
                                    <tr data-testid="run-item" data-result=item.result.as_str()>
                                        <td>
                                            {match item.customer {
                                                Some(name) => view! {
                                                    <a href=format!("/appointments/{}", item.appointment_id)>
                                                        {format!("#{} {name}", item.appointment_id)}
                                                    </a>
                                                }.into_any(),
                                                None => view! {
                                                    <span>{format!("#{} (deleted)", item.appointment_id)}</span>
                                                }.into_any(),
                                            }}
                                        </td>
                                        <td>{item.start.unwrap_or_else(|| "–".to_owned())}</td>
                                        <td>{item.result.label()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            {next_after.map(|after| {
                let href = match show {
                    ItemShow::All => format!("/runs/{run_id}?after={after}"),
                    show => format!("/runs/{run_id}?show={}&after={after}", show.as_str()),
                };
                view! { <p><a class="button secondary" href=href data-testid="items-next">"Next page"</a></p> }
            })}
        </section>
    }
}
