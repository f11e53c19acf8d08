//! Browser sign-in through the identity provider (authorization code with
//! PKCE): the sign-in page's button, the development issuer's page, the
//! return to EMMA and the session it starts — and every way the return can
//! be wrong: another browser, a replay, a stale sign-in, an intercepted
//! code, an unknown or disabled person, a suspended institute.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use chrono::TimeDelta;
use emma::domain::{Role, TenantId, TenantStatus, UserStatus};
use emma::ports::{Clock, ManualClock};
use emma::services::audit::{self, Filter, Outcome};
use emma::services::tenants::{self, TenantChange};
use emma::services::users;
use emma_tests::app::{Adapters, TestApp, spawn, spawn_with_clock};
use emma_tests::http::{Reply, call};
use http::{Request, StatusCode, header};

use crate::skeleton::create_tenant;

/// A browser's cookie jar over the in-process router.
struct Browser {
    router: axum::Router,
    /// EMMA's origin, which a browser sends with every form post.
    origin: String,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            router: app.router(),
            origin: app.app().settings.public_url.origin().ascii_serialization(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, reply: &Reply) {
        for set in reply.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let cleared = set.contains("Max-Age=0");
            if cleared || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn get(&mut self, path_and_query: &str) -> Reply {
        let request = Request::get(path_and_query)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        let reply = call(&self.router, request).await;
        self.keep_cookies(&reply);
        reply
    }

    async fn post_form(&mut self, path: &str, fields: &[(String, String)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, &self.origin)
            .body(Body::from(body))
            .unwrap();
        let reply = call(&self.router, request).await;
        self.keep_cookies(&reply);
        reply
    }

    fn has_session(&self) -> bool {
        self.cookies.keys().any(|k| k.ends_with("emma_session"))
    }
}

fn location(reply: &Reply) -> url::Url {
    let raw = reply
        .headers
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("a redirect, got {}", reply.status))
        .to_str()
        .unwrap();
    url::Url::parse("http://emma.invalid/")
        .unwrap()
        .join(raw)
        .unwrap()
}

fn path_and_query(url: &url::Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// What the identity provider is told about the person.
#[derive(Default)]
struct Person<'a> {
    email: &'a str,
    tenant: Option<&'a str>,
    role: Option<&'a str>,
}

impl<'a> Person<'a> {
    /// Someone EMMA knows: the address alone.
    fn known(email: &'a str) -> Self {
        Self {
            email,
            ..Self::default()
        }
    }
}

/// Clicks the sign-in page's button and vouches for `person` at the
/// development issuer; answers where the issuer sends the browser back.
async fn through_the_provider(browser: &mut Browser, person: &Person<'_>) -> String {
    let authorize = start_at_emma(browser).await;
    vouch_at_the_provider(browser, &authorize, person).await
}

/// Clicks the sign-in page's button; answers where EMMA sends the browser.
async fn start_at_emma(browser: &mut Browser) -> url::Url {
    let page = browser.get("/anmelden").await;
    assert!(
        String::from_utf8_lossy(&page.body).contains("href=\"/anmelden/sso\""),
        "the sign-in page offers single sign-on"
    );
    let started = browser.get("/anmelden/sso").await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let authorize = location(&started);
    assert_eq!(authorize.path(), "/dev-idp/authorize");
    authorize
}

/// Vouches for `person` on the development issuer's page; answers where
/// the issuer sends the browser back.
async fn vouch_at_the_provider(
    browser: &mut Browser,
    authorize: &url::Url,
    person: &Person<'_>,
) -> String {
    let form_page = browser.get(&path_and_query(authorize)).await;
    assert_eq!(form_page.status, StatusCode::OK);
    let mut fields: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    fields.push(("email".into(), person.email.into()));
    fields.push(("name".into(), "Sina Single".into()));
    fields.push(("tenant".into(), person.tenant.unwrap_or_default().into()));
    fields.push(("role".into(), person.role.unwrap_or_default().into()));
    let vouched = browser.post_form("/dev-idp/authorize", &fields).await;
    assert_eq!(vouched.status, StatusCode::SEE_OTHER);
    let back = location(&vouched);
    assert_eq!(back.path(), "/anmelden/sso/rueckkehr");
    path_and_query(&back)
}

fn alert_of(reply: &Reply) -> String {
    let body = String::from_utf8_lossy(&reply.body);
    let start = body.find("role=\"alert\">").expect("an alert") + "role=\"alert\">".len();
    body[start..].split('<').next().unwrap().to_owned()
}

async fn sso_entries(app: &TestApp, tenant: Option<&str>) -> Vec<audit::AuditEntry> {
    let tenant = tenant.map(|t| TenantId::parse(t).unwrap());
    let filter = Filter {
        action_prefix: Some("auth.sign_in_sso".into()),
        ..Filter::default()
    };
    audit::list(app.app(), tenant.as_ref(), &filter, 50, None)
        .await
        .unwrap()
        .0
}

async fn a_known_user_signs_in_through_the_provider_and_gets_a_session(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Portal").await;
    let user = app.create_user(Role::TenantAdmin, Some(&tenant)).await;
    let mut browser = Browser::new(&app);

    let back = through_the_provider(&mut browser, &Person::known(user.email.as_str())).await;
    let signed_in = browser.get(&back).await;

    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in).path(), "/");
    assert!(browser.has_session(), "a session cookie");
    assert!(
        !browser
            .cookies
            .keys()
            .any(|k| k.ends_with("emma_sso_state")),
        "the state cookie is cleared"
    );
    let me = browser.get("/api/auth/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.json);
    assert_eq!(me.json["user_id"], user.id.to_string());
    // The user administration opens: a full session of a tenant admin.
    assert_eq!(browser.get("/benutzer").await.status, StatusCode::OK);
    // Bound to the provider's subject from now on.
    let stored = users::get(app.app(), user.tenant.as_ref(), &user.id)
        .await
        .unwrap();
    assert_eq!(
        stored.sso_subject.as_deref(),
        Some(format!("dev-{}", user.email.as_str()).as_str())
    );
    let entries = sso_entries(&app, Some(&tenant)).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].outcome, Outcome::Success);
    assert_eq!(entries[0].object, Some(user.id.to_string()));
    let linked = audit::list(
        app.app(),
        user.tenant.as_ref(),
        &Filter {
            action_prefix: Some("user.sso_link".into()),
            ..Filter::default()
        },
        10,
        None,
    )
    .await
    .unwrap()
    .0;
    assert_eq!(
        linked.len(),
        1,
        "the first sign-in links the account: {linked:?}"
    );
    assert_eq!(linked[0].object, Some(user.id.to_string()));
    // Signing out ends it like any session.
    let csrf_token = csrf_of(&browser.get("/").await);
    let sign_out = browser
        .post_form("/abmelden", &[("csrf_token".into(), csrf_token)])
        .await;
    assert_eq!(sign_out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        browser.get("/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}

fn csrf_of(page: &Reply) -> String {
    let body = String::from_utf8_lossy(&page.body);
    let start = body
        .find("name=\"csrf_token\" value=\"")
        .expect("a CSRF field")
        + "name=\"csrf_token\" value=\"".len();
    body[start..].split('"').next().unwrap().to_owned()
}

async fn the_return_counts_only_in_the_browser_that_started_once(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Zwei Browser").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let person = Person::known(user.email.as_str());
    let mut victim = Browser::new(&app);
    let back = through_the_provider(&mut victim, &person).await;

    // Another browser (no state cookie, or its own) gets nothing from it.
    let mut other = Browser::new(&app);
    let refused = other.get(&back).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(!other.has_session());
    let _ = through_the_provider(&mut other, &person).await;
    let refused = other.get(&back).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(!other.has_session());

    // The browser that started it signs in, once.
    let signed_in = victim.get(&back).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert!(victim.has_session());
    // A replay, even with the state cookie the starting browser held, finds
    // the sign-in spent.
    let mut replay = Browser::new(&app);
    replay
        .cookies
        .insert("emma_sso_state".into(), state_of(&back));
    let replayed = replay.get(&back).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert!(!replay.has_session());
    assert!(alert_of(&replayed).contains("nicht gelungen"));
}

/// A parameter of a return URL.
fn param_of(back: &str, name: &str) -> String {
    let url = url::Url::parse("http://emma.invalid")
        .unwrap()
        .join(back)
        .unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .unwrap()
        .1
        .into_owned()
}

/// The state a return URL carries (what the starting browser's cookie held).
fn state_of(back: &str) -> String {
    param_of(back, "state")
}

async fn a_stale_sign_in_is_refused(adapters: Adapters) {
    let clock = ManualClock::new(chrono::Utc::now());
    let app = spawn_with_clock(adapters, Arc::new(clock.clone()) as Arc<dyn Clock>).await;
    let tenant = create_tenant(&app, "Sparkasse Langsam").await;
    let user = app.create_user(Role::Viewer, Some(&tenant)).await;
    let mut browser = Browser::new(&app);
    let authorize = start_at_emma(&mut browser).await;

    // Eleven minutes at the provider: its code is fresh, EMMA's sign-in
    // is not.
    clock.advance(TimeDelta::minutes(11));
    let back = vouch_at_the_provider(
        &mut browser,
        &authorize,
        &Person::known(user.email.as_str()),
    )
    .await;
    let refused = browser.get(&back).await;

    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(!browser.has_session());
    let entries = sso_entries(&app, None).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].outcome, Outcome::Denied);
    assert_eq!(
        entries[0].actor.user_id, None,
        "refused before the code was used"
    );
}

async fn an_intercepted_code_is_useless_without_the_verifier(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Abgefangen").await;
    let user = app.create_user(Role::Editor, Some(&tenant)).await;
    let mut browser = Browser::new(&app);
    let back = through_the_provider(&mut browser, &Person::known(user.email.as_str())).await;
    let code = param_of(&back, "code");
    let redirect_uri = app
        .app()
        .settings
        .public_url
        .join("/anmelden/sso/rueckkehr")
        .unwrap()
        .to_string();

    // Whoever caught the code tries it at the token endpoint with a
    // verifier of their own.
    let mut thief = Browser::new(&app);
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", "emma-local"),
        (
            "code_verifier",
            "a-verifier-of-the-thief-that-is-long-enough-1234",
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let stolen = thief.post_form("/dev-idp/token", &fields).await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
    assert_eq!(stolen.json["error"], "invalid_grant");
    assert!(stolen.json.get("id_token").is_none());

    // The try burnt the code: the genuine return fails too, safely.
    let refused = browser.get(&back).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(!browser.has_session());
}

async fn the_provider_cancelling_shows_a_message_and_spends_the_sign_in(adapters: Adapters) {
    let app = spawn(adapters).await;
    let mut browser = Browser::new(&app);
    let started = browser.get("/anmelden/sso").await;
    let state = location(&started)
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();

    let cancelled = browser
        .get(&format!(
            "/anmelden/sso/rueckkehr?error=access_denied&state={state}"
        ))
        .await;

    assert_eq!(cancelled.status, StatusCode::UNAUTHORIZED);
    assert!(
        alert_of(&cancelled).contains("abgebrochen"),
        "{}",
        alert_of(&cancelled)
    );
    assert!(!browser.has_session());
    let entries = sso_entries(&app, None).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].outcome, Outcome::Denied);
}

async fn people_emma_does_not_know_get_in_only_with_a_tenant_role(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Neu").await;

    // No tenant claim: refused, and the refusal is in the platform log.
    let mut stranger = Browser::new(&app);
    let back = through_the_provider(&mut stranger, &Person::known("fremd@example.de")).await;
    let refused = stranger.get(&back).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(alert_of(&refused).contains("nicht freigeschaltet"));
    assert!(!stranger.has_session());
    let entries = sso_entries(&app, None).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].outcome, Outcome::Denied);
    assert!(
        entries[0].actor.email_hash.is_some(),
        "the address tried, hashed"
    );

    // A platform role is never granted by a claim.
    let mut climber = Browser::new(&app);
    let back = through_the_provider(
        &mut climber,
        &Person {
            email: "aufsteiger@example.de",
            tenant: Some(&tenant),
            role: Some("operator"),
        },
    )
    .await;
    assert_eq!(climber.get(&back).await.status, StatusCode::UNAUTHORIZED);
    assert!(!climber.has_session());

    // A tenant role is: the person is provisioned as an editor.
    let mut newcomer = Browser::new(&app);
    let back = through_the_provider(
        &mut newcomer,
        &Person {
            email: "neu@example.de",
            tenant: Some(&tenant),
            role: Some("editor"),
        },
    )
    .await;
    assert_eq!(newcomer.get(&back).await.status, StatusCode::SEE_OTHER);
    let me = newcomer.get("/api/auth/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.json);
    assert_eq!(me.json["role"], "editor");
    assert_eq!(me.json["tenant_id"], tenant);
}

async fn disabled_users_and_suspended_institutes_get_no_session(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Gesperrt").await;
    let tenant_id = TenantId::parse(&tenant).unwrap();
    let disabled = app.create_user(Role::Editor, Some(&tenant)).await;
    users::update(app.app(), Some(&tenant_id), &disabled.id, |u| {
        u.status = UserStatus::Disabled;
        Ok(())
    })
    .await
    .unwrap();
    let mut browser = Browser::new(&app);
    let back = through_the_provider(&mut browser, &Person::known(disabled.email.as_str())).await;
    let refused = browser.get(&back).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(alert_of(&refused).contains("gesperrt"));
    assert!(!browser.has_session());

    let active = app.create_user(Role::Editor, Some(&tenant)).await;
    tenants::update(
        app.app(),
        &tenant_id,
        TenantChange {
            status: Some(TenantStatus::Suspended),
            ..TenantChange::default()
        },
    )
    .await
    .unwrap();
    let mut browser = Browser::new(&app);
    let back = through_the_provider(&mut browser, &Person::known(active.email.as_str())).await;
    assert_eq!(browser.get(&back).await.status, StatusCode::UNAUTHORIZED);
    assert!(!browser.has_session());
}

async fn the_tenants_second_factor_rule_is_the_providers_for_sso_sessions(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Zweiter Faktor").await;
    let tenant_id = TenantId::parse(&tenant).unwrap();
    let mut settings = tenants::get(app.app(), &tenant_id).await.unwrap().settings;
    settings.require_second_factor = true;
    tenants::update(
        app.app(),
        &tenant_id,
        TenantChange {
            settings: Some(settings),
            ..TenantChange::default()
        },
    )
    .await
    .unwrap();
    let user = app.create_user(Role::TenantAdmin, Some(&tenant)).await;

    // With EMMA's password, a user without a second factor may only set
    // one up.
    let by_password = app.client_for(&user).await;
    let refused = by_password
        .get(&format!("/api/tenants/{tenant}/users"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.json);
    // Through the provider, its policy applied: the session is complete.
    let mut browser = Browser::new(&app);
    let back = through_the_provider(&mut browser, &Person::known(user.email.as_str())).await;
    assert_eq!(browser.get(&back).await.status, StatusCode::SEE_OTHER);
    let users_list = browser.get(&format!("/api/tenants/{tenant}/users")).await;
    assert_eq!(users_list.status, StatusCode::OK, "{}", users_list.json);
}

emma_tests::on_both_adapter_sets!(
    a_known_user_signs_in_through_the_provider_and_gets_a_session,
    the_return_counts_only_in_the_browser_that_started_once,
    a_stale_sign_in_is_refused,
    an_intercepted_code_is_useless_without_the_verifier,
    the_provider_cancelling_shows_a_message_and_spends_the_sign_in,
    people_emma_does_not_know_get_in_only_with_a_tenant_role,
    disabled_users_and_suspended_institutes_get_no_session,
    the_tenants_second_factor_rule_is_the_providers_for_sso_sessions,
);
