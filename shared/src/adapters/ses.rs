//! The cloud mail adapter: SESv2 `SendEmail` with the raw MIME message, the
//! envelope recipients, message tags and the configuration set that routes
//! delivery events back to us. SES's answers map onto `MailError`.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};

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
        return Err(MailError::Rejected(
            "a message needs a recipient".to_owned(),
        ));
    }
    if mail.recipients.len() > MAX_RECIPIENTS {
        return Err(MailError::Rejected(format!(
            "a message has at most {MAX_RECIPIENTS} recipients"
        )));
    }
    if mail.raw.is_empty() || mail.raw.len() > MAX_RAW_BYTES {
        return Err(MailError::Rejected(
            "a raw message has 1 byte to 40 MB".to_owned(),
        ));
    }
    if let Some((name, _)) = mail
        .tags
        .iter()
        .find(|(name, value)| !valid_tag_part(name) || !valid_tag_part(value))
    {
        return Err(MailError::Rejected(format!(
            "the tag {name:?} has a name or value outside A-Za-z0-9_-"
        )));
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

/// Maps what SES (or the way to it) answered.
fn send_error<E, R>(err: SdkError<E, R>) -> MailError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let service = match &err {
        SdkError::ServiceError(service) => service.err(),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            return MailError::Unavailable(DisplayErrorContext(&err).to_string());
        }
        _ => return MailError::Rejected(DisplayErrorContext(&err).to_string()),
    };
    classify(
        service.code().unwrap_or("Unknown"),
        service.message().unwrap_or_default(),
    )
}

/// Maps an error SES answered, by its code and message.
fn classify(code: &str, message: &str) -> MailError {
    let lower = message.to_ascii_lowercase();
    if lower.contains("daily message quota exceeded") {
        return MailError::DailyQuotaExceeded;
    }
    match code {
        "TooManyRequestsException" | "Throttling" | "ThrottlingException" => MailError::Throttled,
        "LimitExceededException" | "SendingPausedException" => MailError::DailyQuotaExceeded,
        "MailFromDomainNotVerifiedException" => MailError::SenderNotVerified(message.to_owned()),
        // SES: "Email address is not verified. The following identities
        // failed the check ..."; moto: "Did not have authority to send from
        // email ...".
        "MessageRejected"
            if lower.contains("not verified") || lower.contains("did not have authority") =>
        {
            MailError::SenderNotVerified(message.to_owned())
        }
        "InternalFailure" | "ServiceUnavailable" | "InternalServerError" => {
            MailError::Unavailable(format!("{code}: {message}"))
        }
        _ => MailError::Rejected(format!("{code}: {message}")),
    }
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
            Err(e) => Err(send_error(e)),
        }
    }

    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError> {
        check_before_sending(mail)?;
        let invalid = |e: aws_sdk_sesv2::error::BuildError| MailError::Rejected(e.to_string());
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
            .map_err(|e| match send_error(e) {
                // Name the sender, as the outbox does, not SES's wording.
                MailError::SenderNotVerified(_) => {
                    MailError::SenderNotVerified(mail.from.as_str().to_owned())
                }
                other => other,
            })?;
        let provider_message_id = output
            .message_id()
            .ok_or_else(|| MailError::Unavailable("SES answered without a message id".to_owned()))?
            .to_owned();
        Ok(SentMail {
            provider_message_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ses_answers_map_onto_mail_errors() {
        assert_eq!(
            classify("TooManyRequestsException", "Too many requests"),
            MailError::Throttled
        );
        assert_eq!(
            classify("Throttling", "Daily message quota exceeded."),
            MailError::DailyQuotaExceeded
        );
        assert_eq!(
            classify("SendingPausedException", "Sending paused"),
            MailError::DailyQuotaExceeded
        );
        assert!(matches!(
            classify(
                "MessageRejected",
                "Email address is not verified. The following identities failed the check"
            ),
            MailError::SenderNotVerified(_)
        ));
        assert!(matches!(
            classify(
                "MailFromDomainNotVerifiedException",
                "MAIL FROM not verified"
            ),
            MailError::SenderNotVerified(_)
        ));
        assert!(matches!(
            classify("MessageRejected", "Illegal header"),
            MailError::Rejected(_)
        ));
        assert!(matches!(
            classify("InternalFailure", "oops"),
            MailError::Unavailable(_)
        ));
    }
}
