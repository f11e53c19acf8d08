//! The cloud mail adapter: SESv2 `SendEmail` with the raw MIME message, the
//! envelope recipients, message tags and the configuration set that routes
//! delivery events back to us. SES's answers map onto `MailError`.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};

use super::aws::{Failure, classify};
use crate::domain::EmailAddress;
use crate::ports::mail::valid_tag_part;
use crate::ports::{MailError, Mailer, OutgoingMail, SentMail};

/// SES takes at most 50 recipients per message.
const MAX_RECIPIENTS: usize = 50;
/// SESv2 takes raw messages of at most 40 MB.
const MAX_RAW_BYTES: usize = 40 * 1024 * 1024;

/// The checks SES makes on a message before it accepts it, made before
/// anything is sent, so the local outbox refuses what SES would refuse.
pub(crate) fn check_before_sending(mail: &OutgoingMail) -> Result<(), MailError> {
    if mail.recipients.is_empty() {
        return Err(MailError::Rejected("a message needs a recipient"));
    }
    if mail.recipients.len() > MAX_RECIPIENTS {
        return Err(MailError::Rejected("a message has at most 50 recipients"));
    }
    if mail.raw.is_empty() || mail.raw.len() > MAX_RAW_BYTES {
        return Err(MailError::Rejected("a raw message has 1 byte to 40 MB"));
    }
    if mail
        .tags
        .iter()
        .any(|(name, value)| !valid_tag_part(name) || !valid_tag_part(value))
    {
        return Err(MailError::Rejected(
            "a tag has a name or value outside A-Za-z0-9_-",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: Client, configuration_set: Option<String>) -> Self {
        Self {
            client,
            configuration_set,
        }
    }
}

/// Maps what SES (or the way to it) answered. `sender` is the message's
/// sender when sending, so that a refusal naming it can be told from one
/// naming a recipient.
fn send_error<E>(err: SdkError<E, HttpResponse>, sender: Option<&EmailAddress>) -> MailError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match classify(&err) {
        Failure::Throttled { message, .. } if is_daily_quota(&message) => {
            MailError::DailyQuotaExceeded
        }
        Failure::Throttled { .. } => MailError::Throttled,
        Failure::Transient(details) => MailError::Unavailable(details),
        Failure::Service { code, message } => refusal(&code, &message, sender),
        Failure::Local(_) => {
            tracing::warn!("the SES request could not be built");
            MailError::Rejected("the message could not be handed to the mail service")
        }
    }
}

fn is_daily_quota(message: &str) -> bool {
    message
        .to_ascii_lowercase()
        .contains("daily message quota exceeded")
}

/// Maps a refusal SES answered, by its code and message. The message is
/// read, never passed on: it may echo addresses.
fn refusal(code: &str, message: &str, sender: Option<&EmailAddress>) -> MailError {
    let lower = message.to_ascii_lowercase();
    let sender_named =
        sender.is_some_and(|sender| lower.contains(&sender.as_str().to_ascii_lowercase()));
    // SES: "Email address is not verified. The following identities failed
    // the check ...: <addresses>"; moto: "Did not have authority to send
    // from email ...".
    let unverified = lower.contains("not verified") || lower.contains("did not have authority");
    let sender_not_verified =
        || MailError::SenderNotVerified(sender.map(|s| s.as_str().to_owned()).unwrap_or_default());
    let error = match code {
        _ if is_daily_quota(message) => MailError::DailyQuotaExceeded,
        "LimitExceededException" | "SendingPausedException" => MailError::DailyQuotaExceeded,
        "MailFromDomainNotVerifiedException" => sender_not_verified(),
        "MessageRejected" if unverified && sender_named => sender_not_verified(),
        // The sandbox refuses recipients that are not verified identities.
        "MessageRejected" if unverified => {
            MailError::Rejected("a recipient is not a verified identity (SES sandbox)")
        }
        "MessageRejected" => MailError::Rejected("the mail service refused the message"),
        "AccountSuspendedException" => {
            MailError::Rejected("sending is suspended for the mail service account")
        }
        "BadRequestException" => MailError::Rejected("the mail service found the request invalid"),
        "NotFoundException" => {
            MailError::Rejected("the mail service does not know the configuration set")
        }
        _ => MailError::Rejected("the mail service refused the request"),
    };
    if matches!(error, MailError::Rejected(_)) {
        tracing::warn!(code, "SES refused a request");
    }
    error
}

#[async_trait]
impl Mailer for SesMailer {
    fn backend(&self) -> &'static str {
        "ses"
    }

    async fn register_identity(&self, identity: &str) -> Result<(), MailError> {
        match self
            .client
            .create_email_identity()
            .email_identity(identity)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_already_exists_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(send_error(e, None)),
        }
    }

    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError> {
        check_before_sending(mail)?;
        let invalid = |_: aws_sdk_sesv2::error::BuildError| {
            MailError::Rejected("the message could not be handed to the mail service")
        };
        let raw = RawMessage::builder()
            .data(Blob::new(mail.raw.clone()))
            .build()
            .map_err(invalid)?;
        let tags = mail
            .tags
            .iter()
            .map(|(name, value)| MessageTag::builder().name(name).value(value).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let destination = Destination::builder()
            .set_to_addresses(Some(
                mail.recipients
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect(),
            ))
            .build();
        let output = self
            .client
            .send_email()
            .from_email_address(mail.from.as_str())
            .destination(destination)
            .content(EmailContent::builder().raw(raw).build())
            .set_email_tags((!tags.is_empty()).then_some(tags))
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| send_error(e, Some(&mail.from)))?;
        let provider_message_id = output
            .message_id()
            .ok_or_else(|| MailError::Unavailable("SES answered without a message id".to_owned()))?
            .to_owned();
        Ok(SentMail {
            provider_message_id,
        })
    }

    async fn max_send_rate(&self) -> Result<Option<f64>, MailError> {
        let account = self
            .client
            .get_account()
            .send()
            .await
            .map_err(|e| send_error(e, None))?;
        Ok(account
            .send_quota()
            .map(|quota| quota.max_send_rate())
            .filter(|rate| rate.is_finite() && *rate > 0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::adapters::aws::test_support::service_error;
    use aws_sdk_sesv2::operation::send_email::SendEmailError;

    const SENDER: &str = "newsletter@sparkasse-a.de";

    fn answered(status: u16, code: &str, message: &str) -> MailError {
        let sender = EmailAddress::parse(SENDER).unwrap();
        send_error(
            service_error(status, code, message, SendEmailError::generic),
            Some(&sender),
        )
    }

    #[test]
    fn ses_answers_map_onto_mail_errors() {
        assert_eq!(
            answered(400, "TooManyRequestsException", "Too many requests"),
            MailError::Throttled
        );
        assert_eq!(
            answered(400, "Throttling", "Daily message quota exceeded."),
            MailError::DailyQuotaExceeded
        );
        assert_eq!(
            answered(400, "SendingPausedException", "Sending paused"),
            MailError::DailyQuotaExceeded
        );
        assert!(matches!(
            answered(500, "InternalFailure", "oops"),
            MailError::Unavailable(_)
        ));
        assert!(matches!(
            answered(503, "Unknown", "oops"),
            MailError::Unavailable(_)
        ));
    }

    #[test]
    fn an_unverified_sender_is_reported_by_its_address() {
        let sender = MailError::SenderNotVerified(SENDER.to_owned());
        assert_eq!(
            answered(
                400,
                "MessageRejected",
                "Email address is not verified. The following identities failed the check \
                 in region EU-CENTRAL-1: Newsletter@Sparkasse-A.de"
            ),
            sender
        );
        assert_eq!(
            answered(
                400,
                "MessageRejected",
                "Did not have authority to send from email newsletter@sparkasse-a.de"
            ),
            sender
        );
        assert_eq!(
            answered(
                400,
                "MailFromDomainNotVerifiedException",
                "MAIL FROM not verified"
            ),
            sender
        );
    }

    #[test]
    fn an_unverified_recipient_in_the_sandbox_is_a_rejection_not_a_sender_problem() {
        let refused = answered(
            400,
            "MessageRejected",
            "Email address is not verified. The following identities failed the check \
             in region EU-CENTRAL-1: kunde@example.org",
        );
        assert!(matches!(refused, MailError::Rejected(_)), "{refused:?}");
        assert!(!refused.to_string().contains("kunde@example.org"));
    }

    #[test]
    fn a_rejection_never_passes_on_the_providers_text() {
        let refused = answered(
            400,
            "MessageRejected",
            "Illegal header from kunde@example.org",
        );
        assert!(matches!(refused, MailError::Rejected(_)));
        let text = refused.to_string();
        assert!(!text.contains("kunde@example.org"), "{text}");
        assert!(!text.contains("Illegal header"), "{text}");
        assert!(matches!(
            answered(
                400,
                "BadRequestException",
                "Invalid tag for someone@example.org"
            ),
            MailError::Rejected(_)
        ));
    }
}
