//! The sync states and error codes of the spec, spelled exactly as the spec
//! spells them: these strings are stored in the database and sent over the
//! API, so they are part of the contract.

use super::string_enum;

string_enum! {
    /// Where an appointment stands with respect to Cal.com.
    pub enum SyncStatus : "sync status" {
        /// Exists in both systems and agrees.
        Synced = "synced",
        /// Awaiting its first verification.
        Pending = "pending",
        /// The last verification could not get an answer (network/API error).
        Failed = "failed",
        /// Only in our database: Cal.com answered that the booking does not exist.
        OrphanedLocal = "orphaned_local",
        /// Only in Cal.com. Held by review issues, not by appointments.
        OrphanedCalcom = "orphaned_calcom",
        /// Queued for verification right now.
        VerificationPending = "verification_pending",
    }
}

string_enum! {
    /// Why an appointment or booking is not in sync.
    pub enum ErrorCode : "error code" {
        OrphanedLocal = "ORPHANED_LOCAL",
        OrphanedCalcom = "ORPHANED_CALCOM",
        DataMismatch = "DATA_MISMATCH",
        VerificationError = "VERIFICATION_ERROR",
        CircuitOpen = "CIRCUIT_OPEN",
    }
}

impl SyncStatus {
    /// Words for people, as the spec's screens use them.
    pub const fn label(self) -> &'static str {
        match self {
            SyncStatus::Synced => "Synced",
            SyncStatus::Pending => "Pending",
            SyncStatus::Failed => "Failed",
            SyncStatus::OrphanedLocal => "Orphaned local",
            SyncStatus::OrphanedCalcom => "Orphaned Cal.com",
            SyncStatus::VerificationPending => "Verifying",
        }
    }
}

impl ErrorCode {
    /// Whether issues of this code can share their reason: a failure's words
    /// ("Cal.com was unavailable (HTTP 503)") are the same for every
    /// appointment an outage hit, while the other codes' reasons name their
    /// own appointment's booking or values. The queue groups by code and,
    /// where it is shared, by reason.
    pub const fn reason_is_shared(self) -> bool {
        matches!(self, ErrorCode::VerificationError | ErrorCode::CircuitOpen)
    }

    /// Whether retrying without a person can fix it (the spec's error matrix).
    pub const fn auto_recoverable(self) -> bool {
        matches!(self, ErrorCode::VerificationError | ErrorCode::CircuitOpen)
    }

    pub const fn label(self) -> &'static str {
        match self {
            ErrorCode::OrphanedLocal => "In our database, not in Cal.com",
            ErrorCode::OrphanedCalcom => "In Cal.com, not in our database",
            ErrorCode::DataMismatch => "Time or status differ",
            ErrorCode::VerificationError => "Cal.com API or network error",
            ErrorCode::CircuitOpen => "Cal.com unavailable, waiting",
        }
    }
}

/// How many appointments of one organization are in each state, plus the
/// number flagged for manual review.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncCounts {
    pub synced: i64,
    pub pending: i64,
    pub failed: i64,
    pub orphaned_local: i64,
    pub orphaned_calcom: i64,
    pub verification_pending: i64,
    pub requires_review: i64,
}

impl SyncCounts {
    pub fn get(&self, status: SyncStatus) -> i64 {
        match status {
            SyncStatus::Synced => self.synced,
            SyncStatus::Pending => self.pending,
            SyncStatus::Failed => self.failed,
            SyncStatus::OrphanedLocal => self.orphaned_local,
            SyncStatus::OrphanedCalcom => self.orphaned_calcom,
            SyncStatus::VerificationPending => self.verification_pending,
        }
    }

    pub fn add(&mut self, status: SyncStatus, n: i64) {
        let slot = match status {
            SyncStatus::Synced => &mut self.synced,
            SyncStatus::Pending => &mut self.pending,
            SyncStatus::Failed => &mut self.failed,
            SyncStatus::OrphanedLocal => &mut self.orphaned_local,
            SyncStatus::OrphanedCalcom => &mut self.orphaned_calcom,
            SyncStatus::VerificationPending => &mut self.verification_pending,
        };
        *slot += n;
    }

    /// Appointments held locally (Cal.com-only bookings are not appointments).
    pub fn total(&self) -> i64 {
        SyncStatus::ALL.iter().filter(|s| **s != SyncStatus::OrphanedCalcom).map(|s| self.get(*s)).sum()
    }

    /// Share of local appointments that are synced, in percent; `None` when
    /// there is nothing to measure.
    pub fn synced_percent(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| self.synced as f64 * 100.0 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_spec_spelling() {
        for s in SyncStatus::ALL {
            assert_eq!(s.as_str().parse::<SyncStatus>().unwrap(), *s);
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        let spelled: Vec<_> = SyncStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            spelled,
            ["synced", "pending", "failed", "orphaned_local", "orphaned_calcom", "verification_pending"]
        );
    }

    #[test]
    fn error_codes_use_the_spec_spelling_and_matrix() {
        let spelled: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            spelled,
            ["ORPHANED_LOCAL", "ORPHANED_CALCOM", "DATA_MISMATCH", "VERIFICATION_ERROR", "CIRCUIT_OPEN"]
        );
        let recoverable: Vec<_> = ErrorCode::ALL.iter().filter(|c| c.auto_recoverable()).collect();
        assert_eq!(recoverable, [&ErrorCode::VerificationError, &ErrorCode::CircuitOpen]);
    }

    #[test]
    fn unknown_spelling_is_an_error_naming_the_value() {
        let err = "Synced".parse::<SyncStatus>().unwrap_err();
        assert_eq!(err.to_string(), "unknown sync status \"Synced\"");
    }

    #[test]
    fn percent_ignores_calcom_only_and_empty() {
        assert_eq!(SyncCounts::default().synced_percent(), None);
        let c = SyncCounts { synced: 3, pending: 1, orphaned_calcom: 10, ..Default::default() };
        assert_eq!(c.total(), 4);
        assert_eq!(c.synced_percent(), Some(75.0));
    }
}
