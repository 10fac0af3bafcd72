//! The review page of one appointment (seed "Manual Review Interface") and
//! the review queue of every open issue.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::badge::SyncBadge;
use crate::components::confirm::ConfirmButton;
use crate::error::AppError;
use crate::rpc::resolve::{
    get_review, get_review_queue, resolve_appointment, resolve_booking, BookingAction, QueueItem, ResolveAction,
    ResolveOutcome, ReviewView,
};

type Outcome = Result<ResolveOutcome, AppError>;

#[component]
pub fn AppointmentReviewPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let resolve = Action::new(|(id, action, note): &(i64, ResolveAction, Option<String>)| {
        let (id, action, note) = (*id, *action, note.clone());
        async move { resolve_appointment(id, action, note).await }
    });
    let review = Resource::new(
        move || (id.get(), resolve.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_review(id).await,
                None => Err(AppError::NotFound("Appointment".into())),
            }
        },
    );

    view! {
        <div class="review">
            <p><a href="/appointments">"← Appointments"</a></p>
            <Outcome result=resolve.value().into()/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match review.await {
                        Ok(view) => view! { <Review view resolve/> }.into_any(),
                        Err(err) => view! {
                            <h1>"Appointment review"</h1>
                            <p class="error" role="alert" data-testid="review-error">{err.to_string()}</p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// The last action's result (or why it failed), announced to screen readers.
#[component]
fn Outcome(result: Signal<Option<Outcome>>) -> impl IntoView {
    move || {
        result.get().map(|outcome| match outcome {
            Ok(done) => {
                view! { <p class="notice" role="status" data-testid="action-result">{done.message}</p> }.into_any()
            }
            Err(err) => {
                view! { <p class="error" role="alert" data-testid="action-error">{err.to_string()}</p> }.into_any()
            }
        })
    }
}

fn field(label: &'static str, value: Option<String>) -> impl IntoView {
    view! {
        <dt>{label}</dt>
        <dd>{value.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".to_owned())}</dd>
    }
}

#[component]
fn Review(view: ReviewView, resolve: Action<(i64, ResolveAction, Option<String>), Outcome>) -> impl IntoView {
    let id = view.id;
    let found = match view.found_in_calcom {
        Some(true) => "Found",
        Some(false) => "Not found",
        None => "Unknown (not yet verified)",
    };
    let pending = resolve.pending();
    let note = RwSignal::new(String::new());
    // A note typed before the page hydrated is in the textarea but not yet
    // in the signal: take it over once the page runs.
    let note_area = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(area) = note_area.get() {
            note.set(area.value());
        }
    });
    let actions = view.actions.clone();
    let head = view! {
        <h1>{format!("Appointment sync review – #{id}")}</h1>
        <p class="review-status" data-testid="review-status">
            "Status: "
            <SyncBadge status=view.sync_status code=view.code review=view.requires_review/>
            {view.requires_review.then_some(" Requires manual review")}
        </p>
    }
    .into_any();
    let cards = view! {
        <div class="cards">
            <section class="card" aria-labelledby="db-info">
                <h2 id="db-info">"Database information"</h2>
                <dl>
                    {field("Customer", Some(view.customer))}
                    {field("Phone", view.phone)}
                    {field("Email", view.email)}
                    {field("Service", Some(view.service))}
                    {field("Date/Time", Some(view.time))}
                    {field("Status", Some(view.status))}
                    {field("Created", Some(format!("{} (via {})", view.created, view.source)))}
                    {field("Booking ID", view.booking_uid)}
                </dl>
            </section>
            <section class="card" aria-labelledby="calcom-info">
                <h2 id="calcom-info">"Cal.com verification"</h2>
                <dl>
                    {field("Status", Some(found.to_owned()))}
                    {field("Last check", view.last_check)}
                    {field("Attempts", Some(view.attempts.to_string()))}
                    {field("Error", view.detail)}
                </dl>
            </section>
        </div>
    }
    .into_any();
    let comparison = (!view.comparison.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="compare">
                <h2 id="compare">"Ours and Cal.com's, side by side"</h2>
                <div class="table-wrap">
                    <table class="compare" data-testid="comparison">
                        <thead><tr><th scope="col">"Field"</th><th scope="col">"Ours"</th><th scope="col">"Cal.com"</th></tr></thead>
                        <tbody>
                            {view.comparison.into_iter().map(|c| view! {
                                <tr class:differs=c.differs data-differs=c.differs.to_string()>
                                    <th scope="row">{c.field}{c.differs.then_some(" ≠")}</th>
                                    <td>{c.ours}</td>
                                    <td>{c.calcom}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        }.into_any());
    let resolutions = (!actions.is_empty()).then(|| view! {
            <section class="card resolutions" aria-labelledby="resolve" data-testid="resolutions">
                <h2 id="resolve">"Resolution options"</h2>
                <div class="action-row">
                    {actions.iter().copied().filter(|a| *a != ResolveAction::MarkResolved).map(|action| view! {
                        <ConfirmButton
                            label=action.label()
                            question=action.question()
                            class=if action == ResolveAction::CancelBoth { "danger" } else { "" }
                            testid=format!("action-{}", action.slug())
                            disabled=pending
                            on_confirm=move || { resolve.dispatch((id, action, None)); }
                        />
                    }.into_any()).collect_view()}
                </div>
                {actions.contains(&ResolveAction::MarkResolved).then(|| view! {
                    <div class="mark-resolved">
                        <label for="resolve-note">"Note (required to mark as resolved)"</label>
                        <textarea
                            id="resolve-note"
                            rows="2"
                            data-testid="resolve-note"
                            node_ref=note_area
                            on:input=move |ev| note.set(event_target_value(&ev))
                        ></textarea>
                        <ConfirmButton
                            label=ResolveAction::MarkResolved.label()
                            question=ResolveAction::MarkResolved.question()
                            testid="action-mark-resolved"
                            disabled=Signal::derive(move || pending.get() || note.with(|n| n.trim().is_empty()))
                            on_confirm=move || { resolve.dispatch((id, ResolveAction::MarkResolved, Some(note.get_untracked()))); }
                        />
                    </div>
                }.into_any())}
            </section>
        }.into_any());
    let history = view! {
        <section class="card" aria-labelledby="history">
            <h2 id="history">"Sync history"</h2>
            {if view.history.is_empty() {
                view! { <p class="empty">"No history yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="history" data-testid="history">
                        {view.history.into_iter().map(|h| view! {
                            <li>
                                <span class="nowrap">{h.at}</span>" – "{h.what}<span class="muted">{format!(" · {}", h.actor)}</span>
                                {h.technical.map(|raw| view! {
                                    <details class="technical">
                                        <summary>"Technical details"</summary>
                                        <pre>{raw}</pre>
                                    </details>
                                })}
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
    .into_any();
    view! { {head} {cards} {comparison} {resolutions} {history} }
}

#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let resolve = Action::new(|(issue, action, note): &(i64, BookingAction, Option<String>)| {
        let (issue, action, note) = (*issue, *action, note.clone());
        async move { resolve_booking(issue, action, note).await }
    });
    let queue = Resource::new(move || resolve.version().get(), |_| get_review_queue());
    view! {
        <div class="review-queue">
            <h1>"Review queue"</h1>
            <p class="muted">"Every open sync issue, oldest first."</p>
            <Outcome result=resolve.value().into()/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match queue.await {
                        Ok(queue) if queue.items.is_empty() => view! {
                            <p class="empty" data-testid="empty">"Nothing to review: every appointment is in sync."</p>
                        }.into_any(),
                        Ok(queue) => {
                            let can_act = queue.can_act;
                            view! {
                                <div class="table-wrap">
                                    <table data-testid="review-queue">
                                        <thead><tr>
                                            <th scope="col">"Issue"</th>
                                            <th scope="col">"Subject"</th>
                                            <th scope="col">"Time"</th>
                                            <th scope="col">"Opened"</th>
                                            <th scope="col">"Actions"</th>
                                        </tr></thead>
                                        <tbody>
                                            {queue.items.into_iter().map(|item| view! { <QueueRow item can_act resolve/> }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any()
                        }
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn QueueRow(
    item: QueueItem,
    can_act: bool,
    resolve: Action<(i64, BookingAction, Option<String>), Outcome>,
) -> impl IntoView {
    let issue = item.issue_id;
    let pending = resolve.pending();
    let note = RwSignal::new(String::new());
    // As on the review page: keep a note typed before the page hydrated.
    let note_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = note_input.get() {
            note.set(input.value());
        }
    });
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
    let booking_only = item.appointment_id.is_none() && item.booking_uid.is_some();
    let note_id = format!("note-{issue}");
    view! {
        <tr data-testid=format!("issue-{issue}")>
            <td data-label="Issue">
                <code>{item.code.as_str()}</code>
                <div class="muted">{item.detail.unwrap_or_else(|| item.code.label().to_owned())}</div>
            </td>
            <td data-label="Subject">{subject}</td>
            <td data-label="Time" class="nowrap">{item.time.unwrap_or_default()}</td>
            <td data-label="Opened" class="nowrap">{item.opened}</td>
            <td data-label="Actions" class="actions">
                {match (item.appointment_id, can_act && booking_only) {
                    (Some(id), _) => view! { <a class="button small secondary" href=format!("/appointments/{id}")>"Review"</a> }.into_any(),
                    (None, true) => view! {
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
                    }.into_any(),
                    (None, false) => ().into_any(),
                }}
            </td>
        </tr>
    }
}
