//! Row identifiers as distinct types, so an organization id can never be
//! passed where an appointment id is expected.

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A tenant. Every other row belongs to exactly one.
    OrgId
);
id_type!(
    /// An admin or viewer account.
    UserId
);
id_type!(
    /// An appointment in the business's own records.
    AppointmentId
);
id_type!(
    /// An entry in the review queue.
    IssueId
);
id_type!(
    /// One scheduled or manual verification run.
    RunId
);
id_type!(
    /// An entry in the in-app notification feed.
    NotificationId
);
id_type!(
    /// A per-organization REST API token.
    ApiTokenId
);
id_type!(
    /// A Cal.com outage: from a circuit breaker opening until Cal.com answers again.
    OutageId
);
