//! EMMA's AWS resources in an emulator (moto, LocalStack): the table, the
//! bucket and the jobs queue with its dead-letter queue, as the SAM template
//! creates them on AWS. For local runs on the cloud adapters and for tests;
//! it refuses any endpoint that is not on this machine.

use aws_config::SdkConfig;

use super::{aws, dynamo::DynamoStore, s3::S3BlobStore, ses::SesMailer, sqs::SqsQueue};
use crate::ports::{BlobError, MailError, Mailer, QueueError, StoreError};

/// How often a jobs message may be received before it moves to the
/// dead-letter queue (as in the SAM template).
pub const MAX_RECEIVES: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("AWS_ENDPOINT_URL must point at an emulator on this machine (got {})", .0.as_deref().unwrap_or("nothing"))]
    NotAnEmulator(Option<String>),
    #[error("the table could not be created: {0}")]
    Table(#[from] StoreError),
    #[error("the bucket could not be created: {0}")]
    Bucket(#[from] BlobError),
    #[error("the queues could not be created: {0}")]
    Queue(#[from] QueueError),
    #[error("the sender identity could not be registered: {0}")]
    Identity(#[from] MailError),
}

/// The names and URLs of what was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub table: String,
    pub bucket: String,
    pub jobs_queue_url: String,
    pub dead_letter_queue_url: String,
}

/// Creates (or finds) `<prefix>-table`, `<prefix>-assets` and
/// `<prefix>-jobs` (with `<prefix>-jobs-dlq`) in the emulator `sdk` points
/// at, and registers `sender_domain` as an SES identity (emulators verify it
/// at once; on AWS that takes DNS records).
pub async fn provision(
    sdk: &SdkConfig,
    prefix: &str,
    sender_domain: &str,
) -> Result<Resources, ProvisionError> {
    let endpoint = sdk.endpoint_url().map(str::to_owned);
    let on_this_machine = endpoint.as_deref().is_some_and(|e| {
        url::Url::parse(e)
            .is_ok_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
    });
    if !on_this_machine {
        return Err(ProvisionError::NotAnEmulator(endpoint));
    }
    let table = format!("{prefix}-table");
    let bucket = format!("{prefix}-assets");
    DynamoStore::create_table(&aws::dynamodb_client(sdk), &table).await?;
    S3BlobStore::create_bucket(&aws::s3_client(sdk), &bucket).await?;
    let (jobs_queue_url, dead_letter_queue_url) = SqsQueue::create_with_dead_letter(
        &aws::sqs_client(sdk),
        &format!("{prefix}-jobs"),
        MAX_RECEIVES,
    )
    .await?;
    SesMailer::new(aws::sesv2_client(sdk), None)
        .register_identity(sender_domain)
        .await?;
    Ok(Resources {
        table,
        bucket,
        jobs_queue_url,
        dead_letter_queue_url,
    })
}
