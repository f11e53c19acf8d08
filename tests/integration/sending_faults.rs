//! Sending when something goes wrong, on both adapter sets, through the
//! jobs queue and the `send` worker's Lambda handler: a large campaign of
//! one institute does not starve a small one of another; a batch that keeps
//! failing is given up visibly and lands in the dead-letter queue; batch
//! messages that are malformed or name what they should not send nothing;
//! two workers together keep to the sending rate; a suspended institute, a
//! sender the mail service no longer accepts, a campaign deleted and a
//! contact erased while batches wait each stop exactly the sends they
//! should, and a resumed campaign still reaches everyone exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::TimeDelta;
use emma::domain::{CampaignId, ContactId, EmailAddress, TenantId, TenantStatus};
use emma::ports::store::{
    Item, ItemStore, JsonItem, Key, Page, PutCondition, Query, StoreError, Stored, TxOp, Version,
    keys,
};
use emma::ports::{Queue, ReceivedMessage};
use emma::services::campaigns::{self, CampaignError, CampaignState, PauseReason};
use emma::services::jobs::Job;
use emma::services::sending::{self, BATCH_SIZE, RecordState, SendRecord, Totals, WINDOW_BATCHES};
use emma::services::tenants::{self, TenantChange, TenantError};
use emma::services::{contacts, lists};
use emma_tests::app::{Adapters, TestApp};
use serde_json::json;

use crate::campaigns::tenant_with_sender;
use crate::sending::{Sending, address, import, sending_app};

emma_tests::on_both_adapter_sets!(
    a_small_campaign_started_later_is_sent_while_a_large_one_of_another_institute_still_runs,
    a_batch_that_keeps_failing_is_given_up_visibly_and_moves_to_the_dead_letter_queue,
    malformed_batch_messages_send_nothing_and_only_the_unreadable_ones_come_back,
    two_workers_together_keep_to_the_sending_rate,
    a_campaign_of_an_institute_suspended_while_sending_pauses_until_reactivated_and_resumed,
    a_sender_no_longer_verified_pauses_the_campaign_and_the_recipient_in_hand_stays_queued,
    batches_of_a_campaign_deleted_while_sending_are_dropped_without_a_send_or_a_retry,
    a_contact_erased_while_its_batch_is_queued_is_recorded_skipped_and_not_sent,
);

/// An item store around the real adapter whose batch reads naming one
/// chosen key fail as if the store were unavailable (a partition that
/// keeps failing); everything else goes through.
struct FailingReads {
    inner: Arc<dyn ItemStore>,
    poisoned: Mutex<Option<Key>>,
    failures: AtomicU32,
}

#[async_trait]
impl ItemStore for FailingReads {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, condition: PutCondition) -> Result<Version, StoreError> {
        self.inner.put(item, condition).await
    }

    async fn add(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        self.inner.add(key, deltas).await
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        self.inner.transact(ops).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Stored>>, StoreError> {
        let poisoned = self.poisoned.lock().unwrap().clone();
        if poisoned.is_some_and(|p| keys.contains(&p)) {
            self.failures.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Unavailable("injected for the test".to_owned()));
        }
        self.inner.get_many(keys).await
    }

    async fn put_each(
        &self,
        writes: Vec<(Item, PutCondition)>,
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
        self.inner.put_each(writes).await
    }

    async fn put_each_json(
        &self,
        writes: Vec<(JsonItem, PutCondition)>,
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
        self.inner.put_each_json(writes).await
    }
}

/// A scheduled (later: running) campaign to `ids`, the contacts
/// `address(0..n)` of one institute.
struct Run {
    tenant: TenantId,
    id: CampaignId,
    ids: Vec<ContactId>,
}

impl Run {
    fn contacts(&self) -> impl Iterator<Item = (usize, &ContactId)> {
        self.ids.iter().enumerate()
    }
}

impl Sending {
    /// An institute with `n` subscribed contacts on one list, and a
    /// campaign to that list scheduled `hours` from now.
    async fn scheduled(&self, name: &str, n: usize, hours: i64) -> Run {
        let (tenant, editor) = tenant_with_sender(&self.test, name).await;
        let tenant_id = TenantId::parse(&tenant).unwrap();
        let list = lists::create(&self.app, &tenant_id, "Alle")
            .await
            .unwrap()
            .id;
        import(&self.app, &tenant_id, 0..n, list).await;
        let ids = (0..n)
            .map(|i| {
                let email = EmailAddress::parse(&address(i)).unwrap();
                self.app.pseudonyms.contact_id(&tenant_id, &email)
            })
            .collect();
        let id = self
            .schedule(&editor, &tenant, &[&list.to_string()], hours)
            .await;
        Run {
            tenant: tenant_id,
            id,
            ids,
        }
    }

    /// Moves the clock on by `hours`; the tick starts `expected` campaigns.
    async fn tick_after(&self, hours: i64, expected: u32) {
        self.clock.advance(TimeDelta::hours(hours));
        assert_eq!(sending::start_due(&self.app).await.unwrap(), expected);
    }

    /// Works the queue until `done` holds, as the event source mapping and
    /// the scheduler's tick would; panics when it never does.
    async fn work_until(&self, what: &str, mut done: impl AsyncFnMut() -> bool) {
        for _ in 0..20_000 {
            if done().await {
                return;
            }
            if self.work_one().await.is_none() {
                // Nothing visible: the tick tops up, resumes and ends runs.
                sending::watch_active(&self.app).await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("never: {what}");
    }

    async fn work_until_sent(&self, runs: &[&Run]) {
        self.work_until("every campaign sent", async || {
            for run in runs {
                if self.state(run).await != CampaignState::Sent {
                    return false;
                }
            }
            true
        })
        .await;
    }

    /// Runs the dispatch steps until `expected` batch messages are on the
    /// queue, then takes those off the queue and answers their bodies (a
    /// test puts them back with [`Self::put_back`] when it wants them sent).
    async fn take_batches(&self, expected: usize) -> Vec<String> {
        let mut batches = Vec::new();
        for _ in 0..1000 {
            if batches.len() == expected {
                return batches;
            }
            for batch in self.dispatch_steps(10).await {
                batches.push(batch.body.clone());
                self.app.jobs.ack(&batch.receipt).await.unwrap();
            }
        }
        panic!("{} of {expected} batches were queued", batches.len());
    }

    async fn put_back(&self, bodies: &[String]) {
        for body in bodies {
            self.app.jobs.send(body, Duration::ZERO).await.unwrap();
        }
    }

    async fn state(&self, run: &Run) -> CampaignState {
        self.campaign(run).await.state
    }

    async fn campaign(&self, run: &Run) -> campaigns::Campaign {
        campaigns::get(&self.app, &run.tenant, &run.id)
            .await
            .unwrap()
    }

    async fn totals(&self, run: &Run) -> (Totals, bool) {
        self.counts(&run.tenant, &run.id).await
    }

    async fn record(&self, run: &Run, contact: &ContactId) -> SendRecord {
        self.app
            .store
            .get(&keys::campaign_recipient(&run.tenant, &run.id, contact))
            .await
            .unwrap()
            .expect("a send record")
            .item
            .parse()
            .unwrap()
    }

    /// Each of the campaign's contacts got exactly one message, but those
    /// in `not`, who got none.
    fn assert_each_once(&self, run: &Run, not: &BTreeSet<usize>) {
        for (i, _) in run.contacts() {
            let expected = u32::from(!not.contains(&i));
            assert_eq!(
                self.mailer.delivered_to(&run.tenant, &address(i)),
                expected,
                "messages to contact {i} of {}",
                run.tenant
            );
        }
    }
}

/// The ended run's exact count: everyone sent but `failed` and `skipped`.
async fn assert_sent_to_all_but(s: &Sending, run: &Run, failed: u64, skipped: u64) {
    let (totals, exact) = s.totals(run).await;
    assert!(exact, "the run ended with an exact count");
    let n = run.ids.len() as u64;
    assert_eq!(
        totals,
        Totals {
            recipients: n,
            queued: 0,
            sent: n - failed - skipped,
            failed,
            skipped,
            unknown: 0,
        }
    );
}

/// An institute's campaign of three batches, started, with its first
/// batch sent; answers how many messages went out so far.
async fn first_batch_sent(adapters: Adapters, name: &str) -> (Sending, Run, u32) {
    let s = sending_app(adapters, None, |_| {}).await;
    let run = s.scheduled(name, 3 * BATCH_SIZE, 1).await;
    s.tick_after(1, 1).await;
    s.work_until("the first batch sent", async || s.mailer.total() > 0)
        .await;
    let before = s.mailer.total();
    (s, run, before)
}

/// Resumes the paused `run` and works it off: everyone gets exactly one
/// message and the exact count says so.
async fn resume_until_everyone_got_it_once(s: &Sending, run: &Run) {
    campaigns::resume(&s.app, &run.tenant, &run.id)
        .await
        .unwrap();
    s.work_until_sent(&[run]).await;
    s.assert_each_once(run, &BTreeSet::new());
    assert_sent_to_all_but(s, run, 0, 0).await;
}

/// A batch message as the dispatch writes it.
fn batch_body(tenant: &TenantId, campaign: &CampaignId, contacts: &[ContactId]) -> String {
    json!({
        "kind": "send_batch",
        "tenant_id": tenant,
        "campaign_id": campaign,
        "contacts": contacts,
    })
    .to_string()
}

fn batch_contacts(body: &str) -> Vec<ContactId> {
    match Job::from_body(body).expect("a job") {
        Job::SendBatch { contacts, .. } => contacts,
        other => panic!("not a batch: {other:?}"),
    }
}

async fn a_small_campaign_started_later_is_sent_while_a_large_one_of_another_institute_still_runs(
    adapters: Adapters,
) {
    // What is under test is the store and the queue; the thousands of
    // messages are not handed on to the mail adapter (the emulator keeps
    // every test's sent mail in one record, which other tests read).
    let s = sending_app(adapters, None, |m| m.sink = true).await;
    // Queued behind the large campaign's window of batches, the small one
    // needs three turns (its snapshot, its enqueue, its batches): the
    // large one is made longer than that, and twenty times the small one.
    let large_n = (3 * WINDOW_BATCHES as usize + 6) * BATCH_SIZE;
    let small_n = 2 * BATCH_SIZE;
    assert!(large_n >= 20 * small_n);
    let large = s.scheduled("Sparkasse Groß", large_n, 1).await;
    let small = s.scheduled("Sparkasse Klein", small_n, 2).await;
    s.tick_after(1, 1).await;
    // The large campaign runs until its first window of batches is out.
    s.work_until("the large campaign's batches are out", async || {
        s.mailer.total() > 0
    })
    .await;
    s.tick_after(1, 1).await;

    let mut large_left_when_small_sent = None;
    s.work_until("the small campaign sent", async || {
        if s.state(&small).await != CampaignState::Sent {
            return false;
        }
        let (totals, _) = s.totals(&large).await;
        large_left_when_small_sent = Some((s.state(&large).await, totals.queued));
        true
    })
    .await;
    let (large_state, large_queued) = large_left_when_small_sent.unwrap();
    assert_eq!(large_state, CampaignState::Sending);
    assert!(
        large_queued > 0,
        "the small campaign waited for the whole large one"
    );

    s.work_until_sent(&[&large, &small]).await;
    s.assert_each_once(&large, &BTreeSet::new());
    s.assert_each_once(&small, &BTreeSet::new());
    assert_sent_to_all_but(&s, &large, 0, 0).await;
    assert_sent_to_all_but(&s, &small, 0, 0).await;
}

async fn a_batch_that_keeps_failing_is_given_up_visibly_and_moves_to_the_dead_letter_queue(
    adapters: Adapters,
) {
    let mut s = sending_app(adapters, None, |_| {}).await;
    let store = Arc::new(FailingReads {
        inner: s.app.store.clone(),
        poisoned: Mutex::new(None),
        failures: AtomicU32::new(0),
    });
    s.app.store = store.clone();
    let run = s.scheduled("Sparkasse Ausfall", 120, 1).await;
    // Reading the first recipient's record fails every time: its batch
    // (the first, as batches go in contact order) fails before it sends
    // anything.
    let first = run.ids.iter().min().unwrap();
    *store.poisoned.lock().unwrap() = Some(keys::campaign_recipient(&run.tenant, &run.id, first));
    s.tick_after(1, 1).await;
    s.work_until_sent(&[&run]).await;

    // The queue gives the message up after its last delivery.
    let max_receives = s.app.settings.sending.max_receives;
    while s.work_one().await.is_some() {}
    assert_eq!(store.failures.load(Ordering::SeqCst), max_receives);
    let dead = dead_letters(&s.test).await;
    let mut moved = Vec::new();
    for _ in 0..5 {
        moved.extend(
            dead.receive(10, Duration::from_secs(60), Duration::from_secs(1))
                .await
                .unwrap(),
        );
    }
    assert_eq!(moved.len(), 1, "one message in the dead-letter queue");
    let given_up: BTreeSet<ContactId> = batch_contacts(&moved[0].body).into_iter().collect();
    assert!(given_up.contains(first));

    // Nobody of the batch was sent; each is failed and counted; everyone
    // else got the campaign once.
    let not: BTreeSet<usize> = run
        .contacts()
        .filter(|(_, id)| given_up.contains(*id))
        .map(|(i, _)| i)
        .collect();
    s.assert_each_once(&run, &not);
    for contact in &given_up {
        assert_eq!(s.record(&run, contact).await.state, RecordState::Failed);
    }
    assert_sent_to_all_but(&s, &run, given_up.len() as u64, 0).await;
    // The campaign's page says what happened.
    let view = s.progress_view(&run.tenant, &run.id).await;
    assert_eq!(view["sending"]["totals"]["failed"], given_up.len());
    let problems = view["sending"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["what"].as_str().unwrap().contains("dead-letter queue")),
        "{problems:?}"
    );
}

/// The jobs queue's dead-letter queue.
async fn dead_letters(test: &TestApp) -> Arc<dyn Queue> {
    match test.adapters {
        Adapters::Local => test
            .runtime
            .local_dead_letters
            .clone()
            .expect("a local dead-letter queue"),
        Adapters::Cloud => {
            let emma::config::Backend::Aws(aws) = &test.runtime.config.backend else {
                panic!("the cloud set runs on AWS adapters");
            };
            let name = aws.jobs_queue_url.rsplit('/').next().unwrap();
            let client = emma::adapters::aws::sqs_client(&emma_tests::aws::config().await);
            let url = client
                .get_queue_url()
                .queue_name(format!("{name}-dlq"))
                .send()
                .await
                .expect("the dead-letter queue")
                .queue_url()
                .unwrap()
                .to_owned();
            Arc::new(emma::adapters::sqs::SqsQueue::new(client, url))
        }
    }
}

async fn malformed_batch_messages_send_nothing_and_only_the_unreadable_ones_come_back(
    adapters: Adapters,
) {
    let s = sending_app(adapters, None, |_| {}).await;
    let ours = s.scheduled("Sparkasse Eins", 60, 1).await;
    let theirs = s.scheduled("Sparkasse Zwei", 20, 1).await;
    s.tick_after(1, 2).await;
    let expected = ours.ids.len().div_ceil(BATCH_SIZE) + theirs.ids.len().div_ceil(BATCH_SIZE);
    let mut real = s.take_batches(expected).await;
    let genuine = real
        .iter()
        .position(|b| b.contains(&ours.id.to_string()))
        .unwrap();
    let genuine = real.remove(genuine);
    let genuine_contacts: BTreeSet<ContactId> = batch_contacts(&genuine).into_iter().collect();

    let strangers: Vec<ContactId> = (0..4 * BATCH_SIZE + 1 - ours.ids.len())
        .map(|i| {
            let email = EmailAddress::parse(&format!("fremd{i}@example.org")).unwrap();
            s.app.pseudonyms.contact_id(&ours.tenant, &email)
        })
        .collect();
    let too_many: Vec<ContactId> = ours.ids.iter().chain(&strangers).cloned().collect();
    let messages = [
        ("not a job", "Hallo, ich bin kein Auftrag".to_owned()),
        (
            "a batch without its fields",
            json!({ "kind": "send_batch", "tenant_id": ours.tenant }).to_string(),
        ),
        (
            "more recipients than a batch may name",
            batch_body(&ours.tenant, &ours.id, &too_many),
        ),
        (
            "an unknown campaign",
            batch_body(&ours.tenant, &CampaignId::generate(), &ours.ids[..10]),
        ),
        (
            "the other institute's campaign under ours",
            batch_body(&ours.tenant, &theirs.id, &theirs.ids),
        ),
        (
            "our campaign under the other institute",
            batch_body(&theirs.tenant, &ours.id, &ours.ids),
        ),
        (
            "the other institute's contacts in our campaign",
            batch_body(&ours.tenant, &ours.id, &theirs.ids),
        ),
        ("a genuine batch", genuine.clone()),
    ];
    for (_, body) in &messages {
        s.app.jobs.send(body, Duration::ZERO).await.unwrap();
    }
    let mut received: Vec<ReceivedMessage> = Vec::new();
    for _ in 0..50 {
        if received.len() == messages.len() {
            break;
        }
        received.extend(
            s.app
                .jobs
                .receive(10, Duration::from_secs(60), Duration::from_millis(200))
                .await
                .unwrap(),
        );
    }
    assert_eq!(received.len(), messages.len());
    let id_of = |what: &str| {
        let body = &messages.iter().find(|(w, _)| *w == what).unwrap().1;
        received
            .iter()
            .find(|m| &m.body == body)
            .unwrap()
            .message_id
            .clone()
    };

    // One Lambda invocation with all of them: no panic; only what is not a
    // job at all is reported back (to be delivered again and finally seen
    // in the dead-letter queue); the rest is dropped as it is.
    let failed: BTreeSet<String> = s.handle(&received).await.into_iter().collect();
    let unreadable: BTreeSet<String> = [id_of("not a job"), id_of("a batch without its fields")]
        .into_iter()
        .collect();
    assert_eq!(failed, unreadable);

    // Only the genuine batch's recipients got anything, once.
    let not: BTreeSet<usize> = ours
        .contacts()
        .filter(|(_, id)| !genuine_contacts.contains(*id))
        .map(|(i, _)| i)
        .collect();
    s.assert_each_once(&ours, &not);
    let all: BTreeSet<usize> = (0..theirs.ids.len()).collect();
    s.assert_each_once(&theirs, &all);
    assert_eq!(s.mailer.total() as usize, genuine_contacts.len());
    for (_, id) in ours
        .contacts()
        .filter(|(_, id)| !genuine_contacts.contains(*id))
    {
        assert_eq!(s.record(&ours, id).await.state, RecordState::Queued);
    }
    for id in &theirs.ids {
        assert_eq!(s.record(&theirs, id).await.state, RecordState::Queued);
    }
    for message in received
        .iter()
        .filter(|m| !unreadable.contains(&m.message_id))
    {
        s.app.jobs.ack(&message.receipt).await.unwrap();
    }

    // The real batches still reach everyone exactly once.
    s.put_back(&real).await;
    s.work_until_sent(&[&ours, &theirs]).await;
    s.assert_each_once(&ours, &BTreeSet::new());
    s.assert_each_once(&theirs, &BTreeSet::new());
    assert_sent_to_all_but(&s, &ours, 0, 0).await;
    assert_sent_to_all_but(&s, &theirs, 0, 0).await;
}

/// Messages per second allowed in the pacing case.
const RATE: usize = 10;
/// The most messages a worker takes from the rate before it sends them
/// (a chunk of claims): sends in a span of seconds may exceed the span's
/// budget by what each worker took just before the span began.
const TAKEN_AHEAD: usize = 10;

async fn two_workers_together_keep_to_the_sending_rate(adapters: Adapters) {
    let s = sending_app(adapters, Some(RATE as f64), |_| {}).await;
    let run = s.scheduled("Sparkasse Takt", 10 * RATE, 1).await;
    s.tick_after(1, 1).await;
    let runs = [&run];
    tokio::join!(s.work_until_sent(&runs), s.work_until_sent(&runs));
    s.assert_each_once(&run, &BTreeSet::new());
    assert_sent_to_all_but(&s, &run, 0, 0).await;

    // Sends per second of real time: in no span of seconds more than the
    // rate allows in it (plus what the two workers took ahead).
    let mut per_second: BTreeMap<i64, usize> = BTreeMap::new();
    for at in s.mailer.sent_at.lock().unwrap().iter() {
        *per_second.entry(at.timestamp()).or_default() += 1;
    }
    let (first, last) = (
        *per_second.keys().next().unwrap(),
        *per_second.keys().last().unwrap(),
    );
    for from in first..=last {
        for to in from..=last {
            let sent: usize = per_second.range(from..=to).map(|(_, n)| n).sum();
            let allowed = (to - from + 1) as usize * RATE + 2 * TAKEN_AHEAD;
            assert!(
                sent <= allowed,
                "{sent} messages in the {} seconds from {from}: {per_second:?}",
                to - from + 1
            );
        }
    }
}

async fn a_campaign_of_an_institute_suspended_while_sending_pauses_until_reactivated_and_resumed(
    adapters: Adapters,
) {
    let (s, run, before) = first_batch_sent(adapters, "Sparkasse Ruhe").await;
    assert!((before as usize) < run.ids.len());
    let status = |status| TenantChange {
        status: Some(status),
        ..Default::default()
    };
    tenants::update(&s.app, &run.tenant, status(TenantStatus::Suspended))
        .await
        .unwrap();

    // The next batch pauses the campaign, with the reason; nothing more
    // goes out.
    for _ in 0..20 {
        if s.work_one().await.is_none() {
            break;
        }
    }
    let campaign = s.campaign(&run).await;
    assert_eq!(campaign.state, CampaignState::Paused);
    assert_eq!(campaign.pause_reason, Some(PauseReason::TenantSuspended));
    assert_eq!(s.mailer.total(), before);
    // A suspended institute's campaign cannot be resumed.
    assert!(matches!(
        campaigns::resume(&s.app, &run.tenant, &run.id).await,
        Err(CampaignError::Tenant(TenantError::Suspended))
    ));

    tenants::update(&s.app, &run.tenant, status(TenantStatus::Active))
        .await
        .unwrap();
    resume_until_everyone_got_it_once(&s, &run).await;
}

async fn a_sender_no_longer_verified_pauses_the_campaign_and_the_recipient_in_hand_stays_queued(
    adapters: Adapters,
) {
    const REFUSED_AT: u32 = 25;
    let s = sending_app(adapters, None, |m| m.refuse_sender_from = Some(REFUSED_AT)).await;
    let run = s.scheduled("Sparkasse Absender", 3 * BATCH_SIZE, 1).await;
    s.tick_after(1, 1).await;
    s.work_until("the campaign paused", async || {
        s.state(&run).await == CampaignState::Paused
    })
    .await;
    assert_eq!(
        s.campaign(&run).await.pause_reason,
        Some(PauseReason::SenderNotVerified)
    );
    let view = s.progress_view(&run.tenant, &run.id).await;
    assert_eq!(view["pause_reason"]["reason"], "sender_not_verified");
    // The batches still queued go nowhere while it is paused.
    for _ in 0..20 {
        if s.work_one().await.is_none() {
            break;
        }
    }
    let refused = s.mailer.refused.lock().unwrap().clone();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(s.mailer.total(), REFUSED_AT - 1);
    let in_hand = run
        .contacts()
        .find(|(i, _)| address(*i) == refused[0])
        .map(|(_, id)| id.clone())
        .unwrap();
    let record = s.record(&run, &in_hand).await;
    assert_eq!(record.state, RecordState::Queued);
    let (totals, _) = s.totals(&run).await;
    assert_eq!((totals.failed, totals.unknown), (0, 0));

    // The sender is verified again; the campaign is resumed.
    s.mailer.verified_again.store(true, Ordering::SeqCst);
    resume_until_everyone_got_it_once(&s, &run).await;
}

async fn batches_of_a_campaign_deleted_while_sending_are_dropped_without_a_send_or_a_retry(
    adapters: Adapters,
) {
    let (s, run, before) = first_batch_sent(adapters, "Sparkasse Weg").await;
    // EMMA has no way to delete a campaign; an operator removes its item,
    // as in a repair of the table.
    s.app
        .store
        .delete(&keys::campaign(&run.tenant, &run.id))
        .await
        .unwrap();

    // Every batch still queued is handled without failure and gone.
    let mut handled = 0;
    while let Some(ok) = s.work_one().await {
        assert!(ok, "a batch of the deleted campaign failed");
        handled += 1;
        assert!(handled < 50, "the deleted campaign's messages keep coming");
    }
    assert_eq!(s.mailer.total(), before);
    // The tick lets go of it and queues nothing for it.
    assert_eq!(sending::watch_active(&s.app).await.unwrap(), 0);
    assert_eq!(sending::watch_active(&s.app).await.unwrap(), 0);
    assert_eq!(s.work_one().await, None);
    assert_eq!(s.mailer.total(), before);
}

async fn a_contact_erased_while_its_batch_is_queued_is_recorded_skipped_and_not_sent(
    adapters: Adapters,
) {
    let s = sending_app(adapters, None, |_| {}).await;
    let run = s.scheduled("Sparkasse Vergessen", 2 * BATCH_SIZE, 1).await;
    s.tick_after(1, 1).await;
    let batches = s.take_batches(run.ids.len().div_ceil(BATCH_SIZE)).await;
    const ERASED: usize = 7;
    let erased = &run.ids[ERASED];
    assert!(batches.iter().any(|b| batch_contacts(b).contains(erased)));
    contacts::erase(&s.app, &run.tenant, erased).await.unwrap();

    s.put_back(&batches).await;
    s.work_until_sent(&[&run]).await;
    s.assert_each_once(&run, &BTreeSet::from([ERASED]));
    let record = s.record(&run, erased).await;
    assert_eq!(record.state, RecordState::Skipped);
    assert!(record.reason.as_deref().unwrap().contains("erased"));
    // The record keeps nothing of the person but the keyed id.
    let kept = serde_json::to_string(&record).unwrap();
    assert!(!kept.contains(&address(ERASED)));
    assert_sent_to_all_but(&s, &run, 0, 1).await;
}
