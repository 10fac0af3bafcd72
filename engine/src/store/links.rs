//! The appointments a suggested link may point at, for many Cal.com-only
//! bookings at once: the review queue shows up to 500 such bookings and
//! asks once, not once per row.

use chrono::{DateTime, Utc};

use super::appointments::{from_row, Appointment, COLUMNS};
use super::sql::Sql;
use super::time::to_ms;
use super::{Store, StoreError};
use crate::domain::{AppointmentStatus, ErrorCode, OrgId, SyncStatus};

/// Windows per statement (two values each).
const WINDOWS_PER_STATEMENT: usize = 1000;

impl Store {
    /// The organization's appointments that start inside any of `windows`
    /// (`[from, until)`) and are free to take a booking: not cancelled, and
    /// without one of their own or with one Cal.com no longer has. Only
    /// these can be suggested, and they are few however busy the hours are.
    pub async fn free_appointments_within(
        &self,
        org: OrgId,
        windows: &[(DateTime<Utc>, DateTime<Utc>)],
    ) -> Result<Vec<Appointment>, StoreError> {
        let mut found: Vec<Appointment> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for chunk in windows.chunks(WINDOWS_PER_STATEMENT) {
            let mut sql = Sql::new(&format!(
                "SELECT {COLUMNS} FROM appointments WHERE id IN (SELECT a.id FROM appointments a JOIN (VALUES "
            ));
            for (i, (from, until)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(to_ms(*from)).push(", ").bind(to_ms(*until)).push(")");
            }
            // VALUES names its columns column1, column2 in both dialects.
            sql.push(") AS w ON a.starts_at >= w.column1 AND a.starts_at < w.column2 WHERE a.org_id = ");
            sql.bind(org.get()).push(" AND a.status <> ").bind(AppointmentStatus::Cancelled.as_str());
            sql.push(" AND (a.calcom_booking_uid IS NULL OR a.sync_status = ").bind(SyncStatus::OrphanedLocal.as_str());
            sql.push(" OR a.sync_error_code = ").bind(ErrorCode::OrphanedLocal.as_str()).push("))");
            let rows = sqlx::query_with(sql.text(self.backend), sql.arguments()?).fetch_all(&self.pool).await?;
            for row in &rows {
                let appointment = from_row(row)?;
                // Windows of two chunks may overlap.
                if seen.insert(appointment.id) {
                    found.push(appointment);
                }
            }
        }
        found.sort_by_key(|a| (a.starts_at, a.id));
        Ok(found)
    }
}
