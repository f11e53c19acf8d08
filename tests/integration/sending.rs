//! Sending a campaign on both adapter sets, end to end through the jobs
//! queue and the `send` worker's Lambda handler: 1,000 contacts, some
//! unsubscribed or suppressed before the start, some on both lists, some
//! unsubscribing, suppressed or erased after the snapshot. Every eligible
//! contact gets the campaign exactly once and nobody else gets it — also
//! when every batch is delivered twice, when two workers take the same
//! batch at once, when the mail service throttles, and when a worker dies
//! mid-batch (then only the recipient it was sending to is "unknown").

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emma::domain::{CampaignId, ContactId, ContactStatus, EmailAddress, ListId, TenantId};
use emma::import::mapping::ColumnMapping;
use emma::import::run::{ImportMode, ImportPlan, Report, run};
use emma::import::source::sniff;
use emma::ports::store::{Query, keys, parse_all};
use emma::ports::{MailError, Mailer, ManualClock, OutgoingMail, ReceivedMessage, SentMail};
use emma::services::campaigns::{self, CampaignState};
use emma::services::sending::{self, LEASE_SECONDS, RecordState, SendRecord, Totals};
use emma::services::suppressions::{self, SuppressionReason};
use emma::services::{contacts, lists};
use emma_tests::app::{Adapters, TestApp, spawn_with_clock};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;
use tokio::sync::Notify;

use crate::campaigns::{BODY, act, campaign, created, template, tenant_with_sender};

emma_tests::on_both_adapter_sets!(
    every_eligible_contact_gets_the_campaign_exactly_once,
    a_used_up_quota_pauses_the_campaign_with_its_reason_and_the_tick_resumes_it,
    a_campaign_paused_and_resumed_while_sending_still_reaches_everyone_once,
    a_campaign_cancelled_while_sending_stops_and_is_counted_exactly,
    a_batch_delivered_twice_sends_nobody_a_second_message,
    two_workers_on_the_same_batch_send_nobody_a_second_message,
    a_throttling_mail_service_delays_the_campaign_and_loses_nobody,
    a_worker_killed_after_the_mail_service_accepted_leaves_unknown_only_what_was_accepted_and_not_recorded,
    a_worker_killed_before_the_mail_service_was_called_leaves_that_recipient_unknown_and_unsent_and_sends_nobody_twice,
);

const CONTACTS: usize = 1000;

/// Which contact is which (by number).
fn unsubscribed_before(i: usize) -> bool {
    i % 50 == 7
}
fn suppressed_before(i: usize) -> bool {
    i % 50 == 13
}
fn unsubscribes_after(i: usize) -> bool {
    i % 100 == 21
}
fn suppressed_after(i: usize) -> bool {
    i % 100 == 71
}
fn erased_after(i: usize) -> bool {
    i % 100 == 33
}
fn eligible(i: usize) -> bool {
    !(unsubscribed_before(i)
        || suppressed_before(i)
        || unsubscribes_after(i)
        || suppressed_after(i)
        || erased_after(i))
}
pub(crate) fn address(i: usize) -> String {
    format!("kunde{i:04}@example.org")
}

/// A mailer around the real adapter that counts what it accepted per
/// institute and address and when, and can throttle, run out of quota,
/// "die" on a chosen call or stop accepting the sender. Shared by every
/// campaign sending test.
pub(crate) struct Faulty {
    inner: Arc<dyn Mailer>,
    delivered: Mutex<BTreeMap<(String, String), u32>>,
    /// When EMMA handed each accepted message to the mail service.
    pub(crate) sent_at: Mutex<Vec<DateTime<Utc>>>,
    pub(crate) calls: AtomicU32,
    /// Every n-th call is throttled (nothing sent).
    pub(crate) throttle_every: Option<u32>,
    /// The call on which the daily quota runs out (once).
    pub(crate) quota_at: Option<u32>,
    /// The call on which the worker dies, and whether after the mail
    /// service accepted the message.
    pub(crate) die_at: Option<(u32, bool)>,
    died: AtomicBool,
    dying: Notify,
    /// The address the worker died on.
    pub(crate) died_on: Mutex<Option<String>>,
    /// From this call on the sender is refused, until it is verified again.
    pub(crate) refuse_sender_from: Option<u32>,
    pub(crate) verified_again: AtomicBool,
    /// The addresses of the refused calls.
    pub(crate) refused: Mutex<Vec<String>>,
    /// Accepts without handing the message on to the real adapter.
    pub(crate) sink: bool,
}

impl Faulty {
    fn new(inner: Arc<dyn Mailer>) -> Self {
        Self {
            inner,
            delivered: Mutex::new(BTreeMap::new()),
            sent_at: Mutex::new(Vec::new()),
            calls: AtomicU32::new(0),
            throttle_every: None,
            quota_at: None,
            die_at: None,
            died: AtomicBool::new(false),
            dying: Notify::new(),
            died_on: Mutex::new(None),
            refuse_sender_from: None,
            verified_again: AtomicBool::new(false),
            refused: Mutex::new(Vec::new()),
            sink: false,
        }
    }

    /// The messages accepted for `address`, of any institute.
    pub(crate) fn delivered(&self, address: &str) -> u32 {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .filter(|((_, to), _)| to == address)
            .map(|(_, n)| n)
            .sum()
    }

    /// The messages accepted for `address` of `tenant`.
    pub(crate) fn delivered_to(&self, tenant: &TenantId, address: &str) -> u32 {
        self.delivered
            .lock()
            .unwrap()
            .get(&(tenant.to_string(), address.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// All messages accepted.
    pub(crate) fn total(&self) -> u32 {
        self.delivered.lock().unwrap().values().sum()
    }

    fn accepted(&self, mail: &OutgoingMail, at: DateTime<Utc>) {
        self.sent_at.lock().unwrap().push(at);
        let to = mail.recipients[0].as_str().to_owned();
        *self
            .delivered
            .lock()
            .unwrap()
            .entry((mail.tenant.to_string(), to))
            .or_default() += 1;
    }
}

#[async_trait]
impl Mailer for Faulty {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn register_identity(&self, identity: &str) -> Result<(), MailError> {
        self.inner.register_identity(identity).await
    }

    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let to = mail.recipients[0].as_str().to_owned();
        if self.throttle_every.is_some_and(|n| call.is_multiple_of(n)) {
            return Err(MailError::Throttled);
        }
        if self.quota_at == Some(call) {
            return Err(MailError::DailyQuotaExceeded);
        }
        if self.refuse_sender_from.is_some_and(|from| call >= from)
            && !self.verified_again.load(Ordering::SeqCst)
        {
            self.refused.lock().unwrap().push(to);
            return Err(MailError::SenderNotVerified(mail.from.to_string()));
        }
        if let Some((at, after_accept)) = self.die_at
            && at == call
            && !self.died.swap(true, Ordering::SeqCst)
        {
            if after_accept {
                let at = Utc::now();
                self.inner.send(mail).await?;
                self.accepted(mail, at);
            }
            *self.died_on.lock().unwrap() = Some(to);
            self.dying.notify_one();
            // The worker dies here: it never returns.
            std::future::pending::<()>().await;
        }
        let at = Utc::now();
        let sent = if self.sink {
            SentMail {
                provider_message_id: uuid::Uuid::new_v4().to_string(),
            }
        } else {
            self.inner.send(mail).await?
        };
        self.accepted(mail, at);
        Ok(sent)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    Once,
    Twice,
    Concurrently,
}

/// EMMA on a manual clock, with the [`Faulty`] mailer.
pub(crate) struct Sending {
    pub(crate) test: TestApp,
    /// The app the workers run on (with the faulty mailer).
    pub(crate) app: emma::App,
    pub(crate) clock: ManualClock,
    pub(crate) mailer: Arc<Faulty>,
}

/// EMMA on a manual clock whose mailer is [`Faulty`] as `faults` sets it,
/// sending at `rate` (as EMMA_SEND_RATE would set it) when given.
pub(crate) async fn sending_app(
    adapters: Adapters,
    rate: Option<f64>,
    faults: impl FnOnce(&mut Faulty),
) -> Sending {
    let clock = ManualClock::new(Utc::now());
    let test = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    // The institutes' sender domain is an identity of the mail service.
    test.app()
        .mailer
        .register_identity("example.de")
        .await
        .unwrap();
    let mut faulty = Faulty::new(test.app().mailer.clone());
    faults(&mut faulty);
    let mailer = Arc::new(faulty);
    let mut app = test.app().clone();
    app.mailer = mailer.clone();
    if let Some(rate) = rate {
        let mut settings = (*app.settings).clone();
        settings.sending.rate = Some(rate);
        app.settings = Arc::new(settings);
    }
    Sending {
        test,
        app,
        clock,
        mailer,
    }
}

impl Sending {
    /// A campaign of `tenant` to `lists`, created by `editor` and scheduled
    /// `hours` from now.
    pub(crate) async fn schedule(
        &self,
        editor: &emma_tests::http::Client,
        tenant: &str,
        lists: &[&str],
        hours: i64,
    ) -> CampaignId {
        let template = template(editor, tenant, BODY).await;
        let draft = campaign(&template, lists);
        let id = created(editor, tenant, &draft).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let at = (self.clock.now_utc() + chrono::TimeDelta::hours(hours)).to_rfc3339();
        let (status, scheduled) = act(
            editor,
            tenant,
            &id,
            "schedule",
            json!({ "scheduled_at": at }),
        )
        .await;
        assert_eq!(status, http::StatusCode::OK, "{scheduled}");
        CampaignId::parse(&id).unwrap()
    }

    /// The campaign as the API shows it to an editor signed in now (the
    /// clock may have moved past the setup's session).
    pub(crate) async fn progress_view(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
    ) -> serde_json::Value {
        let editor = self
            .test
            .signed_in(emma::domain::Role::Editor, Some(tenant.as_str()))
            .await;
        let reply = editor
            .get(&format!(
                "/api/tenants/{tenant}/campaigns/{campaign}/progress"
            ))
            .await;
        assert_eq!(reply.status, http::StatusCode::OK, "{}", reply.json);
        reply.json
    }

    /// The run's counters, and whether they are exact (the run ended).
    pub(crate) async fn counts(&self, tenant: &TenantId, campaign: &CampaignId) -> (Totals, bool) {
        let progress = sending::progress(&self.app, tenant, campaign)
            .await
            .unwrap()
            .expect("the run started");
        (progress.totals, progress.exact)
    }

    /// Runs received messages through the `send` worker's handler;
    /// answers the ids it reported as failed.
    pub(crate) async fn handle(&self, messages: &[ReceivedMessage]) -> Vec<String> {
        let event = emma::local::sqs_event(messages);
        let response =
            emma::workers::send::handle(&self.app, LambdaEvent::new(event, Context::default()))
                .await
                .expect("the handler answers");
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    /// Receives up to `max` job messages and runs the dispatch steps among
    /// them through the handler (each must succeed; then acknowledged);
    /// answers the batch messages, left in flight for the caller.
    pub(crate) async fn dispatch_steps(&self, max: usize) -> Vec<ReceivedMessage> {
        let messages = self
            .app
            .jobs
            .receive(max, Duration::from_secs(60), Duration::from_millis(200))
            .await
            .unwrap();
        let mut batches = Vec::new();
        for message in messages {
            if message.body.contains("\"send_batch\"") {
                batches.push(message);
                continue;
            }
            let failed = self.handle(std::slice::from_ref(&message)).await;
            assert!(failed.is_empty(), "a dispatch step failed");
            self.app.jobs.ack(&message.receipt).await.unwrap();
        }
        batches
    }

    /// One worker's turn: one message off the queue, through the handler,
    /// acknowledged, or released at once when it failed (the handler's own
    /// backoff would make the test wait). `None` when the queue was empty,
    /// else whether the message succeeded.
    pub(crate) async fn work_one(&self) -> Option<bool> {
        let message = self
            .app
            .jobs
            .receive(1, Duration::from_secs(60), Duration::from_millis(200))
            .await
            .unwrap()
            .into_iter()
            .next()?;
        let ok = self.handle(std::slice::from_ref(&message)).await.is_empty();
        if ok {
            self.app.jobs.ack(&message.receipt).await.unwrap();
        } else {
            self.app
                .jobs
                .release(&message.receipt, Duration::ZERO)
                .await
                .unwrap();
        }
        Some(ok)
    }
}

/// A started campaign of one institute to `ids`, on [`Sending`].
pub(crate) struct Fixture {
    pub(crate) sending: Sending,
    pub(crate) tenant: TenantId,
    pub(crate) campaign: CampaignId,
    pub(crate) ids: Vec<ContactId>,
}

impl std::ops::Deref for Fixture {
    type Target = Sending;

    fn deref(&self) -> &Sending {
        &self.sending
    }
}

/// 1,000 contacts on two overlapping lists (400..600 on both), a campaign
/// to both lists scheduled and started; the snapshot is taken and then the
/// "after" contacts change.
async fn started(adapters: Adapters, faults: impl FnOnce(&mut Faulty)) -> Fixture {
    let s = sending_app(adapters, None, faults).await;
    let (tenant, editor) = tenant_with_sender(&s.test, "Sparkasse Versand").await;
    let tenant_id = TenantId::parse(&tenant).unwrap();
    let app = &s.app;

    let list_a = lists::create(app, &tenant_id, "A").await.unwrap().id;
    let list_b = lists::create(app, &tenant_id, "B").await.unwrap().id;
    // Through the import (batched writes): 0..600 onto A, 400..1000 onto B.
    import(app, &tenant_id, 0..600, list_a).await;
    import(app, &tenant_id, 400..CONTACTS, list_b).await;
    let mut ids = Vec::with_capacity(CONTACTS);
    for i in 0..CONTACTS {
        let email = EmailAddress::parse(&address(i)).unwrap();
        let id = app.pseudonyms.contact_id(&tenant_id, &email);
        if unsubscribed_before(i) {
            unsubscribe(app, &tenant_id, &id).await;
        }
        if suppressed_before(i) {
            suppress(app, &tenant_id, &id).await;
        }
        ids.push(id);
    }
    let campaign = s
        .schedule(
            &editor,
            &tenant,
            &[&list_a.to_string(), &list_b.to_string()],
            1,
        )
        .await;

    // Not yet due: the tick starts nothing.
    assert_eq!(sending::start_due(app).await.unwrap(), 0);
    s.clock.advance(chrono::TimeDelta::hours(2));
    assert_eq!(sending::start_due(app).await.unwrap(), 1);
    // A second tick does not start it again.
    assert_eq!(sending::start_due(app).await.unwrap(), 0);

    let fixture = Fixture {
        sending: s,
        tenant: tenant_id,
        campaign,
        ids,
    };
    fixture.take_snapshot().await;
    // While it runs, the API shows the snapshot's recipients queued.
    let running = fixture.progress().await;
    assert_eq!(running["state"], "sending");
    assert_eq!(running["sending"]["totals"]["recipients"], snapshot_count());
    assert_eq!(running["sending"]["totals"]["queued"], snapshot_count());
    assert_eq!(running["sending"]["exact"], false);
    for (i, id) in fixture.ids.iter().enumerate() {
        if unsubscribes_after(i) {
            unsubscribe(&fixture.app, &fixture.tenant, id).await;
        }
        if suppressed_after(i) {
            suppress(&fixture.app, &fixture.tenant, id).await;
        }
        if erased_after(i) {
            contacts::erase(&fixture.app, &fixture.tenant, id)
                .await
                .unwrap();
        }
    }
    fixture
}

/// Imports contacts `range` (subscribed) onto `list`.
pub(crate) async fn import(
    app: &emma::App,
    tenant: &TenantId,
    range: std::ops::Range<usize>,
    list: ListId,
) {
    let mut file = String::from("E-Mail\n");
    for i in range.clone() {
        file.push_str(&address(i));
        file.push('\n');
    }
    let sniffed = sniff(file.as_bytes(), 5).expect("a readable file");
    let plan = ImportPlan {
        encoding: sniffed.encoding,
        separator: sniffed.separator,
        mapping: ColumnMapping::suggest(&sniffed.header).expect("an address column"),
        mode: ImportMode::AddOrUpdate,
        new_status: ContactStatus::Subscribed,
        list: Some(list),
    };
    let mut report = Report::new(Vec::new()).unwrap();
    let progress = run(
        app,
        tenant,
        std::io::Cursor::new(file.into_bytes()),
        &plan,
        &mut report,
    )
    .await
    .expect("the import runs");
    assert_eq!(progress.skipped, 0);
}

async fn unsubscribe(app: &emma::App, tenant: &TenantId, id: &ContactId) {
    let change = contacts::ContactChange {
        status: Some(ContactStatus::Unsubscribed),
        ..Default::default()
    };
    contacts::update(app, tenant, id, change).await.unwrap();
}

async fn suppress(app: &emma::App, tenant: &TenantId, id: &ContactId) {
    suppressions::add(app, tenant, id, None, SuppressionReason::Manual, None)
        .await
        .unwrap();
}

trait NowUtc {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc>;
}

impl NowUtc for ManualClock {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        emma::ports::Clock::now(self)
    }
}

impl Fixture {
    async fn progress(&self) -> serde_json::Value {
        self.progress_view(&self.tenant, &self.campaign).await
    }

    /// Runs the dispatch steps until the snapshot is complete; batches
    /// queued meanwhile go back to the queue untouched.
    pub(crate) async fn take_snapshot(&self) {
        for _ in 0..10_000 {
            let progress = sending::progress(&self.app, &self.tenant, &self.campaign)
                .await
                .unwrap()
                .expect("the run started");
            if progress.snapshot_complete {
                return;
            }
            for batch in self.dispatch_steps(1).await {
                self.app
                    .jobs
                    .release(&batch.receipt, Duration::ZERO)
                    .await
                    .unwrap();
            }
        }
        panic!("the snapshot never completed");
    }

    async fn handle_one(&self, message: &ReceivedMessage) -> Vec<String> {
        self.handle(std::slice::from_ref(message)).await
    }

    /// Works `n` messages off the queue (or fewer, if it runs dry).
    async fn send_some(&self, n: usize) {
        for _ in 0..n {
            if self.work_one().await.is_none() {
                return;
            }
        }
    }

    pub(crate) async fn state(&self) -> CampaignState {
        campaigns::get(&self.app, &self.tenant, &self.campaign)
            .await
            .unwrap()
            .state
    }

    fn delivered_total(&self) -> u32 {
        self.mailer.total()
    }

    /// Works the queue like the Lambda event source mapping until the
    /// campaign is sent: each message as `delivery` says; a worker that
    /// dies leaves its message in flight until the visibility timeout
    /// (here: released at once, with the clock past the claim's lease).
    pub(crate) async fn send_all(&self, delivery: Delivery) {
        for _ in 0..20_000 {
            let campaign = campaigns::get(&self.app, &self.tenant, &self.campaign)
                .await
                .unwrap();
            if campaign.state == CampaignState::Sent {
                return;
            }
            let messages = self
                .app
                .jobs
                .receive(10, Duration::from_secs(60), Duration::from_millis(200))
                .await
                .unwrap();
            if messages.is_empty() {
                // Throttled batches wait on the queue; the tick tops up and ends.
                sending::watch_active(&self.app).await.unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            for message in messages {
                let failed = tokio::select! {
                    failed = self.deliver(&message, delivery) => Some(failed),
                    _ = self.mailer.dying.notified() => None,
                };
                match failed {
                    Some(failed) if failed.is_empty() => {
                        self.app.jobs.ack(&message.receipt).await.unwrap();
                    }
                    Some(_) => {
                        self.app
                            .jobs
                            .release(&message.receipt, Duration::ZERO)
                            .await
                            .unwrap();
                    }
                    None => {
                        // The worker died mid-batch. Its message comes back
                        // after the visibility timeout, beyond the lease.
                        self.clock
                            .advance(chrono::TimeDelta::seconds(LEASE_SECONDS + 1));
                        self.app
                            .jobs
                            .release(&message.receipt, Duration::ZERO)
                            .await
                            .unwrap();
                    }
                }
            }
        }
        panic!("the campaign was never sent");
    }

    async fn deliver(
        &self,
        message: &emma::ports::ReceivedMessage,
        delivery: Delivery,
    ) -> Vec<String> {
        match delivery {
            Delivery::Once => self.handle_one(message).await,
            Delivery::Twice => {
                let mut failed = self.handle_one(message).await;
                failed.extend(self.handle_one(message).await);
                failed
            }
            Delivery::Concurrently => {
                let (mut a, b) = tokio::join!(self.handle_one(message), self.handle_one(message));
                a.extend(b);
                a
            }
        }
    }

    async fn totals(&self) -> Totals {
        let (totals, exact) = self.progress_totals().await;
        assert!(exact, "the run ended with an exact count");
        totals
    }

    /// The run's counters, and whether they are exact (the run ended).
    pub(crate) async fn progress_totals(&self) -> (Totals, bool) {
        self.counts(&self.tenant, &self.campaign).await
    }

    /// The addresses of the recipients whose outcome is "unknown".
    async fn unknown_addresses(&self) -> Vec<String> {
        let records: Vec<SendRecord> = parse_all(
            self.app.store.as_ref(),
            Query::table(keys::campaign_recipients(&self.tenant, &self.campaign)),
        )
        .await
        .unwrap();
        let mut addresses = Vec::new();
        for record in records {
            if record.state == RecordState::Unknown {
                let contact = contacts::get(&self.app, &self.tenant, &record.contact)
                    .await
                    .unwrap();
                addresses.push(contact.email.as_str().to_owned());
            }
        }
        addresses
    }

    /// Every eligible contact got exactly one message (but `unsent`), and
    /// nobody else got any.
    fn assert_delivered_exactly_once(&self, unsent: Option<&str>) {
        for i in 0..CONTACTS {
            let to = address(i);
            let expected = u32::from(eligible(i) && Some(to.as_str()) != unsent);
            assert_eq!(
                self.mailer.delivered(&to),
                expected,
                "messages to contact {i}"
            );
        }
    }
}

fn eligible_count() -> u64 {
    (0..CONTACTS).filter(|i| eligible(*i)).count() as u64
}

/// In the snapshot: everyone not unsubscribed or suppressed before.
fn snapshot_count() -> u64 {
    (0..CONTACTS)
        .filter(|i| !unsubscribed_before(*i) && !suppressed_before(*i))
        .count() as u64
}

fn assert_totals(totals: Totals, unknown: u64) {
    assert_eq!(totals.recipients, snapshot_count());
    assert_eq!(totals.queued, 0);
    assert_eq!(totals.failed, 0);
    assert_eq!(totals.skipped, snapshot_count() - eligible_count());
    assert_eq!(totals.unknown, unknown);
    assert_eq!(totals.sent, eligible_count() - unknown);
}

async fn every_eligible_contact_gets_the_campaign_exactly_once(adapters: Adapters) {
    let fixture = started(adapters, |_| {}).await;
    fixture.send_all(Delivery::Once).await;
    fixture.assert_delivered_exactly_once(None);
    assert_totals(fixture.totals().await, 0);
    // The messages are in the real outbox, tagged with the campaign. (The
    // emulator's record of sent mail is one document of every test's
    // messages: too slow to read for a thousand.)
    if fixture.test.adapters == Adapters::Local {
        let sent = emma_tests::sent::messages_containing(
            &fixture.test,
            &format!("X-EMMA-Campaign: {}", fixture.campaign),
        )
        .await;
        assert_eq!(sent.len() as u64, eligible_count());
    }
    let campaign = campaigns::get(&fixture.app, &fixture.tenant, &fixture.campaign)
        .await
        .unwrap();
    assert!(campaign.finished_at.is_some());
    let done = fixture.progress().await;
    assert_eq!(done["state"], "sent");
    assert_eq!(done["sending"]["exact"], true);
    assert_eq!(done["sending"]["totals"]["sent"], eligible_count());
    // The tick has nothing left to do with it.
    assert_eq!(sending::watch_active(&fixture.app).await.unwrap(), 0);
}

async fn a_batch_delivered_twice_sends_nobody_a_second_message(adapters: Adapters) {
    let fixture = started(adapters, |_| {}).await;
    fixture.send_all(Delivery::Twice).await;
    fixture.assert_delivered_exactly_once(None);
    assert_totals(fixture.totals().await, 0);
}

async fn two_workers_on_the_same_batch_send_nobody_a_second_message(adapters: Adapters) {
    let fixture = started(adapters, |_| {}).await;
    fixture.send_all(Delivery::Concurrently).await;
    fixture.assert_delivered_exactly_once(None);
    assert_totals(fixture.totals().await, 0);
}

async fn a_throttling_mail_service_delays_the_campaign_and_loses_nobody(adapters: Adapters) {
    let fixture = started(adapters, |f| f.throttle_every = Some(97)).await;
    fixture.send_all(Delivery::Once).await;
    assert!(fixture.mailer.calls.load(Ordering::SeqCst) as u64 > eligible_count());
    fixture.assert_delivered_exactly_once(None);
    assert_totals(fixture.totals().await, 0);
}

async fn a_worker_killed_after_the_mail_service_accepted_leaves_unknown_only_what_was_accepted_and_not_recorded(
    adapters: Adapters,
) {
    let fixture = started(adapters, |f| f.die_at = Some((123, true))).await;
    fixture.send_all(Delivery::Once).await;
    let died_on = fixture
        .mailer
        .died_on
        .lock()
        .unwrap()
        .clone()
        .expect("the worker died");
    // Accepted once before the crash, never sent again.
    assert_eq!(fixture.mailer.delivered(&died_on), 1);
    fixture.assert_delivered_exactly_once(None);
    // Unknown: the one in hand, and those of its chunk the mail service
    // had accepted before (their outcomes are recorded together) — each
    // of them sent exactly once, and nobody the crash did not touch.
    let unknown = fixture.unknown_addresses().await;
    assert!(unknown.contains(&died_on), "{unknown:?}");
    assert!((1..=10).contains(&unknown.len()), "{unknown:?}");
    for to in &unknown {
        assert_eq!(fixture.mailer.delivered(to), 1, "{to}");
    }
    assert_totals(fixture.totals().await, unknown.len() as u64);
}

async fn a_worker_killed_before_the_mail_service_was_called_leaves_that_recipient_unknown_and_unsent_and_sends_nobody_twice(
    adapters: Adapters,
) {
    let fixture = started(adapters, |f| f.die_at = Some((321, false))).await;
    fixture.send_all(Delivery::Once).await;
    let died_on = fixture
        .mailer
        .died_on
        .lock()
        .unwrap()
        .clone()
        .expect("the worker died");
    assert_eq!(fixture.mailer.delivered(&died_on), 0);
    fixture.assert_delivered_exactly_once(Some(&died_on));
    // Unknown: the one in hand (claimed, never sent), and those of its
    // chunk the mail service had accepted before (their outcomes are
    // recorded together) — each of those sent exactly once.
    let unknown = fixture.unknown_addresses().await;
    assert!(unknown.contains(&died_on), "{unknown:?}");
    assert!((1..=10).contains(&unknown.len()), "{unknown:?}");
    for to in unknown.iter().filter(|to| **to != died_on) {
        assert_eq!(fixture.mailer.delivered(to), 1, "{to}");
    }
    assert_totals(fixture.totals().await, unknown.len() as u64);
}

async fn a_used_up_quota_pauses_the_campaign_with_its_reason_and_the_tick_resumes_it(
    adapters: Adapters,
) {
    let fixture = started(adapters, |f| f.quota_at = Some(200)).await;
    // Work until the quota runs out: the campaign pauses by itself.
    for _ in 0..100 {
        if fixture.state().await == CampaignState::Paused {
            break;
        }
        fixture.send_some(1).await;
    }
    let campaign = campaigns::get(&fixture.app, &fixture.tenant, &fixture.campaign)
        .await
        .unwrap();
    assert_eq!(campaign.state, CampaignState::Paused);
    let Some(campaigns::PauseReason::QuotaExhausted { resume_at }) = campaign.pause_reason else {
        panic!("paused for the quota, not {:?}", campaign.pause_reason);
    };
    let view = fixture.progress().await;
    assert_eq!(view["pause_reason"]["reason"], "quota_exhausted");
    // Batches still on the queue go nowhere while it is paused.
    let before = fixture.delivered_total();
    fixture.send_some(50).await;
    assert_eq!(fixture.delivered_total(), before);
    // The tick leaves it paused until the quota renews, then resumes it.
    sending::watch_active(&fixture.app).await.unwrap();
    assert_eq!(fixture.state().await, CampaignState::Paused);
    fixture.clock.set(resume_at);
    sending::watch_active(&fixture.app).await.unwrap();
    assert_eq!(fixture.state().await, CampaignState::Sending);
    fixture.send_all(Delivery::Once).await;
    fixture.assert_delivered_exactly_once(None);
    assert_totals(fixture.totals().await, 0);
}

async fn a_campaign_paused_and_resumed_while_sending_still_reaches_everyone_once(
    adapters: Adapters,
) {
    let fixture = started(adapters, |_| {}).await;
    fixture.send_some(6).await;
    let sent_before = fixture.delivered_total();
    assert!(sent_before > 0, "some went out before the pause");
    campaigns::pause(&fixture.app, &fixture.tenant, &fixture.campaign)
        .await
        .unwrap();
    fixture.send_some(100).await;
    assert_eq!(
        fixture.delivered_total(),
        sent_before,
        "nothing goes out while paused"
    );
    campaigns::resume(&fixture.app, &fixture.tenant, &fixture.campaign)
        .await
        .unwrap();
    fixture.send_all(Delivery::Once).await;
    fixture.assert_delivered_exactly_once(None);
    assert_totals(fixture.totals().await, 0);
}

async fn a_campaign_cancelled_while_sending_stops_and_is_counted_exactly(adapters: Adapters) {
    let fixture = started(adapters, |_| {}).await;
    fixture.send_some(6).await;
    campaigns::cancel(&fixture.app, &fixture.tenant, &fixture.campaign)
        .await
        .unwrap();
    fixture.send_some(100).await;
    let sent = fixture.delivered_total();
    // Nobody got it twice, and nobody outside the eligible.
    for i in 0..CONTACTS {
        assert!(fixture.mailer.delivered(&address(i)) <= u32::from(eligible(i)));
    }
    // Once every claim made before the cancel had its lease, the tick has
    // a job count every record exactly: what went out, the rest queued.
    fixture
        .clock
        .advance(chrono::TimeDelta::seconds(LEASE_SECONDS + 1));
    assert_eq!(sending::watch_active(&fixture.app).await.unwrap(), 0);
    fixture.send_some(10).await;
    assert_eq!(sending::watch_active(&fixture.app).await.unwrap(), 1);
    let totals = fixture.totals().await;
    assert_eq!(totals.sent, u64::from(sent));
    assert_eq!(totals.recipients, snapshot_count());
    assert_eq!(
        totals.sent + totals.skipped + totals.queued + totals.failed + totals.unknown,
        snapshot_count()
    );
    assert!(totals.queued > 0);
    assert_eq!(fixture.state().await, CampaignState::Cancelled);
    // Gone from the tick's list.
    assert_eq!(sending::watch_active(&fixture.app).await.unwrap(), 0);
}
