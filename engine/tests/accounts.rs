//! Accounts, sessions and login failures in the store, on both backends.

use chrono::{Duration, TimeZone, Utc};
use engine::domain::{OrgId, Role};
use engine::on_both_backends;
use engine::store::{NewOrganization, NewUser, Store, StoreError};

async fn org(store: &Store, slug: &str) -> OrgId {
    let new = NewOrganization { slug: slug.into(), name: slug.into(), time_zone: chrono_tz::UTC };
    store.create_organization(&new, Utc::now()).await.unwrap().id
}

fn user(email: &str, role: Role) -> NewUser {
    NewUser { email: email.into(), name: "Ann Admin".into(), role, password_hash: "$argon2id$fake".into() }
}

on_both_backends!(users_are_unique_by_email_and_scoped_by_org, |db| async move {
    let a = org(&db.store, "a").await;
    let b = org(&db.store, "b").await;
    let ann = db.store.create_user(a, &user("Ann@Example.com ", Role::Admin), Utc::now()).await.unwrap();
    assert_eq!(ann.email, "ann@example.com");
    assert_eq!(ann.role, Role::Admin);
    let again = db.store.create_user(b, &user("ann@example.com", Role::Viewer), Utc::now()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    assert_eq!(db.store.user_by_email("ANN@example.com").await.unwrap().unwrap().id, ann.id);
    assert!(db.store.user_by_email("nobody@example.com").await.unwrap().is_none());
    assert_eq!(db.store.user(a, ann.id).await.unwrap(), ann);
    assert!(matches!(db.store.user(b, ann.id).await, Err(StoreError::NotFound(_))), "another org's user is not found");
    let creds = db.store.credentials_by_email("ann@example.com").await.unwrap().unwrap();
    assert_eq!(creds.password_hash, "$argon2id$fake");
    assert!(!format!("{creds:?}").contains("argon2"), "Debug hides the hash");
});

on_both_backends!(sessions_expire_and_ids_are_not_stored_in_clear, |db| async move {
    let now = Utc.with_ymd_and_hms(2025, 10, 11, 12, 0, 0).unwrap();
    assert!(db.store.insert_session("sid-1", "{}", now + Duration::hours(1)).await.unwrap());
    assert!(!db.store.insert_session("sid-1", "{}", now + Duration::hours(1)).await.unwrap(), "collision reported");
    db.store.upsert_session("sid-1", r#"{"a":1}"#, now + Duration::hours(1)).await.unwrap();
    assert_eq!(db.store.load_session("sid-1", now).await.unwrap().as_deref(), Some(r#"{"a":1}"#));
    assert_eq!(db.store.load_session("sid-1", now + Duration::hours(2)).await.unwrap(), None, "expired");
    let raw: Option<String> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE id = 'sid-1'").fetch_optional(db.store.pool()).await.unwrap();
    assert_eq!(raw, None, "only a digest of the id is stored");
    assert_eq!(db.store.delete_expired_sessions(now + Duration::hours(2)).await.unwrap(), 1);
    assert_eq!(db.store.load_session("sid-1", now).await.unwrap(), None);
});

on_both_backends!(login_failures_count_within_a_window, |db| async move {
    let now = Utc.with_ymd_and_hms(2025, 10, 11, 12, 0, 0).unwrap();
    for minutes in [20, 10, 5] {
        let at = now - Duration::minutes(minutes);
        db.store.record_login_failure(&["email:a", "ip:1"], at, at - Duration::minutes(30)).await.unwrap();
    }
    let count = db.store.login_failures_since("email:a", now - Duration::minutes(15)).await.unwrap();
    assert_eq!(count.count, 2);
    assert_eq!(count.oldest, Some(now - Duration::minutes(10)));
    db.store.clear_login_failures("email:a").await.unwrap();
    assert_eq!(db.store.login_failures_since("email:a", now - Duration::hours(1)).await.unwrap().count, 0);
    assert_eq!(
        db.store.login_failures_since("ip:1", now - Duration::hours(1)).await.unwrap().count,
        3,
        "other subjects kept"
    );
});
