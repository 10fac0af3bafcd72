//! `GET /appointments.csv`: the appointment list's current filter as CSV,
//! for spreadsheets. Same query parameters as the `/appointments` page.
//! It is in the signed-in route group: the account comes from the login
//! middleware.

use std::collections::HashMap;

use app::context::CurrentUser;
use app::rpc::appointments::server::{criteria, order};
use app::rpc::appointments::AppointmentQuery;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use engine::format::LocalFormat;
use engine::ops::listing::{Appointment, AppointmentOrder, Criteria, PageRequest};
use engine::ops::{Caller, OpError, Operations};
use futures_util::stream::{self, Stream, StreamExt};

use crate::state::AppState;

/// Rows read from the database per query and sent as one chunk: bounded
/// memory per round trip and no long-held read on PostgreSQL.
pub const PAGE: u32 = 1000;

const HEADER: [&str; 17] = [
    "id",
    "customer",
    "email",
    "phone",
    "service",
    "start",
    "end",
    "time_zone",
    "status",
    "source",
    "calcom_booking_uid",
    "sync_status",
    "sync_error_code",
    "sync_error_detail",
    "sync_attempts",
    "last_verified_at_utc",
    "requires_manual_review",
];

pub async fn appointments_csv(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let query = AppointmentQuery::from_params(|key| params.get(key).cloned());
    let export = match Export::start(&state.ops, user.caller(), &query).await {
        Ok(export) => export,
        Err(e) => {
            tracing::error!(error = %e, "CSV export failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "The export failed. Please try again.").into_response();
        }
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"appointments.csv\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(export.chunks()),
    )
        .into_response()
}

/// Every appointment matching the filter, a page at a time (keyset, so a
/// big export never uses OFFSET), ignoring the page cursor of the list
/// view; each page is sent as it is read, so memory stays one page
/// whatever the export's size.
struct Export {
    ops: Operations,
    caller: Caller,
    criteria: Criteria,
    order: AppointmentOrder,
    local: LocalFormat,
    /// Where the next page starts; `None` before the first.
    after: Option<String>,
}

impl Export {
    async fn start(ops: &Operations, caller: Caller, query: &AppointmentQuery) -> Result<Export, OpError> {
        let local = ops.organization(caller).await?.local_format();
        Ok(Export { ops: ops.clone(), caller, criteria: criteria(query), order: order(query), local, after: None })
    }

    /// The header line, then one chunk per page. A failure midway ends the
    /// stream with an error, which aborts the response: the download fails
    /// visibly instead of looking complete.
    fn chunks(self) -> impl Stream<Item = Result<String, OpError>> + Send + 'static {
        let mut head = String::new();
        push_record(&mut head, HEADER.iter().map(|h| (*h).to_owned()));
        let pages = stream::unfold(Some(self), |export| async move {
            let mut export = export?;
            match export.next_page().await {
                Ok((chunk, more)) => Some((Ok(chunk), more.then_some(export))),
                Err(e) => {
                    tracing::error!(error = %e, "CSV export failed midway");
                    Some((Err(e), None))
                }
            }
        });
        stream::once(async { Ok(head) }).chain(pages)
    }

    /// The next page as CSV, and whether another may follow.
    async fn next_page(&mut self) -> Result<(String, bool), OpError> {
        let request = PageRequest { order: self.order, after: self.after.as_deref(), limit: PAGE };
        let page = self.ops.appointment_page(self.caller, &self.criteria, request).await?;
        let mut out = String::new();
        for a in &page.rows {
            push_record(&mut out, record(a, self.local));
        }
        self.after = page.next;
        Ok((out, self.after.is_some()))
    }
}

fn record(a: &Appointment, local: LocalFormat) -> impl Iterator<Item = String> {
    [
        a.id.to_string(),
        a.customer_name.clone(),
        a.customer_email.clone().unwrap_or_default(),
        a.customer_phone.clone().unwrap_or_default(),
        a.service.clone(),
        local.date_time(a.starts_at),
        local.date_time(a.ends_at),
        a.time_zone.name().to_owned(),
        a.status.to_string(),
        a.source.to_string(),
        a.calcom_booking_uid.clone().unwrap_or_default(),
        a.sync.status.to_string(),
        a.sync.error_code.map(|c| c.to_string()).unwrap_or_default(),
        a.sync.error_detail.clone().unwrap_or_default(),
        a.sync.attempts.to_string(),
        a.sync.last_verified_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        a.sync.requires_manual_review.to_string(),
    ]
    .into_iter()
}

fn push_record(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&escape(&field));
    }
    out.push_str("\r\n");
}

/// RFC 4180 quoting, plus a leading `'` on values a spreadsheet would run
/// as a formula (customer names come from outside: "=HYPERLINK(…)").
/// Phone numbers like "+49 …" are left alone.
fn escape(field: &str) -> String {
    let mut chars = field.chars();
    let formula = match (chars.next(), chars.next()) {
        (Some('=' | '@' | '\t' | '\r'), _) => true,
        (Some('+' | '-'), Some(next)) => !(next.is_ascii_digit() || next == ' ' || next == '('),
        _ => false,
    };
    let value = if formula { format!("'{field}") } else { field.to_owned() };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn quotes_separators_and_defuses_formulas() {
        assert_eq!(escape("Max Müller"), "Max Müller");
        assert_eq!(escape("Müller, Max"), "\"Müller, Max\"");
        assert_eq!(escape("say \"hi\"\nbye"), "\"say \"\"hi\"\"\nbye\"");
        assert_eq!(escape("=1+1"), "'=1+1");
        assert_eq!(escape("+49 123 456"), "+49 123 456");
        assert_eq!(escape("-cmd"), "'-cmd");
    }
}
