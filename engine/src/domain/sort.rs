//! The orders the appointment list can be sorted in (also in the URL).

use super::string_enum;

string_enum! {
    #[derive(Default)]
    pub enum SortKey : "sort key" {
        /// Appointment start.
        #[default]
        Start = "start",
        /// Customer name (in the database's collation).
        Customer = "customer",
        /// Sync state (alphabetical by its code).
        Status = "status",
        /// Last change to the appointment or its sync state.
        Updated = "updated",
    }
}

impl SortKey {
    pub const fn label(self) -> &'static str {
        match self {
            SortKey::Start => "Time",
            SortKey::Customer => "Customer",
            SortKey::Status => "Sync status",
            SortKey::Updated => "Last change",
        }
    }
}
