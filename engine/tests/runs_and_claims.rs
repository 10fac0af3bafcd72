//! Work distribution on both databases: scheduled slots run once, claims
//! never overlap, and a crashed worker's leftovers are recovered.

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::domain::{AppointmentId, AppointmentSource, AppointmentStatus, OrgId, SyncStatus};
use engine::on_both_backends;
use engine::store::{
    EventKind, NewAppointment, NewOrganization, NewSyncEvent, RunCounts, RunKind, RunStart, RunStatus, Start, Store,
    SyncState, Trigger,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 11, 6, 0, 0).unwrap()
}

async fn org(store: &Store) -> OrgId {
    let new = NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin };
    store.create_organization(&new, now()).await.unwrap().id
}

async fn appointments(store: &Store, org: OrgId, n: usize) -> Vec<AppointmentId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let starts_at = now() + Duration::hours(i as i64 + 1);
        let new = NewAppointment {
            external_id: None,
            customer_name: format!("Kunde {i}"),
            customer_email: None,
            customer_phone: None,
            service: "Schnitt".into(),
            starts_at,
            ends_at: starts_at + Duration::minutes(30),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Api,
            calcom_booking_uid: Some(format!("uid{i}")),
            calcom_event_type_id: None,
        };
        ids.push(store.insert_appointment(org, &new, "t", now()).await.unwrap().id);
    }
    ids
}

fn scheduled(kind: RunKind, slot: DateTime<Utc>, worker: &str) -> RunStart {
    RunStart { kind, trigger: Trigger::Schedule, slot_at: Some(slot), worker_id: worker.into(), requested_by: None }
}

on_both_backends!(a_scheduled_slot_runs_once_across_instances, |db| async move {
    let store = db.store.clone();
    let org = org(&store).await;
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store.start_run(org, &scheduled(RunKind::Cycle, now(), &format!("worker-{i}")), now()).await.unwrap()
            })
        })
        .collect();
    let mut started = Vec::new();
    for task in tasks {
        started.extend(task.await.unwrap().id());
    }
    assert_eq!(started.len(), 1, "exactly one instance runs the 06:00 slot");
    let finish = |id| store.finish_run(org, id, RunStatus::Succeeded, RunCounts::default(), None, now());
    assert!(store.start_run(org, &scheduled(RunKind::Comprehensive, now(), "w"), now()).await.unwrap().id().is_some());
    finish(started[0]).await.unwrap();
    let next_slot = store
        .start_run(org, &scheduled(RunKind::Cycle, now() + Duration::hours(6), "w"), now())
        .await
        .unwrap()
        .id()
        .expect("the next slot runs once the last cycle finished");
    let manual = RunStart {
        kind: RunKind::Cycle,
        trigger: Trigger::Manual,
        slot_at: None,
        worker_id: "w".into(),
        requested_by: None,
    };
    // One run of a kind at a time, whoever starts it: the running one is named.
    let Start::Busy(active) = store.start_run(org, &manual, now()).await.unwrap() else {
        panic!("a second cycle while one runs")
    };
    assert_eq!((active.run.id, active.run.trigger), (next_slot, Trigger::Schedule));
    finish(next_slot).await.unwrap();
    let first = store.start_run(org, &manual, now()).await.unwrap().id().expect("nothing running now");
    assert!(matches!(store.start_run(org, &manual, now()).await.unwrap(), Start::Busy(a) if a.run.id == first));
    assert_eq!(store.recent_runs(org, 10).await.unwrap().len(), 4);
});

on_both_backends!(runs_record_progress_and_finish, |db| async move {
    let store = &db.store;
    let org = org(store).await;
    let id = store.start_run(org, &scheduled(RunKind::Cycle, now(), "w1"), now()).await.unwrap().id().unwrap();
    let half = RunCounts { total: 10, processed: 5, synced: 4, flagged: 1, errors: 0, api_calls: 1 };
    store.heartbeat_run(org, id, half, now() + Duration::seconds(5)).await.unwrap();
    let run = store.run(org, id).await.unwrap();
    assert_eq!((run.status, run.counts, run.finished_at), (RunStatus::Running, half, None));
    let all = RunCounts { processed: 10, synced: 9, ..half };
    store.finish_run(org, id, RunStatus::Succeeded, all, None, now() + Duration::seconds(9)).await.unwrap();
    let run = store.run(org, id).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.counts, all);
    assert_eq!(run.finished_at, Some(now() + Duration::seconds(9)));
    assert!(store.heartbeat_run(org, id, all, now()).await.is_err(), "a finished run stays finished");
});

on_both_backends!(a_dead_workers_run_is_marked_interrupted, |db| async move {
    let store = &db.store;
    let org = org(store).await;
    let dead = store.start_run(org, &scheduled(RunKind::Cycle, now(), "dead"), now()).await.unwrap().id().unwrap();
    let alive =
        store.start_run(org, &scheduled(RunKind::Comprehensive, now(), "alive"), now()).await.unwrap().id().unwrap();
    store.heartbeat_run(org, alive, RunCounts::default(), now() + Duration::minutes(4)).await.unwrap();
    let later = now() + Duration::minutes(5);
    assert_eq!(store.interrupt_stale_runs(later - Duration::minutes(2), later).await.unwrap(), 1);
    assert_eq!(store.run(org, dead).await.unwrap().status, RunStatus::Interrupted);
    assert_eq!(store.run(org, alive).await.unwrap().status, RunStatus::Running);
    let late = store.finish_run(org, dead, RunStatus::Succeeded, RunCounts::default(), None, later).await;
    assert!(late.is_err(), "a worker coming back late cannot overwrite the interruption");
});

on_both_backends!(concurrent_claims_never_overlap, |db| async move {
    let store = db.store.clone();
    let org = org(&store).await;
    let ids = appointments(&store, org, 60).await;
    let tasks: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_due(org, &format!("w{w}"), now(), Duration::minutes(5), 7).await.unwrap();
                    if batch.is_empty() {
                        break mine;
                    }
                    mine.extend(batch.into_iter().map(|a| a.id));
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for task in tasks {
        for id in task.await.unwrap() {
            total += 1;
            seen.insert(id);
        }
    }
    assert_eq!(total, 60, "no appointment was claimed twice");
    assert_eq!(seen, ids.into_iter().collect::<HashSet<_>>());
});

on_both_backends!(concurrent_claims_of_one_organization_do_not_split_its_due_work, |db| async move {
    let store = db.store.clone();
    let org = org(&store).await;
    appointments(&store, org, 400).await;
    // Each round after the last round's leases ran out, with everything due again.
    for round in 0..10 {
        let at = now() + Duration::minutes(10 * round);
        let claims: Vec<_> = (0..3)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    store.claim_due(org, &format!("w{w}"), at, Duration::minutes(5), 10_000).await.unwrap().len()
                })
            })
            .collect();
        let mut sizes = Vec::new();
        for claim in claims {
            sizes.push(claim.await.unwrap());
        }
        sizes.sort_unstable();
        assert_eq!(sizes, [0, 0, 400], "round {round}: one claim takes all of it, to be planned once");
    }
});

on_both_backends!(an_extended_claim_is_not_taken_over_while_its_worker_is_busy, |db| async move {
    let store = &db.store;
    let org = org(store).await;
    appointments(store, org, 3).await;
    let lease = Duration::minutes(10);
    assert_eq!(store.claim_due(org, "busy", now(), lease, 10).await.unwrap().len(), 3);
    // Still working through it eight minutes on: the lease is extended.
    let extended = store.extend_claims(org, "busy", now() + Duration::minutes(18)).await.unwrap();
    assert_eq!(extended, 3);
    let after_first_lease = now() + Duration::minutes(12);
    assert!(store.claim_due(org, "other", after_first_lease, lease, 10).await.unwrap().is_empty());
    // Had the worker died, the extended lease lapses all the same.
    let after_extension = now() + Duration::minutes(19);
    assert_eq!(store.claim_due(org, "other", after_extension, lease, 10).await.unwrap().len(), 3);
    assert_eq!(store.extend_claims(org, "busy", after_extension).await.unwrap(), 0, "nothing left to extend");
});

on_both_backends!(claims_expire_and_are_released_by_a_result, |db| async move {
    let store = &db.store;
    let org = org(store).await;
    let ids = appointments(store, org, 3).await;
    let first = store.claim_due(org, "crashed", now(), Duration::minutes(5), 10).await.unwrap();
    assert_eq!(first.len(), 3);
    assert!(store
        .claim_due(org, "other", now() + Duration::minutes(1), Duration::minutes(5), 10)
        .await
        .unwrap()
        .is_empty());

    let state = SyncState {
        status: SyncStatus::Synced,
        error_code: None,
        error_detail: None,
        attempts: 0,
        last_verified_at: Some(now()),
        next_verification_at: Some(now() + Duration::hours(6)),
        requires_manual_review: false,
    };
    let event = NewSyncEvent {
        appointment_id: Some(ids[0]),
        kind: EventKind::Verification,
        result: Some("synced".into()),
        attempt: Some(1),
        duration_ms: Some(3),
        detail: None,
        technical: None,
        actor: "system".into(),
        actor_user_id: None,
        at: now(),
    };
    store.set_sync_state(org, ids[0], &state, &event).await.unwrap();

    let after_lease = now() + Duration::minutes(6);
    let reclaimed = store.claim_due(org, "other", after_lease, Duration::minutes(5), 10).await.unwrap();
    assert_eq!(
        reclaimed.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids[1..],
        "lapsed claims come back; the verified one is not due"
    );
    assert_eq!(store.count_due(org, after_lease).await.unwrap(), 2);
    let at_next_cycle =
        store.claim_due(org, "other", now() + Duration::hours(6), Duration::minutes(5), 10).await.unwrap();
    assert_eq!(
        at_next_cycle.iter().map(|a| a.id).collect::<Vec<_>>(),
        [ids[1], ids[2], ids[0]],
        "soonest due first; the verified one is due again at its next cycle"
    );
});

on_both_backends!(a_dead_workers_runs_and_claims_are_taken_back_but_never_a_live_ones, |db| async move {
    let store = &db.store;
    let org = org(store).await;
    let ids = appointments(store, org, 6).await;
    store.worker_heartbeat("dead", now()).await.unwrap();
    store.worker_heartbeat("slow", now()).await.unwrap();
    let lease = Duration::minutes(10);
    let dead_claims = store.claim_due(org, "dead", now(), lease, 3).await.unwrap();
    let slow_claims = store.claim_due(org, "slow", now(), lease, 3).await.unwrap();
    let dead_run = store.start_run(org, &scheduled(RunKind::Cycle, now(), "dead"), now()).await.unwrap().id().unwrap();
    let slow_run =
        store.start_run(org, &scheduled(RunKind::Comprehensive, now(), "slow"), now()).await.unwrap().id().unwrap();

    // "slow" makes no progress on its run, but its process still beats.
    let later = now() + Duration::seconds(90);
    store.worker_heartbeat("slow", later - Duration::seconds(10)).await.unwrap();
    let recovered = store.recover_dead_workers(later - Duration::seconds(60), later).await.unwrap();
    assert_eq!((recovered.runs_interrupted, recovered.claims_released), (1, 3));
    assert_eq!(store.run(org, dead_run).await.unwrap().status, RunStatus::Interrupted);
    assert_eq!(store.run(org, slow_run).await.unwrap().status, RunStatus::Running, "a live worker's run is its own");

    // The dead worker's claims are free at once, not after their lease; the live one's are not.
    let taken = store.claim_due(org, "restarted", later, lease, 10).await.unwrap();
    let taken: HashSet<_> = taken.iter().map(|a| a.id).collect();
    assert_eq!(taken, dead_claims.iter().map(|a| a.id).collect::<HashSet<_>>());
    assert!(slow_claims.iter().all(|a| !taken.contains(&a.id)));
    assert_eq!(ids.len(), 6);
    // Nothing more to recover: the dead worker is forgotten.
    assert_eq!(store.recover_dead_workers(later - Duration::seconds(60), later).await.unwrap(), Default::default());
});

on_both_backends!(slots_started_answers_for_more_slots_than_one_statement_holds, |db| async move {
    let store = &db.store;
    let org = org(store).await;
    // Two started slots of this organization; the rest of the asked slots
    // (another kind, other hours, another organization) have no run.
    for (kind, hours) in [(RunKind::Cycle, 0), (RunKind::Comprehensive, 6)] {
        let id = store.start_run(org, &scheduled(kind, now() + Duration::hours(hours), "w"), now()).await.unwrap();
        store.finish_run(org, id.id().unwrap(), RunStatus::Succeeded, RunCounts::default(), None, now()).await.unwrap();
    }
    let mut asked = Vec::new();
    for hours in 0..1300 {
        for kind in [RunKind::Cycle, RunKind::Comprehensive] {
            asked.push((org, kind, now() + Duration::hours(hours)));
        }
    }
    asked.push((OrgId(org.get() + 1), RunKind::Cycle, now()));
    let started = store.slots_started(&asked).await.unwrap();
    let expected: HashSet<_> =
        [(org, RunKind::Cycle, now()), (org, RunKind::Comprehensive, now() + Duration::hours(6))].into();
    assert_eq!(started, expected);
    assert!(store.slots_started(&[]).await.unwrap().is_empty());
});
