//! The alert rules an organization can set, their defaults, and the
//! throttle's arithmetic. No I/O here: `dispatch` applies these to the
//! store and `notices` words what is sent.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{string_enum, Invalid};

string_enum! {
    /// When admins are pushed (email, signed webhook) rather than only
    /// shown the feed.
    pub enum RuleKind : "alert rule" {
        /// A verification fails for the first time (its retries still
        /// ahead). Off by default: most such failures fix themselves.
        FirstFailure = "first_failure",
        /// An issue reaches the review queue: retries used up, or a
        /// difference no retry can fix. On by default, unthrottled: today's
        /// one email per issue.
        RetriesUsedUp = "retries_used_up",
        /// More issues are open than the rule's threshold.
        OpenOver = "open_over",
    }
}

impl RuleKind {
    /// What the rule watches, for the settings page and the notices.
    pub fn label(self) -> &'static str {
        match self {
            RuleKind::FirstFailure => "A verification fails for the first time",
            RuleKind::RetriesUsedUp => "An issue reaches the review queue (retries used up)",
            RuleKind::OpenOver => "Open issues exceed a threshold",
        }
    }

    /// What it means when the condition clears, for the recovery notice.
    pub fn recovered(self) -> &'static str {
        match self {
            RuleKind::FirstFailure => "Every verification passes again: no appointment is waiting for a retry",
            RuleKind::RetriesUsedUp => "The review queue is empty again",
            RuleKind::OpenOver => "Open issues are back at or below the threshold",
        }
    }
}

/// Longest throttle period: one day.
pub const THROTTLE_MINUTES: std::ops::RangeInclusive<u32> = 0..=1440;
/// The open-issue threshold's range.
pub const THRESHOLD: std::ops::RangeInclusive<u32> = 1..=100_000;
/// Lines of held-back events a digest lists (the count covers all).
pub const DIGEST_LINES: usize = 20;

/// One rule as an organization set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleSettings {
    pub kind: RuleKind,
    pub enabled: bool,
    /// Only `OpenOver` uses it: more open issues than this fire the rule.
    pub threshold: u32,
    /// At most one push per this many minutes; 0 pushes every event.
    pub throttle_minutes: u32,
    pub by_email: bool,
    pub by_webhook: bool,
}

impl RuleSettings {
    /// The rule as a new organization has it.
    pub fn default_for(kind: RuleKind) -> RuleSettings {
        let (enabled, throttle_minutes) = match kind {
            RuleKind::FirstFailure => (false, 60),
            RuleKind::RetriesUsedUp => (true, 0),
            RuleKind::OpenOver => (false, 60),
        };
        RuleSettings { kind, enabled, threshold: 25, throttle_minutes, by_email: true, by_webhook: false }
    }

    /// Parses the settings form's text for one rule (checkboxes send "on"
    /// or nothing); the web and the API share it.
    pub fn parse(kind: RuleKind, form: &RuleForm) -> Result<RuleSettings, (&'static str, Invalid)> {
        let number = |field: &'static str, raw: &str, range: &std::ops::RangeInclusive<u32>, rule: &'static str| {
            raw.trim().parse::<u32>().ok().filter(|n| range.contains(n)).ok_or((field, Invalid { rule }))
        };
        Ok(RuleSettings {
            kind,
            enabled: checked(&form.enabled),
            threshold: number("threshold", &form.threshold, &THRESHOLD, "must be a whole number from 1 to 100000")?,
            throttle_minutes: number(
                "throttle_minutes",
                &form.throttle_minutes,
                &THROTTLE_MINUTES,
                "must be a whole number of minutes from 0 to 1440",
            )?,
            by_email: checked(&form.by_email),
            by_webhook: checked(&form.by_webhook),
        })
    }

    /// When the throttle lets the next push out, after one at `last`.
    pub fn next_push(&self, last: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        last.map(|at| at + Duration::minutes(i64::from(self.throttle_minutes)))
    }

    /// Whether a push at `now` is within the throttle after one at `last`.
    pub fn may_push(&self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        self.next_push(last).is_none_or(|next| next <= now)
    }

    /// The settings in words, for the audit log.
    pub fn describe(&self) -> String {
        if !self.enabled {
            return format!("{}: off", self.kind);
        }
        let mut channels = vec!["feed"];
        if self.by_email {
            channels.push("email");
        }
        if self.by_webhook {
            channels.push("webhook");
        }
        let threshold = match self.kind {
            RuleKind::OpenOver => format!(" over {}", self.threshold),
            _ => String::new(),
        };
        let throttle = match self.throttle_minutes {
            0 => "every event".to_owned(),
            m => format!("at most once per {m} min"),
        };
        format!("{}{threshold}: {}, {throttle}", self.kind, channels.join("+"))
    }
}

/// One rule's fields as the settings form sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleForm {
    pub enabled: String,
    pub threshold: String,
    pub throttle_minutes: String,
    pub by_email: String,
    pub by_webhook: String,
}

/// A checkbox's value: "on" (what a browser sends) or "true".
fn checked(raw: &str) -> bool {
    matches!(raw.trim(), "on" | "true" | "1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn form(enabled: &str, threshold: &str, throttle: &str) -> RuleForm {
        RuleForm {
            enabled: enabled.into(),
            threshold: threshold.into(),
            throttle_minutes: throttle.into(),
            by_email: "on".into(),
            by_webhook: String::new(),
        }
    }

    #[test]
    fn defaults_keep_one_email_per_issue_and_leave_the_rest_off() {
        let used_up = RuleSettings::default_for(RuleKind::RetriesUsedUp);
        assert!(used_up.enabled && used_up.by_email && used_up.throttle_minutes == 0);
        assert!(!RuleSettings::default_for(RuleKind::FirstFailure).enabled);
        assert!(!RuleSettings::default_for(RuleKind::OpenOver).enabled);
    }

    #[test]
    fn the_form_is_parsed_once_with_the_rule_in_words() {
        let rule = RuleSettings::parse(RuleKind::OpenOver, &form("on", " 10 ", "30")).unwrap();
        assert_eq!(
            (rule.enabled, rule.threshold, rule.throttle_minutes, rule.by_email, rule.by_webhook),
            (true, 10, 30, true, false)
        );
        assert!(!RuleSettings::parse(RuleKind::OpenOver, &form("", "10", "30")).unwrap().enabled);
        for (threshold, throttle, field) in [
            ("0", "30", "threshold"),
            ("x", "30", "threshold"),
            ("5", "1441", "throttle_minutes"),
            ("5", "-1", "throttle_minutes"),
        ] {
            let (which, why) = RuleSettings::parse(RuleKind::OpenOver, &form("on", threshold, throttle)).unwrap_err();
            assert_eq!(which, field, "{threshold} {throttle}");
            assert!(why.rule.starts_with("must be a whole number"), "{}", why.rule);
        }
    }

    #[test]
    fn the_throttle_lets_one_push_out_per_period() {
        let rule = RuleSettings { throttle_minutes: 60, ..RuleSettings::default_for(RuleKind::OpenOver) };
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap();
        assert!(rule.may_push(None, at), "the first push goes out");
        assert!(!rule.may_push(Some(at), at + Duration::minutes(59)));
        assert!(rule.may_push(Some(at), at + Duration::minutes(60)));
        let every = RuleSettings { throttle_minutes: 0, ..rule };
        assert!(every.may_push(Some(at), at), "0 pushes every event");
    }

    #[test]
    fn settings_read_as_words_in_the_audit_log() {
        let rule = RuleSettings {
            enabled: true,
            by_webhook: true,
            threshold: 10,
            ..RuleSettings::default_for(RuleKind::OpenOver)
        };
        assert_eq!(rule.describe(), "open_over over 10: feed+email+webhook, at most once per 60 min");
        assert_eq!(RuleSettings::default_for(RuleKind::FirstFailure).describe(), "first_failure: off");
    }
}
