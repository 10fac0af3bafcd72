//! The notification feed (seed "Notification System"): unread or all, kept
//! in the URL (`?show=unread`) so a reload or a shared link shows the same.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::rpc::notifications::{
    get_notifications, kind_icon, FeedItem, MarkAllNotificationsRead, MarkNotificationRead,
};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let query = use_query_map();
    let unread_only = Memo::new(move |_| query.read().get("show").as_deref() == Some("unread"));
    let mark_one = ServerAction::<MarkNotificationRead>::new();
    let mark_all = ServerAction::<MarkAllNotificationsRead>::new();
    // Refetched after each mark, so the list shows what the server now holds.
    let feed = Resource::new(
        move || (unread_only.get(), mark_one.version().get(), mark_all.version().get()),
        |(unread, _, _)| get_notifications(unread),
    );
    let failure = move || {
        let failed = mark_one.value().get().and_then(Result::err);
        failed.or_else(|| mark_all.value().get().and_then(Result::err))
    };

    view! {
        <div class="page-head">
            <h1>"Notifications"</h1>
            <ActionForm action=mark_all>
                <button type="submit" class="button" data-testid="mark-all-read">"Mark all read"</button>
            </ActionForm>
        </div>
        <nav class="filter" aria-label="Which notifications">
            <a href="/notifications?show=unread" data-testid="show-unread"
                aria-current=move || unread_only.get().then_some("page")>"Unread"</a>
            " · "
            <a href="/notifications" data-testid="show-all"
                aria-current=move || (!unread_only.get()).then_some("page")>"All"</a>
        </nav>
        {move || failure().map(|err| view! { <p class="error" role="alert">{err.to_string()}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match feed.await {
                    Ok(items) if items.is_empty() => view! {
                        <p class="muted" data-testid="feed-empty">"Nothing here."</p>
                    }.into_any(),
                    Ok(items) => view! {
                        <ul class="feed" data-testid="notifications">
                            {items.into_iter().map(|item| view! { <Item item mark_one/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Item(item: FeedItem, mark_one: ServerAction<MarkNotificationRead>) -> impl IntoView {
    let class = format!("notification severity-{}{}", item.severity, if item.read { " read" } else { " unread" });
    let link = item.appointment_id.map(|id| view! {
        <a href=format!("/appointments/{id}") data-testid="notification-appointment">{format!("Appointment #{id}")}</a>
    });
    let issue = item.issue_id.map(|id| view! { <span class="muted">{format!(" · Issue #{id}")}</span> });
    let label = item.kind_label.clone();
    view! {
        <li class=class data-testid="notification" data-read=item.read.to_string()>
            <span class="kind" title=label>
                <span aria-hidden="true">{kind_icon(&item.kind)}</span>" "{item.kind_label}
            </span>
            <span class="severity">{item.severity}</span>
            <strong class="title">{item.title}</strong>
            <p class="body">{item.body}</p>
            <p class="meta muted">
                <time>{item.at}</time>
                {link.map(|link| view! { " · " {link} })}
                {issue}
            </p>
            {(!item.read).then(|| view! {
                <ActionForm action=mark_one>
                    <input type="hidden" name="id" value=item.id.to_string()/>
                    <button type="submit" class="button link" data-testid="mark-read">"Mark read"</button>
                </ActionForm>
            })}
        </li>
    }
}
