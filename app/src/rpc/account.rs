//! The signed-in user's own account: who they are and which notifications
//! also reach them by email.

use engine::domain::{EmailPreference, Role};
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub email_preference: EmailPreference,
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_account() -> Result<Account, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    let email_preference = server_context()?.ops.email_preference(user.caller()).await?;
    Ok(Account { name: user.name, email: user.email, role: user.role, email_preference })
}

/// Viewers may set their own preference too: it changes nothing but their
/// inbox. Returns the preference now in effect.
#[server(prefix = "/rpc", output = Postcard)]
pub async fn set_email_preference(preference: EmailPreference) -> Result<EmailPreference, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    server_context()?.ops.set_email_preference(user.caller(), preference).await?;
    Ok(preference)
}
