//! Pieces of UI used by several pages.

pub mod bell;
pub mod layout;
pub mod status;
