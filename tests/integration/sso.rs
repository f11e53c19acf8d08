//! Single sign-on with bearer tokens: pre-provisioned users, users
//! provisioned from tenant claims, and forged or stale tokens refused
//! without changing anything.

use base64::Engine;
use chrono::TimeDelta;
use emma::auth::dev_issuer::DevClaims;
use emma::domain::Role;
use emma::ports::store::keys;
use emma_tests::app::{Adapters, TestApp, spawn};
use emma_tests::http::Reply;
use http::StatusCode;
use serde_json::json;

use crate::skeleton::create_tenant;

fn claims(email: &str, tenant: Option<&str>, role: Option<&str>) -> DevClaims {
    let mut claims = DevClaims::new(format!("sub-{email}"));
    claims.email = Some(email.to_owned());
    claims.name = Some("Sina Single".to_owned());
    claims.tenant = tenant.map(str::to_owned);
    claims.role = role.map(str::to_owned);
    claims
}

fn mint(app: &TestApp, claims: DevClaims) -> String {
    app.dev_issuer
        .mint(claims, app.app().clock.now())
        .expect("a token")
}

async fn with_bearer(
    app: &TestApp,
    token: &str,
    method: http::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Reply {
    app.with_bearer(token, method, path, body).await
}

async fn a_token_signs_in_a_pre_provisioned_user_without_a_cookie(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Konzern").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let token = mint(&app, claims(user.email.as_str(), None, None));
    let me = with_bearer(&app, &token, http::Method::GET, "/api/auth/me", None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.json);
    assert_eq!(me.json["user_id"], user.id.to_string());
    // No ambient credential, so no CSRF token is needed.
    let created = with_bearer(
        &app,
        &token,
        http::Method::POST,
        &format!("/api/tenants/{tenant}/contacts"),
        Some(json!({ "email": "per-sso@example.de" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
}

async fn tenant_claims_provision_a_tenant_user_once_but_never_a_platform_role(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Neuzugang").await;
    let token = mint(
        &app,
        claims("neu.per.sso@example.de", Some(&tenant), Some("viewer")),
    );
    let first = with_bearer(&app, &token, http::Method::GET, "/api/auth/me", None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["role"], "viewer");
    assert_eq!(first.json["tenant_id"], tenant.as_str());
    let second = with_bearer(&app, &token, http::Method::GET, "/api/auth/me", None).await;
    assert_eq!(second.json["user_id"], first.json["user_id"]);
    // Another subject with the same address does not get this account.
    let mut other = claims("neu.per.sso@example.de", Some(&tenant), Some("viewer"));
    other.subject = "someone-else".to_owned();
    let impostor = with_bearer(
        &app,
        &mint(&app, other),
        http::Method::GET,
        "/api/auth/me",
        None,
    )
    .await;
    assert_eq!(impostor.status, StatusCode::UNAUTHORIZED);

    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let log = admin
        .get(&format!(
            "/api/tenants/{tenant}/audit?action=user.provision_sso"
        ))
        .await;
    assert_eq!(
        log.json["entries"].as_array().unwrap().len(),
        1,
        "{}",
        log.json
    );

    for role in ["operator", "product_admin"] {
        let token = mint(
            &app,
            claims(&format!("{role}@example.de"), Some(&tenant), Some(role)),
        );
        let refused = with_bearer(&app, &token, http::Method::GET, "/api/auth/me", None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{role}");
    }
}

/// Where the test app's development issuer keeps its key.
fn key_file(app: &TestApp) -> std::path::PathBuf {
    app.data_dir
        .as_ref()
        .expect("a folder with the issuer key")
        .path()
        .join("oidc-dev-issuer.p8")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn forged_and_stale_tokens_are_refused_and_change_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Wachsam").await;
    let tenant_id = emma::domain::TenantId::parse(&tenant).unwrap();
    let email = "angriff@example.de";
    let good = mint(&app, claims(email, Some(&tenant), Some("editor")));
    let mut parts = good.split('.');
    let (header, payload) = (parts.next().unwrap(), parts.next().unwrap());
    let header_json: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    let kid = header_json["kid"].as_str().unwrap().to_owned();

    let alg_none = format!(
        "{}.{payload}.",
        b64(json!({ "alg": "none", "kid": kid }).to_string().as_bytes())
    );
    // HS256, "signed" with the issuer's public key set as the HMAC secret.
    let public = serde_json::to_vec(&app.dev_issuer.jwks()).unwrap();
    let hs_header = b64(json!({ "alg": "HS256", "kid": kid, "typ": "JWT" })
        .to_string()
        .as_bytes());
    let tag = {
        use aws_lc_rs::hmac;
        let key = hmac::Key::new(hmac::HMAC_SHA256, &public);
        hmac::sign(&key, format!("{hs_header}.{payload}").as_bytes())
    };
    let hs256 = format!("{hs_header}.{payload}.{}", b64(tag.as_ref()));
    let mut wrong_audience = claims(email, Some(&tenant), Some("editor"));
    wrong_audience.audience = Some("another-app".to_owned());
    let mut expired = claims(email, Some(&tenant), Some("editor"));
    expired.ttl = TimeDelta::minutes(-10);
    // The same key, but another issuer.
    let other_dir = tempfile::tempdir().unwrap();
    std::fs::copy(key_file(&app), other_dir.path().join("oidc-dev-issuer.p8"))
        .expect("the issuer's key file");
    let impostor = emma::auth::dev_issuer::DevIssuer::load_or_create(
        other_dir.path(),
        "https://idp.evil.example/".parse().unwrap(),
    )
    .unwrap();
    let wrong_issuer = impostor
        .mint(
            claims(email, Some(&tenant), Some("editor")),
            app.app().clock.now(),
        )
        .unwrap();
    let tampered = format!(
        "{header}.{}.{}",
        b64(&json!({ "sub": "x", "email": email })
            .to_string()
            .into_bytes()),
        good.split('.').nth(2).unwrap()
    );

    let cases = [
        ("alg none", alg_none),
        ("HS256 with the public key", hs256),
        ("wrong audience", mint(&app, wrong_audience)),
        ("wrong issuer, right key", wrong_issuer),
        ("expired", mint(&app, expired)),
        ("tampered payload", tampered),
        ("not a token", "abc.def".to_owned()),
    ];
    for (what, token) in cases {
        let reply = with_bearer(&app, &token, http::Method::GET, "/api/auth/me", None).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            reply.json
        );
        assert_eq!(
            reply.json["type"], "urn:emma:problem:unauthenticated",
            "{what}"
        );
    }
    // Nothing was provisioned by any of them.
    let login = keys::login(
        &app.app()
            .pseudonyms
            .email(&emma::domain::EmailAddress::parse(email).unwrap()),
    );
    assert!(app.app().store.get(&login).await.unwrap().is_none());
    let users = emma::services::users::list(app.app(), Some(&tenant_id))
        .await
        .unwrap();
    assert!(users.is_empty());
    // The genuine token still works.
    let me = with_bearer(&app, &good, http::Method::GET, "/api/auth/me", None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.json);
}

emma_tests::on_both_adapter_sets!(
    a_token_signs_in_a_pre_provisioned_user_without_a_cookie,
    tenant_claims_provision_a_tenant_user_once_but_never_a_platform_role,
    forged_and_stale_tokens_are_refused_and_change_nothing,
);
