//! Tests of the template pages (Vorlagen): driven through `routes()` on an
//! app built by the real bootstrap in a temporary folder, with the
//! principal the access guard would insert put in place by a test layer.

use axum::http::{StatusCode, header};

use crate::domain::{ContactDraft, EmailAddress, PersonName, Role, TemplateId, Tenant};
use crate::services::{contacts, templates};

use super::i18n::{self, Lang};
use super::page_tests::{TestApp, get, local_app, post_form, send};

/// Creates a template on the page; returns its id.
async fn created(pages: &axum::Router, name: &str, kind: &str) -> String {
    let answer = send(
        pages,
        post_form("/vorlagen", &[("name", name), ("kind", kind)]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location().to_owned();
    let id = location
        .strip_prefix("/vorlagen/")
        .and_then(|rest| rest.strip_suffix("?hinweis=angelegt"))
        .unwrap_or_else(|| panic!("{location}"))
        .to_owned();
    assert_eq!(
        answer.headers[crate::http::access::AUDIT_OBJECT],
        id.as_str()
    );
    id
}

async fn versions_of(t: &TestApp, tenant: &Tenant, id: &str) -> Vec<u32> {
    templates::versions(&t.app, &tenant.id, &TemplateId::parse(id).unwrap())
        .await
        .unwrap()
        .iter()
        .map(|v| v.number)
        .collect()
}

/// The editor form's fields as the page shows them, with some replaced.
fn editor_fields<'a>(
    name: &'a str,
    subject: &'a str,
    body: &'a str,
    stand: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("kind", "html"),
        ("subject", subject),
        ("body", body),
        ("text", ""),
        ("stand", stand),
        ("vorschau_email", ""),
    ]
}

const BODY: &str = "<p>{{ contact.greeting }},</p><p>{{ contact.first_name }}</p>\
    <a href=\"{{ unsubscribe_url }}\">Abmelden</a>";

#[tokio::test]
async fn an_editor_creates_a_template_checks_it_and_saves_versions_on_the_page() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Vorlagen").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);

    let empty = send(&pages, get("/vorlagen")).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("Noch keine Vorlagen."));
    assert!(empty.body.contains("<form id=\"new-template\""));

    let id = created(&pages, "Dezember", "mjml").await;
    let page = send(&pages, get(&format!("/vorlagen/{id}?hinweis=angelegt"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Version 1 enthält einen Entwurf"));
    assert!(
        page.body.contains("&lt;mj-button"),
        "the starter is in the editor"
    );
    assert!(
        page.body
            .contains(&format!("src=\"/vorlagen/{id}/vorschau\"")),
        "the preview frame loads the current version"
    );
    assert!(page.body.contains("sandbox=\"\""));
    // The starter passes every check but the derived text part.
    assert!(
        page.body
            .contains("Die Textfassung wird aus dem HTML erzeugt")
    );
    assert!(!page.body.contains("class=\"check-error\""));
    assert!(
        page.body.contains("Neuigkeiten für Erika"),
        "the subject for the sample contact"
    );

    // A syntax error: refused beside the body with line and column; the
    // input is kept and nothing is saved.
    let broken = "<p>ok</p>\n<p>{{ contact.first_name }</p>";
    let refused = send(
        &pages,
        post_form(
            &format!("/vorlagen/{id}"),
            &editor_fields("Dezember", "Betreff", broken, "1"),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("id=\"template-body-error\""));
    assert!(refused.body.contains("Zeile 2, Spalte"), "{}", refused.body);
    assert!(
        refused.body.contains("{{ contact.first_name }&lt;"),
        "the input is kept"
    );
    assert_eq!(versions_of(&t, &tenant, &id).await, [1]);

    // A subject with a line break: refused beside the subject.
    let refused = send(
        &pages,
        post_form(
            &format!("/vorlagen/{id}"),
            &editor_fields("Dezember", "Betreff\r\nBcc: x@example.de", BODY, "1"),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("id=\"template-subject-error\""));

    // Saved: a new version; the first stays readable.
    let saved = send(
        &pages,
        post_form(
            &format!("/vorlagen/{id}"),
            &editor_fields("Dezember", "Hallo {{ contact.first_name }}", BODY, "1"),
        ),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        saved.location(),
        format!("/vorlagen/{id}?hinweis=gespeichert")
    );
    assert_eq!(versions_of(&t, &tenant, &id).await, [2, 1]);
    let older = send(&pages, get(&format!("/vorlagen/{id}?version=1"))).await;
    assert!(
        older
            .body
            .contains("Sie sehen Version 1 (aktuell ist Version 2)")
    );
    assert!(
        older
            .body
            .contains(&format!("src=\"/vorlagen/{id}/vorschau?version=1\""))
    );

    // Saving on the page loaded before that save: refused, nothing lost.
    let stale = send(
        &pages,
        post_form(
            &format!("/vorlagen/{id}"),
            &editor_fields("Dezember", "Veraltet", BODY, "1"),
        ),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale
            .body
            .contains("Inzwischen wurde Version 2 gespeichert")
    );
    assert!(
        stale.body.contains("value=\"Veraltet\""),
        "the input is kept"
    );
    assert_eq!(versions_of(&t, &tenant, &id).await, [2, 1]);

    // The check button: errors listed, nothing saved.
    let checked = send(
        &pages,
        post_form(
            &format!("/vorlagen/{id}/pruefen"),
            &editor_fields(
                "Dezember",
                "Hallo {{ contact.vorname }}",
                "<p>ohne Link</p>",
                "2",
            ),
        ),
    )
    .await;
    assert_eq!(checked.status, StatusCode::OK);
    assert!(
        checked
            .body
            .contains("Unbekannter Platzhalter „contact.vorname“")
    );
    assert!(
        checked
            .body
            .contains("Der Abmeldelink ({{ unsubscribe_url }}) fehlt im HTML.")
    );
    assert!(
        checked
            .body
            .contains("kann keine Kampagne mit dieser Vorlage geplant werden")
    );
    assert_eq!(versions_of(&t, &tenant, &id).await, [2, 1]);

    // Deleting needs the confirmation.
    let unconfirmed = send(&pages, post_form(&format!("/vorlagen/{id}/loeschen"), &[])).await;
    assert_eq!(unconfirmed.status, StatusCode::SEE_OTHER);
    assert_eq!(versions_of(&t, &tenant, &id).await, [2, 1]);
    let deleted = send(
        &pages,
        post_form(&format!("/vorlagen/{id}/loeschen"), &[("bestaetigt", "ja")]),
    )
    .await;
    assert_eq!(deleted.location(), "/vorlagen?hinweis=geloescht");
    let gone = send(&pages, get(&format!("/vorlagen/{id}"))).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_preview_frame_shows_the_mail_for_a_chosen_contact_under_its_own_sandbox() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Vorschau").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    let mut draft = ContactDraft::new(EmailAddress::parse("mallory@example.de").unwrap());
    draft.first_name = Some(PersonName::parse("<script>alert(1)</script>").unwrap());
    contacts::create(&t.app, &tenant.id, draft).await.unwrap();
    let id = created(&pages, "Vorschau", "html").await;

    let frame = send(&pages, get(&format!("/vorlagen/{id}/vorschau"))).await;
    assert_eq!(frame.status, StatusCode::OK);
    let csp = frame.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.starts_with("sandbox;"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script may run: {csp}");
    assert!(
        csp.contains("img-src https: data: http://127.0.0.1:8080;"),
        "images over https and the library's own: {csp}"
    );
    assert_eq!(frame.headers[header::X_FRAME_OPTIONS], "SAMEORIGIN");
    assert_eq!(frame.headers[header::CACHE_CONTROL], "no-store");
    assert!(
        frame.body.contains("Sehr geehrte Frau Mustermann"),
        "the sample contact"
    );

    // A draft, as a chosen contact whose name is markup: escaped.
    let fields = [
        ("kind", "html"),
        ("subject", "x"),
        ("body", BODY),
        ("text", ""),
        ("vorschau_email", "mallory@example.de"),
    ];
    let frame = send(&pages, post_form("/vorlagen/vorschau", &fields)).await;
    assert_eq!(frame.status, StatusCode::OK, "{}", frame.body);
    assert!(
        frame
            .body
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || frame.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        frame.body
    );
    assert!(!frame.body.contains("<script>"));
    assert!(
        frame.body.contains("/abmelden/"),
        "the contact's own unsubscribe link"
    );

    // An address that is no contact, and a draft that does not compile:
    // a notice in the frame, under the same policy.
    let mut unknown = fields;
    unknown[4] = ("vorschau_email", "niemand@example.de");
    let notice = send(&pages, post_form("/vorlagen/vorschau", &unknown)).await;
    assert_eq!(notice.status, StatusCode::BAD_REQUEST);
    assert!(
        notice
            .body
            .contains("Unter dieser Adresse gibt es keinen Kontakt")
    );
    assert!(
        notice.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("sandbox;")
    );
    let mut broken = fields;
    broken[2] = ("body", "{% if %}");
    broken[4] = ("vorschau_email", "");
    let notice = send(&pages, post_form("/vorlagen/vorschau", &broken)).await;
    assert_eq!(notice.status, StatusCode::BAD_REQUEST);
    assert!(notice.body.contains("Zeile 1"), "{}", notice.body);
}

#[tokio::test]
async fn a_viewer_reads_templates_but_cannot_create_save_or_delete_them() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Lesen").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let id = created(&t.pages_of(&editor), "Dezember", "mjml").await;
    let viewer = t.user(Role::Viewer, &tenant).await;
    let pages = t.pages_of(&viewer);

    let list = send(&pages, get("/vorlagen")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Dezember"));
    assert!(!list.body.contains("<form id=\"new-template\""));
    let page = send(&pages, get(&format!("/vorlagen/{id}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Als neue Version speichern"));
    assert!(!page.body.contains("<form id=\"template-delete\""));
    for (path, fields) in [
        (
            "/vorlagen".to_owned(),
            vec![("name", "Neu"), ("kind", "html")],
        ),
        (
            format!("/vorlagen/{id}"),
            editor_fields("x", "y", BODY, "1"),
        ),
        (
            format!("/vorlagen/{id}/loeschen"),
            vec![("bestaetigt", "ja")],
        ),
    ] {
        let refused = send(&pages, post_form(&path, &fields)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(versions_of(&t, &tenant, &id).await, [1]);
}

#[test]
fn every_check_message_is_in_both_catalogues() {
    for id in [
        "templates-notice-created",
        "templates-notice-saved",
        "templates-notice-deleted",
        "templates-kind-mjml",
        "templates-kind-html",
        "templates-notice-test-sent",
        "templates-problem-test-send",
        "templates-problem-test-none",
        "templates-problem-test-address",
        "templates-problem-test-too-many",
    ] {
        for lang in Lang::ALL {
            assert!(i18n::has(lang, id), "{id} missing in {lang:?}");
        }
    }
    for code in [
        "subject_empty",
        "subject_long",
        "unknown_field",
        "unsubscribe_missing",
        "text_derived",
        "text_empty",
        "text_unsubscribe_missing",
        "html_too_large",
        "image_alt_missing",
        "image_not_https",
        "script",
        "link_anchor",
        "link_scheme",
    ] {
        let id = format!("templates-check-{}", code.replace('_', "-"));
        for lang in Lang::ALL {
            assert!(i18n::has(lang, &id), "{id} missing in {lang:?}");
        }
    }
}

#[tokio::test]
async fn the_test_form_sends_to_the_typed_addresses_and_refuses_eleven() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Testversand").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    let id = created(&pages, "Dezember", "mjml").await;
    let page = send(&pages, get(&format!("/vorlagen/{id}"))).await;
    assert!(page.body.contains("<form id=\"template-test\""));

    let sent = send(
        &pages,
        post_form(
            &format!("/vorlagen/{id}/test"),
            &[
                ("version", "1"),
                ("vorschau_email", ""),
                ("adressen", "redaktion@example.de\nchefin@example.de"),
            ],
        ),
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(
        sent.location(),
        format!("/vorlagen/{id}?hinweis=test-gesendet")
    );

    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}@example.de")).collect();
    let refused = send(
        &pages,
        post_form(
            &format!("/vorlagen/{id}/test"),
            &[("version", "1"), ("adressen", &eleven.join("\n"))],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("id=\"template-test-error\""));
    assert!(
        refused.body.contains("Höchstens 10 Adressen je Test."),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("t10@example.de"), "the input is kept");

    // A viewer has no test form and may not send.
    let viewer = t.user(Role::Viewer, &tenant).await;
    let viewer_pages = t.pages_of(&viewer);
    let page = send(&viewer_pages, get(&format!("/vorlagen/{id}"))).await;
    assert!(!page.body.contains("<form id=\"template-test\""));
    let refused = send(
        &viewer_pages,
        post_form(
            &format!("/vorlagen/{id}/test"),
            &[("adressen", "x@example.de")],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
