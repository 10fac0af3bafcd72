//! `calsync admin create`: an account with a password read from standard
//! input, through the same operation (and refusals) as the settings page's
//! "Invite".

use anyhow::Result;
use engine::ops::accounts::{FirstPassword, Invitation};
use engine::ops::Operations;

use super::refused;
use crate::cli::{AdminCommand, CreateUserArgs};

pub async fn run(ops: &Operations, cmd: AdminCommand) -> Result<()> {
    match cmd {
        AdminCommand::Create(args) => create(ops, args).await,
    }
}

async fn create(ops: &Operations, args: CreateUserArgs) -> Result<()> {
    let (caller, org) = ops.command_line_caller(&args.org).await.map_err(refused)?;
    let invitation = Invitation::parse(&args.name, &args.email, &args.role).map_err(refused)?;
    let password = super::stdin::read_secret("password")?;
    let invited = ops.invite(caller, invitation, FirstPassword::Chosen(password)).await.map_err(refused)?;
    let user = invited.user;
    println!("created {} {} ({}) in {}, id {}", user.role, user.email, user.name, org.slug, user.id);
    Ok(())
}
