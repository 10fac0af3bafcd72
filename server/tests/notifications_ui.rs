//! The notification UI over real HTTP on both databases: the live `/events`
//! stream, marking read through the server functions, tenant isolation, and
//! the per-user email preference.

mod support;

use std::time::Duration;

use chrono::Utc;
use engine::alerting::dispatch::wants_email;
use engine::domain::{EmailPreference, NotificationId, OrgId, Role, UserId};
use engine::on_both_backends;
use engine::store::{NewNotification, NewOrganization, NewUser, NotificationKind, Severity, Store};
use leptos::server_fn::ServerFn;
use reqwest::header::{COOKIE, LOCATION, ORIGIN};
use reqwest::{Response, StatusCode};
use server::live::Summary;
use support::{answer, client, spawn_app as serve};
use tokio::time::Instant;

const PASSWORD: &str = "correct horse battery";

type Feed = app::rpc::notifications::GetNotifications;
type Unread = app::rpc::notifications::GetUnreadCount;
type MarkRead = app::rpc::notifications::MarkNotificationRead;
type MarkAll = app::rpc::notifications::MarkAllNotificationsRead;
type Account = app::rpc::account::GetAccount;
type SetPreference = app::rpc::account::SetEmailPreference;

async fn org(store: &Store, slug: &str) -> OrgId {
    let new = NewOrganization { slug: slug.into(), name: format!("Org {slug}"), time_zone: chrono_tz::Europe::Berlin };
    store.create_organization(&new, Utc::now()).await.unwrap().id
}

async fn user(store: &Store, org: OrgId, email: &str) -> UserId {
    let password_hash = engine::password::hash(PASSWORD.into()).await.unwrap();
    let new = NewUser { email: email.into(), name: "Ann".into(), role: Role::Viewer, password_hash };
    store.create_user(org, &new, Utc::now()).await.unwrap().id
}

async fn login(base: &str, email: &str) -> String {
    support::login(base, email, PASSWORD).await
}

async fn notify(store: &Store, org: OrgId, title: &str) -> NotificationId {
    let new = NewNotification {
        kind: NotificationKind::SyncIssue,
        severity: Severity::Warning,
        title: title.into(),
        body: "Appointment requires manual review".into(),
        appointment_id: None,
        issue_id: None,
        dedupe_key: None,
    };
    store.notify(org, &new, Utc::now()).await.unwrap().unwrap()
}

/// Calls a server function the way a form does; `body` is url-encoded.
async fn rpc<F: ServerFn>(base: &str, cookie: &str, body: &str) -> Response {
    client()
        .post(format!("{base}{}", F::PATH))
        .header(ORIGIN, base)
        .header(COOKIE, cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn unread(base: &str, cookie: &str) -> i64 {
    let (status, unread) = answer::<Unread>(rpc::<Unread>(base, cookie, "").await).await;
    assert_eq!(status, StatusCode::OK);
    unread.as_i64().expect("signed in")
}

/// An open `/events` stream and what has arrived of it so far.
struct Events {
    response: Response,
    buffer: String,
}

impl Events {
    async fn open(base: &str, cookie: &str) -> Events {
        let response = client().get(format!("{base}/events")).header(COOKIE, cookie).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Events { response, buffer: String::new() }
    }

    /// The next `summary` event, or `None` if none arrives by `deadline`.
    async fn next(&mut self, deadline: Instant) -> Option<Summary> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if !block.lines().any(|l| l == "event: summary") {
                    continue; // keep-alive comment
                }
                let data = block.lines().find_map(|l| l.strip_prefix("data: ")).expect("data line");
                return Some(serde_json::from_str(data).unwrap());
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?.unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Waits for a summary with this unread count, skipping others.
    async fn until_unread(&mut self, count: i64, within: Duration) -> Summary {
        let deadline = Instant::now() + within;
        loop {
            match self.next(deadline).await {
                Some(summary) if summary.unread == count => return summary,
                Some(_) => {}
                None => panic!("no summary with {count} unread within {within:?}"),
            }
        }
    }
}

on_both_backends!(events_need_a_session, |db| async move {
    let base = serve(db.store.clone()).await;
    let response = client().get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()[LOCATION].to_str().unwrap().starts_with("/login"));
    let forged = client().get(format!("{base}/events")).header(COOKIE, "calsync_session=forged").send().await.unwrap();
    assert_ne!(forged.status(), StatusCode::OK);
});

on_both_backends!(a_new_notification_reaches_an_open_page_within_seconds, |db| async move {
    let a = org(&db.store, "alpha").await;
    let b = org(&db.store, "beta").await;
    user(&db.store, a, "ann@alpha.example").await;
    notify(&db.store, a, "Before").await;
    let base = serve(db.store.clone()).await;
    let cookie = login(&base, "ann@alpha.example").await;

    let mut events = Events::open(&base, &cookie).await;
    let first = events.until_unread(1, Duration::from_secs(3)).await;
    let mut second_page = Events::open(&base, &cookie).await;
    second_page.until_unread(1, Duration::from_secs(3)).await;

    // Another organization's notification moves nothing here.
    notify(&db.store, b, "Elsewhere").await;
    let id = notify(&db.store, a, "Cal.com Sync Issue").await;
    let summary = events.until_unread(2, Duration::from_secs(3)).await;
    assert_eq!(summary.latest, id.get());
    assert!(summary.latest > first.latest);
    second_page.until_unread(2, Duration::from_secs(3)).await;

    // Reading elsewhere (another tab, the server fn) reaches the stream too.
    assert_eq!(rpc::<MarkAll>(&base, &cookie, "").await.status(), StatusCode::OK);
    events.until_unread(0, Duration::from_secs(3)).await;
});

on_both_backends!(a_nudged_feed_polls_at_once_instead_of_at_its_tick, |db| async move {
    let a = org(&db.store, "alpha").await;
    // A tick far longer than the test: only the nudge can explain an update.
    let feed = server::live::LiveFeed::new(engine::ops::Operations::new(db.store.clone()), Duration::from_secs(600));
    let mut versions = feed.subscribe(a);
    // The watcher's first poll happens at once and finds an empty feed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = *versions.borrow_and_update();

    let id = notify(&db.store, a, "Cal.com Sync Issue").await;
    feed.nudge(a);
    tokio::time::timeout(Duration::from_secs(2), versions.changed())
        .await
        .expect("the nudged watcher polled within 2 s")
        .unwrap();
    let after = *versions.borrow();
    assert_ne!(after, before);
    assert_eq!(after.latest, id.get());
    feed.close();
});

on_both_backends!(marking_read_changes_the_counts, |db| async move {
    let a = org(&db.store, "alpha").await;
    let ann = user(&db.store, a, "ann@alpha.example").await;
    let bob = user(&db.store, a, "bob@alpha.example").await;
    let first = notify(&db.store, a, "One").await;
    notify(&db.store, a, "Two").await;
    notify(&db.store, a, "Three").await;
    let base = serve(db.store.clone()).await;
    let cookie = login(&base, "ann@alpha.example").await;
    assert_eq!(unread(&base, &cookie).await, 3);

    let marked = rpc::<MarkRead>(&base, &cookie, &format!("id={first}")).await;
    assert_eq!(marked.status(), StatusCode::OK);
    assert_eq!(unread(&base, &cookie).await, 2);
    let (_, feed) = answer::<Feed>(rpc::<Feed>(&base, &cookie, "unread_only=true").await).await;
    let titles: Vec<&str> = feed["items"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Three", "Two"]);

    assert_eq!(answer::<MarkAll>(rpc::<MarkAll>(&base, &cookie, "").await).await.1, 2);
    assert_eq!(unread(&base, &cookie).await, 0);
    let (_, feed) = answer::<Feed>(rpc::<Feed>(&base, &cookie, "unread_only=false").await).await;
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|n| n["read"] == true));
    assert!(feed["now"].as_i64().is_some(), "the server's clock travels with the feed: {feed}");
    let at = items[0]["at"].as_str().unwrap();
    assert!(at.ends_with(" CET") || at.ends_with(" CEST"), "Berlin time: {at}");

    // Read state is per user.
    assert_eq!(db.store.unread_count(a, bob).await.unwrap(), 3);
    assert_eq!(db.store.unread_count(a, ann).await.unwrap(), 0);

    let page = client().get(format!("{base}/notifications?show=unread")).header(COOKIE, &cookie).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-testid="bell-count""#) && html.contains(r#"data-testid="feed-empty""#), "{html}");
});

on_both_backends!(another_organizations_notifications_stay_out_of_reach, |db| async move {
    let a = org(&db.store, "alpha").await;
    let b = org(&db.store, "beta").await;
    user(&db.store, a, "ann@alpha.example").await;
    let bob = user(&db.store, b, "bob@beta.example").await;
    let theirs = notify(&db.store, b, "Beta secret").await;
    let base = serve(db.store.clone()).await;
    let ann = login(&base, "ann@alpha.example").await;

    let (status, refused) = answer::<MarkRead>(rpc::<MarkRead>(&base, &ann, &format!("id={theirs}")).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(refused.to_string().contains("NotFound"), "{refused}");
    assert_eq!(db.store.unread_count(b, bob).await.unwrap(), 1);
    let missing = rpc::<MarkRead>(&base, &ann, "id=999999").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND, "same answer as for no such notification");

    assert_eq!(answer::<MarkAll>(rpc::<MarkAll>(&base, &ann, "").await).await.1, 0);
    assert_eq!(db.store.unread_count(b, bob).await.unwrap(), 1, "mark all read stays in the caller's organization");
    let feed = answer::<Feed>(rpc::<Feed>(&base, &ann, "unread_only=false").await).await.1.to_string();
    assert!(!feed.contains("Beta secret"), "{feed}");
    assert_eq!(unread(&base, &ann).await, 0);

    let nobody = client()
        .post(format!("{base}{}", MarkAll::PATH))
        .header(ORIGIN, &base)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status(), StatusCode::UNAUTHORIZED);
});

on_both_backends!(the_email_preference_decides_who_gets_email, |db| async move {
    let a = org(&db.store, "alpha").await;
    let ann = user(&db.store, a, "ann@alpha.example").await;
    let base = serve(db.store.clone()).await;
    let cookie = login(&base, "ann@alpha.example").await;
    let preference = |store: Store| async move {
        store.email_recipients(a).await.unwrap().into_iter().find(|r| r.user_id == ann).unwrap().preference
    };

    let (_, account) = answer::<Account>(rpc::<Account>(&base, &cookie, "").await).await;
    assert_eq!(account["email"], "ann@alpha.example");
    assert_eq!(account["email_preference"], "all");
    assert!(wants_email(preference(db.store.clone()).await, NotificationKind::SyncRestored));

    let saved = rpc::<SetPreference>(&base, &cookie, "preference=issues").await;
    assert_eq!(saved.status(), StatusCode::OK);
    let pref = preference(db.store.clone()).await;
    assert!(!wants_email(pref, NotificationKind::SyncRestored) && wants_email(pref, NotificationKind::SyncIssue));

    rpc::<SetPreference>(&base, &cookie, "preference=none").await;
    let pref = preference(db.store.clone()).await;
    assert!(!wants_email(pref, NotificationKind::SyncIssue));
    assert_eq!(db.store.email_preference(a, ann).await.unwrap(), EmailPreference::None);

    let bogus = rpc::<SetPreference>(&base, &cookie, "preference=sometimes").await;
    assert_ne!(bogus.status(), StatusCode::OK);
    assert_eq!(db.store.email_preference(a, ann).await.unwrap(), EmailPreference::None);
    // Saving the same value again changes nothing and is not audited twice.
    rpc::<SetPreference>(&base, &cookie, "preference=none").await;

    let changes: Vec<String> = db
        .store
        .audit_log(a, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.as_str() == "user.email_preference")
        .filter_map(|e| e.detail)
        .collect();
    assert_eq!(changes, ["email notifications: issues → none", "email notifications: all → issues"]);

    let page =
        client().get(format!("{base}/account")).header(COOKIE, &cookie).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("ann@alpha.example") && page.contains(r#"data-testid="email-preference""#), "{page}");
});

/// Emoji and their variation selector: whether they show depends on the
/// viewer's fonts, so no page may use them (icons are inline SVG).
fn emoji_in(html: &str) -> Vec<char> {
    html.chars()
        .filter(|c| {
            matches!(*c as u32,
                0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x231A..=0x23FF | 0xFE0F | 0x2139)
        })
        .collect()
}

/// Elements a browser would not keep where the server put them (a block
/// inside `<p>` or `<span>`, `<a>` inside `<a>`): hydration then meets
/// different markup than the server sent. A small scan of the tags, enough
/// for the HTML our components write.
fn misnested(html: &str) -> Vec<String> {
    const VOID: &[&str] = &["meta", "link", "input", "br", "img", "hr", "path", "source", "col", "wbr", "area"];
    const BLOCK: &[&str] =
        &["div", "p", "ul", "ol", "li", "form", "details", "section", "table", "h1", "h2", "h3", "nav", "header", "dl"];
    let body = html.split_once("<body").map_or(html, |(_, b)| b);
    let mut stack: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if rest.starts_with("!--") {
            rest = rest.split_once("-->").map_or("", |(_, r)| r);
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = &rest[end.min(rest.len())..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() || name == "script" || name == "template" {
            if name == "script" && !closing {
                rest = rest.split_once("</script>").map_or("", |(_, r)| r);
            }
            continue;
        }
        if closing {
            if let Some(at) = stack.iter().rposition(|open| *open == name) {
                stack.truncate(at);
            }
            continue;
        }
        if VOID.contains(&name.as_str()) || tag.ends_with('/') {
            continue;
        }
        let inside_phrase = stack.iter().rev().find(|t| *t == "p" || *t == "span");
        if BLOCK.contains(&name.as_str()) {
            if let Some(outer) = inside_phrase {
                problems.push(format!("<{name}> inside <{outer}>"));
            }
        }
        if name == "a" && stack.iter().any(|t| t == "a") {
            problems.push("<a> inside <a>".into());
        }
        stack.push(name);
    }
    problems
}

/// The page's text as a person reads it: tags become nothing, as in the
/// browser's text (so labels that run together show here too).
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

on_both_backends!(the_feed_reads_like_the_seeds_in_app_notification, |db| async move {
    use chrono::Duration as Span;

    let w = support::world(db.store.clone()).await;
    let tom = w.appointment(w.org.id, "Tom Klein", None, 2).await;
    let lisa = w.appointment(w.org.id, "Lisa Braun", Some("uid-lisa"), 3).await;
    let now = Utc::now();
    let note = |kind, severity, title: &str, body: &str, appointment| NewNotification {
        kind,
        severity,
        title: title.into(),
        body: body.into(),
        appointment_id: appointment,
        issue_id: None,
        dedupe_key: None,
    };
    let restored = note(
        NotificationKind::SyncRestored,
        Severity::Info,
        "Sync Restored",
        "5 appointments successfully verified",
        None,
    );
    w.store.notify(w.org.id, &restored, now - Span::hours(26)).await.unwrap();
    let failed = note(
        NotificationKind::VerificationFailed,
        Severity::Error,
        "Sync Verification Failed",
        &format!("Appointment #{} verification failed\nReason: API Timeout │ Retrying in 3h (13.10 16:00)", lisa.id),
        Some(lisa.id),
    );
    w.store.notify(w.org.id, &failed, now - Span::hours(5)).await.unwrap();
    let issue = note(
        NotificationKind::SyncIssue,
        Severity::Warning,
        "Cal.com Sync Issue",
        &format!("Appointment #{} requires manual review\nCustomer: Tom Klein │ Time: 13.10 10:00", tom.id),
        Some(tom.id),
    );
    w.store.notify(w.org.id, &issue, now - Span::hours(2)).await.unwrap();
    let cookie = w.login(support::ADMIN).await;

    let (status, html) = w.page(&cookie, "/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches(r#"data-testid="notification""#).count(), 3, "{html}");
    for ago in ["2 hours ago", "5 hours ago", "1 day ago"] {
        assert!(html.contains(ago), "{ago}: {html}");
    }
    // The absolute time in the organization's zone on hover, the instant for machines.
    assert!(html.contains("<time") && html.contains(" datetime=\"") && html.contains(" title=\""), "{html}");
    assert!(html.contains(" CET\"") || html.contains(" CEST\""), "Berlin time in the title: {html}");
    // Each kind has its icon, an inline SVG, hidden from screen readers next to words.
    for icon in ["icon-warning", "icon-cross", "icon-check", "icon-bell", "icon-arrow-right"] {
        assert!(html.contains(&format!("class=\"icon {icon}\"")), "{icon}: {html}");
    }
    assert!(html.contains(r#"aria-hidden="true" focusable="false""#), "{html}");
    // "→ Review now" to the appointment, "→ View details" for a failed verification and a run.
    assert!(
        html.contains(&format!(
            r#"href="/appointments/{}" data-testid="notification-action" class="notification-action">Review now"#,
            tom.id
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"href="/appointments/{}" data-testid="notification-action" class="notification-action">View details"#,
            lisa.id
        )),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/runs" data-testid="notification-action" class="notification-action">View details"#),
        "{html}"
    );
    // Words do not run together, and every line of detail is its own.
    let text = text_of(&html);
    assert!(text.contains("Verification failed: Sync Verification Failed"), "{text}");
    assert!(!text.contains("failederror") && !text.contains("FailedNew"), "{text}");
    assert!(
        html.contains(r#"<p class="notification-line">Reason: API Timeout │ Retrying in 3h (13.10 16:00)<"#),
        "{html}"
    );
    // Unread and read look different (and say so).
    assert_eq!(html.matches(r#"class="unread-tag""#).count(), 3 * 2, "the page's three and the bell's three: {html}");

    // The bell's list in the header: the same three, compact, with a link to all.
    assert!(html.contains(r#"data-testid="bell-list""#) && html.contains(r#"data-testid="bell-all""#), "{html}");
    assert_eq!(html.matches(r#"data-testid="bell-notification""#).count(), 3, "{html}");

    // Once read: no "New" any more, on the page or in the bell.
    assert_eq!(rpc::<MarkAll>(&w.base, &cookie, "").await.status(), StatusCode::OK);
    let (_, html) = w.page(&cookie, "/notifications").await;
    assert!(!html.contains(r#"class="unread-tag""#) && html.contains(r#"class="notification severity-warning read""#));

    // No page uses emoji, and none has markup a browser would move.
    assert_eq!(misnested("<p>a<div>b</div></p><a><span><a>c</a></span></a>"), ["<div> inside <p>", "<a> inside <a>"]);
    let pages = [
        "/".to_owned(),
        "/appointments".into(),
        format!("/appointments/{}", tom.id),
        "/review".into(),
        "/runs".into(),
        "/sync-health".into(),
        "/notifications".into(),
        "/account".into(),
        "/settings".into(),
        "/settings/alerts".into(),
        "/audit".into(),
    ];
    for path in &pages {
        let (status, html) = w.page(&cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(emoji_in(&html), Vec::<char>::new(), "{path}");
        assert_eq!(misnested(&html), Vec::<String>::new(), "{path}");
        assert!(html.contains("icon-bell"), "{path}: the bell is an SVG");
    }
    // The header: the links, then the bell and the user menu (a <details>
    // holding role, organization, account and logout); nothing signed out.
    let (_, home) = w.page(&cookie, "/").await;
    // (Streamed: the header's part may come in a later chunk than `<header>`.)
    let header = home.split_once("class=\"main-nav\"").map(|(_, h)| h).unwrap_or_else(|| panic!("{home}"));
    let order = ["href=\"/appointments\"", "href=\"/settings\"", "data-testid=\"bell\"", "data-testid=\"user-menu\""];
    let at: Vec<usize> = order.iter().map(|s| header.find(s).unwrap_or_else(|| panic!("{s}: {header}"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{header}");
    let menu = header.split_once("data-testid=\"user-menu\"").unwrap().1;
    assert!(menu.contains("<summary") && menu.contains("Jane Admin") && menu.contains("Salon Schmidt"), "{menu}");
    assert!(menu.contains("action=\"/logout\"") && menu.contains("href=\"/account\""), "{menu}");
    let (_, login) = w.page("", "/login").await;
    assert!(!login.contains("data-testid=\"bell\"") && !login.contains("user-menu"), "{login}");

    // The header marks the section being shown.
    let (_, runs) = w.page(&cookie, "/runs").await;
    assert!(runs.contains(r#"<a href="/runs" aria-current="page">"#), "{runs}");
    let (_, review) = w.page(&cookie, &format!("/appointments/{}", tom.id)).await;
    assert!(review.contains(r#"<a href="/appointments" aria-current="page">"#), "{review}");
    assert!(!review.contains(r#"<a href="/" aria-current="page">"#), "{review}");
});
