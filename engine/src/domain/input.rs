//! What people type, parsed once. The web, the REST API and the command
//! line all turn text into these types, so they accept and refuse exactly
//! the same values, with the same words: each error says the rule, and the
//! caller names the field (`email`, `--email`).

use std::fmt;

/// Why typed text is not a valid value: the rule it breaks, for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{rule}")]
pub struct Invalid {
    pub rule: &'static str,
}

/// Longest text kept for a name or an email address.
pub const MAX_TEXT: usize = 200;

/// The hours an organization may wait before an acknowledged issue still
/// open is brought up again: 0 turns reminders off; at most 30 days.
pub const ACK_REMINDER_HOURS: std::ops::RangeInclusive<i64> = 0..=720;

/// How far back and ahead an organization's comprehensive check may look, in days.
pub const WINDOW_DAYS_BACK: std::ops::RangeInclusive<i64> = 1..=365;
pub const WINDOW_DAYS_AHEAD: std::ops::RangeInclusive<i64> = 1..=730;

/// An account's email address: trimmed, lower-case (one account per
/// address, however it is typed), `local@domain` with a dot in the domain.
/// Deliberately no fuller check: whether the person can log in with it is
/// the real one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub const RULE: &'static str = "must be an email address like name@example.com";

    pub fn parse(raw: &str) -> Result<EmailAddress, Invalid> {
        let email = raw.trim().to_lowercase();
        let shaped = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.starts_with('.')
        });
        let clean = !email.chars().any(|c| c.is_whitespace() || c.is_control());
        (shaped && clean && email.len() <= MAX_TEXT).then_some(EmailAddress(email)).ok_or(Invalid { rule: Self::RULE })
    }
}

/// Where an organization's Cal.com API answers: an http(s) URL with a host
/// (and perhaps a port and a path), kept without a trailing slash so that
/// `{base}/v2/...` is always one slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BaseUrl(String);

impl BaseUrl {
    pub const RULE: &'static str = "must be an http(s) URL such as https://api.cal.com";

    pub fn parse(raw: &str) -> Result<BaseUrl, Invalid> {
        let url = raw.trim().trim_end_matches('/');
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        let usable = rest.is_some_and(|rest| {
            let authority = rest.split('/').next().unwrap_or_default();
            let host_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
            let path_chars = |c: char| c.is_ascii_graphic() && !matches!(c, '?' | '#');
            !authority.is_empty()
                && authority.chars().all(host_chars)
                && !authority.starts_with(':')
                && authority.matches('[').count() == authority.matches(']').count()
                && rest.chars().all(path_chars)
        });
        (usable && url.len() <= 2000).then(|| BaseUrl(url.to_owned())).ok_or(Invalid { rule: Self::RULE })
    }
}

/// An organization's short name in URLs (`/webhooks/calcom/{slug}`):
/// lower-case letters, digits and dashes, not starting with a dash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub const RULE: &'static str = "must be 1-63 lower-case letters, digits or dashes, not starting with a dash";

    pub fn parse(raw: &str) -> Result<Slug, Invalid> {
        let ok = !raw.is_empty()
            && raw.len() <= 63
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !raw.starts_with('-');
        ok.then(|| Slug(raw.to_owned())).ok_or(Invalid { rule: Self::RULE })
    }
}

/// A person's name on an account: trimmed, 1 to [`MAX_TEXT`] characters,
/// no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountName(String);

impl AccountName {
    pub const RULE: &'static str = "must be 1-200 characters";

    pub fn parse(raw: &str) -> Result<AccountName, Invalid> {
        let name = raw.trim();
        let ok = !name.is_empty() && name.chars().count() <= MAX_TEXT && !name.chars().any(char::is_control);
        ok.then(|| AccountName(name.to_owned())).ok_or(Invalid { rule: Self::RULE })
    }
}

/// A REST API token's name, shown in lists so an admin knows which
/// integration holds it: trimmed, 1 to [`TokenName::MAX`] characters, no
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenName(String);

impl TokenName {
    pub const MAX: usize = 100;
    pub const RULE: &'static str = "must be 1-100 characters without control characters";

    pub fn parse(raw: &str) -> Result<TokenName, Invalid> {
        let name = raw.trim();
        let ok = !name.is_empty() && name.chars().count() <= Self::MAX && !name.chars().any(char::is_control);
        ok.then(|| TokenName(name.to_owned())).ok_or(Invalid { rule: Self::RULE })
    }
}

/// An organization's time zone, by its IANA name (`Europe/Berlin`): every
/// local time calsync shows or schedules is in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZoneName(chrono_tz::Tz);

impl TimeZoneName {
    pub const RULE: &'static str = "unknown time zone; use an IANA name like Europe/Berlin";

    pub fn parse(raw: &str) -> Result<TimeZoneName, Invalid> {
        raw.trim().parse().map(TimeZoneName).map_err(|_| Invalid { rule: Self::RULE })
    }

    pub fn zone(self) -> chrono_tz::Tz {
        self.0
    }
}

macro_rules! text_value {
    ($($name:ident),+) => {$(
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                $name::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                $name::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    )+};
}
text_value!(EmailAddress, BaseUrl, Slug, AccountName, TokenName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_trimmed_and_lower_cased() {
        assert_eq!(EmailAddress::parse("  Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
    }

    #[test]
    fn email_addresses_need_a_local_part_and_a_domain_with_a_dot() {
        for bad in ["", "ann", "@example.com", "ann@", "ann@localhost", "ann@.com", "a b@example.com", "a@b@c.de"] {
            assert_eq!(EmailAddress::parse(bad), Err(Invalid { rule: EmailAddress::RULE }), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(MAX_TEXT));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn base_urls_lose_their_trailing_slash() {
        assert_eq!(BaseUrl::parse(" https://api.cal.com/ ").unwrap().as_str(), "https://api.cal.com");
        assert_eq!(BaseUrl::parse("http://127.0.0.1:3999/cal").unwrap().as_str(), "http://127.0.0.1:3999/cal");
        assert_eq!(BaseUrl::parse("http://[::1]:8080").unwrap().as_str(), "http://[::1]:8080");
    }

    #[test]
    fn base_urls_need_http_or_https_and_a_host() {
        for bad in [
            "",
            "api.cal.com",
            "ftp://api.cal.com",
            "https://",
            "https:///v2",
            "https://exa mple.com",
            "https://:80",
            "http://[::1",
        ] {
            assert_eq!(BaseUrl::parse(bad), Err(Invalid { rule: BaseUrl::RULE }), "{bad:?}");
        }
        assert!(BaseUrl::parse("https://api.cal.com/?x=1").is_err(), "a query would break every path");
    }

    #[test]
    fn slugs_are_lower_case_letters_digits_and_dashes() {
        assert_eq!(Slug::parse("salon-2").unwrap().as_str(), "salon-2");
        for bad in ["", "Salon", "-salon", "sa lon", "salon_2", &"a".repeat(64)] {
            assert_eq!(Slug::parse(bad), Err(Invalid { rule: Slug::RULE }), "{bad:?}");
        }
    }

    #[test]
    fn account_names_are_trimmed_and_bounded() {
        assert_eq!(AccountName::parse("  Ann Boss ").unwrap().as_str(), "Ann Boss");
        assert_eq!(AccountName::RULE, format!("must be 1-{MAX_TEXT} characters"));
        for bad in ["", "   ", "Ann\u{7}", &"a".repeat(MAX_TEXT + 1)] {
            assert_eq!(AccountName::parse(bad), Err(Invalid { rule: AccountName::RULE }), "{bad:?}");
        }
        assert!(AccountName::parse(&"ä".repeat(MAX_TEXT)).is_ok(), "characters, not bytes");
    }

    #[test]
    fn token_names_are_trimmed_and_bounded() {
        assert_eq!(TokenName::parse(" booking bot ").unwrap().as_str(), "booking bot");
        assert_eq!(TokenName::RULE, format!("must be 1-{} characters without control characters", TokenName::MAX));
        for bad in ["", "  ", "bot\n2", &"a".repeat(TokenName::MAX + 1)] {
            assert_eq!(TokenName::parse(bad), Err(Invalid { rule: TokenName::RULE }), "{bad:?}");
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(TimeZoneName::parse(" Europe/Berlin ").unwrap().zone(), chrono_tz::Europe::Berlin);
        for bad in ["", "Berlin", "CEST", "Europe/Atlantis"] {
            assert_eq!(TimeZoneName::parse(bad), Err(Invalid { rule: TimeZoneName::RULE }), "{bad:?}");
        }
    }

    #[test]
    fn serde_refuses_what_parse_refuses() {
        assert!(serde_json::from_str::<EmailAddress>("\"nope\"").is_err());
        let ok: BaseUrl = serde_json::from_str("\"https://api.cal.com/\"").unwrap();
        assert_eq!(ok.as_str(), "https://api.cal.com");
    }
}
