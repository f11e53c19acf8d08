//! Tracking on both adapter sets: a campaign's messages, made by
//! `Prepared`, are followed through the router — each tracked link
//! redirects to the destination stored in the campaign's link table (never
//! to one taken from the request) and the open pixel answers a GIF. Per
//! person, a second open or click counts in the totals but not again as
//! unique, and the first ones are filed under the contact (in the Art. 15
//! export); aggregate tracking counts without saying who; an altered token,
//! a token of one tenant naming another's campaign and a deleted campaign
//! lead nowhere and record nothing; a tenant that turned tracking off still
//! redirects but records nothing.

use emma::content::links::LinkKey;
use emma::content::message::{CampaignMail, OPEN_LINK, Prepared, Recipient};
use emma::content::template::{TemplateKind, TemplateSource, compile};
use emma::domain::{CampaignId, ContactId, ContactStatus, EmailAddress, TenantId, TrackingMode};
use emma::ports::store::keys;
use emma::services::{contacts, tenants, tracking, unsubscribe};
use emma_tests::app::{Adapters, TestApp, spawn};
use emma_tests::http::{Client, Reply, get};
use http::{StatusCode, header};
use serde_json::json;

use crate::campaigns::{campaign, contact, created, list_of, template, tenant_with_sender};

emma_tests::on_both_adapter_sets!(
    per_person_links_redirect_to_the_stored_destination_and_count_unique_once,
    aggregate_tracking_counts_without_saying_who,
    an_altered_token_leads_nowhere_and_records_nothing,
    a_token_of_one_tenant_never_reaches_another_tenants_campaign,
    a_deleted_campaign_leads_nowhere_and_a_tenant_without_tracking_records_nothing,
);

const BODY: &str = r#"<html><body><p>{{ contact.greeting }},</p>
<p><a href="https://sparkasse.example/aktion?id=1&amp;q=zins">Zur Aktion</a></p>
<p><a href="https://sparkasse.example/filialen">Filialen</a></p>
<p><a href="{{ unsubscribe_url }}">Abmelden</a></p>
</body></html>"#;
const TEXT: &str = "Zur Aktion: https://sparkasse.example/aktion?id=1&q=zins\n\
    Abmelden: {{ unsubscribe_url }}\n";
const AKTION: &str = "https://sparkasse.example/aktion?id=1&q=zins";
const FILIALEN: &str = "https://sparkasse.example/filialen";

/// A campaign of a tenant that tracks as `mode`, sent (its link table
/// stored) to two subscribed contacts.
struct Sent {
    tenant: TenantId,
    campaign: CampaignId,
    prepared: Prepared,
    people: Vec<ContactId>,
}

async fn set_tracking(app: &TestApp, tenant: &TenantId, mode: TrackingMode) {
    let mut settings = tenants::get(app.app(), tenant).await.unwrap().settings;
    settings.tracking = mode;
    tenants::update(
        app.app(),
        tenant,
        tenants::TenantChange {
            settings: Some(settings),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

async fn sent(app: &TestApp, name: &str, mode: TrackingMode) -> Sent {
    let (tenant, editor): (String, Client) = tenant_with_sender(app, name).await;
    let tenant_id = TenantId::parse(&tenant).unwrap();
    set_tracking(app, &tenant_id, mode).await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let mut people = Vec::new();
    for who in ["erika", "hans"] {
        let email = format!("{who}-{suffix}@example.de");
        let id = contact(app, &tenant, &email, ContactStatus::Subscribed).await;
        people.push(id);
    }
    let members: Vec<&str> = people.iter().map(String::as_str).collect();
    let list = list_of(app, &tenant, &members).await;
    let template_id = template(&editor, &tenant, BODY).await;
    let mut body = campaign(&template_id, &[&list]);
    body["tracking"] = json!(match mode {
        TrackingMode::Off => "off",
        TrackingMode::Aggregate => "aggregate",
        TrackingMode::PerPerson => "per_person",
    });
    let made = created(&editor, &tenant, &body).await;
    let campaign_id = made["id"].as_str().unwrap();
    let campaign = CampaignId::parse(campaign_id).unwrap();

    let source = TemplateSource {
        kind: TemplateKind::Html,
        subject: "Neues".into(),
        body: BODY.into(),
        text: Some(TEXT.into()),
    };
    let mail = CampaignMail {
        tenant: tenant_id.clone(),
        campaign: uuid::Uuid::parse_str(campaign_id).unwrap(),
        from_name: "Sparkasse Musterstadt".into(),
        from: EmailAddress::parse("newsletter@example.de").unwrap(),
        reply_to: None,
        tracking: mode,
        public_url: app.app().settings.public_url.clone(),
        unsubscribe_mailto: EmailAddress::parse("abmelden@example.de").unwrap(),
        message_id_domain: "example.de".into(),
        headers: Vec::new(),
    };
    let prepared = Prepared::new(
        compile(&source).unwrap(),
        &mail,
        &LinkKey::new(&app.app().pseudonyms),
    )
    .unwrap();
    tracking::store_links(app.app(), &tenant_id, &campaign, prepared.links())
        .await
        .unwrap();
    Sent {
        tenant: tenant_id,
        campaign,
        prepared,
        people: people
            .iter()
            .map(|id| ContactId::parse(id).unwrap())
            .collect(),
    }
}

/// The decoded HTML part of `who`'s message.
async fn html_of(app: &TestApp, sent: &Sent, who: &ContactId) -> String {
    let person = contacts::get(app.app(), &sent.tenant, who).await.unwrap();
    let token = unsubscribe::token(app.app(), &sent.tenant, who);
    let values = emma::content::context::for_contact(&person, "", "Sparkasse");
    let recipient = Recipient {
        contact: who,
        to: &person.email,
        name: None,
        unsubscribe_token: &token,
        context: &values,
    };
    let built = sent.prepared.message(&recipient, 0).unwrap();
    let parsed = mail_parser::MessageParser::default()
        .parse(&built.raw)
        .expect("valid MIME");
    parsed.body_html(0).unwrap().into_owned()
}

/// The paths (below the public URL) of the URLs in `html` that start with
/// `{public_url}{kind}`, in order.
fn paths(app: &TestApp, html: &str, kind: &str) -> Vec<String> {
    let public = app.app().settings.public_url.as_str().trim_end_matches('/');
    let start = format!("{public}/{kind}");
    html.match_indices(&start)
        .map(|(at, _)| {
            let rest = &html[at + public.len()..];
            rest[..rest.find(['"', '\'']).unwrap()].to_owned()
        })
        .collect()
}

fn assert_redirect(reply: &Reply, to: &str) {
    assert_eq!(reply.status, StatusCode::FOUND, "{:?}", reply.headers);
    assert_eq!(reply.headers[header::LOCATION], to);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(reply.headers[header::REFERRER_POLICY], "no-referrer");
}

fn assert_pixel(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type, "image/gif");
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store, max-age=0");
    assert_eq!(reply.body.len(), 43);
    assert!(reply.body.starts_with(b"GIF89a"));
}

fn assert_nowhere(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.headers.get(header::LOCATION).is_none());
    assert!(
        reply.content_type.starts_with("text/html"),
        "{}",
        reply.content_type
    );
    let page = String::from_utf8_lossy(&reply.body);
    assert!(
        page.contains("Dieser Link führt nicht mehr weiter"),
        "{page}"
    );
}

async fn counts(app: &TestApp, sent: &Sent) -> tracking::TrackingStats {
    tracking::stats(app.app(), &sent.tenant, &sent.campaign)
        .await
        .unwrap()
}

async fn per_person_links_redirect_to_the_stored_destination_and_count_unique_once(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let sent = sent(&app, "Sparkasse Klick", TrackingMode::PerPerson).await;
    assert_eq!(sent.prepared.links(), [AKTION, FILIALEN]);
    let router = app.router();
    let (erika, hans) = (&sent.people[0], &sent.people[1]);
    let erika_html = html_of(&app, &sent, erika).await;
    let hans_html = html_of(&app, &sent, hans).await;
    let erika_links = paths(&app, &erika_html, "k/");
    let hans_links = paths(&app, &hans_html, "k/");
    assert_eq!(erika_links.len(), 2, "{erika_html}");
    assert_ne!(erika_links, hans_links, "per person: each has their own");
    let erika_pixel = paths(&app, &erika_html, "o/");
    let hans_pixel = paths(&app, &hans_html, "o/");
    assert_eq!(erika_pixel.len(), 1, "{erika_html}");

    // Opens: Erika twice, Hans once.
    for path in [&erika_pixel[0], &erika_pixel[0], &hans_pixel[0]] {
        assert_pixel(&get(&router, path).await);
    }
    // Clicks: Erika the offer twice and the branches once, Hans the offer.
    assert_redirect(&get(&router, &erika_links[0]).await, AKTION);
    // A destination in the request is never followed.
    let evil = format!(
        "{}?url=https://evil.example/&to=https://evil.example/",
        erika_links[0]
    );
    assert_redirect(&get(&router, &evil).await, AKTION);
    assert_redirect(&get(&router, &erika_links[1]).await, FILIALEN);
    assert_redirect(&get(&router, &hans_links[0]).await, AKTION);

    let stats = counts(&app, &sent).await;
    assert_eq!((stats.opens, stats.unique_opens), (3, 2));
    assert_eq!((stats.clicks, stats.unique_clicks), (4, 2));
    let per_link: Vec<(&str, i64, i64)> = stats
        .links
        .iter()
        .map(|l| (l.url.as_str(), l.clicks, l.unique_clicks))
        .collect();
    assert_eq!(per_link, [(AKTION, 3, 2), (FILIALEN, 1, 1)]);

    // Erika's first open and first click of each link, filed under her.
    let records = tracking::of_contact(app.app(), &sent.tenant, erika)
        .await
        .unwrap();
    let mut kinds: Vec<(tracking::TrackingKind, Option<u16>)> =
        records.iter().map(|r| (r.kind, r.link)).collect();
    kinds.sort_by_key(|(kind, link)| (format!("{kind:?}"), *link));
    assert_eq!(
        kinds,
        [
            (tracking::TrackingKind::Click, Some(0)),
            (tracking::TrackingKind::Click, Some(1)),
            (tracking::TrackingKind::Open, None),
        ]
    );
    assert!(
        records
            .iter()
            .all(|r| r.contact == *erika && r.campaign == sent.campaign)
    );
    // And in her Art. 15 export.
    let editor = app
        .signed_in(emma::domain::Role::Editor, Some(sent.tenant.as_str()))
        .await;
    let export = editor
        .get(&format!(
            "/api/tenants/{}/contacts/{erika}/data",
            sent.tenant
        ))
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.json);
    let filed = export.json["tracking"].as_array().unwrap();
    assert_eq!(filed.len(), 3, "{}", export.json);
    assert!(filed.iter().any(|r| r["url"] == AKTION));

    // An erasure takes her records; the counts stay and say nothing of who.
    let deleted = tracking::delete_of_contact(app.app(), &sent.tenant, erika)
        .await
        .unwrap();
    assert_eq!(deleted, 4, "three records and the first-click marker");
    assert!(
        tracking::of_contact(app.app(), &sent.tenant, erika)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(counts(&app, &sent).await.unique_opens, 2);
    assert_eq!(
        tracking::of_contact(app.app(), &sent.tenant, hans)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn aggregate_tracking_counts_without_saying_who(adapters: Adapters) {
    let app = spawn(adapters).await;
    let sent = sent(&app, "Sparkasse Summe", TrackingMode::Aggregate).await;
    let router = app.router();
    let (erika, hans) = (&sent.people[0], &sent.people[1]);
    let erika_html = html_of(&app, &sent, erika).await;
    let hans_html = html_of(&app, &sent, hans).await;
    let links = paths(&app, &erika_html, "k/");
    let pixel = paths(&app, &erika_html, "o/");
    assert_eq!(links, paths(&app, &hans_html, "k/"), "one link for all");
    assert_eq!(pixel, paths(&app, &hans_html, "o/"), "one pixel for all");
    assert_eq!(pixel.len(), 1);

    assert_pixel(&get(&router, &pixel[0]).await);
    assert_pixel(&get(&router, &pixel[0]).await);
    assert_redirect(&get(&router, &links[1]).await, FILIALEN);

    let stats = counts(&app, &sent).await;
    assert_eq!((stats.opens, stats.unique_opens), (2, 0));
    assert_eq!((stats.clicks, stats.unique_clicks), (1, 0));
    assert_eq!(stats.links[1].clicks, 1);
    for who in [erika, hans] {
        assert!(
            tracking::of_contact(app.app(), &sent.tenant, who)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// `token` with the character at `at` replaced by another of the alphabet.
fn altered(path: &str, at: usize) -> String {
    let mut chars: Vec<char> = path.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

async fn an_altered_token_leads_nowhere_and_records_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let sent = sent(&app, "Sparkasse Falsch", TrackingMode::PerPerson).await;
    let router = app.router();
    let html = html_of(&app, &sent, &sent.people[0]).await;
    let link = &paths(&app, &html, "k/")[0];
    let pixel = &paths(&app, &html, "o/")[0];
    for at in [4, link.len() / 2, link.len() - 1] {
        assert_nowhere(&get(&router, &altered(link, at)).await);
    }
    for at in [4, pixel.len() / 2, pixel.len() - 1] {
        assert_pixel(&get(&router, &altered(pixel, at)).await);
    }
    // Not a token at all; a pixel token used as a link.
    assert_nowhere(&get(&router, "/k/kein-token").await);
    assert_nowhere(&get(&router, &pixel.replacen("/o/", "/k/", 1)).await);
    assert_pixel(&get(&router, "/o/kein-token").await);
    let stats = counts(&app, &sent).await;
    assert_eq!((stats.opens, stats.clicks), (0, 0));
    assert!(
        tracking::of_contact(app.app(), &sent.tenant, &sent.people[0])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_token_of_one_tenant_never_reaches_another_tenants_campaign(adapters: Adapters) {
    let app = spawn(adapters).await;
    let a = sent(&app, "Sparkasse A", TrackingMode::PerPerson).await;
    let b = sent(&app, "Sparkasse B", TrackingMode::PerPerson).await;
    let router = app.router();
    // Genuinely signed for tenant A, naming B's campaign (and a contact of B).
    let key = LinkKey::new(&app.app().pseudonyms);
    let b_campaign = uuid::Uuid::parse_str(&b.campaign.to_string()).unwrap();
    let crafted = key.signer(&a.tenant, b_campaign);
    for token in [crafted.token(Some(&b.people[0]), 0), crafted.token(None, 0)] {
        assert_nowhere(&get(&router, &format!("/k/{token}")).await);
    }
    let pixel = crafted.token(Some(&b.people[0]), OPEN_LINK);
    assert_pixel(&get(&router, &format!("/o/{pixel}")).await);
    for sent in [&a, &b] {
        let stats = counts(&app, sent).await;
        assert_eq!((stats.opens, stats.clicks), (0, 0));
    }
    assert!(
        tracking::of_contact(app.app(), &a.tenant, &b.people[0])
            .await
            .unwrap()
            .is_empty()
    );
    // B's own link still works.
    let html = html_of(&app, &b, &b.people[0]).await;
    assert_redirect(&get(&router, &paths(&app, &html, "k/")[0]).await, AKTION);
}

async fn a_deleted_campaign_leads_nowhere_and_a_tenant_without_tracking_records_nothing(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let router = app.router();

    // The institute turns tracking off after the mailing went out: the
    // links in it still lead to their destinations, and nothing is counted.
    let off = sent(&app, "Sparkasse Aus", TrackingMode::PerPerson).await;
    let html = html_of(&app, &off, &off.people[0]).await;
    set_tracking(&app, &off.tenant, TrackingMode::Off).await;
    assert_redirect(&get(&router, &paths(&app, &html, "k/")[1]).await, FILIALEN);
    assert_pixel(&get(&router, &paths(&app, &html, "o/")[0]).await);
    let stats = counts(&app, &off).await;
    assert_eq!((stats.opens, stats.clicks), (0, 0));
    assert!(
        tracking::of_contact(app.app(), &off.tenant, &off.people[0])
            .await
            .unwrap()
            .is_empty()
    );

    // A campaign that is gone: its links lead nowhere.
    let gone = sent(&app, "Sparkasse Weg", TrackingMode::PerPerson).await;
    let html = html_of(&app, &gone, &gone.people[0]).await;
    app.app()
        .store
        .delete(&keys::campaign(&gone.tenant, &gone.campaign))
        .await
        .unwrap();
    assert_nowhere(&get(&router, &paths(&app, &html, "k/")[0]).await);
    assert_pixel(&get(&router, &paths(&app, &html, "o/")[0]).await);
    let stats = counts(&app, &gone).await;
    assert_eq!((stats.opens, stats.clicks), (0, 0));
}
