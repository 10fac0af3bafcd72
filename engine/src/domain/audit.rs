//! What an audit entry records, as one closed set of names: every writer
//! names its action from here, so the log's names cannot drift between the
//! web, the REST API and the command line (the CLI once wrote `user.create`
//! where the web wrote `user.invite` for the same act).

use super::string_enum;

string_enum! {
    /// The stable, dotted name of an audited act, as stored in `audit_log.action`.
    pub enum AuditAction: "audit action" {
        AuthLogin = "auth.login",
        AuthLoginFailed = "auth.login_failed",
        AuthLogout = "auth.logout",
        AuthThrottled = "auth.throttled",
        UserInvite = "user.invite",
        /// Written by the command line before it used `user.invite`; kept so
        /// older logs still read.
        UserCreate = "user.create",
        UserRole = "user.role",
        UserEnable = "user.enable",
        UserDisable = "user.disable",
        UserEmailPreference = "user.email_preference",
        SettingsCalcom = "settings.calcom",
        SettingsSchedule = "settings.schedule",
        SettingsQueue = "settings.queue",
        SettingsAlerts = "settings.alerts",
        SettingsAlertWebhook = "settings.alert_webhook",
        ApiTokenCreate = "api_token.create",
        ApiTokenRevoke = "api_token.revoke",
        RunRequest = "run.request",
        IssueAcknowledge = "issue.acknowledge",
        IssueAssign = "issue.assign",
        IssueIgnore = "issue.ignore",
        IssueUnignore = "issue.unignore",
        IssueMarkResolved = "issue.mark_resolved",
        BookingMarkResolved = "booking.mark_resolved",
        AppointmentsRetryMatching = "appointments.retry_matching",
        AppointmentsResolveMatching = "appointments.resolve_matching",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_its_action() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(*action));
        }
        assert!("user.created".parse::<AuditAction>().is_err());
    }
}
