//! Tests of the browser UI: the pages driven through `routes()` on an app
//! built by the real bootstrap in a temporary folder, with the principal the
//! access guard would insert put in place by a test layer.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::TimeZone;
use tower::ServiceExt;

use super::i18n::{self, Lang};
use super::{CSP, error_page, routes, security_headers};
use crate::App;
use crate::auth::password::{self, PasswordHash};
use crate::config::Config;
use crate::domain::{
    Credential, EmailAddress, PersonName, Principal, Role, Tenant, TenantName, User,
};
use crate::http::access::{ROUTES, is_page};
use crate::ports::SystemClock;
use crate::services::sessions;
use crate::services::tenants;
use crate::services::users::{self, NewUser};

const PASSWORD: &str = "Gruene-Tinte-auf-Buettenpapier-77";

fn password_hash() -> PasswordHash {
    static HASH: OnceLock<PasswordHash> = OnceLock::new();
    HASH.get_or_init(|| password::hash(PASSWORD).expect("a hash"))
        .clone()
}

/// An app on the local adapters in a fresh folder (kept alive with it).
struct TestApp {
    app: App,
    _dir: tempfile::TempDir,
}

async fn test_app(public_url: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data_dir = dir.path().display().to_string();
    let public_url = public_url.to_owned();
    let config = Config::from_lookup(|name| match name {
        "EMMA_DATA_DIR" => Some(data_dir.clone()),
        "EMMA_PUBLIC_URL" => Some(public_url.clone()),
        _ => None,
    })
    .expect("a local configuration");
    let runtime = crate::bootstrap::build(config, Arc::new(SystemClock))
        .await
        .expect("the app starts");
    TestApp {
        app: runtime.app,
        _dir: dir,
    }
}

async fn local_app() -> TestApp {
    test_app("http://127.0.0.1:8080").await
}

impl TestApp {
    async fn tenant(&self, name: &str) -> Tenant {
        tenants::create(&self.app, TenantName::parse(name).unwrap())
            .await
            .unwrap()
    }

    /// A user with the password [`PASSWORD`] (their own, not a one-time one).
    async fn user(&self, role: Role, tenant: Option<&Tenant>, name: &str) -> User {
        let email = format!(
            "{}-{}@example.de",
            role.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        let user = users::create(
            &self.app,
            NewUser {
                tenant: tenant.map(|t| t.id.clone()),
                email: EmailAddress::parse(&email).unwrap(),
                name: PersonName::parse(name).unwrap(),
                role,
                password_hash: Some(password_hash()),
            },
        )
        .await
        .unwrap();
        // A password of their own, not a one-time password.
        users::update(&self.app, user.tenant.as_ref(), &user.id, |u| {
            u.must_change_password = false;
            Ok(())
        })
        .await
        .unwrap()
    }

    /// The pages as nobody signed in sees them.
    fn anonymous(&self) -> Router {
        routes().with_state(self.app.clone())
    }

    /// The pages as `user` sees them, signed in with a session cookie
    /// (returned, to send along).
    async fn signed_in(&self, user: &User) -> (Router, String) {
        let (token, _) = sessions::start(&self.app, user).await.unwrap();
        let principal = Principal {
            user_id: user.id,
            role: user.role,
            tenant: user.tenant.clone(),
            email_hash: Some(self.app.pseudonyms.email(&user.email)),
            credential: Credential::Session,
            must_change_password: user.must_change_password,
            must_set_up_second_factor: false,
            api_key_id: None,
        };
        let router = routes()
            .layer(axum::Extension(principal))
            .with_state(self.app.clone());
        (router, format!("emma_session={}", token.as_str()))
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The value of the first `name="..."` hidden input's `value`.
    fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).expect("the hidden field") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        // Pages are UTF-8; an image (the open pixel) is read lossily.
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

fn post_form(path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://127.0.0.1:8080");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body)).unwrap()
}

/// The `name=value` of a `Set-Cookie` for `name`.
fn cookie_pair(answer: &Answer, name: &str) -> String {
    answer
        .cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", answer.cookies()))
}

/// A sign-in form fetched, then posted with these credentials.
async fn sign_in(router: &Router, email: &str, password: &str) -> Answer {
    let form = send(router, get("/anmelden", None)).await;
    let presession = cookie_pair(&form, "emma_presession");
    let token = form.hidden("csrf_token");
    send(
        router,
        post_form(
            "/anmelden",
            Some(&presession),
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", password),
                ("totp_code", ""),
            ],
        ),
    )
    .await
}

/// A value as the templates write it: minijinja's HTML escaping also
/// escapes `/` (browsers read `&#x2f;` as `/`).
fn escaped(value: &str) -> String {
    value.replace('/', "&#x2f;")
}

fn assert_no_inline_code(body: &str) {
    for (i, _) in body.match_indices("<script") {
        let tag = &body[i..i + body[i..].find('>').unwrap()];
        assert!(tag.contains(" src=\"/static/"), "inline script: {tag}");
    }
    assert!(!body.contains("<style"), "inline style element");
    assert!(!body.contains(" style="), "style attribute");
    for handler in [" onclick=", " onload=", " onsubmit=", " onerror="] {
        assert!(!body.contains(handler), "inline handler {handler}");
    }
}

#[tokio::test]
async fn the_sign_in_page_renders_the_form_fields_and_no_inline_script() {
    let t = local_app().await;
    let answer = send(&t.anonymous(), get("/anmelden", None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = &answer.body;
    for needle in [
        "<html lang=\"de\">",
        "<form id=\"sign-in\" method=\"post\" action=\"/anmelden\"",
        "name=\"email\" type=\"email\" autocomplete=\"username\"",
        "name=\"password\" type=\"password\" autocomplete=\"current-password\"",
        "name=\"totp_code\" type=\"text\" inputmode=\"numeric\" autocomplete=\"one-time-code\"",
        "<input type=\"hidden\" name=\"csrf_token\" value=\"",
        "<button type=\"submit\">Anmelden</button>",
        "<label for=\"email\">E-Mail-Adresse</label>",
        "<a class=\"skip-link\" href=\"#main\">",
    ] {
        assert!(body.contains(needle), "missing {needle}");
    }
    assert!(!answer.hidden("csrf_token").is_empty());
    assert_no_inline_code(body);
    // The local development issuer counts as configured single sign-on,
    // offered before the password form.
    let sso = body
        .find("Mit Unternehmenskonto anmelden")
        .expect("the SSO offer");
    assert!(sso < body.find("id=\"sign-in\"").unwrap());
    assert!(
        answer
            .cookies()
            .iter()
            .any(|c| c.starts_with("emma_presession=")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Strict"))
    );
}

#[tokio::test]
async fn pages_are_german_by_default_and_english_with_the_cookie_or_the_browser_language() {
    let t = local_app().await;
    let router = t.anonymous();
    let german = send(&router, get("/anmelden", None)).await;
    assert!(german.body.contains("<html lang=\"de\">"));
    assert!(german.body.contains("<h1>Anmelden</h1>"));

    let english = send(&router, get("/anmelden", Some("emma_lang=en"))).await;
    assert!(english.body.contains("<html lang=\"en\">"));
    assert!(
        english
            .body
            .contains("<button type=\"submit\">Sign in</button>")
    );
    assert!(english.body.contains("Sign in with your corporate account"));

    let request = Request::get("/anmelden")
        .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9,de;q=0.5")
        .body(Body::empty())
        .unwrap();
    assert!(
        send(&router, request)
            .await
            .body
            .contains("<html lang=\"en\">")
    );

    // The cookie wins over the browser's language.
    let request = Request::get("/anmelden")
        .header(header::ACCEPT_LANGUAGE, "en")
        .header(header::COOKIE, "emma_lang=de")
        .body(Body::empty())
        .unwrap();
    assert!(
        send(&router, request)
            .await
            .body
            .contains("<html lang=\"de\">")
    );
}

#[tokio::test]
async fn choosing_a_language_sets_the_cookie_and_goes_back_to_the_overview() {
    let t = local_app().await;
    let answer = send(&t.anonymous(), get("/sprache?lang=en", None)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers[header::LOCATION], "/");
    assert_eq!(cookie_pair(&answer, "emma_lang"), "emma_lang=en");
    let unknown = send(&t.anonymous(), get("/sprache?lang=fr", None)).await;
    assert_eq!(cookie_pair(&unknown, "emma_lang"), "emma_lang=de");
}

#[test]
fn the_browser_language_is_weighed_and_a_zero_weight_excludes() {
    let parse = |value: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, value.parse().unwrap());
        Lang::from_headers(&headers)
    };
    assert_eq!(parse("en-US,en;q=0.9,de;q=0.8"), Lang::En);
    assert_eq!(parse("fr-FR, de-AT;q=0.5, en;q=0.4"), Lang::De);
    assert_eq!(parse("de;q=0, en;q=0.1"), Lang::En);
    assert_eq!(parse("fr, it"), Lang::De);
    assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::De);
}

#[tokio::test]
async fn html_pages_carry_the_security_headers_and_hsts_only_over_tls() {
    let t = local_app().await;
    let answer = send(&t.anonymous(), get("/anmelden", None)).await;
    assert_eq!(
        answer.headers[header::CONTENT_SECURITY_POLICY],
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    assert_eq!(answer.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(answer.headers[header::REFERRER_POLICY], "same-origin");
    assert_eq!(answer.headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert!(
        !answer
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );

    let tls = test_app("https://emma.example.de").await;
    let answer = send(&tls.anonymous(), get("/anmelden", None)).await;
    assert_eq!(
        answer.headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
    assert!(
        answer
            .cookies()
            .iter()
            .any(|c| c.starts_with("__Host-emma_presession=") && c.contains("; Secure"))
    );

    let mut response = error_page(StatusCode::NOT_FOUND, Lang::De, "");
    assert_eq!(response.headers()[header::CONTENT_SECURITY_POLICY], CSP);
    security_headers(&mut response, true);
    assert!(
        response
            .headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
}

#[tokio::test]
async fn templates_escape_what_users_typed() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let admin = t.user(Role::TenantAdmin, Some(&tenant), "Ada Admin").await;
    t.user(Role::Editor, Some(&tenant), "<script>alert(1)</script>")
        .await;
    let (router, cookie) = t.signed_in(&admin).await;
    let answer = send(&router, get("/benutzer", Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer
            .body
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
    );
    assert!(!answer.body.contains("<script>alert"));
    assert_no_inline_code(&answer.body);
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_the_message() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let user = t.user(Role::Editor, Some(&tenant), "Eva Editor").await;
    let answer = sign_in(&t.anonymous(), user.email.as_str(), "falsch-falsch-falsch").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains(
        "<div class=\"alert\" role=\"alert\">E-Mail-Adresse oder Kennwort ist nicht richtig.</div>"
    ));
    assert!(answer.body.contains(&format!("value=\"{}\"", user.email)));
    assert!(
        answer
            .cookies()
            .iter()
            .all(|c| !c.starts_with("emma_session="))
    );
}

#[tokio::test]
async fn sign_in_without_the_form_token_of_the_pre_session_is_refused() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let user = t.user(Role::Editor, Some(&tenant), "Eva Editor").await;
    let router = t.anonymous();
    let fields = [
        ("csrf_token", "forged"),
        ("email", user.email.as_str()),
        ("password", PASSWORD),
    ];
    let answer = send(&router, post_form("/anmelden", None, &fields)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("role=\"alert\""));
    assert!(
        answer
            .cookies()
            .iter()
            .all(|c| !c.starts_with("emma_session="))
    );

    // A real pre-session with a token from elsewhere does not do either.
    let form = send(&router, get("/anmelden", None)).await;
    let presession = cookie_pair(&form, "emma_presession");
    let answer = send(&router, post_form("/anmelden", Some(&presession), &fields)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_right_password_sets_the_session_cookie_and_sign_out_ends_the_session() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let user = t.user(Role::Editor, Some(&tenant), "Eva Editor").await;
    let router = t.anonymous();
    let answer = sign_in(&router, user.email.as_str(), PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers[header::LOCATION], "/");
    let session = answer
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("emma_session="))
        .expect("the session cookie");
    assert!(session.contains("; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200"));
    assert!(
        answer
            .cookies()
            .iter()
            .any(|c| c.starts_with("emma_presession=;") && c.contains("Max-Age=0"))
    );
    let pair = cookie_pair(&answer, "emma_session");
    let token = sessions::SessionToken::from_cookie(pair.split_once('=').unwrap().1).unwrap();
    assert!(sessions::resolve(&t.app, &token).await.unwrap().is_some());

    let (signed_in, _) = t.signed_in(&user).await;
    let out = send(&signed_in, post_form("/abmelden", Some(&pair), &[])).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.headers[header::LOCATION], "/anmelden");
    assert!(
        out.cookies()
            .iter()
            .any(|c| c.starts_with("emma_session=;") && c.contains("Max-Age=0"))
    );
    assert!(sessions::resolve(&t.app, &token).await.unwrap().is_none());
}

#[tokio::test]
async fn the_navigation_follows_the_role() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let cases = [
        (
            Role::TenantAdmin,
            Some(&tenant),
            &["/benutzer", "/protokoll"][..],
            &["/mandanten"][..],
        ),
        (
            Role::Viewer,
            Some(&tenant),
            &[][..],
            &["/benutzer", "/protokoll", "/mandanten"][..],
        ),
        (
            Role::Operator,
            None,
            &["/mandanten", "/protokoll"][..],
            &["/benutzer"][..],
        ),
        (
            Role::ProductAdmin,
            None,
            &["/mandanten", "/benutzer"][..],
            &["/protokoll"][..],
        ),
    ];
    for (role, tenant, shown, hidden) in cases {
        let user = t.user(role, tenant, "Nora Nutzerin").await;
        let (router, cookie) = t.signed_in(&user).await;
        let answer = send(&router, get("/", Some(&cookie))).await;
        assert_eq!(answer.status, StatusCode::OK, "{role:?}");
        let nav_start = answer.body.find("<nav id=\"main-nav\"").expect("the nav");
        let nav =
            &answer.body[nav_start..nav_start + answer.body[nav_start..].find("</nav>").unwrap()];
        for path in ["/", "/konto"].iter().chain(shown) {
            assert!(
                nav.contains(&format!("href=\"{}\"", escaped(path))),
                "{role:?} misses {path}"
            );
        }
        for path in hidden {
            assert!(
                !nav.contains(&format!("href=\"{}\"", escaped(path))),
                "{role:?} sees {path}"
            );
        }
        assert!(
            answer
                .body
                .contains("<span class=\"user-name\">Nora Nutzerin</span>")
        );
        let token = sessions::SessionToken::from_cookie(cookie.split_once('=').unwrap().1).unwrap();
        let csrf = sessions::csrf_token(&t.app, &token);
        let form = &answer.body[answer
            .body
            .find("<form id=\"sign-out\" method=\"post\" action=\"/abmelden\">")
            .expect("the sign-out form")..];
        let form = &form[..form.find("</form>").unwrap()];
        assert!(form.contains(&format!("name=\"csrf_token\" value=\"{csrf}\"")));
        assert!(
            answer
                .body
                .contains("<button type=\"submit\" class=\"secondary\">Abmelden</button>")
        );
    }
}

#[tokio::test]
async fn a_tenant_admin_creates_a_user_and_sees_the_one_time_password_once() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let admin = t.user(Role::TenantAdmin, Some(&tenant), "Ada Admin").await;
    let (router, cookie) = t.signed_in(&admin).await;

    let page = send(&router, get("/benutzer", Some(&cookie))).await;
    assert!(page.body.contains("<table id=\"users\">"));
    assert!(
        page.body
            .contains("<form id=\"new-user\" method=\"post\" action=\"/benutzer\"")
    );
    assert!(
        page.body
            .contains("<option value=\"editor\">Redaktion</option>")
    );
    assert!(!page.body.contains("value=\"operator\""));
    assert!(!page.body.contains("value=\"product_admin\""));

    let csrf = page.hidden("csrf_token");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("email", "neu@sparkasse-musterstadt.de"),
        ("name", "Nils Neu"),
        ("role", "editor"),
    ];
    let answer = send(&router, post_form("/benutzer", Some(&cookie), &fields)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let start = answer
        .body
        .find("<p class=\"one-time-password\" aria-labelledby=\"one-time-password-label\"><code>")
        .expect("the one-time password");
    let password = answer.body[start..]
        .split("<code>")
        .nth(1)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap();
    assert_eq!(password.len(), 20);
    let created = users::find_by_email(
        &t.app,
        &EmailAddress::parse("neu@sparkasse-musterstadt.de").unwrap(),
    )
    .await
    .unwrap()
    .expect("the new user");
    assert_eq!(created.role, Role::Editor);
    assert_eq!(created.tenant.as_ref(), Some(&tenant.id));
    assert!(created.must_change_password);
    assert!(password::verify(
        password,
        created.password_hash.as_ref().unwrap()
    ));
    assert_eq!(
        answer.headers[crate::http::access::AUDIT_OBJECT],
        created.id.to_string()
    );
    assert!(answer.body.contains("<th scope=\"row\">Nils Neu</th>"));

    // Shown once: the list afterwards does not show it.
    let again = send(&router, get("/benutzer", Some(&cookie))).await;
    assert!(!again.body.contains(password));
}

#[tokio::test]
async fn bad_input_for_a_new_user_names_the_field_and_writes_nothing() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let admin = t.user(Role::TenantAdmin, Some(&tenant), "Ada Admin").await;
    let (router, cookie) = t.signed_in(&admin).await;
    let long_name = "x".repeat(101);
    let cases = [
        (
            "kein-at-zeichen",
            "Nils Neu",
            "editor",
            StatusCode::BAD_REQUEST,
            "„E-Mail-Adresse“",
        ),
        (
            "neu@sparkasse.de",
            long_name.as_str(),
            "editor",
            StatusCode::BAD_REQUEST,
            "„Name“",
        ),
        (
            "neu@sparkasse.de",
            "Nils\u{7}Neu",
            "editor",
            StatusCode::BAD_REQUEST,
            "„Name“",
        ),
        (
            "neu@sparkasse.de",
            "Nils Neu",
            "operator",
            StatusCode::FORBIDDEN,
            "„Rolle“",
        ),
    ];
    for (email, name, role, status, field) in cases {
        let fields = [("email", email), ("name", name), ("role", role)];
        let answer = send(&router, post_form("/benutzer", Some(&cookie), &fields)).await;
        assert_eq!(answer.status, status, "{email} {role}");
        assert!(
            answer
                .body
                .contains("<div class=\"alert\" role=\"alert\">Bitte prüfen Sie das Feld ")
        );
        assert!(answer.body.contains(field), "{field}");
        assert!(answer.body.contains("aria-invalid=\"true\""));
        assert!(!answer.body.contains("class=\"one-time-password\""));
    }
    let all = users::list(&t.app, Some(&tenant.id)).await.unwrap();
    assert_eq!(all.len(), 1, "only the admin");

    let duplicate = [
        ("email", admin.email.as_str()),
        ("name", "Noch Eine"),
        ("role", "viewer"),
    ];
    let answer = send(&router, post_form("/benutzer", Some(&cookie), &duplicate)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert!(answer.body.contains("gibt es schon ein Konto"));
}

#[tokio::test]
async fn the_operator_lists_and_creates_tenants_and_a_product_admin_only_lists_them() {
    let t = local_app().await;
    t.tenant("Sparkasse Altstadt").await;
    let operator = t.user(Role::Operator, None, "Olga Operator").await;
    let (router, cookie) = t.signed_in(&operator).await;
    let page = send(&router, get("/mandanten", Some(&cookie))).await;
    assert!(page.body.contains("<table id=\"tenants\">"));
    assert!(page.body.contains(">Sparkasse Altstadt</a></th>"));
    let altstadt = tenants::list(&t.app).await.unwrap().remove(0);
    assert!(page.body.contains(&format!(
        "<th scope=\"row\"><a href=\"/mandanten/{}\">",
        escaped(altstadt.id.as_str())
    )));
    assert!(page.body.contains("<form id=\"new-tenant\""));
    let answer = send(
        &router,
        post_form(
            "/mandanten",
            Some(&cookie),
            &[("name", "Sparkasse Neustadt")],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains(">Sparkasse Neustadt</a></th>"));
    assert!(
        answer
            .headers
            .contains_key(crate::http::access::AUDIT_OBJECT)
    );
    let bad = send(
        &router,
        post_form("/mandanten", Some(&cookie), &[("name", "  ")]),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("„Name des Instituts“"));
    assert_eq!(tenants::list(&t.app).await.unwrap().len(), 2);

    let product = t.user(Role::ProductAdmin, None, "Paul Produkt").await;
    let (router, cookie) = t.signed_in(&product).await;
    let page = send(&router, get("/mandanten", Some(&cookie))).await;
    assert!(page.body.contains("<table id=\"tenants\">"));
    assert!(!page.body.contains("<form id=\"new-tenant\""));
    let refused = send(
        &router,
        post_form("/mandanten", Some(&cookie), &[("name", "Sparkasse X")]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audit_page_filters_by_action_and_outcome_and_so_does_its_csv_link() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Filter").await;
    let admin = t.user(Role::TenantAdmin, Some(&tenant), "Ada Admin").await;
    for (action, outcome) in [
        ("user.create", crate::services::audit::Outcome::Success),
        ("contact.create", crate::services::audit::Outcome::Success),
        ("contact.create", crate::services::audit::Outcome::Denied),
    ] {
        let mut entry = crate::services::audit::AuditEntry::new(
            &t.app,
            Some(tenant.id.clone()),
            crate::services::audit::Actor::default(),
            action,
        );
        entry.outcome = outcome;
        crate::services::audit::record(&t.app, &entry)
            .await
            .unwrap();
    }
    let (router, cookie) = t.signed_in(&admin).await;
    let rows = |body: &str| body.matches("<tr>").count() - 1;

    let all = send(&router, get("/protokoll", Some(&cookie))).await;
    assert!(all.body.contains("<form id=\"audit-filter\""));
    assert_eq!(rows(&all.body), 3);
    let contacts = send(&router, get("/protokoll?aktion=contact.", Some(&cookie))).await;
    assert_eq!(rows(&contacts.body), 2);
    assert!(!contacts.body.contains("<code>user.create</code>"));
    let denied = send(
        &router,
        get("/protokoll?aktion=contact.&ergebnis=denied", Some(&cookie)),
    )
    .await;
    assert_eq!(rows(&denied.body), 1);
    let csv = format!(
        "/api/tenants/{}/audit?format=csv&action=contact.&outcome=denied",
        tenant.id
    );
    let expected = csv.replace('&', "&amp;").replace('/', "&#x2f;");
    assert!(denied.body.contains(&expected), "{}", denied.body);
}

#[tokio::test]
async fn the_audit_page_finds_a_known_ip_address_by_its_hash_and_says_when_one_is_not() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Herkunft").await;
    let admin = t.user(Role::TenantAdmin, Some(&tenant), "Ada Admin").await;
    for ip in ["192.0.2.10", "192.0.2.11"] {
        let mut entry = crate::services::audit::AuditEntry::new(
            &t.app,
            Some(tenant.id.clone()),
            crate::services::audit::Actor::default(),
            "contact.create",
        );
        entry.ip = Some(crate::services::audit::IpTrace::of(
            &t.app,
            ip.parse().unwrap(),
        ));
        crate::services::audit::record(&t.app, &entry)
            .await
            .unwrap();
    }
    let (router, cookie) = t.signed_in(&admin).await;
    let rows = |body: &str| body.matches("<tr>").count() - 1;

    let all = send(&router, get("/protokoll", Some(&cookie))).await;
    assert_eq!(rows(&all.body), 2);
    assert!(
        all.body.contains("192.0.2.0&#x2f;24"),
        "the network, escaped"
    );
    assert!(!all.body.contains("192.0.2.10") && !all.body.contains("192.0.2.11"));
    let one = send(&router, get("/protokoll?ip=192.0.2.11", Some(&cookie))).await;
    assert_eq!(rows(&one.body), 1);
    assert!(
        one.body.contains("&amp;ip=192.0.2.11"),
        "the CSV link filters too"
    );
    let bad = send(&router, get("/protokoll?ip=192.0.2.x", Some(&cookie))).await;
    assert_eq!(
        rows(&bad.body),
        3,
        "an address that is not one filters nothing: both entries and the search"
    );
    assert!(
        bad.body.contains("<code>audit.ip_search</code>"),
        "the search is on record"
    );
    assert!(bad.body.contains("aria-invalid=\"true\""));
}

#[tokio::test]
async fn the_audit_page_shows_the_tenant_log_to_its_admin_and_refuses_a_viewer() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let admin = t.user(Role::TenantAdmin, Some(&tenant), "Ada Admin").await;
    let mut entry = crate::services::audit::AuditEntry::new(
        &t.app,
        Some(tenant.id.clone()),
        crate::services::audit::Actor {
            user_id: Some(admin.id),
            role: Some(Role::TenantAdmin),
            ..Default::default()
        },
        "user.create",
    );
    entry.at = chrono::Utc
        .with_ymd_and_hms(2026, 11, 27, 13, 30, 0)
        .unwrap();
    crate::services::audit::record(&t.app, &entry)
        .await
        .unwrap();

    let (router, cookie) = t.signed_in(&admin).await;
    let page = send(&router, get("/protokoll", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<table id=\"audit\">"));
    assert!(page.body.contains("27.11.2026, 14:30 Uhr"));
    assert!(page.body.contains("<code>user.create</code>"));
    let csv = format!("/api/tenants/{}/audit?format=csv", tenant.id);
    assert!(page.body.contains(&format!("href=\"{}\"", escaped(&csv))));

    let viewer = t.user(Role::Viewer, Some(&tenant), "Vera Viewer").await;
    let (router, cookie) = t.signed_in(&viewer).await;
    let refused = send(&router, get("/protokoll", Some(&cookie))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("<h1>Keine Berechtigung</h1>"));
    assert!(!refused.body.contains("user.create"));

    let operator = t.user(Role::Operator, None, "Olga Operator").await;
    let (router, cookie) = t.signed_in(&operator).await;
    let platform = send(&router, get("/protokoll", Some(&cookie))).await;
    assert_eq!(platform.status, StatusCode::OK);
    assert!(platform.body.contains(&format!(
        "href=\"{}\"",
        escaped("/api/platform/audit?format=csv")
    )));
    assert!(
        !platform.body.contains("user.create"),
        "tenant entries stay out"
    );
}

#[tokio::test]
async fn the_account_page_changes_the_password_and_sets_up_a_second_factor() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let user = t.user(Role::Editor, Some(&tenant), "Eva Editor").await;
    let (router, cookie) = t.signed_in(&user).await;
    let page = send(&router, get("/konto", Some(&cookie))).await;
    assert!(
        page.body
            .contains("<form id=\"password\" method=\"post\" action=\"/konto/kennwort\"")
    );
    assert!(page.body.contains("name=\"current_password\""));
    assert!(page.body.contains("name=\"new_password\""));
    assert!(
        page.body
            .contains("<form id=\"totp\" method=\"post\" action=\"/konto/totp\">")
    );

    let wrong = [
        ("current_password", "nicht-das-richtige"),
        ("new_password", "Ein ganz neues Kennwort 2026"),
    ];
    let answer = send(&router, post_form("/konto/kennwort", Some(&cookie), &wrong)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("„Aktuelles Kennwort“"));
    let short = [("current_password", PASSWORD), ("new_password", "kurz")];
    let answer = send(&router, post_form("/konto/kennwort", Some(&cookie), &short)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("mindestens 12 Zeichen"));
    let good = [
        ("current_password", PASSWORD),
        ("new_password", "Spargel wächst leise im Mondlicht"),
    ];
    let answer = send(&router, post_form("/konto/kennwort", Some(&cookie), &good)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("Ihr Kennwort ist geändert."));
    let stored = users::get(&t.app, user.tenant.as_ref(), &user.id)
        .await
        .unwrap();
    assert!(password::verify(
        "Spargel wächst leise im Mondlicht",
        stored.password_hash.as_ref().unwrap()
    ));

    let setup = send(&router, post_form("/konto/totp", Some(&cookie), &[])).await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(
        setup
            .body
            .contains("<img class=\"qr\" src=\"data:image&#x2f;svg+xml;base64,")
    );
    assert!(
        setup.body.contains(
            "<form id=\"totp-confirm\" method=\"post\" action=\"/konto/totp/bestaetigen\""
        )
    );
    let bad_code = send(
        &router,
        post_form(
            "/konto/totp/bestaetigen",
            Some(&cookie),
            &[("code", "000000")],
        ),
    )
    .await;
    assert_eq!(bad_code.status, StatusCode::BAD_REQUEST);
    assert!(bad_code.body.contains("„Code“"));
    let stored = users::get(&t.app, user.tenant.as_ref(), &user.id)
        .await
        .unwrap();
    assert!(stored.second_factor.is_none());
    assert!(stored.pending_second_factor.is_some());
}

#[tokio::test]
async fn a_user_with_a_one_time_password_is_sent_to_the_account_page() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Musterstadt").await;
    let (user, one_time) = users::create_with_one_time_password(
        &t.app,
        NewUser {
            tenant: Some(tenant.id.clone()),
            email: EmailAddress::parse("neu@sparkasse-musterstadt.de").unwrap(),
            name: PersonName::parse("Nils Neu").unwrap(),
            role: Role::Editor,
            password_hash: None,
        },
    )
    .await
    .unwrap();
    let answer = sign_in(&t.anonymous(), user.email.as_str(), &one_time).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers[header::LOCATION], "/konto");
    let (router, cookie) = t.signed_in(&user).await;
    let overview = send(&router, get("/", Some(&cookie))).await;
    assert_eq!(overview.status, StatusCode::SEE_OTHER);
    assert_eq!(overview.headers[header::LOCATION], "/konto");
    let account = send(&router, get("/konto", Some(&cookie))).await;
    assert!(account.body.contains("Einmalkennwort"));
}

#[tokio::test]
async fn signed_in_pages_send_visitors_without_a_principal_to_sign_in() {
    let t = local_app().await;
    let answer = send(&t.anonymous(), get("/benutzer", None)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers[header::LOCATION], "/anmelden");
    let answer = send(
        &t.anonymous(),
        post_form("/benutzer", None, &[("email", "x@y.de")]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.body.contains("<h1>Anmeldung erforderlich</h1>"));
}

async fn body_of(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn error_pages_have_german_titles_and_an_english_version() {
    for (status, lang, title) in [
        (
            StatusCode::FORBIDDEN,
            Lang::De,
            "<h1>Keine Berechtigung</h1>",
        ),
        (StatusCode::NOT_FOUND, Lang::De, "<h1>Nicht gefunden</h1>"),
        (
            StatusCode::UNAUTHORIZED,
            Lang::De,
            "<h1>Anmeldung erforderlich</h1>",
        ),
        (StatusCode::FORBIDDEN, Lang::En, "<h1>Not allowed</h1>"),
        (StatusCode::IM_A_TEAPOT, Lang::De, "<h1>Fehler</h1>"),
    ] {
        let response = error_page(status, lang, "");
        assert_eq!(response.status(), status);
        let body = body_of(response).await;
        assert!(body.contains(title), "{status} {lang:?}");
        assert!(body.contains(&format!("<html lang=\"{}\">", lang.code())));
        assert_eq!(
            body.contains("href=\"/anmelden\""),
            status == StatusCode::UNAUTHORIZED
        );
    }
    let custom = body_of(error_page(StatusCode::FORBIDDEN, Lang::De, "<b>nein</b>")).await;
    assert!(custom.contains("&lt;b&gt;nein&lt;&#x2f;b&gt;"));
}

#[tokio::test]
async fn the_assets_are_served_with_their_types_and_long_caching() {
    let t = local_app().await;
    for (path, content_type) in [
        ("/static/emma.css", "text/css; charset=utf-8"),
        ("/static/emma.js", "text/javascript; charset=utf-8"),
    ] {
        let answer = send(&t.anonymous(), get(path, None)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.headers[header::CONTENT_TYPE], content_type);
        assert_eq!(
            answer.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(!answer.body.is_empty());
    }
    let page = send(&t.anonymous(), get("/anmelden", None)).await;
    let version = super::assets::version();
    assert!(page.body.contains(&format!("/static/emma.css?v={version}")));
    assert!(page.body.contains(&format!("/static/emma.js?v={version}")));
}

#[tokio::test]
async fn every_route_is_in_the_page_table_and_every_table_entry_is_routed() {
    let t = local_app().await;
    let operator = t.user(Role::Operator, None, "Olga Operator").await;
    let (router, cookie) = t.signed_in(&operator).await;
    // Path parameters name things that exist, so a 404 means no route.
    let tenant = t.tenant("Sparkasse Routen").await;
    let user = t.user(Role::Editor, Some(&tenant), "Rita Route").await;
    // A valid link for a contact that does not exist: "nothing to do".
    let unsubscribe_token = crate::services::unsubscribe::token(
        &t.app,
        &tenant.id,
        &crate::domain::ContactId::parse(&"0".repeat(32)).unwrap(),
    );
    // A public sign-up form, so its hosted page has something to show.
    let list = crate::services::lists::create(&t.app, &tenant.id, "Newsletter")
        .await
        .unwrap();
    let settings = crate::services::signup::FormSettings {
        name: "Website".into(),
        list_id: list.id.to_string(),
        consent_text: "Ja.".into(),
        ..Default::default()
    };
    let form = crate::services::signup::create(&t.app, &tenant.id, &settings)
        .await
        .unwrap();
    // A served image, so its public address has something to serve.
    let (image, _) = crate::services::assets::announce(&t.app, &tenant.id, "punkt.gif", 6)
        .await
        .unwrap();
    t.app
        .blobs
        .put(
            &crate::services::assets::upload_key(&tenant.id, &image.id).unwrap(),
            b"GIF89a".to_vec(),
            "application/octet-stream",
        )
        .await
        .unwrap();
    crate::services::assets::finish(&t.app, &tenant.id, &image.id)
        .await
        .unwrap();
    for rule in ROUTES.iter().filter(|r| is_page(r.path)) {
        let (method, path) = (&rule.method, rule.path);
        // A link token that is not one of ours is 404 by design;
        // tests/integration/tracking.rs follows good ones.
        if path == "/k/{token}" {
            continue;
        }
        let uri = path
            .replace("{tenant_id}", tenant.id.as_str())
            .replace("{user_id}", &user.id.to_string())
            .replace("{token}", &unsubscribe_token)
            .replace("{form_id}", &form.id.to_string())
            .replace("{file}", &format!("{}.gif", image.id));
        let request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap();
        let answer = send(&router, request).await;
        assert!(
            !matches!(
                answer.status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ),
            "{method} {path}: {}",
            answer.status
        );
    }
    // And no route answers that the table does not name.
    for (method, path) in [
        (Method::POST, "/"),
        (Method::DELETE, "/benutzer"),
        (Method::POST, "/protokoll"),
    ] {
        assert!(!ROUTES.iter().any(|r| r.method == method && r.path == path));
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            send(&router, request).await.status,
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}

#[test]
fn both_catalogues_hold_the_same_messages_and_every_template_message() {
    let de = i18n::ids(Lang::De);
    let en = i18n::ids(Lang::En);
    assert!(de.len() > 100, "{} German messages", de.len());
    for id in &de {
        assert!(i18n::has(Lang::En, id), "English misses {id}");
        assert!(i18n::has(Lang::De, id), "{id} is not parsed");
    }
    for id in &en {
        assert!(i18n::has(Lang::De, id), "German misses {id}");
    }
    for (name, source) in super::view::TEMPLATES {
        for quote in ['"', '\''] {
            let opening = format!("t({quote}");
            for (i, _) in source.match_indices(&opening) {
                let rest = &source[i + opening.len()..];
                let id = &rest[..rest.find(quote).unwrap()];
                for lang in Lang::ALL {
                    assert!(i18n::has(lang, id), "{name}: {id} missing in {lang:?}");
                }
            }
        }
    }
    // Message ids built at run time.
    for role in Role::ALL {
        for prefix in ["role-", "overview-role-"] {
            let id = format!("{prefix}{}", role.as_str());
            assert!(i18n::has(Lang::De, &id) && i18n::has(Lang::En, &id), "{id}");
        }
    }
}

#[test]
fn audit_times_are_shown_in_berlin_time_in_german_format() {
    let winter = chrono::Utc
        .with_ymd_and_hms(2026, 11, 27, 13, 30, 0)
        .unwrap();
    assert_eq!(
        super::admin::date_time(Lang::De, winter),
        "27.11.2026, 14:30 Uhr"
    );
    let summer = chrono::Utc.with_ymd_and_hms(2026, 7, 1, 12, 5, 0).unwrap();
    assert_eq!(
        super::admin::date_time(Lang::De, summer),
        "01.07.2026, 14:05 Uhr"
    );
    assert_eq!(
        super::admin::date_time(Lang::En, summer),
        "01/07/2026, 14:05"
    );
}

#[test]
fn the_guard_can_read_the_csrf_field_of_a_form_body() {
    assert_eq!(
        super::form_field(b"email=a%40b.de&csrf_token=abc%2B1&x=1", "csrf_token").as_deref(),
        Some("abc+1")
    );
    assert_eq!(super::form_field(b"email=a", "csrf_token"), None);
}

impl TestApp {
    /// The reset mails sent to `user`, as their decoded text parts.
    async fn reset_mails(&self, user: &User) -> Vec<String> {
        // Reset links are mailed by the send worker: run what is queued.
        while crate::local::send_once(&self.app, std::time::Duration::ZERO)
            .await
            .expect("the jobs queue answers")
            > 0
        {}
        let outbox = crate::adapters::outbox::OutboxMailer::new(self._dir.path().join("outbox"));
        let tenant = user.tenant.clone().expect("a tenant user");
        outbox
            .sent(&tenant)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.recipients.contains(&user.email))
            .map(|m| {
                mail_parser::MessageParser::default()
                    .parse(&m.raw)
                    .expect("valid MIME")
                    .body_text(0)
                    .expect("a text part")
                    .into_owned()
            })
            .collect()
    }
}

/// The token of the reset link in a mail's text.
fn reset_token(text: &str) -> String {
    let marker = "/kennwort-zuruecksetzen?token=";
    let start = text.find(marker).expect("the reset link") + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// A pre-session form fetched from `path`: its cookie and its token.
async fn presession_form(router: &Router, path: &str) -> (Answer, String, String) {
    let form = send(router, get(path, None)).await;
    let presession = cookie_pair(&form, "emma_presession");
    let token = form.hidden("csrf_token");
    (form, presession, token)
}

#[tokio::test]
async fn a_forgotten_password_gets_the_same_answer_for_any_address_and_mail_only_for_a_known_one() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Vergessen").await;
    let known = t.user(Role::Editor, Some(&tenant), "Kai Kennwort").await;
    let router = t.anonymous();

    let sign_in_page = send(&router, get("/anmelden", None)).await;
    assert!(
        sign_in_page
            .body
            .contains("<a href=\"/kennwort-vergessen\">Kennwort vergessen?</a>")
    );

    let mut answers = Vec::new();
    for email in [known.email.as_str(), "niemand@example.de"] {
        let (form, presession, token) = presession_form(&router, "/kennwort-vergessen").await;
        assert!(form.body.contains(
            "<form id=\"forgot-password\" method=\"post\" action=\"/kennwort-vergessen\""
        ));
        assert!(form.body.contains("name=\"email\""));
        let answer = send(
            &router,
            post_form(
                "/kennwort-vergessen",
                Some(&presession),
                &[("csrf_token", &token), ("email", email)],
            ),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{email}");
        assert!(
            answer
                .body
                .contains("Wenn die Adresse ein Konto hat, ist ein Link unterwegs.")
        );
        assert!(!answer.body.contains(email));
        answers.push(answer.body);
    }
    // The two pages differ only in their form tokens (none on either).
    assert_eq!(answers[0], answers[1]);
    let mails = t.reset_mails(&known).await;
    assert_eq!(mails.len(), 1, "one mail, to the known address");
    assert_eq!(reset_token(&mails[0]).len(), 43);

    // Without the pre-session's token nothing is sent.
    let refused = send(
        &router,
        post_form(
            "/kennwort-vergessen",
            None,
            &[("csrf_token", "x"), ("email", known.email.as_str())],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(t.reset_mails(&known).await.len(), 1);
}

#[tokio::test]
async fn the_reset_link_sets_a_new_password_once_and_names_a_weak_one() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Neustart").await;
    let user = t.user(Role::Editor, Some(&tenant), "Rena Reset").await;
    crate::services::account::request_reset(&t.app, user.email.as_str(), None)
        .await
        .unwrap();
    let token = reset_token(&t.reset_mails(&user).await[0]);
    let router = t.anonymous();

    let (form, presession, csrf) =
        presession_form(&router, &format!("/kennwort-zuruecksetzen?token={token}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(
        "<form id=\"reset-password\" method=\"post\" action=\"/kennwort-zuruecksetzen\""
    ));
    assert_eq!(form.hidden("token"), token);
    assert!(form.body.contains("name=\"new_password\""));

    let weak = send(
        &router,
        post_form(
            "/kennwort-zuruecksetzen",
            Some(&presession),
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("new_password", "kurz"),
            ],
        ),
    )
    .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.body.contains("„Neues Kennwort“"));
    assert!(weak.body.contains("aria-invalid=\"true\""));

    let new_password = "Ein-ganz-neues-Kennwort-fuer-Rena-42";
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("token", token.as_str()),
        ("new_password", new_password),
    ];
    let done = send(
        &router,
        post_form("/kennwort-zuruecksetzen", Some(&presession), &fields),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Ihr neues Kennwort ist festgelegt."));
    assert!(done.body.contains("href=\"/anmelden\""));
    let stored = users::get(&t.app, Some(&tenant.id), &user.id)
        .await
        .unwrap();
    assert!(password::verify(
        new_password,
        stored.password_hash.as_ref().unwrap()
    ));

    // The link is spent.
    let again = send(
        &router,
        post_form(
            "/kennwort-zuruecksetzen",
            Some(&presession),
            &[
                ("csrf_token", csrf.as_str()),
                ("token", token.as_str()),
                ("new_password", "Noch-ein-anderes-Kennwort-fuer-Rena-7"),
            ],
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("ungültig oder abgelaufen"));
    let stored = users::get(&t.app, Some(&tenant.id), &user.id)
        .await
        .unwrap();
    assert!(password::verify(
        new_password,
        stored.password_hash.as_ref().unwrap()
    ));
}

#[tokio::test]
async fn a_tenant_admin_changes_a_role_disables_and_deletes_users_through_the_row_forms() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Zeilen").await;
    let admin = t.user(Role::TenantAdmin, Some(&tenant), "Ada Admin").await;
    let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
    let viewer = t.user(Role::Viewer, Some(&tenant), "Vic Viewer").await;
    let (router, cookie) = t.signed_in(&admin).await;

    let page = send(&router, get("/benutzer", Some(&cookie))).await;
    let editor_path = format!("/benutzer/{}", editor.id);
    assert!(
        page.body
            .contains(&format!("method=\"post\" action=\"{}\"", editor_path))
    );
    assert!(page.body.contains(&format!(
        "action=\"{editor_path}/loeschen\" data-confirm=\"Eda Editor wirklich löschen?"
    )));
    assert!(page.body.contains("Rolle ändern</button>"));
    assert!(page.body.contains("Deaktivieren</button>"));
    // No forms for the admin themselves.
    assert!(
        !page
            .body
            .contains(&escaped(&format!("/benutzer/{}", admin.id)))
    );
    let csrf = page.hidden("csrf_token");

    let answer = send(
        &router,
        post_form(
            &editor_path,
            Some(&cookie),
            &[("csrf_token", csrf.as_str()), ("role", "viewer")],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer
            .body
            .contains("Eda Editor hat jetzt die Rolle Lesezugriff.")
    );
    assert_eq!(
        answer.headers[crate::http::access::AUDIT_OBJECT],
        editor.id.to_string()
    );
    let stored = users::get(&t.app, Some(&tenant.id), &editor.id)
        .await
        .unwrap();
    assert_eq!(stored.role, Role::Viewer);

    let answer = send(
        &router,
        post_form(
            &editor_path,
            Some(&cookie),
            &[("csrf_token", csrf.as_str()), ("status", "disabled")],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("Eda Editor ist deaktiviert"));
    assert!(answer.body.contains("Aktivieren</button>"));
    let stored = users::get(&t.app, Some(&tenant.id), &editor.id)
        .await
        .unwrap();
    assert_eq!(stored.status, crate::domain::UserStatus::Disabled);

    let answer = send(
        &router,
        post_form(
            &format!("/benutzer/{}/loeschen", viewer.id),
            Some(&cookie),
            &[("csrf_token", csrf.as_str())],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("Vic Viewer ist gelöscht."));
    assert!(!answer.body.contains("<th scope=\"row\">Vic Viewer</th>"));
    assert!(matches!(
        users::get(&t.app, Some(&tenant.id), &viewer.id).await,
        Err(users::UserError::NotFound)
    ));

    // Not themselves.
    let answer = send(
        &router,
        post_form(
            &format!("/benutzer/{}", admin.id),
            Some(&cookie),
            &[("csrf_token", csrf.as_str()), ("status", "disabled")],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let stored = users::get(&t.app, Some(&tenant.id), &admin.id)
        .await
        .unwrap();
    assert_eq!(stored.status, crate::domain::UserStatus::Active);
}

#[tokio::test]
async fn a_tenant_admin_cannot_grant_the_operator_role_nor_touch_a_user_of_another_tenant() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Eigen").await;
    let other = t.tenant("Sparkasse Fremd").await;
    let admin = t.user(Role::TenantAdmin, Some(&tenant), "Ada Admin").await;
    let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
    let stranger = t.user(Role::Editor, Some(&other), "Sam Fremd").await;
    let (router, cookie) = t.signed_in(&admin).await;

    for role in ["operator", "product_admin"] {
        let answer = send(
            &router,
            post_form(
                &format!("/benutzer/{}", editor.id),
                Some(&cookie),
                &[("role", role)],
            ),
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{role}");
        assert!(answer.body.contains("„Rolle“"));
    }
    let stored = users::get(&t.app, Some(&tenant.id), &editor.id)
        .await
        .unwrap();
    assert_eq!(stored.role, Role::Editor);

    let changed = send(
        &router,
        post_form(
            &format!("/benutzer/{}", stranger.id),
            Some(&cookie),
            &[("status", "disabled")],
        ),
    )
    .await;
    assert_eq!(changed.status, StatusCode::NOT_FOUND);
    let deleted = send(
        &router,
        post_form(
            &format!("/benutzer/{}/loeschen", stranger.id),
            Some(&cookie),
            &[("mandant", other.id.as_str())],
        ),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    let stored = users::get(&t.app, Some(&other.id), &stranger.id)
        .await
        .unwrap();
    assert_eq!(stored.status, crate::domain::UserStatus::Active);
}

/// The operator's settings form for a tenant, filled as the page shows it,
/// with `changes` applied.
fn tenant_fields<'a>(page: &'a Answer, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, String)> {
    let mut fields: Vec<(&str, String)> = vec![
        ("csrf_token", page.hidden("csrf_token")),
        ("name", String::new()),
        ("status", "active".to_owned()),
        ("sender_domains", String::new()),
        ("default_from_name", String::new()),
        ("tracking", "aggregate".to_owned()),
        ("audit_retention_days", "365".to_owned()),
        ("unconfirmed_contact_retention_days", "30".to_owned()),
    ];
    for (name, value) in changes {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = (*value).to_owned(),
            None => fields.push((name, (*value).to_owned())),
        }
    }
    fields
}

async fn post_tenant(
    router: &Router,
    cookie: &str,
    path: &str,
    fields: &[(&str, String)],
) -> Answer {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    send(router, post_form(path, Some(cookie), &pairs)).await
}

#[tokio::test]
async fn the_operator_renames_and_suspends_a_tenant_and_a_bad_retention_names_the_field() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Alt").await;
    let operator = t.user(Role::Operator, None, "Olga Operator").await;
    let (router, cookie) = t.signed_in(&operator).await;
    let path = format!("/mandanten/{}", tenant.id);

    let page = send(&router, get(&path, Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!(
        "<form id=\"tenant-settings\" method=\"post\" action=\"{path}\""
    )));
    assert!(page.body.contains("value=\"Sparkasse Alt\""));

    let fields = tenant_fields(
        &page,
        &[
            ("name", "Sparkasse Neu"),
            ("status", "suspended"),
            (
                "sender_domains",
                "sparkasse-neu.de\r\nNews.Sparkasse-Neu.de\r\n",
            ),
            ("default_from_name", "Sparkasse Neu"),
            ("tracking", "off"),
            ("audit_retention_days", "730"),
            ("require_second_factor", "on"),
        ],
    );
    let answer = post_tenant(&router, &cookie, &path, &fields).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("Die Änderungen sind gespeichert."));
    assert_eq!(
        answer.headers[crate::http::access::AUDIT_OBJECT],
        tenant.id.as_str()
    );
    let stored = tenants::get(&t.app, &tenant.id).await.unwrap();
    assert_eq!(stored.name.as_str(), "Sparkasse Neu");
    assert_eq!(stored.status, crate::domain::TenantStatus::Suspended);
    assert_eq!(
        stored.settings.sender_domains,
        ["sparkasse-neu.de", "news.sparkasse-neu.de"]
    );
    assert_eq!(stored.settings.tracking, crate::domain::TrackingMode::Off);
    assert_eq!(stored.settings.audit_retention_days, 730);
    assert!(stored.settings.require_second_factor);

    for (field, value, label) in [
        (
            "audit_retention_days",
            "0",
            "„Aufbewahrung des Änderungsprotokolls (Tage)“",
        ),
        (
            "unconfirmed_contact_retention_days",
            "viele",
            "„Aufbewahrung unbestätigter Kontakte (Tage)“",
        ),
        ("sender_domains", "keine domain", "„Absender-Domains“"),
        ("name", " ", "„Name des Instituts“"),
    ] {
        let fields = tenant_fields(&page, &[("name", "Sparkasse Falsch"), (field, value)]);
        let bad = post_tenant(&router, &cookie, &path, &fields).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{field}");
        assert!(bad.body.contains(label), "{field}");
        assert!(bad.body.contains("aria-invalid=\"true\""), "{field}");
    }
    let unchanged = tenants::get(&t.app, &tenant.id).await.unwrap();
    assert_eq!(unchanged, stored);
}

#[tokio::test]
async fn a_product_admin_sees_the_tenant_page_read_only() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Lesen").await;
    let product = t.user(Role::ProductAdmin, None, "Paul Produkt").await;
    let (router, cookie) = t.signed_in(&product).await;
    let path = format!("/mandanten/{}", tenant.id);
    let page = send(&router, get(&path, Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Sparkasse Lesen</h1>"));
    assert!(page.body.contains("Zusammengefasst (ohne Personenbezug)"));
    assert!(!page.body.contains("<form id=\"tenant-settings\""));
    assert_no_inline_code(&page.body);

    let refused = send(
        &router,
        post_form(&path, Some(&cookie), &[("name", "Sparkasse Anders")]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let stored = tenants::get(&t.app, &tenant.id).await.unwrap();
    assert_eq!(stored.name.as_str(), "Sparkasse Lesen");
}

/// The contact pages (Kontakte): list, search, paging, the forms that
/// create, change, unsubscribe and delete, and who may do what.
mod contact_pages {
    use super::*;
    use crate::domain::{Contact, ContactDraft, ContactStatus, Language, Salutation};
    use crate::services::contacts::{self, ContactError, Listing};

    impl TestApp {
        /// A contact stored through the service, unconfirmed and German.
        async fn contact(
            &self,
            tenant: &Tenant,
            email: &str,
            first: Option<&str>,
            last: Option<&str>,
        ) -> Contact {
            let draft = ContactDraft {
                first_name: first.map(|n| PersonName::parse(n).unwrap()),
                last_name: last.map(|n| PersonName::parse(n).unwrap()),
                ..ContactDraft::new(EmailAddress::parse(email).unwrap())
            };
            contacts::create(&self.app, &tenant.id, draft)
                .await
                .unwrap()
        }

        async fn all_contacts(&self, tenant: &Tenant) -> Vec<Contact> {
            contacts::list(&self.app, &tenant.id, &Listing::default(), 200, None)
                .await
                .unwrap()
                .0
        }
    }

    /// The names of the list's rows, top to bottom.
    fn row_names(body: &str) -> Vec<String> {
        body.split("<th scope=\"row\"><a href=\"/kontakte/")
            .skip(1)
            .map(|row| {
                let start = row.find('>').unwrap() + 1;
                row[start..row.find("</a>").unwrap()].to_owned()
            })
            .collect()
    }

    /// The "Weiter" link of the list, as the browser reads it.
    fn next_link(body: &str) -> Option<String> {
        let marker = "<a rel=\"next\" href=\"";
        let start = body.find(marker)? + marker.len();
        let end = body[start..].find('"').unwrap() + start;
        Some(body[start..end].replace("&amp;", "&"))
    }

    /// A form of the page, from its opening tag to its end.
    fn form<'a>(body: &'a str, id: &str) -> Option<&'a str> {
        let start = body.find(&format!("<form id=\"{id}\""))?;
        let end = body[start..].find("</form>").unwrap() + start;
        Some(&body[start..end])
    }

    /// Every visible input and select of the page has a label.
    fn assert_labelled(body: &str) {
        for tag in ["<input ", "<select "] {
            for (i, _) in body.match_indices(tag) {
                let element = &body[i..i + body[i..].find('>').unwrap()];
                if element.contains("type=\"hidden\"") {
                    continue;
                }
                let id = element
                    .split(" id=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_else(|| panic!("a field without an id: {element}"));
                assert!(
                    body.contains(&format!("<label for=\"{id}\">")),
                    "no label for {id}"
                );
            }
        }
    }

    #[tokio::test]
    async fn the_contact_list_shows_fifty_contacts_in_name_order_and_weiter_shows_the_other_five() {
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Liste").await;
        // Stored out of order: the list sorts them.
        for i in 0..55 {
            let n = (i * 23) % 55;
            t.contact(
                &tenant,
                &format!("kontakt-{n:02}@example.de"),
                Some("Erika"),
                Some(&format!("Nachname {n:02}")),
            )
            .await;
        }
        let viewer = t.user(Role::Viewer, Some(&tenant), "Vera Viewer").await;
        let (router, cookie) = t.signed_in(&viewer).await;
        let names: Vec<String> = (0..55).map(|n| format!("Erika Nachname {n:02}")).collect();

        let first = send(&router, get("/kontakte", Some(&cookie))).await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(row_names(&first.body), names[..50]);
        assert!(first.body.contains(">Weiter</a>"));
        assert!(!first.body.contains(">Zum Anfang</a>"));
        let stored = t.all_contacts(&tenant).await;
        let row = format!(
            "<td>kontakt-00@example.de</td>\n      <td>unbestätigt</td>\n      <td>Deutsch</td>\n      <td>{}</td>",
            super::super::admin::date(Lang::De, stored[0].created_at)
        );
        assert!(first.body.contains(&row), "the columns of a row");

        let next = next_link(&first.body).expect("a link to the next page");
        assert!(next.starts_with("/kontakte?weiter="), "{next}");
        let second = send(&router, get(&next, Some(&cookie))).await;
        assert_eq!(second.status, StatusCode::OK);
        assert_eq!(row_names(&second.body), names[50..]);
        assert_eq!(next_link(&second.body), None);
        assert!(second.body.contains(">Zum Anfang</a>"));

        // Z to A, paged the same way.
        let descending = send(
            &router,
            get("/kontakte?sortierung=absteigend", Some(&cookie)),
        )
        .await;
        let mut reversed = names.clone();
        reversed.reverse();
        assert_eq!(row_names(&descending.body), reversed[..50]);
        assert!(
            descending
                .body
                .contains("<option value=\"absteigend\" selected>")
        );
        let next = next_link(&descending.body).expect("a next page");
        assert!(next.contains("sortierung=absteigend"), "{next}");
        let rest = send(&router, get(&next, Some(&cookie))).await;
        assert_eq!(row_names(&rest.body), reversed[50..]);

        // A cursor that does not hold shows the first page.
        let broken = send(&router, get("/kontakte?weiter=kaputt", Some(&cookie))).await;
        assert_eq!(broken.status, StatusCode::OK);
        assert_eq!(row_names(&broken.body), names[..50]);
    }

    #[tokio::test]
    async fn the_contact_search_finds_by_the_start_of_the_last_name_and_by_address() {
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Suche").await;
        t.contact(&tenant, "max@example.de", Some("Max"), Some("Müller"))
            .await;
        t.contact(&tenant, "mia@example.de", Some("Mia"), Some("Muller"))
            .await;
        t.contact(&tenant, "mats@example.de", Some("Mats"), Some("Meier"))
            .await;
        t.contact(
            &tenant,
            "sara.schmidt@example.de",
            Some("Sara"),
            Some("Schmidt"),
        )
        .await;
        let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
        let (router, cookie) = t.signed_in(&editor).await;

        let by_name = send(&router, get("/kontakte?suche=m%C3%BCll", Some(&cookie))).await;
        assert_eq!(by_name.status, StatusCode::OK);
        assert_eq!(row_names(&by_name.body), ["Max Müller", "Mia Muller"]);
        assert!(by_name.body.contains("value=\"müll\""), "the search stays");
        assert!(by_name.body.contains("Kontakte zur Suche „müll“"));

        let by_address = send(
            &router,
            get("/kontakte?suche=Sara.Schmidt%40example.de", Some(&cookie)),
        )
        .await;
        assert_eq!(row_names(&by_address.body), ["Sara Schmidt"]);

        let nothing = send(&router, get("/kontakte?suche=zander", Some(&cookie))).await;
        assert_eq!(row_names(&nothing.body), Vec::<String>::new());
        assert!(nothing.body.contains("Keine Kontakte gefunden."));
    }

    #[tokio::test]
    async fn an_editor_creates_a_contact_through_the_form_and_lands_on_its_page() {
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Anlegen").await;
        let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
        let (router, cookie) = t.signed_in(&editor).await;

        let page = send(&router, get("/kontakte", Some(&cookie))).await;
        let new = form(&page.body, "new-contact").expect("the form for a new contact");
        assert!(new.contains("method=\"post\" action=\"/kontakte\""));
        assert!(new.contains("<option value=\"unconfirmed\" selected>unbestätigt</option>"));
        assert!(new.contains("<option value=\"subscribed\">angemeldet</option>"));
        assert!(!new.contains("value=\"unsubscribed\""));
        assert!(new.contains("<option value=\"female\">Frau</option>"));
        assert!(new.contains("aria-describedby=\"new-status-hint\""));
        assert!(new.contains("dokumentierte Einwilligung"));
        assert!(page.body.contains("Noch keine Kontakte."));

        let csrf = page.hidden("csrf_token");
        let fields = [
            ("csrf_token", csrf.as_str()),
            ("email", " Erika.Mustermann@sparkasse-anlegen.de "),
            ("salutation", "female"),
            ("first_name", "Erika"),
            ("last_name", "Mustermann"),
            ("language", "en"),
            ("status", "subscribed"),
        ];
        let answer = send(&router, post_form("/kontakte", Some(&cookie), &fields)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        let email = EmailAddress::parse("erika.mustermann@sparkasse-anlegen.de").unwrap();
        let id = contacts::id_for(&t.app, &tenant.id, &email);
        let location = format!("/kontakte/{id}?hinweis=angelegt");
        assert_eq!(answer.headers[header::LOCATION], location.as_str());
        assert_eq!(
            answer.headers[crate::http::access::AUDIT_OBJECT],
            id.to_string()
        );
        let stored = contacts::get(&t.app, &tenant.id, &id).await.unwrap();
        assert_eq!(stored.salutation, Some(Salutation::Female));
        assert_eq!(stored.first_name.unwrap().as_str(), "Erika");
        assert_eq!(stored.last_name.unwrap().as_str(), "Mustermann");
        assert_eq!(stored.language, Language::En);
        assert_eq!(stored.status, ContactStatus::Subscribed);

        let landed = send(&router, get(&location, Some(&cookie))).await;
        assert_eq!(landed.status, StatusCode::OK);
        assert!(landed.body.contains("<h1>Erika Mustermann</h1>"));
        assert!(landed.body.contains("Der Kontakt ist angelegt."));
        assert!(
            landed
                .body
                .contains("<dd>Erika.Mustermann@sparkasse-anlegen.de</dd>")
        );
        for detail in ["<dd>Frau</dd>", "<dd>Englisch</dd>", "<dd>angemeldet</dd>"] {
            assert!(landed.body.contains(detail), "{detail}");
        }
        let list = send(&router, get("/kontakte", Some(&cookie))).await;
        assert_eq!(row_names(&list.body), ["Frau Erika Mustermann"]);
    }

    #[tokio::test]
    async fn a_bad_address_or_name_is_shown_beside_its_field_and_nothing_is_stored() {
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Fehler").await;
        let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
        let (router, cookie) = t.signed_in(&editor).await;
        let long_name = "x".repeat(101);
        let cases = [
            (
                "kein-at-zeichen",
                "",
                "Erika",
                "new-email-error",
                "„E-Mail-Adresse“",
            ),
            ("", "", "Erika", "new-email-error", "Bitte füllen Sie"),
            (
                "erika@example.de",
                "graf",
                "Erika",
                "new-salutation-error",
                "„Anrede“",
            ),
            (
                "erika@example.de",
                "",
                "Eri\u{7}ka",
                "new-first-name-error",
                "Steuerzeichen sind nicht erlaubt.",
            ),
            (
                "erika@example.de",
                "",
                long_name.as_str(),
                "new-first-name-error",
                "Höchstens 100 Zeichen",
            ),
        ];
        for (email, salutation, first, error_id, text) in cases {
            let fields = [
                ("email", email),
                ("salutation", salutation),
                ("first_name", first),
                ("last_name", "Mustermann"),
                ("language", "de"),
                ("status", "unconfirmed"),
            ];
            let answer = send(&router, post_form("/kontakte", Some(&cookie), &fields)).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{error_id}");
            assert!(
                answer
                    .body
                    .contains("<div class=\"alert\" role=\"alert\">Bitte prüfen Sie das Feld ")
            );
            assert!(
                answer
                    .body
                    .contains(&format!("<p class=\"field-error\" id=\"{error_id}\">")),
                "{error_id}"
            );
            assert!(answer.body.contains(text), "{text}");
            assert!(answer.body.contains(&format!(
                "aria-invalid=\"true\" aria-describedby=\"{error_id}\" autofocus"
            )));
            // What was typed stays in the form.
            assert!(answer.body.contains("value=\"Mustermann\""));
            if error_id == "new-email-error" && !email.is_empty() {
                assert!(answer.body.contains("value=\"kein-at-zeichen\""));
            }
        }
        assert!(t.all_contacts(&tenant).await.is_empty());
    }

    #[tokio::test]
    async fn a_duplicate_address_is_shown_beside_the_address_field_and_the_first_contact_stays() {
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Doppelt").await;
        let first = t
            .contact(&tenant, "dora@example.de", Some("Dora"), Some("Doppelt"))
            .await;
        let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
        let (router, cookie) = t.signed_in(&editor).await;
        let fields = [
            ("email", "DORA@example.de"),
            ("first_name", "Dieter"),
            ("last_name", "Doppelt"),
            ("language", "de"),
            ("status", "unconfirmed"),
        ];
        let answer = send(&router, post_form("/kontakte", Some(&cookie), &fields)).await;
        assert_eq!(answer.status, StatusCode::CONFLICT);
        assert!(answer.body.contains(
            "<p class=\"field-error\" id=\"new-email-error\">Einen Kontakt mit dieser E-Mail-Adresse gibt es schon."
        ));
        assert!(answer.body.contains(&format!(
            "<a href=\"/kontakte/{}\">Zum vorhandenen Kontakt</a>",
            first.id
        )));
        assert!(answer.body.contains("value=\"Dieter\""));
        let all = t.all_contacts(&tenant).await;
        assert_eq!(all, vec![first]);
    }

    #[tokio::test]
    async fn an_editor_changes_names_and_unsubscribes_a_contact_through_the_forms() {
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Bearbeiten").await;
        let contact = t
            .contact(
                &tenant,
                "erika@example.de",
                Some("Erika"),
                Some("Musterfrau"),
            )
            .await;
        let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
        let (router, cookie) = t.signed_in(&editor).await;
        let path = format!("/kontakte/{}", contact.id);

        let page = send(&router, get(&path, Some(&cookie))).await;
        assert_eq!(page.status, StatusCode::OK);
        let edit = form(&page.body, "contact-edit").expect("the edit form");
        assert!(edit.contains(&format!("method=\"post\" action=\"{path}\"")));
        assert!(edit.contains("value=\"Musterfrau\""));
        assert!(form(&page.body, "contact-unsubscribe").is_some());
        let csrf = page.hidden("csrf_token");
        let version = page.hidden("stand");
        let edit_fields = |version: &str, first: &str, last: &str| {
            vec![
                ("csrf_token".to_owned(), csrf.clone()),
                ("stand".to_owned(), version.to_owned()),
                ("salutation".to_owned(), "female".to_owned()),
                ("first_name".to_owned(), first.to_owned()),
                ("last_name".to_owned(), last.to_owned()),
                ("language".to_owned(), "en".to_owned()),
            ]
        };
        let post = |fields: Vec<(String, String)>| {
            let pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post_form(&path, Some(&cookie), &pairs)
        };

        let saved = send(&router, post(edit_fields(&version, "Erika", "Mustermann"))).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert_eq!(
            saved.headers[header::LOCATION],
            format!("{path}?hinweis=gespeichert").as_str()
        );
        let stored = contacts::get(&t.app, &tenant.id, &contact.id)
            .await
            .unwrap();
        assert_eq!(stored.last_name.as_ref().unwrap().as_str(), "Mustermann");
        assert_eq!(stored.salutation, Some(Salutation::Female));
        assert_eq!(stored.language, Language::En);
        let shown = send(
            &router,
            get(&format!("{path}?hinweis=gespeichert"), Some(&cookie)),
        )
        .await;
        assert!(shown.body.contains("Die Änderungen sind gespeichert."));
        assert!(shown.body.contains("<h1>Erika Mustermann</h1>"));

        // A form filled in on the earlier version does not overwrite.
        let stale = send(&router, post(edit_fields(&version, "Erika", "Alt"))).await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert!(stale.body.contains("inzwischen geändert"));
        assert!(stale.body.contains("value=\"Alt\""), "the entry stays");
        let unchanged = contacts::get(&t.app, &tenant.id, &contact.id)
            .await
            .unwrap();
        assert_eq!(unchanged, stored);

        // A bad name, beside its field.
        let version = shown.hidden("stand");
        let bad = send(&router, post(edit_fields(&version, "Eri\u{1b}ka", ""))).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains(
            "<p class=\"field-error\" id=\"edit-first-name-error\">Steuerzeichen sind nicht erlaubt.</p>"
        ));
        assert!(bad.body.contains("„Vorname“"));
        let unchanged = contacts::get(&t.app, &tenant.id, &contact.id)
            .await
            .unwrap();
        assert_eq!(unchanged, stored);

        // An empty name clears it.
        let cleared = send(&router, post(edit_fields(&version, "Erika", ""))).await;
        assert_eq!(cleared.status, StatusCode::SEE_OTHER);
        let stored = contacts::get(&t.app, &tenant.id, &contact.id)
            .await
            .unwrap();
        assert_eq!(stored.last_name, None);
        assert_eq!(stored.status, ContactStatus::Unconfirmed);

        let unsubscribed = send(
            &router,
            post_form(
                &path,
                Some(&cookie),
                &[("csrf_token", csrf.as_str()), ("aktion", "abmelden")],
            ),
        )
        .await;
        assert_eq!(unsubscribed.status, StatusCode::SEE_OTHER);
        assert_eq!(
            unsubscribed.headers[header::LOCATION],
            format!("{path}?hinweis=abgemeldet").as_str()
        );
        let stored = contacts::get(&t.app, &tenant.id, &contact.id)
            .await
            .unwrap();
        assert_eq!(stored.status, ContactStatus::Unsubscribed);
        assert_eq!(stored.first_name.as_ref().unwrap().as_str(), "Erika");
        let page = send(
            &router,
            get(&format!("{path}?hinweis=abgemeldet"), Some(&cookie)),
        )
        .await;
        assert!(page.body.contains("vom Newsletter abgemeldet"));
        assert!(page.body.contains("<dd>abgemeldet</dd>"));
        assert!(form(&page.body, "contact-unsubscribe").is_none());
        assert!(form(&page.body, "contact-edit").is_some());
    }

    #[tokio::test]
    async fn deleting_a_contact_needs_the_confirmation_and_removes_it() {
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Loeschen").await;
        let contact = t
            .contact(&tenant, "weg@example.de", Some("Willi"), Some("Weg"))
            .await;
        let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
        let (router, cookie) = t.signed_in(&editor).await;
        let path = format!("/kontakte/{}", contact.id);
        let page = send(&router, get(&path, Some(&cookie))).await;
        let delete = form(&page.body, "contact-delete").expect("the delete form");
        assert!(delete.contains(&format!("action=\"{path}/loeschen\"")));
        assert!(delete.contains("name=\"bestaetigt\" type=\"checkbox\" value=\"ja\" required"));
        assert!(delete.contains("<label for=\"delete-confirm\">Ja, löschen</label>"));
        let csrf = page.hidden("csrf_token");
        let delete_path = format!("{path}/loeschen");

        let unconfirmed = send(
            &router,
            post_form(
                &delete_path,
                Some(&cookie),
                &[("csrf_token", csrf.as_str())],
            ),
        )
        .await;
        assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
        assert!(unconfirmed.body.contains(
            "<p class=\"field-error\" id=\"delete-confirm-error\">Bitte bestätigen Sie das Löschen mit dem Häkchen.</p>"
        ));
        assert!(contacts::get(&t.app, &tenant.id, &contact.id).await.is_ok());

        let deleted = send(
            &router,
            post_form(
                &delete_path,
                Some(&cookie),
                &[("csrf_token", csrf.as_str()), ("bestaetigt", "ja")],
            ),
        )
        .await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER);
        assert_eq!(
            deleted.headers[header::LOCATION],
            "/kontakte?hinweis=geloescht"
        );
        assert!(matches!(
            contacts::get(&t.app, &tenant.id, &contact.id).await,
            Err(ContactError::NotFound)
        ));
        let list = send(&router, get("/kontakte?hinweis=geloescht", Some(&cookie))).await;
        assert!(list.body.contains("Der Kontakt ist gelöscht."));
        assert!(!list.body.contains("weg@example.de"));
        let gone = send(&router, get(&path, Some(&cookie))).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_viewer_sees_the_contacts_without_forms_and_may_not_change_them() {
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Lesen").await;
        let contact = t
            .contact(&tenant, "lara@example.de", Some("Lara"), Some("Lesbar"))
            .await;
        let viewer = t.user(Role::Viewer, Some(&tenant), "Vera Viewer").await;
        let (router, cookie) = t.signed_in(&viewer).await;
        let path = format!("/kontakte/{}", contact.id);

        let list = send(&router, get("/kontakte", Some(&cookie))).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(row_names(&list.body), ["Lara Lesbar"]);
        assert!(form(&list.body, "new-contact").is_none());
        assert!(!list.body.contains("#new-contact-heading"));
        // "Kontakte" comes right after the overview.
        let nav = &list.body[list.body.find("<nav id=\"main-nav\"").unwrap()..];
        let overview = nav.find("href=\"&#x2f;\"").unwrap();
        let contacts_link = nav
            .find("href=\"&#x2f;kontakte\" aria-current=\"page\">Kontakte</a>")
            .expect("the current navigation item");
        let account = nav.find("href=\"&#x2f;konto\"").unwrap();
        assert!(overview < contacts_link && contacts_link < account);

        let page = send(&router, get(&path, Some(&cookie))).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("<dd>lara@example.de</dd>"));
        for id in ["contact-edit", "contact-unsubscribe", "contact-delete"] {
            assert!(form(&page.body, id).is_none(), "{id}");
        }

        let csrf = page.hidden("csrf_token");
        let refused = send(
            &router,
            post_form(
                "/kontakte",
                Some(&cookie),
                &[("csrf_token", csrf.as_str()), ("email", "neu@example.de")],
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = send(
            &router,
            post_form(
                &path,
                Some(&cookie),
                &[("csrf_token", csrf.as_str()), ("aktion", "abmelden")],
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = send(
            &router,
            post_form(
                &format!("{path}/loeschen"),
                Some(&cookie),
                &[("csrf_token", csrf.as_str()), ("bestaetigt", "ja")],
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(t.all_contacts(&tenant).await, vec![contact]);

        // A tenant admin reads too; the operator has no access to contacts.
        let admin = t.user(Role::TenantAdmin, Some(&tenant), "Ada Admin").await;
        let (router, cookie) = t.signed_in(&admin).await;
        let list = send(&router, get("/kontakte", Some(&cookie))).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(form(&list.body, "new-contact").is_none());
        let operator = t.user(Role::Operator, None, "Olga Operator").await;
        let (router, cookie) = t.signed_in(&operator).await;
        let refused = send(&router, get("/kontakte", Some(&cookie))).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(!refused.body.contains("lara@example.de"));
        let refused = send(&router, get(&path, Some(&cookie))).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let overview = send(&router, get("/", Some(&cookie))).await;
        assert!(!overview.body.contains("href=\"&#x2f;kontakte\""));
    }

    #[tokio::test]
    async fn another_tenants_contact_is_not_found_and_its_address_never_shows() {
        let t = local_app().await;
        let own = t.tenant("Sparkasse Eigen").await;
        let other = t.tenant("Sparkasse Fremd").await;
        const SECRET: &str = "nur-fremd@example.de";
        let theirs = t
            .contact(&other, SECRET, Some("Fritz"), Some("Fremd"))
            .await;
        let editor = t.user(Role::Editor, Some(&own), "Eda Editor").await;
        let (router, cookie) = t.signed_in(&editor).await;
        let path = format!("/kontakte/{}", theirs.id);
        let page = send(&router, get("/kontakte", Some(&cookie))).await;
        let csrf = page.hidden("csrf_token");

        let answers = [
            send(&router, get(&path, Some(&cookie))).await,
            send(
                &router,
                post_form(
                    &path,
                    Some(&cookie),
                    &[("csrf_token", csrf.as_str()), ("aktion", "abmelden")],
                ),
            )
            .await,
            send(
                &router,
                post_form(
                    &format!("{path}/loeschen"),
                    Some(&cookie),
                    &[("csrf_token", csrf.as_str()), ("bestaetigt", "ja")],
                ),
            )
            .await,
            send(&router, get("/kontakte/nicht-da", Some(&cookie))).await,
            send(
                &router,
                get(&format!("/kontakte/{}", "0".repeat(32)), Some(&cookie)),
            )
            .await,
        ];
        for answer in answers {
            assert_eq!(answer.status, StatusCode::NOT_FOUND);
            assert!(answer.body.contains("<h1>Nicht gefunden</h1>"));
            assert!(!answer.body.contains(SECRET));
            assert!(!answer.body.contains("Fremd"));
        }
        assert_eq!(t.all_contacts(&other).await, vec![theirs]);
        assert!(!page.body.contains(SECRET));
        let searched = send(
            &router,
            get("/kontakte?suche=nur-fremd%40example.de", Some(&cookie)),
        )
        .await;
        assert_eq!(row_names(&searched.body), Vec::<String>::new());
        let searched = send(&router, get("/kontakte?suche=fremd", Some(&cookie))).await;
        assert_eq!(row_names(&searched.body), Vec::<String>::new());
    }

    #[tokio::test]
    async fn the_contact_pages_have_no_inline_script_label_every_field_and_speak_english() {
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Zugang").await;
        let contact = t
            .contact(&tenant, "ines@example.de", Some("Ines"), Some("Inline"))
            .await;
        let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
        let (router, cookie) = t.signed_in(&editor).await;
        let path = format!("/kontakte/{}", contact.id);
        for page in ["/kontakte", path.as_str()] {
            let answer = send(&router, get(page, Some(&cookie))).await;
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.headers[header::CONTENT_SECURITY_POLICY], CSP);
            assert_no_inline_code(&answer.body);
            assert_labelled(&answer.body);
            assert!(answer.body.contains("<html lang=\"de\">"));
        }
        // Bad input keeps the page clean too.
        let bad = send(
            &router,
            post_form("/kontakte", Some(&cookie), &[("email", "<script>")]),
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_no_inline_code(&bad.body);
        assert!(bad.body.contains("value=\"&lt;script&gt;\""));

        let english = format!("{cookie}; emma_lang=en");
        let list = send(&router, get("/kontakte", Some(&english))).await;
        assert!(list.body.contains("<html lang=\"en\">"));
        assert!(list.body.contains("<h1>Contacts</h1>"));
        assert!(list.body.contains("<td>unconfirmed</td>"));
        assert!(
            list.body
                .contains("<button type=\"submit\">Add contact</button>")
        );
        let page = send(&router, get(&path, Some(&english))).await;
        assert!(page.body.contains("Unsubscribe from the newsletter"));
        assert!(
            page.body
                .contains("<label for=\"delete-confirm\">Yes, delete</label>")
        );
    }

    #[tokio::test]
    async fn the_guarded_contact_forms_need_the_csrf_token_and_are_audited_with_the_contact_id() {
        use crate::services::audit::{self, Filter, Outcome};
        let t = local_app().await;
        let tenant = t.tenant("Sparkasse Protokoll").await;
        let editor = t.user(Role::Editor, Some(&tenant), "Eda Editor").await;
        let (pages, cookie) = t.signed_in(&editor).await;
        let csrf = send(&pages, get("/kontakte", Some(&cookie)))
            .await
            .hidden("csrf_token");
        // The pages as served: behind the access guard.
        let router = crate::http::ui_router(t.app.clone());
        let fields = [
            ("email", "protokoll@example.de"),
            ("last_name", "Protokoll"),
        ];

        let forged = send(&router, post_form("/kontakte", Some(&cookie), &fields)).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(t.all_contacts(&tenant).await.is_empty());

        let mut with_token = vec![("csrf_token", csrf.as_str())];
        with_token.extend(fields);
        let created = send(&router, post_form("/kontakte", Some(&cookie), &with_token)).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        assert!(
            created
                .headers
                .get(crate::http::access::AUDIT_OBJECT)
                .is_none(),
            "the guard takes the object into the entry"
        );
        let contact = t.all_contacts(&tenant).await.pop().expect("the contact");
        let deleted = send(
            &router,
            post_form(
                &format!("/kontakte/{}/loeschen", contact.id),
                Some(&cookie),
                &[("csrf_token", csrf.as_str()), ("bestaetigt", "ja")],
            ),
        )
        .await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER);

        let filter = Filter {
            action_prefix: Some("contact.".to_owned()),
            outcome: Some(Outcome::Success),
            ip_hash: None,
        };
        let (entries, _) = audit::list(&t.app, Some(&tenant.id), &filter, 10, None)
            .await
            .unwrap();
        let mut logged: Vec<(String, Option<String>)> =
            entries.into_iter().map(|e| (e.action, e.object)).collect();
        logged.sort();
        let id = Some(contact.id.to_string());
        assert_eq!(
            logged,
            [
                ("contact.create".to_owned(), id.clone()),
                ("contact.delete".to_owned(), id),
            ]
        );
    }

    #[test]
    fn every_contact_label_chosen_at_run_time_is_in_both_catalogues() {
        use super::super::contacts::{LANGUAGES, SALUTATIONS, STARTING_STATUSES, status_label};
        let statuses = [
            ContactStatus::Unconfirmed,
            ContactStatus::Subscribed,
            ContactStatus::Unsubscribed,
            ContactStatus::Bounced,
            ContactStatus::Complained,
        ];
        let ids = SALUTATIONS
            .iter()
            .map(|(_, _, id)| *id)
            .chain(LANGUAGES.iter().map(|(_, _, id)| *id))
            .chain(STARTING_STATUSES.iter().map(|(_, _, id)| *id))
            .chain(statuses.into_iter().map(status_label))
            .chain([
                "contacts-notice-created",
                "contacts-notice-saved",
                "contacts-notice-unsubscribed",
                "contacts-notice-deleted",
            ]);
        for id in ids {
            for lang in Lang::ALL {
                assert!(i18n::has(lang, id), "{id} missing in {lang:?}");
            }
        }
        assert_eq!(
            i18n::tr(Lang::De, status_label(ContactStatus::Complained)),
            "Beschwerde"
        );
        assert_eq!(
            i18n::tr(Lang::De, status_label(ContactStatus::Bounced)),
            "unzustellbar"
        );
    }
}
