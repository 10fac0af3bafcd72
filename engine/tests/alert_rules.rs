//! Alert rules end to end on both databases: the throttle holds events
//! back for one digest, a recovery notice follows when the condition
//! clears, a threshold fires once per crossing, a rule turned off sends no
//! email, and the signed webhook reaches a real HTTP receiver (retried when
//! it refuses).

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::alerting::webhook::{self, DELIVERY_HEADER, SIGNATURE_HEADER};
use engine::alerting::{self, RuleKind, RuleSettings};
use engine::clock::{Clock, ManualClock};
use engine::domain::{AppointmentSource, AppointmentStatus, ErrorCode};
use engine::on_both_backends;
use engine::secret_key::SecretKey;
use engine::secrets::{seal, Purpose};
use engine::store::{
    AlertWebhookUpdate, Appointment, IssueSubject, NewAppointment, NewAuditEntry, NewIssue, NewOrganization,
    Organization, Resolution, Store,
};
use engine::verify::circuit::{CircuitConfig, Circuits};
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;
use engine::verify::source::SourceError;

mod support;
use support::FakeCalcom;

const SECRET: &str = "whsec_test";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap()
}

fn key() -> SecretKey {
    SecretKey::from_bytes([3; 32])
}

struct World {
    store: Store,
    org: Organization,
    clock: ManualClock,
    calcom: FakeCalcom,
    verifier: Verifier,
}

async fn world(store: Store) -> World {
    let new = NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin };
    let org = store.create_organization(&new, t0()).await.unwrap();
    sqlx::query(
        "INSERT INTO users (org_id, email, name, role, password_hash, created_at) VALUES ($1, 'jane@salon.de', 'Jane', 'admin', 'x', 0)",
    )
    .bind(org.id.get())
    .execute(store.pool())
    .await
    .unwrap();
    let clock = ManualClock::at(t0());
    let circuits = Arc::new(Circuits::new(CircuitConfig::default()));
    let verifier = Verifier::new(store.clone(), circuits, RetryLadder::default(), Arc::new(clock.clone()))
        .with_email("https://calsync.salon.de");
    World { store, org, clock, calcom: FakeCalcom::default(), verifier }
}

impl World {
    async fn rules(&self, rules: &[RuleSettings], url: Option<&str>) {
        let webhook = AlertWebhookUpdate {
            url: Some(url.map(str::to_owned)),
            secret_sealed: Some(seal(&key(), Purpose::AlertWebhookSecret(self.org.id), SECRET)),
        };
        let entry = NewAuditEntry {
            user_id: None,
            action: engine::domain::AuditAction::SettingsAlerts,
            target: None,
            detail: None,
            at: self.clock.now(),
        };
        self.store.save_alert_rules(self.org.id, rules, &webhook, &entry).await.unwrap();
    }

    async fn appointment(&self, name: &str, uid: &str) -> Appointment {
        let starts_at = t0() + Duration::days(2);
        let new = NewAppointment {
            external_id: None,
            customer_name: name.into(),
            customer_email: Some("tom@example.com".into()),
            customer_phone: None,
            service: "Herrenschnitt".into(),
            starts_at,
            ends_at: starts_at + Duration::minutes(30),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Retell,
            calcom_booking_uid: Some(uid.into()),
            calcom_event_type_id: None,
        };
        self.store.insert_appointment(self.org.id, &new, "test", self.clock.now()).await.unwrap()
    }

    async fn verify(&self, a: &Appointment) {
        let current = self.store.appointment(self.org.id, a.id).await.unwrap();
        self.verifier.verify_one(&self.org, &self.calcom, &current).await.unwrap();
    }

    async fn round(&self) -> alerting::dispatch::RoundReport {
        alerting::round(&self.store, Some("https://calsync.salon.de"), self.clock.now()).await.unwrap()
    }

    /// (kind, title, body) of the feed, oldest first.
    async fn feed(&self) -> Vec<(String, String, String)> {
        let rows = sqlx::query("SELECT kind, title, body FROM notifications WHERE org_id = $1 ORDER BY id")
            .bind(self.org.id.get())
            .fetch_all(self.store.pool())
            .await
            .unwrap();
        rows.iter()
            .map(|r| (sqlx::Row::get(r, "kind"), sqlx::Row::get(r, "title"), sqlx::Row::get(r, "body")))
            .collect()
    }

    async fn email_subjects(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT subject FROM email_outbox WHERE org_id = $1 ORDER BY id")
            .bind(self.org.id.get())
            .fetch_all(self.store.pool())
            .await
            .unwrap()
    }

    /// The queued webhooks' (type, text).
    async fn webhooks(&self) -> Vec<(String, String)> {
        let payloads: Vec<String> =
            sqlx::query_scalar("SELECT payload FROM alert_webhooks WHERE org_id = $1 ORDER BY id")
                .bind(self.org.id.get())
                .fetch_all(self.store.pool())
                .await
                .unwrap();
        payloads
            .iter()
            .map(|p| {
                let v: serde_json::Value = serde_json::from_str(p).unwrap();
                (v["type"].as_str().unwrap().to_owned(), v["text"].as_str().unwrap().to_owned())
            })
            .collect()
    }
}

fn rule(kind: RuleKind, throttle_minutes: u32) -> RuleSettings {
    RuleSettings {
        enabled: true,
        throttle_minutes,
        by_email: true,
        by_webhook: true,
        ..RuleSettings::default_for(kind)
    }
}

on_both_backends!(first_failures_past_the_throttle_wait_for_one_digest_then_a_recovery_notice, |db| async move {
    let w = world(db.store.clone()).await;
    w.rules(&[rule(RuleKind::FirstFailure, 60)], Some("http://127.0.0.1:9/hook")).await;
    let appointments = [
        w.appointment("Anna Berg", "u1").await,
        w.appointment("Tom Klein", "u2").await,
        w.appointment("Eva Roth", "u3").await,
    ];
    for (i, a) in appointments.iter().enumerate() {
        w.calcom.put(support::booking(&format!("u{}", i + 1), a.starts_at, "tom@example.com"));
    }
    w.calcom.fail_with(Some(SourceError::Transient("HTTP 503".into())));
    for a in &appointments {
        w.verify(a).await;
        w.clock.advance(Duration::minutes(1));
    }
    let feed = w.feed().await;
    assert_eq!(feed.len(), 1, "one alert, the other two held back: {feed:?}");
    assert_eq!(feed[0].1, "Alert: A verification fails for the first time");
    assert!(
        feed[0].2.starts_with(&format!(
            "Appointment #{} (Anna Berg, 05.12 10:00): HTTP 503. Retrying in",
            appointments[0].id
        )),
        "{}",
        feed[0].2
    );
    assert_eq!(w.email_subjects().await, ["calsync: Alert: A verification fails for the first time"]);
    assert_eq!(w.webhooks().await.len(), 1);
    let held = w.store.alert_rule(w.org.id, RuleKind::FirstFailure).await.unwrap();
    assert_eq!(held.held, 2);

    w.clock.advance(Duration::minutes(30));
    assert_eq!(w.round().await, Default::default(), "within the hour the throttle holds");
    w.clock.advance(Duration::minutes(28));
    let report = w.round().await;
    assert_eq!(report.digests, 1, "{report:?}");
    let feed = w.feed().await;
    let (_, title, body) = &feed[1];
    assert_eq!(title, "Alert digest: A verification fails for the first time");
    assert!(
        body.starts_with("2 more events since 03.12 10:00, held back by the rule's limit of one alert per 60 min:"),
        "{body}"
    );
    assert!(body.contains("Tom Klein") && body.contains("Eva Roth") && !body.contains("Anna Berg"), "{body}");
    assert_eq!(w.email_subjects().await.len(), 2);
    assert_eq!(w.round().await, Default::default(), "a digest goes once");

    // Cal.com answers again: the condition clears, one recovery notice.
    w.calcom.fail_with(None);
    for a in &appointments {
        w.verify(a).await;
    }
    assert_eq!(w.round().await.recovered, 1);
    let feed = w.feed().await;
    let (kind, title, body) = feed.last().unwrap();
    assert_eq!(
        (kind.as_str(), title.as_str()),
        ("alert_recovered", "Recovered: A verification fails for the first time")
    );
    assert!(body.starts_with("Every verification passes again"), "{body}");
    let hooks = w.webhooks().await;
    assert_eq!(
        hooks.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["alert.fired", "alert.digest", "alert.recovered"]
    );
    assert_eq!(w.round().await, Default::default(), "recovered once");
    assert_eq!(w.email_subjects().await.len(), 3);
});

async fn open_issue(w: &World, uid: &str) {
    let new = NewIssue {
        code: ErrorCode::OrphanedCalcom,
        subject: IssueSubject::CalcomBooking { uid: uid.into() },
        calcom_snapshot: None,
        differences: None,
        detail: None,
    };
    w.store.open_issue(w.org.id, &new, w.clock.now()).await.unwrap();
}

on_both_backends!(open_issues_over_the_threshold_alert_once_per_crossing, |db| async move {
    let w = world(db.store.clone()).await;
    w.rules(&[RuleSettings { threshold: 1, ..rule(RuleKind::OpenOver, 0) }], None).await;
    open_issue(&w, "a").await;
    assert_eq!(w.round().await, Default::default(), "one open issue is not over 1");
    open_issue(&w, "b").await;
    assert_eq!(w.round().await.fired, 1);
    assert_eq!(w.round().await, Default::default(), "still over: no second alert");
    let feed = w.feed().await;
    assert_eq!(feed[0].2, "2 issues are open in the review queue (the rule's threshold is 1)");
    assert!(w.webhooks().await.is_empty(), "no webhook URL, nothing queued");

    let subject = IssueSubject::CalcomBooking { uid: "b".into() };
    w.store
        .resolve_issues_for(w.org.id, &subject, Resolution::MarkedResolved, None, None, w.clock.now())
        .await
        .unwrap();
    assert_eq!(w.round().await.recovered, 1);
    open_issue(&w, "c").await;
    assert_eq!(w.round().await.fired, 1, "a new crossing fires again");
    assert_eq!(w.email_subjects().await.len(), 3);
});

on_both_backends!(an_issue_rule_turned_off_keeps_the_feed_and_sends_no_email, |db| async move {
    let w = world(db.store.clone()).await;
    let a = w.appointment("Tom Klein", "gone").await;
    // Default: one email per issue.
    w.rules(&[RuleSettings { enabled: false, ..RuleSettings::default_for(RuleKind::RetriesUsedUp) }], None).await;
    for wait in [0, 1, 5] {
        w.clock.advance(Duration::minutes(wait));
        w.verify(&a).await;
    }
    let feed = w.feed().await;
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0].0, "sync_issue");
    assert!(w.email_subjects().await.is_empty());

    // Back on with a throttle: the next issue is emailed, the one after is held.
    w.rules(&[rule(RuleKind::RetriesUsedUp, 60)], None).await;
    for uid in ["x1", "x2"] {
        let b = w.appointment("Eva Roth", uid).await;
        for wait in [0, 1, 5] {
            w.clock.advance(Duration::minutes(wait));
            w.verify(&b).await;
        }
    }
    assert_eq!(w.email_subjects().await.len(), 1);
    assert_eq!(w.store.alert_rule(w.org.id, RuleKind::RetriesUsedUp).await.unwrap().held, 1);
});

/// A receiver that records what it got and answers `status`.
async fn receiver(status: StatusCode) -> (String, Arc<Mutex<Vec<(HeaderMap, String)>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push((headers, body));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

on_both_backends!(alert_webhooks_are_signed_and_retried_until_accepted, |db| async move {
    let w = world(db.store.clone()).await;
    let http = webhook::client();
    let (url, got) = receiver(StatusCode::OK).await;
    w.rules(&[RuleSettings { threshold: 1, ..rule(RuleKind::OpenOver, 0) }], Some(&url)).await;
    open_issue(&w, "a").await;
    open_issue(&w, "b").await;
    w.round().await;
    let report = webhook::deliver_due(&w.store, &key(), &http, w.clock.now()).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    {
        let got = got.lock().unwrap();
        let (headers, body) = &got[0];
        let signature = headers[SIGNATURE_HEADER].to_str().unwrap();
        assert!(webhook::verify(SECRET, signature, body), "{signature}");
        assert!(!webhook::verify("another secret", signature, body));
        assert!(headers.contains_key(DELIVERY_HEADER));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["type"], "alert.fired");
        assert_eq!(v["organization"], "salon");
        assert!(v["text"].as_str().unwrap().contains("2 issues are open"), "{body}");
    }
    assert_eq!(w.store.alert_webhook_counts(w.org.id).await.unwrap(), (0, 1, 0));

    // A receiver that refuses: retried after a pause, given up after the last.
    let (refusing, refused) = receiver(StatusCode::SERVICE_UNAVAILABLE).await;
    w.rules(&[RuleSettings { threshold: 1, ..rule(RuleKind::OpenOver, 0) }], Some(&refusing)).await;
    let subject = IssueSubject::CalcomBooking { uid: "b".into() };
    w.store
        .resolve_issues_for(w.org.id, &subject, Resolution::MarkedResolved, None, None, w.clock.now())
        .await
        .unwrap();
    w.round().await;
    let first = webhook::deliver_due(&w.store, &key(), &http, w.clock.now()).await.unwrap();
    assert_eq!(first.retrying, 1, "{first:?}");
    assert_eq!(
        webhook::deliver_due(&w.store, &key(), &http, w.clock.now()).await.unwrap(),
        Default::default(),
        "not before its pause"
    );
    let mut last = first;
    for _ in 0..5 {
        w.clock.advance(Duration::hours(4));
        last = webhook::deliver_due(&w.store, &key(), &http, w.clock.now()).await.unwrap();
    }
    assert_eq!(last.failed, 1, "{last:?}");
    assert_eq!(refused.lock().unwrap().len(), 6, "one attempt and five retries");
    let error: String = sqlx::query_scalar("SELECT last_error FROM alert_webhooks WHERE status = 'failed'")
        .fetch_one(w.store.pool())
        .await
        .unwrap();
    assert_eq!(error, "the receiver answered 503 Service Unavailable");
});
