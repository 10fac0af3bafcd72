//! Who is signed in, for the header.

use engine::domain::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the header shows about the signed-in user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    pub name: String,
    pub role: Role,
    pub org_name: String,
}

/// `None` when nobody is signed in (the login page): not an error.
#[server(prefix = "/rpc")]
pub async fn get_signed_in() -> Result<Option<SignedIn>, AppError> {
    Ok(crate::context::signed_in_user().map(|u| SignedIn { name: u.name, role: u.role, org_name: u.org_name }))
}
