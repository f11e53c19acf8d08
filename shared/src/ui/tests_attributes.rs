//! Tests of the attribute page (Felder) and of the attribute inputs on the
//! contact pages: driven through `routes()` on an app built by the real
//! bootstrap in a temporary folder, with the principal the access guard
//! would insert put in place by a test layer.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::NaiveDate;

use crate::domain::{
    AttributeKind, AttributeName, AttributeValue, ContactDraft, EmailAddress, Number, Role, Tenant,
};
use crate::services::{attributes, contacts};

use super::page_tests::{TestApp, get, local_app, post_form, send};

impl TestApp {
    /// Defines the fields a bank keeps, one of each kind.
    async fn bank_fields(&self, tenant: &Tenant) {
        for (name, label, kind) in [
            ("kundennummer", "Kundennummer", AttributeKind::Text),
            ("volumen", "Anlagevolumen", AttributeKind::Number),
            ("geburtstag", "Geburtstag", AttributeKind::Date),
            ("privat", "Privatkunde", AttributeKind::Boolean),
        ] {
            attributes::create(&self.app, &tenant.id, name, label, kind)
                .await
                .unwrap();
        }
    }
}

/// A form of the page, from its opening tag to its end.
fn form<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("<form id=\"{id}\""))
        .unwrap_or_else(|| panic!("no form {id}"));
    let end = body[start..].find("</form>").unwrap() + start;
    &body[start..end]
}

fn name(raw: &str) -> AttributeName {
    AttributeName::parse(raw).unwrap()
}

#[tokio::test]
async fn an_editor_defines_relabels_and_deletes_a_field_on_the_felder_page() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Felder").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);

    let empty = send(&pages, get("/felder")).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("Noch keine eigenen Felder."));
    assert!(
        empty
            .body
            .contains("href=\"&#x2f;felder\" aria-current=\"page\">Felder</a>")
    );
    let new = form(&empty.body, "new-attribute");
    assert!(new.contains("<option value=\"date\">Datum</option>"));
    assert!(new.contains("<label for=\"new-attribute-name\">Name</label>"));

    let created = send(
        &pages,
        post_form(
            "/felder",
            &[
                ("label", "Geburtstag"),
                ("name", "geburtstag"),
                ("kind", "date"),
            ],
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    assert_eq!(created.location(), "/felder?hinweis=angelegt");
    assert_eq!(
        created.headers[crate::http::access::AUDIT_OBJECT],
        "geburtstag"
    );
    let listed = send(&pages, get("/felder?hinweis=angelegt")).await;
    assert!(listed.body.contains("Das Feld ist angelegt."));
    assert!(listed.body.contains("<th scope=\"row\">Geburtstag</th>"));
    assert!(listed.body.contains("<code>geburtstag</code>"));

    // A bad name, a taken one, and a kind not offered: beside the field.
    let bad = send(
        &pages,
        post_form(
            "/felder",
            &[
                ("label", "Kunden-Nr."),
                ("name", "Kunden-Nr"),
                ("kind", "text"),
            ],
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"new-attribute-name-error\""));
    assert!(
        bad.body.contains("value=\"Kunden-Nr.\""),
        "the input is kept"
    );
    let taken = send(
        &pages,
        post_form(
            "/felder",
            &[
                ("label", "Noch einmal"),
                ("name", "geburtstag"),
                ("kind", "text"),
            ],
        ),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(
        taken
            .body
            .contains("Ein Feld mit diesem Namen gibt es schon.")
    );
    let no_kind = send(
        &pages,
        post_form(
            "/felder",
            &[("label", "Farbe"), ("name", "farbe"), ("kind", "farbe")],
        ),
    )
    .await;
    assert_eq!(no_kind.status, StatusCode::BAD_REQUEST);
    assert!(no_kind.body.contains("id=\"new-attribute-kind-error\""));

    let relabelled = send(
        &pages,
        post_form("/felder/geburtstag", &[("label", "Geburtsdatum")]),
    )
    .await;
    assert_eq!(relabelled.location(), "/felder?hinweis=gespeichert");
    let stored = attributes::get(&t.app, &tenant.id, &name("geburtstag"))
        .await
        .unwrap();
    assert_eq!(stored.label, "Geburtsdatum");
    assert_eq!(stored.kind, AttributeKind::Date);
    let empty_label = send(&pages, post_form("/felder/geburtstag", &[("label", "")])).await;
    assert_eq!(empty_label.status, StatusCode::BAD_REQUEST);
    assert!(empty_label.body.contains("id=\"label-geburtstag-error\""));

    let unconfirmed = send(&pages, post_form("/felder/geburtstag/loeschen", &[])).await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(unconfirmed.body.contains("id=\"delete-geburtstag-error\""));
    let deleted = send(
        &pages,
        post_form("/felder/geburtstag/loeschen", &[("bestaetigt", "ja")]),
    )
    .await;
    assert_eq!(deleted.location(), "/felder?hinweis=geloescht");
    assert!(
        attributes::list(&t.app, &tenant.id)
            .await
            .unwrap()
            .is_empty()
    );
    let gone = send(
        &pages,
        post_form("/felder/geburtstag/loeschen", &[("bestaetigt", "ja")]),
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_contact_forms_offer_an_input_per_field_and_read_german_numbers_and_dates() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Eingabe").await;
    t.bank_fields(&tenant).await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);

    let list = send(&pages, get("/kontakte")).await;
    let new = form(&list.body, "new-contact");
    assert!(new.contains("<label for=\"new-attr-volumen\">Anlagevolumen</label>"));
    assert!(new.contains(
        "id=\"new-attr-volumen\" name=\"attributes.volumen\" type=\"text\" inputmode=\"decimal\""
    ));
    assert!(
        new.contains("id=\"new-attr-geburtstag\" name=\"attributes.geburtstag\" type=\"date\"")
    );
    assert!(new.contains("<select id=\"new-attr-privat\" name=\"attributes.privat\">"));
    assert!(new.contains("<option value=\"ja\">ja</option>"));

    let created = send(
        &pages,
        post_form(
            "/kontakte",
            &[
                ("email", "erika@example.de"),
                ("language", "de"),
                ("status", "unconfirmed"),
                ("attributes.kundennummer", " 0815 "),
                ("attributes.volumen", "1.234,5"),
                ("attributes.geburtstag", "1980-05-17"),
                ("attributes.privat", "ja"),
            ],
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let email = EmailAddress::parse("erika@example.de").unwrap();
    let id = contacts::id_for(&t.app, &tenant.id, &email);
    let stored = contacts::get(&t.app, &tenant.id, &id).await.unwrap();
    assert_eq!(
        stored.attributes[&name("volumen")],
        AttributeValue::Number(Number::new(1234.5).unwrap())
    );
    assert_eq!(
        stored.attributes[&name("geburtstag")],
        AttributeValue::Date(NaiveDate::from_ymd_opt(1980, 5, 17).unwrap())
    );
    assert_eq!(
        stored.attributes[&name("kundennummer")],
        AttributeValue::Text("0815".into())
    );
    assert_eq!(
        stored.attributes[&name("privat")],
        AttributeValue::Boolean(true)
    );

    // The page shows the values as Germans read them, and the edit form
    // holds them ready to change.
    let page = send(&pages, get(created.location())).await;
    for shown in [
        "<dt>Anlagevolumen</dt><dd>1234,5</dd>",
        "<dt>Geburtstag</dt><dd>17.05.1980</dd>",
        "<dt>Privatkunde</dt><dd>ja</dd>",
        "<dt>Kundennummer</dt><dd>0815</dd>",
    ] {
        assert!(page.body.contains(shown), "missing {shown}");
    }
    let edit = form(&page.body, "contact-edit");
    assert!(edit.contains("name=\"attributes.volumen\""));
    assert!(edit.contains("value=\"1234,5\""));
    assert!(edit.contains("value=\"1980-05-17\""));
    assert!(edit.contains("<option value=\"ja\" selected>ja</option>"));
    let stand = {
        let marker = "name=\"stand\" value=\"";
        let start = edit.find(marker).unwrap() + marker.len();
        edit[start..start + edit[start..].find('"').unwrap()].to_owned()
    };

    let saved = send(
        &pages,
        post_form(
            &format!("/kontakte/{id}"),
            &[
                ("stand", stand.as_str()),
                ("language", "de"),
                ("attributes.kundennummer", ""),
                ("attributes.volumen", "2,5"),
                ("attributes.geburtstag", "31.12.1979"),
                ("attributes.privat", "nein"),
            ],
        ),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let changed = contacts::get(&t.app, &tenant.id, &id).await.unwrap();
    assert!(
        !changed.attributes.contains_key(&name("kundennummer")),
        "an emptied field removes the value"
    );
    assert_eq!(
        changed.attributes[&name("volumen")],
        AttributeValue::Number(Number::new(2.5).unwrap())
    );
    assert_eq!(
        changed.attributes[&name("geburtstag")],
        AttributeValue::Date(NaiveDate::from_ymd_opt(1979, 12, 31).unwrap())
    );
    assert_eq!(
        changed.attributes[&name("privat")],
        AttributeValue::Boolean(false)
    );
}

#[tokio::test]
async fn a_bad_attribute_value_is_shown_beside_its_field_and_nothing_is_stored() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Fehler").await;
    t.bank_fields(&tenant).await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);

    let refused = send(
        &pages,
        post_form(
            "/kontakte",
            &[
                ("email", "falsch@example.de"),
                ("attributes.volumen", "sehr viel"),
                ("attributes.kundennummer", "4711"),
            ],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let new = form(&refused.body, "new-contact");
    assert!(new.contains("aria-invalid=\"true\""));
    assert!(new.contains("id=\"new-attr-volumen-error\""));
    assert!(new.contains("value=\"sehr viel\""), "the input is kept");
    assert!(new.contains("value=\"4711\""));
    assert!(
        refused
            .body
            .contains("Bitte prüfen Sie das Feld „Anlagevolumen“")
    );
    let email = EmailAddress::parse("falsch@example.de").unwrap();
    assert!(
        contacts::find_by_email(&t.app, &tenant.id, &email)
            .await
            .unwrap()
            .is_none()
    );

    let date = send(
        &pages,
        post_form(
            "/kontakte",
            &[
                ("email", "falsch@example.de"),
                ("attributes.geburtstag", "31.02.1980"),
            ],
        ),
    )
    .await;
    assert_eq!(date.status, StatusCode::BAD_REQUEST);
    assert!(date.body.contains("id=\"new-attr-geburtstag-error\""));
}

#[tokio::test]
async fn a_viewer_reads_the_values_but_neither_sees_nor_opens_the_felder_page() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Lesen").await;
    t.bank_fields(&tenant).await;
    let mut draft = ContactDraft::new(EmailAddress::parse("lesen@example.de").unwrap());
    draft
        .attributes
        .insert(name("privat"), AttributeValue::Boolean(false));
    let contact = contacts::create(&t.app, &tenant.id, draft).await.unwrap();
    let viewer = t.user(Role::Viewer, &tenant).await;
    let pages = t.pages_of(&viewer);

    let page = send(&pages, get(&format!("/kontakte/{}", contact.id))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<dt>Privatkunde</dt><dd>nein</dd>"));
    assert!(!page.body.contains("name=\"attributes.privat\""));
    assert!(!page.body.contains("href=\"&#x2f;felder\""));
    assert_eq!(
        send(&pages, get("/felder")).await.status,
        StatusCode::FORBIDDEN
    );
    let refused = send(
        &pages,
        post_form(
            "/felder",
            &[("label", "X"), ("name", "x"), ("kind", "text")],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(attributes::list(&t.app, &tenant.id).await.unwrap().len(), 4);
}

#[test]
fn every_attribute_message_chosen_at_run_time_is_in_both_catalogues() {
    use super::i18n::{self, Lang};
    let ids = super::attributes::KINDS.iter().map(|(_, id)| *id).chain([
        "attributes-notice-created",
        "attributes-notice-saved",
        "attributes-notice-deleted",
        "attribute-problem-text",
        "attribute-problem-number",
        "attribute-problem-date",
        "attribute-problem-boolean",
        "attributes-problem-too-many",
    ]);
    for id in ids {
        for lang in Lang::ALL {
            assert!(i18n::has(lang, id), "{id} missing in {lang:?}");
        }
    }
}

#[tokio::test]
async fn the_felder_page_and_the_values_speak_english_on_request() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse English").await;
    t.bank_fields(&tenant).await;
    let mut draft = ContactDraft::new(EmailAddress::parse("en@example.de").unwrap());
    draft.attributes.insert(
        name("volumen"),
        AttributeValue::Number(Number::new(1234.5).unwrap()),
    );
    draft.attributes.insert(
        name("geburtstag"),
        AttributeValue::Date(NaiveDate::from_ymd_opt(1980, 5, 17).unwrap()),
    );
    let contact = contacts::create(&t.app, &tenant.id, draft).await.unwrap();
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    let english = |path: &str| {
        Request::get(path)
            .header(header::COOKIE, "emma_lang=en")
            .body(Body::empty())
            .unwrap()
    };

    let felder = send(&pages, english("/felder")).await;
    assert_eq!(felder.status, StatusCode::OK);
    assert!(
        felder
            .body
            .contains("<option value=\"boolean\">Yes&#x2f;no</option>")
    );
    assert!(felder.body.contains(">Fields</a>"));
    let page = send(&pages, english(&format!("/kontakte/{}", contact.id))).await;
    assert!(page.body.contains("<dt>Anlagevolumen</dt><dd>1234.5</dd>"));
    assert!(
        page.body
            .contains("<dt>Geburtstag</dt><dd>17&#x2f;05&#x2f;1980</dd>")
    );
    assert!(
        page.body.contains("value=\"1234.5\""),
        "the input in English"
    );
}

#[tokio::test]
async fn the_guarded_felder_forms_need_the_csrf_token_and_are_audited_with_the_name() {
    use crate::services::audit::{self, Filter, Outcome};
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Protokoll").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let (token, _) = crate::services::sessions::start(&t.app, &editor)
        .await
        .unwrap();
    let cookie = format!("emma_session={}", token.as_str());
    // The pages as served: behind the access guard.
    let router = crate::http::ui_router(t.app.clone());
    let with_cookie = |request: axum::http::request::Builder| {
        request
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, "http://127.0.0.1:8080")
    };
    let post = |path: &str, fields: &[(&str, &str)]| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        with_cookie(Request::post(path))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let page = send(
        &router,
        with_cookie(Request::get("/felder"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = {
        let marker = "name=\"csrf_token\" value=\"";
        let start = page.body.find(marker).unwrap() + marker.len();
        page.body[start..start + page.body[start..].find('"').unwrap()].to_owned()
    };
    let fields = [
        ("label", "Kundennummer"),
        ("name", "kundennummer"),
        ("kind", "text"),
    ];

    let forged = send(&router, post("/felder", &fields)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        attributes::list(&t.app, &tenant.id)
            .await
            .unwrap()
            .is_empty()
    );

    let mut with_token = vec![("csrf_token", csrf.as_str())];
    with_token.extend(fields);
    let created = send(&router, post("/felder", &with_token)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let relabelled = send(
        &router,
        post(
            "/felder/kundennummer",
            &[("csrf_token", csrf.as_str()), ("label", "Kunden-Nr.")],
        ),
    )
    .await;
    assert_eq!(relabelled.status, StatusCode::SEE_OTHER);
    let deleted = send(
        &router,
        post(
            "/felder/kundennummer/loeschen",
            &[("csrf_token", csrf.as_str()), ("bestaetigt", "ja")],
        ),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);

    let filter = Filter {
        action_prefix: Some("attribute.".to_owned()),
        outcome: Some(Outcome::Success),
        ip_hash: None,
    };
    let (entries, _) = audit::list(&t.app, Some(&tenant.id), &filter, 10, None)
        .await
        .unwrap();
    let mut logged: Vec<(String, Option<String>)> =
        entries.into_iter().map(|e| (e.action, e.object)).collect();
    logged.sort();
    let name = Some("kundennummer".to_owned());
    assert_eq!(
        logged,
        [
            ("attribute.create".to_owned(), name.clone()),
            ("attribute.delete".to_owned(), name.clone()),
            ("attribute.update".to_owned(), name),
        ]
    );
}
