//! Turns an untrusted JSON object into a `NewAppointment`, collecting an
//! error for every bad field instead of stopping at the first, so a client
//! can fix its request in one go.

use chrono::{DateTime, Duration, SubsecRound, Utc};
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

/// Every field a create request may carry (the OpenAPI document lists the same).
pub const KNOWN_FIELDS: &[&str] = &[
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
    /// counts as absent. The length limit applies to the string as sent
    /// (JSON Schema's `maxLength`), the other rules to the trimmed value.
    fn text(&mut self, field: &str, max: usize) -> Option<String> {
        match self.object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let long = s.chars().count() > max;
                let s = s.trim();
                if long {
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
        let names = || allowed.iter().map(|v| v.to_string()).collect::<Vec<String>>().join(", ");
        let Some(text) = self.text(field, 64) else {
            // Present but null or blank: there is no default to fall back on.
            if !self.has_error(field) {
                self.errors.add(field, format!("must be one of {}", names()));
            }
            return None;
        };
        match text.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.errors.add(field, format!("unknown {what} {text:?}; expected one of {}", names()));
                None
            }
        }
    }

    fn instant(&mut self, field: &str) -> Option<DateTime<Utc>> {
        let text = self.required_text(field, 64)?;
        // Stored to the millisecond: finer digits are dropped before the
        // rules (ends_at after starts_at) apply, so what passes is what is stored.
        match DateTime::parse_from_rfc3339(&text) {
            Ok(t) => Some(t.with_timezone(&Utc).trunc_subsecs(3)),
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
            // JSON Schema's `integer` includes `5.0` and `5e0`.
            Some(Value::Number(n))
                if n.as_f64().is_some_and(|f| f.fract() == 0.0 && (1.0..9_223_372_036_854_775_808.0).contains(&f)) =>
            {
                n.as_f64().map(|f| f as i64)
            }
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

/// The character rules above as regular expressions, for the OpenAPI
/// document: each matches exactly the strings its field accepts (as sent,
/// before trimming), in both ECMA-262 (`u` flag) and Rust `regex` syntax.
/// Lengths are left to `maxLength` (`LIMITS`).
pub mod patterns {
    /// `char::is_whitespace` (Unicode White_Space), which `str::trim` removes.
    const WS: &str = r"\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
    /// `char::is_control` (general category Cc).
    const CC: &str = r"\u0000-\u001F\u007F-\u009F";

    /// Free text that may be blank (= absent): no control characters once
    /// surrounding whitespace is trimmed.
    pub fn optional_text() -> String {
        format!("^[{WS}]*[^{CC}]*[{WS}]*$")
    }

    /// Free text that must not be blank.
    pub fn required_text() -> String {
        format!("^[{WS}]*[^{CC}]*[^{CC}{WS}][^{CC}]*[{WS}]*$")
    }

    /// Nothing but whitespace: what an optional field treats as absent.
    pub fn blank() -> String {
        format!("^[{WS}]*$")
    }

    /// `valid_email`, or blank: one `@` with something before it, a domain
    /// with a dot not at either end, no whitespace or control characters.
    pub fn email() -> String {
        let any = format!("[^@{WS}{CC}]");
        let no_dot = format!("[^@.{WS}{CC}]");
        format!("^[{WS}]*(?:{any}+@{no_dot}{any}*\\.{any}*{no_dot})?[{WS}]*$")
    }

    /// `valid_phone`, or blank: digits, spaces and `+ - ( ) . /`, at least three digits.
    pub fn phone() -> String {
        format!("^[{WS}]*(?:[ +()./-]*(?:[0-9][ +()./-]*){{3,}})?[{WS}]*$")
    }

    /// `valid_uid`, or blank: ASCII letters, digits, `-` and `_`.
    pub fn booking_uid() -> String {
        format!("^[{WS}]*[A-Za-z0-9_-]*[{WS}]*$")
    }
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

    /// Whether `validate_new` accepts `value` in `field` of an otherwise valid request.
    fn accepts(field: &str, value: &str) -> bool {
        let mut body = valid();
        body[field] = json!(value);
        match validate_new(&body, chrono_tz::UTC, AppointmentSource::Api) {
            Ok(_) => true,
            Err(e) => {
                assert!(e.errors.iter().all(|e| e.field == field), "{e}");
                false
            }
        }
    }

    #[test]
    fn the_documented_patterns_match_exactly_what_is_accepted() {
        let cases: [(&str, String, &[&str]); 6] = [
            ("customer_name", patterns::required_text(), &[]),
            ("external_id", patterns::optional_text(), &[]),
            (
                "customer_email",
                patterns::email(),
                &[
                    "a@b.de",
                    " a@b.de\n",
                    "a@b..c",
                    "a.@b-.c",
                    "a@.b",
                    "a@b.",
                    "a@b.c@d",
                    "ä@ö.ü",
                    "a@b c.d",
                    "a\u{85}@b.c",
                ],
            ),
            (
                "customer_phone",
                patterns::phone(),
                &["123", "12", "+49 (0) 123-456/78", "\t1 2 3\u{3000}", "1 2 a 3", "1\u{a0}23", "1\n23"],
            ),
            ("calcom_booking_uid", patterns::booking_uid(), &["abc-_9", "a b", "ä", "\u{2028}xy\u{2028}", "x.y"]),
            ("service", patterns::required_text(), &[]),
        ];
        let common = [
            "",
            " ",
            "\n\t",
            "Tom",
            " Tom ",
            "\tTom\r\n",
            "To\nm",
            "Tom\u{7f}",
            "\u{85}Tom\u{85}",
            "T\u{85}m",
            "\u{feff}Tom",
            "\u{1c}Tom",
            "Tom\u{1c}",
            "\u{3000}",
            "\u{a0}x\u{a0}",
            "1-2-3",
            "\u{0}",
            "x\u{9f}y",
        ];
        for (field, pattern, extra) in cases {
            let re = regex::Regex::new(&pattern).unwrap();
            for value in common.iter().chain(extra.iter()) {
                assert_eq!(re.is_match(value), accepts(field, value), "{field} {value:?} against {pattern}");
            }
        }
        let blank = regex::Regex::new(&patterns::blank()).unwrap();
        assert!(blank.is_match(" \u{3000}\n") && !blank.is_match(" x") && !blank.is_match("\u{feff}"));
    }

    #[test]
    fn lengths_count_the_string_as_sent_and_nulls_of_enums_name_their_field() {
        let padded = format!(" {} ", "x".repeat(LIMITS.name - 2));
        assert!(accepts("customer_name", &padded));
        assert!(!accepts("customer_name", &format!(" {padded}")));
        for field in ["status", "source"] {
            for value in [json!(null), json!(""), json!(" ")] {
                let mut body = valid();
                body[field] = value;
                assert_eq!(fields(validate_new(&body, chrono_tz::UTC, AppointmentSource::Api)), [field]);
            }
        }
    }

    #[test]
    fn instants_are_kept_to_the_millisecond_before_they_are_compared() {
        let mut body = valid();
        body["starts_at"] = json!("2025-10-13T10:00:00.0001Z");
        body["ends_at"] = json!("2025-10-13T10:00:00.0009Z");
        assert_eq!(fields(validate_new(&body, chrono_tz::UTC, AppointmentSource::Api)), ["ends_at"]);
        body["ends_at"] = json!("2025-10-13T10:00:00.0019Z");
        let a = validate_new(&body, chrono_tz::UTC, AppointmentSource::Api).unwrap();
        assert_eq!((a.ends_at - a.starts_at).num_milliseconds(), 1);
    }

    #[test]
    fn integral_numbers_are_integers() {
        for (value, ok) in [
            (json!(5), true),
            (json!(5.0), true),
            (json!(5.5), false),
            (json!(0), false),
            (json!(-1.0), false),
            (json!(9_223_372_036_854_775_808u64), false),
            (json!(1e19), false),
        ] {
            let mut body = valid();
            body["calcom_event_type_id"] = value.clone();
            assert_eq!(validate_new(&body, chrono_tz::UTC, AppointmentSource::Api).is_ok(), ok, "{value}");
        }
    }
}
