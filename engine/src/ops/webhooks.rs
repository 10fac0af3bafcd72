//! Cal.com's webhook deliveries, received: the organization named in the
//! URL, the signature checked against its secret, the delivery stored in
//! the inbox in one insert. Cal.com delivers once and gives up on slow
//! receivers, so nothing here waits on Cal.com; the worker acts on the
//! inbox (`verify::hints`).

use super::{OpError, Operations};
use crate::calcom::CalcomConnector;
use crate::store::{NewDelivery, StoreError};
use crate::webhooks::{authenticate, WebhookError};

pub use crate::store::Stored;

/// What arrived, as the HTTP adapter read it.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    /// The organization's slug from the URL.
    pub slug: &'a str,
    /// Cal.com's signature header, if any.
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

impl Operations {
    /// Stores the delivery, or refuses it with nothing stored: an unknown
    /// organization, no secret on either side, a bad signature, a body
    /// that is not JSON. A replay (the same body again) is counted, not
    /// stored twice.
    pub async fn receive_webhook(&self, connector: &CalcomConnector, arrival: Arrival<'_>) -> Result<Stored, OpError> {
        let org = self.store.organization_by_slug(arrival.slug).await.map_err(|e| match e {
            StoreError::NotFound(_) => OpError::NotFound("organization"),
            other => other.into(),
        })?;
        let Some(secret) = connector.webhook_secret(org.id).await else {
            tracing::warn!(org = %org.slug, "webhook refused: no webhook secret is configured in calsync");
            return Err(OpError::Unauthenticated("webhooks are not configured for this organization".into()));
        };
        let hint = authenticate(secret.as_bytes(), arrival.signature, arrival.body).map_err(|err| {
            tracing::warn!(org = %org.slug, error = %err, "webhook refused{}", advice(&err));
            refusal(err)
        })?;
        let new = NewDelivery {
            body_sha256: hint.body_sha256,
            trigger: hint.trigger_name,
            uid: hint.uid,
            previous_uid: hint.previous_uid,
            sent_at: hint.sent_at,
        };
        Ok(self.store.store_delivery(org.id, &new, self.now()).await?)
    }
}

/// What the operator should do, for the log.
fn advice(err: &WebhookError) -> &'static str {
    match err {
        WebhookError::NoSecretProvided => {
            ": Cal.com sent it without a secret (signature \"no-secret-provided\"); in Cal.com's webhook settings \
             for this subscriber, set the same secret as calsync's webhook secret (Settings → Cal.com connection)"
        }
        _ => "",
    }
}

/// The words Cal.com's delivery log shows the sender.
fn refusal(err: WebhookError) -> OpError {
    match err {
        WebhookError::NoSecretProvided => OpError::Unauthenticated(
            "this webhook has no secret in Cal.com: set calsync's webhook secret in Cal.com's webhook settings".into(),
        ),
        err @ (WebhookError::MissingSignature | WebhookError::BadSignature) => {
            OpError::Unauthenticated(err.to_string())
        }
        err @ WebhookError::Malformed(_) => OpError::Malformed(err.to_string()),
    }
}
