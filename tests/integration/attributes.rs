//! Custom contact attributes through the API, on both adapter sets: an
//! institute defines its own fields, contacts carry values of every kind,
//! a change merges values (`null` removes one), values that do not fit a
//! definition are refused naming `attributes.<name>`, another tenant's
//! definitions stay invisible, and a deleted definition takes its values
//! out of sight.

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

async fn define(editor: &Client, tenant: &str, name: &str, label: &str, kind: &str) -> Reply {
    editor
        .post_json(
            &format!("/api/tenants/{tenant}/attributes"),
            &json!({ "name": name, "label": label, "kind": kind }),
        )
        .await
}

/// Defines the four attributes a bank typically keeps, one of each kind.
async fn define_bank_fields(editor: &Client, tenant: &str) {
    for (name, label, kind) in [
        ("kundennummer", "Kundennummer", "text"),
        ("anlagevolumen", "Anlagevolumen", "number"),
        ("geburtstag", "Geburtstag", "date"),
        ("privatkunde", "Privatkunde", "boolean"),
    ] {
        let reply = define(editor, tenant, name, label, kind).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    }
}

async fn create_contact(editor: &Client, tenant: &str, body: Value) -> Reply {
    editor
        .post_json(&format!("/api/tenants/{tenant}/contacts"), &body)
        .await
}

fn names(reply: &Reply) -> Vec<String> {
    reply.json["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn attributes_are_defined_listed_relabelled_and_deleted(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Felder").await;
    let path = format!("/api/tenants/{tenant}/attributes");
    define_bank_fields(&editor, &tenant).await;

    let listed = editor.get(&path).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        names(&listed),
        ["anlagevolumen", "geburtstag", "kundennummer", "privatkunde"]
    );
    assert_eq!(listed.json["attributes"][1]["kind"], "date");
    assert_eq!(listed.json["attributes"][1]["label"], "Geburtstag");

    let taken = define(&editor, &tenant, "geburtstag", "Noch einmal", "text").await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.json);
    for bad in ["Geburtstag", "email", "1a", "kunden-nr"] {
        let refused = define(&editor, &tenant, bad, "Feld", "text").await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(refused.json["field"], "name", "{bad}");
    }
    let no_label = define(&editor, &tenant, "filiale", " ", "text").await;
    assert_eq!(no_label.json["field"], "label");
    let no_kind = define(&editor, &tenant, "filiale", "Filiale", "farbe").await;
    assert_eq!(no_kind.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_kind.json["field"], "kind");

    let relabelled = editor
        .patch_json(
            &format!("{path}/kundennummer"),
            &json!({ "label": "Kundennummer (Kernbank)" }),
        )
        .await;
    assert_eq!(relabelled.status, StatusCode::OK, "{}", relabelled.json);
    assert_eq!(relabelled.json["label"], "Kundennummer (Kernbank)");
    assert_eq!(relabelled.json["kind"], "text", "the kind stays");
    let kind_change = editor
        .patch_json(
            &format!("{path}/kundennummer"),
            &json!({ "kind": "number" }),
        )
        .await;
    assert_eq!(
        kind_change.status,
        StatusCode::BAD_REQUEST,
        "a kind is fixed"
    );

    let deleted = editor.delete(&format!("{path}/privatkunde")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let again = editor.delete(&format!("{path}/privatkunde")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        names(&editor.get(&path).await),
        ["anlagevolumen", "geburtstag", "kundennummer"]
    );
    // A viewer reads the definitions but may not change them.
    let viewer = app.signed_in(Role::Viewer, Some(&tenant)).await;
    assert_eq!(viewer.get(&path).await.status, StatusCode::OK);
    let refused = define(&viewer, &tenant, "filiale", "Filiale", "text").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn contacts_carry_values_of_every_kind_and_a_change_merges_them(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Werte").await;
    define_bank_fields(&editor, &tenant).await;

    let created = create_contact(
        &editor,
        &tenant,
        json!({
            "email": "erika@example.de",
            "attributes": {
                "kundennummer": "0815-4711",
                "anlagevolumen": 12500.75,
                "geburtstag": "1980-05-17",
                "privatkunde": true,
            },
        }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let expected = json!({
        "kundennummer": "0815-4711",
        "anlagevolumen": 12500.75,
        "geburtstag": "1980-05-17",
        "privatkunde": true,
    });
    assert_eq!(created.json["attributes"], expected);
    let path = format!(
        "/api/tenants/{tenant}/contacts/{}",
        created.json["id"].as_str().unwrap()
    );
    assert_eq!(editor.get(&path).await.json["attributes"], expected);
    let listed = editor.get(&format!("/api/tenants/{tenant}/contacts")).await;
    assert_eq!(listed.json["contacts"][0]["attributes"], expected);

    // A change names what it changes: a value replaces, null removes, the
    // rest stays.
    let changed = editor
        .patch_json(
            &path,
            &json!({ "attributes": { "anlagevolumen": 20000, "privatkunde": null } }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    assert_eq!(
        changed.json["attributes"],
        json!({
            "kundennummer": "0815-4711",
            "anlagevolumen": 20000.0,
            "geburtstag": "1980-05-17",
        })
    );
    let names_only = editor
        .patch_json(&path, &json!({ "first_name": "Erika" }))
        .await;
    assert_eq!(names_only.json["attributes"]["kundennummer"], "0815-4711");
    // A contact without values shows an empty object.
    let plain = create_contact(&editor, &tenant, json!({ "email": "ohne@example.de" })).await;
    assert_eq!(plain.json["attributes"], json!({}));
}

async fn values_of_a_wrong_kind_or_unknown_attributes_are_refused_naming_the_field(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Prüfung").await;
    define_bank_fields(&editor, &tenant).await;

    for (attributes, field) in [
        (
            json!({ "lieblingsfarbe": "blau" }),
            "attributes.lieblingsfarbe",
        ),
        (json!({ "geburtstag": 17 }), "attributes.geburtstag"),
        (
            json!({ "geburtstag": "17.05.1980" }),
            "attributes.geburtstag",
        ),
        (
            json!({ "anlagevolumen": "viel" }),
            "attributes.anlagevolumen",
        ),
        (json!({ "privatkunde": "ja" }), "attributes.privatkunde"),
        (json!({ "kundennummer": 4711 }), "attributes.kundennummer"),
        (
            json!({ "kundennummer": "a\r\nBcc: alle@example.de" }),
            "attributes.kundennummer",
        ),
    ] {
        let refused = create_contact(
            &editor,
            &tenant,
            json!({ "email": "falsch@example.de", "attributes": attributes }),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{attributes}: {}",
            refused.json
        );
        assert_eq!(refused.json["field"], field, "{attributes}");
    }
    let none = editor.get(&format!("/api/tenants/{tenant}/contacts")).await;
    assert_eq!(none.json["contacts"], json!([]), "nothing was stored");

    let created = create_contact(
        &editor,
        &tenant,
        json!({ "email": "richtig@example.de", "attributes": { "kundennummer": "1" } }),
    )
    .await;
    let path = format!(
        "/api/tenants/{tenant}/contacts/{}",
        created.json["id"].as_str().unwrap()
    );
    let refused = editor
        .patch_json(
            &path,
            &json!({ "last_name": "Neu", "attributes": { "geburtstag": true } }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json["field"], "attributes.geburtstag");
    let kept = editor.get(&path).await;
    assert_eq!(
        kept.json["last_name"],
        Value::Null,
        "the change was not made"
    );
    assert_eq!(kept.json["attributes"], json!({ "kundennummer": "1" }));
    let not_an_object = editor
        .patch_json(&path, &json!({ "attributes": ["kundennummer"] }))
        .await;
    assert_eq!(not_an_object.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_an_object.json["field"], "attributes");
}

async fn another_tenants_attributes_are_invisible_and_not_found(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (a, editor_a) = editor_of_new_tenant(&app, "Sparkasse Eigen").await;
    let (b, editor_b) = editor_of_new_tenant(&app, "Sparkasse Fremd").await;
    let defined = define(&editor_a, &a, "geheimfeld", "Geheimfeld A", "text").await;
    assert_eq!(defined.status, StatusCode::CREATED);

    let listed_b = editor_b.get(&format!("/api/tenants/{b}/attributes")).await;
    assert_eq!(listed_b.json["attributes"], json!([]));
    for reply in [
        editor_b
            .patch_json(
                &format!("/api/tenants/{b}/attributes/geheimfeld"),
                &json!({ "label": "Übernommen" }),
            )
            .await,
        editor_b
            .delete(&format!("/api/tenants/{b}/attributes/geheimfeld"))
            .await,
        editor_b.get(&format!("/api/tenants/{a}/attributes")).await,
        editor_b
            .delete(&format!("/api/tenants/{a}/attributes/geheimfeld"))
            .await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.json);
        assert!(!String::from_utf8_lossy(&reply.body).contains("Geheimfeld A"));
    }
    // B's contacts cannot hold A's attribute.
    let refused = create_contact(
        &editor_b,
        &b,
        json!({ "email": "b@example.de", "attributes": { "geheimfeld": "x" } }),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json["field"], "attributes.geheimfeld");
    // A's definition is untouched.
    let listed_a = editor_a.get(&format!("/api/tenants/{a}/attributes")).await;
    assert_eq!(listed_a.json["attributes"][0]["label"], "Geheimfeld A");
}

async fn a_deleted_attribute_hides_its_values_even_when_defined_again_with_another_kind(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Aufräumen").await;
    define_bank_fields(&editor, &tenant).await;
    let created = create_contact(
        &editor,
        &tenant,
        json!({
            "email": "alt@example.de",
            "attributes": { "privatkunde": false, "kundennummer": "42" },
        }),
    )
    .await;
    let path = format!(
        "/api/tenants/{tenant}/contacts/{}",
        created.json["id"].as_str().unwrap()
    );
    let attributes = format!("/api/tenants/{tenant}/attributes");
    editor.delete(&format!("{attributes}/privatkunde")).await;
    assert_eq!(
        editor.get(&path).await.json["attributes"],
        json!({ "kundennummer": "42" })
    );
    // Defined again as text: the old yes/no value does not reappear.
    let redefined = define(&editor, &tenant, "privatkunde", "Kundengruppe", "text").await;
    assert_eq!(redefined.status, StatusCode::CREATED, "{}", redefined.json);
    assert_eq!(
        editor.get(&path).await.json["attributes"],
        json!({ "kundennummer": "42" })
    );
    let set = editor
        .patch_json(&path, &json!({ "attributes": { "privatkunde": "Privat" } }))
        .await;
    assert_eq!(
        set.json["attributes"],
        json!({ "kundennummer": "42", "privatkunde": "Privat" })
    );
}

async fn an_institute_defines_at_most_fifty_attributes(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = editor_of_new_tenant(&app, "Sparkasse Viele").await;
    for i in 0..emma::domain::MAX_ATTRIBUTES {
        let reply = define(&editor, &tenant, &format!("feld_{i}"), "Feld", "text").await;
        assert_eq!(reply.status, StatusCode::CREATED, "{i}: {}", reply.json);
    }
    let one_more = define(&editor, &tenant, "noch_eins", "Noch eins", "text").await;
    assert_eq!(
        one_more.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        one_more.json
    );
    // Deleting one makes room again.
    editor
        .delete(&format!("/api/tenants/{tenant}/attributes/feld_0"))
        .await;
    let again = define(&editor, &tenant, "noch_eins", "Noch eins", "text").await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.json);
}

emma_tests::on_both_adapter_sets!(
    an_institute_defines_at_most_fifty_attributes,
    attributes_are_defined_listed_relabelled_and_deleted,
    contacts_carry_values_of_every_kind_and_a_change_merges_them,
    values_of_a_wrong_kind_or_unknown_attributes_are_refused_naming_the_field,
    another_tenants_attributes_are_invisible_and_not_found,
    a_deleted_attribute_hides_its_values_even_when_defined_again_with_another_kind,
);
