//! Organizations (tenants) and their Cal.com connection settings.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::any::AnyRow;

use super::audit::{self, NewAuditEntry};
use super::row::{get, parse};
use super::time::{from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::OrgId;

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub slug: String,
    pub name: String,
    pub time_zone: Tz,
}

/// An organization as the rest of the engine sees it. The encrypted Cal.com
/// credentials are deliberately not part of it: they are read only by the
/// code that calls Cal.com.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub time_zone: Tz,
    pub locale: String,
    pub calcom_base_url: String,
    pub has_calcom_api_key: bool,
    pub cycle_cron: String,
    pub comprehensive_cron: String,
    pub window_days_back: i64,
    pub window_days_ahead: i64,
    /// Hours after which an acknowledged issue still open is brought up
    /// again in the feed; 0 turns the reminder off.
    pub ack_reminder_hours: i64,
    /// Calls per minute the Cal.com key may make, as Cal.com's answers
    /// stated it; `None` before the first answer with the current key.
    pub calcom_rate_limit: Option<u32>,
    pub created_at: DateTime<Utc>,
}

impl Organization {
    /// Instants in the organization's time zone, dates in its locale's
    /// order: how every message to its people writes them.
    pub fn local_format(&self) -> crate::format::LocalFormat {
        crate::format::LocalFormat::new(self.time_zone, &self.locale)
    }
}

/// "Salon" in Berlin on the default schedules, for unit tests that need an
/// organization but no database.
#[cfg(test)]
pub(crate) fn sample() -> Organization {
    use chrono::TimeZone;
    Organization {
        id: OrgId(1),
        slug: "salon".into(),
        name: "Salon".into(),
        time_zone: chrono_tz::Europe::Berlin,
        locale: "de".into(),
        calcom_base_url: String::new(),
        has_calcom_api_key: false,
        calcom_rate_limit: None,
        cycle_cron: "0 */6 * * *".into(),
        comprehensive_cron: "0 3 * * *".into(),
        window_days_back: 7,
        window_days_ahead: 180,
        ack_reminder_hours: 24,
        created_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
    }
}

const COLUMNS: &str = "id, slug, name, time_zone, locale, calcom_base_url, \
    calcom_api_key_enc IS NOT NULL AS has_key, cycle_cron, comprehensive_cron, \
    window_days_back, window_days_ahead, ack_reminder_hours, calcom_rate_limit, created_at";

fn from_row(row: &AnyRow) -> Result<Organization, StoreError> {
    // `IS NOT NULL` is a boolean on PostgreSQL and an integer on SQLite.
    let has_key = get::<bool>(row, "has_key").or_else(|_| get::<i64>(row, "has_key").map(|v| v != 0))?;
    Ok(Organization {
        id: OrgId(get(row, "id")?),
        slug: get(row, "slug")?,
        name: get(row, "name")?,
        time_zone: parse(row, "time_zone")?,
        locale: get(row, "locale")?,
        calcom_base_url: get(row, "calcom_base_url")?,
        has_calcom_api_key: has_key,
        cycle_cron: get(row, "cycle_cron")?,
        comprehensive_cron: get(row, "comprehensive_cron")?,
        window_days_back: get(row, "window_days_back")?,
        window_days_ahead: get(row, "window_days_ahead")?,
        ack_reminder_hours: get(row, "ack_reminder_hours")?,
        calcom_rate_limit: get::<Option<i64>>(row, "calcom_rate_limit")?.and_then(|v| u32::try_from(v).ok()),
        created_at: from_ms(get(row, "created_at")?),
    })
}

impl Store {
    pub async fn create_organization(
        &self,
        new: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let result = sqlx::query(
            "INSERT INTO organizations (slug, name, time_zone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(&new.slug)
        .bind(&new.name)
        .bind(new.time_zone.name())
        .bind(to_ms(now))
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::from);
        match result {
            Ok(row) => self.organization(OrgId(get(&row, "id")?)).await,
            Err(e) if e.is_unique_violation() => {
                Err(StoreError::Conflict(format!("an organization with slug {:?} exists", new.slug)))
            }
            Err(e) => Err(e),
        }
    }

    pub async fn organization(&self, id: OrgId) -> Result<Organization, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1");
        let row = sqlx::query(&sql).bind(id.get()).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound("organization"))
    }

    pub async fn organization_by_slug(&self, slug: &str) -> Result<Organization, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE slug = $1");
        let row = sqlx::query(&sql).bind(slug).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound("organization"))
    }

    pub async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM organizations ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }
}

/// The sealed Cal.com credentials (see `crate::secrets`), read only by the
/// code that calls Cal.com or checks webhooks. Debug never shows them.
#[derive(Clone, PartialEq)]
pub struct CalcomConnection {
    pub base_url: String,
    pub api_key_sealed: Option<String>,
    pub webhook_secret_sealed: Option<String>,
    pub event_type_id: Option<i64>,
}

impl std::fmt::Debug for CalcomConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalcomConnection")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key_sealed.as_ref().map(|_| "***"))
            .field("webhook_secret", &self.webhook_secret_sealed.as_ref().map(|_| "***"))
            .field("event_type_id", &self.event_type_id)
            .finish()
    }
}

/// A change to the connection; `None` keeps what is stored, so a form can
/// leave the write-only secrets blank.
#[derive(Clone, Default)]
pub struct CalcomConnectionUpdate {
    pub base_url: Option<String>,
    pub api_key_sealed: Option<String>,
    pub webhook_secret_sealed: Option<String>,
    pub event_type_id: Option<i64>,
}

impl Store {
    pub async fn calcom_connection(&self, org: OrgId) -> Result<CalcomConnection, StoreError> {
        let row = sqlx::query(
            "SELECT calcom_base_url, calcom_api_key_enc, calcom_webhook_secret_enc, calcom_event_type_id \
             FROM organizations WHERE id = $1",
        )
        .bind(org.get())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("organization"))?;
        Ok(CalcomConnection {
            base_url: get(&row, "calcom_base_url")?,
            api_key_sealed: get(&row, "calcom_api_key_enc")?,
            webhook_secret_sealed: get(&row, "calcom_webhook_secret_enc")?,
            event_type_id: get(&row, "calcom_event_type_id")?,
        })
    }

    pub async fn update_calcom_connection(
        &self,
        org: OrgId,
        update: &CalcomConnectionUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        apply_calcom_update(&self.pool, org, update, now).await
    }

    /// Changes the connection and writes its audit entry in one transaction.
    pub async fn update_calcom_connection_audited(
        &self,
        org: OrgId,
        update: &CalcomConnectionUpdate,
        entry: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        apply_calcom_update(&mut *tx, org, update, entry.at).await?;
        audit::insert(&mut *tx, org, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the schedule, time zone and comprehensive window, audited in
    /// the same transaction. The caller validates (cron, bounds).
    pub async fn update_schedule(
        &self,
        org: OrgId,
        schedule: &ScheduleUpdate,
        entry: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE organizations SET time_zone = $2, cycle_cron = $3, comprehensive_cron = $4, \
               window_days_back = $5, window_days_ahead = $6, updated_at = $7 \
             WHERE id = $1",
        )
        .bind(org.get())
        .bind(schedule.time_zone.name())
        .bind(&schedule.cycle_cron)
        .bind(&schedule.comprehensive_cron)
        .bind(schedule.window_days_back)
        .bind(schedule.window_days_ahead)
        .bind(to_ms(entry.at))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("organization"));
        }
        audit::insert(&mut *tx, org, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Remembers the calls per minute Cal.com says the organization's key
    /// may make. Not an admin action: no audit entry, `updated_at` kept.
    pub async fn record_calcom_rate_limit(&self, org: OrgId, per_minute: u32) -> Result<(), StoreError> {
        sqlx::query("UPDATE organizations SET calcom_rate_limit = $2 WHERE id = $1")
            .bind(org.get())
            .bind(i64::from(per_minute))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets the hours after which acknowledged issues are brought up again,
    /// with its audit entry.
    pub async fn update_ack_reminder(&self, org: OrgId, hours: i64, entry: &NewAuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE organizations SET ack_reminder_hours = $2, updated_at = $3 WHERE id = $1")
            .bind(org.get())
            .bind(hours)
            .bind(to_ms(entry.at))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("organization"));
        }
        audit::insert(&mut *tx, org, entry).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// When the organization's runs happen and what the comprehensive check covers.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleUpdate {
    pub time_zone: Tz,
    pub cycle_cron: String,
    pub comprehensive_cron: String,
    pub window_days_back: i64,
    pub window_days_ahead: i64,
}

async fn apply_calcom_update<'e, E>(
    exec: E,
    org: OrgId,
    update: &CalcomConnectionUpdate,
    now: DateTime<Utc>,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "UPDATE organizations SET \
           calcom_base_url = COALESCE($2, calcom_base_url), \
           calcom_api_key_enc = COALESCE($3, calcom_api_key_enc), \
           calcom_webhook_secret_enc = COALESCE($4, calcom_webhook_secret_enc), \
           calcom_event_type_id = COALESCE($5, calcom_event_type_id), \
           calcom_rate_limit = CASE WHEN $2 IS NULL AND $3 IS NULL THEN calcom_rate_limit ELSE NULL END, \
           updated_at = $6 \
         WHERE id = $1",
    )
    .bind(org.get())
    .bind(update.base_url.as_deref())
    .bind(update.api_key_sealed.as_deref())
    .bind(update.webhook_secret_sealed.as_deref())
    .bind(update.event_type_id)
    .bind(to_ms(now))
    .execute(exec)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("organization"));
    }
    Ok(())
}
