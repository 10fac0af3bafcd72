//! Sending through SMTP with lettre. `SMTP_URL` follows lettre's URL form:
//! `smtp://host:port` (plain, for local relays and tests),
//! `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://host:465`.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::EmailContent;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP_URL is not a usable SMTP URL: {0}")]
    Url(String),
    #[error("SMTP_FROM {0:?} is not an email address")]
    From(String),
    #[error("recipient {0:?} is not an email address")]
    To(String),
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Send(String),
}

#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    // The transport holds credentials; never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Must be called inside the Tokio runtime: the connection pool starts a task.
    pub fn new(url: &str, from: &str) -> Result<SmtpMailer, MailError> {
        let _ = rustls_provider();
        let from = from.parse::<Mailbox>().map_err(|_| MailError::From(from.to_owned()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(SmtpMailer { transport, from })
    }

    /// Sends `content` to `to` as the message `key` names: the same key
    /// always gives the same `Message-ID`, so a resend (after a crash
    /// between sending and recording it) is the same message, which mail
    /// clients and servers show once.
    pub async fn send(&self, to: &str, content: &EmailContent, key: &str) -> Result<(), MailError> {
        let to = to.parse::<Mailbox>().map_err(|_| MailError::To(to.to_owned()))?;
        let message = Message::builder()
            .message_id(Some(self.message_id(key)))
            .from(self.from.clone())
            .to(to)
            .subject(&content.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(content.text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(content.html.clone())),
            )
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport.send(message).await.map_err(|e| MailError::Send(e.to_string()))?;
        Ok(())
    }
}

impl SmtpMailer {
    /// `<calsync.KEY@SENDER-DOMAIN>`, with `key` reduced to safe characters.
    fn message_id(&self, key: &str) -> String {
        let key: String =
            key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect();
        format!("<calsync.{key}@{}>", self.from.email.domain())
    }
}

/// lettre's rustls needs a process-wide crypto provider; ring is ours.
fn rustls_provider() -> bool {
    rustls::crypto::ring::default_provider().install_default().is_ok()
}
