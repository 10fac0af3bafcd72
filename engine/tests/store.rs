//! The store against real databases: every test runs on SQLite and PostgreSQL.

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::domain::{AppointmentId, AppointmentSource, AppointmentStatus, ErrorCode, OrgId, SyncStatus};
use engine::on_both_backends;
use engine::store::{
    AppointmentFilter, EventKind, NewAppointment, NewOrganization, NewSyncEvent, StateWrite, Store, StoreError,
    SyncState,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 11, 14, 30, 0).unwrap()
}

async fn org(store: &Store, slug: &str) -> OrgId {
    let new = NewOrganization { slug: slug.into(), name: format!("{slug} GmbH"), time_zone: chrono_tz::Europe::Berlin };
    store.create_organization(&new, now()).await.unwrap().id
}

fn appointment(name: &str, hour: u32) -> NewAppointment {
    let starts_at = Utc.with_ymd_and_hms(2025, 10, 13, hour, 0, 0).unwrap();
    NewAppointment {
        external_id: None,
        customer_name: name.into(),
        customer_email: Some(format!("{}@example.com", name.to_lowercase().replace(' ', "."))),
        customer_phone: Some("+49 123 456789".into()),
        service: "Hairstyling - Herrenschnitt".into(),
        starts_at,
        ends_at: starts_at + Duration::minutes(45),
        time_zone: chrono_tz::Europe::Berlin,
        status: AppointmentStatus::Scheduled,
        source: AppointmentSource::Retell,
        calcom_booking_uid: Some(format!("uid-{hour}")),
        calcom_event_type_id: Some(1),
    }
}

fn state(status: SyncStatus, code: Option<ErrorCode>, review: bool) -> SyncState {
    SyncState {
        status,
        error_code: code,
        error_detail: code.map(|c| c.label().to_owned()),
        attempts: 3,
        last_verified_at: Some(now()),
        next_verification_at: None,
        requires_manual_review: review,
    }
}

fn verification(id: AppointmentId, result: &str) -> NewSyncEvent {
    NewSyncEvent {
        appointment_id: Some(id),
        kind: EventKind::Verification,
        result: Some(result.into()),
        attempt: Some(3),
        duration_ms: Some(120),
        detail: None,
        technical: None,
        actor: "system".into(),
        actor_user_id: None,
        at: now() + Duration::minutes(1),
    }
}

on_both_backends!(organizations_are_created_once_per_slug, |db| async move {
    let store = &db.store;
    let id = org(store, "salon").await;
    let found = store.organization_by_slug("salon").await.unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.time_zone, chrono_tz::Europe::Berlin);
    assert_eq!(found.calcom_base_url, "https://api.cal.com");
    assert!(!found.has_calcom_api_key);
    assert_eq!(found.cycle_cron, "0 0,6,12,18 * * *");
    let again = NewOrganization { slug: "salon".into(), name: "Other".into(), time_zone: chrono_tz::UTC };
    assert!(matches!(store.create_organization(&again, now()).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.organization_by_slug("nope").await, Err(StoreError::NotFound(_))));
});

on_both_backends!(new_appointments_start_pending_and_due_with_history, |db| async move {
    let store = &db.store;
    let org = org(store, "salon").await;
    let new = appointment("Tom Klein", 10);
    let saved = store.insert_appointment(org, &new, "api token crm", now()).await.unwrap();
    assert_eq!(saved.customer_name, "Tom Klein");
    assert_eq!(saved.starts_at, new.starts_at);
    assert_eq!(saved.ends_at, new.ends_at);
    assert_eq!(saved.time_zone, chrono_tz::Europe::Berlin);
    assert_eq!(saved.sync.status, SyncStatus::Pending);
    assert_eq!(saved.sync.attempts, 0);
    assert_eq!(saved.sync.next_verification_at, Some(now()));
    assert!(!saved.sync.requires_manual_review);
    let history = store.appointment_events(org, saved.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].kind, EventKind::Created);
    assert_eq!(history[0].actor, "api token crm");
    assert_eq!(history[0].detail.as_deref(), Some("Appointment created (via retell)"));
});

on_both_backends!(external_ids_are_unique_per_organization_only, |db| async move {
    let store = &db.store;
    let (a, b) = (org(store, "a").await, org(store, "b").await);
    let mut new = appointment("Anna Schmidt", 9);
    new.external_id = Some("crm-17".into());
    store.insert_appointment(a, &new, "t", now()).await.unwrap();
    let dup = store.insert_appointment(a, &new, "t", now()).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    store.insert_appointment(b, &new, "t", now()).await.expect("other org may reuse the id");
    let found = store.appointment_by_external_id(a, "crm-17").await.unwrap().unwrap();
    assert_eq!(found.org_id, a);
    assert_eq!(store.count_appointments(a, &AppointmentFilter::default()).await.unwrap(), 1);
});

on_both_backends!(reads_never_cross_organizations, |db| async move {
    let store = &db.store;
    let (a, b) = (org(store, "a").await, org(store, "b").await);
    let in_a = store.insert_appointment(a, &appointment("Max Müller", 9), "t", now()).await.unwrap();
    assert!(matches!(store.appointment(b, in_a.id).await, Err(StoreError::NotFound(_))));
    assert!(store.list_appointments(b, &AppointmentFilter::default(), None, 50).await.unwrap().is_empty());
    assert_eq!(store.sync_counts(b).await.unwrap().total(), 0);
    assert!(store.appointment_events(b, in_a.id).await.unwrap().is_empty());
    let err = store
        .set_sync_state(b, in_a.id, &state(SyncStatus::Synced, None, false), &verification(in_a.id, "synced"))
        .await;
    assert!(matches!(err, Err(StoreError::NotFound(_))));
    assert_eq!(store.appointment(a, in_a.id).await.unwrap().sync.status, SyncStatus::Pending);
});

on_both_backends!(counts_follow_sync_state_changes, |db| async move {
    let store = &db.store;
    let org = org(store, "salon").await;
    let mut ids = Vec::new();
    for (i, name) in ["Max Müller", "Anna Schmidt", "Tom Klein", "Lisa Braun", "Jan Weber"].iter().enumerate() {
        ids.push(store.insert_appointment(org, &appointment(name, 9 + i as u32), "t", now()).await.unwrap().id);
    }
    store
        .set_sync_state(org, ids[0], &state(SyncStatus::Synced, None, false), &verification(ids[0], "synced"))
        .await
        .unwrap();
    store
        .set_sync_state(org, ids[4], &state(SyncStatus::Synced, None, false), &verification(ids[4], "synced"))
        .await
        .unwrap();
    let orphan = state(SyncStatus::OrphanedLocal, Some(ErrorCode::OrphanedLocal), true);
    store.set_sync_state(org, ids[2], &orphan, &verification(ids[2], "not_found")).await.unwrap();
    let failed = state(SyncStatus::Failed, Some(ErrorCode::VerificationError), false);
    store.set_sync_state(org, ids[3], &failed, &verification(ids[3], "timeout")).await.unwrap();

    let counts = store.sync_counts(org).await.unwrap();
    assert_eq!((counts.synced, counts.pending, counts.failed, counts.orphaned_local), (2, 1, 1, 1));
    assert_eq!(counts.requires_review, 1);
    assert_eq!(counts.total(), 5);

    let tom = store.appointment(org, ids[2]).await.unwrap();
    assert_eq!(tom.sync, orphan);
    let history = store.appointment_events(org, ids[2]).await.unwrap();
    assert_eq!(history.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventKind::Verification, EventKind::Created]);
    assert_eq!(history[0].result.as_deref(), Some("not_found"));
    assert_eq!(history[0].duration_ms, Some(120));
});

/// The counts as a full scan of the table sees them, per organization.
async fn counted(store: &Store, org: OrgId) -> (i64, i64, i64, i64, i64) {
    let row = sqlx::query(
        "SELECT COUNT(*) AS total, \
         SUM(CASE WHEN sync_status = 'synced' THEN 1 ELSE 0 END) AS synced, \
         SUM(CASE WHEN sync_status = 'pending' THEN 1 ELSE 0 END) AS pending, \
         SUM(CASE WHEN sync_status = 'failed' THEN 1 ELSE 0 END) AS failed, \
         SUM(CASE WHEN requires_manual_review = 1 THEN 1 ELSE 0 END) AS review \
         FROM appointments WHERE org_id = $1",
    )
    .bind(org.get())
    .fetch_one(store.pool())
    .await
    .unwrap();
    use sqlx::Row;
    let n = |c: &str| row.try_get::<Option<i64>, _>(c).unwrap().unwrap_or(0);
    (n("total"), n("synced"), n("pending"), n("failed"), n("review"))
}

async fn kept(store: &Store, org: OrgId) -> (i64, i64, i64, i64, i64) {
    let c = store.sync_counts(org).await.unwrap();
    (c.total(), c.synced, c.pending, c.failed, c.requires_review)
}

on_both_backends!(kept_counts_agree_with_a_full_count_after_every_kind_of_write, |db| async move {
    let store = &db.store;
    let (salon, other) = (org(store, "salon").await, org(store, "other").await);
    let mut ids = Vec::new();
    for hour in 8..14 {
        ids.push(store.insert_appointment(salon, &appointment("Kunde", hour), "t", now()).await.unwrap().id);
    }
    store.insert_appointment(other, &appointment("Fremd", 9), "t", now()).await.unwrap();
    assert_eq!(kept(store, salon).await, (6, 0, 6, 0, 0));
    assert_eq!(kept(store, salon).await, counted(store, salon).await);

    // One at a time, including a change that leaves the state as it was and
    // one that only flips the review flag.
    let synced = state(SyncStatus::Synced, None, false);
    store.set_sync_state(salon, ids[0], &synced, &verification(ids[0], "synced")).await.unwrap();
    store.set_sync_state(salon, ids[0], &synced, &verification(ids[0], "synced")).await.unwrap();
    let failed = state(SyncStatus::Failed, Some(ErrorCode::VerificationError), false);
    store.set_sync_state(salon, ids[1], &failed, &verification(ids[1], "timeout")).await.unwrap();
    let failed_review = state(SyncStatus::Failed, Some(ErrorCode::VerificationError), true);
    store.set_sync_state(salon, ids[1], &failed_review, &verification(ids[1], "timeout")).await.unwrap();
    assert_eq!(kept(store, salon).await, (6, 1, 4, 1, 1));
    assert_eq!(kept(store, salon).await, counted(store, salon).await);

    // A verification batch: some move, one moves back to pending.
    let writes: Vec<StateWrite> =
        [(ids[1], &synced), (ids[2], &synced), (ids[3], &failed), (ids[0], &state(SyncStatus::Pending, None, false))]
            .into_iter()
            .map(|(id, s)| StateWrite {
                id,
                state: s.clone(),
                event: verification(id, "batch"),
                resolve_issues: false,
                routine: false,
            })
            .collect();
    store.write_sync_states(salon, &writes, now(), "Resolved itself").await.unwrap();
    assert_eq!(kept(store, salon).await, (6, 2, 3, 1, 0));
    assert_eq!(kept(store, salon).await, counted(store, salon).await);

    // The facts and the state changed together (a webhook's update).
    let mut facts = appointment("Kunde", 13);
    facts.customer_name = "Kundin".into();
    store
        .update_appointment_facts(salon, ids[5], &facts, &failed_review, &verification(ids[5], "changed"))
        .await
        .unwrap();
    assert_eq!(kept(store, salon).await, (6, 2, 2, 2, 1));
    assert_eq!(kept(store, salon).await, counted(store, salon).await);

    assert_eq!(kept(store, other).await, (1, 0, 1, 0, 0), "the other organization's counts are its own");
});

on_both_backends!(a_batch_of_outcomes_sets_each_appointment_as_written_and_skips_those_not_there, |db| async move {
    let store = &db.store;
    let (salon, other) = (org(store, "salon").await, org(store, "other").await);
    // More appointments than one multi-row statement takes.
    let mut ids = Vec::new();
    for i in 0..120i64 {
        let mut new = appointment(&format!("Kunde {i}"), 8);
        new.starts_at += Duration::minutes(i);
        new.ends_at += Duration::minutes(i);
        new.calcom_booking_uid = Some(format!("uid-batch-{i}"));
        ids.push(store.insert_appointment(salon, &new, "t", now()).await.unwrap().id);
    }
    let foreign = store.insert_appointment(other, &appointment("Fremd", 9), "t", now()).await.unwrap().id;
    sqlx::query("UPDATE appointments SET claimed_by = 'worker-1', claim_expires_at = $1")
        .bind((now() + Duration::minutes(10)).timestamp_millis())
        .execute(store.pool())
        .await
        .unwrap();
    for table in ["sync_events WHERE appointment_id", "appointments WHERE id"] {
        let sql = format!("DELETE FROM {table} = $1");
        sqlx::query(&sql).bind(ids[7].get()).execute(store.pool()).await.unwrap();
    }
    let history_of = |org: OrgId| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sync_events WHERE org_id = $1")
            .bind(org.get())
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    let before = (history_of(salon).await, history_of(other).await);

    let varied = |i: i64| SyncState {
        status: if i % 2 == 0 { SyncStatus::Synced } else { SyncStatus::Failed },
        error_code: (i % 2 == 1).then_some(ErrorCode::DataMismatch),
        error_detail: (i % 2 == 1).then(|| format!("Cal.com has another time ({i})")),
        attempts: i,
        last_verified_at: Some(now() + Duration::seconds(i)),
        next_verification_at: (i % 3 == 0).then(|| now() + Duration::hours(i)),
        requires_manual_review: i % 5 == 0,
    };
    let write = |id: AppointmentId, state: SyncState, routine: bool| StateWrite {
        id,
        state,
        event: verification(id, "batch"),
        resolve_issues: false,
        routine,
    };
    let mut writes: Vec<StateWrite> =
        ids.iter().enumerate().map(|(i, &id)| write(id, varied(i as i64), i % 4 == 0)).collect();
    // The same appointment twice in one batch: the later write stands.
    writes.push(write(ids[0], varied(1001), false));
    // Another organization's appointment is not this batch's to touch.
    writes.push(write(foreign, varied(1), false));
    store.write_sync_states(salon, &writes, now(), "Resolved itself").await.unwrap();

    for (i, &id) in ids.iter().enumerate() {
        let found = store.appointment(salon, id).await;
        if i == 7 {
            assert!(matches!(found, Err(StoreError::NotFound(_))), "deleted meanwhile, and not written back");
            continue;
        }
        let expected = if i == 0 { varied(1001) } else { varied(i as i64) };
        assert_eq!(found.unwrap().sync, expected, "appointment {i}");
    }
    let claimed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM appointments WHERE org_id = $1 AND claimed_by IS NOT NULL")
            .bind(salon.get())
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(claimed, 0, "every written appointment's claim is released");
    assert_eq!(store.appointment(other, foreign).await.unwrap().sync.status, SyncStatus::Pending);
    let not_routine = (0..120).filter(|i| *i != 7 && i % 4 != 0).count() as i64;
    assert_eq!(
        history_of(salon).await - before.0,
        not_routine + 1,
        "a history row per written change, none for routine ones or the deleted"
    );
    assert_eq!(history_of(other).await, before.1, "nothing written for another organization's appointment");
    assert_eq!(kept(store, salon).await, counted(store, salon).await);
});

on_both_backends!(listing_filters_searches_and_pages, |db| async move {
    let store = &db.store;
    let org = org(store, "salon").await;
    let mut ids = Vec::new();
    for (i, name) in ["Max Müller", "Anna Schmidt", "Tom Klein", "Lisa Braun", "Jan Weber"].iter().enumerate() {
        ids.push(store.insert_appointment(org, &appointment(name, 9 + i as u32), "t", now()).await.unwrap().id);
    }
    let failed = state(SyncStatus::Failed, Some(ErrorCode::VerificationError), false);
    store.set_sync_state(org, ids[3], &failed, &verification(ids[3], "timeout")).await.unwrap();

    let by_status = AppointmentFilter { sync_status: Some(SyncStatus::Failed), ..Default::default() };
    let page = store.list_appointments(org, &by_status, None, 50).await.unwrap();
    assert_eq!(page.iter().map(|a| a.customer_name.as_str()).collect::<Vec<_>>(), ["Lisa Braun"]);

    let by_code = AppointmentFilter { error_code: Some(ErrorCode::VerificationError), ..Default::default() };
    assert_eq!(store.count_appointments(org, &by_code).await.unwrap(), 1);

    let search = AppointmentFilter { search: Some("KLEIN".into()), ..Default::default() };
    let page = store.list_appointments(org, &search, None, 50).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].customer_name, "Tom Klein");
    let wildcard = AppointmentFilter { search: Some("%".into()), ..Default::default() };
    assert_eq!(store.count_appointments(org, &wildcard).await.unwrap(), 0, "% is literal");

    let from = Utc.with_ymd_and_hms(2025, 10, 13, 11, 0, 0).unwrap();
    let window = AppointmentFilter {
        starts_from: Some(from),
        starts_before: Some(from + Duration::hours(2)),
        ..Default::default()
    };
    let page = store.list_appointments(org, &window, None, 50).await.unwrap();
    assert_eq!(page.iter().map(|a| a.id).collect::<Vec<_>>(), [ids[2], ids[3]]);

    let all = AppointmentFilter::default();
    let first = store.list_appointments(org, &all, None, 2).await.unwrap();
    let last = first.last().unwrap();
    let second = store.list_appointments(org, &all, Some((last.starts_at, last.id)), 2).await.unwrap();
    let third = store.list_appointments(org, &all, Some((second[1].starts_at, second[1].id)), 2).await.unwrap();
    let seen: Vec<_> = first.iter().chain(&second).chain(&third).map(|a| a.id).collect();
    assert_eq!(seen, ids);
});

on_both_backends!(migrations_are_idempotent, |db| async move {
    db.store.migrate().await.expect("second migration run is a no-op");
    db.store.ping().await.unwrap();
});

#[tokio::test]
async fn unreachable_postgres_is_a_connect_error_without_password() {
    let err = Store::connect("postgres://calsync:hunter2@127.0.0.1:1/none").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

on_both_backends!(the_shared_calcom_budget_spaces_every_process_and_holds_them_all, |db| async move {
    use std::time::Duration as Std;
    // Two processes' pools on one database.
    let one = db.store.clone();
    let two = engine::store::Store::connect(&db.url).await.unwrap();
    let hour = Std::from_secs(3600);
    assert_eq!(one.reserve_calcom_call("key-a", hour, Std::ZERO).await.unwrap(), None, "the first request goes");
    let wait = two.reserve_calcom_call("key-a", hour, Std::ZERO).await.unwrap().expect("the other process waits");
    assert!(wait > Std::from_secs(3590) && wait <= hour, "{wait:?}");
    assert_eq!(two.reserve_calcom_call("key-b", hour, Std::ZERO).await.unwrap(), None, "keys are apart");
    // A burst of three is allowed, the fourth waits.
    let second = Std::from_secs(1);
    for _ in 0..3 {
        assert_eq!(one.reserve_calcom_call("key-c", hour, hour * 2).await.unwrap(), None);
    }
    assert!(two.reserve_calcom_call("key-c", hour, hour * 2).await.unwrap().is_some());
    // A hold (a 429 seen by one process) stops the other too.
    one.hold_calcom_calls("key-b", Std::from_secs(60)).await.unwrap();
    let held = two.reserve_calcom_call("key-b", second / 1000, Std::ZERO).await.unwrap().expect("held");
    assert!(held > Std::from_secs(55), "{held:?}");
});

on_both_backends!(calls_to_calcom_are_counted_per_organization_and_minute_and_kept_a_day, |db| async move {
    let store = &db.store;
    let (a, b) = (org(store, "a").await, org(store, "b").await);
    for seconds in [0, 10, 59] {
        store.count_calcom_call(a, now() + Duration::seconds(seconds)).await.unwrap();
    }
    store.count_calcom_call(a, now() + Duration::minutes(1)).await.unwrap();
    store.count_calcom_call(b, now()).await.unwrap();
    let minutes: Vec<(DateTime<Utc>, i64)> =
        store.calcom_calls_since(a, now()).await.unwrap().into_iter().map(|m| (m.minute, m.calls)).collect();
    assert_eq!(minutes, [(now(), 3), (now() + Duration::minutes(1), 1)], "per minute, the other organization apart");
    assert!(store.calcom_calls_since(a, now() + Duration::minutes(2)).await.unwrap().is_empty());

    let pruned = store.prune(&engine::store::Retention::default(), now() + Duration::hours(25)).await.unwrap();
    assert_eq!(pruned.call_minutes, 3, "{pruned:?}");
    assert!(store.calcom_calls_since(a, now() - Duration::days(1)).await.unwrap().is_empty());
});

on_both_backends!(the_keys_stated_limit_is_kept_until_the_connection_changes, |db| async move {
    use engine::store::CalcomConnectionUpdate;
    let store = &db.store;
    let (a, b) = (org(store, "a").await, org(store, "b").await);
    assert_eq!(store.organization(a).await.unwrap().calcom_rate_limit, None, "nothing stated yet");
    store.record_calcom_rate_limit(a, 30).await.unwrap();
    assert_eq!(store.organization(a).await.unwrap().calcom_rate_limit, Some(30));
    assert_eq!(store.organization(b).await.unwrap().calcom_rate_limit, None, "the other organization apart");

    let event_type_only = CalcomConnectionUpdate { event_type_id: Some(7), ..CalcomConnectionUpdate::default() };
    store.update_calcom_connection(a, &event_type_only, now()).await.unwrap();
    assert_eq!(store.organization(a).await.unwrap().calcom_rate_limit, Some(30), "the same key keeps its limit");

    let new_key = CalcomConnectionUpdate { api_key_sealed: Some("sealed".into()), ..CalcomConnectionUpdate::default() };
    store.update_calcom_connection(a, &new_key, now()).await.unwrap();
    assert_eq!(store.organization(a).await.unwrap().calcom_rate_limit, None, "a new key's limit is not known yet");
    store.record_calcom_rate_limit(a, 120).await.unwrap();
    let new_url =
        CalcomConnectionUpdate { base_url: Some("http://127.0.0.1:9/v2".into()), ..CalcomConnectionUpdate::default() };
    store.update_calcom_connection(a, &new_url, now()).await.unwrap();
    assert_eq!(store.organization(a).await.unwrap().calcom_rate_limit, None, "nor another server's");
});

on_both_backends!(a_batch_of_new_appointments_is_one_write_that_skips_taken_external_ids, |db| async move {
    let store = &db.store;
    let (salon, other) = (org(store, "salon").await, org(store, "other").await);
    let with_id =
        |name: &str, hour: u32, id: &str| NewAppointment { external_id: Some(id.into()), ..appointment(name, hour) };
    store.insert_appointment(salon, &with_id("Ann", 8, "crm-1"), "api", now()).await.unwrap();
    // Another organization's crm-2 does not take the name here.
    store.insert_appointment(other, &with_id("Otto", 8, "crm-2"), "api", now()).await.unwrap();

    let batch = [
        with_id("Ann again", 9, "crm-1"),
        with_id("Ben", 10, "crm-2"),
        with_id("Ben twice", 11, "crm-2"),
        appointment("Cem without an id", 12),
    ];
    assert_eq!(store.insert_appointments(salon, &batch, "import", now()).await.unwrap(), (2, 2));

    let mut names: Vec<String> = store
        .list_appointments(salon, &AppointmentFilter::default(), None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.customer_name)
        .collect();
    names.sort();
    assert_eq!(names, ["Ann", "Ben", "Cem without an id"]);
    let ben = store.appointment_by_external_id(salon, "crm-2").await.unwrap().unwrap();
    assert_eq!(ben.sync.status, SyncStatus::Pending, "due for its first verification");
    let history = store.appointment_events(salon, ben.id).await.unwrap();
    assert_eq!(history.len(), 1, "its 'created' entry, written with it");
    assert_eq!((history[0].kind, history[0].actor.as_str()), (EventKind::Created, "import"));
    assert_eq!(store.insert_appointments(salon, &[], "import", now()).await.unwrap(), (0, 0));
});
