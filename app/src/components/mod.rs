//! Pieces of UI used by several pages.

pub mod layout;
pub mod status;
