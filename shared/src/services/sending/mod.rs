//! Sending a campaign: the scheduler starts it, dispatch snapshots its
//! audience and fans it out in batches on the jobs queue, the send worker
//! mails each batch through a paced mailer, and the last step counts what
//! became of every recipient.
//!
//! The guarantee — nobody gets a campaign twice, nobody eligible is
//! silently left out — rests on one record per recipient, written when the
//! audience is snapshotted and moved forward only by conditional writes:
//!
//! ```text
//! queued ──claim──▶ sending ──SES accepted──▶ sent
//!    │                 │ └──SES refused──▶ failed
//!    │                 └──lease ran out──▶ unknown (never sent again)
//!    └──unsubscribed / suppressed / erased meanwhile──▶ skipped
//! ```
//!
//! SQS delivers at least once and SES has no idempotency key, so a batch
//! may be worked on twice, even at the same time: whoever claims a record
//! (a write conditioned on the version read) is the only one who may send
//! to it. A worker that dies after its claim leaves the record "sending";
//! once the claim's lease has run out, the next delivery of the batch marks
//! it "unknown": it may or may not have gone out, so it is never resent
//! automatically and the report counts it.
//!
//! Dispatch never holds the audience in memory and never runs long: each
//! step snapshots one chunk (a page of a list or segment) and queues the
//! next step; then it keeps at most [`WINDOW_BATCHES`] batches of a
//! campaign on the queue, topping up as batches finish, so a large
//! campaign cannot fill the queue ahead of another tenant's.

pub mod dispatch;
pub mod pacing;
pub mod worker;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{CampaignId, ContactId, TenantId};
use crate::ports::store::{Item, PutCondition, Query, StoreError, keys};
use crate::services::campaigns::{self, Campaign, CampaignError, CampaignState, PauseReason};

/// Recipients per batch message.
pub const BATCH_SIZE: usize = 50;
/// The most batches of one campaign on the queue at a time.
pub const WINDOW_BATCHES: u64 = 20;
/// How long a claim holds: a worker that claimed a recipient must have
/// recorded the outcome by then, else the record becomes "unknown". Well
/// above one SES call with its retries, well below the queue's visibility
/// timeout (so a redelivered batch finds the lease run out).
pub const LEASE_SECONDS: i64 = 120;
/// The most problems a run keeps (the newest).
const MAX_PROBLEMS: usize = 20;

/// Where a recipient's message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    Queued,
    Sending,
    Sent,
    Failed,
    Skipped,
    Unknown,
}

impl RecordState {
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Sending)
    }
}

/// One recipient of a campaign. The contact id is a keyed hash of the
/// address: the record holds no personal data in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRecord {
    pub contact: ContactId,
    pub state: RecordState,
    /// The claim of the worker sending it, and until when it holds.
    #[serde(default)]
    pub claim: Option<uuid::Uuid>,
    #[serde(default)]
    pub lease_until: Option<DateTime<Utc>>,
    /// The mail service's id of the sent message.
    #[serde(default)]
    pub message_id: Option<String>,
    /// Why it was skipped, failed or is unknown (a short fixed text).
    #[serde(default)]
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl SendRecord {
    /// The item, in the pending index while it is not final.
    pub(crate) fn item(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
    ) -> Result<Item, StoreError> {
        let item = Item::new(
            keys::campaign_recipient(tenant, campaign, &self.contact),
            self,
        )?;
        Ok(if self.state.is_final() {
            item
        } else {
            item.with_index(keys::campaign_pending_entry(
                tenant,
                campaign,
                &self.contact,
            ))
        })
    }
}

/// Where dispatch stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Snapshotting audience source `source` (the lists, then the
    /// segments, in the campaign's order) from `cursor`.
    Snapshot {
        source: usize,
        cursor: Option<String>,
    },
    /// Queuing the snapshot's pending recipients from `cursor` (contact id
    /// order, on the pending index).
    Enqueue { cursor: Option<String> },
    /// Every recipient was queued at least once.
    Queued,
}

/// Something that went wrong in a run, for the campaign's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    pub at: DateTime<Utc>,
    pub what: String,
}

/// A campaign's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub started_at: DateTime<Utc>,
    pub phase: Phase,
    /// Batches written off as lost (their queue messages are gone without
    /// finishing: a restart of the enqueue pass queues their recipients
    /// again).
    #[serde(default)]
    pub written_off: u64,
    /// The finished batch count the tick last saw, and when it changed.
    #[serde(default)]
    pub watched_done: u64,
    #[serde(default)]
    pub watched_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub problems: Vec<Problem>,
    /// The exact count, made from every record when the run ended.
    #[serde(default)]
    pub totals: Option<Totals>,
}

impl Run {
    pub(crate) fn note(&mut self, at: DateTime<Utc>, what: impl Into<String>) {
        self.problems.push(Problem {
            at,
            what: what.into(),
        });
        if self.problems.len() > MAX_PROBLEMS {
            let extra = self.problems.len() - MAX_PROBLEMS;
            self.problems.drain(..extra);
        }
    }
}

/// How many recipients are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Totals {
    /// In the snapshot.
    pub recipients: u64,
    /// Not sent yet (queued or being sent).
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
    pub skipped: u64,
    pub unknown: u64,
}

/// What the campaign's page and API show while it runs and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    pub started_at: DateTime<Utc>,
    /// Whether the snapshot is complete.
    pub snapshot_complete: bool,
    /// Live counters while it runs; the exact count once it ended.
    pub totals: Totals,
    pub exact: bool,
    pub problems: Vec<Problem>,
}

/// The progress counters' names.
pub(crate) mod counter {
    pub const RECIPIENTS: &str = "recipients";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
    pub const SKIPPED: &str = "skipped";
    pub const UNKNOWN: &str = "unknown";
    pub const BATCHES_QUEUED: &str = "batches_queued";
    pub const BATCHES_DONE: &str = "batches_done";
}

#[derive(Debug, thiserror::Error)]
pub enum SendingError {
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::ports::QueueError),
    #[error("the campaign's content cannot be sent: {0}")]
    Content(String),
}

impl SendingError {
    /// Whether doing the same again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store(s) | Self::Campaign(CampaignError::Store(s)) => s.is_retryable(),
            Self::Queue(q) => matches!(q, crate::ports::QueueError::Unavailable(_)),
            Self::Campaign(CampaignError::Tenant(
                crate::services::tenants::TenantError::Store(s),
            )) => s.is_retryable(),
            _ => false,
        }
    }
}

pub(crate) async fn load_run(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
) -> Result<Option<(Run, crate::ports::store::Version)>, StoreError> {
    Ok(
        match app.store.get(&keys::campaign_run(tenant, campaign)).await? {
            Some(stored) => Some((stored.item.parse()?, stored.version)),
            None => None,
        },
    )
}

pub(crate) async fn save_run(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
    run: &Run,
    condition: PutCondition,
) -> Result<bool, StoreError> {
    let item = Item::new(keys::campaign_run(tenant, campaign), run)?;
    match app.store.put(item, condition).await {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The live counters.
pub(crate) async fn counters(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
    Ok(app
        .store
        .get(&keys::campaign_progress(tenant, campaign))
        .await?
        .map(|stored| stored.item.counters)
        .unwrap_or_default())
}

/// One counter's value (0 when it was never added to).
pub(crate) fn counter_value(counters: &std::collections::BTreeMap<String, i64>, name: &str) -> u64 {
    counters.get(name).copied().unwrap_or(0).max(0) as u64
}

/// The campaign's progress, if it started.
pub async fn progress(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
) -> Result<Option<Progress>, StoreError> {
    let Some((run, _)) = load_run(app, tenant, campaign).await? else {
        return Ok(None);
    };
    let snapshot_complete = !matches!(run.phase, Phase::Snapshot { .. });
    let (totals, exact) = match run.totals {
        Some(totals) => (totals, true),
        None => {
            let counters = counters(app, tenant, campaign).await?;
            let get = |name: &str| counter_value(&counters, name);
            let recipients = get(counter::RECIPIENTS);
            let (sent, failed, skipped, unknown) = (
                get(counter::SENT),
                get(counter::FAILED),
                get(counter::SKIPPED),
                get(counter::UNKNOWN),
            );
            let done = sent + failed + skipped + unknown;
            (
                Totals {
                    recipients,
                    queued: recipients.saturating_sub(done),
                    sent,
                    failed,
                    skipped,
                    unknown,
                },
                false,
            )
        }
    };
    Ok(Some(Progress {
        started_at: run.started_at,
        snapshot_complete,
        totals,
        exact,
        problems: run.problems,
    }))
}

/// What the scheduler's tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickOutcome {
    pub started: u32,
    pub finished: u32,
}

/// Starts every campaign whose time has come, exactly once: the move from
/// "scheduled" to "sending" is a write conditioned on the version read, so
/// two ticks (or a tick and an editor) cannot both make it. A campaign of
/// a suspended institute is not started: it is paused, with the reason.
pub async fn start_due(app: &App) -> Result<u32, SendingError> {
    let now = app.clock.now();
    let mut started = 0;
    let mut cursor = None;
    'pages: loop {
        let page = app
            .store
            .query(Query::table(keys::campaigns_due()).limit(100).after(cursor))
            .await?;
        for stored in &page.items {
            let entry: campaigns::DueEntry = match stored.item.parse() {
                Ok(entry) => entry,
                Err(e) => {
                    tracing::error!(key = %stored.item.key.sk(), error = %e, "an unreadable entry in the due list was skipped");
                    continue;
                }
            };
            if entry.at > now {
                break 'pages;
            }
            match start(app, &entry).await {
                Ok(true) => started += 1,
                Ok(false) => {}
                // One campaign's failure must not hold back the others; its
                // entry stays, so the next tick tries again.
                Err(e) => {
                    tracing::error!(tenant = %entry.tenant, campaign = %entry.campaign, error = %e, "a due campaign could not be started");
                    continue;
                }
            }
            app.store.delete(&stored.item.key).await?;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(started)
}

/// Starts one due campaign; `false` when it is no longer due (edited,
/// paused, cancelled, deleted, or started already).
async fn start(app: &App, entry: &campaigns::DueEntry) -> Result<bool, SendingError> {
    let (tenant, id) = (&entry.tenant, &entry.campaign);
    let (campaign, version) = match campaigns::load(app, tenant, id).await {
        Ok(found) => found,
        Err(CampaignError::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    if campaign.scheduled_at != Some(entry.at) {
        return Ok(false);
    }
    match campaign.state {
        CampaignState::Scheduled => {}
        // Moved to "sending" by an earlier tick that stopped before its run
        // began (a crash, a store failure): begin it now. The due entry
        // stays until the run exists.
        CampaignState::Sending => {
            if load_run(app, tenant, id).await?.is_none() {
                dispatch::begin(app, tenant, &campaign).await?;
                return Ok(true);
            }
            return Ok(false);
        }
        _ => return Ok(false),
    }
    let record = crate::services::tenants::get(app, tenant)
        .await
        .map_err(CampaignError::from)?;
    let now = app.clock.now();
    let mut changed = campaign.clone();
    changed.updated_at = now;
    if record.status != crate::domain::TenantStatus::Active {
        changed.paused_from = Some(CampaignState::Scheduled);
        changed.state = CampaignState::Paused;
        changed.pause_reason = Some(PauseReason::TenantSuspended);
        tracing::warn!(%tenant, campaign = %id, "a due campaign of a suspended institute was paused, not started");
    } else {
        changed.state = CampaignState::Sending;
        changed.started_at = Some(now);
    }
    let item = Item::new(keys::campaign(tenant, id), &changed)?;
    match app.store.put(item, PutCondition::Version(version)).await {
        Ok(_) => {}
        // Changed meanwhile — or our own write, retried: the entry stays,
        // and the next tick looks again.
        Err(StoreError::ConditionFailed) => {
            return Err(CampaignError::Conflict.into());
        }
        Err(e) => return Err(e.into()),
    }
    if changed.state != CampaignState::Sending {
        return Ok(false);
    }
    dispatch::begin(app, tenant, &changed).await?;
    tracing::info!(%tenant, campaign = %id, "campaign started");
    Ok(true)
}

/// After a campaign paused while sending is resumed: every recipient not
/// yet sent to is queued again (batches still on the queue were dropped
/// while it was paused; a recipient queued twice is still sent once).
pub async fn resume_dispatch(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
) -> Result<(), CampaignError> {
    dispatch::restart_enqueue(app, tenant, campaign)
        .await
        .map_err(|e| match e {
            SendingError::Campaign(c) => c,
            SendingError::Store(s) => CampaignError::Store(s),
            other => CampaignError::Store(StoreError::Backend(other.to_string())),
        })
}

/// Pauses a sending campaign by EMMA's own decision, with the reason.
pub(crate) async fn pause_for(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
    reason: PauseReason,
) -> Result<(), SendingError> {
    match campaigns::move_state(
        app,
        tenant,
        campaign,
        &[CampaignState::Sending],
        "paused",
        |c| {
            c.paused_from = Some(CampaignState::Sending);
            c.state = CampaignState::Paused;
            c.pause_reason = Some(reason.clone());
        },
    )
    .await
    {
        Ok(_) => {
            tracing::warn!(%tenant, %campaign, ?reason, "campaign paused");
            Ok(())
        }
        // Paused, cancelled or changed by someone else meanwhile: that
        // decision stands.
        Err(CampaignError::State { .. }) | Err(CampaignError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The tick's care of running campaigns: tops up their batches, resumes
/// those paused for the quota once it renewed, queues again what a lost
/// batch left behind, and ends those with nobody left to send to.
pub async fn watch_active(app: &App) -> Result<u32, SendingError> {
    let mut finished = 0;
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::table(keys::campaigns_active())
                    .limit(100)
                    .after(cursor),
            )
            .await?;
        for stored in &page.items {
            let entry: ActiveEntry = match stored.item.parse() {
                Ok(entry) => entry,
                Err(e) => {
                    tracing::error!(key = %stored.item.key.sk(), error = %e, "an unreadable entry in the running list was skipped");
                    continue;
                }
            };
            match dispatch::watch(app, &entry.tenant, &entry.campaign).await {
                Ok(dispatch::Watched::Running) => {}
                Ok(dispatch::Watched::Ended) => {
                    finished += 1;
                    app.store.delete(&stored.item.key).await?;
                }
                Ok(dispatch::Watched::Gone) => {
                    app.store.delete(&stored.item.key).await?;
                }
                Err(e) => {
                    tracing::error!(tenant = %entry.tenant, campaign = %entry.campaign, error = %e, "watching a running campaign failed");
                }
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(finished),
        }
    }
}

/// A running campaign in the platform's list of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveEntry {
    pub tenant: TenantId,
    pub campaign: CampaignId,
}

/// Whether the campaign is still to be sent.
pub(crate) fn is_sending(campaign: &Campaign) -> bool {
    campaign.state == CampaignState::Sending
}
