//! `POST /webhooks/calcom/{org}`: Cal.com's deliveries for one organization.
//!
//! Cal.com delivers once and gives up on slow or failing receivers, so the
//! answer never waits on Cal.com: the signature is checked against the
//! organization's secret, the delivery is stored in the inbox in one
//! insert, and 200 goes back. The worker acts on it within moments
//! (`verify::hints`), coalescing bursts. Bad input is refused and nothing is
//! stored: no or bad signature 401, a body over the limit 413, malformed
//! JSON 400, an unknown organization 404.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use engine::calcom::webhook::SIGNATURE_HEADER;
use engine::store::{NewDelivery, StoreError, Stored};
use engine::webhooks::{authenticate, WebhookError};
use serde_json::{json, Value};

use crate::state::AppState;

/// Cal.com's payloads are a few kilobytes; anything far larger is not one.
pub const MAX_BODY: usize = 256 * 1024;

type Reply = (StatusCode, Json<Value>);

fn reply(status: StatusCode, body: Value) -> Reply {
    (status, Json(body))
}

pub async fn receive(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let error = format!("the body could not be read: {}", rejection.body_text());
            return reply(rejection.status(), json!({ "error": error }));
        }
    };
    let org = match state.store.organization_by_slug(&slug).await {
        Ok(org) => org,
        Err(StoreError::NotFound(_)) => {
            return reply(StatusCode::NOT_FOUND, json!({ "error": "unknown organization" }))
        }
        Err(err) => return internal(err),
    };
    let Some(secret) = state.connector.webhook_secret(org.id).await else {
        tracing::warn!(org = %org.slug, "webhook refused: no webhook secret is configured in calsync");
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "webhooks are not configured for this organization" }),
        );
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let hint = match authenticate(secret.as_bytes(), signature, &body) {
        Ok(hint) => hint,
        Err(WebhookError::NoSecretProvided) => {
            tracing::warn!(
                org = %org.slug,
                "webhook refused: Cal.com sent it without a secret (signature \"no-secret-provided\"); in Cal.com's \
                 webhook settings for this subscriber, set the same secret as calsync's webhook secret (Settings → \
                 Cal.com connection)"
            );
            let error =
                "this webhook has no secret in Cal.com: set calsync's webhook secret in Cal.com's webhook settings";
            return reply(StatusCode::UNAUTHORIZED, json!({ "error": error }));
        }
        Err(err @ (WebhookError::MissingSignature | WebhookError::BadSignature)) => {
            tracing::warn!(org = %org.slug, error = %err, "webhook refused");
            return reply(StatusCode::UNAUTHORIZED, json!({ "error": err.to_string() }));
        }
        Err(err @ WebhookError::Malformed(_)) => {
            return reply(StatusCode::BAD_REQUEST, json!({ "error": err.to_string() }))
        }
    };
    let new = NewDelivery {
        body_sha256: hint.body_sha256.clone(),
        trigger: hint.trigger_name.clone(),
        uid: hint.uid.clone(),
        previous_uid: hint.previous_uid.clone(),
        sent_at: hint.sent_at,
    };
    match state.store.store_delivery(org.id, &new, chrono::Utc::now()).await {
        Ok(Stored::New(id)) => {
            state.wake_inbox.wake();
            reply(StatusCode::OK, json!({ "status": "accepted", "delivery": id }))
        }
        Ok(Stored::Replay(id)) => reply(StatusCode::OK, json!({ "status": "replay", "delivery": id })),
        Err(err) => internal(err),
    }
}

fn internal(err: StoreError) -> Reply {
    // Nothing was stored: Cal.com's delivery is lost, like any failed one;
    // the 6-hour cycle still finds the change.
    tracing::error!(error = %err, "storing a webhook delivery failed");
    reply(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "internal error" }))
}
