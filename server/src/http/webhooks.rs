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
use engine::ops::webhooks::{Arrival, Stored};
use engine::ops::OpError;
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
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let arrival = Arrival { slug: &slug, signature, body: &body };
    match state.ops.receive_webhook(&state.connector, arrival).await {
        Ok(Stored::New(id)) => {
            state.wake_inbox.wake();
            reply(StatusCode::OK, json!({ "status": "accepted", "delivery": id }))
        }
        Ok(Stored::Replay(id)) => reply(StatusCode::OK, json!({ "status": "replay", "delivery": id })),
        Err(err) => refused(err),
    }
}

/// Nothing was stored. Cal.com shows the sender our words in its delivery
/// log; after a 5xx the delivery is lost like any failed one, and the
/// 6-hour cycle still finds the change.
fn refused(err: OpError) -> Reply {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let words = match err {
        OpError::NotFound(_) => "unknown organization".to_owned(),
        OpError::Internal(cause) => {
            tracing::error!(error = %cause, "storing a webhook delivery failed");
            "internal error".to_owned()
        }
        other => other.to_string(),
    };
    reply(status, json!({ "error": words }))
}
