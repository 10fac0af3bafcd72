//! The notification feed (seed "Notification System", "In-App
//! Notification"): unread or all, kept in the URL (`?show=unread`) so a
//! reload or a shared link shows the same.

use crate::components::post_form::PostForm;
use leptos::prelude::*;

use crate::rpc::answer::answer;
use leptos_router::hooks::use_query_map;

use crate::components::notification::{use_now, NotificationItem};
use crate::rpc::notifications::{get_notifications, MarkAllNotificationsRead, MarkNotificationRead};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let query = use_query_map();
    let unread_only = Memo::new(move |_| query.read().get("show").as_deref() == Some("unread"));
    let mark_one = ServerAction::<MarkNotificationRead>::new();
    let mark_all = ServerAction::<MarkAllNotificationsRead>::new();
    // Refetched after each mark, so the list shows what the server now holds.
    let feed = answer(
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
            <PostForm action=mark_all>
                <button type="submit" class="button" data-testid="mark-all-read">"Mark all read"</button>
            </PostForm>
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
                    Ok(feed) if feed.items.is_empty() => view! {
                        <p class="muted empty" data-testid="feed-empty">"Nothing here."</p>
                    }.into_any(),
                    Ok(feed) => {
                        let unread = feed.items.iter().filter(|i| !i.read).count();
                        let now = use_now(feed.now);
                        view! {
                            <p class="muted" data-testid="feed-count">
                                {format!("{} shown, {unread} unread", feed.items.len())}
                            </p>
                            <ul class="notification-list" data-testid="notifications">
                                {feed.items.into_iter().map(|item| {
                                    let mark = (!item.read).then(|| {
                                        let id = item.id.to_string();
                                        view! {
                                            <PostForm action=mark_one>
                                                <input type="hidden" name="id" value=id/>
                                                <button type="submit" class="button link" data-testid="mark-read">"Mark read"</button>
                                            </PostForm>
                                        }
                                    });
                                    view! {
                                        <NotificationItem item now>
                                            {mark}
                                        </NotificationItem>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
