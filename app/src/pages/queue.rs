//! The review queue: every unresolved sync issue, oldest first, with where
//! it stands (open, acknowledged, ignored; regressions marked), who owns it
//! and how long it has waited. Admins triage here (acknowledge, assign,
//! ignore with a reason and a limit) and resolve Cal.com-only bookings.
//! "Group by cause" swaps the rows for `queue_groups`' one row per cause.

use leptos::prelude::*;

use crate::rpc::answer::answer;
use leptos_router::hooks::use_query_map;

use crate::components::confirm::ConfirmButton;
use crate::components::hydrated::use_hydrated;
use crate::components::ignore_form::IgnoreForm;
use crate::components::outcome::{Outcome, Said};
use crate::error::AppError;
use crate::pages::queue_groups::IssueGroups;
use crate::rpc::resolve::{
    get_review_queue, resolve_booking, Assignee, BookingAction, LinkSuggestion, QueueItem, ResolveOutcome,
};
use crate::rpc::triage::{triage_issue, IgnoreLimit, QueueQuery, QueueShow, TriageOutcome, TriageRequest, TriageState};

#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| QueueQuery::from_params(|key| p.get(key))));
    let resolve = Action::new(|(issue, action, note): &(i64, BookingAction, Option<String>)| {
        let (issue, action, note) = (*issue, *action, note.clone());
        async move { resolve_booking(issue, action, note).await }
    });
    let triage = Action::new(|(issue, request): &(i64, TriageRequest)| {
        let (issue, request) = (*issue, request.clone());
        async move { triage_issue(issue, request).await }
    });
    // One message line for whichever action answered last.
    let said: RwSignal<Said> = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(done) = resolve.value().get() {
            said.set(Some(done.map(|d: ResolveOutcome| d.message)));
        }
    });
    Effect::new(move |_| {
        if let Some(done) = triage.value().get() {
            said.set(Some(done.map(|d: TriageOutcome| d.message)));
        }
    });
    let actions = RowActions { resolve, triage };
    view! {
        <div class="review-queue">
            <h1>"Review queue"</h1>
            <p class="muted">
                "Unresolved sync issues, oldest first. Acknowledge what you are looking into, assign it, "
                "or ignore it for a while with a reason. A closed problem that comes back is marked as a regression. "
                "Group by cause to act on an outage's or a batch's issues at once."
            </p>
            <Filters query/>
            <Outcome said/>
            {move || if query.with(|q| q.group) {
                view! { <IssueGroups query said/> }.into_any()
            } else {
                view! { <IssueList query actions/> }.into_any()
            }}
        </div>
    }
}

/// One row per issue, with its own buttons.
#[component]
fn IssueList(query: Memo<QueueQuery>, actions: RowActions) -> impl IntoView {
    let queue = answer(
        move || (query.get(), actions.resolve.version().get(), actions.triage.version().get()),
        |(query, _, _)| get_review_queue(query),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Ok(queue) if queue.items.is_empty() => view! {
                        <p class="empty" data-testid="empty">{empty_words(query.get_untracked())}</p>
                    }.into_any(),
                    Ok(queue) => {
                        let can_act = queue.can_act;
                        let assignees = queue.assignees.clone();
                        view! {
                            {queue.truncated.then(|| view! {
                                <p class="notice" role="status">"Showing the 500 oldest; resolve some to see the rest."</p>
                            })}
                            <div class="table-wrap">
                                <table data-testid="review-queue">
                                    <thead><tr>
                                        <th scope="col">"Issue"</th>
                                        <th scope="col">"Subject"</th>
                                        <th scope="col">"Time"</th>
                                        <th scope="col">"Age"</th>
                                        <th scope="col">"State"</th>
                                        <th scope="col">"Owner"</th>
                                        <th scope="col">"Actions"</th>
                                    </tr></thead>
                                    <tbody>
                                        {queue.items.into_iter().map(|item| view! {
                                            <QueueRow item can_act assignees=assignees.clone() me=queue.me actions/>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                    }
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn empty_words(query: QueueQuery) -> &'static str {
    match (query.show, query.mine) {
        (_, true) => "No issues are assigned to you here.",
        (QueueShow::Ignored, false) => "No issue is being ignored.",
        (QueueShow::Attention | QueueShow::All, false) => "Nothing to review: every appointment is in sync.",
    }
}

/// A plain GET form, like the appointment list's: the filter is in the URL.
#[component]
fn Filters(query: Memo<QueueQuery>) -> impl IntoView {
    let q = query.get_untracked();
    view! {
        <form method="get" action="/review" class="filters" aria-label="Filter the queue" data-testid="queue-filters">
            <label>
                "Show"
                <select name="show" data-testid="filter-show">
                    {QueueShow::ALL.iter().map(|s| view! {
                        <option value=s.as_str() selected=q.show == *s>{s.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="inline">
                <input type="checkbox" name="mine" value="1" checked=q.mine data-testid="filter-mine"/>
                " Assigned to me"
            </label>
            <label class="inline">
                <input type="checkbox" name="group" value="cause" checked=q.group data-testid="filter-group"/>
                " Group by cause"
            </label>
            <button type="submit" class="button secondary" data-testid="apply-filters">"Apply"</button>
        </form>
    }
}

#[derive(Clone, Copy)]
struct RowActions {
    resolve: Action<(i64, BookingAction, Option<String>), Result<ResolveOutcome, AppError>>,
    triage: Action<(i64, TriageRequest), Result<TriageOutcome, AppError>>,
}

#[component]
fn QueueRow(item: QueueItem, can_act: bool, assignees: Vec<Assignee>, me: i64, actions: RowActions) -> impl IntoView {
    let issue = item.issue_id;
    let subject = match (item.appointment_id, &item.booking_uid) {
        (Some(id), _) => view! {
            <a href=format!("/appointments/{id}")>{format!("#{id} {}", item.customer.clone().unwrap_or_default())}</a>
        }
        .into_any(),
        (None, uid) => view! {
            <span>"Cal.com booking "<code>{uid.clone().unwrap_or_default()}</code></span>
            <div class="muted">{item.attendee.clone().unwrap_or_default()}</div>
        }
        .into_any(),
    };
    let regressed = (item.regressions > 0).then(|| {
        let times =
            if item.regressions == 1 { "Regressed".to_owned() } else { format!("Regressed ×{}", item.regressions) };
        view! {
            <span class="badge badge-regressed" data-testid=format!("regressed-{issue}")
                title="This problem was closed before and came back">{times}</span>
        }
    });
    let owner = item.assignee.as_ref().map_or_else(|| "—".to_owned(), |a| a.name.clone());
    let viewer_link = if can_act { None } else { item_link(&item) };
    view! {
        <tr id=format!("issue-{issue}") data-testid=format!("issue-{issue}")>
            <td data-label="Issue">
                <code>{item.code.as_str()}</code>
                {regressed}
                <div class="muted">{item.detail.clone().unwrap_or_else(|| item.code.label().to_owned())}</div>
            </td>
            <td data-label="Subject">{subject}</td>
            <td data-label="Time" class="nowrap">{item.time.clone().unwrap_or_default()}</td>
            <td data-label="Age" class="nowrap" title=format!("Opened {}", item.opened)>{item.age.clone()}</td>
            <td data-label="State" data-testid=format!("state-{issue}")>
                <span class=format!("badge badge-triage-{}", item.state.label().to_lowercase())>{item.state.label()}</span>
                {item.state_note.clone().map(|note| view! { <div class="muted small">{note}</div> })}
            </td>
            <td data-label="Owner" data-testid=format!("owner-{issue}")>{owner}</td>
            <td data-label="Actions" class="actions">
                {can_act.then(|| view! { <Actions item assignees me actions/> })}
                {viewer_link}
            </td>
        </tr>
    }
}

fn item_link(item: &QueueItem) -> Option<AnyView> {
    item.appointment_id.map(|id| {
        view! { <a class="button small secondary" href=format!("/appointments/{id}")>"Review"</a> }.into_any()
    })
}

/// An admin's buttons for one issue: resolve (by case) and triage.
#[component]
fn Actions(item: QueueItem, assignees: Vec<Assignee>, me: i64, actions: RowActions) -> impl IntoView {
    let issue = item.issue_id;
    let hydrated = use_hydrated();
    let busy =
        Signal::derive(move || !hydrated.get() || actions.triage.pending().get() || actions.resolve.pending().get());
    let triage = move |request: TriageRequest| {
        actions.triage.dispatch((issue, request));
    };
    let resolution = match (item.appointment_id, item.booking_uid.is_some()) {
        (Some(_), _) => item_link(&item),
        (None, true) => {
            let suggestions = item.suggestions.clone();
            Some(view! { <BookingResolutions issue suggestions actions/> }.into_any())
        }
        (None, false) => None,
    };
    let acknowledge = (item.state == TriageState::Open).then(|| {
        view! {
            <button type="button" class="button small" data-testid=format!("ack-{issue}")
                disabled=move || busy.get() on:click=move |_| triage(TriageRequest::Acknowledge)>
                "Acknowledge"
            </button>
        }
    });
    let stop_ignoring = (item.state == TriageState::Ignored).then(|| {
        view! {
            <button type="button" class="button small secondary" data-testid=format!("unignore-{issue}")
                disabled=move || busy.get() on:click=move |_| triage(TriageRequest::StopIgnoring)>
                "Stop ignoring"
            </button>
        }
    });
    let assigned = item.assignee.as_ref().map(|a| a.id);
    let assign_id = format!("assign-{issue}");
    let take = (assigned != Some(me)).then(|| {
        view! {
            <button type="button" class="button small secondary" data-testid=format!("take-{issue}")
                disabled=move || busy.get() on:click=move |_| triage(TriageRequest::Assign(Some(me)))>
                "Assign to me"
            </button>
        }
    });
    view! {
        {resolution}
        {acknowledge}
        {take}
        <label for=assign_id.clone() class="visually-hidden">"Owner"</label>
        <select
            id=assign_id.clone()
            data-testid=assign_id
            disabled=move || busy.get()
            on:change=move |ev| {
                let to = event_target_value(&ev).parse::<i64>().ok();
                triage(TriageRequest::Assign(to));
            }
        >
            <option value="" selected=assigned.is_none()>"Unassigned"</option>
            {assignees.into_iter().map(|a| view! {
                <option value=a.id.to_string() selected=assigned == Some(a.id)>{a.name}</option>
            }).collect_view()}
        </select>
        {stop_ignoring}
        {(item.state != TriageState::Ignored).then(|| {
            let on_ignore = Callback::new(move |(reason, limit): (String, IgnoreLimit)| {
                actions.triage.dispatch((issue, TriageRequest::Ignore { reason, limit }));
            });
            view! { <IgnoreForm prefix="ignore" key=issue label="Ignore" busy on_ignore/> }
        })}
    }
}

/// A Cal.com booking with no appointment: link it to the appointment it
/// probably is, create it here, or close the issue with a note.
#[component]
fn BookingResolutions(issue: i64, suggestions: Vec<LinkSuggestion>, actions: RowActions) -> impl IntoView {
    let resolve = actions.resolve;
    let pending = resolve.pending();
    let note = RwSignal::new(String::new());
    // As on the review page: keep a note typed before the page hydrated.
    let note_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = note_input.get() {
            note.set(input.value());
        }
    });
    let note_id = format!("note-{issue}");
    let links = suggestions
        .into_iter()
        .map(|s| {
            let id = s.appointment_id;
            view! {
                <div class="suggestion" data-testid=format!("suggestion-{issue}-{id}")>
                    <span>
                        "Probably "<a href=format!("/appointments/{id}")>{format!("#{id} {}", s.customer)}</a>
                        {format!(", {}", s.time)}
                        <span class="muted small">{format!(" ({})", s.reasons)}</span>
                    </span>
                    " "
                    <ConfirmButton
                        label="Link"
                        question=format!("Link this booking to appointment #{id}?")
                        testid=format!("link-{issue}-{id}")
                        disabled=pending
                        on_confirm=move || { resolve.dispatch((issue, BookingAction::Link(id), None)); }
                    />
                </div>
            }
        })
        .collect_view();
    view! {
        {links}
        <ConfirmButton
            label="Create in DB"
            question="Create an appointment from this Cal.com booking?"
            testid=format!("import-{issue}")
            disabled=pending
            on_confirm=move || { resolve.dispatch((issue, BookingAction::Import, None)); }
        />
        <label for=note_id.clone() class="visually-hidden">"Note"</label>
        <input
            id=note_id.clone()
            type="text"
            placeholder="Note"
            data-testid=format!("note-{issue}")
            node_ref=note_input
            on:input=move |ev| note.set(event_target_value(&ev))
        />
        <ConfirmButton
            label="Mark as resolved"
            question="Close this issue without changing anything?"
            testid=format!("mark-resolved-{issue}")
            disabled=Signal::derive(move || pending.get() || note.with(|n| n.trim().is_empty()))
            on_confirm=move || { resolve.dispatch((issue, BookingAction::MarkResolved, Some(note.get_untracked()))); }
        />
    }
}
