//! A campaign end to end on the embedded default: a fresh data folder
//! (SQLite, files, the outbox, the in-process queue), N subscribed contacts
//! imported onto a list, a template, a campaign scheduled and started by
//! the tick, then the jobs queue worked off by two workers (the send
//! handler, as the local server runs it) until the campaign is sent.
//! Prints the seconds of each phase, messages per second and the peak
//! memory of the process; asserts nothing timed.
//!
//! `cargo bench -p emma --bench campaign`, or with a count:
//! `cargo bench -p emma --bench campaign -- 20000`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use emma::bootstrap;
use emma::config::Config;
use emma::content::template::{TemplateKind, TemplateSource};
use emma::domain::{ContactStatus, TenantName, TrackingMode};
use emma::import::mapping::ColumnMapping;
use emma::import::run::{ImportMode, ImportPlan, Report, run};
use emma::import::source::sniff;
use emma::ports::{Clock, ManualClock};
use emma::services::campaigns::{self, Audience, CampaignDraft, CampaignState};
use emma::services::{lists, sending, templates, tenants};

const BODY: &str = r#"<mjml><mj-body><mj-section><mj-column>
<mj-text>{{ contact.greeting }},</mj-text>
<mj-text>Unser Dezember-Newsletter: neue Konditionen, Termine in Ihrer Filiale
und ein Gewinnspiel. <a href="https://www.sparkasse-musterstadt.example/angebote">Zu den Angeboten</a></mj-text>
<mj-button href="https://www.sparkasse-musterstadt.example/termin">Termin vereinbaren</mj-button>
<mj-text><a href="{{ unsubscribe_url }}">Abmelden</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"#;

/// The peak resident memory of this process (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(campaign(count));
}

async fn campaign(count: usize) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data_dir = dir.path().to_string_lossy().into_owned();
    let config = Config::from_lookup(|name| match name {
        "EMMA_DATA_DIR" => Some(data_dir.clone()),
        "EMMA_LISTEN" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    })
    .expect("a local configuration");
    let clock = ManualClock::new(chrono::Utc::now());
    let built = bootstrap::build(config, Arc::new(clock.clone()))
        .await
        .expect("the local runtime");
    let app = built.app;

    let tenant = tenants::create(&app, TenantName::parse("Sparkasse Messlauf").unwrap())
        .await
        .expect("a tenant");
    let mut settings = tenant.settings.clone();
    settings.sender_domains = vec!["sparkasse-messlauf.example".to_owned()];
    settings.tracking = TrackingMode::PerPerson;
    tenants::update(
        &app,
        &tenant.id,
        tenants::TenantChange {
            settings: Some(settings),
            ..Default::default()
        },
    )
    .await
    .expect("the sender domain");
    app.mailer
        .register_identity("sparkasse-messlauf.example")
        .await
        .expect("the identity");
    let list = lists::create(&app, &tenant.id, "Newsletter").await.unwrap();

    let started = Instant::now();
    let mut file = String::with_capacity(count * 32);
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
    run(
        &app,
        &tenant.id,
        std::io::Cursor::new(file.into_bytes()),
        &plan,
        &mut report,
    )
    .await
    .expect("the import");
    let imported = started.elapsed();

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
        from_email: "newsletter@sparkasse-messlauf.example".to_owned(),
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

    let sending_started = Instant::now();
    assert_eq!(sending::start_due(&app).await.unwrap(), 1);
    let mut workers = Vec::new();
    for _ in 0..2 {
        let app = app.clone();
        workers.push(tokio::spawn(async move {
            loop {
                if emma::local::send_once(&app, Duration::from_millis(50))
                    .await
                    .unwrap_or(0)
                    == 0
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }));
    }
    loop {
        let state = campaigns::get(&app, &tenant.id, &campaign.id)
            .await
            .unwrap()
            .state;
        if state == CampaignState::Sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent_in = sending_started.elapsed();
    for worker in workers {
        worker.abort();
    }
    let progress = sending::progress(&app, &tenant.id, &campaign.id)
        .await
        .unwrap()
        .expect("a run");
    let t = progress.totals;
    println!(
        "campaign to {count} contacts, embedded default (SQLite, outbox files, in-process queue), 2 workers"
    );
    println!("  import:   {:>8.2} s", imported.as_secs_f64());
    println!(
        "  sending:  {:>8.2} s from the tick to 'sent' ({:.0} messages/s)",
        sent_in.as_secs_f64(),
        t.sent as f64 / sent_in.as_secs_f64()
    );
    println!(
        "  recipients {} sent {} failed {} skipped {} unknown {}",
        t.recipients, t.sent, t.failed, t.skipped, t.unknown
    );
    if let Some(peak) = peak_rss_mib() {
        println!("  peak memory (VmHWM): {peak:.0} MiB");
    }
}
