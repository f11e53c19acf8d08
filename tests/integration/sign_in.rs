//! Password sign-in, sessions, CSRF and the audit log, through the API.

use std::sync::Arc;

use chrono::Duration;
use emma::domain::Role;
use emma::ports::ManualClock;
use emma_tests::app::{Adapters, TEST_PASSWORD, TestApp, spawn, spawn_with_clock};
use emma_tests::http::{Client, Reply, Session};
use http::StatusCode;
use serde_json::json;

use crate::skeleton::create_tenant;

fn start() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-27T09:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Reply {
    app.anonymous()
        .post_json(
            "/api/auth/sign-in",
            &json!({ "email": email, "password": password }),
        )
        .await
}

/// The client a browser becomes after a successful sign-in.
fn browser_after(app: &TestApp, reply: &Reply) -> Client {
    let set_cookie = reply
        .headers
        .get(http::header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    Client {
        session: Some(Session {
            cookie,
            csrf_token: reply.json["csrf_token"].as_str().unwrap().to_owned(),
        }),
        ..app.anonymous()
    }
}

async fn the_right_password_gives_a_session_cookie_that_works(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Anmeldung").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let reply = sign_in(&app, user.email.as_str(), TEST_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let cookie = reply.headers[http::header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("emma_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert_eq!(reply.json["role"], "editor");
    let browser = browser_after(&app, &reply);
    let me = browser.get("/api/auth/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["email"], user.email.as_str());
    let contacts = browser
        .get(&format!("/api/tenants/{tenant}/contacts"))
        .await;
    assert_eq!(contacts.status, StatusCode::OK);
}

async fn a_wrong_password_is_refused_and_audited_without_the_address(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Falsch").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let wrong = sign_in(&app, user.email.as_str(), "daneben-daneben-daneben").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json["type"], "urn:emma:problem:sign-in-refused");
    let unknown = sign_in(&app, "niemand@example.de", TEST_PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    // Unknown account and wrong password read the same.
    assert_eq!(unknown.json["detail"], wrong.json["detail"]);

    // The unknown account's attempt is in the platform's log ...
    let operator = app.signed_in(Role::Operator, None).await;
    let platform = operator
        .get("/api/platform/audit?action=auth.sign_in&outcome=denied")
        .await;
    assert_eq!(platform.status, StatusCode::OK, "{}", platform.json);
    let entries = platform.json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", platform.json);
    let unknown_hash = app
        .app()
        .pseudonyms
        .email(&emma::domain::EmailAddress::parse("niemand@example.de").unwrap());
    assert_eq!(entries[0]["actor"]["email_hash"], unknown_hash.as_str());
    // ... the user's in their tenant's, for its admin to see.
    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let log = admin
        .get(&format!(
            "/api/tenants/{tenant}/audit?action=auth.sign_in&outcome=denied"
        ))
        .await;
    let entries = log.json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", log.json);
    let hash = app.app().pseudonyms.email(&user.email);
    assert_eq!(entries[0]["actor"]["email_hash"], hash.as_str());
    assert_eq!(entries[0]["actor"]["user_id"], user.id.to_string());
    for text in [log.json.to_string(), platform.json.to_string()] {
        assert!(!text.contains(user.email.as_str()));
        assert!(!text.contains("niemand@example.de"));
    }
}

async fn repeated_failures_slow_sign_in_down_but_never_lock_out_for_good(adapters: Adapters) {
    let clock = ManualClock::new(start());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let tenant = create_tenant(&app, "Sparkasse Geduld").await;
    let user = app.create_user(Role::Viewer, Some(&tenant)).await;
    for _ in 0..6 {
        sign_in(&app, user.email.as_str(), "falsch-falsch-falsch").await;
    }
    let slowed = sign_in(&app, user.email.as_str(), TEST_PASSWORD).await;
    assert_eq!(
        slowed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        slowed.json
    );
    assert!(slowed.headers.contains_key(http::header::RETRY_AFTER));
    clock.advance(Duration::minutes(16));
    let later = sign_in(&app, user.email.as_str(), TEST_PASSWORD).await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.json);
}

async fn signing_out_ends_the_session_on_the_server(adapters: Adapters) {
    let app = spawn(adapters).await;
    let user = app.create_user(Role::Operator, None).await;
    let browser = browser_after(
        &app,
        &sign_in(&app, user.email.as_str(), TEST_PASSWORD).await,
    );
    let out = browser.post_json("/api/auth/sign-out", &json!({})).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.headers[http::header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The old cookie, replayed, is worth nothing.
    let again = browser.get("/api/auth/me").await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

async fn an_idle_session_ends_and_so_does_a_long_one(adapters: Adapters) {
    let clock = ManualClock::new(start());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let user = app.create_user(Role::Operator, None).await;
    let browser = app.client_for(&user).await;
    clock.advance(Duration::minutes(29));
    assert_eq!(browser.get("/api/auth/me").await.status, StatusCode::OK);
    clock.advance(Duration::minutes(31));
    assert_eq!(
        browser.get("/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );

    // Busy all day: still out after twelve hours.
    let busy = app.client_for(&user).await;
    for _ in 0..25 {
        clock.advance(Duration::minutes(29));
        busy.get("/api/auth/me").await;
    }
    assert_eq!(
        busy.get("/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_change_needs_the_csrf_token_and_our_own_origin(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Herkunft").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let path = format!("/api/tenants/{tenant}/contacts");
    let body = json!({ "email": "csrf@example.de" }).to_string();
    let session = editor.session.clone().unwrap();
    let attempt = |token: Option<&str>, origin: Option<&str>| {
        let mut request = http::Request::post(&path)
            .header(http::header::COOKIE, &session.cookie)
            .header(http::header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        if let Some(origin) = origin {
            request = request.header(http::header::ORIGIN, origin);
        }
        request.body(axum::body::Body::from(body.clone())).unwrap()
    };
    let no_token = editor.send(attempt(None, Some(&editor.origin))).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(no_token.json["type"], "urn:emma:problem:csrf");
    let wrong_token = editor
        .send(attempt(Some("0000"), Some(&editor.origin)))
        .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    let other_origin = editor
        .send(attempt(
            Some(&session.csrf_token),
            Some("https://evil.example"),
        ))
        .await;
    assert_eq!(other_origin.status, StatusCode::FORBIDDEN);
    let no_origin = editor.send(attempt(Some(&session.csrf_token), None)).await;
    assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
    assert_eq!(editor.get(&path).await.json["contacts"], json!([]));
    let right = editor
        .send(attempt(Some(&session.csrf_token), Some(&editor.origin)))
        .await;
    assert_eq!(right.status, StatusCode::CREATED, "{}", right.json);
}

async fn a_one_time_password_opens_only_the_password_change(adapters: Adapters) {
    let app = spawn(adapters).await;
    let mut out = Vec::new();
    emma::cli::run_user(
        app.app(),
        emma::cli::UserCommand::Create {
            email: "erste.betreiberin@example.de".to_owned(),
            role: "operator".to_owned(),
            tenant: None,
            name: Some("Erste Betreiberin".to_owned()),
        },
        &mut out,
    )
    .await
    .expect("the platform command");
    let out = String::from_utf8(out).unwrap();
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("one-time password: "))
        .expect("the password is printed")
        .to_owned();
    let reply = sign_in(&app, "erste.betreiberin@example.de", &password).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["must_change_password"], true);
    let browser = browser_after(&app, &reply);
    let blocked = browser.get("/api/platform/tenants").await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert_eq!(
        blocked.json["type"],
        "urn:emma:problem:password-change-required"
    );

    let weak = browser
        .post_json(
            "/api/auth/password",
            &json!({ "current_password": password, "new_password": "passwort1234" }),
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST, "{}", weak.json);
    assert_eq!(weak.json["field"], "new_password");
    let changed = browser
        .post_json(
            "/api/auth/password",
            &json!({ "current_password": password, "new_password": "Korallenriff-Segelboot-Laterne-42" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.json);
    assert_eq!(
        browser.get("/api/platform/tenants").await.status,
        StatusCode::OK
    );
    // The one-time password is spent.
    let reused = sign_in(&app, "erste.betreiberin@example.de", &password).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
}

async fn a_suspended_tenants_users_are_out_and_cannot_sign_in(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Pause").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let editor = app.client_for(&user).await;
    let operator = app.signed_in(Role::Operator, None).await;
    let suspended = operator
        .patch_json(
            &format!("/api/platform/tenants/{tenant}"),
            &json!({ "status": "suspended" }),
        )
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.json);
    assert_eq!(
        editor.get("/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let refused = sign_in(&app, user.email.as_str(), TEST_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    operator
        .patch_json(
            &format!("/api/platform/tenants/{tenant}"),
            &json!({ "status": "active" }),
        )
        .await;
    assert_eq!(
        sign_in(&app, user.email.as_str(), TEST_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
}

async fn changes_and_denials_are_in_the_tenants_audit_log_and_its_csv(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Protokoll").await;
    let editor_user = app.create_user(Role::Editor, Some(&tenant)).await;
    let editor = app.client_for(&editor_user).await;
    let created = editor
        .post_json(
            &format!("/api/tenants/{tenant}/contacts"),
            &json!({ "email": "protokoll@example.de" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let viewer = app.signed_in(Role::Viewer, Some(&tenant)).await;
    let denied = viewer
        .post_json(
            &format!("/api/tenants/{tenant}/contacts"),
            &json!({ "email": "nein@example.de" }),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let log = admin
        .get(&format!("/api/tenants/{tenant}/audit?action=contact."))
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.json);
    let entries = log.json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", log.json);
    let denial = &entries[0];
    assert_eq!(denial["outcome"], "denied");
    assert_eq!(denial["actor"]["role"], "viewer");
    let success = &entries[1];
    assert_eq!(success["action"], "contact.create");
    assert_eq!(success["outcome"], "success");
    assert_eq!(success["actor"]["user_id"], editor_user.id.to_string());
    assert_eq!(success["object"], created.json["id"]);
    assert!(!log.json.to_string().contains("protokoll@example.de"));

    let csv = admin
        .get(&format!("/api/tenants/{tenant}/audit?format=csv"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(
        csv.body.starts_with("\u{feff}".as_bytes()),
        "UTF-8 with BOM"
    );
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("Zeitpunkt (UTC);Aktion;Objekt;Ergebnis")
    );
    assert!(text.contains(";contact.create;"), "{text}");
}

async fn the_audit_log_keeps_entries_for_the_tenants_retention_period(adapters: Adapters) {
    let clock = ManualClock::new(start());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let tenant = create_tenant(&app, "Sparkasse Vergesslich").await;
    let operator = app.signed_in(Role::Operator, None).await;
    let settings = json!({ "settings": { "audit_retention_days": 2 } });
    let changed = operator
        .patch_json(&format!("/api/platform/tenants/{tenant}"), &settings)
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    assert_eq!(changed.json["settings"]["audit_retention_days"], 2);
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    editor
        .post_json(
            &format!("/api/tenants/{tenant}/contacts"),
            &json!({ "email": "kurz@example.de" }),
        )
        .await;
    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let path = format!("/api/tenants/{tenant}/audit?action=contact.");
    assert_eq!(
        admin.get(&path).await.json["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    clock.advance(Duration::days(3));
    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    assert_eq!(admin.get(&path).await.json["entries"], json!([]));

    let too_long = json!({ "settings": { "audit_retention_days": 0 } });
    let operator = app.signed_in(Role::Operator, None).await;
    let refused = operator
        .patch_json(&format!("/api/platform/tenants/{tenant}"), &too_long)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json["field"], "settings.audit_retention_days");
}

async fn bad_user_and_tenant_input_names_the_field_and_stores_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Eingabe").await;
    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let users = format!("/api/tenants/{tenant}/users");
    let before = admin.get(&users).await.json.as_array().unwrap().len();
    let cases = [
        (
            json!({ "email": "keine-adresse", "name": "Nina", "role": "editor" }),
            "email",
        ),
        (
            json!({ "email": "n@example.de", "name": "x".repeat(101), "role": "editor" }),
            "name",
        ),
        (
            json!({ "email": "n@example.de", "name": "Zeilen\numbruch", "role": "editor" }),
            "name",
        ),
        (
            json!({ "email": "n@example.de", "name": "Nina", "role": "chef" }),
            "role",
        ),
    ];
    for (body, field) in cases {
        let reply = admin.post_json(&users, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.json
        );
        assert_eq!(reply.json["field"], field, "{body}");
    }
    assert_eq!(
        admin.get(&users).await.json.as_array().unwrap().len(),
        before
    );
    let nina = emma::domain::EmailAddress::parse("n@example.de").unwrap();
    assert!(
        emma::services::users::find_by_email(app.app(), &nina)
            .await
            .unwrap()
            .is_none()
    );

    let operator = app.signed_in(Role::Operator, None).await;
    let tenants_before = operator
        .get("/api/platform/tenants")
        .await
        .json
        .as_array()
        .unwrap()
        .len();
    for name in ["", "Spar\u{7}kasse", &"S".repeat(121)] {
        let reply = operator
            .post_json("/api/platform/tenants", &json!({ "name": name }))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{name:?}: {}",
            reply.json
        );
        assert_eq!(reply.json["field"], "name");
    }
    let renamed = operator
        .patch_json(
            &format!("/api/platform/tenants/{tenant}"),
            &json!({ "name": "Neu\tName" }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST);
    assert_eq!(renamed.json["field"], "name");
    let tenants = operator.get("/api/platform/tenants").await;
    assert_eq!(tenants.json.as_array().unwrap().len(), tenants_before);
    assert!(tenants.json.to_string().contains("Sparkasse Eingabe"));
}

async fn an_attacker_elsewhere_cannot_lock_the_owner_out(adapters: Adapters) {
    use emma::services::sign_in::{Attempt, SignInError, sign_in as sign_in_service};
    let clock = ManualClock::new(start());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone())).await;
    let tenant = create_tenant(&app, "Sparkasse Standhaft").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let email = user.email.as_str();
    let attempt = |password: &'static str, ip: &str| Attempt {
        email,
        password,
        totp_code: None,
        ip: Some(ip.parse().unwrap()),
    };
    let home = "192.0.2.10";
    sign_in_service(app.app(), attempt(TEST_PASSWORD, home))
        .await
        .expect("the owner signs in");

    for i in 0..20 {
        // An attacker who rotates through one IPv6 /64 counts as one address.
        let ip = format!("2001:db8:1:2::{:x}", i + 1);
        let _ = sign_in_service(app.app(), attempt("rate-mal-rate-mal", &ip)).await;
        clock.advance(Duration::seconds(1));
    }
    let attacker = sign_in_service(app.app(), attempt(TEST_PASSWORD, "2001:db8:1:2::99")).await;
    assert!(
        matches!(attacker, Err(SignInError::Throttled { .. })),
        "the attacker's /64 is slowed down"
    );
    let elsewhere = sign_in_service(app.app(), attempt(TEST_PASSWORD, "198.51.100.7")).await;
    assert!(
        matches!(elsewhere, Err(SignInError::Throttled { .. })),
        "from an unknown device the account is slowed down too"
    );
    let owner = sign_in_service(app.app(), attempt(TEST_PASSWORD, home)).await;
    assert!(owner.is_ok(), "the owner at home is never locked out");

    // The failed attempts are in the tenant's own log.
    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let log = admin
        .get(&format!(
            "/api/tenants/{tenant}/audit?action=auth.sign_in&outcome=denied"
        ))
        .await;
    assert!(
        log.json["entries"].as_array().unwrap().len() >= 20,
        "{}",
        log.json
    );
}

/// A sign-in attempt arriving from `ip`, as the server sees the peer.
async fn sign_in_from(app: &TestApp, ip: &str, email: &str) -> Reply {
    let mut request = http::Request::post("/api/auth/sign-in")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(
            json!({ "email": email, "password": "daneben-daneben-daneben" }).to_string(),
        ))
        .unwrap();
    let peer = std::net::SocketAddr::new(ip.parse().unwrap(), 40_000);
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    app.anonymous().send(request).await
}

async fn the_audit_log_keeps_the_network_and_a_hash_of_the_ip_and_finds_a_known_address(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Herkunft").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let office = "198.51.100.77";
    let stranger = "2001:db8:5:6::9";
    for ip in [office, stranger] {
        let refused = sign_in_from(&app, ip, user.email.as_str()).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }
    let admin = app.signed_in(Role::TenantAdmin, Some(&tenant)).await;
    let all = admin
        .get(&format!("/api/tenants/{tenant}/audit?action=auth.sign_in"))
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    let entries = all.json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", all.json);
    // Newest first: the stranger's attempt, then the office's.
    assert_eq!(entries[0]["ip"]["network"], "2001:db8:5::/48");
    assert_eq!(entries[1]["ip"]["network"], "198.51.100.0/24");
    assert_ne!(entries[0]["ip"]["hash"], entries[1]["ip"]["hash"]);
    let csv = admin
        .get(&format!("/api/tenants/{tenant}/audit?format=csv"))
        .await;
    for text in [all.json.to_string(), String::from_utf8(csv.body).unwrap()] {
        assert!(!text.contains(office), "no address in clear: {text}");
        assert!(
            !text.contains("2001:db8:5:6::9"),
            "no address in clear: {text}"
        );
    }

    // A known address finds its entries, and only those.
    let found = admin
        .get(&format!("/api/tenants/{tenant}/audit?ip={office}"))
        .await;
    let found = found.json["entries"].as_array().unwrap().clone();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["ip"]["network"], "198.51.100.0/24");
    let none = admin
        .get(&format!("/api/tenants/{tenant}/audit?ip=198.51.100.78"))
        .await;
    assert_eq!(none.json["entries"].as_array().unwrap().len(), 0);
    // Each search is on record, with the hash looked for.
    let searches = admin
        .get(&format!(
            "/api/tenants/{tenant}/audit?action=audit.ip_search"
        ))
        .await;
    let searches = searches.json["entries"].as_array().unwrap().clone();
    assert_eq!(searches.len(), 2, "{searches:?}");
    assert_eq!(searches[1]["object"], found[0]["ip"]["hash"]);
    let bad = admin
        .get(&format!("/api/tenants/{tenant}/audit?ip=not-an-address"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json["field"], "ip", "{}", bad.json);
}

emma_tests::on_both_adapter_sets!(
    the_audit_log_keeps_the_network_and_a_hash_of_the_ip_and_finds_a_known_address,
    an_attacker_elsewhere_cannot_lock_the_owner_out,
    the_right_password_gives_a_session_cookie_that_works,
    a_wrong_password_is_refused_and_audited_without_the_address,
    repeated_failures_slow_sign_in_down_but_never_lock_out_for_good,
    signing_out_ends_the_session_on_the_server,
    an_idle_session_ends_and_so_does_a_long_one,
    a_change_needs_the_csrf_token_and_our_own_origin,
    a_one_time_password_opens_only_the_password_change,
    a_suspended_tenants_users_are_out_and_cannot_sign_in,
    changes_and_denials_are_in_the_tenants_audit_log_and_its_csv,
    the_audit_log_keeps_entries_for_the_tenants_retention_period,
    bad_user_and_tenant_input_names_the_field_and_stores_nothing,
);
