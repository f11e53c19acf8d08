//! The `send` worker: runs the jobs of an SQS batch and reports the ones
//! that should be delivered again (partial batch failures), so one bad
//! message never makes the whole batch repeat.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;

use crate::App;
use crate::services::jobs::{self, Job, JobError};

/// How long a failed job waits before its next delivery: 2, 4, 8, ...
/// seconds up to 15 minutes, plus up to a quarter more at random.
fn retry_delay(receive_count: u32) -> std::time::Duration {
    let base = 2u64.saturating_pow(receive_count.clamp(1, 10)).min(900);
    let jitter = (uuid::Uuid::new_v4().as_u128() as u64) % (base * 250).max(1);
    std::time::Duration::from_millis(base * 1000 + jitter)
}

/// Handles one SQS batch. A retryable failure, or a message that is not a
/// job at all, is reported back, so SQS delivers it again and finally moves
/// it to the dead-letter queue where it is seen. A permanent failure (the
/// contact was deleted meanwhile) is logged and not retried.
pub async fn handle(
    app: &App,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let mut response = SqsBatchResponse::default();
    for record in event.payload.records {
        let message_id = record.message_id.unwrap_or_default();
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(1);
        let outcome = match record.body.as_deref() {
            Some(body) => match Job::from_body(body) {
                Ok(job) => jobs::run_delivery(app, &job, receive_count).await,
                Err(e) => Err(e),
            },
            None => Err(JobError::Malformed("the message has no body".to_owned())),
        };
        match outcome {
            Ok(()) => {}
            Err(e @ JobError::Permanent(_)) => {
                tracing::error!(%message_id, error = %e, "job failed for good; not retried");
            }
            Err(e) => {
                tracing::warn!(%message_id, error = %e, "job failed; it will be delivered again");
                // Again after a backoff that grows with each delivery (with
                // jitter), not after the queue's whole visibility timeout.
                if let Some(receipt) = record.receipt_handle.as_deref() {
                    let delay = retry_delay(receive_count);
                    if let Err(e) = app.jobs.release(receipt, delay).await {
                        tracing::warn!(%message_id, error = %e, "could not set the retry delay");
                    }
                }
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    Ok(response)
}
