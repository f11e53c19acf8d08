//! The data subject's rights on both adapter sets: the Art. 15 export (JSON
//! download and readable page) holds everything stored about a contact —
//! also what became of each campaign it was a recipient of — and nothing
//! of another tenant's; after an Art. 17 erasure the export is gone, the
//! suppression entry holds only the hash, a re-import of the address is
//! refused as suppressed, the audit log names no address, the send records
//! of finished campaigns are gone, and a campaign running meanwhile keeps
//! only a scrubbed record and never mails the contact.

use emma::domain::{ContactDraft, ContactId, ContactStatus, EmailAddress, Role, TenantId};
use emma::feedback::SesEvent;
use emma::import::mapping::ColumnMapping;
use emma::import::run::{ImportMode, ImportPlan, Report, run};
use emma::import::source::sniff;
use emma::ports::store::{Item, PutCondition, keys};
use emma::services::audit::{self, Filter};
use emma::services::feedback;
use emma::services::gdpr::ERASED_REASON;
use emma::services::sending::{self, RecordState, SendRecord};
use emma::services::{contacts, lists, suppressions};
use emma_tests::app::{Adapters, TestApp, spawn};
use emma_tests::http::Reply;
use http::{StatusCode, header};
use serde_json::json;

use crate::campaigns::tenant_with_sender;
use crate::sending::{Delivery, Fixture, sending_app};
use crate::skeleton::create_tenant;

const ADDRESS: &str = "erika.mustermann@example.de";
/// The other recipient of the campaigns below.
const NEIGHBOUR: &str = "max.mustermann@example.de";

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// A tenant with a subscribed contact on a list; answers both ids.
async fn person(app: &TestApp, name: &str) -> (TenantId, ContactId) {
    let tenant = TenantId::parse(&create_tenant(app, name).await).unwrap();
    let mut draft = ContactDraft::new(EmailAddress::parse(ADDRESS).unwrap());
    draft.status = ContactStatus::Subscribed;
    draft.first_name = Some(emma::domain::PersonName::parse("Erika").unwrap());
    let contact = contacts::create(app.app(), &tenant, draft)
        .await
        .unwrap()
        .id;
    let list = lists::create(app.app(), &tenant, "Newsletter Vorsorge")
        .await
        .unwrap();
    lists::add_member(app.app(), &tenant, &list.id, &contact)
        .await
        .unwrap();
    (tenant, contact)
}

/// A hard bounce of `recipient`, stored as the webhook stores it.
async fn delivery_event(app: &TestApp, tenant: &TenantId, recipient: &str, message: &str) {
    let at = app.app().clock.now().to_rfc3339();
    let event = json!({
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{ "emailAddress": recipient }],
            "timestamp": at,
            "feedbackId": format!("feedback-{message}"),
        },
        "mail": {
            "timestamp": at,
            "source": "newsletter@sparkasse.example",
            "messageId": message,
            "destination": [recipient],
            "tags": { "tenant": [tenant.as_str()] },
        },
    });
    let event = SesEvent::parse(&event.to_string()).unwrap();
    let recorded = feedback::record(app.app(), &event).await.unwrap();
    assert!(matches!(recorded, feedback::Recorded::Stored { .. }));
}

/// A consent record as the double opt-in stores it.
async fn consent_record(app: &TestApp, tenant: &TenantId, contact: &ContactId) {
    let record = json!({
        "id": "0193a0b0-0000-7000-8000-000000000001",
        "kind": "signup",
        "at": "2026-11-01T10:00:00Z",
        "contact": contact.to_string(),
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
        "consent_text": "Ja, ich möchte den Newsletter der Sparkasse erhalten.",
    });
    let key = keys::consent_record(tenant, contact, "2026-11-01T10:00:00.000000Z#01");
    app.app()
        .store
        .put(Item::new(key, &record).unwrap(), PutCondition::Always)
        .await
        .unwrap();
}

async fn the_export_holds_everything_stored_about_the_contact(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, contact) = person(&app, "Sparkasse Auskunft").await;
    delivery_event(&app, &tenant, ADDRESS, "msg-erika").await;
    delivery_event(&app, &tenant, "jemand.anderes@example.de", "msg-other").await;
    consent_record(&app, &tenant, &contact).await;
    let editor = app.signed_in(Role::Editor, Some(tenant.as_str())).await;
    suppressions::add_address(
        app.app(),
        &tenant,
        &EmailAddress::parse(ADDRESS).unwrap(),
        app.create_user(Role::Editor, Some(tenant.as_str()))
            .await
            .id,
    )
    .await
    .unwrap();

    let reply = editor
        .get(&format!("/api/tenants/{tenant}/contacts/{contact}/data"))
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(
        reply.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"auskunft-{contact}.json\"")
    );
    let data = &reply.json;
    assert_eq!(data["contact"]["email"], ADDRESS);
    assert_eq!(data["contact"]["first_name"], "Erika");
    assert_eq!(data["contact"]["status"], "subscribed");
    assert_eq!(data["contact"]["attributes"], json!({}));
    assert_eq!(data["lists"][0]["name"], "Newsletter Vorsorge");
    assert_eq!(data["suppression"]["reason"], "manual");
    let events = data["delivery_events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{data}");
    assert_eq!(events[0]["provider_message_id"], "msg-erika");
    assert_eq!(data["consent"][0]["ip"], "203.0.113.7");
    // No campaign went to the contact yet.
    assert_eq!(data["sending"], json!([]), "{data}");
    assert!(
        data["audit_log"]["note"]
            .as_str()
            .unwrap()
            .contains(contact.as_str())
    );
    // Fetching it is on the record, naming the contact by id only.
    let filter = Filter {
        action_prefix: Some("contact.data_export".to_owned()),
        ..Filter::default()
    };
    let (entries, _) = audit::list(app.app(), Some(&tenant), &filter, 10, None)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].object.as_deref(), Some(contact.as_str()));
}

async fn the_page_is_readable_in_german_and_offers_the_json_download(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, contact) = person(&app, "Sparkasse Seite").await;
    consent_record(&app, &tenant, &contact).await;
    let editor = app.signed_in(Role::Editor, Some(tenant.as_str())).await;

    let page = editor.get(&format!("/kontakte/{contact}/auskunft")).await;

    assert_eq!(page.status, StatusCode::OK, "{}", text(&page));
    let html = text(&page);
    for shown in [
        "Datenauskunft für erika.mustermann@example.de",
        "Newsletter Vorsorge",
        "Nicht auf der Sperrliste.",
        "Ja, ich möchte den Newsletter der Sparkasse erhalten.",
        "203.0.113.7",
        "Änderungsprotokoll",
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }
    assert!(html.contains(&format!("/api/tenants/{tenant}/contacts/{contact}/data")));
    // A viewer may read contacts, but not the whole Art. 15 document.
    let viewer = app.signed_in(Role::Viewer, Some(tenant.as_str())).await;
    let refused = viewer.get(&format!("/kontakte/{contact}/auskunft")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn another_tenants_contact_is_not_found(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant_a, _) = person(&app, "Sparkasse Nord").await;
    let (tenant_b, contact_b) = person(&app, "Sparkasse Süd").await;
    let editor_a = app.signed_in(Role::Editor, Some(tenant_a.as_str())).await;

    let under_a = editor_a
        .get(&format!(
            "/api/tenants/{tenant_a}/contacts/{contact_b}/data"
        ))
        .await;
    let under_b = editor_a
        .get(&format!(
            "/api/tenants/{tenant_b}/contacts/{contact_b}/data"
        ))
        .await;
    let page = editor_a
        .get(&format!("/kontakte/{contact_b}/auskunft"))
        .await;

    for reply in [&under_a, &under_b, &page] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", text(reply));
        assert!(!text(reply).contains(ADDRESS));
    }
}

async fn after_erasure_only_the_hash_is_left_and_the_address_cannot_come_back(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, contact) = person(&app, "Sparkasse Löschung").await;
    delivery_event(&app, &tenant, ADDRESS, "msg-before-erasure").await;
    consent_record(&app, &tenant, &contact).await;
    let editor = app.signed_in(Role::Editor, Some(tenant.as_str())).await;

    let erased = editor
        .post_json(
            &format!("/api/tenants/{tenant}/contacts/{contact}/erase"),
            &json!({}),
        )
        .await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT, "{}", erased.json);

    // Art. 15: nothing left to tell.
    let export = editor
        .get(&format!("/api/tenants/{tenant}/contacts/{contact}/data"))
        .await;
    assert_eq!(export.status, StatusCode::NOT_FOUND);
    assert!(!text(&export).contains(ADDRESS));
    // Its delivery events and consent evidence are gone with it.
    let events = feedback::of_contact(app.app(), &tenant, &contact)
        .await
        .unwrap();
    assert!(events.is_empty(), "{events:?}");
    let evidence = emma::services::consent::records(app.app(), &tenant, &contact)
        .await
        .unwrap();
    assert!(evidence.is_empty(), "{evidence:?}");
    // The suppression entry: the hash alone.
    let (entries, _) = suppressions::list(app.app(), &tenant, 100, None)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, contact);
    assert_eq!(entries[0].email, None);
    assert_eq!(entries[0].reason, suppressions::SuppressionReason::Erased);
    // Neither staff nor an import bring the address back.
    let again = editor
        .post_json(
            &format!("/api/tenants/{tenant}/contacts"),
            &json!({ "email": ADDRESS, "status": "subscribed" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.json);
    let file = format!("E-Mail;Vorname\n{};Erika\n", ADDRESS.to_uppercase());
    let sniffed = sniff(file.as_bytes(), 5).unwrap();
    let plan = ImportPlan {
        encoding: sniffed.encoding,
        separator: sniffed.separator,
        mapping: ColumnMapping::suggest(&sniffed.header).unwrap(),
        mode: ImportMode::AddOrUpdate,
        new_status: ContactStatus::Subscribed,
        list: None,
    };
    let mut report = Report::new(Vec::new()).unwrap();
    let progress = run(
        app.app(),
        &tenant,
        std::io::Cursor::new(file.into_bytes()),
        &plan,
        &mut report,
    )
    .await
    .unwrap();
    assert_eq!((progress.added, progress.skipped), (0, 1));
    let report = String::from_utf8(report.finish().unwrap()).unwrap();
    assert!(report.contains("Sperrliste"), "{report}");
    assert!(matches!(
        contacts::get(app.app(), &tenant, &contact).await,
        Err(contacts::ContactError::NotFound)
    ));
    // The audit log records the erasure by id, with no address anywhere.
    let (log, _) = audit::list(app.app(), Some(&tenant), &Filter::default(), 100, None)
        .await
        .unwrap();
    let erasure = log
        .iter()
        .find(|e| e.action == "contact.erase")
        .expect("the erasure is on record");
    assert_eq!(erasure.object.as_deref(), Some(contact.as_str()));
    let whole_log = serde_json::to_string(&log).unwrap().to_lowercase();
    assert!(!whole_log.contains("erika.mustermann"), "{whole_log}");
}

/// A campaign to Erika and her neighbour (one list), started by the tick,
/// on the shared campaign fixture.
struct Mailing {
    run: Fixture,
    erika: ContactId,
}

impl std::ops::Deref for Mailing {
    type Target = Fixture;

    fn deref(&self) -> &Fixture {
        &self.run
    }
}

async fn subscribed(app: &emma::App, tenant: &TenantId, address: &str) -> ContactId {
    let mut draft = ContactDraft::new(EmailAddress::parse(address).unwrap());
    draft.status = ContactStatus::Subscribed;
    contacts::create(app, tenant, draft).await.unwrap().id
}

async fn mailing(adapters: Adapters, institute: &str) -> Mailing {
    let s = sending_app(adapters, None, |_| {}).await;
    let (tenant, editor) = tenant_with_sender(&s.test, institute).await;
    let tenant_id = TenantId::parse(&tenant).unwrap();
    let erika = subscribed(&s.app, &tenant_id, ADDRESS).await;
    let neighbour = subscribed(&s.app, &tenant_id, NEIGHBOUR).await;
    let list = lists::create(&s.app, &tenant_id, "Newsletter Vorsorge")
        .await
        .unwrap()
        .id;
    for member in [&erika, &neighbour] {
        lists::add_member(&s.app, &tenant_id, &list, member)
            .await
            .unwrap();
    }
    let campaign = s.schedule(&editor, &tenant, &[&list.to_string()], 1).await;
    s.clock.advance(chrono::TimeDelta::hours(2));
    assert_eq!(sending::start_due(&s.app).await.unwrap(), 1);
    Mailing {
        run: Fixture {
            sending: s,
            tenant: tenant_id,
            campaign,
            ids: vec![erika.clone(), neighbour],
        },
        erika,
    }
}

impl Mailing {
    /// An editor signed in now (the clock moved past the setup's session).
    async fn editor(&self) -> emma_tests::http::Client {
        self.test
            .signed_in(Role::Editor, Some(self.tenant.as_str()))
            .await
    }

    async fn erika_record(&self) -> Option<SendRecord> {
        self.app
            .store
            .get(&keys::campaign_recipient(
                &self.tenant,
                &self.campaign,
                &self.erika,
            ))
            .await
            .unwrap()
            .map(|stored| stored.item.parse().unwrap())
    }

    async fn erase_erika(&self) {
        let erased = self
            .editor()
            .await
            .post_json(
                &format!("/api/tenants/{}/contacts/{}/erase", self.tenant, self.erika),
                &json!({}),
            )
            .await;
        assert_eq!(erased.status, StatusCode::NO_CONTENT, "{}", erased.json);
    }
}

async fn the_export_names_each_campaign_the_contact_was_a_recipient_of_with_its_state(
    adapters: Adapters,
) {
    let mailing = mailing(adapters, "Sparkasse Mailings").await;
    mailing.send_all(Delivery::Once).await;
    assert_eq!(mailing.mailer.delivered(ADDRESS), 1);
    let editor = mailing.editor().await;

    let reply = editor
        .get(&format!(
            "/api/tenants/{}/contacts/{}/data",
            mailing.tenant, mailing.erika
        ))
        .await;
    let page = editor
        .get(&format!("/kontakte/{}/auskunft", mailing.erika))
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let sent = reply.json["sending"].as_array().unwrap();
    assert_eq!(sent.len(), 1, "{}", reply.json);
    assert_eq!(sent[0]["campaign_id"], mailing.campaign.to_string());
    assert_eq!(sent[0]["campaign_name"], "Dezember-Newsletter");
    assert_eq!(sent[0]["state"], "sent");
    assert_eq!(sent[0]["reason"], serde_json::Value::Null);
    assert!(sent[0]["updated_at"].is_string());
    assert!(!sent[0]["message_id"].as_str().unwrap().is_empty());
    assert_eq!(page.status, StatusCode::OK, "{}", text(&page));
    let html = text(&page);
    let table = html
        .split("id=\"data-sending\"")
        .nth(1)
        .expect("the page lists the mailings");
    assert!(table.contains("Dezember-Newsletter"), "{table}");
    assert!(table.contains("Gesendet"), "{table}");
}

async fn erasure_deletes_the_send_records_of_finished_campaigns(adapters: Adapters) {
    let mailing = mailing(adapters, "Sparkasse Vergessen").await;
    mailing.send_all(Delivery::Once).await;
    assert!(mailing.erika_record().await.is_some());
    let (before, _) = mailing.progress_totals().await;

    mailing.erase_erika().await;

    assert_eq!(mailing.erika_record().await, None);
    // The campaign's report keeps its count, which names nobody.
    let (after, exact) = mailing.progress_totals().await;
    assert!(exact);
    assert_eq!(after, before);
    assert_eq!(after.sent, 2);
}

async fn a_campaign_running_during_the_erasure_keeps_only_a_scrubbed_record_and_never_mails_the_contact(
    adapters: Adapters,
) {
    let mailing = mailing(adapters, "Sparkasse Laufend").await;
    mailing.take_snapshot().await;
    let queued = mailing.erika_record().await.expect("Erika is a recipient");
    assert_eq!(queued.state, RecordState::Queued);

    mailing.erase_erika().await;

    let scrubbed = mailing.erika_record().await.expect("her place is held");
    assert_eq!(scrubbed.state, RecordState::Skipped);
    assert_eq!(scrubbed.reason.as_deref(), Some(ERASED_REASON));
    assert_eq!((scrubbed.message_id, scrubbed.claim), (None, None));
    // The live counters move with it.
    let (live, exact) = mailing.progress_totals().await;
    assert!(!exact);
    assert_eq!((live.recipients, live.queued, live.skipped), (2, 1, 1));

    mailing.send_all(Delivery::Once).await;

    assert_eq!(mailing.mailer.delivered(ADDRESS), 0);
    assert_eq!(mailing.mailer.delivered(NEIGHBOUR), 1);
    let (totals, exact) = mailing.progress_totals().await;
    assert!(exact);
    assert_eq!(
        (
            totals.recipients,
            totals.sent,
            totals.skipped,
            totals.queued
        ),
        (2, 1, 1, 0)
    );
    let left = mailing.erika_record().await.expect("the scrubbed record");
    assert_eq!(left.state, RecordState::Skipped);
    assert_eq!(left.reason.as_deref(), Some(ERASED_REASON));
    assert_eq!(left.message_id, None);
}

async fn a_running_campaigns_record_of_a_message_already_sent_loses_its_message_id_and_the_counters_follow(
    adapters: Adapters,
) {
    let mailing = mailing(adapters, "Sparkasse Zwischenstand").await;
    mailing.take_snapshot().await;
    // Erika's message went out before the erasure (as the worker records it).
    let key = keys::campaign_recipient(&mailing.tenant, &mailing.campaign, &mailing.erika);
    let stored = mailing.app.store.get(&key).await.unwrap().unwrap();
    let mut record: SendRecord = stored.item.parse().unwrap();
    record.state = RecordState::Sent;
    record.message_id = Some("msg-erika-campaign".to_owned());
    let item = Item::new(key, &record).unwrap();
    mailing
        .app
        .store
        .put(item, PutCondition::Version(stored.version))
        .await
        .unwrap();
    mailing
        .app
        .store
        .add(
            &keys::campaign_progress(&mailing.tenant, &mailing.campaign),
            &[("sent", 1)],
        )
        .await
        .unwrap();

    mailing.erase_erika().await;

    let scrubbed = mailing.erika_record().await.expect("her place is held");
    assert_eq!(scrubbed.state, RecordState::Skipped);
    assert_eq!(scrubbed.reason.as_deref(), Some(ERASED_REASON));
    assert_eq!(scrubbed.message_id, None);
    let (live, _) = mailing.progress_totals().await;
    assert_eq!(
        (live.recipients, live.queued, live.sent, live.skipped),
        (2, 1, 0, 1)
    );
    mailing.send_all(Delivery::Once).await;
    assert_eq!(mailing.mailer.delivered(ADDRESS), 0);
    assert_eq!(mailing.mailer.delivered(NEIGHBOUR), 1);
    let (totals, exact) = mailing.progress_totals().await;
    assert!(exact);
    assert_eq!((totals.recipients, totals.sent, totals.skipped), (2, 1, 1));
}

emma_tests::on_both_adapter_sets!(
    the_export_holds_everything_stored_about_the_contact,
    the_page_is_readable_in_german_and_offers_the_json_download,
    another_tenants_contact_is_not_found,
    after_erasure_only_the_hash_is_left_and_the_address_cannot_come_back,
    the_export_names_each_campaign_the_contact_was_a_recipient_of_with_its_state,
    erasure_deletes_the_send_records_of_finished_campaigns,
    a_campaign_running_during_the_erasure_keeps_only_a_scrubbed_record_and_never_mails_the_contact,
    a_running_campaigns_record_of_a_message_already_sent_loses_its_message_id_and_the_counters_follow,
);
