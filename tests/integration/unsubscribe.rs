//! The public unsubscribe page, on both adapter sets: reached through the
//! signed link of a mailing, it shows the contact's lists with the address
//! masked, lets the person leave chosen lists or every mailing (then the
//! address is on the suppression list), takes RFC 8058's one-click POST,
//! and refuses an altered link or one that would reach another tenant. The
//! same page shows and changes the person's preferences (the language of
//! the mailings), honoured at once and on the audit log without the
//! address; it never shows or changes the person's name.

use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use emma::domain::{ContactDraft, ContactId, ContactStatus, EmailAddress, TenantId};
use emma::services::audit::{self, Filter};
use emma::services::lists::{self, List};
use emma::services::{contacts, suppressions, unsubscribe};
use emma_tests::app::{Adapters, TestApp, spawn};
use emma_tests::http::Reply;
use http::{Request, StatusCode, header};

use crate::skeleton::create_tenant;

const ADDRESS: &str = "erika.mustermann@example.de";

/// A tenant with a subscribed contact on two lists.
struct Audience {
    tenant: TenantId,
    contact: ContactId,
    news: List,
    offers: List,
}

async fn audience(app: &TestApp, name: &str, address: &str) -> Audience {
    let tenant = TenantId::parse(&create_tenant(app, name).await).unwrap();
    let mut draft = ContactDraft::new(EmailAddress::parse(address).unwrap());
    draft.status = ContactStatus::Subscribed;
    let contact = contacts::create(app.app(), &tenant, draft)
        .await
        .expect("a contact")
        .id;
    let news = lists::create(app.app(), &tenant, "Newsletter Vorsorge")
        .await
        .unwrap();
    let offers = lists::create(app.app(), &tenant, "Angebote Baufinanzierung")
        .await
        .unwrap();
    for list in [&news, &offers] {
        lists::add_member(app.app(), &tenant, &list.id, &contact)
            .await
            .unwrap();
    }
    Audience {
        tenant,
        contact,
        news,
        offers,
    }
}

fn link(app: &TestApp, audience: &Audience) -> String {
    format!(
        "/abmelden/{}",
        unsubscribe::token(app.app(), &audience.tenant, &audience.contact)
    )
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// The value of the page's hidden CSRF field.
fn form_token(page: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).expect("a form with a CSRF field") + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

/// Posts a form body as EMMA's page does (from EMMA's origin).
async fn post_form(app: &TestApp, path: &str, body: &str) -> Reply {
    let client = app.anonymous();
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, &client.origin)
        .body(Body::from(body.to_owned()))
        .unwrap();
    client.send(request).await
}

/// Posts as a mail client does for RFC 8058: no origin, no CSRF field.
async fn post_one_click(app: &TestApp, path: &str) -> Reply {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    app.anonymous().send(request).await
}

async fn status_of(app: &TestApp, audience: &Audience) -> ContactStatus {
    contacts::get(app.app(), &audience.tenant, &audience.contact)
        .await
        .unwrap()
        .status
}

async fn is_member(app: &TestApp, audience: &Audience, list: &List) -> bool {
    let (members, _) = lists::members(app.app(), &audience.tenant, &list.id, 100, None)
        .await
        .unwrap();
    members.iter().any(|c| c.id == audience.contact)
}

async fn is_suppressed(app: &TestApp, audience: &Audience) -> bool {
    suppressions::is_suppressed(app.app(), &audience.tenant, &audience.contact)
        .await
        .unwrap()
}

/// The tenant's `contact.unsubscribe` entries: (object, had an actor).
async fn unsubscribe_entries(app: &TestApp, tenant: &TenantId) -> Vec<(Option<String>, bool)> {
    let filter = Filter {
        action_prefix: Some("contact.unsubscribe".to_owned()),
        ..Filter::default()
    };
    let (entries, _) = audit::list(app.app(), Some(tenant), &filter, 50, None)
        .await
        .unwrap();
    entries
        .into_iter()
        .map(|e| (e.object, e.actor != audit::Actor::default()))
        .collect()
}

async fn the_page_lists_the_contacts_lists_and_masks_the_address(adapters: Adapters) {
    let app = spawn(adapters).await;
    let audience = audience(&app, "Sparkasse Abmeldung", ADDRESS).await;

    let reply = app.anonymous().get(&link(&app, &audience)).await;

    assert_eq!(reply.status, StatusCode::OK);
    let page = text(&reply);
    assert!(page.contains("Newsletter Vorsorge"), "{page}");
    assert!(page.contains("Angebote Baufinanzierung"), "{page}");
    assert!(page.contains("e***@example.de"), "{page}");
    assert!(!page.contains("erika"), "the address shows in full: {page}");
    assert!(page.contains(&audience.news.id.to_string()));
    assert!(!page.contains("<script>"), "no inline script");
    assert!(reply.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
}

async fn leaving_one_list_keeps_the_other_and_the_subscription(adapters: Adapters) {
    let app = spawn(adapters).await;
    let audience = audience(&app, "Sparkasse Listen", ADDRESS).await;
    let path = link(&app, &audience);
    let token = form_token(&text(&app.anonymous().get(&path).await));

    let reply = post_form(
        &app,
        &path,
        &format!(
            "csrf_token={token}&aktion=listen&liste={}",
            audience.news.id
        ),
    )
    .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert!(!is_member(&app, &audience, &audience.news).await);
    assert!(is_member(&app, &audience, &audience.offers).await);
    assert_eq!(status_of(&app, &audience).await, ContactStatus::Subscribed);
    assert!(!is_suppressed(&app, &audience).await);
    assert_eq!(
        unsubscribe_entries(&app, &audience.tenant).await,
        vec![(Some(audience.contact.to_string()), false)]
    );
    let again = text(&app.anonymous().get(&path).await);
    assert!(!again.contains("Newsletter Vorsorge"), "{again}");
    assert!(again.contains("Angebote Baufinanzierung"), "{again}");
}

async fn leaving_all_mailings_unsubscribes_and_suppresses_the_address(adapters: Adapters) {
    let app = spawn(adapters).await;
    let audience = audience(&app, "Sparkasse Alles", ADDRESS).await;
    let path = link(&app, &audience);
    let token = form_token(&text(&app.anonymous().get(&path).await));

    let reply = post_form(&app, &path, &format!("csrf_token={token}&aktion=alle")).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(
        status_of(&app, &audience).await,
        ContactStatus::Unsubscribed
    );
    assert!(is_suppressed(&app, &audience).await);
    assert_eq!(
        unsubscribe_entries(&app, &audience.tenant).await,
        vec![(Some(audience.contact.to_string()), false)]
    );
    // Coming back: nothing more to do, and no form.
    let again = app.anonymous().get(&path).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(!text(&again).contains("csrf_token"), "{}", text(&again));
}

async fn a_one_click_post_unsubscribes_at_once(adapters: Adapters) {
    let app = spawn(adapters).await;
    let audience = audience(&app, "Sparkasse Ein Klick", ADDRESS).await;

    let reply = post_one_click(&app, &link(&app, &audience)).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert!(reply.content_type.starts_with("text/plain"));
    assert_eq!(
        status_of(&app, &audience).await,
        ContactStatus::Unsubscribed
    );
    assert!(is_suppressed(&app, &audience).await);
    // A mail client that sends it twice gets the same answer.
    let twice = post_one_click(&app, &link(&app, &audience)).await;
    assert_eq!(twice.status, StatusCode::OK);
}

async fn a_form_post_without_its_token_is_refused_and_changes_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let audience = audience(&app, "Sparkasse Formular", ADDRESS).await;
    let path = link(&app, &audience);

    let blind = post_form(&app, &path, "aktion=alle").await;
    let guessed = post_form(&app, &path, "csrf_token=0123456789abcdef&aktion=alle").await;

    assert_eq!(blind.status, StatusCode::FORBIDDEN);
    assert_eq!(guessed.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, &audience).await, ContactStatus::Subscribed);
    assert!(!is_suppressed(&app, &audience).await);
    assert!(unsubscribe_entries(&app, &audience.tenant).await.is_empty());
}

/// The token with one character of its MAC changed.
fn altered(token: &str) -> String {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).unwrap()).unwrap();
    let (payload, mac) = text.rsplit_once(':').unwrap();
    let first = if mac.starts_with('0') { '1' } else { '0' };
    URL_SAFE_NO_PAD.encode(format!("{payload}:{first}{}", &mac[1..]))
}

async fn an_altered_token_is_not_found_and_changes_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let audience = audience(&app, "Sparkasse Fälschung", ADDRESS).await;
    let token = unsubscribe::token(app.app(), &audience.tenant, &audience.contact);

    for bad in [altered(&token), token[..token.len() - 4].to_owned()] {
        let path = format!("/abmelden/{bad}");
        let page = app.anonymous().get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(!text(&page).contains("Newsletter Vorsorge"));
        let one_click = post_one_click(&app, &path).await;
        assert_eq!(one_click.status, StatusCode::NOT_FOUND);
    }

    assert_eq!(status_of(&app, &audience).await, ContactStatus::Subscribed);
    assert!(!is_suppressed(&app, &audience).await);
    assert!(is_member(&app, &audience, &audience.news).await);
}

async fn a_token_of_one_tenant_never_reaches_another(adapters: Adapters) {
    let app = spawn(adapters).await;
    // The same person in two institutes: two contacts, two lists each.
    let a = audience(&app, "Sparkasse Nord", ADDRESS).await;
    let b = audience(&app, "Sparkasse Süd", ADDRESS).await;
    lists::rename(app.app(), &b.tenant, &b.news.id, "Nur im Süden")
        .await
        .unwrap();
    let token_a = unsubscribe::token(app.app(), &a.tenant, &a.contact);

    // A's token with B's tenant put in: the MAC no longer holds.
    let text_a = String::from_utf8(URL_SAFE_NO_PAD.decode(&token_a).unwrap()).unwrap();
    let swapped = URL_SAFE_NO_PAD.encode(text_a.replacen(a.tenant.as_str(), b.tenant.as_str(), 1));
    let swapped_path = format!("/abmelden/{swapped}");
    assert_eq!(
        app.anonymous().get(&swapped_path).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post_one_click(&app, &swapped_path).await.status,
        StatusCode::NOT_FOUND
    );

    // A's own link shows A's lists only, and acts on A alone.
    let path_a = format!("/abmelden/{token_a}");
    let page = text(&app.anonymous().get(&path_a).await);
    assert!(!page.contains("Nur im Süden"), "{page}");
    assert!(!page.contains(&b.news.id.to_string()), "{page}");
    let form = form_token(&page);
    let reply = post_form(
        &app,
        &path_a,
        &format!("csrf_token={form}&aktion=listen&liste={}", b.offers.id),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(is_member(&app, &b, &b.offers).await);
    assert!(is_member(&app, &a, &a.offers).await);
    assert_eq!(post_one_click(&app, &path_a).await.status, StatusCode::OK);

    assert_eq!(status_of(&app, &a).await, ContactStatus::Unsubscribed);
    assert_eq!(status_of(&app, &b).await, ContactStatus::Subscribed);
    assert!(!is_suppressed(&app, &b).await);
    assert!(is_member(&app, &b, &b.news).await);
    assert!(unsubscribe_entries(&app, &b.tenant).await.is_empty());
}

async fn a_link_of_an_erased_contact_says_there_is_nothing_more_to_do(adapters: Adapters) {
    let app = spawn(adapters).await;
    let audience = audience(&app, "Sparkasse Gelöscht", ADDRESS).await;
    let path = link(&app, &audience);
    contacts::erase(app.app(), &audience.tenant, &audience.contact)
        .await
        .unwrap();

    let page = app.anonymous().get(&path).await;
    let one_click = post_one_click(&app, &path).await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(!text(&page).contains("csrf_token"), "{}", text(&page));
    assert!(!text(&page).contains("e***@"), "{}", text(&page));
    assert_eq!(one_click.status, StatusCode::OK);
    assert!(is_suppressed(&app, &audience).await);
    assert!(unsubscribe_entries(&app, &audience.tenant).await.is_empty());
}

async fn preferences_show_the_current_state_and_a_change_is_honoured_at_once(adapters: Adapters) {
    let app = spawn(adapters).await;
    let audience = audience(&app, "Sparkasse Einstellungen", ADDRESS).await;
    let named = contacts::ContactChange {
        first_name: Some(Some(emma::domain::PersonName::parse("Erika").unwrap())),
        last_name: Some(Some(emma::domain::PersonName::parse("Müller").unwrap())),
        ..contacts::ContactChange::default()
    };
    contacts::update(app.app(), &audience.tenant, &audience.contact, named)
        .await
        .unwrap();
    let path = link(&app, &audience);
    let page = text(&app.anonymous().get(&path).await);
    assert!(page.contains("id=\"einstellungen\""), "{page}");
    assert!(page.contains("<option value=\"de\" selected>"), "{page}");
    // The link travels with forwarded mails: no name on the page.
    assert!(
        !page.contains("Erika") && !page.contains("Müller"),
        "{page}"
    );
    let token = form_token(&page);

    // A name sent along (a hand-made post) is not taken.
    let change = format!(
        "csrf_token={token}&aktion=einstellungen&language=en&salutation=male\
         &first_name=Mallory&last_name=Fremd"
    );
    let reply = post_form(&app, &path, &change).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert!(text(&reply).contains("Ihre Einstellungen sind gespeichert."));
    let contact = contacts::get(app.app(), &audience.tenant, &audience.contact)
        .await
        .unwrap();
    assert_eq!(contact.language, emma::domain::Language::En);
    assert_eq!(contact.salutation, None);
    assert_eq!(contact.first_name.unwrap().as_str(), "Erika");
    assert_eq!(contact.last_name.unwrap().as_str(), "Müller");
    assert_eq!(contact.status, ContactStatus::Subscribed);
    // The page shows the new state.
    let again = text(&app.anonymous().get(&path).await);
    assert!(again.contains("<option value=\"en\" selected>"), "{again}");
    // On the record: the contact's id, no actor, no address or name.
    let filter = Filter {
        action_prefix: Some(unsubscribe::PREFERENCES_AUDIT_ACTION.to_owned()),
        ..Filter::default()
    };
    let (entries, _) = audit::list(app.app(), Some(&audience.tenant), &filter, 10, None)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].object.as_deref(),
        Some(audience.contact.as_str())
    );
    let entry = serde_json::to_string(&entries[0]).unwrap();
    assert!(
        !entry.contains("erika") && !entry.contains("Müller"),
        "{entry}"
    );
    // Saving the same again changes and records nothing.
    let same = post_form(&app, &path, &change).await;
    assert_eq!(same.status, StatusCode::OK);
    let (entries, _) = audit::list(app.app(), Some(&audience.tenant), &filter, 10, None)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
}

async fn bad_preferences_are_refused_and_change_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let audience = audience(&app, "Sparkasse Falsche Einstellungen", ADDRESS).await;
    let path = link(&app, &audience);
    let token = form_token(&text(&app.anonymous().get(&path).await));
    let unknown = post_form(
        &app,
        &path,
        &format!("csrf_token={token}&aktion=einstellungen&language=fr"),
    )
    .await;
    let blind = post_form(&app, &path, "aktion=einstellungen&language=en").await;

    assert!(
        text(&unknown).contains("aria-invalid"),
        "{}",
        text(&unknown)
    );
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(blind.status, StatusCode::FORBIDDEN);
    let contact = contacts::get(app.app(), &audience.tenant, &audience.contact)
        .await
        .unwrap();
    assert_eq!(contact.language, emma::domain::Language::De);
}

emma_tests::on_both_adapter_sets!(
    preferences_show_the_current_state_and_a_change_is_honoured_at_once,
    bad_preferences_are_refused_and_change_nothing,
    the_page_lists_the_contacts_lists_and_masks_the_address,
    leaving_one_list_keeps_the_other_and_the_subscription,
    leaving_all_mailings_unsubscribes_and_suppresses_the_address,
    a_one_click_post_unsubscribes_at_once,
    a_form_post_without_its_token_is_refused_and_changes_nothing,
    an_altered_token_is_not_found_and_changes_nothing,
    a_token_of_one_tenant_never_reaches_another,
    a_link_of_an_erased_contact_says_there_is_nothing_more_to_do,
);
