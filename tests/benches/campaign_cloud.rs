//! What a campaign costs on AWS beyond SES's own price, measured on the
//! cloud adapters against the emulator (moto): N subscribed contacts (10,000
//! unless the first argument says otherwise) imported onto a list, a
//! campaign with per-person tracking scheduled and started by the scheduler
//! function, and the jobs queue worked off as the Lambda event source
//! mapping does it — polls of up to 10 messages (the template's
//! `BatchSize`), one invocation of the `send` function's handler per poll,
//! the messages it handled deleted (DeleteMessageBatch) and the reported
//! failures left for redelivery — by 5 pollers (the template's default
//! `SendMaximumConcurrency`), with the scheduler function ticking every
//! minute, until the campaign is sent.
//!
//! Counting decorators around the real adapters (`emma_tests::counting`)
//! count each function's DynamoDB requests and request units, SQS requests
//! and SES calls, and the bytes it logs; this prints them per 1,000
//! recipients with the cost at list prices. Only the campaign is counted
//! (from the tick that starts it to "sent"), not the set-up.
//!
//! Limits of the figures, said where they are printed too:
//! - moto reports no consumed capacity: the units are computed from the
//!   item sizes as DynamoDB bills on-demand (see `emma_tests::counting`);
//! - the handler's wall time is moto's latency on a shared machine, not
//!   DynamoDB's or SES's: the GB-seconds are an upper-bound guess;
//! - log bytes are what EMMA logs at `info` in its JSON format, plus an
//!   estimate for Lambda's own start/report lines;
//! - the scheduler ticks every minute whether a campaign runs or not: its
//!   share depends on how long the campaign takes, and is shown apart.
//!
//! Nothing timed is asserted. Starts its own moto (from the virtual
//! environment `scripts/test` creates) unless `AWS_ENDPOINT_URL` is set:
//! `cargo bench -p emma-tests --bench campaign_cloud`, or with a count:
//! `cargo bench -p emma-tests --bench campaign_cloud -- 2000`.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use emma::content::template::{TemplateKind, TemplateSource};
use emma::domain::{ContactStatus, TrackingMode};
use emma::import::mapping::ColumnMapping;
use emma::import::run::{ImportMode, ImportPlan, Report, run};
use emma::import::source::sniff;
use emma::ports::{Clock, ManualClock};
use emma::services::campaigns::{self, Audience, CampaignDraft, CampaignState};
use emma::services::{lists, sending, templates, tenants};
use emma_tests::app::{Adapters, spawn_with_clock};
use emma_tests::counting::{
    CountingLogs, CountingMailer, CountingQueue, CountingStore, EVENT_SOURCE_MAPPING, Meter,
    OUTSIDE, Tallies, as_function,
};
use lambda_runtime::{Context, LambdaEvent};

// List prices, eu-central-1 (Frankfurt), on demand, as of 2026-11, from
// https://aws.amazon.com/dynamodb/pricing/on-demand/,
// https://aws.amazon.com/sqs/pricing/, https://aws.amazon.com/lambda/pricing/
// and https://aws.amazon.com/cloudwatch/pricing/ (free tiers left out).
/// DynamoDB on-demand, per write request unit (table and index alike).
const USD_PER_WRITE_UNIT: f64 = 0.7625 / 1e6;
/// DynamoDB on-demand, per read request unit.
const USD_PER_READ_UNIT: f64 = 0.1525 / 1e6;
/// SQS standard queue, per request (64 KB chunk).
const USD_PER_SQS_REQUEST: f64 = 0.40 / 1e6;
/// Lambda, per invocation.
const USD_PER_INVOCATION: f64 = 0.20 / 1e6;
/// Lambda duration per GB-second on arm64 (the template's architecture).
const USD_PER_GB_SECOND_ARM: f64 = 0.000_013_333_4;
/// The same on x86_64, for comparison.
const USD_PER_GB_SECOND_X86: f64 = 0.000_016_666_7;
/// CloudWatch Logs, standard ingestion, per GB.
const USD_PER_LOG_GB: f64 = 0.63;

/// The `send` function's memory (infra/template.yaml: `MemorySize: 512`).
const SEND_MEMORY_GB: f64 = 0.5;
/// The scheduler's memory (the template's global `MemorySize: 256`).
const SCHEDULER_MEMORY_GB: f64 = 0.25;
/// The event source mapping's `BatchSize` in infra/template.yaml.
const BATCH_SIZE: usize = 10;
/// The template's default `SendMaximumConcurrency`.
const POLLERS: usize = 5;
/// An estimate of Lambda's own log lines per invocation in JSON format
/// (`platform.start` and `platform.report`).
const PLATFORM_LOG_BYTES: u64 = 600;
/// The rate the campaign is paced at, unless `EMMA_SEND_RATE` says otherwise:
/// high enough not to wait, so only the pacing's store calls show.
const DEFAULT_RATE: f64 = 10_000.0;
/// How long a received job stays hidden while the handler runs it.
const VISIBILITY: Duration = Duration::from_secs(120);
/// How long the campaign may make no progress before the benchmark stops.
const STALLED: Duration = Duration::from_secs(600);

const SENDER_DOMAIN: &str = "sparkasse-musterstadt.example";

const BODY: &str = r#"<mjml><mj-body><mj-section><mj-column>
<mj-text>{{ contact.greeting }},</mj-text>
<mj-text>Unser Dezember-Newsletter: neue Konditionen, Termine in Ihrer Filiale
und ein Gewinnspiel. <a href="https://www.sparkasse-musterstadt.example/angebote">Zu den Angeboten</a></mj-text>
<mj-button href="https://www.sparkasse-musterstadt.example/termin">Termin vereinbaren</mj-button>
<mj-text><a href="{{ unsubscribe_url }}">Abmelden</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"#;

/// The emulator this benchmark started; stopped when dropped.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        // Only the process this benchmark started, by its id.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The virtual environment `scripts/test` creates.
fn venv() -> PathBuf {
    let cache = std::env::var_os("EMMA_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("emma")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/emma")))
        .expect("HOME is set");
    cache.join("venv")
}

/// Whether moto answers on `port`.
fn answers(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut start = [0u8; 12];
    stream.read_exact(&mut start).is_ok() && start.starts_with(b"HTTP/1.")
}

/// Starts moto on a free port, waits until it answers and points the AWS
/// SDK at it (dummy credentials only, never a real account). Called before
/// any thread starts.
fn start_moto() -> Moto {
    let server = venv().join("bin/moto_server");
    assert!(
        server.exists(),
        "{} is missing: run scripts/test once, which creates the virtual environment",
        server.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto starts");
    let moto = Moto(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !answers(port) {
        assert!(Instant::now() < deadline, "moto did not answer within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let settings = [
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_SESSION_TOKEN", "testing".to_owned()),
        ("AWS_REGION", "eu-central-1".to_owned()),
        ("AWS_DEFAULT_REGION", "eu-central-1".to_owned()),
        ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    for (name, value) in settings {
        // SAFETY: called from `main` before the runtime or any other
        // thread exists, so nothing reads the environment meanwhile.
        unsafe { std::env::set_var(name, value) };
    }
    // SAFETY: as above.
    unsafe { std::env::remove_var("AWS_PROFILE") };
    moto
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let moto = std::env::var_os("AWS_ENDPOINT_URL")
        .is_none()
        .then(start_moto);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(campaign(count));
    drop(runtime);
    drop(moto);
}

/// Invocations of one function and how long their handlers ran.
#[derive(Debug, Clone, Copy, Default)]
struct Invocations {
    count: u64,
    /// Billed milliseconds (each invocation rounded up to a whole one).
    billed_ms: u64,
}

type InvocationLog = Arc<Mutex<BTreeMap<&'static str, Invocations>>>;

fn record(log: &InvocationLog, function: &'static str, took: Duration) {
    let mut log = log.lock().unwrap();
    let entry = log.entry(function).or_default();
    entry.count += 1;
    entry.billed_ms += took.as_micros().div_ceil(1000) as u64;
}

/// One job message delivered to the `send` function: counted by kind,
/// with the recipients a batch names (in `billed_ms`).
fn record_job(log: &InvocationLog, kind: &'static str, recipients: usize) {
    let mut log = log.lock().unwrap();
    let entry = log.entry(kind).or_default();
    entry.count += 1;
    entry.billed_ms += recipients as u64;
}

/// One invocation of the scheduler function (the EventBridge tick).
async fn tick(app: &emma::App, log: &InvocationLog) {
    let mut event: EventBridgeEvent<serde_json::Value> = EventBridgeEvent::default();
    event.detail_type = "Scheduled Event".to_owned();
    event.source = "aws.events".to_owned();
    event.time = Some(app.clock.now());
    let started = Instant::now();
    as_function(
        "scheduler",
        emma::workers::scheduler::handle(app, LambdaEvent::new(event, Context::default())),
    )
    .await
    .expect("the tick answers");
    record(log, "scheduler", started.elapsed());
}

/// The event source mapping of the `send` function, one poller: polls,
/// invokes the handler with what it got, deletes what the handler did not
/// report as failed.
async fn poller(
    app: emma::App,
    queue: Arc<CountingQueue>,
    log: InvocationLog,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        let messages = match queue
            .poll(BATCH_SIZE, VISIBILITY, Duration::from_secs(1))
            .await
        {
            Ok(messages) => messages,
            Err(e) => {
                eprintln!("  a poll failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        for message in &messages {
            let kind = match emma::services::jobs::Job::from_body(&message.body) {
                Ok(emma::services::jobs::Job::SendBatch { contacts, .. }) => {
                    record_job(&log, "job: send batch", contacts.len());
                    continue;
                }
                Ok(emma::services::jobs::Job::Dispatch { .. }) => "job: dispatch step",
                _ => "job: other",
            };
            record_job(&log, kind, 0);
        }
        let event = emma::local::sqs_event(&messages);
        let started = Instant::now();
        let response = as_function(
            "send",
            emma::workers::send::handle(&app, LambdaEvent::new(event, Context::default())),
        )
        .await
        .expect("the send handler answers");
        record(&log, "send", started.elapsed());
        let failed: HashSet<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        let handled: Vec<&str> = messages
            .iter()
            .filter(|m| !failed.contains(&m.message_id))
            .map(|m| m.receipt.as_str())
            .collect();
        if let Err(e) = queue.delete_handled(&handled).await {
            eprintln!("  deleting handled messages failed: {e}");
        }
    }
}

async fn campaign(count: usize) {
    let rate: f64 = std::env::var("EMMA_SEND_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(DEFAULT_RATE);
    let meter = Meter::new();
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(CountingLogs::new(meter.clone()))
        .init();

    let setup_started = Instant::now();
    let clock = ManualClock::new(chrono::Utc::now());
    let test = spawn_with_clock(Adapters::Cloud, Arc::new(clock.clone())).await;
    // The benchmark's own looks at the campaign go to the uncounted app.
    let raw = test.app().clone();
    let mut app = raw.clone();
    let queue = Arc::new(CountingQueue::new(raw.jobs.clone(), meter.clone()));
    app.store = Arc::new(CountingStore::new(raw.store.clone(), meter.clone()));
    app.jobs = queue.clone();
    app.mailer = Arc::new(CountingMailer::new(raw.mailer.clone(), meter.clone()));
    let mut settings = (*raw.settings).clone();
    settings.sending.rate = Some(rate);
    app.settings = Arc::new(settings);

    let name = emma::domain::TenantName::parse("Sparkasse Messlauf").unwrap();
    let tenant = tenants::create(&app, name).await.expect("a tenant");
    let mut tenant_settings = tenant.settings.clone();
    tenant_settings.sender_domains = vec![SENDER_DOMAIN.to_owned()];
    tenant_settings.tracking = TrackingMode::PerPerson;
    tenants::update(
        &app,
        &tenant.id,
        tenants::TenantChange {
            settings: Some(tenant_settings),
            ..Default::default()
        },
    )
    .await
    .expect("the sender domain");
    let list = lists::create(&app, &tenant.id, "Newsletter").await.unwrap();
    let mut file = String::with_capacity(count * 40);
    file.push_str("E-Mail;Vorname;Nachname\n");
    for i in 0..count {
        file.push_str(&format!("kunde{i:07}@beispiel.example;Erika;Muster{i}\n"));
    }
    let sniffed = sniff(file.as_bytes(), 5).expect("a readable file");
    let plan = ImportPlan {
        encoding: sniffed.encoding,
        separator: sniffed.separator,
        mapping: ColumnMapping::suggest(&sniffed.header).expect("an address column"),
        mode: ImportMode::AddOrUpdate,
        new_status: ContactStatus::Subscribed,
        list: Some(list.id),
    };
    let mut report = Report::new(Vec::new()).unwrap();
    let imported = run(
        &app,
        &tenant.id,
        std::io::Cursor::new(file.into_bytes()),
        &plan,
        &mut report,
    )
    .await
    .expect("the import");
    assert_eq!(imported.skipped, 0, "every contact was imported");

    let source = TemplateSource {
        kind: TemplateKind::Mjml,
        subject: "Neues von Ihrer Sparkasse, {{ contact.first_name | default(\"liebe Kundin, lieber Kunde\") }}".to_owned(),
        body: BODY.to_owned(),
        text: None,
    };
    let (template, _) = templates::create(&app, &tenant.id, "Dezember", source)
        .await
        .expect("the template");
    let draft = CampaignDraft {
        name: "Dezember".to_owned(),
        template: template.id,
        template_version: None,
        subject: None,
        preheader: None,
        from_name: "Sparkasse Messlauf".to_owned(),
        from_email: format!("newsletter@{SENDER_DOMAIN}"),
        reply_to: None,
        audience: Audience {
            lists: vec![list.id],
            segments: Vec::new(),
        },
        tracking: TrackingMode::PerPerson,
    };
    let campaign = campaigns::create(&app, &tenant.id, &draft).await.unwrap();
    let at = clock.now() + chrono::TimeDelta::minutes(5);
    campaigns::schedule(&app, &tenant.id, &campaign.id, at)
        .await
        .expect("scheduled");
    clock.advance(chrono::TimeDelta::minutes(6));
    let setup = setup_started.elapsed();

    // From here on everything is counted.
    meter.reset();
    let log: InvocationLog = Arc::default();
    let sending_started = Instant::now();
    tick(&app, &log).await;
    assert_eq!(
        campaigns::get(&raw, &tenant.id, &campaign.id)
            .await
            .unwrap()
            .state,
        CampaignState::Sending,
        "the tick started the campaign"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let pollers: Vec<_> = (0..POLLERS)
        .map(|_| {
            tokio::spawn(poller(
                app.clone(),
                queue.clone(),
                log.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let mut last_tick = Instant::now();
    let mut last_sent = (0, Instant::now());
    loop {
        let state = campaigns::get(&raw, &tenant.id, &campaign.id)
            .await
            .unwrap()
            .state;
        if state == CampaignState::Sent {
            break;
        }
        assert_eq!(state, CampaignState::Sending, "the campaign stopped");
        if last_tick.elapsed() >= Duration::from_secs(60) {
            tick(&app, &log).await;
            last_tick = Instant::now();
        }
        let sent = sending::progress(&raw, &tenant.id, &campaign.id)
            .await
            .unwrap()
            .map_or(0, |p| p.totals.sent);
        if sent != last_sent.0 {
            last_sent = (sent, Instant::now());
        }
        assert!(
            last_sent.1.elapsed() < STALLED,
            "no progress for {} s at {sent} sent",
            STALLED.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let sent_in = sending_started.elapsed();
    stop.store(true, Ordering::SeqCst);
    for poller in pollers {
        poller.await.expect("a poller ends");
    }
    let tallies = meter.tallies();
    let invocations = log.lock().unwrap().clone();
    let totals = sending::progress(&raw, &tenant.id, &campaign.id)
        .await
        .unwrap()
        .expect("a run")
        .totals;
    print_report(count, rate, setup, sent_in, totals, &tallies, &invocations);
}

fn usd(x: f64) -> String {
    format!("${x:.5}")
}

fn print_report(
    count: usize,
    rate: f64,
    setup: Duration,
    sent_in: Duration,
    totals: sending::Totals,
    tallies: &Tallies,
    invocations: &BTreeMap<&'static str, Invocations>,
) {
    let per_k = 1000.0 / totals.sent.max(1) as f64;
    let counted = |function: &str| function != OUTSIDE;
    println!(
        "campaign to {count} contacts, cloud adapters against moto (DynamoDB, SQS, SESv2), \
         per-person tracking, {POLLERS} pollers of {BATCH_SIZE}, EMMA_SEND_RATE={rate}"
    );
    println!(
        "  set-up (not counted): {:.1} s; from the first tick to 'sent': {:.1} s ({:.0} messages/s on moto)",
        setup.as_secs_f64(),
        sent_in.as_secs_f64(),
        totals.sent as f64 / sent_in.as_secs_f64()
    );
    println!(
        "  recipients {} sent {} failed {} skipped {} unknown {}",
        totals.recipients, totals.sent, totals.failed, totals.skipped, totals.unknown
    );

    println!("per 1,000 recipients sent:");
    let dynamo = tallies.dynamo_total(counted);
    println!(
        "  DynamoDB: {:.1} read units, {:.1} write units ({:.1} table + {:.1} index gsi1), {:.0} requests \
         — {:.2} write units per recipient (computed from item sizes: moto reports no consumed capacity)",
        dynamo.read_units * per_k,
        dynamo.all_write_units() * per_k,
        dynamo.write_units * per_k,
        dynamo.index_write_units * per_k,
        dynamo.requests as f64 * per_k,
        dynamo.all_write_units() / totals.sent.max(1) as f64,
    );
    println!(
        "    {:<10} {:<30} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "function", "call", "requests", "items", "RRU", "WRU", "gsi1 WRU", "refused"
    );
    for ((function, call), t) in tallies.dynamo.iter().filter(|((f, _), _)| counted(f)) {
        println!(
            "    {:<10} {:<30} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>8.1}",
            function,
            call,
            t.requests as f64 * per_k,
            t.items as f64 * per_k,
            t.read_units * per_k,
            t.write_units * per_k,
            t.index_write_units * per_k,
            t.failed_conditions as f64 * per_k,
        );
    }
    println!(
        "    {:<10} {:<30} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "function", "item kind", "items", "RRU", "WRU", "gsi1 WRU", "refused"
    );
    for ((function, kind), t) in tallies
        .dynamo_by_item
        .iter()
        .filter(|((f, _), _)| counted(f))
    {
        println!(
            "    {:<10} {:<30} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>8.1}",
            function,
            kind,
            t.items as f64 * per_k,
            t.read_units * per_k,
            t.write_units * per_k,
            t.index_write_units * per_k,
            t.failed_conditions as f64 * per_k,
        );
    }

    let polling = |function: &str| counted(function);
    let sqs_requests = tallies
        .sqs
        .iter()
        .filter(|((f, op), _)| polling(f) && !op.ends_with("(empty)"))
        .map(|(_, t)| t.requests)
        .sum::<u64>();
    let empty_polls = tallies
        .sqs
        .iter()
        .filter(|((_, op), _)| op.ends_with("(empty)"))
        .map(|(_, t)| t.requests)
        .sum::<u64>();
    println!(
        "  SQS: {:.1} requests (empty polls of the event source mapping left out: {:.1} here; \
         it polls an idle queue around the clock anyway)",
        sqs_requests as f64 * per_k,
        empty_polls as f64 * per_k
    );
    for ((function, call), t) in tallies.sqs.iter().filter(|((f, _), _)| counted(f)) {
        println!(
            "    {:<21} {:<26} {:>8.1} requests {:>8.1} messages",
            function,
            call,
            t.requests as f64 * per_k,
            t.messages as f64 * per_k
        );
    }
    println!(
        "  SES: {:.1} SendEmail, {:.1} GetAccount (the rate is set, so GetAccount is not asked)",
        tallies.ses_calls("SendEmail") as f64 * per_k,
        tallies.ses_calls("GetAccount") as f64 * per_k
    );
    let send = invocations.get("send").copied().unwrap_or_default();
    let scheduler = invocations.get("scheduler").copied().unwrap_or_default();
    let gb_seconds = send.billed_ms as f64 / 1000.0 * SEND_MEMORY_GB
        + scheduler.billed_ms as f64 / 1000.0 * SCHEDULER_MEMORY_GB;
    println!(
        "  Lambda: {:.2} send invocations ({:.0} ms each on average), {:.2} scheduler invocations \
         ({} ticks in all, one a minute); {:.2} GB-s ({SEND_MEMORY_GB} GB send, \
         {SCHEDULER_MEMORY_GB} GB scheduler; handler wall time against moto, not AWS latency)",
        send.count as f64 * per_k,
        send.billed_ms as f64 / send.count.max(1) as f64,
        scheduler.count as f64 * per_k,
        scheduler.count,
        gb_seconds * per_k
    );
    let batches = invocations
        .get("job: send batch")
        .copied()
        .unwrap_or_default();
    let steps = invocations
        .get("job: dispatch step")
        .copied()
        .unwrap_or_default();
    println!(
        "    jobs delivered: {:.1} dispatch steps, {:.1} send batches naming {:.0} recipients \
         ({:.2} deliveries per recipient)",
        steps.count as f64 * per_k,
        batches.count as f64 * per_k,
        batches.billed_ms as f64 * per_k,
        batches.billed_ms as f64 / totals.recipients.max(1) as f64
    );
    let app_log_bytes: u64 = tallies
        .log_bytes
        .iter()
        .filter(|(f, _)| counted(f) && **f != EVENT_SOURCE_MAPPING)
        .map(|(_, b)| b)
        .sum();
    let log_bytes = app_log_bytes + (send.count + scheduler.count) * PLATFORM_LOG_BYTES;
    println!(
        "  CloudWatch Logs: {:.0} bytes ({:.0} logged by EMMA at info, the rest Lambda's own lines, \
         estimated at {PLATFORM_LOG_BYTES} bytes an invocation)",
        log_bytes as f64 * per_k,
        app_log_bytes as f64 * per_k
    );

    let scheduler_only = |function: &str| function == "scheduler";
    let writes = dynamo.all_write_units() * USD_PER_WRITE_UNIT;
    let reads = dynamo.read_units * USD_PER_READ_UNIT;
    let queue = sqs_requests as f64 * USD_PER_SQS_REQUEST;
    let requests = (send.count + scheduler.count) as f64 * USD_PER_INVOCATION;
    let duration = gb_seconds * USD_PER_GB_SECOND_ARM;
    let logs = log_bytes as f64 / 1e9 * USD_PER_LOG_GB;
    let total = writes + reads + queue + requests + duration + logs;
    let ticks = tallies.dynamo_total(scheduler_only);
    let tick_share = ticks.all_write_units() * USD_PER_WRITE_UNIT
        + ticks.read_units * USD_PER_READ_UNIT
        + tallies.sqs_requests(scheduler_only) as f64 * USD_PER_SQS_REQUEST
        + scheduler.count as f64 * USD_PER_INVOCATION
        + scheduler.billed_ms as f64 / 1000.0 * SCHEDULER_MEMORY_GB * USD_PER_GB_SECOND_ARM;
    println!(
        "cost per 1,000 mails beyond SES's own price (eu-central-1 on-demand list prices, 2026-11, no free tiers):"
    );
    println!(
        "  DynamoDB writes {} + reads {} + SQS {} + Lambda requests {} + Lambda duration {} (arm64; \
         x86 would be {}) + CloudWatch Logs {} = {}",
        usd(writes * per_k),
        usd(reads * per_k),
        usd(queue * per_k),
        usd(requests * per_k),
        usd(duration * per_k),
        usd(gb_seconds * USD_PER_GB_SECOND_X86 * per_k),
        usd(logs * per_k),
        usd(total * per_k),
    );
    println!(
        "  of which the scheduler's ticks during the campaign: {}",
        usd(tick_share * per_k)
    );
    let target = 0.01;
    if total * per_k <= target {
        println!(
            "  the target (<= ${target} per 1,000 mails) holds: {} per 1,000",
            usd(total * per_k)
        );
    } else {
        println!(
            "  the target (<= ${target} per 1,000 mails) does NOT hold: {} per 1,000",
            usd(total * per_k)
        );
    }
}
