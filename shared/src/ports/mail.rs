//! The mail port: hands a finished MIME message to the mail service.

use async_trait::async_trait;

use crate::domain::{EmailAddress, TenantId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("the mail service is throttling; try again later")]
    Throttled,
    #[error("the daily sending quota is used up")]
    DailyQuotaExceeded,
    #[error("the sender {0} is not a verified identity")]
    SenderNotVerified(String),
    /// The mail service refused the message. The reason is a short fixed
    /// text (it may reach API clients), never the provider's own wording,
    /// which can echo addresses.
    #[error("the message was rejected: {0}")]
    Rejected(&'static str),
    #[error("the mail service is unavailable: {0}")]
    Unavailable(String),
}

impl MailError {
    /// Whether sending the same message again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Throttled | Self::Unavailable(_))
    }
}

/// A message ready to send: envelope, raw MIME bytes and tags that let later
/// delivery events be matched (tenant, campaign, recipient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub tenant: TenantId,
    pub from: EmailAddress,
    pub recipients: Vec<EmailAddress>,
    pub raw: Vec<u8>,
    /// Names and values of `A-Za-z0-9_-` only (as SES requires).
    pub tags: Vec<(String, String)>,
}

/// What the mail service answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub provider_message_id: String,
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    fn backend(&self) -> &'static str;

    /// Registers a sender identity: a domain (`example.de`) or an address.
    /// SES starts its verification; the local outbox accepts it at once.
    async fn register_identity(&self, identity: &str) -> Result<(), MailError>;

    /// Sends one message. The sender must be a registered identity, or its
    /// domain must be.
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError>;

    /// The most messages per second the service accepts from this account
    /// (SES: `GetAccount`'s `MaxSendRate`); `None` when it sets no limit.
    async fn max_send_rate(&self) -> Result<Option<f64>, MailError> {
        Ok(None)
    }
}

/// Checks a tag name or value: 1 to 256 characters of `A-Za-z0-9_-`.
pub fn valid_tag_part(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
