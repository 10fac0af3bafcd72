//! Verification figures by five-minute span, kept for every verification
//! whether or not it left a history row. A routine confirmation (an
//! appointment that was in sync and still is) only moves its last-verified
//! time; the dashboard's health tile and the metrics page still count it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::events::{EventKind, NewSyncEvent};
use super::sql::Sql;
use super::time::to_ms;
use super::{Backend, StoreError};
use crate::domain::OrgId;

/// Width of a span: fine enough for "the last hour" on the dashboard, and
/// every time zone's midnight falls on a span boundary (offsets are whole
/// multiples of 15 minutes).
pub(crate) const SPAN_MS: i64 = 5 * 60 * 1000;

/// Outcomes that are Cal.com's definite answer about a booking.
fn answered(result: &str) -> bool {
    matches!(result, "synced" | "mismatch" | "not_found")
}

/// Cal.com could not answer (timeouts, 5xx, 429, or the circuit was open).
fn failed(result: &str) -> bool {
    matches!(result, "error" | "circuit_open")
}

/// One span's figures, as added up in memory before one upsert.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Span {
    total: i64,
    synced: i64,
    errors: i64,
    unauthorized: i64,
    timed: i64,
    duration_sum: i64,
    duration_min: Option<i64>,
    duration_max: Option<i64>,
    last_at: i64,
    last_unauthorized_at: Option<i64>,
    last_answered_at: Option<i64>,
}

impl Span {
    fn add(&mut self, result: &str, duration_ms: Option<i64>, at: i64) {
        self.total += 1;
        self.synced += i64::from(result == "synced");
        self.errors += i64::from(failed(result));
        self.unauthorized += i64::from(result == "unauthorized");
        // An open circuit answers instantly and would flatter the durations.
        if let (Some(ms), false) = (duration_ms, result == "circuit_open") {
            self.timed += 1;
            self.duration_sum += ms;
            self.duration_min = Some(self.duration_min.map_or(ms, |m| m.min(ms)));
            self.duration_max = Some(self.duration_max.map_or(ms, |m| m.max(ms)));
        }
        self.last_at = self.last_at.max(at);
        if result == "unauthorized" {
            self.last_unauthorized_at = self.last_unauthorized_at.max(Some(at));
        }
        if answered(result) {
            self.last_answered_at = self.last_answered_at.max(Some(at));
        }
    }
}

/// The spans these events fall in, with their figures.
fn spans<'a>(events: impl IntoIterator<Item = &'a NewSyncEvent>) -> BTreeMap<i64, Span> {
    let mut spans: BTreeMap<i64, Span> = BTreeMap::new();
    for event in events.into_iter().filter(|e| e.kind == EventKind::Verification) {
        let at = to_ms(event.at);
        let result = event.result.as_deref().unwrap_or("");
        spans.entry(at.div_euclid(SPAN_MS) * SPAN_MS).or_default().add(result, event.duration_ms, at);
    }
    spans
}

/// The smaller of two nullable columns, portable across both databases
/// (SQLite's two-argument `min` and PostgreSQL's `LEAST` differ on NULL).
fn keep(column: &str, wins: &str) -> String {
    let (old, new) = (format!("verification_stats.{column}"), format!("excluded.{column}"));
    format!(
        "{column} = CASE WHEN {new} IS NULL THEN {old} WHEN {old} IS NULL THEN {new} \
         WHEN {new} {wins} {old} THEN {new} ELSE {old} END"
    )
}

/// Counts the verifications among `events` in their spans, within the
/// caller's transaction.
pub(crate) async fn count<'a>(
    conn: &mut AnyConnection,
    org: OrgId,
    events: impl IntoIterator<Item = &'a NewSyncEvent>,
) -> Result<(), StoreError> {
    let spans = spans(events);
    if spans.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(
        "INSERT INTO verification_stats (org_id, bucket, total, synced, errors, unauthorized, timed, \
         duration_sum, duration_min, duration_max, last_at, last_unauthorized_at, last_answered_at) VALUES ",
    );
    for (i, (bucket, s)) in spans.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(org.get()).push(", ").bind(*bucket).push(", ").bind(s.total).push(", ").bind(s.synced);
        sql.push(", ").bind(s.errors).push(", ").bind(s.unauthorized).push(", ").bind(s.timed);
        sql.push(", ").bind(s.duration_sum).push(", ").bind(s.duration_min).push(", ").bind(s.duration_max);
        sql.push(", ").bind(s.last_at).push(", ").bind(s.last_unauthorized_at).push(", ").bind(s.last_answered_at);
        sql.push(")");
    }
    let sums = ["total", "synced", "errors", "unauthorized", "timed", "duration_sum"]
        .map(|c| format!("{c} = verification_stats.{c} + excluded.{c}"))
        .join(", ");
    let extremes = [
        keep("duration_min", "<"),
        keep("duration_max", ">"),
        keep("last_at", ">"),
        keep("last_unauthorized_at", ">"),
        keep("last_answered_at", ">"),
    ]
    .join(", ");
    sql.push(&format!(" ON CONFLICT (org_id, bucket) DO UPDATE SET {sums}, {extremes}"));
    sqlx::query_with(sql.text(Backend::of(conn)), sql.arguments()?).execute(&mut *conn).await?;
    Ok(())
}

/// The first span that belongs to `[from, …)`: the one holding `from`.
pub(crate) fn span_of(at: DateTime<Utc>) -> i64 {
    to_ms(at).div_euclid(SPAN_MS) * SPAN_MS
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn verification(result: &str, duration_ms: Option<i64>, at: DateTime<Utc>) -> NewSyncEvent {
        NewSyncEvent {
            appointment_id: None,
            kind: EventKind::Verification,
            result: Some(result.to_owned()),
            attempt: None,
            duration_ms,
            detail: None,
            technical: None,
            actor: "system".into(),
            actor_user_id: None,
            at,
        }
    }

    #[test]
    fn events_fall_in_five_minute_spans_and_only_verifications_count() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 10, 4, 59).unwrap();
        let mut other = verification("synced", Some(5), t);
        other.kind = EventKind::Resolution;
        let events = [
            verification("synced", Some(40), t),
            verification("error", Some(900), t),
            verification("circuit_open", Some(0), t),
            verification("unauthorized", Some(30), t + chrono::Duration::seconds(1)),
            other,
        ];
        let spans = spans(&events);
        assert_eq!(spans.len(), 2, "10:04:59 and 10:05:00 are different spans");
        let first = &spans[&span_of(t)];
        assert_eq!((first.total, first.synced, first.errors, first.unauthorized), (3, 1, 2, 0));
        assert_eq!(
            (first.timed, first.duration_sum, first.duration_min, first.duration_max),
            (2, 940, Some(40), Some(900))
        );
        assert_eq!(first.last_answered_at, Some(to_ms(t)));
        let second = spans.values().nth(1).unwrap();
        assert_eq!((second.total, second.unauthorized, second.last_answered_at), (1, 1, None));
        assert_eq!(second.last_unauthorized_at, Some(to_ms(t) + 1000));
    }
}
