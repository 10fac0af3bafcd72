//! The appointment list (seed "Appointment List with Sync Status"): filters
//! in the URL, one page at a time, retry for admins, CSV of the filter.

use std::collections::BTreeSet;

use engine::domain::{ErrorCode, Members, SortKey, SyncStatus};
use leptos::prelude::*;

use crate::rpc::answer::answer;
use leptos_router::hooks::use_query_map;

use crate::components::badge::SyncBadge;
use crate::components::confirm::{planned, ConfirmButton};
use crate::components::hydrated::use_hydrated;
use crate::components::outcome::{said_by, BulkRunStarted, Outcome};
use crate::error::AppError;
use crate::rpc::appointments::{
    list_appointments, plan_retry_matching, resolve_all_matching, retry_all_matching, retry_appointments,
    AppointmentPage, AppointmentQuery, BulkOutcome, BulkStarted,
};

type BulkRequest<T> = Action<T, Result<BulkStarted, AppError>>;

#[component]
pub fn AppointmentsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| AppointmentQuery::from_params(|key| p.get(key))));
    let retry = Action::new(|ids: &Vec<i64>| {
        let ids = ids.clone();
        async move { retry_appointments(ids).await }
    });
    let retry_all =
        Action::new(|(query, expected): &(AppointmentQuery, Members)| retry_all_matching(query.clone(), *expected));
    let resolve_all = Action::new(|(query, expected, note): &(AppointmentQuery, Members, String)| {
        resolve_all_matching(query.clone(), *expected, note.clone())
    });
    let plan = Action::new(|query: &AppointmentQuery| plan_retry_matching(query.clone()));
    // Re-read the page after every retry, so the badges show the new state.
    let page = answer(
        move || (query.get(), retry.version().get(), retry_all.version().get(), resolve_all.version().get()),
        |(q, ..)| list_appointments(q),
    );
    let selected = RwSignal::new(BTreeSet::<i64>::new());

    view! {
        <div class="appointments">
            <div class="page-head">
                <h1>"Appointments"</h1>
                <a
                    class="button secondary"
                    rel="external"
                    download="appointments.csv"
                    data-testid="export-csv"
                    href=move || format!("/appointments.csv{}", query.get().to_url_query(None))
                >
                    "Export CSV"
                </a>
            </div>
            <Filters query=query/>
            {retry_result(retry)}
            <BulkRunStarted
                started=Signal::derive(move || retry_all.value().get())
                testid="retry-matching-result"
                error_testid="retry-matching-error"
            />
            <BulkRunStarted
                started=Signal::derive(move || resolve_all.value().get())
                testid="resolve-matching-result"
                error_testid="resolve-matching-error"
            />
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <Table page query selected retry retry_all resolve_all plan/> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// A plain GET form: submitting it puts the filter in the URL, which works
/// without JavaScript and makes every filtered view a shareable link.
#[component]
fn Filters(query: Memo<AppointmentQuery>) -> impl IntoView {
    let q = query.get_untracked();
    let state = q.state;
    let code = q.code;
    view! {
        <form method="get" action="/appointments" class="filters" aria-label="Filter appointments" data-testid="filters">
            <label>
                "Status"
                <select name="state" data-testid="filter-state">
                    <option value="" selected=state.is_none()>"Any"</option>
                    {SyncStatus::ALL.iter().map(|s| view! {
                        <option value=s.as_str() selected=state == Some(*s)>{s.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Error code"
                <select name="code" data-testid="filter-code">
                    <option value="" selected=code.is_none()>"Any"</option>
                    {ErrorCode::ALL.iter().map(|c| view! {
                        <option value=c.as_str() selected=code == Some(*c)>{c.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "From"
                <input type="date" name="from" value=q.from.map(|d| d.to_string()).unwrap_or_default()/>
            </label>
            <label>
                "To"
                <input type="date" name="to" value=q.to.map(|d| d.to_string()).unwrap_or_default()/>
            </label>
            <label class="grow">
                "Search"
                <input
                    type="search"
                    name="q"
                    placeholder="Customer, email, phone, service"
                    value=q.q.clone().unwrap_or_default()
                    data-testid="filter-q"
                />
            </label>
            <label>
                "Sort by"
                <select name="sort" data-testid="sort-by">
                    {SortKey::ALL.iter().map(|k| view! {
                        <option value=k.as_str() selected=q.sort_by == *k>{k.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Order"
                <select name="dir" data-testid="sort-dir">
                    <option value="" selected=!q.desc>"Ascending"</option>
                    <option value="desc" selected=q.desc>"Descending"</option>
                </select>
            </label>
            <label class="check">
                <input type="checkbox" name="review" value="1" checked=q.review/>
                "Needs review"
            </label>
            <button type="submit" class="button" data-testid="apply-filters">"Apply"</button>
            <a href="/appointments" class="button link">"Clear"</a>
        </form>
    }
}

/// "Resolve all matching": a note, then a confirmed background run that
/// closes the open issues of every matching appointment in review with it.
#[component]
fn ResolveMatching(
    query: Memo<AppointmentQuery>,
    members: Members,
    resolve_all: BulkRequest<(AppointmentQuery, Members, String)>,
) -> impl IntoView {
    let note = RwSignal::new(String::new());
    // Keep a note typed before the page hydrated.
    let note_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = note_input.get() {
            note.set(input.value());
        }
    });
    let total = members.count;
    view! {
        <label for="resolve-matching-note" class="visually-hidden">"Note for resolving all matching"</label>
        <input
            id="resolve-matching-note"
            type="text"
            placeholder="Note to resolve all"
            data-testid="resolve-matching-note"
            node_ref=note_input
            on:input=move |ev| note.set(event_target_value(&ev))
        />
        <ConfirmButton
            label=format!("Resolve all {total} matching")
            question=format!(
                "Mark all {total} appointments matching {} as resolved, with your note? One that no longer \
                 needs review is left alone.",
                query.get_untracked().describe(),
            )
            class="secondary"
            testid="resolve-matching"
            disabled=Signal::derive(move || resolve_all.pending().get() || note.with(|n| n.trim().is_empty()))
            on_confirm=move || { resolve_all.dispatch((query.get_untracked(), members, note.get_untracked())); }
        />
    }
}

/// "Resolve all matching" only where every row it counts needs review:
/// elsewhere its count would promise more than it closes. There, a link
/// to the same filter narrowed to them.
fn resolve_matching_or_hint(
    query: Memo<AppointmentQuery>,
    members: Members,
    resolve_all: BulkRequest<(AppointmentQuery, Members, String)>,
) -> impl IntoView {
    let current = query.get_untracked();
    if current.review {
        return view! { <ResolveMatching query members resolve_all/> }.into_any();
    }
    let narrowed = AppointmentQuery { review: true, after: None, ..current };
    view! {
        <a href=format!("/appointments{}", narrowed.to_url_query(None)) data-testid="resolve-matching-hint">
            "Show only those needing review to resolve them all"
        </a>
    }
    .into_any()
}

/// What the last retry (of a selection or of the whole filter) did.
fn retry_result(retry: Action<Vec<i64>, Result<BulkOutcome, AppError>>) -> impl IntoView {
    let said = said_by(retry, |BulkOutcome { changed, skipped }| {
        format!("Retry queued for {changed}; {skipped} skipped (already queued or not found).")
    });
    view! { <Outcome said testid="retry-result" error_testid="retry-error"/> }
}

#[component]
fn Table(
    page: AppointmentPage,
    query: Memo<AppointmentQuery>,
    selected: RwSignal<BTreeSet<i64>>,
    retry: Action<Vec<i64>, Result<BulkOutcome, AppError>>,
    retry_all: BulkRequest<(AppointmentQuery, Members)>,
    resolve_all: BulkRequest<(AppointmentQuery, Members, String)>,
    /// Works out the calls "retry all matching" will make, for its question.
    plan: Action<AppointmentQuery, Result<String, AppError>>,
) -> impl IntoView {
    let AppointmentPage { rows, total, members, next_after, can_act, time_zone } = page;
    if rows.is_empty() {
        let filtered = query.get_untracked() != AppointmentQuery::default();
        return view! {
            <p class="empty" data-testid="empty">
                {if filtered { "No appointments match this filter." } else { "No appointments yet." }}
            </p>
        }
        .into_any();
    }
    let on_page: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let hydrated = use_hydrated();
    let pending = Signal::derive(move || !hydrated.get() || retry.pending().get());
    let first_page = query.get_untracked().after.is_some().then(|| query.get_untracked().to_url_query(None));
    let next_page = next_after.map(|after| query.get_untracked().to_url_query(Some(&after)));
    view! {
        <p class="muted" data-testid="total">{format!("{total} appointments · times in {time_zone}")}</p>
        {can_act.then(|| view! {
            <div class="bulk">
                <button
                    type="button"
                    class="button"
                    data-testid="retry-selected"
                    disabled=move || pending.get() || selected.with(|s| s.is_empty())
                    on:click=move |_| {
                        let ids: Vec<i64> = selected.get().into_iter().collect();
                        selected.set(BTreeSet::new());
                        retry.dispatch(ids);
                    }
                >
                    {move || format!("Retry selected ({})", selected.with(|s| s.len()))}
                </button>
                <ConfirmButton
                    label=format!("Retry all {total} matching")
                    question=format!(
                        "Verify all {total} appointments matching {} again now?",
                        query.get_untracked().describe(),
                    )
                    class="secondary"
                    testid="retry-matching"
                    on_ask=Callback::new(move |()| { plan.dispatch(query.get_untracked()); })
                    detail=planned(plan)
                    disabled=Signal::derive(move || retry_all.pending().get())
                    on_confirm=move || { retry_all.dispatch((query.get_untracked(), members)); }
                />
                {resolve_matching_or_hint(query, members, resolve_all)}
            </div>
        }.into_any())}
        <div class="table-wrap">
            <table class="appointments-table" data-testid="appointments">
                <thead>
                    <tr>
                        {can_act.then(|| {
                            let on_page = on_page.clone();
                            view! {
                                <th scope="col">
                                    <input
                                        type="checkbox"
                                        aria-label="Select all on this page"
                                        on:change=move |ev| {
                                            let all = event_target_checked(&ev);
                                            selected.update(|s| for id in &on_page {
                                                if all { s.insert(*id); } else { s.remove(id); }
                                            });
                                        }
                                    />
                                </th>
                            }
                        })}
                        <th scope="col">"ID"</th>
                        <SortHeader key=SortKey::Customer query/>
                        <SortHeader key=SortKey::Start query/>
                        <SortHeader key=SortKey::Status query/>
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let id = row.id;
                        view! {
                            <tr data-testid=format!("row-{id}")>
                                {can_act.then(|| view! {
                                    <td>
                                        <input
                                            type="checkbox"
                                            aria-label=format!("Select appointment {id}")
                                            prop:checked=move || selected.with(|s| s.contains(&id))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                                            }
                                        />
                                    </td>
                                })}
                                <td data-label="ID">{id}</td>
                                <td data-label="Customer">
                                    {row.customer}
                                    <div class="muted">{row.service}</div>
                                </td>
                                <td data-label="Time" class="nowrap">{row.time}</td>
                                <td data-label="Sync status">
                                    <SyncBadge status=row.status code=row.code detail=row.detail review=row.requires_review/>
                                </td>
                                <td data-label="Actions" class="actions">
                                    {can_act.then(|| view! {
                                        <button
                                            type="button"
                                            class="button small"
                                            data-testid=format!("retry-{id}")
                                            disabled=move || pending.get()
                                            on:click=move |_| { retry.dispatch(vec![id]); }
                                        >
                                            "Retry"
                                        </button>
                                    })}
                                    <a class="button small secondary" href=format!("/appointments/{id}") data-testid=format!("details-{id}")>
                                        "Details"
                                    </a>
                                </td>
                            </tr>
                        }
                        .into_any()
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {first_page.map(|q| view! { <a href=format!("/appointments{q}") class="button link">"First page"</a> })}
            {next_page.map(|q| view! { <a href=format!("/appointments{q}") class="button link" data-testid="next-page">"Next page"</a> })}
        </nav>
    }
    .into_any()
}

/// A column header that sorts by its column: a link (so it works before
/// hydration and lands in the URL), flipping the direction when already
/// sorted by it.
#[component]
fn SortHeader(key: SortKey, query: Memo<AppointmentQuery>) -> impl IntoView {
    let q = query.get_untracked();
    let active = q.sort_by == key;
    let next = AppointmentQuery { sort_by: key, desc: active && !q.desc, after: None, ..q.clone() };
    let (arrow, aria) = match (active, q.desc) {
        (false, _) => ("", "none"),
        (true, false) => (" ▲", "ascending"),
        (true, true) => (" ▼", "descending"),
    };
    view! {
        <th scope="col" aria-sort=aria>
            <a class="sort" href=format!("/appointments{}", next.to_url_query(None)) data-testid=format!("sort-{}", key.as_str())>
                {key.label()}{arrow}
            </a>
        </th>
    }
}
