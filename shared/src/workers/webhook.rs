//! The `webhook` worker: SES delivery events, published to an SNS topic
//! that invokes this function. AWS authenticates SNS's invocations of a
//! function (its resource policy names the topic), and this handler also
//! refuses records from any topic but the configured one. The signature
//! checks in `feedback::sns` are for an HTTPS endpoint, where anyone can post.

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::LambdaEvent;
use serde::Serialize;

use crate::App;
use crate::feedback::SesEvent;
use crate::services::feedback::{self, Recorded};

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("delivery events come only from the configured topic, not from {0}")]
    UnexpectedTopic(String),
}

/// How many events of the invocation were stored, and how many carried no
/// tenant.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WebhookOutcome {
    pub stored: usize,
    pub without_tenant: usize,
}

/// Stores every SES event of the SNS invocation. A record that is not an
/// SES event, or a store failure, fails the invocation, so SNS retries it
/// and finally parks it in the events dead-letter queue, where it is seen.
pub async fn handle(
    app: &App,
    event: LambdaEvent<SnsEvent>,
) -> Result<WebhookOutcome, lambda_runtime::Error> {
    let mut outcome = WebhookOutcome::default();
    if let Some(expected) = &app.settings.ses_events_topic_arn
        && let Some(other) = event
            .payload
            .records
            .iter()
            .find(|r| &r.sns.topic_arn != expected)
    {
        return Err(WebhookError::UnexpectedTopic(other.sns.topic_arn.clone()).into());
    }
    for record in event.payload.records {
        let ses = SesEvent::parse(&record.sns.message)?;
        match feedback::record(app, &ses).await? {
            Recorded::Stored { .. } => outcome.stored += 1,
            Recorded::NoTenant => outcome.without_tenant += 1,
        }
    }
    Ok(outcome)
}
