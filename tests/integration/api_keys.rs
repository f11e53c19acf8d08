//! API keys for integrations: a tenant admin creates one with a tenant
//! role, sees it once, and it then works as a bearer token within its
//! tenant and role; the list shows when it was last used but never its
//! secret; revoking it refuses it at once.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use emma::domain::Role;
use emma::ports::ManualClock;
use emma_tests::app::{Adapters, TestApp, spawn, spawn_with_clock};
use emma_tests::http::{Client, Reply};
use http::{Method, StatusCode};
use serde_json::json;

use crate::skeleton::create_tenant;

async fn with_key(
    app: &TestApp,
    token: &str,
    method: http::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Reply {
    app.with_bearer(token, method, path, body).await
}

/// Creates a key through the API as `admin`; returns (key id, whole key).
async fn create_key(admin: &Client, tenant: &str, name: &str, role: &str) -> (String, String) {
    let reply = admin
        .post_json(
            &format!("/api/tenants/{tenant}/api-keys"),
            &json!({ "name": name, "role": role }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let id = reply.json["key"]["id"].as_str().expect("an id").to_owned();
    let token = reply.json["token"].as_str().expect("a key").to_owned();
    (id, token)
}

fn secret_of(token: &str) -> &str {
    let (_, secret) = token
        .strip_prefix("emma_")
        .and_then(|rest| rest.split_once('_'))
        .expect("emma_<id>_<secret>");
    secret
}

fn sha256_hex(text: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

async fn a_key_is_shown_once_and_works_as_a_bearer_token_within_its_role(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Schnittstelle").await;
    let admin_user = app.create_user(Role::TenantAdmin, Some(&tenant)).await;
    let admin = app.client_for(&admin_user).await;
    let (id, token) = create_key(&admin, &tenant, "CRM-Anbindung", "editor").await;
    assert!(token.starts_with(&format!("emma_{id}_")), "{token}");
    assert_eq!(secret_of(&token).len(), 43);

    // No cookie and no CSRF token: the key is the whole credential.
    let contacts = format!("/api/tenants/{tenant}/contacts");
    let created = with_key(
        &app,
        &token,
        Method::POST,
        &contacts,
        Some(json!({ "email": "per-schluessel@example.de" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let listed = with_key(&app, &token, Method::GET, &contacts, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    assert!(String::from_utf8_lossy(&listed.body).contains("per-schluessel@example.de"));

    // The list names the key, never its secret or the secret's hash.
    let keys = admin.get(&format!("/api/tenants/{tenant}/api-keys")).await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.json);
    let all = keys.json.as_array().expect("a list");
    assert_eq!(all.len(), 1, "{}", keys.json);
    assert_eq!(all[0]["id"], id.as_str());
    assert_eq!(all[0]["name"], "CRM-Anbindung");
    assert_eq!(all[0]["role"], "editor");
    assert_eq!(all[0]["created_by"], admin_user.id.to_string());
    assert!(all[0]["last_used_at"].is_string(), "{}", keys.json);
    assert!(all[0]["revoked_at"].is_null(), "{}", keys.json);
    let text = String::from_utf8_lossy(&keys.body);
    assert!(!text.contains(secret_of(&token)), "{text}");
    assert!(!text.contains(&sha256_hex(secret_of(&token))), "{text}");
    assert!(!text.contains("token") && !text.contains("hash"), "{text}");

    // The audit log names the key and the admin who answers for it.
    let log = admin
        .get(&format!(
            "/api/tenants/{tenant}/audit?action=contact.create"
        ))
        .await;
    let entries = log.json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{}", log.json);
    assert_eq!(entries[0]["actor"]["api_key_id"], id.as_str());
    assert_eq!(entries[0]["actor"]["user_id"], admin_user.id.to_string());
    assert_eq!(entries[0]["actor"]["role"], "editor");
    let log = admin
        .get(&format!(
            "/api/tenants/{tenant}/audit?action=api_key.create"
        ))
        .await;
    let entries = log.json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{}", log.json);
    assert_eq!(entries[0]["object"], id.as_str());
    assert!(!log.json.to_string().contains(secret_of(&token)));

    // The routes for people are closed to keys.
    let me = with_key(&app, &token, Method::GET, "/api/auth/me", None).await;
    assert_eq!(me.status, StatusCode::FORBIDDEN, "{}", me.json);
}

async fn a_revoked_key_is_refused_at_once_and_so_is_a_forged_one(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Widerruf").await;
    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let (id, token) = create_key(&admin, &tenant, "Altsystem", "viewer").await;
    let contacts = format!("/api/tenants/{tenant}/contacts");
    let before = with_key(&app, &token, Method::GET, &contacts, None).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.json);

    let revoked = admin
        .delete(&format!("/api/tenants/{tenant}/api-keys/{id}"))
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.json);
    let after = with_key(&app, &token, Method::GET, &contacts, None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.json);
    assert_eq!(after.json["type"], "urn:emma:problem:unauthenticated");

    // The record stays, marked, for the audit trail.
    let keys = admin.get(&format!("/api/tenants/{tenant}/api-keys")).await;
    assert!(keys.json[0]["revoked_at"].is_string(), "{}", keys.json);
    let again = admin
        .delete(&format!("/api/tenants/{tenant}/api-keys/{id}"))
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{}", again.json);
    let unknown = admin
        .delete(&format!("/api/tenants/{tenant}/api-keys/zzzzzzzzzzzz"))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.json);

    // A live key's id with another secret, and keys that were never made.
    let (_, live) = create_key(&admin, &tenant, "Neu", "viewer").await;
    let wrong_secret = format!("{}{}", &live[..live.len() - 43], "A".repeat(43));
    for forged in [
        wrong_secret.as_str(),
        "emma_zzzzzzzzzzzz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "emma_kaputt",
    ] {
        let reply = with_key(&app, forged, Method::GET, &contacts, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{forged}");
    }
    let fine = with_key(&app, &live, Method::GET, &contacts, None).await;
    assert_eq!(fine.status, StatusCode::OK, "{}", fine.json);

    // Each refusal is in the platform log, with the key id but no secret.
    let operator = app.signed_in(Role::Operator, None).await;
    let log = operator
        .get("/api/platform/audit?action=auth.api_key&outcome=denied")
        .await;
    let entries = log.json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 4, "{}", log.json);
    assert!(
        entries
            .iter()
            .any(|e| e["actor"]["api_key_id"] == id.as_str()),
        "{}",
        log.json
    );
    let text = log.json.to_string();
    assert!(!text.contains(secret_of(&token)), "{text}");
    assert!(!text.contains(&"A".repeat(43)), "{text}");
}

async fn a_key_finds_nothing_of_another_tenant_and_a_viewer_key_cannot_write(adapters: Adapters) {
    let app = spawn(adapters).await;
    let a = create_tenant(&app, "Sparkasse A").await;
    let b = create_tenant(&app, "Sparkasse B").await;
    let admin_a = app.signed_in(Role::TenantAdmin, Some(&a)).await;
    let (_, editor_key) = create_key(&admin_a, &a, "Redaktion", "editor").await;
    let (_, viewer_key) = create_key(&admin_a, &a, "Berichte", "viewer").await;
    let (_, admin_key) = create_key(&admin_a, &a, "Verwaltung", "tenant_admin").await;

    let on_b = with_key(
        &app,
        &editor_key,
        Method::GET,
        &format!("/api/tenants/{b}/contacts"),
        None,
    )
    .await;
    assert_eq!(on_b.status, StatusCode::NOT_FOUND, "{}", on_b.json);

    let contacts = format!("/api/tenants/{a}/contacts");
    let read = with_key(&app, &viewer_key, Method::GET, &contacts, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.json);
    let write = with_key(
        &app,
        &viewer_key,
        Method::POST,
        &contacts,
        Some(json!({ "email": "nur-lesen@example.de" })),
    )
    .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN, "{}", write.json);

    // Even a key with the tenant admin role cannot make or list keys.
    let keys = format!("/api/tenants/{a}/api-keys");
    let minted = with_key(
        &app,
        &admin_key,
        Method::POST,
        &keys,
        Some(json!({ "name": "Nachfolger", "role": "tenant_admin" })),
    )
    .await;
    assert_eq!(minted.status, StatusCode::FORBIDDEN, "{}", minted.json);
    let listed = with_key(&app, &admin_key, Method::GET, &keys, None).await;
    assert_eq!(listed.status, StatusCode::FORBIDDEN, "{}", listed.json);
    let users = with_key(
        &app,
        &admin_key,
        Method::GET,
        &format!("/api/tenants/{a}/users"),
        None,
    )
    .await;
    // Nor people who could: user management and every page are for people.
    assert_eq!(users.status, StatusCode::FORBIDDEN, "{}", users.json);
    let page = with_key(&app, &admin_key, Method::GET, "/konto", None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

async fn only_a_tenant_admin_makes_keys_and_only_with_a_tenant_role_and_a_fair_name(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Streng").await;
    let keys = format!("/api/tenants/{tenant}/api-keys");
    let body = json!({ "name": "CRM", "role": "viewer" });
    for role in [Role::Editor, Role::Viewer] {
        let client = app.signed_in(role, Some(&tenant)).await;
        let made = client.post_json(&keys, &body).await;
        assert_eq!(
            made.status,
            StatusCode::FORBIDDEN,
            "{role:?}: {}",
            made.json
        );
        let listed = client.get(&keys).await;
        assert_eq!(listed.status, StatusCode::FORBIDDEN, "{role:?}");
    }

    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    for platform_role in ["operator", "product_admin"] {
        let made = admin
            .post_json(&keys, &json!({ "name": "CRM", "role": platform_role }))
            .await;
        assert_eq!(made.status, StatusCode::BAD_REQUEST, "{}", made.json);
        assert_eq!(made.json["field"], "role", "{}", made.json);
    }
    let too_long = "x".repeat(101);
    for name in ["", "   ", "CRM\u{0}", "Zeile\nzwei", too_long.as_str()] {
        let made = admin
            .post_json(&keys, &json!({ "name": name, "role": "viewer" }))
            .await;
        assert_eq!(
            made.status,
            StatusCode::BAD_REQUEST,
            "{name:?}: {}",
            made.json
        );
        assert_eq!(made.json["field"], "name", "{}", made.json);
    }
    // Nothing was written by any of them.
    let listed = admin.get(&keys).await;
    assert_eq!(listed.json, json!([]));
}

async fn last_use_is_written_at_most_once_a_minute(adapters: Adapters) {
    let start: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
    let clock = ManualClock::new(start);
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let tenant = create_tenant(&app, "Sparkasse Uhr").await;
    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let (_, token) = create_key(&admin, &tenant, "Takt", "viewer").await;
    let keys = format!("/api/tenants/{tenant}/api-keys");
    let last_used = || async {
        let listed = admin.get(&keys).await;
        listed.json[0]["last_used_at"]
            .as_str()
            .map(|t| t.parse::<DateTime<Utc>>().unwrap())
    };
    assert_eq!(last_used().await, None);

    let contacts = format!("/api/tenants/{tenant}/contacts");
    clock.advance(TimeDelta::seconds(5));
    with_key(&app, &token, Method::GET, &contacts, None).await;
    let first = start + TimeDelta::seconds(5);
    assert_eq!(last_used().await, Some(first));

    clock.advance(TimeDelta::seconds(30));
    with_key(&app, &token, Method::GET, &contacts, None).await;
    assert_eq!(last_used().await, Some(first));

    clock.advance(TimeDelta::seconds(40));
    with_key(&app, &token, Method::GET, &contacts, None).await;
    assert_eq!(last_used().await, Some(first + TimeDelta::seconds(70)));
}

async fn a_key_dies_with_its_creators_account(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Nachlass").await;
    let creator = app.create_user(Role::TenantAdmin, Some(&tenant)).await;
    let creator_client = app.client_for(&creator).await;
    let (_, key) = create_key(&creator_client, &tenant, "Altlast", "editor").await;
    let contacts = format!("/api/tenants/{tenant}/contacts");
    let works = with_key(&app, &key, Method::GET, &contacts, None).await;
    assert_eq!(works.status, StatusCode::OK, "{}", works.json);

    let other_admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let disabled = other_admin
        .patch_json(
            &format!("/api/tenants/{tenant}/users/{}", creator.id),
            &json!({ "status": "disabled" }),
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.json);
    let refused = with_key(&app, &key, Method::GET, &contacts, None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.json);
}

emma_tests::on_both_adapter_sets!(
    a_key_dies_with_its_creators_account,
    a_key_is_shown_once_and_works_as_a_bearer_token_within_its_role,
    a_revoked_key_is_refused_at_once_and_so_is_a_forged_one,
    a_key_finds_nothing_of_another_tenant_and_a_viewer_key_cannot_write,
    only_a_tenant_admin_makes_keys_and_only_with_a_tenant_role_and_a_fair_name,
    last_use_is_written_at_most_once_a_minute,
);
