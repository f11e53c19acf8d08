//! Jobs: the messages on the jobs queue, and what each one does. The `send`
//! worker (SQS on AWS, a task locally) runs them; a failure says whether a
//! retry may help.

use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{CampaignId, ContactId, ExportId, ImportId, TenantId};
use crate::ports::{BlobError, MailError};
use crate::services::account::{self, AccountError};
use crate::services::contacts::ContactError;
use crate::services::exports::{self, ExportError};
use crate::services::imports::{self, ImportError};
use crate::services::sending::{self, worker::BatchOutcome};
use crate::services::tenants::TenantError;
use crate::services::test_mail::{self, TestMailError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Send a test mail to one contact.
    TestMail {
        tenant_id: TenantId,
        contact_id: ContactId,
    },
    /// Write a requested contact export.
    Export {
        tenant_id: TenantId,
        export_id: ExportId,
    },
    /// Run a started contact import.
    Import {
        tenant_id: TenantId,
        import_id: ImportId,
    },
    /// One step of a started campaign's dispatch.
    Dispatch {
        tenant_id: TenantId,
        campaign_id: CampaignId,
    },
    /// Send a campaign to a batch of its recipients.
    SendBatch {
        tenant_id: TenantId,
        campaign_id: CampaignId,
        contacts: Vec<ContactId>,
        /// How often the batch was throttled before (for the backoff).
        #[serde(default)]
        attempt: u32,
        /// The batch's id, kept when its rest is queued again: a batch
        /// delivered twice is counted done once.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch: Option<uuid::Uuid>,
    },
    /// Mail a password reset link to the account with this address (keyed
    /// hash), if there is one.
    PasswordLink {
        email_hash: String,
        /// Where the request came from, already pseudonymised.
        #[serde(
            default,
            deserialize_with = "crate::services::audit::IpTrace::deserialize_lenient"
        )]
        ip: Option<crate::services::audit::IpTrace>,
    },
}

impl Job {
    pub fn to_body(&self) -> String {
        serde_json::to_string(self).expect("a job always serializes")
    }

    pub fn from_body(body: &str) -> Result<Self, JobError> {
        serde_json::from_str(body).map_err(|e| JobError::Malformed(e.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("the job message is malformed: {0}")]
    Malformed(String),
    #[error("the job failed and may succeed later: {0}")]
    Retryable(String),
    #[error("the job failed for good: {0}")]
    Permanent(String),
}

impl JobError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}

fn sending_failure(e: sending::SendingError) -> JobError {
    if e.is_retryable() {
        JobError::Retryable(e.to_string())
    } else {
        JobError::Permanent(e.to_string())
    }
}

impl From<TestMailError> for JobError {
    fn from(e: TestMailError) -> Self {
        let retryable = match &e {
            // The quota renews: the job waits for it rather than being dropped.
            TestMailError::Mail(MailError::DailyQuotaExceeded) => true,
            TestMailError::Mail(mail) => mail.is_retryable(),
            TestMailError::Contact(ContactError::Store(store))
            | TestMailError::Contact(ContactError::Tenant(TenantError::Store(store))) => {
                store.is_retryable()
            }
            _ => false,
        };
        if retryable {
            Self::Retryable(e.to_string())
        } else {
            Self::Permanent(e.to_string())
        }
    }
}

/// Runs one job delivered for the `receive_count`-th time. A campaign
/// batch that fails on the last delivery the queue allows is given up
/// visibly (see `sending::worker::give_up`) before it goes to the
/// dead-letter queue.
pub async fn run_delivery(app: &App, job: &Job, receive_count: u32) -> Result<(), JobError> {
    let result = run(app, job).await;
    if let (
        Err(e),
        Job::SendBatch {
            tenant_id,
            campaign_id,
            contacts,
            ..
        },
    ) = (&result, job)
    {
        let last = receive_count >= app.settings.sending.max_receives;
        if last
            && let Err(also) =
                sending::worker::give_up(app, tenant_id, campaign_id, contacts, &e.to_string())
                    .await
        {
            tracing::error!(tenant = %tenant_id, campaign = %campaign_id, error = %also, "a failed batch could not be given up");
        }
    }
    result
}

/// Runs one job.
pub async fn run(app: &App, job: &Job) -> Result<(), JobError> {
    match job {
        Job::Dispatch {
            tenant_id,
            campaign_id,
        } => sending::dispatch::step(app, tenant_id, campaign_id)
            .await
            .map_err(sending_failure),
        Job::SendBatch {
            tenant_id,
            campaign_id,
            contacts,
            attempt,
            batch,
        } => match sending::worker::send_batch(
            app,
            tenant_id,
            campaign_id,
            contacts,
            *attempt,
            *batch,
        )
        .await
        .map_err(sending_failure)?
        {
            BatchOutcome::Retry(why) => Err(JobError::Retryable(why)),
            BatchOutcome::Done | BatchOutcome::Dropped(_) | BatchOutcome::Requeued => Ok(()),
        },
        Job::TestMail {
            tenant_id,
            contact_id,
        } => {
            test_mail::send(app, tenant_id, contact_id).await?;
            Ok(())
        }
        Job::Import {
            tenant_id,
            import_id,
        } => imports::run_queued(app, tenant_id, import_id)
            .await
            .map_err(|e| match e {
                ImportError::Store(s) if s.is_retryable() => JobError::Retryable(s.to_string()),
                ImportError::Blob(b) if matches!(b, BlobError::Unavailable(_)) => {
                    JobError::Retryable(b.to_string())
                }
                // The failure is on the import's record, for the UI.
                other => JobError::Permanent(other.to_string()),
            }),
        Job::Export {
            tenant_id,
            export_id,
        } => exports::run_queued(app, tenant_id, export_id)
            .await
            .map_err(|e| match e {
                ExportError::Store(s) if s.is_retryable() => JobError::Retryable(s.to_string()),
                // The failure is on the export's record, for the UI.
                other => JobError::Permanent(other.to_string()),
            }),
        Job::PasswordLink { email_hash, ip } => {
            account::send_reset_link_for(app, email_hash, ip.clone())
                .await
                .map_err(|e| match e {
                    AccountError::Mail(m) if m.is_retryable() => JobError::Retryable(m.to_string()),
                    AccountError::Store(s) if s.is_retryable() => {
                        JobError::Retryable(s.to_string())
                    }
                    other => JobError::Permanent(other.to_string()),
                })
        }
    }
}
