//! Attributes of an appointment as the business's own system records them.

use super::string_enum;

string_enum! {
    /// The appointment's own status in the business's records.
    pub enum AppointmentStatus : "appointment status" {
        Scheduled = "scheduled",
        Cancelled = "cancelled",
        Completed = "completed",
        NoShow = "no_show",
    }
}

string_enum! {
    /// Where an appointment came from.
    pub enum AppointmentSource : "source" {
        /// The Retell phone agent.
        Retell = "retell",
        Calcom = "calcom",
        Admin = "admin",
        Api = "api",
        Import = "import",
    }
}

impl AppointmentStatus {
    pub const fn label(self) -> &'static str {
        match self {
            AppointmentStatus::Scheduled => "Scheduled",
            AppointmentStatus::Cancelled => "Cancelled",
            AppointmentStatus::Completed => "Completed",
            AppointmentStatus::NoShow => "No-show",
        }
    }
}
