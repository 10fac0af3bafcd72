//! Email: what admins receive (`content`), how it is sent (`smtp`), and the
//! outbox worker that retries until the mail server takes it (`delivery`).

pub mod content;
pub mod delivery;
pub mod smtp;

pub use content::EmailContent;
pub use delivery::{deliver_due, DeliveryReport};
pub use smtp::{MailError, SmtpMailer};
