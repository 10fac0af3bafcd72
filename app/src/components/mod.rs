//! Pieces of UI used by several pages.

pub mod badge;
pub mod bell;
pub mod confirm;
pub mod hydrated;
pub mod icon;
pub mod ignore_form;
pub mod layout;
pub mod menu;
pub mod notification;
pub mod outcome;
pub mod post_form;
pub mod status;
pub mod ticker;
