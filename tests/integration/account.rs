//! A user's own account: the TOTP second factor and the password reset
//! through an e-mailed one-time link.

use std::sync::Arc;

use chrono::Duration;
use emma::auth::totp::TotpSecret;
use emma::domain::Role;
use emma::ports::{Clock, ManualClock};
use emma_tests::app::{Adapters, TEST_PASSWORD, TestApp, spawn, spawn_with_clock};
use emma_tests::sent;
use http::StatusCode;
use serde_json::json;

use crate::skeleton::create_tenant;

fn start() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> emma_tests::http::Reply {
    app.anonymous()
        .post_json(
            "/api/auth/sign-in",
            &json!({ "email": email, "password": password, "totp_code": code }),
        )
        .await
}

async fn a_confirmed_second_factor_is_asked_for_at_sign_in_and_a_code_works_once(
    adapters: Adapters,
) {
    let clock = ManualClock::new(start());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let tenant = create_tenant(&app, "Sparkasse Zweifach").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let browser = app.client_for(&user).await;

    let setup = browser.post_json("/api/auth/totp", &json!({})).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.json);
    assert!(
        setup.json["provisioning_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert!(setup.json["qr_svg"].as_str().unwrap().contains("<svg"));
    let secret = TotpSecret::from_base32(setup.json["secret"].as_str().unwrap()).unwrap();

    let wrong = browser
        .post_json("/api/auth/totp/confirm", &json!({ "code": "000000" }))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json["field"], "code");
    let confirmed = browser
        .post_json(
            "/api/auth/totp/confirm",
            &json!({ "code": secret.code_at(clock.now()) }),
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::NO_CONTENT,
        "{}",
        confirmed.json
    );

    clock.advance(Duration::seconds(60));
    let without = sign_in(&app, user.email.as_str(), TEST_PASSWORD, None).await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        without.json["type"],
        "urn:emma:problem:second-factor-required"
    );
    let code = secret.code_at(clock.now());
    let with = sign_in(&app, user.email.as_str(), TEST_PASSWORD, Some(&code)).await;
    assert_eq!(with.status, StatusCode::OK, "{}", with.json);
    assert_eq!(with.json["second_factor"], true);
    // The same code again is refused.
    let replay = sign_in(&app, user.email.as_str(), TEST_PASSWORD, Some(&code)).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);

    // A session alone can neither replace the factor nor remove it.
    let again = browser.post_json("/api/auth/totp", &json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let wrong = browser
        .json(
            http::Method::DELETE,
            "/api/auth/totp",
            &json!({ "current_password": "geraten-geraten-geraten" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let removed = browser
        .json(
            http::Method::DELETE,
            "/api/auth/totp",
            &json!({ "current_password": TEST_PASSWORD }),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
}

fn link_token(raw: &[u8]) -> String {
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("valid MIME");
    let text = message.body_text(0).expect("a text part").into_owned();
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn a_reset_link_sets_a_new_password_once(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Vergessen").await;
    let user = app.create_user(Role::Viewer, Some(&tenant)).await;
    let anonymous = app.anonymous();

    let unknown = anonymous
        .post_json(
            "/api/auth/password-reset",
            &json!({ "email": "gibtsnicht@example.de" }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert!(
        sent::messages_containing(&app, "gibtsnicht@example.de")
            .await
            .is_empty()
    );

    let requested = anonymous
        .post_json(
            "/api/auth/password-reset",
            &json!({ "email": user.email.as_str() }),
        )
        .await;
    assert_eq!(requested.status, StatusCode::ACCEPTED);
    let mails = sent::messages_containing(&app, user.email.as_str()).await;
    assert_eq!(mails.len(), 1);
    let token = link_token(&mails[0]);

    let weak = anonymous
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({ "token": token, "new_password": "kurz" }),
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert_eq!(weak.json["field"], "new_password");
    let new_password = "Leuchtturm-Nordsee-Kompass-77";
    let done = anonymous
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({ "token": token, "new_password": new_password }),
        )
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.json);
    let again = anonymous
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({ "token": token, "new_password": "Noch-ein-ganz-anderes-Kennwort-5" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.json["field"], "token");

    assert_eq!(
        sign_in(&app, user.email.as_str(), TEST_PASSWORD, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, user.email.as_str(), new_password, None)
            .await
            .status,
        StatusCode::OK
    );
}

async fn a_tenant_that_requires_a_second_factor_lets_users_only_set_it_up(adapters: Adapters) {
    let clock = ManualClock::new(start());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let tenant = create_tenant(&app, "Sparkasse Streng").await;
    let operator = app.signed_in(Role::Operator, None).await;
    let required = operator
        .patch_json(
            &format!("/api/platform/tenants/{tenant}"),
            &json!({ "settings": { "require_second_factor": true } }),
        )
        .await;
    assert_eq!(required.status, StatusCode::OK, "{}", required.json);

    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let contacts = format!("/api/tenants/{tenant}/contacts");
    let blocked = editor.get(&contacts).await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert_eq!(
        blocked.json["type"],
        "urn:emma:problem:second-factor-set-up-required"
    );
    let page = editor.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers[http::header::LOCATION], "/konto");

    let setup = editor.post_json("/api/auth/totp", &json!({})).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.json);
    let secret = TotpSecret::from_base32(setup.json["secret"].as_str().unwrap()).unwrap();
    let confirmed = editor
        .post_json(
            "/api/auth/totp/confirm",
            &json!({ "code": secret.code_at(clock.now()) }),
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::NO_CONTENT,
        "{}",
        confirmed.json
    );
    assert_eq!(editor.get(&contacts).await.status, StatusCode::OK);
    // And it cannot be switched off while the institute requires it.
    let removed = editor
        .json(
            http::Method::DELETE,
            "/api/auth/totp",
            &json!({ "current_password": TEST_PASSWORD }),
        )
        .await;
    assert_eq!(removed.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_password_change_ends_the_other_sessions_and_a_reset_ends_all(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Wechsel").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let here = app.client_for(&user).await;
    let elsewhere = app.client_for(&user).await;
    let changed = here
        .post_json(
            "/api/auth/password",
            &json!({ "current_password": TEST_PASSWORD, "new_password": "Wanderweg-Bergsee-Kiefer-19" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.json);
    assert_eq!(here.get("/api/auth/me").await.status, StatusCode::OK);
    assert_eq!(
        elsewhere.get("/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );

    app.anonymous()
        .post_json(
            "/api/auth/password-reset",
            &json!({ "email": user.email.as_str() }),
        )
        .await;
    let mails = sent::messages_containing(&app, user.email.as_str()).await;
    let token = link_token(mails.last().expect("the reset mail"));
    let reset = app
        .anonymous()
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({ "token": token, "new_password": "Sternwarte-Komet-Nebel-2026" }),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.json);
    assert_eq!(
        here.get("/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_product_admin_invites_a_tenant_admin_and_never_sees_a_password(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Einladung").await;
    let product_admin = app.signed_in(Role::ProductAdmin, None).await;
    let address = format!("leitung-{}@example.de", uuid::Uuid::new_v4().simple());
    let created = product_admin
        .post_json(
            &format!("/api/tenants/{tenant}/users"),
            &json!({ "email": address, "name": "Lea Leitung", "role": "tenant_admin" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["one_time_password"], serde_json::Value::Null);

    let mails = sent::messages_containing(&app, &address).await;
    assert_eq!(mails.len(), 1, "one invitation");
    let token = link_token(&mails[0]);
    let password = "Gartenhaus-Regenbogen-Flieder-8";
    let set = app
        .anonymous()
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({ "token": token, "new_password": password }),
        )
        .await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.json);
    let signed_in = sign_in(&app, &address, password, None).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.json);
    assert_eq!(signed_in.json["role"], "tenant_admin");
}

async fn guessing_the_current_password_in_a_session_is_slowed_down(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Sitzung").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let stolen = app.client_for(&user).await;
    let guess = |password: &str| json!({ "current_password": password, "new_password": "Uebernahme-Versuch-Kennwort-1" });
    for i in 0..6 {
        let reply = stolen
            .post_json("/api/auth/password", &guess(&format!("rate-{i}-rate-rate")))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "guess {i}: {}",
            reply.json
        );
    }
    let slowed = stolen
        .post_json("/api/auth/password", &guess(TEST_PASSWORD))
        .await;
    assert_eq!(
        slowed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        slowed.json
    );
}

emma_tests::on_both_adapter_sets!(
    guessing_the_current_password_in_a_session_is_slowed_down,
    a_product_admin_invites_a_tenant_admin_and_never_sees_a_password,
    a_password_change_ends_the_other_sessions_and_a_reset_ends_all,
    a_confirmed_second_factor_is_asked_for_at_sign_in_and_a_code_works_once,
    a_reset_link_sets_a_new_password_once,
    a_tenant_that_requires_a_second_factor_lets_users_only_set_it_up,
);
