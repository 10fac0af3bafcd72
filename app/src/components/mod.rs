//! Pieces of UI used by several pages.

pub mod badge;
pub mod confirm;
pub mod bell;
pub mod layout;
pub mod status;
pub mod ticker;
