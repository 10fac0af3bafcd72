//! The review page of one appointment (seed "Manual Review Interface").

use leptos::prelude::*;

use crate::rpc::answer::answer;
use leptos_router::hooks::use_params_map;

use crate::components::badge::SyncBadge;
use crate::components::confirm::ConfirmButton;
use crate::components::outcome::{said_by, Outcome};
use crate::error::AppError;
use crate::rpc::resolve::{
    get_review, resolve_appointment, resolve_booking, BookingAction, BookingLink, OrphanEvidence, ResolveAction,
    ResolveOutcome, ReviewView,
};

type Answer = Result<ResolveOutcome, AppError>;

/// What the page asks of the server: one of the appointment's resolutions
/// (with its note), or taking a Cal.com-only booking's issue as its own.
#[derive(Debug, Clone)]
enum Request {
    Resolve(ResolveAction, Option<String>),
    Link { issue: i64 },
}

type Resolve = Action<(i64, Request), Answer>;

#[component]
pub fn AppointmentReviewPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let resolve: Resolve = Action::new(|(id, request): &(i64, Request)| {
        let (id, request) = (*id, request.clone());
        async move {
            match request {
                Request::Resolve(action, note) => resolve_appointment(id, action, note).await,
                Request::Link { issue } => resolve_booking(issue, BookingAction::Link(id), None).await,
            }
        }
    });
    let review = answer(
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
            <Outcome said=said_by(resolve, |done| done.message)/>
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

fn field(label: &'static str, value: Option<String>) -> impl IntoView {
    view! {
        <dt>{label}</dt>
        <dd>{value.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".to_owned())}</dd>
    }
}

#[component]
fn Review(view: ReviewView, resolve: Resolve) -> impl IntoView {
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
                                    <th scope="row">{c.label}{c.differs.then_some(" ≠")}</th>
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
                            on_confirm=move || { resolve.dispatch((id, Request::Resolve(action, None))); }
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
                            on_confirm=move || {
                                resolve.dispatch((id, Request::Resolve(ResolveAction::MarkResolved, Some(note.get_untracked()))));
                            }
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
    let links = (!view.links.is_empty()).then(|| {
        let can_act = !actions.is_empty();
        view! { <BookingLinks id links=view.links can_act resolve/> }.into_any()
    });
    let closed = (!view.closed_issues.is_empty()).then(|| {
        view! {
            <section class="card" aria-labelledby="closed-issues">
                <h2 id="closed-issues">"Closed issues"</h2>
                <ul class="closed-issues" data-testid="closed-issues">
                    {view.closed_issues.into_iter().map(|c| view! {
                        <li>
                            <code>{c.code.as_str()}</code>
                            <span class="muted">{format!(" opened {}, closed {} – ", c.opened, c.closed)}</span>
                            {c.how}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        }
        .into_any()
    });
    let evidence = view.orphan_evidence.map(|evidence| view! { <OrphanEvidenceCard evidence/> }.into_any());
    view! { {head} {cards} {links} {comparison} {evidence} {resolutions} {history} {closed} }
}

/// Why calsync says Cal.com has no booking for this appointment: each check
/// that missed it (the listing with its pages, the single-booking request)
/// and the last webhook that named it.
#[component]
fn OrphanEvidenceCard(evidence: OrphanEvidence) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="evidence" data-testid="orphan-evidence">
            <h2 id="evidence">"Evidence: not in Cal.com"</h2>
            <ol class="history">
                {evidence.checks.into_iter().map(|check| view! {
                    <li>
                        <span class="nowrap">{check.at}</span>
                        {check.attempt.map(|n| format!(" (attempt {n})"))}
                        <ul>{check.how.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
                    </li>
                }).collect_view()}
            </ol>
            <p data-testid="last-webhook">
                "Last webhook: "{evidence.last_webhook}
                {evidence.webhooks_href.map(|href| view! { " " <a href=href>"Deliveries for this booking"</a> })}
            </p>
        </section>
    }
}

/// Cal.com-only bookings this appointment probably is, each with "Link"
/// for admins (the queue offers the same link from the booking's side).
#[component]
fn BookingLinks(id: i64, links: Vec<BookingLink>, can_act: bool, resolve: Resolve) -> impl IntoView {
    let pending = resolve.pending();
    let rows = links
        .into_iter()
        .map(|link| {
            let issue = link.issue_id;
            let attendee = link.attendee.map(|a| format!(", {a}")).unwrap_or_default();
            view! {
                <div class="suggestion" data-testid=format!("booking-link-{issue}")>
                    <span>
                        {format!("Cal.com booking {}, {}{attendee}", link.booking_uid, link.time)}
                        <span class="muted small">{format!(" ({})", link.reasons)}</span>
                    </span>
                    " "
                    {can_act.then(|| view! {
                        <ConfirmButton
                            label="Link"
                            question=format!("Give this appointment Cal.com booking {}?", link.booking_uid)
                            testid=format!("link-booking-{issue}")
                            disabled=pending
                            on_confirm=move || { resolve.dispatch((id, Request::Link { issue })); }
                        />
                    })}
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="booking-links" data-testid="booking-links">
            <h2 id="booking-links">"Probably this Cal.com booking"</h2>
            <p class="muted small">
                "Cal.com has a booking calsync has no appointment for that looks like this one. "
                "Linking gives this appointment the booking and checks it again."
            </p>
            {rows}
        </section>
    }
}
