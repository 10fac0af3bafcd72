use anyhow::{anyhow, Result};
use chrono::Utc;
use engine::domain::{AccountName, AuditAction, EmailAddress, Role};
use engine::store::{NewAuditEntry, NewUser, Store};

use crate::auth::password;
use crate::cli::{AdminCommand, CreateUserArgs};

pub async fn run(store: &Store, cmd: AdminCommand) -> Result<()> {
    match cmd {
        AdminCommand::Create(args) => create(store, args).await,
    }
}

async fn create(store: &Store, args: CreateUserArgs) -> Result<()> {
    let org =
        store.organization_by_slug(&args.org).await.map_err(|_| anyhow!("--org: no organization {:?}", args.org))?;
    let email = EmailAddress::parse(&args.email).map_err(|e| anyhow!("--email: {e}"))?;
    let name = AccountName::parse(&args.name).map_err(|e| anyhow!("--name: {e}"))?;
    let role: Role = args.role.parse().map_err(|_| anyhow!("--role: must be admin or viewer"))?;
    let password = super::stdin::read_secret("password")?;
    password::check_policy(&password).map_err(|e| anyhow!("password (standard input): {e}"))?;
    let password_hash = password::hash(password).await?;
    let new = NewUser { email: email.into(), name: name.into(), role, password_hash };
    // The same store call and audit action as the settings page's "Invite":
    // the account and its audit entry in one transaction.
    let entry = NewAuditEntry {
        user_id: None,
        action: AuditAction::UserInvite,
        target: None,
        detail: Some(format!("{} created as {} by the command line", new.email, role.as_str())),
        at: Utc::now(),
    };
    let user = store.invite_user(org.id, &new, &entry).await?;
    println!("created {role} {} ({}) in {}, id {}", user.email, user.name, org.slug, user.id);
    Ok(())
}
