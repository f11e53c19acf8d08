//! Double opt-in on both adapter sets: a sign-up through the public form
//! sends a confirmation mail whose link, once its page's button is pressed,
//! subscribes the contact onto the form's list with evidence of both steps;
//! bots (honeypot, instant posts) and floods (rate limits) change nothing;
//! altered, expired and reused links are harmless; a complaint is never
//! undone by a form; unconfirmed sign-ups expire; another tenant's form is
//! not found; the evidence page renders for print. And the findings of the
//! security review: the live link is kept nowhere staff can read it; only
//! contacts a sign-up created expire; a deleted form, an unsubscription or
//! an erasure after the sign-up stop its link; an old start time is a
//! bot's; the evidence is for editors and on the audit log.

use std::sync::Arc;

use axum::body::Body;
use chrono::{Duration, Utc};
use emma::domain::{ContactId, EmailAddress, Role, TenantId};
use emma::ports::ManualClock;
use emma::services::audit::{self, Filter, Outcome};
use emma::services::consent::{self, ConsentKind};
use emma::services::suppressions::{self, SuppressionReason};
use emma::services::{contacts, lists, signup, unsubscribe};
use emma_tests::app::{Adapters, TestApp, spawn, spawn_with_clock};
use emma_tests::http::{Client, Reply};
use http::{Request, StatusCode, header};
use serde_json::json;

use crate::skeleton::create_tenant;

const CONSENT: &str = "Ja, ich möchte den Newsletter der Sparkasse per E-Mail erhalten.\nDie Einwilligung kann ich jederzeit widerrufen.";
const BROWSER: &str = "Mozilla/5.0 (Testbrowser) EMMA-Test/1.0";

struct Setup {
    tenant: TenantId,
    list: String,
    form: String,
    editor: Client,
}

async fn setup(app: &TestApp, name: &str) -> Setup {
    let tenant = create_tenant(app, name).await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let tenant = TenantId::parse(&tenant).unwrap();
    let list = lists::create(app.app(), &tenant, "Newsletter Privatkunden")
        .await
        .unwrap()
        .id
        .to_string();
    let reply = editor
        .post_json(
            &format!("/api/tenants/{tenant}/signup-forms"),
            &json!({
                "name": "Website",
                "list_id": list,
                "consent_text": CONSENT,
                "ask_first_name": true,
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let form = reply.json["id"].as_str().unwrap().to_owned();
    Setup {
        tenant,
        list,
        form,
        editor,
    }
}

fn unique_address(prefix: &str) -> String {
    format!("{prefix}-{}@example.de", uuid::Uuid::new_v4().simple())
}

fn form_path(setup: &Setup) -> String {
    format!("/anmeldung/{}/{}", setup.tenant, setup.form)
}

/// Posts a form body from another site (no origin of ours, no CSRF
/// field), as the embedded snippet does, from `ip`.
async fn post_from(app: &TestApp, path: &str, body: &str, ip: &str) -> Reply {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::USER_AGENT, BROWSER)
        .header(header::REFERER, "https://www.sparkasse.example/newsletter")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let peer = std::net::SocketAddr::new(ip.parse().unwrap(), 40_000);
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    app.anonymous().send(request).await
}

async fn sign_up(app: &TestApp, setup: &Setup, address: &str) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("email", address)
        .append_pair("first_name", "Erika")
        .append_pair("page", "https://www.sparkasse.example/newsletter")
        .finish();
    post_from(app, &form_path(setup), &body, "203.0.113.5").await
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// The messages sent to `address`, parsed: (text part, raw).
async fn mails_to(app: &TestApp, address: &str) -> Vec<(String, Vec<u8>)> {
    emma_tests::sent::messages_containing(app, address)
        .await
        .into_iter()
        .map(|raw| {
            let parsed = mail_parser::MessageParser::default()
                .parse(&raw)
                .expect("valid MIME");
            (parsed.body_text(0).unwrap_or_default().into_owned(), raw)
        })
        .collect()
}

/// The path of the confirmation link in the one mail sent to `address`.
async fn confirmation_path(app: &TestApp, address: &str) -> String {
    let link = confirmation_link(app, address).await;
    let start = link.find("/anmeldung/bestaetigen/").expect("a link");
    link[start..].to_owned()
}

/// The whole confirmation link in the one mail sent to `address`.
async fn confirmation_link(app: &TestApp, address: &str) -> String {
    let mails = mails_to(app, address).await;
    assert_eq!(mails.len(), 1, "one confirmation mail");
    let body = &mails[0].0;
    let path = body.find("/anmeldung/bestaetigen/").expect("a link");
    let start = body[..path].rfind(char::is_whitespace).map_or(0, |i| i + 1);
    body[start..].split_whitespace().next().unwrap().to_owned()
}

async fn contact_of(
    app: &TestApp,
    tenant: &TenantId,
    address: &str,
) -> Option<emma::domain::Contact> {
    contacts::find_by_email(app.app(), tenant, &EmailAddress::parse(address).unwrap())
        .await
        .unwrap()
}

fn id_of(app: &TestApp, tenant: &TenantId, address: &str) -> ContactId {
    contacts::id_for(app.app(), tenant, &EmailAddress::parse(address).unwrap())
}

async fn on_list(app: &TestApp, setup: &Setup, id: &ContactId) -> bool {
    let list = emma::domain::ListId::parse(&setup.list).unwrap();
    let (members, _) = lists::members(app.app(), &setup.tenant, &list, 100, None)
        .await
        .unwrap();
    members.iter().any(|c| &c.id == id)
}

async fn post_empty(app: &TestApp, path: &str) -> Reply {
    post_from(app, path, "", "198.51.100.20").await
}

async fn a_confirmed_sign_up_subscribes_the_contact_onto_the_list_with_evidence_of_both_steps(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Anmeldung").await;
    let address = unique_address("erika");

    let reply = sign_up(&app, &setup, &address).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert!(text(&reply).contains("Vielen Dank"), "{}", text(&reply));
    let pending = contact_of(&app, &setup.tenant, &address)
        .await
        .expect("a contact");
    assert_eq!(pending.status, emma::domain::ContactStatus::Unconfirmed);

    let link = confirmation_path(&app, &address).await;
    let opened = app.anonymous().get(&link).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(
        text(&opened).contains("Anmeldung bestätigen"),
        "{}",
        text(&opened)
    );
    let confirmed = post_from(&app, &link, "", "198.51.100.20").await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", text(&confirmed));
    assert!(text(&confirmed).contains("bestätigt"));

    let contact = contact_of(&app, &setup.tenant, &address).await.unwrap();
    assert_eq!(contact.status, emma::domain::ContactStatus::Subscribed);
    assert_eq!(contact.first_name.unwrap().as_str(), "Erika");
    assert!(on_list(&app, &setup, &contact.id).await);

    let evidence = setup
        .editor
        .get(&format!(
            "/api/tenants/{}/contacts/{}/consent",
            setup.tenant, contact.id
        ))
        .await;
    assert_eq!(evidence.status, StatusCode::OK, "{}", evidence.json);
    let records = evidence.json["records"].as_array().unwrap();
    assert_eq!(records.len(), 2, "{}", evidence.json);
    assert_eq!(records[0]["kind"], "signup");
    assert_eq!(records[0]["consent_text"], CONSENT);
    assert_eq!(records[0]["ip"], "203.0.113.5");
    assert_eq!(records[0]["user_agent"], BROWSER);
    assert_eq!(records[0]["form_name"], "Website");
    assert_eq!(
        records[0]["page"],
        "https://www.sparkasse.example/newsletter"
    );
    assert_eq!(records[1]["kind"], "confirmation");
    assert_eq!(records[1]["ip"], "198.51.100.20");
    assert_eq!(records[1]["confirms"], records[0]["id"]);

    // The mail as sent is kept: the bytes the mail port got.
    let stored = consent::records(app.app(), &setup.tenant, &contact.id)
        .await
        .unwrap();
    let kept = consent::mail_bytes(app.app(), &setup.tenant, &stored[0])
        .await
        .unwrap()
        .expect("the mail as sent");
    let message_id = stored[0].mail.as_ref().unwrap().message_id.clone();
    assert!(String::from_utf8_lossy(&kept).contains(&message_id));
    assert_eq!(
        consent::sha256_hex(&kept),
        stored[0].mail.as_ref().unwrap().sha256
    );
    let parsed = mail_parser::MessageParser::default().parse(&kept).unwrap();
    assert!(parsed.body_text(0).unwrap().contains(signup::REDACTED_LINK));

    // On the audit log, without the address.
    let filter = Filter {
        action_prefix: Some("signup.".to_owned()),
        ..Filter::default()
    };
    let (entries, _) = audit::list(app.app(), Some(&setup.tenant), &filter, 50, None)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"signup.confirm"), "{actions:?}");
    assert!(actions.contains(&"signup.request"), "{actions:?}");
    assert!(
        entries
            .iter()
            .all(|e| e.object.as_deref() == Some(contact.id.as_str()))
    );
}

async fn a_filled_honeypot_gets_the_same_answer_and_stores_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Honigtopf").await;
    let person = unique_address("mensch");
    let bot = unique_address("bot");

    let answered = sign_up(&app, &setup, &person).await;
    let body = format!("email={bot}&website=https%3A%2F%2Fspam.example");
    let trapped = post_from(&app, &form_path(&setup), &body, "203.0.113.66").await;

    assert_eq!(trapped.status, answered.status);
    assert_eq!(text(&trapped), text(&answered));
    assert!(contact_of(&app, &setup.tenant, &bot).await.is_none());
    assert!(mails_to(&app, &bot).await.is_empty());
    let records = consent::records(app.app(), &setup.tenant, &id_of(&app, &setup.tenant, &bot))
        .await
        .unwrap();
    assert!(records.is_empty());
}

async fn a_hosted_form_sent_back_at_once_is_taken_for_a_bot(adapters: Adapters) {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let setup = setup(&app, "Sparkasse Eilig").await;
    let page = app.anonymous().get(&form_path(&setup)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = text(&page);
    assert!(html.contains("Newsletter der Sparkasse"));
    let marker = "name=\"t\" value=\"";
    let start = html.find(marker).expect("a start time") + marker.len();
    let started = html[start..][..html[start..].find('"').unwrap()].to_owned();

    let hasty = unique_address("eilig");
    let body = format!("email={hasty}&t={started}");
    let reply = post_from(&app, &form_path(&setup), &body, "203.0.113.7").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(contact_of(&app, &setup.tenant, &hasty).await.is_none());

    clock.advance(Duration::seconds(10));
    let patient = unique_address("geduldig");
    let body = format!("email={patient}&t={started}");
    let reply = post_from(&app, &form_path(&setup), &body, "203.0.113.7").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(contact_of(&app, &setup.tenant, &patient).await.is_some());
    // A forged start time counts as a bot, too.
    let forged = unique_address("gefaelscht");
    let body = format!("email={forged}&t=1.abc");
    post_from(&app, &form_path(&setup), &body, "203.0.113.7").await;
    assert!(contact_of(&app, &setup.tenant, &forged).await.is_none());
}

async fn the_rate_limit_per_client_address_kicks_in(adapters: Adapters) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Flut").await;
    for n in 0..signup::LIMIT_PER_CLIENT {
        let reply = post_from(&app, &form_path(&setup), "email=kein-at", "203.0.113.99").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "attempt {n}");
    }
    let address = unique_address("flut");
    let refused = post_from(
        &app,
        &form_path(&setup),
        &format!("email={address}"),
        "203.0.113.99",
    )
    .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key(header::RETRY_AFTER));
    assert!(contact_of(&app, &setup.tenant, &address).await.is_none());
    // Another client is not held up.
    let other = sign_up(&app, &setup, &unique_address("anders")).await;
    assert_eq!(other.status, StatusCode::OK);
}

async fn an_altered_or_expired_link_confirms_nothing(adapters: Adapters) {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let setup = setup(&app, "Sparkasse Verfall").await;
    let address = unique_address("verfall");
    sign_up(&app, &setup, &address).await;
    let link = confirmation_path(&app, &address).await;

    let mut altered = link.clone().into_bytes();
    let last = altered.len() - 3;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    assert_eq!(
        app.anonymous().get(&altered).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post_empty(&app, &altered).await.status,
        StatusCode::BAD_REQUEST
    );
    let garbled = link.replace("bestaetigen/", "bestaetigen/x");
    assert_eq!(
        post_empty(&app, &garbled).await.status,
        StatusCode::BAD_REQUEST
    );

    clock.advance(Duration::hours(49));
    let expired = post_empty(&app, &link).await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert!(text(&expired).contains("nicht gültig"));
    let contact = contact_of(&app, &setup.tenant, &address).await.unwrap();
    assert_eq!(contact.status, emma::domain::ContactStatus::Unconfirmed);
    assert!(!on_list(&app, &setup, &contact.id).await);
}

async fn opening_the_link_confirms_nothing_and_confirming_twice_is_harmless(adapters: Adapters) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Zweimal").await;
    let address = unique_address("zweimal");
    sign_up(&app, &setup, &address).await;
    let link = confirmation_path(&app, &address).await;

    for _ in 0..2 {
        assert_eq!(app.anonymous().get(&link).await.status, StatusCode::OK);
    }
    let contact = contact_of(&app, &setup.tenant, &address).await.unwrap();
    assert_eq!(contact.status, emma::domain::ContactStatus::Unconfirmed);
    assert!(!on_list(&app, &setup, &contact.id).await);

    assert_eq!(post_empty(&app, &link).await.status, StatusCode::OK);
    let again = post_empty(&app, &link).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        text(&again).contains("bereits bestätigt"),
        "{}",
        text(&again)
    );
    let records = consent::records(app.app(), &setup.tenant, &contact.id)
        .await
        .unwrap();
    let confirmations = records
        .iter()
        .filter(|r| r.kind == ConsentKind::Confirmation)
        .count();
    assert_eq!(confirmations, 1);
}

async fn a_complaint_is_not_undone_by_a_sign_up_but_an_unsubscription_is_by_a_confirmed_one(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Beschwerde").await;
    let complainer = unique_address("beschwerde");
    let id = id_of(&app, &setup.tenant, &complainer);
    let email = EmailAddress::parse(&complainer).unwrap();
    suppressions::add(
        app.app(),
        &setup.tenant,
        &id,
        Some(&email),
        SuppressionReason::Complained,
        None,
    )
    .await
    .unwrap();
    let answered = sign_up(&app, &setup, &complainer).await;
    assert_eq!(answered.status, StatusCode::OK);
    assert!(text(&answered).contains("Vielen Dank"));
    assert!(mails_to(&app, &complainer).await.is_empty());
    assert!(contact_of(&app, &setup.tenant, &complainer).await.is_none());

    // Someone who unsubscribed comes back only by confirming.
    let returner = unique_address("zurueck");
    let id = id_of(&app, &setup.tenant, &returner);
    let email = EmailAddress::parse(&returner).unwrap();
    suppressions::add(
        app.app(),
        &setup.tenant,
        &id,
        Some(&email),
        SuppressionReason::Unsubscribed,
        None,
    )
    .await
    .unwrap();
    sign_up(&app, &setup, &returner).await;
    assert!(
        suppressions::is_suppressed(app.app(), &setup.tenant, &id)
            .await
            .unwrap()
    );
    let link = confirmation_path(&app, &returner).await;
    assert_eq!(post_empty(&app, &link).await.status, StatusCode::OK);
    assert!(
        !suppressions::is_suppressed(app.app(), &setup.tenant, &id)
            .await
            .unwrap()
    );
    let contact = contact_of(&app, &setup.tenant, &returner).await.unwrap();
    assert_eq!(contact.status, emma::domain::ContactStatus::Subscribed);
    assert!(on_list(&app, &setup, &id).await);
}

async fn expiry_removes_old_unconfirmed_contacts_and_keeps_confirmed_ones(adapters: Adapters) {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let setup = setup(&app, "Sparkasse Frist").await;
    let silent = unique_address("still");
    let confirmer = unique_address("bestaetigt");
    sign_up(&app, &setup, &silent).await;
    sign_up(&app, &setup, &confirmer).await;
    let link = confirmation_path(&app, &confirmer).await;
    assert_eq!(post_empty(&app, &link).await.status, StatusCode::OK);

    clock.advance(Duration::days(29));
    assert_eq!(
        signup::expire_unconfirmed(app.app(), &setup.tenant, clock_now(&app))
            .await
            .unwrap(),
        0
    );
    assert!(contact_of(&app, &setup.tenant, &silent).await.is_some());

    clock.advance(Duration::days(2));
    let expired = signup::expire_due(app.app()).await.unwrap();
    assert_eq!(expired, 1);
    assert!(contact_of(&app, &setup.tenant, &silent).await.is_none());
    let silent_id = id_of(&app, &setup.tenant, &silent);
    assert!(
        consent::records(app.app(), &setup.tenant, &silent_id)
            .await
            .unwrap()
            .is_empty()
    );
    let kept = contact_of(&app, &setup.tenant, &confirmer).await.unwrap();
    assert_eq!(kept.status, emma::domain::ContactStatus::Subscribed);
    assert_eq!(
        consent::records(app.app(), &setup.tenant, &kept.id)
            .await
            .unwrap()
            .len(),
        2
    );
    // The sweep runs at most once an hour.
    assert_eq!(signup::expire_due(app.app()).await.unwrap(), 0);
}

fn clock_now(app: &TestApp) -> chrono::DateTime<Utc> {
    app.app().clock.now()
}

async fn another_tenants_form_is_not_found(adapters: Adapters) {
    let app = spawn(adapters).await;
    let a = setup(&app, "Sparkasse Eins").await;
    let b = setup(&app, "Sparkasse Zwei").await;
    let crossed = format!("/anmeldung/{}/{}", b.tenant, a.form);
    assert_eq!(
        app.anonymous().get(&crossed).await.status,
        StatusCode::NOT_FOUND
    );
    let address = unique_address("quer");
    let reply = post_from(&app, &crossed, &format!("email={address}"), "203.0.113.8").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(contact_of(&app, &b.tenant, &address).await.is_none());
    let api = b
        .editor
        .get(&format!(
            "/api/tenants/{}/signup-forms/{}",
            b.tenant, a.form
        ))
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    let api = b
        .editor
        .get(&format!(
            "/api/tenants/{}/signup-forms/{}",
            a.tenant, a.form
        ))
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    let page = b.editor.get(&format!("/anmeldeformulare/{}", a.form)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

async fn a_changed_consent_text_gets_a_new_version_and_old_evidence_keeps_its_text(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Version").await;
    let early = unique_address("frueh");
    sign_up(&app, &setup, &early).await;
    let path = format!("/api/tenants/{}/signup-forms/{}", setup.tenant, setup.form);
    let changed = setup
        .editor
        .json(
            http::Method::PUT,
            &path,
            &json!({ "name": "Website", "list_id": setup.list, "consent_text": "Neuer Text." }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    assert_eq!(changed.json["consent_version"], 2);
    assert!(
        changed.json["embed_html"]
            .as_str()
            .unwrap()
            .contains("Neuer Text.")
    );
    assert!(
        changed.json["embed_html"]
            .as_str()
            .unwrap()
            .contains("name=\"website\"")
    );

    let records = consent::records(
        app.app(),
        &setup.tenant,
        &id_of(&app, &setup.tenant, &early),
    )
    .await
    .unwrap();
    assert_eq!(records[0].consent_text.as_deref(), Some(CONSENT));
    assert_eq!(records[0].consent_version, Some(1));

    let refused = setup
        .editor
        .json(
            http::Method::PUT,
            &path,
            &json!({ "name": "Website", "list_id": setup.list, "consent_text": "x", "mail_text": "ohne Link" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json["field"], "mail_text");
}

async fn the_printable_evidence_page_shows_every_record(adapters: Adapters) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Nachweis").await;
    let address = unique_address("nachweis");
    sign_up(&app, &setup, &address).await;
    let link = confirmation_path(&app, &address).await;
    post_empty(&app, &link).await;
    let id = id_of(&app, &setup.tenant, &address);
    let viewer = app
        .signed_in(Role::Viewer, Some(setup.tenant.as_str()))
        .await;

    let page = setup
        .editor
        .get(&format!("/kontakte/{id}/einwilligung"))
        .await;

    assert_eq!(page.status, StatusCode::OK);
    let html = text(&page);
    assert!(html.contains("Einwilligungsnachweis"));
    assert!(html.contains("Ja, ich möchte den Newsletter der Sparkasse per E-Mail erhalten."));
    assert!(html.contains("203.0.113.5") && html.contains("198.51.100.20"));
    assert!(html.contains("Subject:"), "the mail's headers");
    // The text part, its link replaced.
    assert!(html.contains(signup::REDACTED_LINK), "the mail's text");
    let forms = viewer.get("/anmeldeformulare").await;
    assert_eq!(forms.status, StatusCode::OK);
    assert!(text(&forms).contains("Website"));
    let form = viewer
        .get(&format!("/anmeldeformulare/{}", setup.form))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(text(&form).contains("&lt;form method=&quot;post&quot;"));
}

async fn the_evidence_never_holds_the_live_link_and_the_link_as_sent_still_works(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Geheim").await;
    let address = unique_address("geheim");
    sign_up(&app, &setup, &address).await;
    let link = confirmation_link(&app, &address).await;
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert!(token.len() > 40, "{link}");
    let id = id_of(&app, &setup.tenant, &address);

    // The record and the mail kept: no token, but the hashes of what went.
    let records = consent::records(app.app(), &setup.tenant, &id)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert!(!serde_json::to_string(&records).unwrap().contains(&token));
    let mail = records[0].mail.as_ref().expect("the mail's reference");
    assert!(mail.text.contains(signup::REDACTED_LINK));
    assert_eq!(mail.link_sha256, consent::sha256_hex(link.as_bytes()));
    let kept = consent::mail_bytes(app.app(), &setup.tenant, &records[0])
        .await
        .unwrap()
        .expect("the mail kept");
    assert!(!String::from_utf8_lossy(&kept).contains(&token));
    assert!(String::from_utf8_lossy(&kept).contains(&mail.message_id));
    let sent = mails_to(&app, &address).await;
    assert_eq!(mail.sent_sha256, consent::sha256_hex(&sent[0].1));

    // Nor does anything staff can read.
    let api = setup
        .editor
        .get(&format!(
            "/api/tenants/{}/contacts/{id}/consent",
            setup.tenant
        ))
        .await;
    assert_eq!(api.status, StatusCode::OK);
    assert!(!api.json.to_string().contains(&token));
    let page = setup
        .editor
        .get(&format!("/kontakte/{id}/einwilligung"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!text(&page).contains(&token));
    let data = setup
        .editor
        .get(&format!("/api/tenants/{}/contacts/{id}/data", setup.tenant))
        .await;
    assert_eq!(data.status, StatusCode::OK, "{}", data.json);
    assert!(!data.json.to_string().contains(&token));
    // The Art. 15 document names the sign-up still waiting.
    let waiting = data.json["pending_signups"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{}", data.json);
    assert_eq!(waiting[0]["email"], address.as_str());
    assert_eq!(waiting[0]["first_name"], "Erika");

    // The link the person got still works.
    let path = confirmation_path(&app, &address).await;
    assert_eq!(post_empty(&app, &path).await.status, StatusCode::OK);
    let contact = contact_of(&app, &setup.tenant, &address).await.unwrap();
    assert_eq!(contact.status, emma::domain::ContactStatus::Subscribed);
    assert!(
        signup::pending_of(app.app(), &setup.tenant, &id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_sign_up_for_a_contact_staff_created_never_expires_it(adapters: Adapters) {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let setup = setup(&app, "Sparkasse Import").await;
    let imported = unique_address("importiert");
    let draft = emma::domain::ContactDraft::new(EmailAddress::parse(&imported).unwrap());
    let staff_made = contacts::create(app.app(), &setup.tenant, draft)
        .await
        .unwrap();
    assert_eq!(staff_made.status, emma::domain::ContactStatus::Unconfirmed);
    let stranger = unique_address("fremd");
    assert_eq!(
        sign_up(&app, &setup, &imported).await.status,
        StatusCode::OK
    );
    assert_eq!(
        sign_up(&app, &setup, &stranger).await.status,
        StatusCode::OK
    );
    assert_eq!(mails_to(&app, &imported).await.len(), 1);

    clock.advance(Duration::days(31));
    let expired = signup::expire_due(app.app()).await.unwrap();

    assert_eq!(expired, 1, "only the contact the sign-up created");
    let kept = contact_of(&app, &setup.tenant, &imported)
        .await
        .expect("the staff's contact stays");
    assert_eq!(kept.id, staff_made.id);
    assert!(contact_of(&app, &setup.tenant, &stranger).await.is_none());
}

async fn a_link_stops_working_when_its_form_is_deleted(adapters: Adapters) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Formular weg").await;
    let address = unique_address("formweg");
    sign_up(&app, &setup, &address).await;
    let link = confirmation_path(&app, &address).await;
    let deleted = setup
        .editor
        .delete(&format!(
            "/api/tenants/{}/signup-forms/{}",
            setup.tenant, setup.form
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let refused = post_empty(&app, &link).await;

    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(text(&refused).contains("nicht gültig"));
    let contact = contact_of(&app, &setup.tenant, &address).await.unwrap();
    assert_eq!(contact.status, emma::domain::ContactStatus::Unconfirmed);
    assert!(!on_list(&app, &setup, &contact.id).await);
    assert!(
        consent::records(app.app(), &setup.tenant, &contact.id)
            .await
            .unwrap()
            .iter()
            .all(|r| r.kind == ConsentKind::Signup)
    );
}

async fn an_unsubscription_after_the_sign_up_stops_its_link(adapters: Adapters) {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let setup = setup(&app, "Sparkasse Abgemeldet").await;
    let address = unique_address("abgemeldet");
    sign_up(&app, &setup, &address).await;
    let link = confirmation_path(&app, &address).await;
    let id = id_of(&app, &setup.tenant, &address);
    clock.advance(Duration::minutes(5));
    assert!(
        unsubscribe::leave_all(app.app(), &setup.tenant, &id, None)
            .await
            .unwrap()
    );

    let refused = post_empty(&app, &link).await;

    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let contact = contact_of(&app, &setup.tenant, &address).await.unwrap();
    assert_eq!(contact.status, emma::domain::ContactStatus::Unsubscribed);
    assert!(
        suppressions::is_suppressed(app.app(), &setup.tenant, &id)
            .await
            .unwrap()
    );
    assert!(!on_list(&app, &setup, &id).await);
}

/// Needs `contacts::erase` to call `signup::forget_contact` (the lead's
/// one-line wiring).
async fn an_erasure_forgets_the_pending_sign_ups_and_their_links(adapters: Adapters) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Vergessen").await;
    let address = unique_address("vergessen");
    sign_up(&app, &setup, &address).await;
    let link = confirmation_path(&app, &address).await;
    let id = id_of(&app, &setup.tenant, &address);
    assert_eq!(
        signup::pending_of(app.app(), &setup.tenant, &id)
            .await
            .unwrap()
            .len(),
        1
    );

    contacts::erase(app.app(), &setup.tenant, &id)
        .await
        .unwrap();

    assert!(
        signup::pending_of(app.app(), &setup.tenant, &id)
            .await
            .unwrap()
            .is_empty(),
        "the pending sign-up with the address in clear is gone"
    );
    assert_eq!(
        post_empty(&app, &link).await.status,
        StatusCode::BAD_REQUEST
    );
    assert!(contact_of(&app, &setup.tenant, &address).await.is_none());
}

async fn forgetting_a_contact_removes_its_pending_sign_ups_and_expiries(adapters: Adapters) {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let setup = setup(&app, "Sparkasse Spuren").await;
    let address = unique_address("spuren");
    sign_up(&app, &setup, &address).await;
    let link = confirmation_path(&app, &address).await;
    let id = id_of(&app, &setup.tenant, &address);

    signup::forget_contact(app.app(), &setup.tenant, &id)
        .await
        .unwrap();

    assert!(
        signup::pending_of(app.app(), &setup.tenant, &id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        post_empty(&app, &link).await.status,
        StatusCode::BAD_REQUEST
    );
    clock.advance(Duration::days(31));
    assert_eq!(
        signup::expire_unconfirmed(app.app(), &setup.tenant, clock_now(&app))
            .await
            .unwrap(),
        0,
        "no expiry entry is left"
    );
}

async fn a_start_time_older_than_two_hours_is_taken_for_a_bot(adapters: Adapters) {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let setup = setup(&app, "Sparkasse Alt").await;
    let html = text(&app.anonymous().get(&form_path(&setup)).await);
    let marker = "name=\"t\" value=\"";
    let start = html.find(marker).expect("a start time") + marker.len();
    let started = html[start..][..html[start..].find('"').unwrap()].to_owned();

    clock.advance(Duration::hours(2) + Duration::minutes(1));
    let replayed = unique_address("wiederholt");
    let body = format!("email={replayed}&t={started}");
    let reply = post_from(&app, &form_path(&setup), &body, "203.0.113.9").await;

    assert_eq!(reply.status, StatusCode::OK);
    assert!(contact_of(&app, &setup.tenant, &replayed).await.is_none());
    assert!(mails_to(&app, &replayed).await.is_empty());
}

async fn consent_evidence_is_for_editors_and_each_read_is_on_the_audit_log(adapters: Adapters) {
    let app = spawn(adapters).await;
    let setup = setup(&app, "Sparkasse Einsicht").await;
    let other = setup_other(&app).await;
    let address = unique_address("einsicht");
    sign_up(&app, &setup, &address).await;
    let id = id_of(&app, &setup.tenant, &address);
    let page_path = format!("/kontakte/{id}/einwilligung");
    let api_path = format!("/api/tenants/{}/contacts/{id}/consent", setup.tenant);
    let viewer = app
        .signed_in(Role::Viewer, Some(setup.tenant.as_str()))
        .await;

    assert_eq!(viewer.get(&page_path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(viewer.get(&api_path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(setup.editor.get(&page_path).await.status, StatusCode::OK);
    assert_eq!(setup.editor.get(&api_path).await.status, StatusCode::OK);
    // Another tenant's editor finds nothing.
    assert_eq!(other.get(&page_path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.get(&api_path).await.status, StatusCode::NOT_FOUND);

    let filter = Filter {
        action_prefix: Some("contact.consent_read".to_owned()),
        ..Filter::default()
    };
    let (entries, _) = audit::list(app.app(), Some(&setup.tenant), &filter, 50, None)
        .await
        .unwrap();
    let read: Vec<_> = entries
        .iter()
        .filter(|e| e.outcome == Outcome::Success)
        .collect();
    assert_eq!(read.len(), 2, "{entries:?}");
    assert!(
        read.iter()
            .all(|e| e.object.as_deref() == Some(id.as_str()))
    );
    let refused = entries
        .iter()
        .filter(|e| e.outcome == Outcome::Denied)
        .count();
    assert_eq!(refused, 2, "the viewer's attempts: {entries:?}");
}

/// An editor of another tenant.
async fn setup_other(app: &TestApp) -> Client {
    let tenant = create_tenant(app, "Sparkasse Fremd").await;
    app.signed_in(Role::Editor, Some(&tenant)).await
}

emma_tests::on_both_adapter_sets!(
    a_confirmed_sign_up_subscribes_the_contact_onto_the_list_with_evidence_of_both_steps,
    a_filled_honeypot_gets_the_same_answer_and_stores_nothing,
    a_hosted_form_sent_back_at_once_is_taken_for_a_bot,
    the_rate_limit_per_client_address_kicks_in,
    an_altered_or_expired_link_confirms_nothing,
    opening_the_link_confirms_nothing_and_confirming_twice_is_harmless,
    a_complaint_is_not_undone_by_a_sign_up_but_an_unsubscription_is_by_a_confirmed_one,
    expiry_removes_old_unconfirmed_contacts_and_keeps_confirmed_ones,
    another_tenants_form_is_not_found,
    a_changed_consent_text_gets_a_new_version_and_old_evidence_keeps_its_text,
    the_printable_evidence_page_shows_every_record,
    the_evidence_never_holds_the_live_link_and_the_link_as_sent_still_works,
    a_sign_up_for_a_contact_staff_created_never_expires_it,
    a_link_stops_working_when_its_form_is_deleted,
    an_unsubscription_after_the_sign_up_stops_its_link,
    an_erasure_forgets_the_pending_sign_ups_and_their_links,
    forgetting_a_contact_removes_its_pending_sign_ups_and_expiries,
    a_start_time_older_than_two_hours_is_taken_for_a_bot,
    consent_evidence_is_for_editors_and_each_read_is_on_the_audit_log,
);
