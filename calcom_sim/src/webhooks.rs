//! Webhooks as Cal.com sends them: a change (made through the API, or
//! through the control API when asked to) is queued and POSTed by a
//! background task to every subscriber, signed with the subscriber's
//! secret. Best effort, like Cal.com: a failed delivery is counted and
//! logged, never retried.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::bookings::{Catalog, SimBooking};
use engine::calcom::webhook::{self, Trigger, WebhookEvent, WebhookLanguage, WebhookPayload, WebhookPerson};

/// A registered endpoint. The secret is kept for signing and for the state
/// file; it is never shown by the control API or Debug.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Subscriber {
    pub id: u64,
    pub subscriber_url: String,
    #[serde(default)]
    pub secret: Option<String>,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("id", &self.id)
            .field("subscriber_url", &self.subscriber_url)
            .field("has_secret", &self.secret.is_some())
            .finish()
    }
}

/// A subscriber as the control API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberInfo {
    pub id: u64,
    pub subscriber_url: String,
    pub has_secret: bool,
}

/// Something that happened to a booking.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub trigger: Trigger,
    pub booking: SimBooking,
    /// On reschedules: the booking as it was before.
    pub previous: Option<SimBooking>,
}

/// A signed (or unsigned) delivery ready to send.
struct Delivery {
    url: String,
    body: Vec<u8>,
    /// The `X-Cal-Signature-256` value: the HMAC, or Cal.com's literal
    /// `no-secret-provided` for a subscriber without a secret.
    signature: String,
}

pub(crate) struct WebhookHub {
    subscribers: Mutex<Vec<Subscriber>>,
    next_id: AtomicU64,
    queue: mpsc::UnboundedSender<Change>,
}

impl WebhookHub {
    pub fn new(subscribers: Vec<Subscriber>) -> (WebhookHub, mpsc::UnboundedReceiver<Change>) {
        let (queue, receiver) = mpsc::unbounded_channel();
        let next_id = subscribers.iter().map(|s| s.id).max().unwrap_or(0) + 1;
        let hub = WebhookHub { subscribers: Mutex::new(subscribers), next_id: AtomicU64::new(next_id), queue };
        (hub, receiver)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Subscriber>> {
        self.subscribers.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subscribe(&self, url: String, secret: Option<String>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push(Subscriber { id, subscriber_url: url, secret: secret.filter(|s| !s.is_empty()) });
        id
    }

    pub fn unsubscribe(&self, id: u64) -> bool {
        let mut subscribers = self.lock();
        let before = subscribers.len();
        subscribers.retain(|s| s.id != id);
        subscribers.len() != before
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn list(&self) -> Vec<SubscriberInfo> {
        self.lock()
            .iter()
            .map(|s| SubscriberInfo {
                id: s.id,
                subscriber_url: s.subscriber_url.clone(),
                has_secret: s.secret.is_some(),
            })
            .collect()
    }

    pub fn snapshot(&self) -> Vec<Subscriber> {
        self.lock().clone()
    }

    /// Queues a change for delivery (nothing happens without subscribers).
    pub fn emit(&self, change: Change) {
        if !self.lock().is_empty() {
            // Fails only once the delivery task is gone (shutdown): nothing to do then.
            let _ = self.queue.send(change);
        }
    }

    fn deliveries(&self, body: &[u8]) -> Vec<Delivery> {
        self.lock()
            .iter()
            .map(|s| Delivery {
                url: s.subscriber_url.clone(),
                body: body.to_vec(),
                signature: s.secret.as_ref().map_or_else(
                    || webhook::NO_SECRET_PROVIDED.to_owned(),
                    |secret| webhook::sign(secret.as_bytes(), body),
                ),
            })
            .collect()
    }
}

/// The webhook body for a change, as Cal.com shapes it.
pub(crate) fn event(change: &Change, catalog: &Catalog, now: DateTime<Utc>) -> WebhookEvent {
    let b = &change.booking;
    let host = &catalog.host;
    let person = |name: &str, email: &str, time_zone: &str, language: Option<&str>| WebhookPerson {
        id: None,
        name: name.to_owned(),
        email: email.to_owned(),
        username: None,
        time_zone: Some(time_zone.to_owned()),
        phone_number: None,
        language: Some(WebhookLanguage { locale: language.unwrap_or("en").to_owned() }),
    };
    let organizer = WebhookPerson {
        id: match host.id {
            engine::calcom::model::HostId::Number(id) => Some(id),
            engine::calcom::model::HostId::Text(_) => None,
        },
        username: host.username.clone(),
        ..person(
            host.name.as_deref().unwrap_or_default(),
            host.email.as_deref().unwrap_or_default(),
            host.time_zone.as_deref().unwrap_or("UTC"),
            None,
        )
    };
    let attendees = b
        .attendees
        .iter()
        .map(|a| WebhookPerson {
            phone_number: a.phone_number.clone(),
            ..person(&a.name, &a.email, &a.time_zone, a.language.as_deref())
        })
        .collect();
    let previous = change.previous.as_ref();
    WebhookEvent {
        trigger_event: change.trigger,
        created_at: now,
        payload: WebhookPayload {
            event_type_slug: catalog.event_type(b.event_type_id).map(|e| e.slug.clone()),
            title: Some(b.title.clone()),
            description: b.description.clone(),
            uid: Some(b.uid.clone()),
            booking_id: Some(b.id),
            event_type_id: Some(b.event_type_id),
            start_time: Some(b.start),
            end_time: Some(b.end),
            length: Some(b.duration_minutes()),
            organizer: Some(organizer),
            attendees,
            location: b.location.clone(),
            status: Some((&b.status).into()),
            metadata: b.metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<BTreeMap<_, _>>(),
            responses: responses(b),
            cancellation_reason: b.cancellation_reason.clone(),
            reschedule_uid: previous.map(|p| p.uid.clone()),
            reschedule_id: previous.map(|p| p.id),
            reschedule_start_time: previous.map(|p| p.start),
            reschedule_end_time: previous.map(|p| p.end),
        },
    }
}

/// The booking form's answers (`{"name": {"label", "value"}, …}`).
fn responses(b: &SimBooking) -> Map<String, Value> {
    let mut responses = Map::new();
    if let Some(a) = b.attendees.first() {
        responses.insert("name".into(), json!({"label": "your_name", "value": a.name}));
        responses.insert("email".into(), json!({"label": "email_address", "value": a.email}));
    }
    responses
}

/// Runs until the hub is dropped: renders each change once, POSTs it to
/// every subscriber in order, and reports each delivery's outcome.
pub(crate) async fn deliver_loop(
    mut changes: mpsc::UnboundedReceiver<Change>,
    sim: std::sync::Weak<super::server::Sim>,
) {
    let http = match reqwest::Client::builder().timeout(Duration::from_secs(5)).build() {
        Ok(http) => http,
        Err(e) => {
            tracing::error!(error = %e, "calcom-sim: no HTTP client for webhooks; none will be sent");
            return;
        }
    };
    while let Some(change) = changes.recv().await {
        let Some(sim) = sim.upgrade() else { return };
        let body = match serde_json::to_vec(&event(&change, &sim.catalog, sim.now())) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "calcom-sim: cannot render a webhook");
                continue;
            }
        };
        for delivery in sim.hub.deliveries(&body) {
            let delivered = send(&http, &delivery).await;
            if let Err(e) = &delivered {
                tracing::warn!(url = %delivery.url, error = %e, "calcom-sim: webhook not delivered");
            }
            sim.count_webhook(delivered.is_ok());
        }
    }
}

async fn send(http: &reqwest::Client, delivery: &Delivery) -> Result<(), String> {
    let mut request =
        http.post(&delivery.url).header(reqwest::header::CONTENT_TYPE, "application/json").body(delivery.body.clone());
    request = request.header("X-Cal-Signature-256", &delivery.signature);
    let response = request.send().await.map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", response.status()))
    }
}
