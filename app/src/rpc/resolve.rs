//! The review page and the review queue: what we know about one appointment
//! (ours, Cal.com's, the history) and the admin's one-click resolutions.
//! Everything is scoped to the signed-in user's organization, so another
//! organization's appointment or issue is simply "not found".

use engine::domain::{ErrorCode, SyncStatus};
use leptos::prelude::*;
use leptos::server_fn::codec::{Json, Postcard};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::rpc::triage::{QueueQuery, TriageState};

pub use engine::domain::{BookingAction, ResolveAction};

/// One compared field, ours against Cal.com's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldComparison {
    /// The compared field's key (`start`, `attendee_email`, …).
    pub field: String,
    /// What a person reads: "Start", "Attendee email", …
    pub label: String,
    pub ours: String,
    pub calcom: String,
    pub differs: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryLine {
    pub at: String,
    pub what: String,
    pub actor: String,
    /// Cal.com's raw answer or the wire values, behind a disclosure.
    pub technical: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueLine {
    pub id: i64,
    pub code: ErrorCode,
    pub opened: String,
    pub detail: Option<String>,
}

/// An issue of the appointment that was closed, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedIssueLine {
    pub code: ErrorCode,
    pub opened: String,
    pub closed: String,
    /// "Resolved itself: Cal.com's booking matched ours when checked on …",
    /// "Marked as resolved by Jane Admin: …".
    pub how: String,
}

/// Everything the review page shows about one appointment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewView {
    pub id: i64,
    pub customer: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub service: String,
    pub time: String,
    pub status: String,
    pub created: String,
    pub source: String,
    pub booking_uid: Option<String>,
    pub sync_status: SyncStatus,
    pub code: Option<ErrorCode>,
    pub detail: Option<String>,
    pub attempts: i64,
    pub last_check: Option<String>,
    pub requires_review: bool,
    /// Whether Cal.com had the booking at the last check; `None` if unknown.
    pub found_in_calcom: Option<bool>,
    /// For DATA_MISMATCH: both versions, field by field.
    pub comparison: Vec<FieldComparison>,
    pub history: Vec<HistoryLine>,
    pub open_issues: Vec<IssueLine>,
    /// The last few closed issues, most recent first.
    pub closed_issues: Vec<ClosedIssueLine>,
    /// The resolutions that fit this case; empty for viewers.
    pub actions: Vec<ResolveAction>,
    /// Cal.com-only bookings this appointment probably is (it has lost its
    /// own or never had one): "Link" gives it the booking.
    pub links: Vec<BookingLink>,
    /// For an appointment Cal.com did not have at its last check: what
    /// shows that.
    pub orphan_evidence: Option<OrphanEvidence>,
}

/// Why calsync believes Cal.com has no booking for an appointment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrphanEvidence {
    /// Each check since it was last found that did not find it, newest
    /// first: when, and how it was asked (the listing and its pages, the
    /// single-booking request).
    pub checks: Vec<EvidenceCheck>,
    /// The last webhook that named its booking, in words.
    pub last_webhook: String,
    /// The deliveries log filtered to its booking, when it has one.
    pub webhooks_href: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceCheck {
    pub at: String,
    pub attempt: Option<i64>,
    pub how: Vec<String>,
}

/// A Cal.com-only booking an appointment probably is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingLink {
    /// The booking's open issue, which linking closes.
    pub issue_id: i64,
    pub booking_uid: String,
    pub time: String,
    pub attendee: Option<String>,
    pub reasons: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveOutcome {
    pub message: String,
    /// The appointment the action left (new for "Create in DB").
    pub appointment_id: Option<i64>,
}

/// One open issue in the review queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    pub issue_id: i64,
    pub code: ErrorCode,
    pub opened: String,
    pub detail: Option<String>,
    /// Set when the issue is about one of our appointments.
    pub appointment_id: Option<i64>,
    pub customer: Option<String>,
    /// The appointment's time, or the Cal.com booking's.
    pub time: Option<String>,
    /// For Cal.com-only bookings.
    pub booking_uid: Option<String>,
    pub attendee: Option<String>,
    /// How long the issue has been waiting: "3 h".
    pub age: String,
    pub state: TriageState,
    /// Who acknowledged or ignored it and when, why and until when.
    pub state_note: Option<String>,
    pub assignee: Option<Assignee>,
    /// How many times this problem has come back after it was closed; 0 if never.
    pub regressions: u32,
    /// For a Cal.com-only booking: the appointments it probably is.
    pub suggestions: Vec<LinkSuggestion>,
}

/// An admin an issue can be given to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewQueue {
    pub items: Vec<QueueItem>,
    pub can_act: bool,
    /// The organization's active admins, for "assign to".
    pub assignees: Vec<Assignee>,
    /// The signed-in user, so "assign to me" needs no lookup.
    pub me: i64,
    /// Set when the list stopped at its limit.
    pub truncated: bool,
}

/// An appointment a Cal.com-only booking probably is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSuggestion {
    pub appointment_id: i64,
    pub customer: String,
    pub time: String,
    pub reasons: String,
}

#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn get_review(id: i64) -> Result<ReviewView, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    let ops = server_context()?.ops;
    server::review(&ops, &user, id).await
}

#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn resolve_appointment(
    id: i64,
    action: ResolveAction,
    note: Option<String>,
) -> Result<ResolveOutcome, AppError> {
    use crate::context::{require_admin, server_context};

    let user = require_admin()?;
    let context = server_context()?;
    server::resolve(&context, &user, id, action, note.as_deref().unwrap_or_default()).await
}

#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn get_review_queue(query: QueueQuery) -> Result<ReviewQueue, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    let ops = server_context()?.ops;
    server::queue(&ops, &user, query).await
}

#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn resolve_booking(
    issue_id: i64,
    action: BookingAction,
    note: Option<String>,
) -> Result<ResolveOutcome, AppError> {
    use crate::context::{require_admin, server_context};

    let user = require_admin()?;
    let context = server_context()?;
    server::resolve_booking(&context, &user, issue_id, action, note.as_deref().unwrap_or_default()).await
}

#[cfg(feature = "ssr")]
mod server {
    use chrono::{DateTime, Utc};
    use engine::domain::{AppointmentId, IssueId};
    use engine::ops::queue::QueueRow;
    use engine::ops::review::{
        Appointment, BookingSuggestion, EventKind, Issue, Organization, OrphanFacts, Resolution, ReviewFacts,
        SyncEvent, User,
    };
    use engine::ops::Operations;

    use super::*;
    use crate::context::{CurrentUser, ServerContext};
    use engine::format::LocalFormat;

    fn history_line(event: SyncEvent, local: LocalFormat) -> HistoryLine {
        let kind = match event.kind {
            EventKind::Created => "Created",
            EventKind::Updated => "Updated",
            EventKind::VerificationQueued => "Verification queued",
            EventKind::Verification => "Verification",
            EventKind::Webhook => "Cal.com webhook",
            EventKind::Resolution => "Resolution",
        };
        let mut what = kind.to_owned();
        if let Some(result) = event.result {
            what.push_str(&format!(": {result}"));
        }
        if let Some(attempt) = event.attempt {
            what.push_str(&format!(" (attempt {attempt})"));
        }
        if let Some(detail) = event.detail {
            what.push_str(&format!(" — {detail}"));
        }
        if let Some(ms) = event.duration_ms {
            what.push_str(&format!(" [{ms} ms]"));
        }
        HistoryLine { at: local.date_time_seconds(event.at), what, actor: event.actor, technical: event.technical }
    }

    /// Both versions of the mismatched fields, from the issue's snapshot.
    fn comparison(a: &Appointment, issue: &Issue, local: LocalFormat) -> Vec<FieldComparison> {
        let differing = issue.stored_differences();
        let Some(theirs) = issue.snapshot() else {
            // Without a snapshot the stored differences are all we have.
            return differing
                .into_iter()
                .map(|d| FieldComparison {
                    label: label(&d.field),
                    field: d.field,
                    ours: d.ours,
                    calcom: d.calcom,
                    differs: true,
                })
                .collect();
        };
        let named = |field: &str| differing.iter().any(|d| d.field == field);
        let status = |s: engine::verify::compare::RemoteStatus| format!("{s:?}").to_lowercase();
        let rows = [
            ("start", local.date_time(a.starts_at), local.date_time(theirs.start), a.starts_at != theirs.start),
            ("end", local.date_time(a.ends_at), local.date_time(theirs.end), a.ends_at != theirs.end),
            ("status", a.status.to_string(), status(theirs.status), named("status")),
            (
                "attendee_email",
                a.customer_email.clone().unwrap_or_default(),
                theirs.attendee_emails.join(", "),
                named("attendee_email"),
            ),
            ("booking", a.calcom_booking_uid.clone().unwrap_or_default(), theirs.uid.clone(), false),
            // Which side moved last is the admin's best clue to which is right.
            (
                "last_changed",
                local.date_time(a.updated_at),
                theirs.changed_at.map_or_else(|| "not recorded at the check".to_owned(), |at| local.date_time(at)),
                false,
            ),
        ];
        rows.into_iter()
            .map(|(field, ours, calcom, differs)| FieldComparison {
                differs: differs || named(field),
                label: label(field),
                field: field.to_owned(),
                ours,
                calcom,
            })
            .collect()
    }

    /// A compared field's name for people.
    fn label(field: &str) -> String {
        match field {
            "start" => "Start",
            "end" => "End",
            "status" => "Status",
            "attendee_email" => "Attendee email",
            "booking" => "Booking uid",
            "last_changed" => "Last changed",
            other => return other.replace('_', " "),
        }
        .to_owned()
    }

    pub async fn review(ops: &Operations, user: &CurrentUser, id: i64) -> Result<ReviewView, AppError> {
        let facts = ops.appointment_review(user.caller(), AppointmentId(id)).await?;
        Ok(review_view(facts))
    }

    fn review_view(facts: ReviewFacts) -> ReviewView {
        let ReviewFacts {
            org,
            appointment: a,
            open_issues,
            history,
            closed_issues,
            users,
            found_in_calcom,
            actions,
            links,
            orphan,
        } = facts;
        let local = org.local_format();
        let mismatch = open_issues.iter().find(|i| i.code == ErrorCode::DataMismatch);
        ReviewView {
            orphan_evidence: orphan.map(|o| orphan_evidence(o, &a, local)),
            links: links.into_iter().map(|s| booking_link(s, local)).collect(),
            closed_issues: closed_issues.into_iter().map(|i| closed_issue_line(&i, &users, local)).collect(),
            id: a.id.get(),
            comparison: mismatch.map(|i| comparison(&a, i, local)).unwrap_or_default(),
            customer: a.customer_name,
            email: a.customer_email,
            phone: a.customer_phone,
            service: a.service,
            time: local.range(a.starts_at, a.ends_at),
            status: a.status.to_string(),
            created: local.date_time(a.created_at),
            source: a.source.to_string(),
            booking_uid: a.calcom_booking_uid,
            sync_status: a.sync.status,
            code: a.sync.error_code,
            detail: a.sync.error_detail,
            attempts: a.sync.attempts,
            last_check: a.sync.last_verified_at.map(|t| local.date_time_seconds(t)),
            requires_review: a.sync.requires_manual_review,
            found_in_calcom,
            history: history.into_iter().map(|e| history_line(e, local)).collect(),
            open_issues: open_issues
                .into_iter()
                .map(|i| IssueLine {
                    id: i.id.get(),
                    code: i.code,
                    opened: local.date_time(i.opened_at),
                    detail: i.detail,
                })
                .collect(),
            actions,
        }
    }

    fn booking_link(s: BookingSuggestion, local: LocalFormat) -> BookingLink {
        BookingLink {
            issue_id: s.issue.get(),
            time: local.date_time(s.booking.start),
            attendee: s.booking.attendee_emails.first().cloned(),
            booking_uid: s.booking.uid,
            reasons: s.reasons,
        }
    }

    fn closed_issue_line(i: &Issue, users: &[User], local: LocalFormat) -> ClosedIssueLine {
        ClosedIssueLine {
            code: i.code,
            opened: local.date_time(i.opened_at),
            closed: i.resolved_at.map(|t| local.date_time(t)).unwrap_or_default(),
            how: how_closed(i, users),
        }
    }

    /// The checks that missed the booking and the last webhook about it,
    /// in words.
    fn orphan_evidence(orphan: OrphanFacts, a: &Appointment, local: LocalFormat) -> OrphanEvidence {
        let checks = orphan
            .misses
            .into_iter()
            .map(|e| EvidenceCheck {
                at: local.date_time_seconds(e.at),
                attempt: e.attempt,
                how: match (e.technical, e.detail) {
                    (Some(how), _) => how.lines().map(str::to_owned).collect(),
                    (None, Some(detail)) => vec![detail],
                    (None, None) => Vec::new(),
                },
            })
            .collect();
        let Some(uid) = a.calcom_booking_uid.as_deref() else {
            return OrphanEvidence {
                checks,
                last_webhook: "It never had a Cal.com booking, so no webhook can name it.".into(),
                webhooks_href: None,
            };
        };
        let last_webhook = match orphan.last_delivery {
            Some(d) => {
                let outcome = d.outcome.map(|o| format!(": {o}")).unwrap_or_else(|| ": not yet processed".into());
                let detail = d.detail.map(|words| format!(" ({words})")).unwrap_or_default();
                format!("{} received {}{outcome}{detail}", d.trigger, local.date_time_seconds(d.received_at))
            }
            None => format!("No webhook naming booking {uid} is in the deliveries log."),
        };
        let href = format!("/deliveries?uid={}", engine::domain::url::query_value(uid));
        OrphanEvidence { checks, last_webhook, webhooks_href: Some(href) }
    }

    /// How a closed issue was closed, in words, naming the admin.
    fn how_closed(issue: &Issue, users: &[User]) -> String {
        use Resolution as R;
        let by = issue.resolved_by.map(|id| crate::rpc::triage::server::user_name(users, id).to_owned());
        let by = by.map(|name| format!(" by {name}")).unwrap_or_default();
        let how = match issue.resolution {
            Some(R::AutoResolved) => return issue.resolution_note.clone().unwrap_or_else(|| "Resolved itself".into()),
            Some(R::CreatedInCalcom) => "Created in Cal.com",
            Some(R::ImportedFromCalcom) => "Created here from Cal.com's booking",
            Some(R::AcceptedCalcom) => "Cal.com's version accepted",
            Some(R::PushedLocal) => "Our version pushed to Cal.com",
            Some(R::Cancelled) => "Cancelled on both sides",
            Some(R::MarkedResolved) => "Marked as resolved",
            Some(R::IgnoreLapsed) => "Closed when its ignore rule ran out",
            Some(R::Linked) => "Linked to a Cal.com booking",
            None => "Closed",
        };
        match issue.resolution_note.as_deref() {
            Some(note) if !note.is_empty() => format!("{how}{by}: {note}"),
            _ => format!("{how}{by}"),
        }
    }

    fn outcome(done: engine::resolve::Resolved) -> ResolveOutcome {
        ResolveOutcome { message: done.message, appointment_id: done.appointment.map(|id| id.get()) }
    }

    pub async fn resolve(
        context: &ServerContext,
        user: &CurrentUser,
        id: i64,
        action: ResolveAction,
        note: &str,
    ) -> Result<ResolveOutcome, AppError> {
        let id = AppointmentId(id);
        Ok(outcome(context.ops.resolve_appointment(&context.connector, user.caller(), id, action, note).await?))
    }

    pub async fn queue(ops: &Operations, user: &CurrentUser, query: QueueQuery) -> Result<ReviewQueue, AppError> {
        use crate::rpc::triage::server::view;

        let facts = ops.review_queue(user.caller(), view(query.show), query.mine).await?;
        let assignees = facts.assignees().map(|u| Assignee { id: u.id.get(), name: u.name.clone() }).collect();
        let items = facts.rows.into_iter().map(|row| queue_item(row, &facts.org, &facts.users, facts.now)).collect();
        Ok(ReviewQueue { items, can_act: facts.can_act, assignees, me: user.user_id.get(), truncated: facts.truncated })
    }

    fn queue_item(row: QueueRow, org: &Organization, users: &[User], now: DateTime<Utc>) -> QueueItem {
        use crate::rpc::triage::server::{age, state_of, user_name};

        let local = org.local_format();
        let QueueRow { issue, appointment, booking, suggestions } = row;
        let (state, state_note) = state_of(&issue, org, users);
        QueueItem {
            age: age(issue.opened_at, now),
            state,
            state_note,
            assignee: issue.assigned_to.map(|id| Assignee { id: id.get(), name: user_name(users, id).to_owned() }),
            regressions: issue.regression.map_or(0, |r| r.count),
            suggestions: suggestions
                .into_iter()
                .map(|s| LinkSuggestion {
                    appointment_id: s.appointment.id.get(),
                    time: local.date_time(s.appointment.starts_at),
                    customer: s.appointment.customer_name,
                    reasons: s.reasons,
                })
                .collect(),
            issue_id: issue.id.get(),
            code: issue.code,
            opened: local.date_time(issue.opened_at),
            detail: issue.detail,
            appointment_id: appointment.as_ref().map(|a| a.id.get()),
            time: appointment
                .as_ref()
                .map(|a| a.starts_at)
                .or(booking.as_ref().map(|b| b.start))
                .map(|t| local.date_time(t)),
            customer: appointment.map(|a| a.customer_name),
            booking_uid: issue.calcom_booking_uid,
            attendee: booking.and_then(|b| b.attendee_emails.first().cloned()),
        }
    }

    pub async fn resolve_booking(
        context: &ServerContext,
        user: &CurrentUser,
        issue_id: i64,
        action: BookingAction,
        note: &str,
    ) -> Result<ResolveOutcome, AppError> {
        let issue = IssueId(issue_id);
        Ok(outcome(context.ops.resolve_booking(&context.connector, user.caller(), issue, action, note).await?))
    }
}
