//! API tokens against real databases: only hashes stored, org-scoped,
//! revocation immediate, creation and revocation audited.

use chrono::{Duration, TimeZone, Utc};
use engine::domain::{OrgId, TokenName};
use engine::on_both_backends;
use engine::store::{NewOrganization, Store, StoreError};
use sqlx::Row;

async fn org(store: &Store, slug: &str) -> OrgId {
    let new = NewOrganization { slug: slug.into(), name: slug.into(), time_zone: chrono_tz::Europe::Berlin };
    store.create_organization(&new, Utc::now()).await.unwrap().id
}

on_both_backends!(tokens_are_hashed_scoped_revocable_and_audited, |db| async move {
    let store = &db.store;
    let now = Utc.with_ymd_and_hms(2025, 10, 11, 12, 0, 0).unwrap();
    let (a, b) = (org(store, "a").await, org(store, "b").await);
    let issued = store.create_api_token(a, &TokenName::parse(" crm ").unwrap(), None, now).await.unwrap();
    assert!(engine::api_token::is_well_formed(&issued.secret));
    assert_eq!(issued.token.name, "crm");
    assert!(!format!("{issued:?}").contains(&issued.secret), "Debug hides the secret");

    let stored: String = sqlx::query("SELECT token_hash FROM api_tokens").fetch_one(store.pool()).await.unwrap().get(0);
    assert_eq!(stored, engine::api_token::hash(&issued.secret));
    assert_ne!(stored, issued.secret);

    let found = store.authenticate_api_token(&issued.secret, now).await.unwrap().unwrap();
    assert_eq!((found.id, found.org_id, found.last_used_at), (issued.token.id, a, Some(now)));
    let later = now + Duration::seconds(10);
    let again = store.authenticate_api_token(&issued.secret, later).await.unwrap().unwrap();
    assert_eq!(again.last_used_at, Some(now), "last_used_at is written at most once a minute");
    assert!(store.authenticate_api_token(&engine::api_token::generate(), now).await.unwrap().is_none());
    assert!(store.authenticate_api_token("nonsense", now).await.unwrap().is_none());

    assert_eq!(store.api_tokens(a).await.unwrap().len(), 1);
    assert!(store.api_tokens(b).await.unwrap().is_empty());
    assert!(matches!(store.revoke_api_token(b, issued.token.id, None, now).await, Err(StoreError::NotFound(_))));

    let revoked = store.revoke_api_token(a, issued.token.id, None, later).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(later));
    assert!(store.authenticate_api_token(&issued.secret, later).await.unwrap().is_none());
    assert!(matches!(store.revoke_api_token(a, issued.token.id, None, later).await, Err(StoreError::Conflict(_))));

    let actions: Vec<String> =
        store.audit_log(a, 10).await.unwrap().into_iter().map(|e| e.action.to_string()).collect();
    assert_eq!(actions, ["api_token.revoke", "api_token.create"]);
    assert!(store.audit_log(a, 10).await.unwrap().iter().all(|e| !e
        .detail
        .clone()
        .unwrap_or_default()
        .contains(&issued.secret)));
});
