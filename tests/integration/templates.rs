//! Templates on both adapter sets: saved only when they compile (the error
//! names part, line and column), every save a new version with the old
//! ones unchanged, a save on a stale version refused, a subject with a line
//! break refused, previews rendered for a chosen contact with the content
//! checks, and another tenant's template not found.

use emma::domain::Role;
use emma_tests::app::{Adapters, spawn};
use emma_tests::http::Client;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::skeleton::{create_contact, create_tenant};

emma_tests::on_both_adapter_sets!(
    a_template_that_does_not_compile_is_refused_with_its_position_and_nothing_is_stored,
    every_save_is_a_new_version_and_earlier_versions_stay_as_they_were,
    a_save_based_on_a_stale_version_is_refused_and_writes_nothing,
    a_preview_renders_for_the_chosen_contact_with_the_content_checks,
    another_tenants_template_is_not_found,
    a_test_send_reaches_each_address_marked_as_a_test_and_unsubscribes_nobody,
    a_test_send_to_no_address_too_many_or_a_bad_one_sends_nothing,
);

const BODY: &str = r#"<mjml><mj-body><mj-section><mj-column>
<mj-text>{{ contact.greeting }}, {{ contact.first_name | default("liebe Kundin, lieber Kunde") }}!</mj-text>
<mj-button href="https://sparkasse.example/zinsen">Zu den Zinsen</mj-button>
<mj-text><a href="{{ unsubscribe_url }}">Abmelden</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"#;

fn template(name: &str, subject: &str, body: &str) -> Value {
    json!({ "name": name, "kind": "mjml", "subject": subject, "body": body })
}

async fn create(editor: &Client, tenant: &str, body: &Value) -> Value {
    let reply = editor
        .post_json(&format!("/api/tenants/{tenant}/templates"), body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json
}

async fn count(editor: &Client, tenant: &str) -> usize {
    let reply = editor
        .get(&format!("/api/tenants/{tenant}/templates"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json["templates"].as_array().unwrap().len()
}

async fn a_template_that_does_not_compile_is_refused_with_its_position_and_nothing_is_stored(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Vorlagen").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let path = format!("/api/tenants/{tenant}/templates");

    let broken = BODY.replace("{{ contact.greeting }}", "{{ contact.greeting }");
    let reply = editor
        .post_json(&path, &template("Kaputt", "Betreff", &broken))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json);
    assert_eq!(reply.json["field"], "body");
    let detail = reply.json["detail"].as_str().unwrap();
    assert!(detail.contains("line 2"), "{detail}");

    let reply = editor
        .post_json(
            &path,
            &template("Zwei Zeilen", "Betreff\r\nBcc: x@example.de", BODY),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json);
    assert_eq!(reply.json["field"], "subject");

    let reply = editor
        .post_json(
            &path,
            &template("Ungültiges MJML", "Betreff", "<mjml><mj-body>"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json);
    assert_eq!(reply.json["field"], "body");

    assert_eq!(count(&editor, &tenant).await, 0, "nothing was stored");
}

async fn every_save_is_a_new_version_and_earlier_versions_stay_as_they_were(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Versionen").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let created = create(
        &editor,
        &tenant,
        &template("Dezember", "Erste Fassung", BODY),
    )
    .await;
    let id = created["template"]["id"].as_str().unwrap();
    assert_eq!(created["template"]["current_version"], 1);
    let item = format!("/api/tenants/{tenant}/templates/{id}");

    let mut second = template("Dezember-Newsletter", "Zweite Fassung", BODY);
    second["based_on"] = json!(1);
    second["text"] = json!("Hallo {{ contact.first_name }}\nAbmelden: {{ unsubscribe_url }}");
    let saved = editor.json(Method::PUT, &item, &second).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.json);
    assert_eq!(saved.json["template"]["current_version"], 2);
    assert_eq!(saved.json["template"]["name"], "Dezember-Newsletter");

    let current = editor.get(&item).await;
    assert_eq!(current.json["version"]["number"], 2);
    assert_eq!(current.json["version"]["subject"], "Zweite Fassung");
    let first = editor.get(&format!("{item}/versions/1")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["version"]["subject"], "Erste Fassung");
    assert_eq!(first.json["version"]["body"], BODY);
    assert_eq!(first.json["version"]["text"], Value::Null);

    let versions = editor.get(&format!("{item}/versions")).await;
    let numbers: Vec<u64> = versions.json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    let missing = editor.get(&format!("{item}/versions/3")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // The first version previews as it was written.
    let preview = editor.get(&format!("{item}/preview?version=1")).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.json);
    assert_eq!(preview.json["subject"], "Erste Fassung");

    let deleted = editor.delete(&item).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(editor.get(&item).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        editor.get(&format!("{item}/versions/1")).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn a_save_based_on_a_stale_version_is_refused_and_writes_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Gleichzeitig").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let created = create(&editor, &tenant, &template("Dezember", "Eins", BODY)).await;
    let item = format!(
        "/api/tenants/{tenant}/templates/{}",
        created["template"]["id"].as_str().unwrap()
    );
    let mut first_editor = template("Dezember", "Zwei", BODY);
    first_editor["based_on"] = json!(1);
    assert_eq!(
        editor.json(Method::PUT, &item, &first_editor).await.status,
        StatusCode::OK
    );
    let mut second_editor = template("Dezember", "Auch zwei", BODY);
    second_editor["based_on"] = json!(1);
    let refused = editor.json(Method::PUT, &item, &second_editor).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.json);
    let current = editor.get(&item).await;
    assert_eq!(current.json["template"]["current_version"], 2);
    assert_eq!(current.json["version"]["subject"], "Zwei");

    // A broken save writes nothing either.
    let mut broken = template("Dezember", "Drei", "{% if %}");
    broken["based_on"] = json!(2);
    let refused = editor.json(Method::PUT, &item, &broken).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.json);
    assert_eq!(
        editor.get(&item).await.json["template"]["current_version"],
        2
    );
}

async fn a_preview_renders_for_the_chosen_contact_with_the_content_checks(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Vorschau").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let contact = create_contact(&app, &tenant, "jana@example.de", "Jana").await;
    let path = format!("/api/tenants/{tenant}/templates/preview");

    let mut draft = template("", "Hallo {{ contact.first_name }}", BODY);
    draft.as_object_mut().unwrap().remove("name");
    draft["contact_id"] = json!(contact);
    let preview = editor.post_json(&path, &draft).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.json);
    assert_eq!(preview.json["subject"], "Hallo Jana");
    let html = preview.json["html"].as_str().unwrap();
    assert!(html.contains("Jana!"), "rendered for the contact");
    assert!(
        html.contains("/abmelden/"),
        "with the contact's unsubscribe link"
    );
    assert!(preview.json["text"].as_str().unwrap().contains("Jana"));
    let codes: Vec<&str> = preview.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["text_derived"], "{}", preview.json["findings"]);

    // Without a contact: the sample contact; without an unsubscribe link
    // and with an unknown field: errors that would block scheduling.
    let mut bad = template("", "Hallo {{ contact.vorname }}", "<p>Ohne Abmeldelink</p>");
    bad.as_object_mut().unwrap().remove("name");
    bad["kind"] = json!("html");
    let preview = editor.post_json(&path, &bad).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.json);
    let errors: Vec<(&str, &str)> = preview.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| (f["code"].as_str().unwrap(), f["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            ("unknown_field", "contact.vorname"),
            ("unsubscribe_missing", "")
        ]
    );

    // A contact of nobody: not found.
    draft["contact_id"] = json!("f".repeat(32));
    let reply = editor.post_json(&path, &draft).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.json);
}

async fn another_tenants_template_is_not_found(adapters: Adapters) {
    let app = spawn(adapters).await;
    let a = create_tenant(&app, "Sparkasse A").await;
    let b = create_tenant(&app, "Sparkasse B").await;
    let editor_b = app.signed_in(Role::Editor, Some(&b)).await;
    let of_b = create(&editor_b, &b, &template("Nur B", "Geheim", BODY)).await;
    let id = of_b["template"]["id"].as_str().unwrap();
    let editor_a = app.signed_in(Role::Editor, Some(&a)).await;
    for path in [
        format!("/api/tenants/{a}/templates/{id}"),
        format!("/api/tenants/{a}/templates/{id}/versions/1"),
        format!("/api/tenants/{a}/templates/{id}/preview"),
    ] {
        let reply = editor_a.get(&path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let reply = editor_a
        .json(
            Method::PUT,
            &format!("/api/tenants/{a}/templates/{id}"),
            &template("Übernommen", "x", BODY),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&editor_a, &a).await, 0);
    // B's own path, from A: not found either.
    let reply = editor_a
        .get(&format!("/api/tenants/{b}/templates/{id}"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

async fn a_test_send_reaches_each_address_marked_as_a_test_and_unsubscribes_nobody(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Test").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let contact = create_contact(&app, &tenant, "jana@example.de", "Jana").await;
    let contact_path = format!("/api/tenants/{tenant}/contacts/{contact}");
    let status_before = editor.get(&contact_path).await.json["status"].clone();
    let created = create(
        &editor,
        &tenant,
        &template("Dezember", "Hallo {{ contact.first_name }}", BODY),
    )
    .await;
    let id = created["template"]["id"].as_str().unwrap();
    let reply = editor
        .post_json(
            &format!("/api/tenants/{tenant}/templates/{id}/test-send"),
            &json!({
                "addresses": ["redaktion@example.de", " chefin@example.de ", "redaktion@example.de"],
                "contact_id": contact,
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let sent = reply.json["sent"].as_array().unwrap();
    assert_eq!(sent.len(), 2, "each address once: {}", reply.json);
    for (entry, to) in sent
        .iter()
        .zip(["redaktion@example.de", "chefin@example.de"])
    {
        assert_eq!(entry["to"], to);
        let message_id = entry["message_id"].as_str().unwrap();
        let raw = emma_tests::sent::messages_containing(&app, message_id).await;
        assert_eq!(raw.len(), 1, "one message to {to}");
        let parsed = mail_parser::MessageParser::default()
            .parse(&raw[0])
            .expect("a parsable message");
        assert_eq!(parsed.subject(), Some("[Test] Hallo Jana"));
        assert_eq!(
            parsed
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address()),
            Some(to)
        );
        assert_eq!(parsed.header_raw("X-EMMA-Test").map(str::trim), Some("1"));
        let unsubscribe = parsed.header_raw("List-Unsubscribe").unwrap();
        assert!(
            unsubscribe.contains("<http")
                && unsubscribe.contains("/abmelden/")
                && unsubscribe.contains("<mailto:"),
            "{unsubscribe}"
        );
        assert_eq!(
            parsed.header_raw("List-Unsubscribe-Post").map(str::trim),
            Some("List-Unsubscribe=One-Click")
        );
        let html = parsed.body_html(0).expect("an HTML part");
        assert!(html.contains("Jana!"), "rendered for the chosen contact");
        assert!(
            html.contains("https://sparkasse.example/zinsen"),
            "a test's links are not tracked"
        );
        assert!(parsed.body_text(0).expect("a text part").contains("Jana"));
        // The unsubscribe link names nobody: following it changes nothing.
        let link = unsubscribe
            .split(['<', '>'])
            .find(|part| part.contains("/abmelden/"))
            .unwrap();
        let path = url::Url::parse(link).unwrap().path().to_owned();
        let request = http::Request::post(&path)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(axum::body::Body::from("List-Unsubscribe=One-Click"))
            .unwrap();
        let answer = emma_tests::http::call(&app.router(), request).await;
        assert!(answer.status.is_success(), "{}", answer.status);
    }
    let person = editor.get(&contact_path).await;
    assert_eq!(
        person.json["status"], status_before,
        "nobody was unsubscribed"
    );
    assert_ne!(person.json["status"], "unsubscribed");
}

async fn a_test_send_to_no_address_too_many_or_a_bad_one_sends_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Zuviel").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let body = BODY.replace("Zu den Zinsen", &marker);
    let created = create(&editor, &tenant, &template("Dezember", "Betreff", &body)).await;
    let id = created["template"]["id"].as_str().unwrap();
    let path = format!("/api/tenants/{tenant}/templates/{id}/test-send");
    let eleven: Vec<String> = (0..11).map(|i| format!("test{i}@example.de")).collect();
    for (addresses, expected) in [
        (json!([]), "at least one"),
        (json!(eleven), "at most 10"),
        (json!(["gut@example.de", "kein-at-zeichen"]), "address 2"),
    ] {
        let reply = editor
            .post_json(&path, &json!({ "addresses": addresses }))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json);
        assert_eq!(reply.json["field"], "addresses");
        let detail = reply.json["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{detail}");
    }
    // A viewer may not send tests at all.
    let viewer = app.signed_in(Role::Viewer, Some(&tenant)).await;
    let reply = viewer
        .post_json(&path, &json!({ "addresses": ["x@example.de"] }))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        emma_tests::sent::messages_containing(&app, &marker)
            .await
            .is_empty(),
        "nothing was sent"
    );
}
