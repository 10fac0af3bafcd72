//! Pruning on both databases: what a retention no longer keeps goes, what
//! an admin still needs (or what is still in flight) stays.

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::domain::Role;
use engine::on_both_backends;
use engine::store::{
    DeliveryOutcome, Handled, NewDelivery, NewEmail, NewNotification, NewOrganization, NewUser, NotificationKind,
    Retention, RunCounts, RunKind, RunStart, RunStatus, Severity, Start, Store, Trigger,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(store.pool()).await.unwrap()
}

async fn finished_run(store: &Store, org: engine::domain::OrgId, at: DateTime<Utc>) {
    let start = RunStart {
        kind: RunKind::Cycle,
        trigger: Trigger::Schedule,
        slot_at: Some(at),
        worker_id: "w".into(),
        requested_by: None,
    };
    let Start::Started(id) = store.start_run(org, &start, at).await.unwrap() else { panic!("not started") };
    store.finish_run(org, id, RunStatus::Succeeded, RunCounts::default(), None, at).await.unwrap();
}

fn note(key: &str) -> NewNotification {
    NewNotification {
        kind: NotificationKind::SyncRestored,
        severity: Severity::Info,
        title: "Sync restored".into(),
        body: key.into(),
        appointment_id: None,
        issue_id: None,
        dedupe_key: Some(key.into()),
    }
}

fn email(notification: Option<engine::domain::NotificationId>, user: engine::domain::UserId) -> NewEmail {
    NewEmail {
        notification_id: notification,
        user_id: Some(user),
        to: "ann@example.com".into(),
        subject: "s".into(),
        text_body: "t".into(),
        html_body: "h".into(),
    }
}

on_both_backends!(pruning_keeps_what_is_recent_unread_or_in_flight, |db| async move {
    let store = db.store.clone();
    let old = now() - Duration::days(120);
    let recent = now() - Duration::days(2);
    let org = store
        .create_organization(
            &NewOrganization { slug: "s".into(), name: "S".into(), time_zone: chrono_tz::Europe::Berlin },
            old,
        )
        .await
        .unwrap()
        .id;
    let user =
        NewUser { email: "ann@example.com".into(), name: "Ann".into(), role: Role::Admin, password_hash: "x".into() };
    let ann = store.create_user(org, &user, old).await.unwrap().id;

    // Runs: an old finished one goes; a recent one and an old one still running stay.
    finished_run(&store, org, old).await;
    finished_run(&store, org, recent).await;
    let running = RunStart {
        kind: RunKind::Comprehensive,
        trigger: Trigger::Manual,
        slot_at: None,
        worker_id: "w".into(),
        requested_by: None,
    };
    store.start_run(org, &running, old).await.unwrap();

    // Deliveries: an old handled one goes; an old pending one and a recent one stay.
    for (sha, at) in [("a", old), ("b", old), ("c", recent)] {
        let new = NewDelivery {
            body_sha256: sha.into(),
            trigger: "BOOKING_CREATED".into(),
            uid: None,
            previous_uid: None,
            sent_at: None,
        };
        let stored = store.store_delivery(org, &new, at).await.unwrap();
        if sha != "b" {
            let id = match stored {
                engine::store::Stored::New(id) | engine::store::Stored::Replay(id) => id,
            };
            let done = Handled { id, outcome: DeliveryOutcome::Ignored, detail: None, appointment_ids: vec![] };
            store.finish_deliveries(org, &[done], at).await.unwrap();
        }
    }
    store.record_coverage(org, 3, 3, old).await.unwrap();
    store.record_coverage(org, 3, 3, recent).await.unwrap();

    // Notifications: old and read goes (with its sent email); old unread
    // stays; old read whose email is still pending stays.
    let read_old = store.notify(org, &note("read-old"), old).await.unwrap().unwrap();
    store.mark_read(org, ann, read_old, old).await.unwrap();
    store.enqueue_email(org, &email(Some(read_old), ann), old).await.unwrap();
    let unread_old = store.notify(org, &note("unread-old"), old).await.unwrap().unwrap();
    let waiting = store.notify(org, &note("read-old-email-pending"), old).await.unwrap().unwrap();
    store.mark_read(org, ann, waiting, old).await.unwrap();
    store.enqueue_email(org, &email(Some(waiting), ann), old).await.unwrap();
    store.enqueue_email(org, &email(None, ann), recent).await.unwrap();
    let sent: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM email_outbox WHERE notification_id = $1 OR notification_id IS NULL")
            .bind(read_old.get())
            .fetch_all(store.pool())
            .await
            .unwrap();
    for id in sent {
        store.mark_email_sent(id, old).await.unwrap();
    }

    // Verification figures: those of last year's spring go, last week's stay.
    for at in [now() - Duration::days(420), recent] {
        let event = engine::store::NewSyncEvent {
            appointment_id: None,
            kind: engine::store::EventKind::Verification,
            result: Some("synced".into()),
            attempt: None,
            duration_ms: Some(80),
            detail: None,
            technical: None,
            actor: "system".into(),
            actor_user_id: None,
            at,
        };
        store.record_event(org, &event).await.unwrap();
    }

    // Alert webhooks: an old delivered one goes; an old one still being
    // retried and a recent delivered one stay.
    for (at, deliver) in [(old, true), (old, false), (recent, true)] {
        let id = store.enqueue_alert_webhook(org, "{}", at).await.unwrap();
        if deliver {
            store.finish_alert_webhook(id, Ok(()), None, at).await.unwrap();
        }
    }

    let pruned = store.prune(&Retention::default(), now()).await.unwrap();
    assert_eq!(pruned.figures, 1);
    assert_eq!(pruned.alert_webhooks, 1);
    assert_eq!(count(&store, "alert_webhooks").await, 2);
    assert_eq!(store.verification_tally(org, old - Duration::days(400), now()).await.unwrap().total, 1);
    assert_eq!((pruned.runs, pruned.deliveries, pruned.coverage), (1, 1, 1));
    assert_eq!((pruned.emails, pruned.notifications), (1, 1), "{pruned:?}");
    assert_eq!(count(&store, "job_runs").await, 2, "the recent run and the running one stay");
    assert_eq!(count(&store, "webhook_deliveries").await, 2, "pending and recent deliveries stay");
    assert_eq!(count(&store, "webhook_coverage").await, 1);
    // The recent email was marked sent at `old` but created recently: it stays.
    assert_eq!(count(&store, "email_outbox").await, 2);
    let left: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM notifications ORDER BY id").fetch_all(store.pool()).await.unwrap();
    assert_eq!(left, vec![unread_old.get(), waiting.get()]);
    assert_eq!(count(&store, "notification_reads").await, 1);

    // Pruning again finds nothing; a shorter retention takes the rest.
    assert_eq!(store.prune(&Retention::default(), now()).await.unwrap().total(), 0);
    let short = Retention { runs: Duration::days(1), deliveries: Duration::days(1), ..Retention::default() };
    let pruned = store.prune(&short, now()).await.unwrap();
    assert_eq!((pruned.runs, pruned.deliveries, pruned.coverage), (1, 1, 1));
});
