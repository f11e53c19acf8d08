//! Tests of the campaign pages (Kampagnen): driven through `routes()` on an
//! app built by the real bootstrap in a temporary folder, with the
//! principal the access guard would insert put in place by a test layer.

use axum::http::StatusCode;

use crate::content::template::{TemplateKind, TemplateSource};
use crate::domain::{CampaignId, ContactDraft, ContactStatus, EmailAddress, Role, Tenant};
use crate::services::{campaigns, contacts, lists, templates, tenants};

use super::i18n::{self, Lang};
use super::page_tests::{TestApp, get, local_app, local_app_at, post_form, send};

/// A tenant sending from example.de, with a template and a list holding
/// one subscribed contact; answers the template's and the list's ids.
async fn ready(t: &TestApp, tenant: &Tenant) -> (String, String) {
    let mut settings = tenant.settings.clone();
    settings.sender_domains = vec!["example.de".to_owned()];
    tenants::update(
        &t.app,
        &tenant.id,
        tenants::TenantChange {
            settings: Some(settings),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (template, _) = templates::create(
        &t.app,
        &tenant.id,
        "Dezember",
        TemplateSource {
            kind: TemplateKind::Html,
            subject: "Neues".into(),
            body: "<p>{{ contact.greeting }}</p><a href=\"{{ unsubscribe_url }}\">Abmelden</a>"
                .into(),
            text: Some("Abmelden: {{ unsubscribe_url }}".into()),
        },
    )
    .await
    .unwrap();
    let list = lists::create(&t.app, &tenant.id, "Newsletter")
        .await
        .unwrap();
    let mut draft = ContactDraft::new(EmailAddress::parse("anna@example.de").unwrap());
    draft.status = ContactStatus::Subscribed;
    let anna = contacts::create(&t.app, &tenant.id, draft).await.unwrap();
    lists::add_member(&t.app, &tenant.id, &list.id, &anna.id)
        .await
        .unwrap();
    (template.id.to_string(), list.id.to_string())
}

fn wizard<'a>(template: &'a str, list: &'a str, local: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Dezember-Newsletter"),
        ("template_id", template),
        ("subject", ""),
        ("preheader", "Alles zum Jahresende"),
        ("from_name", "Sparkasse Musterstadt"),
        ("from_local", local),
        ("from_domain", "example.de"),
        ("reply_to", ""),
        ("listen", list),
        ("tracking", "aggregate"),
    ]
}

#[tokio::test]
async fn an_editor_writes_counts_schedules_pauses_resumes_and_cancels_a_campaign() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Kampagnen").await;
    let (template, list) = ready(&t, &tenant).await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);

    let new = send(&pages, get("/kampagnen/neu")).await;
    assert_eq!(new.status, StatusCode::OK);
    assert!(new.body.contains("Dezember (Version 1)"));
    assert!(new.body.contains("<option value=\"example.de\""));
    assert!(
        new.body
            .contains(&format!("name=\"listen\" value=\"{list}\""))
    );

    let counted = send(
        &pages,
        post_form(
            "/kampagnen/zaehlen",
            &wizard(&template, &list, "newsletter"),
        ),
    )
    .await;
    assert_eq!(counted.status, StatusCode::OK);
    assert!(counted.body.contains("1 Empfänger (angemeldet"));
    assert!(campaigns::all(&t.app, &tenant.id).await.unwrap().is_empty());

    let bad = send(
        &pages,
        post_form("/kampagnen", &wizard(&template, &list, "kein platz")),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"campaign-error\""));
    assert!(
        bad.body.contains("value=\"kein platz\""),
        "the input is kept"
    );

    let created = send(
        &pages,
        post_form("/kampagnen", &wizard(&template, &list, "newsletter")),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = created
        .location()
        .strip_prefix("/kampagnen/")
        .and_then(|r| r.strip_suffix("?hinweis=angelegt"))
        .unwrap()
        .to_owned();
    let page = send(&pages, get(&format!("/kampagnen/{id}"))).await;
    assert!(page.body.contains("state-draft\">Entwurf"));
    assert!(page.body.contains("1 Empfänger"));
    assert!(page.body.contains("<form id=\"campaign-schedule\""));

    let past = send(
        &pages,
        post_form(
            &format!("/kampagnen/{id}/planen"),
            &[("zeitpunkt", "2020-01-01T09:00")],
        ),
    )
    .await;
    assert_eq!(past.status, StatusCode::BAD_REQUEST);
    assert!(past.body.contains("liegt in der Vergangenheit"));
    let planned = send(
        &pages,
        post_form(
            &format!("/kampagnen/{id}/planen"),
            &[("zeitpunkt", "2099-12-01T09:00")],
        ),
    )
    .await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.body);
    let page = send(&pages, get(&format!("/kampagnen/{id}?hinweis=geplant"))).await;
    assert!(page.body.contains("state-scheduled\">Geplant"));
    assert!(page.body.contains("01.12.2099"), "shown in Berlin time");
    assert!(page.body.contains("09:00"), "shown in Berlin time");

    // Editing a scheduled campaign makes it a draft again.
    let edit = send(&pages, get(&format!("/kampagnen/{id}/bearbeiten"))).await;
    assert!(
        edit.body
            .contains("Wer sie ändert, macht sie wieder zum Entwurf")
    );
    let saved = send(
        &pages,
        post_form(
            &format!("/kampagnen/{id}/bearbeiten"),
            &wizard(&template, &list, "info"),
        ),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stored = campaigns::get(&t.app, &tenant.id, &CampaignId::parse(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(stored.state, campaigns::CampaignState::Draft);
    assert_eq!(stored.from_email.as_str(), "info@example.de");

    // Pausing a draft is refused; the lifecycle goes on from scheduled.
    let refused = send(
        &pages,
        post_form(&format!("/kampagnen/{id}/pausieren"), &[]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    send(
        &pages,
        post_form(
            &format!("/kampagnen/{id}/planen"),
            &[("zeitpunkt", "2099-12-01T09:00")],
        ),
    )
    .await;
    for (action, state) in [
        ("pausieren", "Pausiert"),
        ("fortsetzen", "Geplant"),
        ("abbrechen", "Abgebrochen"),
    ] {
        let done = send(&pages, post_form(&format!("/kampagnen/{id}/{action}"), &[])).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{action}");
        let page = send(&pages, get(&format!("/kampagnen/{id}"))).await;
        assert!(
            page.body.contains(&format!("\">{state}</span>")),
            "{action}"
        );
    }
    let list_page = send(&pages, get("/kampagnen")).await;
    assert!(list_page.body.contains("Dezember-Newsletter"));
    assert!(list_page.body.contains("Abgebrochen"));
}

#[tokio::test]
async fn a_viewer_follows_campaigns_but_may_not_write_or_schedule_them() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Lesend").await;
    let (template, list) = ready(&t, &tenant).await;
    let editor = t.user(Role::Editor, &tenant).await;
    let created = send(
        &t.pages_of(&editor),
        post_form("/kampagnen", &wizard(&template, &list, "newsletter")),
    )
    .await;
    let id = created
        .location()
        .strip_prefix("/kampagnen/")
        .and_then(|r| r.strip_suffix("?hinweis=angelegt"))
        .unwrap()
        .to_owned();
    let viewer = t.user(Role::Viewer, &tenant).await;
    let pages = t.pages_of(&viewer);
    let list_page = send(&pages, get("/kampagnen")).await;
    assert!(list_page.body.contains("Dezember-Newsletter"));
    assert!(!list_page.body.contains("href=\"/kampagnen/neu\""));
    let page = send(&pages, get(&format!("/kampagnen/{id}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<form id=\"campaign-schedule\""));
    let refused = send(
        &pages,
        post_form(
            &format!("/kampagnen/{id}/planen"),
            &[("zeitpunkt", "2099-12-01T09:00")],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&pages, get("/kampagnen/neu")).await.status,
        StatusCode::FORBIDDEN
    );
}

#[test]
fn every_campaign_message_chosen_at_run_time_is_in_both_catalogues() {
    let states = [
        "draft",
        "scheduled",
        "sending",
        "paused",
        "sent",
        "cancelled",
    ]
    .map(|s| format!("campaigns-state-{s}"));
    let trackings = ["off", "aggregate", "per_person"].map(|m| format!("campaigns-tracking-{m}"));
    let notices = [
        "campaigns-notice-created",
        "campaigns-notice-saved",
        "campaigns-notice-scheduled",
        "campaigns-notice-paused",
        "campaigns-notice-resumed",
        "campaigns-notice-cancelled",
        "campaigns-problem-past",
        "campaigns-problem-time",
        "campaigns-problem-empty-audience",
        "campaigns-problem-content",
    ]
    .map(str::to_owned);
    for id in states.iter().chain(&trackings).chain(&notices) {
        for lang in Lang::ALL {
            assert!(i18n::has(lang, id), "{id} missing in {lang:?}");
        }
    }
}

#[tokio::test]
async fn the_campaign_page_shows_how_the_sending_went() {
    use crate::ports::{Clock, ManualClock};
    let clock = ManualClock::new(chrono::Utc::now());
    let t = local_app_at(std::sync::Arc::new(clock.clone())).await;
    let tenant = t.tenant("Sparkasse Versand").await;
    let (template, list) = ready(&t, &tenant).await;
    t.app.mailer.register_identity("example.de").await.unwrap();
    let draft = campaigns::CampaignDraft {
        name: "Dezember-Newsletter".to_owned(),
        template: crate::domain::TemplateId::parse(&template).unwrap(),
        template_version: None,
        subject: None,
        preheader: None,
        from_name: "Sparkasse Versand".to_owned(),
        from_email: "newsletter@example.de".to_owned(),
        reply_to: None,
        audience: campaigns::Audience {
            lists: vec![crate::domain::ListId::parse(&list).unwrap()],
            segments: Vec::new(),
        },
        tracking: crate::domain::TrackingMode::Aggregate,
    };
    let campaign = campaigns::create(&t.app, &tenant.id, &draft).await.unwrap();
    campaigns::schedule(
        &t.app,
        &tenant.id,
        &campaign.id,
        clock.now() + chrono::TimeDelta::minutes(5),
    )
    .await
    .unwrap();
    let viewer = t.user(Role::Viewer, &tenant).await;
    let pages = t.pages_of(&viewer);
    let path = format!("/kampagnen/{}", campaign.id);
    // Before the start there is nothing to show yet.
    let page = send(&pages, get(&path)).await;
    assert!(!page.body.contains("id=\"campaign-sending\""));

    clock.advance(chrono::TimeDelta::minutes(6));
    assert_eq!(
        crate::services::sending::start_due(&t.app).await.unwrap(),
        1
    );
    for _ in 0..50 {
        let state = campaigns::get(&t.app, &tenant.id, &campaign.id)
            .await
            .unwrap()
            .state;
        if state == campaigns::CampaignState::Sent {
            break;
        }
        let worked = crate::local::send_once(&t.app, std::time::Duration::from_millis(20))
            .await
            .unwrap();
        if worked == 0 {
            crate::services::sending::watch_active(&t.app)
                .await
                .unwrap();
        }
    }
    let page = send(&pages, get(&path)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("state-sent\">Versandt"), "{}", page.body);
    assert!(page.body.contains("<table id=\"campaign-sending\""));
    assert!(page.body.contains(">Versand</h2>"));
    assert!(page.body.contains("<td id=\"sending-recipients\">1</td>"));
    assert!(page.body.contains("<td id=\"sending-sent\">1</td>"));
    assert!(page.body.contains("<td id=\"sending-unknown\">0</td>"));
    assert!(!page.body.contains("id=\"campaign-problems\""));
}
