//! Who may do what in an organization.

use super::string_enum;

string_enum! {
    /// An account's role. Stored and sent with exactly these spellings.
    pub enum Role : "role" {
        /// Changes settings, resolves issues, manages accounts.
        Admin = "admin",
        /// Sees everything of its organization, changes nothing.
        Viewer = "viewer",
    }
}

impl Role {
    pub const fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Viewer => "Viewer",
        }
    }

    pub const fn is_admin(self) -> bool {
        matches!(self, Role::Admin)
    }
}

string_enum! {
    /// Which notifications a user also gets by email.
    pub enum EmailPreference : "email preference" {
        /// Every notification.
        All = "all",
        /// Problems only: no "sync restored" all-clear emails.
        Issues = "issues",
        /// None; the in-app feed still shows everything.
        None = "none",
    }
}

impl EmailPreference {
    pub const fn label(self) -> &'static str {
        match self {
            EmailPreference::All => "All notifications",
            EmailPreference::Issues => "Issues only",
            EmailPreference::None => "None",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_have_their_database_spellings() {
        assert_eq!(Role::Admin.as_str(), "admin");
        assert_eq!("viewer".parse::<Role>().unwrap(), Role::Viewer);
        assert!("root".parse::<Role>().is_err());
    }
}
