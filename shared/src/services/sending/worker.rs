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
use crate::ports::store::{Item, Key, PutCondition, StoreError, Stored, Version, keys};
use crate::ports::{MailError, OutgoingMail};
use crate::services::campaigns::{self, Campaign, CampaignError, PauseReason};
use crate::services::jobs::Job;
use crate::services::tenants;

/// How long one delivery of a batch may claim new recipients; the rest is
/// queued again as a new message (a paced batch can take longer than the
/// function may run).
const TIME_BUDGET: Duration = Duration::from_secs(45);
/// How many recipients are claimed together (one store call), sent, and
/// recorded together (one store call); between two chunks the worker
/// looks at the campaign's state again.
const CHUNK: usize = 10;
/// How long the marker of a finished batch is kept (longer than any
/// redelivery of it).
const BATCH_MARKER_KEPT: TimeDelta = TimeDelta::days(7);
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

/// Sends one batch of a campaign (the `SendBatch` job): `batch` is the
/// batch's id (absent in messages queued before batches had one),
/// `attempt` how often it was throttled before.
pub async fn send_batch(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    contacts: &[ContactId],
    attempt: u32,
    batch: Option<uuid::Uuid>,
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
    let batch_of = Batch {
        app,
        tenant,
        campaign: &campaign,
        prepared: &prepared,
        institute: institute.name.as_str(),
        started,
        attempt,
        batch,
    };
    // Whatever ends the batch (an error too), the outcomes recorded so far
    // reach the progress counters.
    let mut tally = Tally::default();
    let outcome = batch_of.send(&contacts, &mut tally).await;
    let flushed = tally.flush(app, tenant, id).await;
    let outcome = outcome?;
    flushed?;
    if outcome == BatchOutcome::Done {
        if first_done(app, tenant, id, batch).await? {
            app.store
                .add(
                    &keys::campaign_progress(tenant, id),
                    &[(counter::BATCHES_DONE, 1)],
                )
                .await?;
        }
        super::dispatch::top_up(app, tenant, &campaign).await?;
    }
    Ok(outcome)
}

/// Whether this is the first delivery of the batch to finish it (a batch
/// delivered twice finishes twice; the window counts it once).
async fn first_done(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    batch: Option<uuid::Uuid>,
) -> Result<bool, StoreError> {
    let Some(batch) = batch else {
        return Ok(true);
    };
    let mut marker = Item::new(keys::campaign_batch_done(tenant, id, &batch), &())?;
    marker.expires_at = Some(app.clock.now() + BATCH_MARKER_KEPT);
    match app.store.put(marker, PutCondition::NotExists).await {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
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
    batch: &Batch<'_>,
    contacts: &[ContactId],
    attempt: u32,
    delay: Duration,
) -> Result<(), SendingError> {
    if contacts.is_empty() {
        return Ok(());
    }
    let job = Job::SendBatch {
        tenant_id: batch.tenant.clone(),
        campaign_id: *batch.id(),
        contacts: contacts.to_vec(),
        attempt,
        batch: batch.batch,
    };
    batch
        .app
        .jobs
        .send(&job.to_body(), delay.min(Duration::from_secs(900)))
        .await?;
    Ok(())
}

/// One delivery of a batch, and what it needs at hand.
struct Batch<'a> {
    app: &'a App,
    tenant: &'a TenantId,
    campaign: &'a Campaign,
    prepared: &'a Prepared,
    institute: &'a str,
    started: Instant,
    attempt: u32,
    batch: Option<uuid::Uuid>,
}

/// What a recipient's record says is to be done.
enum Plan {
    /// Another worker holds it: the batch comes again later.
    Deferred,
    /// Done before (or outside the snapshot): nothing to do.
    Nothing,
    /// Moves to this final state without a send (skipped, or unknown after
    /// a lease that ran out).
    Settle(RecordState, &'static str),
    /// To be claimed and sent.
    Send(Box<Contact>),
}

/// Why a chunk stopped short.
enum Stop {
    Throttled,
    Pause(PauseReason),
    Unavailable(String),
}

/// What reading a chunk came to.
struct Claims {
    /// To be claimed and sent now.
    sendable: Vec<Pending>,
    /// How many another worker holds.
    deferred: usize,
}

/// A record this delivery holds, and what it will write.
struct Pending {
    held: Held,
    record: SendRecord,
    person: Option<Box<Contact>>,
}

impl Batch<'_> {
    fn id(&self) -> &CampaignId {
        &self.campaign.id
    }

    /// The batch's recipients, [`CHUNK`] at a time: read, decide, claim
    /// (one store call), send, record the outcomes (one store call).
    async fn send(
        &self,
        contacts: &[ContactId],
        tally: &mut Tally,
    ) -> Result<BatchOutcome, SendingError> {
        let (app, tenant, id) = (self.app, self.tenant, self.id());
        let mut deferred = 0usize;
        let mut rest = contacts.to_vec();
        let mut first = true;
        while !rest.is_empty() {
            // A pause or cancel takes effect within a chunk.
            if !first {
                let still = campaigns::load(app, tenant, id).await.map(|(c, _)| c);
                if !still.as_ref().is_ok_and(is_sending) {
                    return Ok(BatchOutcome::Dropped("the campaign is not sending"));
                }
            }
            first = false;
            if self.started.elapsed() >= TIME_BUDGET {
                requeue(self, &rest, self.attempt, Duration::ZERO).await?;
                return Ok(BatchOutcome::Requeued);
            }
            let chunk: Vec<ContactId> = rest.iter().take(CHUNK).cloned().collect();
            let claims = self.prepare(&chunk, tally).await?;
            deferred += claims.deferred;
            rest.drain(..chunk.len());
            let in_hand: Vec<ContactId> = claims
                .sendable
                .iter()
                .map(|p| p.record.contact.clone())
                .collect();
            let (stop, waiting) = self.deliver(claims.sendable, tally).await?;
            deferred += waiting;
            if let Some(stop) = stop {
                return Ok(match stop {
                    Stop::Throttled => {
                        let delay = backoff(self.attempt);
                        let again: Vec<ContactId> = in_hand.into_iter().chain(rest).collect();
                        requeue(self, &again, self.attempt + 1, delay).await?;
                        tracing::warn!(%tenant, campaign = %id, delay_s = delay.as_secs(), "the mail service is throttling; the rest of the batch waits");
                        BatchOutcome::Requeued
                    }
                    Stop::Pause(reason) => {
                        super::pause_for(app, tenant, id, reason).await?;
                        BatchOutcome::Dropped("the campaign was paused")
                    }
                    Stop::Unavailable(why) => BatchOutcome::Retry(why),
                });
            }
        }
        if deferred > 0 {
            return Ok(BatchOutcome::Retry(format!(
                "{deferred} recipients are being sent by another worker"
            )));
        }
        Ok(BatchOutcome::Done)
    }

    /// Reads a chunk's records and people and settles who needs no send, in
    /// one store call; answers those to claim and send.
    async fn prepare(
        &self,
        chunk: &[ContactId],
        tally: &mut Tally,
    ) -> Result<Claims, SendingError> {
        let (app, tenant, id) = (self.app, self.tenant, self.id());
        let read = |key: &dyn Fn(&ContactId) -> Key| {
            let keys: Vec<_> = chunk.iter().map(key).collect();
            async move { app.store.get_many(&keys).await }
        };
        let records = read(&|c| keys::campaign_recipient(tenant, id, c)).await?;
        let people = read(&|c| keys::contact(tenant, c)).await?;
        let suppressed = read(&|c| keys::suppression(tenant, c)).await?;

        let now = app.clock.now();
        let mut deferred = 0;
        let mut writes = Vec::new();
        for (i, contact_id) in chunk.iter().enumerate() {
            let Some(stored) = &records[i] else {
                tracing::warn!(%tenant, campaign = %id, contact = %contact_id, "a batch named a contact outside the campaign's snapshot; nothing sent");
                continue;
            };
            let held = held(stored)?;
            let person = people[i]
                .as_ref()
                .map(|stored| stored.item.parse::<Contact>())
                .transpose()?;
            let mut record = held.record.clone();
            record.updated_at = now;
            let person = match plan(&held.record, person, suppressed[i].is_some(), now) {
                Plan::Deferred => {
                    deferred += 1;
                    continue;
                }
                Plan::Nothing => continue,
                Plan::Settle(state, reason) => {
                    record.state = state;
                    record.reason = Some(reason.to_owned());
                    None
                }
                Plan::Send(person) => {
                    record.state = RecordState::Sending;
                    record.claim = Some(uuid::Uuid::new_v4());
                    record.lease_until = Some(now + TimeDelta::seconds(LEASE_SECONDS));
                    Some(person)
                }
            };
            writes.push(Pending {
                held,
                record,
                person,
            });
        }
        // Who needs no send is settled in one store call.
        let (sendable, settled): (Vec<_>, Vec<_>) =
            writes.into_iter().partition(|w| w.person.is_some());
        let results = self.write_all(&settled).await?;
        for (write, result) in settled.iter().zip(results) {
            match result {
                Ok(_) => {
                    if write.record.state == RecordState::Unknown {
                        tracing::warn!(%tenant, campaign = %id, contact = %write.record.contact, "a recipient's outcome is unknown");
                    }
                    tally.count(write.record.state);
                }
                Err(StoreError::ConditionFailed) => deferred += 1,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Claims { sendable, deferred })
    }

    /// Takes each recipient's message from the rate, claims the recipient
    /// (from here on only this worker may send to them) and sends, one
    /// after the other, then records the outcomes in one store call. A claim is written by itself right before its send,
    /// so a crash leaves "unknown" only where it fell between a claim and
    /// the record of its outcome. Stops at throttling, the quota, a sender
    /// SES refuses or no answer. Answers why it stopped, and how many
    /// recipients another worker holds.
    async fn deliver(
        &self,
        sendable: Vec<Pending>,
        tally: &mut Tally,
    ) -> Result<(Option<Stop>, usize), SendingError> {
        let (app, tenant, id) = (self.app, self.tenant, self.id());
        let mut outcomes = Vec::with_capacity(sendable.len());
        let mut stop = None;
        let mut deferred = 0;
        let mut failure = None;
        for mut pending in sendable {
            if stop.is_some() || failure.is_some() {
                break;
            }
            // The rate first, one message at a time right before its send
            // (a wait or a failure here leaves nothing claimed); the lease
            // runs from the claim.
            if let Err(e) = pacing::acquire(app, 1).await {
                failure = Some(e);
                continue;
            }
            let now = app.clock.now();
            pending.record.updated_at = now;
            pending.record.lease_until = Some(now + TimeDelta::seconds(LEASE_SECONDS));
            match advance(app, tenant, id, &pending.held, &pending.record).await {
                Ok(Some(version)) => pending.held.version = version,
                // The store may have applied the claim and then reported a
                // conflict (a retried write meeting itself): then it is ours.
                Ok(None) => match reread(app, tenant, id, &pending.record.contact).await {
                    Ok(Some(again)) if again.record.claim == pending.record.claim => {
                        pending.held.version = again.version;
                    }
                    Ok(_) => {
                        deferred += 1;
                        continue;
                    }
                    Err(e) => {
                        failure = Some(e);
                        continue;
                    }
                },
                Err(e) => {
                    failure = Some(e);
                    continue;
                }
            }
            let person = pending
                .person
                .take()
                .expect("a claimed recipient has a contact");
            let mail = match self.mail(&person) {
                Ok(mail) => mail,
                Err(e) => {
                    tracing::warn!(%tenant, campaign = %id, contact = %person.id, error = %e, "a recipient's message could not be made");
                    outcomes.push(outcome(
                        pending,
                        RecordState::Failed,
                        None,
                        Some("the message could not be made for this contact"),
                    ));
                    continue;
                }
            };
            match app.mailer.send(&mail).await {
                Ok(sent) => outcomes.push(outcome(
                    pending,
                    RecordState::Sent,
                    Some(sent.provider_message_id),
                    None,
                )),
                Err(MailError::Rejected(reason)) => {
                    outcomes.push(outcome(pending, RecordState::Failed, None, Some(reason)));
                }
                // Certainly not sent: the recipient goes back to the queue.
                Err(MailError::Throttled) => {
                    stop = Some(Stop::Throttled);
                    outcomes.push(release(pending));
                }
                Err(MailError::DailyQuotaExceeded) => {
                    stop = Some(Stop::Pause(PauseReason::QuotaExhausted {
                        resume_at: app.clock.now() + QUOTA_PAUSE,
                    }));
                    outcomes.push(release(pending));
                }
                Err(MailError::SenderNotVerified(_)) => {
                    stop = Some(Stop::Pause(PauseReason::SenderNotVerified));
                    outcomes.push(release(pending));
                }
                // No answer: the message may or may not have gone out.
                Err(MailError::Unavailable(why)) => {
                    tracing::warn!(%tenant, campaign = %id, contact = %person.id, "the mail service did not answer; the outcome is unknown");
                    stop = Some(Stop::Unavailable(why));
                    outcomes.push(outcome(
                        pending,
                        RecordState::Unknown,
                        None,
                        Some("the mail service did not answer"),
                    ));
                }
            }
        }
        // What was sent is recorded even when a claim failed on the way.
        self.record(outcomes, tally).await?;
        match failure {
            Some(e) => Err(e.into()),
            None => Ok((stop, deferred)),
        }
    }

    /// Writes each record on the version this delivery holds, in one
    /// store call; answers each write's result.
    async fn write_all(
        &self,
        writes: &[Pending],
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
        let items = writes
            .iter()
            .map(|w| {
                Ok((
                    w.record.item(self.tenant, self.id())?,
                    PutCondition::Version(w.held.version),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        self.app.store.put_each(items).await
    }

    /// The message to one recipient.
    fn mail(&self, person: &Contact) -> Result<OutgoingMail, String> {
        let (app, tenant, id) = (self.app, self.tenant, self.id());
        let token = crate::services::unsubscribe::token(app, tenant, &person.id);
        let values = context::for_contact(person, "", self.institute);
        let name = person.display_name();
        let recipient = Recipient {
            contact: &person.id,
            to: &person.email,
            name: (name != person.email.as_str()).then_some(name.as_str()),
            unsubscribe_token: &token,
            context: &values,
        };
        let built = self
            .prepared
            .message(&recipient, app.clock.now().timestamp())
            .map_err(|e| e.to_string())?;
        Ok(OutgoingMail {
            tenant: tenant.clone(),
            from: self.campaign.from_email.clone(),
            recipients: vec![person.email.clone()],
            raw: built.raw,
            tags: vec![
                ("tenant".to_owned(), tenant.to_string()),
                ("campaign".to_owned(), id.as_uuid().simple().to_string()),
                ("recipient".to_owned(), person.id.to_string()),
            ],
        })
    }

    /// Writes the outcomes of this worker's claims, each on the version of
    /// its claim. A write that does not hold is looked at again: the claim
    /// is still ours when the store applied the write and reported a
    /// conflict, or when another worker found the lease run out and wrote
    /// "unknown" (the outcome we know is better). A store failure leaves
    /// the record claimed: after the lease it counts as "unknown".
    async fn record(&self, outcomes: Vec<Pending>, tally: &mut Tally) -> Result<(), SendingError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let (app, tenant, id) = (self.app, self.tenant, self.id());
        let results = self.write_all(&outcomes).await?;
        let mut failure = None;
        for (written, result) in outcomes.into_iter().zip(results) {
            match result {
                Ok(_) => tally.count(written.record.state),
                Err(StoreError::ConditionFailed) => {
                    contested(app, tenant, id, &written.record, tally).await?;
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

/// What to do with a recipient whose record reads `record`.
fn plan(
    record: &SendRecord,
    person: Option<Contact>,
    suppressed: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Plan {
    match record.state {
        RecordState::Queued => {}
        RecordState::Sending if record.lease_until.is_some_and(|until| until > now) => {
            return Plan::Deferred;
        }
        // The worker that claimed it stopped somewhere between its claim
        // and recording the outcome: it may have been sent.
        RecordState::Sending => {
            return Plan::Settle(
                RecordState::Unknown,
                "the sender stopped before recording the outcome",
            );
        }
        _ => return Plan::Nothing,
    }
    match person {
        None => Plan::Settle(RecordState::Skipped, "the contact was erased"),
        Some(p) if !p.status.is_mailable() => Plan::Settle(
            RecordState::Skipped,
            "the contact unsubscribed or cannot be reached",
        ),
        Some(_) if suppressed => Plan::Settle(
            RecordState::Skipped,
            "the contact is on the suppression list",
        ),
        Some(p) => Plan::Send(Box::new(p)),
    }
}

/// A claimed record with its outcome.
fn outcome(
    mut pending: Pending,
    state: RecordState,
    message_id: Option<String>,
    reason: Option<&str>,
) -> Pending {
    pending.record.state = state;
    pending.record.message_id = message_id;
    pending.record.reason = reason.map(str::to_owned);
    pending.record.lease_until = None;
    pending
}

/// A claimed record given back, unsent, to the queue.
fn release(mut pending: Pending) -> Pending {
    pending.record.state = RecordState::Queued;
    pending.record.claim = None;
    pending.record.lease_until = None;
    pending.person = None;
    pending
}

/// An outcome whose write did not hold: see [`Batch::record`].
async fn contested(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    record: &SendRecord,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    let Some(again) = reread(app, tenant, id, &record.contact).await? else {
        return Ok(());
    };
    if again.record.claim != record.claim {
        return Ok(());
    }
    if again.record == *record {
        tally.count(record.state);
        return Ok(());
    }
    if again.record.state == RecordState::Unknown
        && record.state != RecordState::Queued
        && advance(app, tenant, id, &again, record).await?.is_some()
    {
        // Counted as unknown by whoever wrote it; now it is known.
        tally.unknown -= 1;
        tally.count(record.state);
    }
    Ok(())
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
