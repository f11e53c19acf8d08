//! The walking skeleton, end to end on both adapter sets: a platform command
//! creates a tenant, an HTTP call stores a contact, an HTTP call sends a
//! test mail, and the message — parsed back as MIME — is where the mail
//! adapter puts it. And one tenant never sees another's contact.

use emma::cli::{self, TenantCommand};
use emma::domain::Role;
use emma_tests::app::{Adapters, MAIL_FROM, TestApp, spawn};
use emma_tests::sent;
use http::StatusCode;
use serde_json::json;

/// Runs `emma tenant create <name>` against the app; returns the new id.
pub async fn create_tenant(app: &TestApp, name: &str) -> String {
    let mut out = Vec::new();
    cli::run(
        app.app(),
        TenantCommand::Create {
            name: name.to_owned(),
        },
        &mut out,
    )
    .await
    .expect("tenant create");
    let out = String::from_utf8(out).unwrap();
    let id = out
        .strip_prefix("created tenant ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected output: {out}"));
    id.to_owned()
}

/// Stores a contact through the API; returns its id.
pub async fn create_contact(app: &TestApp, tenant: &str, email: &str, first: &str) -> String {
    let ed = app.signed_in(Role::Editor, Some(tenant)).await;
    let reply = ed
        .post_json(
            &format!("/api/tenants/{tenant}/contacts"),
            &json!({ "email": email, "first_name": first, "last_name": "Mustermann" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json["id"].as_str().expect("an id").to_owned()
}

async fn a_tenant_a_contact_and_a_test_mail_reach_the_mail_service(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Musterstadt").await;
    assert!(tenant.starts_with("sparkasse-musterstadt-"), "{tenant}");
    let ed = app.signed_in(Role::Editor, Some(&tenant)).await;

    let mut out = Vec::new();
    cli::run(app.app(), TenantCommand::List, &mut out)
        .await
        .unwrap();
    assert!(String::from_utf8(out).unwrap().contains(&tenant));

    let contact = create_contact(&app, &tenant, "erika.mustermann@example.de", "Erika").await;
    let read = ed
        .get(&format!("/api/tenants/{tenant}/contacts/{contact}"))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json["email"], "erika.mustermann@example.de");
    assert_eq!(read.json["first_name"], "Erika");

    let sent_reply = ed
        .post_json(
            &format!("/api/tenants/{tenant}/contacts/{contact}/test-mail"),
            &json!({}),
        )
        .await;
    assert_eq!(sent_reply.status, StatusCode::OK, "{:?}", sent_reply.json);
    let message_id = sent_reply.json["message_id"].as_str().unwrap().to_owned();

    let found = sent::messages_containing(&app, &message_id).await;
    assert_eq!(found.len(), 1, "exactly one message with {message_id}");
    let parsed = mail_parser::MessageParser::default()
        .parse(&found[0])
        .expect("valid MIME");
    assert_eq!(parsed.message_id(), Some(message_id.as_str()));
    assert_eq!(parsed.subject(), Some("Testmail von Sparkasse Musterstadt"));
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some(MAIL_FROM));
    assert_eq!(from.name(), Some("Sparkasse Musterstadt"));
    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("erika.mustermann@example.de"));
    assert_eq!(to.name(), Some("Erika Mustermann"));
    assert!(
        parsed
            .body_text(0)
            .unwrap()
            .contains("Hallo Erika Mustermann")
    );
    assert!(
        parsed
            .body_html(0)
            .unwrap()
            .contains("<p>Hallo Erika Mustermann,</p>")
    );
    assert_eq!(parsed.header_raw("X-EMMA-Test").map(str::trim), Some("1"));
}

async fn one_tenant_cannot_read_another_tenants_contact(adapters: Adapters) {
    let app = spawn(adapters).await;
    let a = create_tenant(&app, "Sparkasse A").await;
    let b = create_tenant(&app, "Sparkasse B").await;
    let contact = create_contact(&app, &a, "geheim@example.de", "Greta").await;
    // An editor of B, signed in.
    let ed = app.signed_in(Role::Editor, Some(&b)).await;

    // A's tenant in the path: B's editor is not let in, and learns nothing.
    let into_a = ed
        .get(&format!("/api/tenants/{a}/contacts/{contact}"))
        .await;
    assert_eq!(into_a.status, StatusCode::NOT_FOUND);
    assert!(
        !into_a.json.to_string().contains("geheim"),
        "{}",
        into_a.json
    );
    let list_a = ed.get(&format!("/api/tenants/{a}/contacts")).await;
    assert_eq!(list_a.status, StatusCode::NOT_FOUND);

    let as_b = ed
        .get(&format!("/api/tenants/{b}/contacts/{contact}"))
        .await;
    assert_eq!(as_b.status, StatusCode::NOT_FOUND);
    assert!(!as_b.json.to_string().contains("geheim"), "{}", as_b.json);

    let list_b = ed.get(&format!("/api/tenants/{b}/contacts")).await;
    assert_eq!(list_b.status, StatusCode::OK);
    assert_eq!(list_b.json["contacts"], json!([]));

    let test_mail_as_b = ed
        .post_json(
            &format!("/api/tenants/{b}/contacts/{contact}/test-mail"),
            &json!({}),
        )
        .await;
    assert_eq!(test_mail_as_b.status, StatusCode::NOT_FOUND);

    // The same address may be a contact of both tenants, independently.
    create_contact(&app, &b, "geheim@example.de", "Greta").await;
    let ed = app.signed_in(Role::Editor, Some(&a)).await;
    let as_a = ed
        .get(&format!("/api/tenants/{a}/contacts/{contact}"))
        .await;
    assert_eq!(as_a.status, StatusCode::OK);
}

async fn a_second_contact_with_the_same_address_is_a_conflict(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Doppelt").await;
    let ed = app.signed_in(Role::Editor, Some(&tenant)).await;
    create_contact(&app, &tenant, "max@example.de", "Max").await;
    let again = ed
        .post_json(
            &format!("/api/tenants/{tenant}/contacts"),
            &json!({ "email": "MAX@Example.de" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let list = ed.get(&format!("/api/tenants/{tenant}/contacts")).await;
    assert_eq!(list.json["contacts"].as_array().unwrap().len(), 1);
}

async fn the_logs_of_the_whole_path_never_name_an_address(adapters: Adapters) {
    let logs = emma_tests::logs::process_logs();
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Verschwiegen").await;
    let ed = app.signed_in(Role::Editor, Some(&tenant)).await;
    // An address only this test uses, in mixed case.
    let local_part = format!("Heimlich.{}", uuid::Uuid::new_v4().simple());
    let address = format!("{local_part}@Example.de");
    let contact = create_contact(&app, &tenant, &address, "Hanna").await;
    let reply = ed
        .post_json(
            &format!("/api/tenants/{tenant}/contacts/{contact}/test-mail"),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    let text = logs.text().to_lowercase();
    // The path was logged: the keyed hash of the address stands in its place.
    let parsed = emma::domain::EmailAddress::parse(&address).unwrap();
    assert!(
        text.contains(&app.app().pseudonyms.email(&parsed)),
        "the test mail was logged with the address's keyed hash"
    );
    if let Some(at) = text.find(&local_part.to_lowercase()) {
        let line = text[..at].rsplit('\n').next().unwrap_or_default();
        panic!("an address in clear in the logs, in the line starting: {line}");
    }
}

emma_tests::on_both_adapter_sets!(
    a_tenant_a_contact_and_a_test_mail_reach_the_mail_service,
    one_tenant_cannot_read_another_tenants_contact,
    a_second_contact_with_the_same_address_is_a_conflict,
    the_logs_of_the_whole_path_never_name_an_address,
);
