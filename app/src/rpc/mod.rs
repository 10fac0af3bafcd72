//! Server functions: the browser's only way to ask the server anything.
//! Each checks who is asking and for which organization before it reads.

pub mod dashboard;
