//! Segments on both adapter sets: filters of each kind select exactly
//! their contacts, the count equals the contacts listed page by page, bad
//! conditions are refused by name, another tenant's segment is not found,
//! exports of a list or a segment hold exactly their contacts, and the
//! list and segment pages render with a live count. The editor reads every
//! row (an emptied row ends nothing), stale attribute values of another
//! kind count as empty, counts are kept for a minute, and a save on an
//! older version is refused.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use emma::domain::{ContactDraft, ContactStatus, EmailAddress, Role, TenantId};
use emma::ports::ManualClock;
use emma::services::contacts;
use emma_tests::app::{Adapters, TestApp, spawn, spawn_with_clock};
use emma_tests::http::Client;
use http::StatusCode;
use serde_json::{Value, json};

use crate::skeleton::create_tenant;

emma_tests::on_both_adapter_sets!(
    filters_of_each_kind_select_exactly_their_contacts_and_the_count_matches_the_listing,
    a_bad_condition_is_refused_naming_its_index_and_part_and_nothing_is_saved,
    another_tenants_segment_is_not_found,
    an_export_of_a_list_or_a_segment_holds_exactly_their_contacts,
    the_list_and_segment_pages_render_and_the_count_route_answers,
    a_condition_after_a_row_reset_to_the_empty_choice_still_counts_and_is_saved,
    a_stale_attribute_value_of_another_kind_is_neither_set_nor_exported,
    a_count_is_kept_for_a_minute_and_the_count_button_counts_anew,
    a_change_made_on_an_older_version_of_a_segment_is_refused,
);

async fn attribute(editor: &Client, tenant: &str, name: &str, kind: &str) {
    let reply = editor
        .post_json(
            &format!("/api/tenants/{tenant}/attributes"),
            &json!({ "name": name, "label": name.to_uppercase(), "kind": kind }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
}

async fn contact(editor: &Client, tenant: &str, body: Value) -> String {
    let reply = editor
        .post_json(&format!("/api/tenants/{tenant}/contacts"), &body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["id"].as_str().unwrap().to_owned()
}

async fn new_list(editor: &Client, tenant: &str, name: &str) -> String {
    let reply = editor
        .post_json(
            &format!("/api/tenants/{tenant}/lists"),
            &json!({ "name": name }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["id"].as_str().unwrap().to_owned()
}

async fn add_member(editor: &Client, tenant: &str, list: &str, contact: &str) {
    let reply = editor
        .json(
            http::Method::PUT,
            &format!("/api/tenants/{tenant}/lists/{list}/members/{contact}"),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.json);
}

/// The e-mail addresses of every contact a saved segment lists, page by
/// page of `limit`.
async fn listed(editor: &Client, tenant: &str, segment: &str, limit: u32) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/tenants/{tenant}/segments/{segment}/contacts?limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!(
                "&cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            ));
        }
        let page = editor.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.json);
        let contacts = page.json["contacts"].as_array().unwrap();
        assert!(contacts.len() <= limit as usize);
        for c in contacts {
            assert!(
                seen.insert(c["email"].as_str().unwrap().to_owned()),
                "listed twice: {c}"
            );
        }
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

fn local_parts(emails: &BTreeSet<String>) -> BTreeSet<String> {
    emails
        .iter()
        .map(|e| e.split('@').next().unwrap().to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

async fn filters_of_each_kind_select_exactly_their_contacts_and_the_count_matches_the_listing(
    adapters: Adapters,
) {
    let start = Utc::now() - Duration::days(40);
    let clock = ManualClock::new(start);
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let tenant = create_tenant(&app, "Sparkasse Filter").await;
    // One contact 40 days old, made before anyone signs in.
    let tenant_id = TenantId::parse(&tenant).unwrap();
    contacts::create(
        app.app(),
        &tenant_id,
        ContactDraft {
            status: ContactStatus::Subscribed,
            ..ContactDraft::new(EmailAddress::parse("alt@example.de").unwrap())
        },
    )
    .await
    .unwrap();
    clock.set(Utc::now());
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    attribute(&editor, &tenant, "kundennummer", "text").await;
    attribute(&editor, &tenant, "volumen", "number").await;
    attribute(&editor, &tenant, "geburtstag", "date").await;
    attribute(&editor, &tenant, "privat", "boolean").await;
    let anna = contact(
        &editor,
        &tenant,
        json!({ "email": "anna@example.de", "status": "subscribed", "last_name": "Anders",
            "attributes": { "kundennummer": "KD-100", "volumen": 25000, "geburtstag": "1980-05-17", "privat": true } }),
    )
    .await;
    let bert = contact(
        &editor,
        &tenant,
        json!({ "email": "bert@example.de", "status": "subscribed", "language": "en", "last_name": "Bauer",
            "attributes": { "kundennummer": "GK-200", "volumen": 5000, "privat": false } }),
    )
    .await;
    contact(
        &editor,
        &tenant,
        json!({ "email": "carla@example.de", "last_name": "Conrad",
            "attributes": { "volumen": 10000.5, "geburtstag": "1999-12-31" } }),
    )
    .await;
    let list = new_list(&editor, &tenant, "Newsletter").await;
    add_member(&editor, &tenant, &list, &anna).await;
    add_member(&editor, &tenant, &list, &bert).await;

    let cases: Vec<(Value, &[&str])> = vec![
        (
            json!({ "conditions": [] }),
            &["alt", "anna", "bert", "carla"],
        ),
        (
            json!({ "conditions": [{ "field": "status", "op": "is", "value": "subscribed" }] }),
            &["alt", "anna", "bert"],
        ),
        (
            json!({ "conditions": [{ "field": "status", "op": "is_not", "value": "subscribed" }] }),
            &["carla"],
        ),
        (
            json!({ "conditions": [{ "field": "language", "op": "is", "value": "en" }] }),
            &["bert"],
        ),
        (
            json!({ "conditions": [{ "field": "list", "op": "member_of", "value": list }] }),
            &["anna", "bert"],
        ),
        (
            json!({ "conditions": [{ "field": "list", "op": "not_member_of", "value": list }] }),
            &["alt", "carla"],
        ),
        (
            json!({ "conditions": [{ "field": "created_at", "op": "within_last_days", "value": 7 }] }),
            &["anna", "bert", "carla"],
        ),
        (
            json!({ "conditions": [{ "field": "attribute", "attribute": "kundennummer", "op": "starts_with", "value": "kd" }] }),
            &["anna"],
        ),
        (
            json!({ "conditions": [{ "field": "attribute", "attribute": "kundennummer", "op": "equals", "value": "GK-200" }] }),
            &["bert"],
        ),
        (
            json!({ "conditions": [{ "field": "attribute", "attribute": "kundennummer", "op": "is_empty" }] }),
            &["alt", "carla"],
        ),
        (
            json!({ "conditions": [{ "field": "attribute", "attribute": "volumen", "op": "ge", "value": 10000 }] }),
            &["anna", "carla"],
        ),
        (
            json!({ "conditions": [{ "field": "attribute", "attribute": "volumen", "op": "lt", "value": 10000.5 }] }),
            &["bert"],
        ),
        (
            json!({ "conditions": [{ "field": "attribute", "attribute": "geburtstag", "op": "before", "value": "1990-01-01" }] }),
            &["anna"],
        ),
        (
            json!({ "conditions": [{ "field": "attribute", "attribute": "geburtstag", "op": "on", "value": "1999-12-31" }] }),
            &["carla"],
        ),
        (
            json!({ "conditions": [{ "field": "attribute", "attribute": "privat", "op": "is_false" }] }),
            &["bert"],
        ),
        (
            json!({ "conditions": [{ "field": "attribute", "attribute": "privat", "op": "is_true" }] }),
            &["anna"],
        ),
        (
            json!({ "match": "all", "conditions": [
                { "field": "status", "op": "is", "value": "subscribed" },
                { "field": "list", "op": "not_member_of", "value": list },
            ] }),
            &["alt"],
        ),
        (
            json!({ "match": "any", "conditions": [
                { "field": "language", "op": "is", "value": "en" },
                { "field": "attribute", "attribute": "geburtstag", "op": "is_set" },
            ] }),
            &["anna", "bert", "carla"],
        ),
    ];
    for (i, (filter, want)) in cases.iter().enumerate() {
        let counted = editor
            .post_json(&format!("/api/tenants/{tenant}/segments/count"), filter)
            .await;
        assert_eq!(counted.status, StatusCode::OK, "{filter}: {}", counted.json);
        assert_eq!(counted.json["count"], want.len(), "{filter}");
        let saved = editor
            .post_json(
                &format!("/api/tenants/{tenant}/segments"),
                &json!({ "name": format!("Segment {i}"), "filter": filter }),
            )
            .await;
        assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.json);
        assert_eq!(&saved.json["filter"]["conditions"], &filter["conditions"]);
        let id = saved.json["id"].as_str().unwrap();
        let count = editor
            .get(&format!("/api/tenants/{tenant}/segments/{id}/count"))
            .await;
        assert_eq!(count.json["count"], want.len(), "{filter}");
        let seen = listed(&editor, &tenant, id, 1).await;
        assert_eq!(local_parts(&seen), set(want), "{filter}");
        assert_eq!(
            listed(&editor, &tenant, id, 50).await,
            seen,
            "one page or many"
        );
    }
    let all = editor.get(&format!("/api/tenants/{tenant}/segments")).await;
    assert_eq!(all.json["segments"].as_array().unwrap().len(), cases.len());
}

async fn a_bad_condition_is_refused_naming_its_index_and_part_and_nothing_is_saved(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Pruefung").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    attribute(&editor, &tenant, "volumen", "number").await;
    let ok = json!({ "field": "status", "op": "is", "value": "subscribed" });
    let cases = [
        (
            json!({ "field": "status", "op": "is", "value": "gluecklich" }),
            "conditions[1].value",
        ),
        (
            json!({ "field": "attribute", "attribute": "volumen", "op": "contains", "value": "5" }),
            "conditions[1].op",
        ),
        (
            json!({ "field": "attribute", "attribute": "volumen", "op": "gt", "value": "viel" }),
            "conditions[1].value",
        ),
        (
            json!({ "field": "attribute", "attribute": "unbekannt", "op": "is_set" }),
            "conditions[1].attribute",
        ),
        (
            json!({ "field": "list", "op": "member_of", "value": uuid::Uuid::now_v7().to_string() }),
            "conditions[1].value",
        ),
        (
            json!({ "field": "created_at", "op": "before", "value": "31.12.2024" }),
            "conditions[1].value",
        ),
        (
            json!({ "field": "engagement", "op": "opened_within_days", "value": 90 }),
            "conditions[1].field",
        ),
    ];
    for (bad, field) in cases {
        let filter = json!({ "match": "all", "conditions": [ok, bad] });
        let counted = editor
            .post_json(&format!("/api/tenants/{tenant}/segments/count"), &filter)
            .await;
        assert_eq!(counted.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(counted.json["field"], field, "{bad}: {}", counted.json);
        let saved = editor
            .post_json(
                &format!("/api/tenants/{tenant}/segments"),
                &json!({ "name": "Kaputt", "filter": filter }),
            )
            .await;
        assert_eq!(saved.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(saved.json["field"], field, "{bad}");
    }
    let engagement = editor
        .post_json(
            &format!("/api/tenants/{tenant}/segments/count"),
            &json!({ "conditions": [{ "field": "engagement", "op": "opened_within_days", "value": 90 }] }),
        )
        .await;
    assert!(
        engagement.json["detail"]
            .as_str()
            .unwrap()
            .contains("not available until tracking exists"),
        "{}",
        engagement.json
    );
    let no_name = editor
        .post_json(
            &format!("/api/tenants/{tenant}/segments"),
            &json!({ "name": " ", "filter": { "conditions": [] } }),
        )
        .await;
    assert_eq!(no_name.json["field"], "name");
    let all = editor.get(&format!("/api/tenants/{tenant}/segments")).await;
    assert_eq!(all.json["segments"], json!([]), "nothing saved");
}

async fn another_tenants_segment_is_not_found(adapters: Adapters) {
    let app = spawn(adapters).await;
    let a = create_tenant(&app, "Sparkasse Eins").await;
    let b = create_tenant(&app, "Sparkasse Zwei").await;
    let editor_a = app.signed_in(Role::Editor, Some(&a)).await;
    let editor_b = app.signed_in(Role::Editor, Some(&b)).await;
    let saved = editor_b
        .post_json(
            &format!("/api/tenants/{b}/segments"),
            &json!({ "name": "Geheim B", "filter": { "conditions": [] } }),
        )
        .await;
    let id = saved.json["id"].as_str().unwrap();
    for path in [
        format!("/api/tenants/{a}/segments/{id}"),
        format!("/api/tenants/{a}/segments/{id}/count"),
        format!("/api/tenants/{a}/segments/{id}/contacts"),
        format!("/segmente/{id}"),
    ] {
        let reply = editor_a.get(&path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!String::from_utf8_lossy(&reply.body).contains("Geheim B"));
    }
    let renamed = editor_a
        .patch_json(
            &format!("/api/tenants/{a}/segments/{id}"),
            &json!({ "name": "Übernommen" }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::NOT_FOUND);
    let deleted = editor_a
        .delete(&format!("/api/tenants/{a}/segments/{id}"))
        .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    // B's own segment is untouched, and B may change and delete it.
    let read = editor_b
        .get(&format!("/api/tenants/{b}/segments/{id}"))
        .await;
    assert_eq!(read.json["name"], "Geheim B");
    let renamed = editor_b
        .patch_json(
            &format!("/api/tenants/{b}/segments/{id}"),
            &json!({ "name": "Offen B" }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
    assert_eq!(renamed.json["name"], "Offen B");
    let deleted = editor_b
        .delete(&format!("/api/tenants/{b}/segments/{id}"))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

/// Requests an export, runs it and reads the file.
async fn exported(app: &TestApp, editor: &Client, tenant: &str, body: Value) -> String {
    let exports = format!("/api/tenants/{tenant}/exports");
    let requested = editor.post_json(&exports, &body).await;
    assert_eq!(requested.status, StatusCode::ACCEPTED, "{}", requested.json);
    emma_tests::sent::deliver_queued_jobs(app).await;
    let path = format!("{exports}/{}", requested.json["id"].as_str().unwrap());
    let done = editor.get(&path).await;
    assert_eq!(done.json["status"], "finished", "{}", done.json);
    let link = editor.get(&format!("{path}/file")).await;
    let url = link.json["url"].as_str().unwrap();
    let request = emma::ports::PresignedRequest {
        method: http::Method::GET,
        url: url.to_owned(),
        headers: Vec::new(),
        expires_at: Utc::now() + Duration::minutes(5),
    };
    let (status, body) = app.perform_presigned(&request, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    String::from_utf8(body).unwrap()
}

async fn an_export_of_a_list_or_a_segment_holds_exactly_their_contacts(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Auszug").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    attribute(&editor, &tenant, "kundennummer", "text").await;
    let anna = contact(
        &editor,
        &tenant,
        json!({ "email": "anna@example.de", "last_name": "Anders", "status": "subscribed",
            "attributes": { "kundennummer": "=1+1" } }),
    )
    .await;
    contact(
        &editor,
        &tenant,
        json!({ "email": "bert@example.de", "last_name": "Bauer", "status": "subscribed" }),
    )
    .await;
    contact(
        &editor,
        &tenant,
        json!({ "email": "carla@example.de", "last_name": "Conrad" }),
    )
    .await;
    let list = new_list(&editor, &tenant, "Nur Anna").await;
    add_member(&editor, &tenant, &list, &anna).await;
    let segment = editor
        .post_json(
            &format!("/api/tenants/{tenant}/segments"),
            &json!({ "name": "Angemeldet", "filter": { "conditions": [
                { "field": "status", "op": "is", "value": "subscribed" } ] } }),
        )
        .await;
    let segment = segment.json["id"].as_str().unwrap();

    let of_list = exported(
        &app,
        &editor,
        &tenant,
        json!({ "fields": ["email"], "attributes": ["kundennummer"], "list_id": list }),
    )
    .await;
    assert_eq!(
        of_list,
        "\u{feff}E-Mail-Adresse;KUNDENNUMMER\nanna@example.de;'=1+1\n"
    );
    let of_segment = exported(
        &app,
        &editor,
        &tenant,
        json!({ "fields": ["last_name", "email"], "segment_id": segment }),
    )
    .await;
    assert_eq!(
        of_segment,
        "\u{feff}Nachname;E-Mail-Adresse\nAnders;anna@example.de\nBauer;bert@example.de\n"
    );
    let everyone = exported(&app, &editor, &tenant, json!({ "fields": ["email"] })).await;
    assert_eq!(everyone.lines().count(), 4, "{everyone}");

    let exports = format!("/api/tenants/{tenant}/exports");
    for (body, field) in [
        (
            json!({ "list_id": list, "segment_id": segment }),
            "segment_id",
        ),
        (
            json!({ "list_id": uuid::Uuid::now_v7().to_string() }),
            "list_id",
        ),
        (json!({ "segment_id": "kein-segment" }), "segment_id"),
        (json!({ "attributes": ["unbekannt"] }), "attributes"),
    ] {
        let refused = editor.post_json(&exports, &body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(refused.json["field"], field, "{body}");
    }
}

/// A form post from the signed-in browser, with the session's CSRF token.
async fn post_form(
    client: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> emma_tests::http::Reply {
    let token = client.session.as_ref().unwrap().csrf_token.clone();
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("csrf_token", &token);
    for (k, v) in fields {
        form.append_pair(k, v);
    }
    client
        .post_raw(
            path,
            "application/x-www-form-urlencoded",
            form.finish().into_bytes(),
        )
        .await
}

async fn the_list_and_segment_pages_render_and_the_count_route_answers(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Seiten").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let anna = contact(
        &editor,
        &tenant,
        json!({ "email": "anna@example.de", "first_name": "Anna", "last_name": "Anders", "status": "subscribed" }),
    )
    .await;
    contact(&editor, &tenant, json!({ "email": "bert@example.de" })).await;

    // Lists: create, add a member by address, see the page, remove it.
    let created = post_form(&editor, "/listen", &[("name", "Newsletter Privat")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let location = created.headers[http::header::LOCATION].to_str().unwrap();
    let list_path = location.split('?').next().unwrap().to_owned();
    let overview = editor.get("/listen").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&overview.body).contains("Newsletter Privat"));
    let added = post_form(
        &editor,
        &format!("{list_path}/mitglieder"),
        &[("email", "Anna@Example.de")],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let page = editor.get(&list_path).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("Anna Anders"), "{html}");
    assert!(!html.contains("bert@example.de"));
    let unknown = post_form(
        &editor,
        &format!("{list_path}/mitglieder"),
        &[("email", "niemand@example.de")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let removed = post_form(
        &editor,
        &format!("{list_path}/mitglieder/{anna}/entfernen"),
        &[],
    )
    .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let page = editor.get(&list_path).await;
    assert!(!String::from_utf8_lossy(&page.body).contains("Anna Anders"));

    // Segments: the editor without JavaScript, the live count, saving.
    let fresh = editor.get("/segmente").await;
    assert_eq!(fresh.status, StatusCode::OK);
    let draft = post_form(
        &editor,
        "/segmente/entwurf",
        &[
            ("name", "Entwurf"),
            ("match", "all"),
            ("c0_kind", "status:is:subscribed"),
            ("aktion", "hinzufuegen"),
        ],
    )
    .await;
    assert_eq!(draft.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&draft.body).into_owned();
    assert!(html.contains("name=\"c1_kind\""), "a second row: {html}");
    let counted = post_form(
        &editor,
        "/segmente/zaehlen",
        &[("match", "all"), ("c0_kind", "status:is:subscribed")],
    )
    .await;
    assert_eq!(counted.status, StatusCode::OK, "{}", counted.json);
    assert_eq!(counted.json["count"], 1);
    let bad = post_form(
        &editor,
        "/segmente/zaehlen",
        &[
            ("match", "all"),
            ("c0_kind", "created_at:within_last_days"),
            ("c0_value", "nie"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json["field"], "c0_value");
    let saved = post_form(
        &editor,
        "/segmente",
        &[
            ("name", "Angemeldete"),
            ("match", "all"),
            ("c0_kind", "status:is:subscribed"),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let segment_path = saved.headers[http::header::LOCATION]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let page = editor.get(&segment_path).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("Angemeldete"));
    assert!(html.contains("anna@example.de"), "the members are shown");
    assert!(!html.contains("bert@example.de"));
    assert!(html.contains("/static/segments.js"));
    let script = editor.get("/static/segments.js").await;
    assert_eq!(script.status, StatusCode::OK);
    // A viewer reads, but may not save.
    let viewer = app.signed_in(Role::Viewer, Some(&tenant)).await;
    assert_eq!(viewer.get(&segment_path).await.status, StatusCode::OK);
    let refused = post_form(&viewer, "/segmente", &[("name", "X"), ("match", "all")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let deleted = post_form(
        &editor,
        &format!("{segment_path}/loeschen"),
        &[("bestaetigt", "ja")],
    )
    .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        editor.get(&segment_path).await.status,
        StatusCode::NOT_FOUND
    );
}

fn html(reply: &emma_tests::http::Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// The value of the hidden field `name` on a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{name}: {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

async fn a_condition_after_a_row_reset_to_the_empty_choice_still_counts_and_is_saved(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Zeilen").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    for (email, language) in [
        ("anna@example.de", "de"),
        ("bert@example.de", "en"),
        ("carl@example.de", "en"),
    ] {
        contact(
            &editor,
            &tenant,
            json!({ "email": email, "language": language, "status": if email == "carl@example.de" { "unconfirmed" } else { "subscribed" } }),
        )
        .await;
    }
    // Row 1 was reset to "– Bedingung wählen –": row 2 still counts.
    let rows = [
        ("match", "all"),
        ("c0_kind", "status:is:subscribed"),
        ("c0_value", ""),
        ("c1_kind", ""),
        ("c1_value", ""),
        ("c2_kind", "language:is:en"),
        ("c2_value", ""),
    ];
    let counted = post_form(&editor, "/segmente/zaehlen", &rows).await;
    assert_eq!(counted.status, StatusCode::OK, "{}", counted.json);
    assert_eq!(
        counted.json["count"], 1,
        "subscribed and English: Bert only"
    );

    // The editor keeps every row in its place, so "remove row 2" removes
    // the language condition and not something else.
    let mut removing = rows.to_vec();
    removing.push(("aktion", "entfernen-2"));
    let draft = post_form(&editor, "/segmente/entwurf", &removing).await;
    assert_eq!(draft.status, StatusCode::OK);
    let page = html(&draft);
    assert!(page.contains("2 passende Kontakte"), "{page}");
    assert!(!page.contains("name=\"c2_kind\""), "{page}");

    let mut saving = rows.to_vec();
    saving.push(("name", "Englisch angemeldet"));
    let saved = post_form(&editor, "/segmente", &saving).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", html(&saved));
    let all = editor.get(&format!("/api/tenants/{tenant}/segments")).await;
    let conditions = &all.json["segments"][0]["filter"]["conditions"];
    assert_eq!(
        conditions,
        &json!([
            { "field": "status", "op": "is", "value": "subscribed" },
            { "field": "language", "op": "is", "value": "en" },
        ]),
        "{}",
        all.json
    );
}

async fn a_stale_attribute_value_of_another_kind_is_neither_set_nor_exported(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Umdefiniert").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    attribute(&editor, &tenant, "kennung", "text").await;
    contact(
        &editor,
        &tenant,
        json!({ "email": "anna@example.de", "attributes": { "kennung": "KD-100" } }),
    )
    .await;
    // The definition goes and comes back as a number: Anna's text stays
    // in the store, but is no value of the new attribute.
    let deleted = editor
        .delete(&format!("/api/tenants/{tenant}/attributes/kennung"))
        .await;
    assert!(deleted.status.is_success(), "{}", deleted.json);
    attribute(&editor, &tenant, "kennung", "number").await;
    contact(
        &editor,
        &tenant,
        json!({ "email": "bert@example.de", "attributes": { "kennung": 7 } }),
    )
    .await;

    for (op, want) in [("is_set", 1), ("is_empty", 1)] {
        let counted = editor
            .post_json(
                &format!("/api/tenants/{tenant}/segments/count"),
                &json!({ "conditions": [{ "field": "attribute", "attribute": "kennung", "op": op }] }),
            )
            .await;
        assert_eq!(counted.status, StatusCode::OK, "{}", counted.json);
        assert_eq!(counted.json["count"], want, "{op}");
    }
    let segment = editor
        .post_json(
            &format!("/api/tenants/{tenant}/segments"),
            &json!({ "name": "Ohne Kennung", "filter": { "conditions": [
                { "field": "attribute", "attribute": "kennung", "op": "is_empty" } ] } }),
        )
        .await;
    let segment = segment.json["id"].as_str().unwrap();
    let seen = listed(&editor, &tenant, segment, 50).await;
    assert_eq!(local_parts(&seen), set(&["anna"]));

    let file = exported(
        &app,
        &editor,
        &tenant,
        json!({ "fields": ["email"], "attributes": ["kennung"] }),
    )
    .await;
    assert_eq!(
        file, "\u{feff}E-Mail-Adresse;KENNUNG\nanna@example.de;\nbert@example.de;7\n",
        "the stale text is not exported"
    );
}

async fn a_count_is_kept_for_a_minute_and_the_count_button_counts_anew(adapters: Adapters) {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let tenant = create_tenant(&app, "Sparkasse Zaehlung").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let subscribed = |email: &str| json!({ "email": email, "status": "subscribed" });
    contact(&editor, &tenant, subscribed("anna@example.de")).await;
    let filter =
        json!({ "conditions": [{ "field": "status", "op": "is", "value": "subscribed" }] });
    let count_path = format!("/api/tenants/{tenant}/segments/count");

    let first = editor.post_json(&count_path, &filter).await;
    assert_eq!(first.json["count"], 1, "{}", first.json);
    contact(&editor, &tenant, subscribed("bert@example.de")).await;
    clock.advance(Duration::seconds(30));
    let kept = editor.post_json(&count_path, &filter).await;
    assert_eq!(kept.json["count"], 1, "kept, not counted again");
    assert_eq!(kept.json["counted_at"], first.json["counted_at"]);

    // The editor's button counts anew, and the new count is kept.
    let button = post_form(
        &editor,
        "/segmente/entwurf",
        &[
            ("match", "all"),
            ("c0_kind", "status:is:subscribed"),
            ("aktion", "zaehlen"),
        ],
    )
    .await;
    assert_eq!(button.status, StatusCode::OK);
    assert!(
        html(&button).contains("2 passende Kontakte"),
        "{}",
        html(&button)
    );
    assert_eq!(
        editor.post_json(&count_path, &filter).await.json["count"],
        2
    );

    // A minute later the kept count is gone and the next one counts.
    contact(&editor, &tenant, subscribed("carla@example.de")).await;
    clock.advance(Duration::seconds(61));
    assert_eq!(
        editor.post_json(&count_path, &filter).await.json["count"],
        3
    );

    // The overview shows the count kept for a saved segment's filter and
    // counts nothing: a segment never counted offers "zählen" instead.
    // Two segments with the same filter share its count.
    for (name, body) in [
        ("Angemeldet", filter.clone()),
        ("Angemeldet (Kopie)", filter.clone()),
        (
            "Englisch",
            json!({ "conditions": [{ "field": "language", "op": "is", "value": "en" }] }),
        ),
    ] {
        let saved = editor
            .post_json(
                &format!("/api/tenants/{tenant}/segments"),
                &json!({ "name": name, "filter": body }),
            )
            .await;
        assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.json);
    }
    let overview = html(&editor.get("/segmente").await);
    assert_eq!(
        overview.matches("<td class=\"number\">3</td>").count(),
        2,
        "{overview}"
    );
    assert_eq!(overview.matches(">zählen</a>").count(), 1, "{overview}");
}

async fn a_change_made_on_an_older_version_of_a_segment_is_refused(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Versionen").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let created = editor
        .post_json(
            &format!("/api/tenants/{tenant}/segments"),
            &json!({ "name": "Erst", "filter": { "conditions": [] } }),
        )
        .await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    let path = format!("/api/tenants/{tenant}/segments/{id}");
    let first = created.json["version"].as_str().unwrap().to_owned();
    assert_eq!(
        editor.get(&path).await.json["version"],
        first,
        "read as created"
    );

    // API: a change on the version read passes and makes a new version;
    // another one on the old version is refused and changes nothing.
    let renamed = editor
        .patch_json(&path, &json!({ "name": "Zweit", "version": first }))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
    let second = renamed.json["version"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let stale = editor
        .patch_json(&path, &json!({ "name": "Verloren", "version": first }))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.json);
    assert_eq!(editor.get(&path).await.json["name"], "Zweit");

    // UI: the form carries the version; a second browser that saved in
    // between makes the first one's save a 409 that keeps its entries.
    let page = html(&editor.get(&format!("/segmente/{id}")).await);
    let stand = hidden(&page, "stand");
    assert_eq!(stand, second);
    let other = app.signed_in(Role::Editor, Some(&tenant)).await;
    let theirs = post_form(
        &other,
        &format!("/segmente/{id}"),
        &[("name", "Von nebenan"), ("match", "all"), ("stand", &stand)],
    )
    .await;
    assert_eq!(theirs.status, StatusCode::SEE_OTHER, "{}", html(&theirs));
    let mine = post_form(
        &editor,
        &format!("/segmente/{id}"),
        &[
            ("name", "Meins"),
            ("match", "all"),
            ("c0_kind", "status:is:subscribed"),
            ("stand", &stand),
        ],
    )
    .await;
    assert_eq!(mine.status, StatusCode::CONFLICT);
    let shown = html(&mine);
    assert!(
        shown.contains("inzwischen von jemand anderem geändert"),
        "{shown}"
    );
    assert!(
        shown.contains("value=\"Meins\""),
        "the entries stay: {shown}"
    );
    assert_eq!(editor.get(&path).await.json["name"], "Von nebenan");
    // Sent again, it applies to the version it was shown with.
    let again = hidden(&shown, "stand");
    assert_ne!(again, stand);
    let saved = post_form(
        &editor,
        &format!("/segmente/{id}"),
        &[
            ("name", "Meins"),
            ("match", "all"),
            ("c0_kind", "status:is:subscribed"),
            ("stand", &again),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", html(&saved));
    assert_eq!(editor.get(&path).await.json["name"], "Meins");
}
