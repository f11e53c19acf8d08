//! The `webhook` worker: SES delivery events, published to an SNS topic
//! that invokes this function. Lambda invocations by SNS are authenticated
//! by AWS (only the topic may invoke the function), so here the topic is
//! checked against the configured one; signature checks (`feedback::sns`)
//! guard the public HTTPS endpoint that SNS can also post to.

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::LambdaEvent;
use serde::Serialize;

use crate::App;
use crate::feedback::SesEvent;
use crate::services::feedback::{self, Recorded};

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
    for record in event.payload.records {
        let ses = SesEvent::parse(&record.sns.message)?;
        match feedback::record(app, &ses).await? {
            Recorded::Stored { .. } => outcome.stored += 1,
            Recorded::NoTenant => outcome.without_tenant += 1,
        }
    }
    Ok(outcome)
}
