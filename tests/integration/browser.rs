//! The UI in a real browser: headless Chromium driven through ChromeDriver
//! against EMMA on the local adapters, served on a 127.0.0.1 port — signing
//! in, a wrong password, user administration by a tenant admin, a viewer
//! kept out of it, signing out, and single sign-on through the development
//! identity provider.

use emma::domain::Role;
use emma_tests::app::TEST_PASSWORD;
use emma_tests::browser::{self, Browser};
use reqwest::StatusCode;

use crate::skeleton::create_tenant;

/// The texts of the main navigation's links, with their targets.
async fn nav_links(browser: &Browser) -> Vec<(String, String)> {
    browser.wait_for("nav#main-nav").await;
    let mut links = Vec::new();
    for link in browser.find_all("nav#main-nav a").await {
        let text = link.text().await.expect("a link's text").trim().to_owned();
        let href = link.attr("href").await.expect("a link's href");
        links.push((text, href.unwrap_or_default()));
    }
    links
}

/// Signs in through the form as a new user of this role in a new tenant and
/// waits for the overview.
async fn signed_in_as(browser: &Browser, role: Role) -> emma::domain::User {
    let tenant = create_tenant(&browser.app, "Sparkasse Musterstadt").await;
    let user = browser.app.create_user(role, Some(&tenant)).await;
    browser.sign_in(user.email.as_str(), TEST_PASSWORD).await;
    browser.wait_for_path("/").await;
    browser.wait_for("nav#main-nav").await;
    user
}

#[tokio::test]
async fn the_browser_reads_the_health_endpoint_of_the_served_app() {
    let browser = browser::start().await;
    browser.visit("/health").await;
    // Chromium shows a JSON response as text in a <pre>.
    let text = browser
        .wait_for("pre")
        .await
        .text()
        .await
        .expect("the page text");
    let health: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: not JSON: {text}"));
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"), "{health}");
}

#[tokio::test]
async fn signing_in_with_the_right_password_lands_on_the_overview_with_the_main_navigation() {
    let browser = browser::start().await;
    let tenant = create_tenant(&browser.app, "Sparkasse Musterstadt").await;
    let admin = browser
        .app
        .create_user(Role::TenantAdmin, Some(&tenant))
        .await;

    browser.sign_in(admin.email.as_str(), TEST_PASSWORD).await;

    browser.wait_for_path("/").await;
    let links = nav_links(&browser).await;
    assert!(
        links
            .iter()
            .any(|(text, href)| text == "Benutzerverwaltung" && href == "/benutzer"),
        "a tenant admin's navigation links to the user administration: {links:?}"
    );
    assert!(
        browser.session_cookie().await.is_some(),
        "signed in, the browser holds a session cookie"
    );
    browser.screenshot("overview").await;
}

#[tokio::test]
async fn a_wrong_password_shows_a_message_and_stays_on_the_sign_in_page() {
    let browser = browser::start().await;
    let tenant = create_tenant(&browser.app, "Sparkasse Musterstadt").await;
    let user = browser.app.create_user(Role::Editor, Some(&tenant)).await;

    browser
        .sign_in(user.email.as_str(), "Das-ist-nicht-das-Kennwort-2026")
        .await;

    let alert = browser.wait_for("div.alert[role=\"alert\"]").await;
    let message = alert.text().await.expect("the alert's text");
    assert!(
        message.contains("E-Mail-Adresse oder Kennwort ist nicht richtig."),
        "the alert says what went wrong: {message:?}"
    );
    assert_eq!(browser.path().await, "/anmelden");
    assert_eq!(
        browser.session_cookie().await,
        None,
        "a failed sign-in starts no session"
    );
}

#[tokio::test]
async fn a_tenant_admin_creates_a_user_through_the_form_and_sees_the_one_time_password() {
    let browser = browser::start().await;
    signed_in_as(&browser, Role::TenantAdmin).await;
    let email = format!("erika-{}@example.de", uuid::Uuid::new_v4().simple());

    browser.visit("/benutzer").await;
    browser.wait_for("table#users").await;
    browser.fill("form#new-user", "email", &email).await;
    browser
        .fill("form#new-user", "name", "Erika Musterfrau")
        .await;
    browser
        .choose("form#new-user", "role", Role::Editor.as_str())
        .await;
    browser.submit("form#new-user").await;

    let shown = browser.wait_for("p.one-time-password").await;
    // The password itself, whether alone or marked up inside a label.
    let marked = shown
        .find_all(fantoccini::Locator::Css("code, kbd, samp, output, strong"))
        .await
        .expect("the one-time password's markup");
    let password = match marked.as_slice() {
        [only] => only.text().await,
        _ => shown.text().await,
    }
    .expect("the one-time password's text")
    .trim()
    .to_owned();
    assert!(!password.is_empty(), "a one-time password is shown");
    // It is the new user's real password: signing in with it works.
    let sign_in = reqwest::Client::new()
        .post(browser.url("/api/auth/sign-in"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("a sign-in reply");
    assert_eq!(
        sign_in.status(),
        StatusCode::OK,
        "the one-time password {password:?} signs the new user in"
    );

    browser.visit("/benutzer").await;
    let users = browser
        .wait_for("table#users")
        .await
        .text()
        .await
        .expect("the users table's text");
    assert!(
        users.contains(&email) && users.contains("Erika Musterfrau"),
        "the new user is listed: {users}"
    );
}

#[tokio::test]
async fn a_viewer_has_no_user_administration_link_and_is_refused_at_its_page() {
    let browser = browser::start().await;
    signed_in_as(&browser, Role::Viewer).await;

    let links = nav_links(&browser).await;
    assert!(
        !links.is_empty(),
        "the navigation is there and has links: {links:?}"
    );
    assert!(
        !links
            .iter()
            .any(|(text, href)| text == "Benutzerverwaltung" || href == "/benutzer"),
        "a viewer's navigation has no user administration: {links:?}"
    );

    browser.visit("/benutzer").await;
    let heading = browser
        .wait_for("h1")
        .await
        .text()
        .await
        .expect("the heading");
    assert_eq!(heading.trim(), "Keine Berechtigung");
    assert!(
        browser.find_all("table#users").await.is_empty(),
        "no user list is shown to a viewer"
    );
    let session = browser.session_cookie().await.expect("a session cookie");
    assert_eq!(
        browser.get_with_session("/benutzer", &session).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let browser = browser::start().await;
    signed_in_as(&browser, Role::Editor).await;
    let session = browser.session_cookie().await.expect("a session cookie");
    assert_eq!(
        browser.get_with_session("/api/auth/me", &session).await,
        StatusCode::OK,
        "the session works before signing out"
    );

    let button = browser.wait_for("form#sign-out button").await;
    assert_eq!(
        button.text().await.expect("the button's text").trim(),
        "Abmelden"
    );
    browser.submit("form#sign-out").await;
    browser.wait_for_path("/anmelden").await;

    browser.visit("/").await;
    browser.wait_for_path("/anmelden").await;
    assert_eq!(
        browser.get_with_session("/api/auth/me", &session).await,
        StatusCode::UNAUTHORIZED,
        "the old session cookie no longer works"
    );
}

#[tokio::test]
async fn the_sso_button_signs_in_through_the_identity_provider_without_a_password() {
    let browser = browser::start().await;
    let tenant = create_tenant(&browser.app, "Sparkasse Musterstadt").await;
    let admin = browser
        .app
        .create_user(Role::TenantAdmin, Some(&tenant))
        .await;
    browser.visit("/anmelden").await;

    let button = browser.wait_for("a#sso").await;
    assert_eq!(
        button.text().await.expect("the button's text").trim(),
        "Mit Unternehmenskonto anmelden"
    );
    button.click().await.expect("the SSO button clicks");
    // The development issuer's page stands in for the central user
    // management.
    browser.wait_for_path("/dev-idp/authorize").await;
    browser
        .fill("form#dev-idp", "email", admin.email.as_str())
        .await;
    browser.submit("form#dev-idp").await;

    browser.wait_for_path("/").await;
    let links = nav_links(&browser).await;
    assert!(
        links.iter().any(|(_, href)| href == "/benutzer"),
        "signed in as the tenant admin: {links:?}"
    );
    let session = browser.session_cookie().await.expect("a session cookie");
    assert_eq!(
        browser.get_with_session("/api/auth/me", &session).await,
        StatusCode::OK
    );
}
