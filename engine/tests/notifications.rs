//! The notification feed on both databases: dedupe, per-user read state,
//! organization scoping.

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::domain::{NotificationId, OrgId, UserId};
use engine::on_both_backends;
use engine::store::{NewNotification, NewOrganization, NotificationKind, Severity, Store};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 11, 14, 30, 0).unwrap()
}

async fn org(store: &Store, slug: &str) -> OrgId {
    let new = NewOrganization { slug: slug.into(), name: slug.into(), time_zone: chrono_tz::Europe::Berlin };
    store.create_organization(&new, now()).await.unwrap().id
}

/// Users are created by the accounts service; a bare row is enough here.
async fn user(store: &Store, org: OrgId, email: &str) -> UserId {
    let row = sqlx::query(
        "INSERT INTO users (org_id, email, name, role, password_hash, created_at) VALUES ($1, $2, 'U', 'admin', 'x', 0) RETURNING id",
    )
    .bind(org.get())
    .bind(email)
    .fetch_one(store.pool())
    .await
    .unwrap();
    UserId(sqlx::Row::get::<i64, _>(&row, "id"))
}

fn issue_note(key: &str) -> NewNotification {
    NewNotification {
        kind: NotificationKind::SyncIssue,
        severity: Severity::Warning,
        title: "Cal.com Sync Issue".into(),
        body: "Appointment #1236 requires manual review".into(),
        appointment_id: None,
        issue_id: None,
        dedupe_key: Some(key.into()),
    }
}

on_both_backends!(the_same_key_notifies_once, |db| async move {
    let store = &db.store;
    let org = org(store, "a").await;
    let first = store.notify(org, &issue_note("issue:1"), now()).await.unwrap();
    assert!(first.is_some());
    assert_eq!(store.notify(org, &issue_note("issue:1"), now()).await.unwrap(), None);
    let other_org = self::org(store, "b").await;
    assert!(
        store.notify(other_org, &issue_note("issue:1"), now()).await.unwrap().is_some(),
        "keys are per organization"
    );
    let unkeyed = NewNotification { dedupe_key: None, ..issue_note("") };
    assert!(store.notify(org, &unkeyed, now()).await.unwrap().is_some());
    assert!(store.notify(org, &unkeyed, now()).await.unwrap().is_some(), "no key, no dedupe");
});

on_both_backends!(read_state_is_per_user, |db| async move {
    let store = &db.store;
    let org = org(store, "a").await;
    let (anna, tom) = (user(store, org, "anna@x.de").await, user(store, org, "tom@x.de").await);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            store.notify(org, &issue_note(&format!("k{i}")), now() + Duration::minutes(i)).await.unwrap().unwrap(),
        );
    }
    assert_eq!(store.unread_count(org, anna).await.unwrap(), 3);
    assert!(store.mark_read(org, anna, ids[0], now()).await.unwrap());
    assert!(store.mark_read(org, anna, ids[0], now()).await.unwrap(), "marking twice is fine");
    assert_eq!(store.unread_count(org, anna).await.unwrap(), 2);
    assert_eq!(store.unread_count(org, tom).await.unwrap(), 3);

    let feed = store.notifications_for(org, anna, false, 10).await.unwrap();
    assert_eq!(
        feed.iter().map(|n| (n.id, n.read)).collect::<Vec<_>>(),
        [(ids[2], false), (ids[1], false), (ids[0], true)]
    );
    let unread = store.notifications_for(org, anna, true, 10).await.unwrap();
    assert_eq!(unread.len(), 2);

    assert_eq!(store.mark_all_read(org, anna, now()).await.unwrap(), 2);
    assert_eq!(store.unread_count(org, anna).await.unwrap(), 0);
    assert_eq!(store.unread_count(org, tom).await.unwrap(), 3);
});

on_both_backends!(nobody_reads_or_marks_another_organizations_feed, |db| async move {
    let store = &db.store;
    let (a, b) = (org(store, "a").await, org(store, "b").await);
    let intruder = user(store, b, "eve@x.de").await;
    let id = store.notify(a, &issue_note("k"), now()).await.unwrap().unwrap();
    assert!(store.notifications_for(b, intruder, false, 10).await.unwrap().is_empty());
    assert!(!store.mark_read(b, intruder, id, now()).await.unwrap());
    assert!(!store.mark_read(a, intruder, NotificationId(999_999), now()).await.unwrap());
    assert_eq!(store.mark_all_read(b, intruder, now()).await.unwrap(), 0);
});

on_both_backends!(a_notification_and_its_emails_are_written_together_or_not_at_all, |db| async move {
    let store = &db.store;
    let org = org(store, "a").await;
    let ann = user(store, org, "ann@example.com").await;
    let email = |to: &str| engine::store::NewEmail {
        notification_id: None,
        user_id: Some(ann),
        to: to.into(),
        subject: "Cal.com Sync Issue".into(),
        text_body: "text".into(),
        html_body: "<p>html</p>".into(),
    };
    let queued = "SELECT COUNT(*) AS n FROM email_outbox WHERE org_id = $1 AND notification_id = $2";
    let count = |id: NotificationId| async move {
        let row = sqlx::query(queued).bind(org.get()).bind(id.get()).fetch_one(store.pool()).await.unwrap();
        sqlx::Row::get::<i64, _>(&row, "n")
    };
    let first = store.notify_with_emails(org, &issue_note("issue:7"), vec![email("ann@example.com")], now()).await;
    let first = first.unwrap().expect("a new notification");
    assert_eq!(count(first).await, 1, "its email is queued with it, tied to it");
    // The same notification again (a retry after a crash): nothing more is queued.
    let again = store.notify_with_emails(org, &issue_note("issue:7"), vec![email("ann@example.com")], now()).await;
    assert_eq!(again.unwrap(), None);
    let all = sqlx::query("SELECT COUNT(*) AS n FROM email_outbox WHERE org_id = $1")
        .bind(org.get())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sqlx::Row::get::<i64, _>(&all, "n"), 1);
});
