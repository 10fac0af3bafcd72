//! `POST /webhooks/calcom/{org}`: Cal.com's deliveries for one organization.
//!
//! A delivery is only a hint. Its signature is checked against the
//! organization's secret before anything is stored; then the bookings it
//! names are re-read from Cal.com and their appointments re-verified. The
//! work runs in its own task so a sender that hangs up does not cut a
//! verification in half.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use engine::calcom::webhook::{NO_SECRET_PROVIDED, SIGNATURE_HEADER};
use engine::store::StoreError;
use engine::verify::hints::HintOutcome;
use engine::webhooks::{authenticate, WebhookError};
use serde_json::{json, Value};

use crate::commands::AppState;

type Reply = (StatusCode, Json<Value>);

fn reply(status: StatusCode, body: Value) -> Reply {
    (status, Json(body))
}

pub async fn receive(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let org = match state.store.organization_by_slug(&slug).await {
        Ok(org) => org,
        Err(StoreError::NotFound(_)) => {
            return reply(StatusCode::NOT_FOUND, json!({ "error": "unknown organization" }))
        }
        Err(err) => return internal(err),
    };
    let (secret, client) = state.connector.webhook_access(org.id).await;
    let Some(secret) = secret else {
        tracing::warn!(org = %org.slug, "webhook refused: no webhook secret is configured");
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "webhooks are not configured for this organization" }),
        );
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if signature.map(str::trim) == Some(NO_SECRET_PROVIDED) {
        tracing::warn!(
            org = %org.slug,
            "webhook refused: Cal.com sent it without a secret (signature \"{NO_SECRET_PROVIDED}\"); in Cal.com's \
             webhook settings for this subscriber, set the same secret as calsync's webhook secret (Settings → \
             Cal.com connection)"
        );
        let error = "this webhook has no secret in Cal.com: set calsync's webhook secret in Cal.com's webhook settings";
        return reply(StatusCode::UNAUTHORIZED, json!({ "error": error }));
    }
    let hint = match authenticate(secret.as_bytes(), signature, &body) {
        Ok(hint) => hint,
        Err(err @ (WebhookError::MissingSignature | WebhookError::BadSignature)) => {
            tracing::warn!(org = %org.slug, error = %err, "webhook refused");
            return reply(StatusCode::UNAUTHORIZED, json!({ "error": err.to_string() }));
        }
        Err(err @ WebhookError::Malformed(_)) => {
            return reply(StatusCode::BAD_REQUEST, json!({ "error": err.to_string() }))
        }
    };
    let Some(client) = client else {
        tracing::warn!(org = %org.slug, "webhook not acted on: no usable Cal.com API key");
        return reply(StatusCode::ACCEPTED, json!({ "status": "not_connected" }));
    };
    let verifier = state.verifier.clone();
    let org_id = org.id;
    let work = tokio::spawn(async move { verifier.handle_hint(&org, &client, &hint).await });
    let outcome = work.await;
    // Whatever the verification flagged is in the feed now: open pages
    // should not wait for the live feed's next tick to show it.
    state.live.nudge(org_id);
    match outcome {
        Ok(Ok(HintOutcome::Replay)) => reply(StatusCode::OK, json!({ "status": "replay" })),
        Ok(Ok(HintOutcome::Ignored)) => reply(StatusCode::OK, json!({ "status": "ignored" })),
        Ok(Ok(HintOutcome::Verified(done))) => {
            reply(StatusCode::OK, json!({ "status": "verified", "appointments": done.len() }))
        }
        Ok(Err(err)) => internal(err),
        Err(join) => {
            tracing::error!(error = %join, "webhook task failed");
            reply(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "internal error" }))
        }
    }
}

fn internal(err: StoreError) -> Reply {
    // Cal.com retries a failed delivery; the replay check makes that safe.
    tracing::error!(error = %err, "webhook handling failed");
    reply(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "internal error" }))
}
