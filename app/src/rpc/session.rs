//! Who is signed in, for the header.

use engine::domain::Role;
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;
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
#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_signed_in() -> Result<Option<SignedIn>, AppError> {
    Ok(crate::context::signed_in_user().map(|u| SignedIn { name: u.name, role: u.role, org_name: u.org_name }))
}
