//! Dispatch: a started campaign's audience is snapshotted into one send
//! record per recipient, a chunk per step, and the records are queued in
//! batches, a window at a time. Every step is short, conditioned on the
//! run's version (a step delivered twice, or two at once, advances the run
//! once) and safe to repeat: a recipient is recorded once (the record is
//! written only if absent), and a recipient queued twice is still sent once.

use std::time::Duration;

use super::{
    ActiveEntry, BATCH_SIZE, Phase, RecordState, Run, SendRecord, SendingError, Totals,
    WINDOW_BATCHES, counter, counter_value, counters, is_sending, load_run, save_run,
};
use crate::App;
use crate::domain::{CampaignId, Contact, ContactId, TenantId};
use crate::ports::store::{
    Cursor, Item, MAX_BATCH_GET, MAX_PAGE_SIZE, PutCondition, Query, StoreError, keys,
};
use crate::services::campaigns::{self, Campaign, CampaignError, CampaignState, PauseReason};
use crate::services::jobs::Job;
use crate::services::{lists, segments};

/// How many list members one snapshot step reads.
const LIST_CHUNK: u32 = 1000;
/// How many pages of contacts one snapshot step of a segment looks at.
const SEGMENT_PAGES: usize = 5;
/// How long a run may show no progress while batches are out before the
/// tick takes them for lost and queues their recipients again.
const STALL: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// Begins a started campaign's run: the run record, the campaign's place
/// in the list of running campaigns, and the first dispatch step.
pub async fn begin(app: &App, tenant: &TenantId, campaign: &Campaign) -> Result<(), SendingError> {
    let run = Run {
        started_at: app.clock.now(),
        phase: Phase::Snapshot {
            source: 0,
            cursor: None,
        },
        written_off: 0,
        watched_done: 0,
        watched_at: Some(app.clock.now()),
        problems: Vec::new(),
        totals: None,
    };
    // A run that exists already (a start repeated) is kept as it is.
    save_run(app, tenant, &campaign.id, &run, PutCondition::NotExists).await?;
    let entry = Item::new(
        keys::campaign_active(tenant, &campaign.id),
        &ActiveEntry {
            tenant: tenant.clone(),
            campaign: campaign.id,
        },
    )?;
    app.store.put(entry, PutCondition::Always).await?;
    // The content must make messages (and its links be stored) before
    // anyone is queued; content that cannot pauses the campaign, with why.
    match super::worker::prepared(app, tenant, campaign).await {
        Ok(_) => {}
        Err(SendingError::Content(why)) => {
            note(
                app,
                tenant,
                &campaign.id,
                format!("the content cannot be sent: {why}"),
            )
            .await?;
            super::pause_for(app, tenant, &campaign.id, PauseReason::ContentInvalid).await?;
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    enqueue_step(app, tenant, &campaign.id).await
}

/// Adds a problem to the run (retrying on a concurrent change).
pub(crate) async fn note(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    what: String,
) -> Result<(), SendingError> {
    for _ in 0..5 {
        let Some((mut run, version)) = load_run(app, tenant, id).await? else {
            return Ok(());
        };
        run.note(app.clock.now(), what.clone());
        if save_run(app, tenant, id, &run, PutCondition::Version(version)).await? {
            return Ok(());
        }
    }
    Ok(())
}

async fn enqueue_step(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
) -> Result<(), SendingError> {
    let job = Job::Dispatch {
        tenant_id: tenant.clone(),
        campaign_id: *campaign,
    };
    app.jobs.send(&job.to_body(), Duration::ZERO).await?;
    Ok(())
}

/// One dispatch step (the `Dispatch` job): a chunk of the snapshot, or a
/// top-up of the campaign's batches on the queue.
pub async fn step(app: &App, tenant: &TenantId, id: &CampaignId) -> Result<(), SendingError> {
    let Some((run, version)) = load_run(app, tenant, id).await? else {
        tracing::warn!(%tenant, campaign = %id, "dispatch step for a campaign that never started");
        return Ok(());
    };
    let campaign = match campaigns::load(app, tenant, id).await {
        Ok((campaign, _)) => campaign,
        Err(CampaignError::NotFound) => {
            tracing::warn!(%tenant, campaign = %id, "dispatch step for a deleted campaign");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if campaign.state == CampaignState::Cancelled {
        return count_cancelled(app, tenant, &campaign, &run).await;
    }
    if !is_sending(&campaign) {
        return Ok(());
    }
    let Phase::Snapshot { source, cursor } = run.phase.clone() else {
        top_up(app, tenant, &campaign).await?;
        return Ok(());
    };
    let read_phase = run.phase.clone();
    let mut gone = None;
    let (found, next) = match read_source(app, tenant, &campaign, source, cursor).await {
        Ok(read) => read,
        Err(SourceError::Gone(what)) => {
            // A list or segment deleted since scheduling: its members are
            // left out, and the run says so.
            gone = Some(format!("{what} is gone; its members were left out"));
            (
                Vec::new(),
                Phase::Snapshot {
                    source: source + 1,
                    cursor: None,
                },
            )
        }
        Err(SourceError::Failed(e)) => return Err(e),
    };
    let recorded = snapshot(app, tenant, id, found).await?;
    if recorded > 0 {
        app.store
            .add(
                &keys::campaign_progress(tenant, id),
                &[(counter::RECIPIENTS, recorded as i64)],
            )
            .await?;
    }
    let sources = campaign.audience.lists.len() + campaign.audience.segments.len();
    let next = match next {
        Phase::Snapshot { source, .. } if source >= sources => Phase::Enqueue { cursor: None },
        other => other,
    };
    if advance_phase(app, tenant, id, (run, version), &read_phase, next, gone).await? {
        enqueue_step(app, tenant, id).await?;
    }
    Ok(())
}

/// Moves the run from phase `from` to `to`. A run changed meanwhile only by
/// the tick's watch (still at `from`) is read again and moved; a run that
/// another step moved on already is left as it is (`false`).
async fn advance_phase(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    (mut run, mut version): (Run, crate::ports::store::Version),
    from: &Phase,
    to: Phase,
    problem: Option<String>,
) -> Result<bool, SendingError> {
    for _ in 0..5 {
        if &run.phase != from {
            return Ok(false);
        }
        run.phase = to.clone();
        if let Some(problem) = &problem {
            run.note(app.clock.now(), problem.clone());
        }
        if save_run(app, tenant, id, &run, PutCondition::Version(version)).await? {
            return Ok(true);
        }
        match load_run(app, tenant, id).await? {
            Some((again, v)) => (run, version) = (again, v),
            None => return Ok(false),
        }
    }
    Ok(false)
}

/// A cancelled campaign's run ends with the exact count, once every claim
/// made before the cancel has had its lease to finish.
async fn count_cancelled(
    app: &App,
    tenant: &TenantId,
    campaign: &Campaign,
    run: &Run,
) -> Result<(), SendingError> {
    let settled = campaign.updated_at + chrono::TimeDelta::seconds(super::LEASE_SECONDS);
    if run.totals.is_some() || app.clock.now() < settled {
        return Ok(());
    }
    let totals = count(app, tenant, &campaign.id).await?;
    end(app, tenant, &campaign.id, totals, CampaignState::Cancelled).await?;
    Ok(())
}

enum SourceError {
    Gone(String),
    Failed(SendingError),
}

/// Reads the next chunk of audience source `source` (the lists first, then
/// the segments) from `cursor`: its contacts, and where the snapshot goes on.
async fn read_source(
    app: &App,
    tenant: &TenantId,
    campaign: &Campaign,
    source: usize,
    cursor: Option<String>,
) -> Result<(Vec<Contact>, Phase), SourceError> {
    let lists_len = campaign.audience.lists.len();
    let after = |next: Option<Cursor>| match next {
        Some(next) => Phase::Snapshot {
            source,
            cursor: Some(next.as_str().to_owned()),
        },
        None => Phase::Snapshot {
            source: source + 1,
            cursor: None,
        },
    };
    if let Some(list) = campaign.audience.lists.get(source) {
        return match lists::members(
            app,
            tenant,
            list,
            LIST_CHUNK,
            cursor.map(Cursor::from_client),
        )
        .await
        {
            Ok((contacts, next)) => Ok((contacts, after(next))),
            Err(lists::ListError::Store(e)) => Err(SourceError::Failed(e.into())),
            Err(_) => Err(SourceError::Gone(format!("the list {list}"))),
        };
    }
    let Some(segment) = campaign.audience.segments.get(source - lists_len) else {
        return Ok((Vec::new(), Phase::Enqueue { cursor: None }));
    };
    let filter = match segments::checked_filter_of(app, tenant, segment).await {
        Ok(filter) => filter,
        Err(segments::SegmentError::Store(e)) => return Err(SourceError::Failed(e.into())),
        Err(_) => return Err(SourceError::Gone(format!("the segment {segment}"))),
    };
    let mut members = segments::members_from(app, tenant, filter, cursor.map(Cursor::from_client));
    let mut found = Vec::new();
    for _ in 0..SEGMENT_PAGES {
        match members.next_batch().await {
            Ok(Some(batch)) => found.extend(batch),
            Ok(None) => break,
            Err(segments::SegmentError::Store(e)) => return Err(SourceError::Failed(e.into())),
            Err(e) => return Err(SourceError::Gone(format!("the segment {segment} ({e})"))),
        }
        if members.is_done() {
            break;
        }
    }
    let next = if members.is_done() {
        None
    } else {
        members.position().cloned()
    };
    Ok((found, after(next)))
}

/// Records the mailable contacts of a chunk (subscribed, not suppressed),
/// each only if absent: a contact on two lists, or a chunk read twice, is
/// recorded once. Returns how many records this call wrote.
async fn snapshot(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    found: Vec<Contact>,
) -> Result<usize, SendingError> {
    let mut mailable: Vec<ContactId> = found
        .into_iter()
        .filter(|c| c.status.is_mailable())
        .map(|c| c.id)
        .collect();
    mailable.sort();
    mailable.dedup();
    let now = app.clock.now();
    let mut recorded = 0;
    for chunk in mailable.chunks(MAX_BATCH_GET) {
        let suppression_keys: Vec<_> = chunk.iter().map(|c| keys::suppression(tenant, c)).collect();
        let suppressed = app.store.get_many(&suppression_keys).await?;
        let writes = chunk
            .iter()
            .zip(suppressed)
            .filter(|(_, entry)| entry.is_none())
            .map(|(contact, _)| {
                let record = SendRecord {
                    contact: contact.clone(),
                    state: RecordState::Queued,
                    claim: None,
                    lease_until: None,
                    message_id: None,
                    reason: None,
                    updated_at: now,
                };
                Ok((record.item(tenant, id)?, PutCondition::NotExists))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        for result in app.store.put_each(writes).await? {
            match result {
                Ok(_) => recorded += 1,
                Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(recorded)
}

/// Batches of this campaign on the queue, as far as the counters know.
async fn in_flight(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    run: &Run,
) -> Result<u64, StoreError> {
    let counters = counters(app, tenant, id).await?;
    let done = counter_value(&counters, counter::BATCHES_DONE);
    let queued = counter_value(&counters, counter::BATCHES_QUEUED);
    Ok(queued.saturating_sub(done + run.written_off))
}

/// Keeps up to [`WINDOW_BATCHES`] of the campaign's batches on the queue;
/// ends the run once every recipient has an outcome.
pub async fn top_up(
    app: &App,
    tenant: &TenantId,
    campaign: &Campaign,
) -> Result<bool, SendingError> {
    let id = &campaign.id;
    let Some((run, version)) = load_run(app, tenant, id).await? else {
        return Ok(false);
    };
    let cursor = match &run.phase {
        Phase::Snapshot { .. } => return Ok(false),
        Phase::Queued => return finish_if_done(app, tenant, campaign).await,
        Phase::Enqueue { cursor } => cursor.clone(),
    };
    let out = in_flight(app, tenant, id, &run).await?;
    if out >= WINDOW_BATCHES {
        return Ok(false);
    }
    let room = (WINDOW_BATCHES - out) as usize;
    let limit = (room * BATCH_SIZE).min(MAX_PAGE_SIZE as usize) as u32;
    let page = app
        .store
        .query(
            Query::index(keys::campaign_pending(tenant, id))
                .limit(limit)
                .after(cursor.map(Cursor::from_client)),
        )
        .await?;
    let contacts = page
        .items
        .iter()
        .map(|stored| stored.item.parse::<SendRecord>().map(|r| r.contact))
        .collect::<Result<Vec<_>, _>>()?;
    // Move the cursor first, on the version read: when two workers top up
    // at once (each finished a batch), only one queues this page. A crash
    // between the move and the queueing leaves these recipients pending;
    // the tick finds the run stalled and queues what is pending again.
    let next = match page.next {
        Some(next) => Phase::Enqueue {
            cursor: Some(next.as_str().to_owned()),
        },
        None => Phase::Queued,
    };
    let read_phase = run.phase.clone();
    let queued_all = next == Phase::Queued;
    if !advance_phase(app, tenant, id, (run, version), &read_phase, next, None).await? {
        return Ok(false);
    }
    let mut batches = 0i64;
    for chunk in contacts.chunks(BATCH_SIZE) {
        let job = Job::SendBatch {
            tenant_id: tenant.clone(),
            campaign_id: *id,
            contacts: chunk.to_vec(),
            attempt: 0,
            batch: Some(uuid::Uuid::new_v4()),
        };
        app.jobs.send(&job.to_body(), Duration::ZERO).await?;
        batches += 1;
    }
    if batches > 0 {
        app.store
            .add(
                &keys::campaign_progress(tenant, id),
                &[(counter::BATCHES_QUEUED, batches)],
            )
            .await?;
    }
    if queued_all && batches == 0 {
        return finish_if_done(app, tenant, campaign).await;
    }
    Ok(false)
}

/// Starts the enqueue pass over again: every recipient still pending is
/// queued once more (after a pause, or when batches were lost). The
/// batches out until now are written off.
pub async fn restart_enqueue(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
) -> Result<(), SendingError> {
    for _ in 0..5 {
        let Some((mut run, version)) = load_run(app, tenant, id).await? else {
            // Never begun (it stopped before its run was written).
            let (campaign, _) = campaigns::load(app, tenant, id).await?;
            return begin(app, tenant, &campaign).await;
        };
        if !matches!(run.phase, Phase::Snapshot { .. }) {
            let out = in_flight(app, tenant, id, &run).await?;
            run.written_off += out;
            run.phase = Phase::Enqueue { cursor: None };
        }
        run.watched_at = Some(app.clock.now());
        if save_run(app, tenant, id, &run, PutCondition::Version(version)).await? {
            return enqueue_step(app, tenant, id).await;
        }
    }
    Err(SendingError::Campaign(CampaignError::Conflict))
}

/// Ends the run when nobody is pending: counts every record exactly, keeps
/// the count on the run and marks the campaign sent. A recipient found
/// pending (the index lagging behind, or a lost batch) restarts the
/// enqueue pass instead. Returns whether the run ended.
async fn finish_if_done(
    app: &App,
    tenant: &TenantId,
    campaign: &Campaign,
) -> Result<bool, SendingError> {
    let id = &campaign.id;
    let pending = app
        .store
        .query(Query::index(keys::campaign_pending(tenant, id)).limit(1))
        .await?;
    if !pending.items.is_empty() {
        // Someone is pending but no batch is out (the index lagged behind
        // the last snapshot step, or a batch was given up): queue again now.
        if let Some((run, _)) = load_run(app, tenant, id).await?
            && in_flight(app, tenant, id, &run).await? == 0
        {
            restart_enqueue(app, tenant, id).await?;
        }
        return Ok(false);
    }
    let totals = count(app, tenant, id).await?;
    if totals.queued > 0 {
        restart_enqueue(app, tenant, id).await?;
        return Ok(false);
    }
    end(app, tenant, id, totals, CampaignState::Sent).await
}

/// Keeps the exact count on the run and moves a sending campaign to `to`
/// (sent, or it stays cancelled).
async fn end(
    app: &App,
    tenant: &TenantId,
    id: &CampaignId,
    totals: Totals,
    to: CampaignState,
) -> Result<bool, SendingError> {
    loop {
        let Some((mut run, version)) = load_run(app, tenant, id).await? else {
            return Ok(false);
        };
        run.totals = Some(totals);
        if save_run(app, tenant, id, &run, PutCondition::Version(version)).await? {
            break;
        }
    }
    if to == CampaignState::Sent {
        let now = app.clock.now();
        match campaigns::transition(app, tenant, id, &[CampaignState::Sending], "sent", |c| {
            c.state = CampaignState::Sent;
            c.finished_at = Some(now);
        })
        .await
        {
            Ok(_) => {
                app.store.delete(&keys::campaign_active(tenant, id)).await?;
                tracing::info!(%tenant, campaign = %id, sent = totals.sent, failed = totals.failed, skipped = totals.skipped, unknown = totals.unknown, "campaign sent");
            }
            Err(CampaignError::State { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// Counts every record of the campaign by state (one pass over them).
pub async fn count(app: &App, tenant: &TenantId, id: &CampaignId) -> Result<Totals, StoreError> {
    let mut totals = Totals::default();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::table(keys::campaign_recipients(tenant, id))
                    .limit(MAX_PAGE_SIZE)
                    .after(cursor),
            )
            .await?;
        for stored in &page.items {
            let record: SendRecord = stored.item.parse()?;
            totals.recipients += 1;
            match record.state {
                RecordState::Queued | RecordState::Sending => totals.queued += 1,
                RecordState::Sent => totals.sent += 1,
                RecordState::Failed => totals.failed += 1,
                RecordState::Skipped => totals.skipped += 1,
                RecordState::Unknown => totals.unknown += 1,
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(totals),
        }
    }
}

/// What the tick found of a running campaign.
pub enum Watched {
    Running,
    /// Sent or cancelled; its count is on the run.
    Ended,
    /// Deleted, or never started.
    Gone,
}

/// The tick's look at one running campaign (see `sending::watch_active`).
pub async fn watch(app: &App, tenant: &TenantId, id: &CampaignId) -> Result<Watched, SendingError> {
    let campaign = match campaigns::load(app, tenant, id).await {
        Ok((campaign, _)) => campaign,
        Err(CampaignError::NotFound) => return Ok(Watched::Gone),
        Err(e) => return Err(e.into()),
    };
    let Some((mut run, version)) = load_run(app, tenant, id).await? else {
        return Ok(Watched::Gone);
    };
    let now = app.clock.now();
    match campaign.state {
        CampaignState::Sending => {}
        CampaignState::Paused => {
            if let Some(PauseReason::QuotaExhausted { resume_at }) = &campaign.pause_reason
                && *resume_at <= now
            {
                match campaigns::resume(app, tenant, id).await {
                    Ok(_) | Err(CampaignError::State { .. }) | Err(CampaignError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(Watched::Running);
        }
        CampaignState::Cancelled => {
            if run.totals.is_some() {
                return Ok(Watched::Ended);
            }
            // Counting can take long: a job does it (the tick must stay short).
            enqueue_step(app, tenant, id).await?;
            return Ok(Watched::Running);
        }
        CampaignState::Sent => return Ok(Watched::Ended),
        CampaignState::Draft | CampaignState::Scheduled => return Ok(Watched::Gone),
    }
    // Progress since the last look? A run whose batches (or snapshot step)
    // stopped moving for STALL lost them: queue again what is pending.
    let counters = counters(app, tenant, id).await?;
    let activity = [
        counter::BATCHES_DONE,
        counter::RECIPIENTS,
        counter::BATCHES_QUEUED,
    ]
    .iter()
    .map(|name| counter_value(&counters, name))
    .sum::<u64>();
    if activity != run.watched_done {
        run.watched_done = activity;
        run.watched_at = Some(now);
        save_run(app, tenant, id, &run, PutCondition::Version(version)).await?;
    } else if run.watched_at.is_some_and(|at| now - at >= STALL) {
        run.note(
            now,
            "no progress for 15 minutes; the recipients not yet sent to were queued again",
        );
        run.watched_at = Some(now);
        if save_run(app, tenant, id, &run, PutCondition::Version(version)).await? {
            restart_enqueue(app, tenant, id).await?;
        }
        return Ok(Watched::Running);
    }
    // Topping up and ending (an exact count of every record) run as a job,
    // not in the tick, which must stay short.
    enqueue_step(app, tenant, id).await?;
    Ok(Watched::Running)
}
