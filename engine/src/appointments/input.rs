//! Turns an untrusted JSON object into a `NewAppointment`, collecting an
//! error for every bad field instead of stopping at the first, so a client
//! can fix its request in one go.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::{AppointmentSource, AppointmentStatus};
use crate::store::NewAppointment;

/// Upper bounds on what we store, so one request cannot bloat the database.
pub struct Limits {
    pub name: usize,
    pub email: usize,
    pub phone: usize,
    pub service: usize,
    pub external_id: usize,
    pub booking_uid: usize,
    pub max_duration_hours: i64,
}

pub const LIMITS: Limits = Limits {
    name: 200,
    email: 254,
    phone: 32,
    service: 200,
    external_id: 128,
    booking_uid: 128,
    max_duration_hours: 24,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid fields: {}", .errors.iter().map(|e| format!("{} ({})", e.field, e.message)).collect::<Vec<_>>().join(", "))]
pub struct FieldErrors {
    pub errors: Vec<FieldError>,
}

impl FieldErrors {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_owned(), message: message.into() });
    }
}

const KNOWN_FIELDS: &[&str] = &[
    "customer_name",
    "customer_email",
    "customer_phone",
    "service",
    "starts_at",
    "ends_at",
    "time_zone",
    "status",
    "source",
    "calcom_booking_uid",
    "calcom_event_type_id",
    "external_id",
];

/// Reads fields one by one, recording what is wrong with each.
struct Reader<'a> {
    object: &'a Map<String, Value>,
    errors: FieldErrors,
}

impl<'a> Reader<'a> {
    /// An optional string; `null` and absent are the same. Empty after trim
    /// counts as absent.
    fn text(&mut self, field: &str, max: usize) -> Option<String> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.chars().count() > max {
                    self.errors.add(field, format!("must be at most {max} characters"));
                    None
                } else if s.chars().any(char::is_control) {
                    self.errors.add(field, "must not contain control characters");
                    None
                } else {
                    (!s.is_empty()).then(|| s.to_owned())
                }
            }
            Some(_) => {
                self.errors.add(field, "must be a string");
                None
            }
        }
    }

    fn required_text(&mut self, field: &str, max: usize) -> Option<String> {
        let present = matches!(self.object.get(field), Some(Value::String(_)));
        let value = self.text(field, max);
        if value.is_none() && present && !self.has_error(field) {
            self.errors.add(field, "must not be empty");
        } else if value.is_none() && !self.has_error(field) {
            self.errors.add(field, "is required");
        }
        value
    }

    fn has_error(&self, field: &str) -> bool {
        self.errors.errors.iter().any(|e| e.field == field)
    }

    fn parsed<T>(&mut self, field: &str, what: &str, allowed: &[T]) -> Option<T>
    where
        T: std::str::FromStr + std::fmt::Display,
    {
        let text = self.text(field, 64)?;
        match text.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                let names: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
                self.errors.add(field, format!("unknown {what} {text:?}; expected one of {}", names.join(", ")));
                None
            }
        }
    }

    fn instant(&mut self, field: &str) -> Option<DateTime<Utc>> {
        let text = self.required_text(field, 64)?;
        match DateTime::parse_from_rfc3339(&text) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                self.errors.add(field, "must be an RFC 3339 date-time with offset, e.g. 2025-10-13T10:00:00+02:00");
                None
            }
        }
    }

    fn integer(&mut self, field: &str) -> Option<i64> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_i64().is_some_and(|v| v > 0) => n.as_i64(),
            Some(_) => {
                self.errors.add(field, "must be a positive integer");
                None
            }
        }
    }
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

fn valid_phone(phone: &str) -> bool {
    phone.chars().filter(char::is_ascii_digit).count() >= 3
        && phone.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c))
}

fn valid_uid(uid: &str) -> bool {
    uid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Validates a create request. The defaults apply to fields the request
/// leaves out: the organization's time zone, and the channel it came through.
pub fn validate_new(
    body: &Value,
    default_time_zone: Tz,
    default_source: AppointmentSource,
) -> Result<NewAppointment, FieldErrors> {
    let Some(object) = body.as_object() else {
        let mut errors = FieldErrors::default();
        errors.add("body", "must be a JSON object");
        return Err(errors);
    };
    let mut r = Reader { object, errors: FieldErrors::default() };
    for key in object.keys().filter(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        r.errors.add(key, "unknown field");
    }

    let customer_name = r.required_text("customer_name", LIMITS.name);
    let customer_email = r.text("customer_email", LIMITS.email);
    if customer_email.as_deref().is_some_and(|e| !valid_email(e)) {
        r.errors.add("customer_email", "is not a valid email address");
    }
    let customer_phone = r.text("customer_phone", LIMITS.phone);
    if customer_phone.as_deref().is_some_and(|p| !valid_phone(p)) {
        r.errors.add("customer_phone", "may contain only digits, spaces and + - ( ) . /");
    }
    let service = r.required_text("service", LIMITS.service);
    let starts_at = r.instant("starts_at");
    let ends_at = r.instant("ends_at");
    if let (Some(start), Some(end)) = (starts_at, ends_at) {
        if end <= start {
            r.errors.add("ends_at", "must be after starts_at");
        } else if end - start > Duration::hours(LIMITS.max_duration_hours) {
            r.errors.add("ends_at", format!("appointment may last at most {} hours", LIMITS.max_duration_hours));
        }
    }
    let time_zone = match r.text("time_zone", 64) {
        None => Some(default_time_zone),
        Some(name) => match name.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                r.errors.add("time_zone", format!("unknown time zone {name:?}; use an IANA name like Europe/Berlin"));
                None
            }
        },
    };
    let status = match r.object.contains_key("status") {
        true => r.parsed("status", "status", AppointmentStatus::ALL),
        false => Some(AppointmentStatus::Scheduled),
    };
    let source = match r.object.contains_key("source") {
        true => r.parsed("source", "source", AppointmentSource::ALL),
        false => Some(default_source),
    };
    let calcom_booking_uid = r.text("calcom_booking_uid", LIMITS.booking_uid);
    if calcom_booking_uid.as_deref().is_some_and(|u| !valid_uid(u)) {
        r.errors.add("calcom_booking_uid", "may contain only letters, digits, - and _");
    }
    let calcom_event_type_id = r.integer("calcom_event_type_id");
    let external_id = r.text("external_id", LIMITS.external_id);

    if !r.errors.errors.is_empty() {
        return Err(r.errors);
    }
    // Every required value is Some here: each None above recorded an error.
    match (customer_name, service, starts_at, ends_at, time_zone, status, source) {
        (
            Some(customer_name),
            Some(service),
            Some(starts_at),
            Some(ends_at),
            Some(time_zone),
            Some(status),
            Some(source),
        ) => Ok(NewAppointment {
            external_id,
            customer_name,
            customer_email,
            customer_phone,
            service,
            starts_at,
            ends_at,
            time_zone,
            status,
            source,
            calcom_booking_uid,
            calcom_event_type_id,
        }),
        _ => {
            let mut errors = FieldErrors::default();
            errors.add("body", "incomplete appointment");
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "customer_name": "Tom Klein",
            "customer_email": "tom.klein@example.com",
            "customer_phone": "+49 123 456789",
            "service": "Hairstyling - Herrenschnitt",
            "starts_at": "2025-10-13T10:00:00+02:00",
            "ends_at": "2025-10-13T10:45:00+02:00",
            "source": "retell",
            "external_id": "crm-1236"
        })
    }

    fn fields(result: Result<NewAppointment, FieldErrors>) -> Vec<String> {
        result.unwrap_err().errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_valid_request_becomes_utc_instants_with_defaults() {
        let a = validate_new(&valid(), chrono_tz::Europe::Berlin, AppointmentSource::Api).unwrap();
        assert_eq!(a.starts_at.to_rfc3339(), "2025-10-13T08:00:00+00:00");
        assert_eq!(a.time_zone, chrono_tz::Europe::Berlin);
        assert_eq!(a.status, AppointmentStatus::Scheduled);
        assert_eq!(a.source, AppointmentSource::Retell);
        assert_eq!(a.external_id.as_deref(), Some("crm-1236"));
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut body = valid();
        body["ends_at"] = json!("2025-10-13T09:00:00+02:00");
        body["time_zone"] = json!("Mars/Olympus");
        body["customer_email"] = json!("not-an-email");
        body["status"] = json!("maybe");
        body["service"] = json!("x".repeat(201));
        body["color"] = json!("red");
        let mut got = fields(validate_new(&body, chrono_tz::UTC, AppointmentSource::Api));
        got.sort();
        assert_eq!(got, ["color", "customer_email", "ends_at", "service", "status", "time_zone"]);
    }

    #[test]
    fn missing_and_mistyped_fields_are_reported() {
        let got = fields(validate_new(
            &json!({"customer_name": 5, "starts_at": "tomorrow"}),
            chrono_tz::UTC,
            AppointmentSource::Api,
        ));
        assert_eq!(got, ["customer_name", "service", "starts_at", "ends_at"]);
        assert_eq!(fields(validate_new(&json!([1, 2]), chrono_tz::UTC, AppointmentSource::Api)), ["body"]);
    }

    #[test]
    fn wall_clock_times_without_offset_are_rejected() {
        let mut body = valid();
        body["starts_at"] = json!("2025-10-13T10:00:00");
        assert_eq!(fields(validate_new(&body, chrono_tz::UTC, AppointmentSource::Api)), ["starts_at"]);
    }

    #[test]
    fn email_and_phone_shapes() {
        for good in ["a@b.de", "tom.klein+x@example.co.uk"] {
            assert!(valid_email(good), "{good}");
        }
        for bad in ["", "a@", "@b.de", "a@b", "a b@c.de", "a@b@c.de", "a@.de"] {
            assert!(!valid_email(bad), "{bad}");
        }
        assert!(valid_phone("+49 (0) 123-456/78"));
        assert!(!valid_phone("call me"));
    }
}
