//! The webhook deliveries log (admins and viewers): each delivery with its
//! time, trigger, the bookings it named, what came of it and the
//! appointments it touched; filterable by outcome, trigger and booking, in
//! the URL so a filtered view can be shared.

use leptos::prelude::*;

use crate::rpc::answer::answer;
use leptos_router::hooks::use_query_map;

use crate::rpc::deliveries::{get_deliveries, DeliveryLine, DeliveryPage, DeliveryQuery};
use engine::domain::url::query_value as encode;

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || {
        params.with(|p| DeliveryQuery {
            outcome: p.get("outcome"),
            trigger: p.get("trigger"),
            uid: p.get("uid"),
            before: p.get("before").and_then(|b| b.parse().ok()),
        })
    };
    let page = answer(query, get_deliveries);
    view! {
        <div class="deliveries">
            <h1>"Webhook deliveries"</h1>
            <p class="muted">"What Cal.com sent to calsync, newest first, and what calsync made of it."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <Deliveries page query=query()/> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn Deliveries(page: DeliveryPage, query: DeliveryQuery) -> impl IntoView {
    let chosen = query.outcome.clone().unwrap_or_default();
    let older = page.older.map(|before| {
        let mut next = vec![format!("before={before}")];
        for (name, value) in [("outcome", &query.outcome), ("trigger", &query.trigger), ("uid", &query.uid)] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                next.push(format!("{name}={}", encode(value)));
            }
        }
        format!("/deliveries?{}", next.join("&"))
    });
    view! {
        <form method="get" action="/deliveries" class="filters" aria-label="Filter deliveries" data-testid="delivery-filters">
            <label>
                "Outcome"
                <select name="outcome" data-testid="filter-outcome">
                    <option value="" selected=chosen.is_empty()>"Any"</option>
                    {page.outcomes.iter().map(|o| view! {
                        <option value=o.clone() selected=*o == chosen>{o.clone()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Trigger"
                <input type="text" name="trigger" placeholder="BOOKING_CANCELLED" value=query.trigger.clone().unwrap_or_default()/>
            </label>
            <label>
                "Booking"
                <input type="text" name="uid" placeholder="Booking uid" value=query.uid.clone().unwrap_or_default() data-testid="filter-uid"/>
            </label>
            <button type="submit" class="button" data-testid="apply-filters">"Apply"</button>
        </form>
        {if page.lines.is_empty() {
            view! { <p class="empty" data-testid="empty">"No deliveries match."</p> }.into_any()
        } else {
            view! {
                <p class="muted">{format!("Times in {}", page.time_zone)}</p>
                <div class="table-wrap">
                    <table data-testid="deliveries">
                        <thead><tr>
                            <th scope="col">"Received"</th>
                            <th scope="col">"Trigger"</th>
                            <th scope="col">"Bookings"</th>
                            <th scope="col">"Outcome"</th>
                            <th scope="col">"Appointments"</th>
                        </tr></thead>
                        <tbody>
                            {page.lines.into_iter().map(|line| view! { <Line line/> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        {older.map(|href| view! { <a href=href class="button link" data-testid="older">"Older deliveries"</a> })}
    }
}

#[component]
fn Line(line: DeliveryLine) -> impl IntoView {
    let replays = (line.replays > 0).then(|| format!(" · sent again {} time(s)", line.replays));
    view! {
        <tr data-testid=format!("delivery-{}", line.id) data-outcome=line.outcome.clone()>
            <td data-label="Received" class="nowrap">{line.received}</td>
            <td data-label="Trigger"><code>{line.trigger}</code></td>
            <td data-label="Bookings">
                {line.bookings.into_iter().map(|uid| view! {
                    <a href=format!("/deliveries?uid={}", encode(&uid))><code>{uid.clone()}</code></a>" "
                }).collect_view()}
            </td>
            <td data-label="Outcome">
                <span class=format!("outcome outcome-{}", line.outcome)>{line.outcome.clone()}</span>
                {replays}
                {line.detail.map(|d| view! { <span class="sync-detail muted">{d}</span> })}
            </td>
            <td data-label="Appointments">
                {line.appointments.into_iter().map(|id| view! {
                    <a href=format!("/appointments/{id}")>{format!("#{id}")}</a>" "
                }).collect_view()}
            </td>
        </tr>
    }
}
