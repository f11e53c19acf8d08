//! The send worker's batch: each recipient's record is claimed, the
//! message sent, and the outcome recorded, each step a write conditioned
//! on the version read (see the module above for the states). Whatever
//! the batch is interrupted by — throttling, the quota, a pause, the time
//! budget, a crash — the records say exactly who is left, and a later
//! delivery of the batch goes on from there.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use chrono::TimeDelta;

use super::{
    BATCH_SIZE, LEASE_SECONDS, RecordState, SendRecord, SendingError, counter, is_sending,
    load_run, pacing, save_run,
};
use crate::App;
use crate::content::context;
use crate::content::links::LinkKey;
use crate::content::message::{CampaignMail, Prepared, Recipient};
use crate::domain::{CampaignId, Contact, ContactId, TenantId, TenantStatus};
use crate::ports::store::{PutCondition, StoreError, Stored, Version, keys};
use crate::ports::{MailError, OutgoingMail};
use crate::services::campaigns::{self, Campaign, CampaignError, PauseReason};
use crate::services::jobs::Job;
use crate::services::tenants;

/// How long one delivery of a batch may claim new recipients; the rest is
/// queued again as a new message (a paced batch can take longer than the
/// function may run).
const TIME_BUDGET: Duration = Duration::from_secs(45);
/// How many recipients are sent between two looks at the campaign's state.
const RECHECK_EVERY: usize = 10;
/// The longest wait before a throttled batch is tried again.
const MAX_BACKOFF_SECONDS: u64 = 300;
/// How long a campaign paused for the quota waits before it tries again.
const QUOTA_PAUSE: TimeDelta = TimeDelta::hours(1);

/// What became of one delivery of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Every recipient of the batch has an outcome.
    Done,
    /// Nothing more is sent for this batch (the campaign is paused,
    /// cancelled or deleted, or the institute suspended); its recipients
    /// stay queued for a resume.
    Dropped(&'static str),
    /// The rest of the batch is on the queue again (throttling, or the
    /// time budget ran out).
    Requeued,
    /// Some recipients are being sent by another worker, or the mail
    /// service did not answer: deliver the batch again later.
    Retry(String),
}

/// The prepared messages of running campaigns, kept per process: the
/// template compiles once per campaign and worker, not per batch.
type PreparedCache = HashMap<(TenantId, CampaignId), Arc<Prepared>>;
static PREPARED: LazyLock<Mutex<PreparedCache>> = LazyLock::new(|| Mutex::new(HashMap::new()));
const MAX_PREPARED: usize = 32;

/// The campaign's messages, ready to make (compiled at most once here).
pub async fn prepared(
    app: &App,
    tenant: &TenantId,
    campaign: &Campaign,
) -> Result<Arc<Prepared>, SendingError> {
    let cache_key = (tenant.clone(), campaign.id);
    if let Some(found) = PREPARED.lock().expect("the cache lock").get(&cache_key) {
        return Ok(found.clone());
    }
    let (_, source) = campaigns::content_of(app, tenant, campaign).await?;
    let compiled = crate::content::template::compile(&source)
        .map_err(|e| SendingError::Content(e.to_string()))?;
    let mail = CampaignMail {
        tenant: tenant.clone(),
        campaign: campaign.id.as_uuid(),
        from_name: campaign.from_name.clone(),
        from: campaign.from_email.clone(),
        reply_to: campaign.reply_to.clone(),
        tracking: campaign.tracking,
        public_url: app.settings.public_url.clone(),
        unsubscribe_mailto: app
            .settings
            .sending
            .unsubscribe_address
            .clone()
            .unwrap_or_else(|| campaign.from_email.clone()),
        message_id_domain: campaign.from_email.domain().to_owned(),
        headers: vec![("X-EMMA-Campaign", campaign.id.to_string())],
    };
    let prepared = Arc::new(
        Prepared::new(compiled, &mail, &LinkKey::new(&app.pseudonyms))
            .map_err(|e| SendingError::Content(e.to_string()))?,
    );
    // The click endpoint finds each link's destination here; the same
    // table written again (another worker, a restart) is fine.
    crate::services::tracking::store_links(app, tenant, &campaign.id, prepared.links()).await?;
    let mut cache = PREPARED.lock().expect("the cache lock");
    if cache.len() >= MAX_PREPARED {
        cache.clear();
    }
    cache.insert(cache_key, prepared.clone());
    Ok(prepared)
}

/// What changed in the counters during a batch.
#[derive(Default)]
struct Tally {
    sent: i64,
    failed: i64,
    skipped: i64,
    unknown: i64,
}

impl Tally {
    fn count(&mut self, state: RecordState) {
        match state {
            RecordState::Sent => self.sent += 1,
            RecordState::Failed => self.failed += 1,
            RecordState::Skipped => self.skipped += 1,
            RecordState::Unknown => self.unknown += 1,
            RecordState::Queued | RecordState::Sending => {}
        }
    }

    async fn flush(
        &mut self,
        app: &App,
        tenant: &TenantId,
        id: &CampaignId,
    ) -> Result<(), StoreError> {
        let deltas: Vec<(&str, i64)> = [
            (counter::SENT, self.sent),
            (counter::FAILED, self.failed),
            (counter::SKIPPED, self.skipped),
            (counter::UNKNOWN, self.unknown),
        ]
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .collect();
        if !deltas.is_empty() {
            app.store
                .add(&keys::campaign_progress(tenant, id), &deltas)
                .await?;
        }
        *self = Self::default();
        Ok(())
    }
}

/// A recipient's record, as read, with its version.
struct Held {
    record: SendRecord,
    version: Version,
}

/// Writes the record if it still has the version read; returns the new
/// version, or `None` when someone else changed it first.
async fn advance(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    held: &Held,
    record: &SendRecord,
) -> Result<Option<Version>, StoreError> {
    match app
        .store
        .put(
            record.item(tenant, id)?,
            PutCondition::Version(held.version),
        )
        .await
    {
        Ok(version) => Ok(Some(version)),
        Err(StoreError::ConditionFailed) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads a record again (after a write that did not hold).
async fn reread(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    contact: &ContactId,
) -> Result<Option<Held>, StoreError> {
    app.store
        .get(&keys::campaign_recipient(tenant, id, contact))
        .await?
        .map(|stored| held(&stored))
        .transpose()
}

fn held(stored: &Stored) -> Result<Held, StoreError> {
    Ok(Held {
        record: stored.item.parse()?,
        version: stored.version,
    })
}

/// Sends one batch of a campaign (the `SendBatch` job). `receive_count`
/// is how often the queue delivered this message.
pub async fn send_batch(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    contacts: &[ContactId],
    attempt: u32,
) -> Result<BatchOutcome, SendingError> {
    let started = Instant::now();
    let campaign = match campaigns::load(app, tenant, id).await {
        Ok((campaign, _)) => campaign,
        Err(CampaignError::NotFound) => {
            tracing::warn!(%tenant, campaign = %id, "a batch of a deleted campaign was dropped");
            return Ok(BatchOutcome::Dropped("the campaign was deleted"));
        }
        Err(e) => return Err(e.into()),
    };
    if !is_sending(&campaign) {
        return Ok(BatchOutcome::Dropped("the campaign is not sending"));
    }
    let institute = tenants::get(app, tenant)
        .await
        .map_err(CampaignError::from)?;
    if institute.status != TenantStatus::Active {
        super::pause_for(app, tenant, id, PauseReason::TenantSuspended).await?;
        return Ok(BatchOutcome::Dropped("the institute is suspended"));
    }
    let prepared = match prepared(app, tenant, &campaign).await {
        Ok(prepared) => prepared,
        // The template version no longer makes messages: nothing can be
        // sent until someone looks; the campaign pauses and says why.
        Err(SendingError::Content(why)) => {
            super::dispatch::note(
                app,
                tenant,
                id,
                format!("the content cannot be sent: {why}"),
            )
            .await?;
            super::pause_for(app, tenant, id, PauseReason::ContentInvalid).await?;
            return Ok(BatchOutcome::Dropped("the content cannot be sent"));
        }
        Err(e) => return Err(e),
    };

    let mut contacts = contacts.to_vec();
    contacts.sort();
    contacts.dedup();
    if contacts.len() > BATCH_SIZE * 4 {
        return Err(SendingError::Content(format!(
            "a batch names {} recipients; at most {} are sent per message",
            contacts.len(),
            BATCH_SIZE * 4
        )));
    }
    let read = |key: &dyn Fn(&ContactId) -> crate::ports::store::Key| {
        let keys: Vec<_> = contacts.iter().map(key).collect();
        async move { app.store.get_many(&keys).await }
    };
    let records = read(&|c| keys::campaign_recipient(tenant, id, c)).await?;
    let people = read(&|c| keys::contact(tenant, c)).await?;
    let suppressed = read(&|c| keys::suppression(tenant, c)).await?;

    let mut tally = Tally::default();
    let mut deferred = 0usize;
    let mut outcome = None;
    for (i, contact_id) in contacts.iter().enumerate() {
        // A pause or cancel takes effect within a few recipients.
        if i > 0 && i % RECHECK_EVERY == 0 {
            let still = campaigns::load(app, tenant, id).await.map(|(c, _)| c);
            if !still.as_ref().is_ok_and(is_sending) {
                outcome = Some(BatchOutcome::Dropped("the campaign is not sending"));
                break;
            }
        }
        if started.elapsed() >= TIME_BUDGET {
            requeue(app, tenant, id, &contacts[i..], attempt, Duration::ZERO).await?;
            outcome = Some(BatchOutcome::Requeued);
            break;
        }
        let Some(stored) = &records[i] else {
            tracing::warn!(%tenant, campaign = %id, contact = %contact_id, "a batch named a contact outside the campaign's snapshot; nothing sent");
            continue;
        };
        let person = people[i]
            .as_ref()
            .map(|stored| stored.item.parse::<Contact>())
            .transpose()?;
        let step = one(
            app,
            tenant,
            &campaign,
            &prepared,
            held(stored)?,
            person,
            suppressed[i].is_some(),
            institute.name.as_str(),
        )
        .await?;
        match step {
            Step::Recorded(state) => tally.count(state),
            Step::Deferred => deferred += 1,
            Step::Nothing => {}
            Step::Stop(stop) => {
                let rest = &contacts[i..];
                outcome = Some(match stop {
                    Stop::Throttled => {
                        let delay = backoff(attempt);
                        requeue(app, tenant, id, rest, attempt + 1, delay).await?;
                        tracing::warn!(%tenant, campaign = %id, delay_s = delay.as_secs(), "the mail service is throttling; the rest of the batch waits");
                        BatchOutcome::Requeued
                    }
                    Stop::Pause(reason) => {
                        super::pause_for(app, tenant, id, reason).await?;
                        BatchOutcome::Dropped("the campaign was paused")
                    }
                    Stop::Unavailable(why) => BatchOutcome::Retry(why),
                });
                break;
            }
        }
    }
    tally.flush(app, tenant, id).await?;
    if let Some(outcome) = outcome {
        return Ok(outcome);
    }
    if deferred > 0 {
        return Ok(BatchOutcome::Retry(format!(
            "{deferred} recipients are being sent by another worker"
        )));
    }
    app.store
        .add(
            &keys::campaign_progress(tenant, id),
            &[(counter::BATCHES_DONE, 1)],
        )
        .await?;
    super::dispatch::top_up(app, tenant, &campaign).await?;
    Ok(BatchOutcome::Done)
}

/// The delay before a throttled batch is tried again: doubling with each
/// attempt, up to [`MAX_BACKOFF_SECONDS`], with up to half of it random.
fn backoff(attempt: u32) -> Duration {
    let base = 2u64
        .saturating_pow(attempt.min(16))
        .min(MAX_BACKOFF_SECONDS);
    let jitter = pacing::jitter_ms(base * 500);
    Duration::from_millis(base * 500 + jitter)
}

/// Queues recipients of a batch again as a new message.
async fn requeue(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    contacts: &[ContactId],
    attempt: u32,
    delay: Duration,
) -> Result<(), SendingError> {
    if contacts.is_empty() {
        return Ok(());
    }
    let job = Job::SendBatch {
        tenant_id: tenant.clone(),
        campaign_id: *id,
        contacts: contacts.to_vec(),
        attempt,
    };
    app.jobs
        .send(&job.to_body(), delay.min(Duration::from_secs(900)))
        .await?;
    Ok(())
}

enum Step {
    /// The record reached this final state now.
    Recorded(RecordState),
    /// Another worker holds it; the batch comes again later.
    Deferred,
    /// Done before (or outside the snapshot): nothing to do.
    Nothing,
    /// The batch stops here; this recipient is queued again.
    Stop(Stop),
}

enum Stop {
    Throttled,
    Pause(PauseReason),
    Unavailable(String),
}

/// One recipient: skip, claim, send, record.
#[allow(clippy::too_many_arguments)]
async fn one(
    app: &App,
    tenant: &TenantId,
    campaign: &Campaign,
    prepared: &Prepared,
    mut held: Held,
    person: Option<Contact>,
    suppressed: bool,
    institute: &str,
) -> Result<Step, SendingError> {
    let id = &campaign.id;
    let now = app.clock.now();
    let mut record = held.record.clone();
    match record.state {
        RecordState::Queued => {}
        RecordState::Sending if record.lease_until.is_some_and(|until| until > now) => {
            return Ok(Step::Deferred);
        }
        RecordState::Sending => {
            // The worker that claimed it stopped somewhere between its claim
            // and recording the outcome: it may have been sent.
            record.state = RecordState::Unknown;
            record.reason = Some("the sender stopped before recording the outcome".to_owned());
            record.updated_at = now;
            return Ok(match advance(app, tenant, id, &held, &record).await? {
                Some(_) => {
                    tracing::warn!(%tenant, campaign = %id, contact = %record.contact, "a recipient's outcome is unknown");
                    Step::Recorded(RecordState::Unknown)
                }
                None => Step::Deferred,
            });
        }
        _ => return Ok(Step::Nothing),
    }
    let skip = match &person {
        None => Some("the contact was erased"),
        Some(p) if !p.status.is_mailable() => Some("the contact unsubscribed or cannot be reached"),
        Some(_) if suppressed => Some("the contact is on the suppression list"),
        Some(_) => None,
    };
    if let Some(reason) = skip {
        record.state = RecordState::Skipped;
        record.reason = Some(reason.to_owned());
        record.updated_at = now;
        return Ok(match advance(app, tenant, id, &held, &record).await? {
            Some(_) => Step::Recorded(RecordState::Skipped),
            None => Step::Deferred,
        });
    }
    let person = person.expect("checked above");

    // The rate first: a wait (or a failure) here leaves nothing claimed.
    pacing::acquire(app, 1).await?;
    // Claim: from here on only this worker may send to the recipient.
    let claim = uuid::Uuid::new_v4();
    record.state = RecordState::Sending;
    record.claim = Some(claim);
    record.lease_until = Some(now + TimeDelta::seconds(LEASE_SECONDS));
    record.updated_at = now;
    held.version = match advance(app, tenant, id, &held, &record).await? {
        Some(version) => version,
        None => match reread(app, tenant, id, &record.contact).await? {
            // The store applied the claim and then reported a conflict (a
            // retried write meeting itself): the claim is ours.
            Some(again) if again.record.claim == Some(claim) => again.version,
            _ => return Ok(Step::Deferred),
        },
    };

    let token = crate::services::unsubscribe::token(app, tenant, &person.id);
    let values = context::for_contact(&person, "", institute);
    let name = person.display_name();
    let recipient = Recipient {
        contact: &person.id,
        to: &person.email,
        name: (name != person.email.as_str()).then_some(name.as_str()),
        unsubscribe_token: &token,
        context: &values,
    };
    let built = match prepared.message(&recipient, now.timestamp()) {
        Ok(built) => built,
        Err(e) => {
            tracing::warn!(%tenant, campaign = %id, contact = %person.id, error = %e, "a recipient's message could not be made");
            return finish(
                app,
                tenant,
                id,
                held,
                record,
                RecordState::Failed,
                None,
                Some("the message could not be made for this contact"),
            )
            .await;
        }
    };
    let mail = OutgoingMail {
        tenant: tenant.clone(),
        from: campaign.from_email.clone(),
        recipients: vec![person.email.clone()],
        raw: built.raw,
        tags: vec![
            ("tenant".to_owned(), tenant.to_string()),
            ("campaign".to_owned(), id.as_uuid().simple().to_string()),
            ("recipient".to_owned(), person.id.to_string()),
        ],
    };
    match app.mailer.send(&mail).await {
        Ok(sent) => {
            finish(
                app,
                tenant,
                id,
                held,
                record,
                RecordState::Sent,
                Some(sent.provider_message_id),
                None,
            )
            .await
        }
        Err(MailError::Rejected(reason)) => {
            finish(
                app,
                tenant,
                id,
                held,
                record,
                RecordState::Failed,
                None,
                Some(reason),
            )
            .await
        }
        // Certainly not sent: the recipient goes back to the queue.
        Err(
            e @ (MailError::Throttled
            | MailError::DailyQuotaExceeded
            | MailError::SenderNotVerified(_)),
        ) => {
            record.state = RecordState::Queued;
            record.claim = None;
            record.lease_until = None;
            record.updated_at = app.clock.now();
            advance(app, tenant, id, &held, &record).await?;
            Ok(Step::Stop(match e {
                MailError::Throttled => Stop::Throttled,
                MailError::DailyQuotaExceeded => Stop::Pause(PauseReason::QuotaExhausted {
                    resume_at: app.clock.now() + QUOTA_PAUSE,
                }),
                _ => Stop::Pause(PauseReason::SenderNotVerified),
            }))
        }
        // No answer: the message may or may not have gone out.
        Err(MailError::Unavailable(why)) => {
            let step = finish(
                app,
                tenant,
                id,
                held,
                record,
                RecordState::Unknown,
                None,
                Some("the mail service did not answer"),
            )
            .await?;
            if let Step::Recorded(state) = step {
                tracing::warn!(%tenant, campaign = %id, contact = %person.id, ?state, "the mail service did not answer; the outcome is unknown");
            }
            Ok(match step {
                Step::Recorded(_) => Step::Stop(Stop::Unavailable(why)),
                other => other,
            })
        }
    }
}

/// Records the outcome of this worker's claim. If the write does not hold,
/// the record is read again: the claim is still ours when the store applied
/// the write and reported a conflict, or when another worker found the
/// lease run out and wrote "unknown" (the outcome we know is better).
#[allow(clippy::too_many_arguments)]
async fn finish(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    held: Held,
    mut record: SendRecord,
    state: RecordState,
    message_id: Option<String>,
    reason: Option<&str>,
) -> Result<Step, SendingError> {
    let claim = record.claim;
    record.state = state;
    record.message_id = message_id;
    record.reason = reason.map(str::to_owned);
    record.lease_until = None;
    record.updated_at = app.clock.now();
    if advance(app, tenant, id, &held, &record).await?.is_some() {
        return Ok(Step::Recorded(state));
    }
    let Some(again) = reread(app, tenant, id, &record.contact).await? else {
        return Ok(Step::Nothing);
    };
    if again.record.claim != claim {
        return Ok(Step::Nothing);
    }
    if again.record == record {
        return Ok(Step::Recorded(state));
    }
    if again.record.state == RecordState::Unknown {
        // Counted as unknown by whoever wrote it; now it is known.
        if advance(app, tenant, id, &again, &record).await?.is_some() {
            let mut tally = Tally::default();
            tally.unknown -= 1;
            tally.count(state);
            tally.flush(app, tenant, id).await?;
        }
    }
    Ok(Step::Nothing)
}

/// After the last delivery the queue allows has failed: the recipients of
/// the batch still queued are marked failed, so the report shows them and
/// no later pass sends them unnoticed; the run names the problem.
pub async fn give_up(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    contacts: &[ContactId],
    error: &str,
) -> Result<(), SendingError> {
    let mut tally = Tally::default();
    for contact in contacts {
        let Some(held) = reread(app, tenant, id, contact).await? else {
            continue;
        };
        if held.record.state != RecordState::Queued {
            continue;
        }
        let mut record = held.record.clone();
        record.state = RecordState::Failed;
        record.reason = Some("the batch failed too often".to_owned());
        record.updated_at = app.clock.now();
        if advance(app, tenant, id, &held, &record).await?.is_some() {
            tally.count(RecordState::Failed);
        }
    }
    tally.flush(app, tenant, id).await?;
    if let Some((mut run, version)) = load_run(app, tenant, id).await? {
        run.note(
            app.clock.now(),
            format!("a batch of {} recipients failed too often and went to the dead-letter queue: {error}", contacts.len()),
        );
        save_run(app, tenant, id, &run, PutCondition::Version(version)).await?;
    }
    Ok(())
}
