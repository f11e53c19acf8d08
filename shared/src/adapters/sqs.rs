//! The queue port on Amazon SQS (standard queues). SQS only counts whole
//! seconds, so visibility timeouts and delays are rounded up to the next
//! second and long-poll waits down to the previous one.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use super::aws::{Failure, classify};
use crate::ports::queue::{MAX_MESSAGE_BYTES, MAX_RECEIVE, Queue, QueueError, ReceivedMessage};

/// The longest delay SQS accepts for a message.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// The longest visibility timeout SQS accepts; longer ones are shortened.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);
/// The longest long-poll wait SQS accepts; longer ones are shortened.
pub const MAX_WAIT: Duration = Duration::from_secs(20);

/// A queue on SQS, addressed by its URL.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Creates the queue `name` and its dead-letter queue `name-dlq`, with a
    /// redrive policy that moves a message there instead of receiving it a
    /// (`max_receives` + 1)-th time, both limited to the port's message size.
    /// Returns (queue URL, dead-letter URL).
    /// For tests and local runs against an emulator; deployed queues come
    /// from the SAM template.
    pub async fn create_with_dead_letter(
        client: &aws_sdk_sqs::Client,
        name: &str,
        max_receives: u32,
    ) -> Result<(String, String), QueueError> {
        let max_size = MAX_MESSAGE_BYTES.to_string();
        let dead_letter_url = client
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .attributes(QueueAttributeName::MaximumMessageSize, max_size.clone())
            .send()
            .await
            .map_err(|err| failure("CreateQueue", err))?
            .queue_url
            .ok_or_else(|| QueueError::Backend("CreateQueue returned no URL".into()))?;
        let dead_letter_arn = client
            .get_queue_attributes()
            .queue_url(&dead_letter_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|err| failure("GetQueueAttributes", err))?
            .attributes
            .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| QueueError::Backend("the dead-letter queue has no ARN".into()))?;
        let redrive_policy = serde_json::json!({
            "deadLetterTargetArn": dead_letter_arn,
            "maxReceiveCount": max_receives.to_string(),
        });
        let queue_url = client
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::MaximumMessageSize, max_size)
            .attributes(
                QueueAttributeName::RedrivePolicy,
                redrive_policy.to_string(),
            )
            .send()
            .await
            .map_err(|err| failure("CreateQueue", err))?
            .queue_url
            .ok_or_else(|| QueueError::Backend("CreateQueue returned no URL".into()))?;
        Ok((queue_url, dead_letter_url))
    }
}

#[async_trait]
impl Queue for SqsQueue {
    fn backend(&self) -> &'static str {
        "sqs"
    }

    async fn send(&self, body: &str, delay: Duration) -> Result<String, QueueError> {
        check_message(body, delay)?;
        let output = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(whole_seconds_up(delay))
            .send()
            .await
            .map_err(|err| failure("SendMessage", err))?;
        output
            .message_id
            .ok_or_else(|| QueueError::Backend("SendMessage returned no message id".into()))
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let max = max.clamp(1, MAX_RECEIVE);
        let visibility = visibility.min(MAX_VISIBILITY);
        let wait = wait.min(MAX_WAIT);
        let output = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(i32::try_from(max).unwrap_or(1))
            .visibility_timeout(whole_seconds_up(visibility))
            .wait_time_seconds(i32::try_from(wait.as_secs()).unwrap_or(0))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|err| failure("ReceiveMessage", err))?;
        output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|message| {
                let receive_count = message
                    .attributes()
                    .and_then(|attributes| {
                        attributes.get(&MessageSystemAttributeName::ApproximateReceiveCount)
                    })
                    .and_then(|count| count.parse::<u32>().ok())
                    .ok_or_else(|| missing("ApproximateReceiveCount"))?;
                Ok(ReceivedMessage {
                    message_id: message.message_id.ok_or_else(|| missing("MessageId"))?,
                    receipt: message
                        .receipt_handle
                        .ok_or_else(|| missing("ReceiptHandle"))?,
                    body: message.body.unwrap_or_default(),
                    receive_count,
                })
            })
            .collect()
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|err| receipt_failure("DeleteMessage", err))?;
        Ok(())
    }

    async fn release(&self, receipt: &str, after: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(whole_seconds_up(after.min(MAX_VISIBILITY)))
            .send()
            .await
            .map_err(|err| receipt_failure("ChangeMessageVisibility", err))?;
        Ok(())
    }

    async fn approximate_depth(&self) -> Result<u64, QueueError> {
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|err| failure("GetQueueAttributes", err))?
            .attributes
            .unwrap_or_default();
        let count = |name: QueueAttributeName| -> Result<u64, QueueError> {
            attributes
                .get(&name)
                .and_then(|value| value.parse::<u64>().ok())
                .ok_or_else(|| missing(name.as_str()))
        };
        Ok(count(QueueAttributeName::ApproximateNumberOfMessages)?
            + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?)
    }
}

/// Checks a message against SQS's rules before it is sent: at most
/// [`MAX_MESSAGE_BYTES`] of UTF-8, not empty, only the characters SQS
/// accepts, and a delay of at most 15 minutes. The local queue applies the
/// same rules, so a message the local queue takes, SQS takes too.
pub(crate) fn check_message(body: &str, delay: Duration) -> Result<(), QueueError> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(QueueError::TooLarge);
    }
    if body.is_empty() {
        return Err(QueueError::Backend("the message body is empty".into()));
    }
    if let Some(position) = body.chars().position(|c| !sqs_accepts(c)) {
        return Err(QueueError::Backend(format!(
            "the message body holds a character SQS does not accept (at character {position})"
        )));
    }
    if delay > MAX_DELAY {
        return Err(QueueError::Backend(
            "the delay is longer than 15 minutes".into(),
        ));
    }
    Ok(())
}

/// The characters SQS accepts in a message body (XML's character range).
fn sqs_accepts(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A duration in whole seconds, rounded up (SQS takes seconds only, and a
/// message must stay hidden at least as long as asked).
fn whole_seconds_up(duration: Duration) -> i32 {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(seconds).unwrap_or(i32::MAX)
}

fn missing(what: &str) -> QueueError {
    QueueError::Backend(format!("SQS returned a message without {what}"))
}

/// Sorts an SDK failure: throttling and transient failures (no answer, a
/// server error) mean the queue is unavailable (worth retrying); anything
/// else is a backend failure.
fn failure<E>(operation: &str, err: SdkError<E, HttpResponse>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let message = format!("{operation}: {}", DisplayErrorContext(&err));
    match classify(&err) {
        Failure::Throttled { .. } | Failure::Transient(_) => QueueError::Unavailable(message),
        Failure::Service { .. } | Failure::Local(_) => QueueError::Backend(message),
    }
}

/// As [`failure`], but a receipt SQS does not know (never issued, or its
/// message is gone) is [`QueueError::InvalidReceipt`].
fn receipt_failure<E>(operation: &str, err: SdkError<E, HttpResponse>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Failure::Service { code, message } = classify(&err)
        && is_unknown_receipt(&code, &message)
    {
        return QueueError::InvalidReceipt;
    }
    failure(operation, err)
}

/// Whether SQS refused a receipt because it does not know it.
fn is_unknown_receipt(code: &str, message: &str) -> bool {
    match code {
        "ReceiptHandleIsInvalid"
        | "InvalidIdFormat"
        | "MessageNotInflight"
        | "AWS.SimpleQueueService.MessageNotInflight" => true,
        // SQS answers a receipt whose message is gone this way on
        // ChangeMessageVisibility.
        "InvalidParameterValue" => message.contains("ReceiptHandle"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::aws::test_support::service_error;
    use aws_sdk_sqs::operation::delete_message::DeleteMessageError;

    fn answered(status: u16, code: &str, message: &str) -> QueueError {
        receipt_failure(
            "DeleteMessage",
            service_error(status, code, message, DeleteMessageError::generic),
        )
    }

    #[test]
    fn sqs_answers_map_onto_queue_errors() {
        assert_eq!(
            answered(400, "ReceiptHandleIsInvalid", "bad"),
            QueueError::InvalidReceipt
        );
        assert_eq!(
            answered(
                400,
                "InvalidParameterValue",
                "Value for ReceiptHandle is invalid"
            ),
            QueueError::InvalidReceipt
        );
        assert!(matches!(
            answered(400, "InvalidParameterValue", "MaxNumberOfMessages"),
            QueueError::Backend(_)
        ));
        assert!(matches!(
            answered(400, "RequestThrottled", "slow down"),
            QueueError::Unavailable(_)
        ));
        assert!(matches!(
            answered(500, "InternalError", "oops"),
            QueueError::Unavailable(_)
        ));
    }

    #[test]
    fn durations_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds_up(Duration::ZERO), 0);
        assert_eq!(whole_seconds_up(Duration::from_secs(1)), 1);
        assert_eq!(whole_seconds_up(Duration::from_millis(1001)), 2);
        assert_eq!(whole_seconds_up(Duration::from_millis(1)), 1);
    }

    #[test]
    fn a_body_of_exactly_256_kib_is_accepted_and_one_byte_more_is_not() {
        let body = "a".repeat(MAX_MESSAGE_BYTES);
        assert_eq!(check_message(&body, Duration::ZERO), Ok(()));
        let body = "a".repeat(MAX_MESSAGE_BYTES + 1);
        assert_eq!(
            check_message(&body, Duration::ZERO),
            Err(QueueError::TooLarge)
        );
    }

    #[test]
    fn the_size_limit_counts_utf8_bytes_not_characters() {
        let body = "ä".repeat(MAX_MESSAGE_BYTES / 2 + 1);
        assert_eq!(
            check_message(&body, Duration::ZERO),
            Err(QueueError::TooLarge)
        );
    }

    #[test]
    fn a_body_sqs_would_refuse_is_refused_before_sending() {
        assert!(check_message("", Duration::ZERO).is_err());
        assert!(check_message("a\u{0}b", Duration::ZERO).is_err());
        assert!(check_message("a\u{FFFF}", Duration::ZERO).is_err());
        assert_eq!(check_message("Grüße\t\n😀", Duration::ZERO), Ok(()));
    }

    #[test]
    fn a_delay_over_fifteen_minutes_is_refused() {
        assert_eq!(check_message("x", MAX_DELAY), Ok(()));
        assert!(matches!(
            check_message("x", MAX_DELAY + Duration::from_secs(1)),
            Err(QueueError::Backend(_))
        ));
    }
}
