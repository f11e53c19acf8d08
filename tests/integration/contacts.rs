//! Contacts through the API, on both adapter sets: the fields a bank keeps,
//! one contact per address (in any spelling of it), name order with German
//! folding and paging, search by name or address, changes that never
//! re-subscribe, deletion, and bad input that names its field.

use emma::domain::Role;
use emma_tests::app::{Adapters, TestApp, spawn};
use emma_tests::http::{Client, Reply};
use http::StatusCode;
use serde_json::{Value, json};

use crate::skeleton::create_tenant;

async fn editor_of_new_tenant(app: &TestApp, name: &str) -> (String, Client) {
    let tenant = create_tenant(app, name).await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    (tenant, editor)
}

async fn create(editor: &Client, tenant: &str, body: Value) -> Reply {
    editor
        .post_json(&format!("/api/tenants/{tenant}/contacts"), &body)
        .await
}

/// Every contact of the listing at `query`, page by page (`limit` each).
async fn all_pages(editor: &Client, tenant: &str, query: &str, limit: u32) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/tenants/{tenant}/contacts?limit={limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = editor.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.json);
        seen.extend(page.json["contacts"].as_array().unwrap().iter().cloned());
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

fn last_names(contacts: &[Value]) -> Vec<String> {
    contacts
        .iter()
        .map(|c| c["last_name"].as_str().unwrap_or("-").to_owned())
        .collect()
}

async fn a_contact_keeps_salutation_names_language_and_status(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Felder").await;

    let created = create(
        &editor,
        &tenant,
        json!({
            "email": "Erika.Mustermann@Bücher.DE",
            "salutation": "female",
            "first_name": "Erika",
            "last_name": "Mustermann",
            "language": "en",
            "status": "subscribed",
        }),
    )
    .await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_str().unwrap();
    assert_eq!(id.len(), 32, "a keyed hash: {id}");
    assert!(!id.contains("erika"));
    let read = editor
        .get(&format!("/api/tenants/{tenant}/contacts/{id}"))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json["email"], "Erika.Mustermann@xn--bcher-kva.de");
    assert_eq!(read.json["salutation"], "female");
    assert_eq!(read.json["language"], "en");
    assert_eq!(read.json["status"], "subscribed");
    // Without a status a contact waits for the person's confirmation.
    let plain = create(&editor, &tenant, json!({ "email": "ohne@example.de" })).await;
    assert_eq!(plain.json["status"], "unconfirmed");
    assert_eq!(plain.json["language"], "de");
}

async fn one_address_is_one_contact_in_any_spelling_but_one_per_tenant(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Einmal").await;
    let first = create(&editor, &tenant, json!({ "email": "info@bücher.de" })).await;
    assert_eq!(first.status, StatusCode::CREATED);

    for spelling in [
        "INFO@BÜCHER.DE",
        "info@xn--bcher-kva.de",
        " Info@Bücher.de ",
    ] {
        let again = create(&editor, &tenant, json!({ "email": spelling })).await;
        assert_eq!(
            again.status,
            StatusCode::CONFLICT,
            "{spelling}: {}",
            again.json
        );
    }
    // Another institute has its own contact, under another id.
    let (other, other_editor) = editor_of_new_tenant(&app, "Sparkasse Anders").await;
    let there = create(&other_editor, &other, json!({ "email": "info@bücher.de" })).await;
    assert_eq!(there.status, StatusCode::CREATED);
    assert_ne!(there.json["id"], first.json["id"]);
}

async fn contacts_are_listed_by_name_in_german_order_across_pages(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Alphabet").await;
    for (i, last) in [
        "Zimmermann",
        "Müller",
        "Ahrens",
        "Muller",
        "Özdemir",
        "Becker",
    ]
    .iter()
    .enumerate()
    {
        let reply = create(
            &editor,
            &tenant,
            json!({ "email": format!("k{i}@example.de"), "first_name": "Kim", "last_name": last }),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    }
    let nameless = create(&editor, &tenant, json!({ "email": "anonym@example.de" })).await;
    assert_eq!(nameless.status, StatusCode::CREATED);

    let ascending = all_pages(&editor, &tenant, "", 2).await;
    let names = last_names(&ascending);
    // Müller and Muller fold alike (their order between them is the ids').
    assert_eq!(names[0], "Ahrens");
    assert_eq!(names[1], "Becker");
    let mut middle = names[2..4].to_vec();
    middle.sort();
    assert_eq!(middle, ["Muller", "Müller"]);
    assert_eq!(names[4..], ["Özdemir", "Zimmermann", "-"]);
    let descending = all_pages(&editor, &tenant, "&sort=-name", 3).await;
    let mut reversed = last_names(&descending);
    reversed.reverse();
    assert_eq!(reversed.len(), names.len());
    assert_eq!(reversed[0], "Ahrens");
    assert_eq!(reversed[6], "-");
}

async fn a_search_finds_a_name_prefix_or_exactly_one_address(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Suche").await;
    for (email, last) in [
        ("hans@example.de", "Müller"),
        ("grete@example.de", "Muller"),
        ("jana@example.de", "Mulder"),
        ("otto@example.de", "Schulz"),
    ] {
        create(
            &editor,
            &tenant,
            json!({ "email": email, "last_name": last }),
        )
        .await;
    }

    let mull = all_pages(&editor, &tenant, "&search=m%C3%BCll", 50).await;
    let mut found = last_names(&mull);
    found.sort();
    assert_eq!(found, ["Muller", "Müller"]);
    let by_address = all_pages(&editor, &tenant, "&search=OTTO%40Example.de", 50).await;
    assert_eq!(last_names(&by_address), ["Schulz"]);
    let unknown = all_pages(&editor, &tenant, "&search=niemand%40example.de", 50).await;
    assert!(unknown.is_empty());
    let bad_sort = editor
        .get(&format!("/api/tenants/{tenant}/contacts?sort=email"))
        .await;
    assert_eq!(bad_sort.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_sort.json["field"], "sort");
}

async fn a_change_keeps_what_it_does_not_name_and_never_resubscribes(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Wandel").await;
    let created = create(
        &editor,
        &tenant,
        json!({
            "email": "wandel@example.de", "salutation": "male",
            "first_name": "Max", "last_name": "Meier", "status": "subscribed",
        }),
    )
    .await;
    let path = format!(
        "/api/tenants/{tenant}/contacts/{}",
        created.json["id"].as_str().unwrap()
    );

    let renamed = editor
        .patch_json(&path, &json!({ "last_name": "Maier", "salutation": null }))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
    assert_eq!(renamed.json["last_name"], "Maier");
    assert_eq!(renamed.json["first_name"], "Max", "not named, kept");
    assert_eq!(renamed.json["salutation"], Value::Null, "null clears");
    // The name index follows the change.
    let found = all_pages(&editor, &tenant, "&search=maier", 10).await;
    assert_eq!(found.len(), 1);
    assert!(
        all_pages(&editor, &tenant, "&search=meier", 10)
            .await
            .is_empty()
    );

    let left = editor
        .patch_json(&path, &json!({ "status": "unsubscribed" }))
        .await;
    assert_eq!(left.json["status"], "unsubscribed");
    let back = editor
        .patch_json(
            &path,
            &json!({ "status": "subscribed", "first_name": "Moritz" }),
        )
        .await;
    assert_eq!(back.status, StatusCode::BAD_REQUEST);
    assert_eq!(back.json["field"], "status");
    let unchanged = editor.get(&path).await;
    assert_eq!(unchanged.json["status"], "unsubscribed");
    assert_eq!(
        unchanged.json["first_name"], "Max",
        "nothing of the refused change"
    );
    let address = editor
        .patch_json(&path, &json!({ "email": "neu@example.de" }))
        .await;
    assert_eq!(
        address.status,
        StatusCode::BAD_REQUEST,
        "the address is not a field to change"
    );
}

async fn a_deleted_contact_is_gone_and_its_address_free_again(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Weg").await;
    let created = create(&editor, &tenant, json!({ "email": "weg@example.de" })).await;
    let path = format!(
        "/api/tenants/{tenant}/contacts/{}",
        created.json["id"].as_str().unwrap()
    );

    let deleted = editor.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(editor.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(editor.delete(&path).await.status, StatusCode::NOT_FOUND);
    assert!(all_pages(&editor, &tenant, "", 50).await.is_empty());
    let again = create(&editor, &tenant, json!({ "email": "weg@example.de" })).await;
    assert_eq!(again.status, StatusCode::CREATED);
}

async fn bad_contact_input_names_the_field_and_stores_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Streng").await;
    let long = "x".repeat(101);
    let cases = [
        (
            json!({ "email": "erika@example.de\r\nBcc: alle@example.de" }),
            "email",
        ),
        (json!({ "email": "müller@example.de" }), "email"),
        (json!({ "email": "user@[192.168.0.1]" }), "email"),
        (
            json!({ "email": "a@example.de", "first_name": long }),
            "first_name",
        ),
        (
            json!({ "email": "a@example.de", "last_name": "Meier\u{7}" }),
            "last_name",
        ),
        (
            json!({ "email": "a@example.de", "salutation": "madam" }),
            "salutation",
        ),
        (
            json!({ "email": "a@example.de", "status": "bounced" }),
            "status",
        ),
        (
            json!({ "email": "a@example.de", "status": "unsubscribed" }),
            "status",
        ),
    ];
    for (body, field) in cases {
        let reply = create(&editor, &tenant, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.json
        );
        assert_eq!(reply.json["field"], field, "{body}: {}", reply.json);
    }
    assert!(all_pages(&editor, &tenant, "", 50).await.is_empty());
    // A name starting with "=" is stored as typed: exports make it inert.
    let formula = create(
        &editor,
        &tenant,
        json!({ "email": "formel@example.de", "last_name": "=HYPERLINK(\"x\")" }),
    )
    .await;
    assert_eq!(formula.status, StatusCode::CREATED);
    assert_eq!(formula.json["last_name"], "=HYPERLINK(\"x\")");
}

async fn suppression(editor: &Client, tenant: &str) -> Vec<Value> {
    let list = editor
        .get(&format!("/api/tenants/{tenant}/suppressions"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    list.json["entries"].as_array().unwrap().clone()
}

async fn an_erased_contact_leaves_only_a_hash_that_keeps_its_address_out(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Vergessen").await;
    let created = create(
        &editor,
        &tenant,
        json!({ "email": "vergessen@example.de", "last_name": "Vergessen", "status": "subscribed" }),
    )
    .await;
    let id = created.json["id"].as_str().unwrap().to_owned();

    let erased = editor
        .post_json(
            &format!("/api/tenants/{tenant}/contacts/{id}/erase"),
            &json!({}),
        )
        .await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT, "{}", erased.json);

    assert_eq!(
        editor
            .get(&format!("/api/tenants/{tenant}/contacts/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let entries = suppression(&editor, &tenant).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"], id.as_str());
    assert_eq!(entries[0]["reason"], "erased");
    assert_eq!(entries[0]["email"], Value::Null, "no address is kept");
    // The address cannot come back by hand ...
    let again = create(&editor, &tenant, json!({ "email": "Vergessen@Example.de" })).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.json);
    // ... and the log names the contact by its id only.
    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let log = admin
        .get(&format!("/api/tenants/{tenant}/audit?action=contact.erase"))
        .await;
    assert_eq!(
        log.json["entries"].as_array().unwrap().len(),
        1,
        "{}",
        log.json
    );
    assert_eq!(log.json["entries"][0]["object"], id.as_str());
    assert!(!log.json.to_string().contains("vergessen@"));
}

async fn unsubscribing_and_adding_by_hand_fill_the_suppression_list(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Sperre").await;
    let created = create(
        &editor,
        &tenant,
        json!({ "email": "abmelder@example.de", "status": "subscribed" }),
    )
    .await;
    let path = format!(
        "/api/tenants/{tenant}/contacts/{}",
        created.json["id"].as_str().unwrap()
    );
    editor
        .patch_json(&path, &json!({ "status": "unsubscribed" }))
        .await;
    let suppressions = format!("/api/tenants/{tenant}/suppressions");
    let added = editor
        .post_json(&suppressions, &json!({ "email": "nie@example.de" }))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.json);
    let bad = editor
        .post_json(&suppressions, &json!({ "email": "kein-at" }))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json["field"], "email");

    let mut reasons: Vec<(String, String)> = suppression(&editor, &tenant)
        .await
        .iter()
        .map(|e| {
            (
                e["email"].as_str().unwrap().to_owned(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            ("abmelder@example.de".to_owned(), "unsubscribed".to_owned()),
            ("nie@example.de".to_owned(), "manual".to_owned()),
        ]
    );
    // A suppressed address is no new contact; removing the manual entry
    // frees it, the unsubscribe stays.
    let blocked = create(&editor, &tenant, json!({ "email": "nie@example.de" })).await;
    assert_eq!(blocked.status, StatusCode::CONFLICT);
    let manual = format!("{suppressions}/{}", added.json["id"].as_str().unwrap());
    assert_eq!(editor.delete(&manual).await.status, StatusCode::NO_CONTENT);
    let freed = create(&editor, &tenant, json!({ "email": "nie@example.de" })).await;
    assert_eq!(freed.status, StatusCode::CREATED);
    let unsubscribed = format!("{suppressions}/{}", created.json["id"].as_str().unwrap());
    let kept = editor.delete(&unsubscribed).await;
    assert_eq!(kept.status, StatusCode::CONFLICT, "{}", kept.json);
}

async fn a_list_counts_its_members_live_and_loses_deleted_contacts(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Verteiler").await;
    let lists = format!("/api/tenants/{tenant}/lists");
    let bad = editor.post_json(&lists, &json!({ "name": "" })).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json["field"], "name");
    let created = editor
        .post_json(&lists, &json!({ "name": "Newsletter Privatkunden" }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let list = format!("{lists}/{}", created.json["id"].as_str().unwrap());
    let mut ids = Vec::new();
    for i in 0..3 {
        let c = create(
            &editor,
            &tenant,
            json!({ "email": format!("v{i}@example.de"), "last_name": format!("Verteiler{i}") }),
        )
        .await;
        ids.push(c.json["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let added = editor
            .json(
                http::Method::PUT,
                &format!("{list}/members/{id}"),
                &json!({}),
            )
            .await;
        assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.json);
    }
    // Adding a member again changes nothing.
    editor
        .json(
            http::Method::PUT,
            &format!("{list}/members/{}", ids[0]),
            &json!({}),
        )
        .await;
    assert_eq!(editor.get(&list).await.json["members"], 3);

    editor.delete(&format!("{list}/members/{}", ids[1])).await;
    editor
        .delete(&format!("/api/tenants/{tenant}/contacts/{}", ids[2]))
        .await;
    assert_eq!(editor.get(&list).await.json["members"], 1);
    let members = editor.get(&format!("{list}/members")).await;
    let emails: Vec<&str> = members.json["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["v0@example.de"]);
    let all = editor.get(&lists).await;
    assert_eq!(all.json["lists"][0]["name"], "Newsletter Privatkunden");
    // A contact that does not exist is no member.
    let ghost = editor
        .json(
            http::Method::PUT,
            &format!("{list}/members/0123456789abcdef0123456789abcdef"),
            &json!({}),
        )
        .await;
    assert_eq!(ghost.status, StatusCode::NOT_FOUND);
    assert_eq!(editor.get(&list).await.json["members"], 1);
}

emma_tests::on_both_adapter_sets!(
    a_list_counts_its_members_live_and_loses_deleted_contacts,
    an_erased_contact_leaves_only_a_hash_that_keeps_its_address_out,
    unsubscribing_and_adding_by_hand_fill_the_suppression_list,
    a_contact_keeps_salutation_names_language_and_status,
    one_address_is_one_contact_in_any_spelling_but_one_per_tenant,
    contacts_are_listed_by_name_in_german_order_across_pages,
    a_search_finds_a_name_prefix_or_exactly_one_address,
    a_change_keeps_what_it_does_not_name_and_never_resubscribes,
    a_deleted_contact_is_gone_and_its_address_free_again,
    bad_contact_input_names_the_field_and_stores_nothing,
);
