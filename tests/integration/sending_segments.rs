//! A campaign to a segment: its snapshot reads the tenant's contacts in id
//! order (consistent, whatever is renamed meanwhile), and everyone who
//! matches when the snapshot is taken gets the campaign once — also when
//! they are on a list of the same campaign.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use emma::domain::{ContactDraft, ContactStatus, EmailAddress, Language, TenantId, TrackingMode};
use emma::ports::{Clock, ManualClock};
use emma::services::campaigns::{self, Audience, CampaignDraft, CampaignState};
use emma::services::segments::{self, Condition, ConditionField, SegmentFilter};
use emma::services::{contacts, lists, sending, templates, tenants};
use emma_tests::app::{Adapters, spawn_with_clock};
use emma_tests::sent::{deliver_queued_jobs, messages_containing};

emma_tests::on_both_adapter_sets!(
    a_campaign_to_a_segment_reaches_each_matching_contact_once_and_nobody_else,
);

/// Contact `i` speaks German unless `i % 3 == 0`, is subscribed (else unconfirmed) unless
/// `i % 5 == 0`; the segment is "German and subscribed". Contacts below 10
/// are also on the campaign's list.
fn matches(i: usize) -> bool {
    !i.is_multiple_of(3) && !i.is_multiple_of(5)
}

fn address(i: usize) -> String {
    format!("segment{i:03}@example.org")
}

async fn a_campaign_to_a_segment_reaches_each_matching_contact_once_and_nobody_else(
    adapters: Adapters,
) {
    let clock = ManualClock::new(Utc::now());
    let test = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let app = test.app();
    app.mailer.register_identity("example.de").await.unwrap();
    let tenant = tenants::create(
        app,
        emma::domain::TenantName::parse("Sparkasse Segment").unwrap(),
    )
    .await
    .unwrap();
    let tenant_id: TenantId = tenant.id.clone();
    let mut settings = tenant.settings.clone();
    settings.sender_domains = vec!["example.de".to_owned()];
    tenants::update(
        app,
        &tenant_id,
        tenants::TenantChange {
            settings: Some(settings),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let list = lists::create(app, &tenant_id, "Newsletter").await.unwrap();
    for i in 0..60 {
        let mut draft = ContactDraft::new(EmailAddress::parse(&address(i)).unwrap());
        draft.language = if i.is_multiple_of(3) {
            Language::En
        } else {
            Language::De
        };
        draft.status = if i.is_multiple_of(5) {
            ContactStatus::Unconfirmed
        } else {
            ContactStatus::Subscribed
        };
        let contact = contacts::create(app, &tenant_id, draft).await.unwrap();
        if i < 10 && matches(i) {
            lists::add_member(app, &tenant_id, &list.id, &contact.id)
                .await
                .unwrap();
        }
    }
    let condition = |field, value: &str| Condition {
        field,
        attribute: None,
        op: "is".to_owned(),
        value: Some(serde_json::Value::String(value.to_owned())),
    };
    let segment = segments::create(
        app,
        &tenant_id,
        "Deutschsprachig",
        SegmentFilter {
            matching: Default::default(),
            conditions: vec![
                condition(ConditionField::Language, "de"),
                condition(ConditionField::Status, "subscribed"),
            ],
        },
    )
    .await
    .unwrap();
    let (template, _) = templates::create(
        app,
        &tenant_id,
        "Dezember",
        emma::content::template::TemplateSource {
            kind: emma::content::template::TemplateKind::Html,
            subject: "Neues".to_owned(),
            body: "<p>{{ contact.greeting }}</p><a href=\"{{ unsubscribe_url }}\">Abmelden</a>"
                .to_owned(),
            text: Some("Abmelden: {{ unsubscribe_url }}".to_owned()),
        },
    )
    .await
    .unwrap();
    let campaign = campaigns::create(
        app,
        &tenant_id,
        &CampaignDraft {
            name: "Dezember".to_owned(),
            template: template.id,
            template_version: None,
            subject: None,
            preheader: None,
            from_name: "Sparkasse Segment".to_owned(),
            from_email: "newsletter@example.de".to_owned(),
            reply_to: None,
            audience: Audience {
                lists: vec![list.id],
                segments: vec![segment.id],
            },
            tracking: TrackingMode::Off,
        },
    )
    .await
    .unwrap();
    campaigns::schedule(
        app,
        &tenant_id,
        &campaign.id,
        clock.now() + chrono::TimeDelta::minutes(5),
    )
    .await
    .unwrap();
    clock.advance(chrono::TimeDelta::minutes(6));
    assert_eq!(sending::start_due(app).await.unwrap(), 1);
    for _ in 0..200 {
        deliver_queued_jobs(&test).await;
        let state = campaigns::get(app, &tenant_id, &campaign.id)
            .await
            .unwrap()
            .state;
        if state == CampaignState::Sent {
            break;
        }
        sending::watch_active(app).await.unwrap();
    }
    let done = campaigns::get(app, &tenant_id, &campaign.id).await.unwrap();
    assert_eq!(done.state, CampaignState::Sent);

    let mut received: BTreeMap<String, u32> = BTreeMap::new();
    for raw in messages_containing(&test, &format!("X-EMMA-Campaign: {}", campaign.id)).await {
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let to = parsed
            .to()
            .and_then(|to| to.first())
            .and_then(|a| a.address());
        *received.entry(to.unwrap().to_owned()).or_default() += 1;
    }
    for i in 0..60 {
        let expected = u32::from(matches(i));
        assert_eq!(
            received.get(&address(i)).copied().unwrap_or(0),
            expected,
            "messages to contact {i}"
        );
    }
    let progress = sending::progress(app, &tenant_id, &campaign.id)
        .await
        .unwrap()
        .expect("a run");
    let expected = (0..60).filter(|i| matches(*i)).count() as u64;
    assert_eq!(progress.totals.recipients, expected);
    assert_eq!(progress.totals.sent, expected);
}
