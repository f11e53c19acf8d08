//! The UI in a real browser: headless Chromium driven through ChromeDriver
//! against EMMA on the local adapters, served on a 127.0.0.1 port — signing
//! in, a wrong password, user administration by a tenant admin, a viewer
//! kept out of it, signing out, single sign-on through the development
//! identity provider, and the import wizard (in Chromium, and its requests
//! on both adapter sets).

use emma::domain::Role;
use emma_tests::app::{Adapters, TEST_PASSWORD};
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

/// The text as Windows-1252 bytes (what German Excel saves as "CSV
/// (Trennzeichen-getrennt)"); the test's text is in Latin-1's range.
fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a character of Latin-1"))
        .collect()
}

#[tokio::test]
async fn an_editor_imports_a_windows_1252_file_through_the_wizard_and_finds_the_umlauts_intact() {
    let browser = browser::start().await;
    signed_in_as(&browser, Role::Editor).await;
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("juergen-{marker}@example.de");
    let csv = format!(
        "E-Mail;Vorname;Nachname\r\n{email};Jürgen;Müßig-Öztürk\r\nkeine-adresse;Änne;Schäfer\r\n"
    );
    let folder = tempfile::tempdir().expect("a temporary folder");
    let file = folder.path().join("kunden-märz.csv");
    std::fs::write(&file, windows_1252(&csv)).expect("the CSV file written");

    browser.visit("/importe").await;
    let links = nav_links(&browser).await;
    assert!(
        links
            .iter()
            .any(|(text, href)| text == "Importe" && href == "/importe"),
        "an editor's navigation links to the imports: {links:?}"
    );
    browser
        .wait_for("form#new-import input[type=file]")
        .await
        .send_keys(&file.display().to_string())
        .await
        .expect("the file chosen");
    browser.submit("form#new-import").await;

    // The mapping step: the file read as Windows-1252, the columns guessed.
    let preview = browser
        .wait_for("table#import-preview")
        .await
        .text()
        .await
        .expect("the preview's text");
    assert!(
        preview.contains("Jürgen") && preview.contains("Müßig-Öztürk"),
        "the preview shows the umlauts: {preview}"
    );
    let reading = browser
        .wait_for("#import-reading")
        .await
        .text()
        .await
        .expect("how the file reads");
    assert!(reading.contains("Windows-1252"), "{reading}");
    browser.screenshot("import-mapping").await;
    browser.submit("form#import-mapping").await;

    // The script follows the progress until the summary is there.
    let summary = browser.wait_for("section#import-summary").await;
    let count = |name: &'static str| {
        let summary = summary.clone();
        async move {
            summary
                .find(fantoccini::Locator::Css(&format!("dd[data-count={name}]")))
                .await
                .expect("a count")
                .text()
                .await
                .expect("the count's text")
        }
    };
    assert_eq!(count("rows").await, "2");
    assert_eq!(count("added").await, "1");
    assert_eq!(count("updated").await, "0");
    assert_eq!(count("skipped").await, "1");
    assert!(
        !browser.find_all("a#import-report").await.is_empty(),
        "the report can be downloaded"
    );
    browser.screenshot("import-summary").await;

    browser.visit(&format!("/kontakte?suche={email}")).await;
    let contacts = browser
        .wait_for("table#contacts")
        .await
        .text()
        .await
        .expect("the contacts table's text");
    assert!(
        contacts.contains("Jürgen Müßig-Öztürk") && contacts.contains(&email),
        "the contact is listed with its umlauts: {contacts}"
    );
}

#[tokio::test]
async fn an_editor_writes_a_template_and_the_sandboxed_preview_follows_without_running_its_script()
{
    let browser = browser::start().await;
    signed_in_as(&browser, Role::Editor).await;
    browser.visit("/vorlagen").await;
    let links = nav_links(&browser).await;
    assert!(
        links
            .iter()
            .any(|(text, href)| text == "Vorlagen" && href == "/vorlagen"),
        "an editor's navigation links to the templates: {links:?}"
    );
    browser.fill("form#new-template", "name", "Dezember").await;
    browser.submit("form#new-template").await;
    browser.wait_for("form#template-editor").await;
    let frame_text = || async {
        browser
            .client
            .enter_frame(0)
            .await
            .expect("into the preview frame");
        let text = browser.page_text().await;
        browser
            .client
            .enter_parent_frame()
            .await
            .expect("back to the page");
        text
    };
    // The frame shows the current version for the sample contact.
    // Polled for up to 30 seconds: a loaded machine renders slowly.
    let mut text = String::new();
    for _ in 0..300 {
        text = frame_text().await;
        if text.contains("Sehr geehrte Frau Mustermann") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(text.contains("Sehr geehrte Frau Mustermann"), "{text}");

    // Typing changes the preview a moment later, without saving; a script
    // in the template does not run in the frame (it would change the text).
    browser.choose("form#template-editor", "kind", "html").await;
    let body = browser
        .wait_for("form#template-editor textarea[name=body]")
        .await;
    body.clear().await.expect("the body cleared");
    body.send_keys(
        "<p>{{ contact.greeting }}, frohe Weihnachten!</p>\
         <p id=\"x\">statisch</p>\
         <script>document.getElementById('x').textContent='ausgefuehrt'</script>\
         <a href=\"{{ unsubscribe_url }}\">Abmelden</a>",
    )
    .await
    .expect("typed into the body");
    for _ in 0..300 {
        text = frame_text().await;
        if text.contains("Sehr geehrte Frau Mustermann, frohe Weihnachten!") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        text.contains("Sehr geehrte Frau Mustermann, frohe Weihnachten!"),
        "{text}"
    );
    assert!(
        text.contains("statisch") && !text.contains("ausgefuehrt"),
        "{text}"
    );
    browser.screenshot("template-live-preview").await;

    // The checks name the script as an error; saving keeps a new version.
    let check = browser
        .wait_for("form#template-editor button[formaction$='/pruefen']")
        .await;
    check.click().await.expect("the check button");
    // The page before the click has no error in its checks; the answer
    // does.
    browser.wait_for("#template-checks li.check-error").await;
    let checks = browser
        .wait_for("#template-checks")
        .await
        .text()
        .await
        .expect("the checks");
    assert!(
        checks.contains("Skripte sind in E-Mails nicht erlaubt."),
        "{checks}"
    );
}

#[tokio::test]
async fn an_editor_uploads_an_image_and_a_scripted_svg_is_refused_in_words() {
    let browser = browser::start().await;
    signed_in_as(&browser, Role::Editor).await;
    let folder = tempfile::tempdir().expect("a temporary folder");
    let png = folder.path().join("stern.png");
    std::fs::write(&png, crate::assets::PIXEL_PNG).expect("the image written");
    let svg = folder.path().join("logo.svg");
    std::fs::write(
        &svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
    )
    .expect("the SVG written");

    browser.visit("/bilder").await;
    browser
        .wait_for("form#new-asset input[type=file]")
        .await
        .send_keys(&png.display().to_string())
        .await
        .expect("the file chosen");
    browser.submit("form#new-asset").await;
    // Announced, PUT to the blob store, checked: the image's own page.
    let address = browser.wait_for("input#asset-url").await;
    let url = address
        .prop("value")
        .await
        .expect("the address")
        .unwrap_or_default();
    assert!(url.contains("/img/") && url.ends_with(".png"), "{url}");
    browser.wait_for("img.asset-preview").await;
    let mut width = serde_json::Value::Null;
    for _ in 0..300 {
        width = browser
            .client
            .execute(
                "const img = document.querySelector('img.asset-preview'); \
                 return img.complete ? img.naturalWidth : null;",
                vec![],
            )
            .await
            .expect("the image's width");
        if !width.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(width, 1, "the image loads from its public address");
    browser.screenshot("asset-uploaded").await;

    browser.visit("/bilder").await;
    browser
        .wait_for("form#new-asset input[type=file]")
        .await
        .send_keys(&svg.display().to_string())
        .await
        .expect("the file chosen");
    browser.submit("form#new-asset").await;
    let error = browser.wait_for("#asset-file-error:not([hidden])").await;
    let mut message = String::new();
    for _ in 0..300 {
        message = error.text().await.unwrap_or_default();
        if !message.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        message.starts_with("Das Bild wurde abgelehnt:") && message.contains("script"),
        "{message}"
    );
    let rows = browser.find_all("table#assets tbody tr").await;
    assert_eq!(rows.len(), 1, "only the PNG is in the library");
}

#[tokio::test]
async fn an_editor_writes_a_campaign_in_the_wizard_counts_its_audience_and_schedules_it() {
    let browser = browser::start().await;
    let user = signed_in_as(&browser, Role::Editor).await;
    let tenant = user.tenant.clone().expect("a tenant user");
    let app = browser.app.app();
    let mut settings = emma::services::tenants::get(app, &tenant)
        .await
        .unwrap()
        .settings;
    settings.sender_domains = vec!["example.de".to_owned()];
    emma::services::tenants::update(
        app,
        &tenant,
        emma::services::tenants::TenantChange {
            settings: Some(settings),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    emma::services::templates::create(
        app,
        &tenant,
        "Dezember",
        emma::content::template::TemplateSource {
            kind: emma::content::template::TemplateKind::Html,
            subject: "Neues".into(),
            body: "<p>{{ contact.greeting }}</p><a href=\"{{ unsubscribe_url }}\">Abmelden</a>"
                .into(),
            text: Some("Abmelden: {{ unsubscribe_url }}".into()),
        },
    )
    .await
    .unwrap();
    let list = emma::services::lists::create(app, &tenant, "Newsletter")
        .await
        .unwrap();
    for email in ["anna@example.de", "ben@example.de"] {
        let mut draft =
            emma::domain::ContactDraft::new(emma::domain::EmailAddress::parse(email).unwrap());
        draft.status = emma::domain::ContactStatus::Subscribed;
        let contact = emma::services::contacts::create(app, &tenant, draft)
            .await
            .unwrap();
        emma::services::lists::add_member(app, &tenant, &list.id, &contact.id)
            .await
            .unwrap();
    }

    browser.visit("/kampagnen").await;
    let links = nav_links(&browser).await;
    assert!(
        links
            .iter()
            .any(|(text, href)| text == "Kampagnen" && href == "/kampagnen"),
        "{links:?}"
    );
    browser.visit("/kampagnen/neu").await;
    browser
        .fill("form#campaign-form", "name", "Dezember-Newsletter")
        .await;
    let template = browser
        .wait_for("form#campaign-form select[name=template_id] option:nth-child(2)")
        .await
        .attr("value")
        .await
        .unwrap()
        .unwrap_or_default();
    browser
        .choose("form#campaign-form", "template_id", &template)
        .await;
    browser
        .wait_for(&format!("input[name=listen][value='{}']", list.id))
        .await
        .click()
        .await
        .expect("the list ticked");
    browser
        .wait_for("form#campaign-form button[formaction='/kampagnen/zaehlen']")
        .await
        .click()
        .await
        .expect("the count button");
    let count = browser.wait_for("#campaign-count:not(:empty)").await;
    let text = count.text().await.unwrap_or_default();
    assert!(text.starts_with("2 Empfänger"), "{text}");
    // The count kept what was chosen; save it as a draft.
    browser
        .wait_for("form#campaign-form button:not([formaction])")
        .await
        .click()
        .await
        .expect("the save button");
    browser.wait_for("form#campaign-schedule").await;
    browser
        .client
        .execute(
            "document.querySelector('#campaign-at').value = '2099-12-01T09:00';",
            vec![],
        )
        .await
        .expect("the time set");
    browser.submit("form#campaign-schedule").await;
    let state = browser
        .wait_for("#campaign-scheduled-at")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        state.contains("01.12.2099") && state.contains("09:00"),
        "{state}"
    );
    let shown = browser
        .wait_for("#campaign-state")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert_eq!(shown.trim(), "Geplant");
    browser.screenshot("campaign-scheduled").await;
}

/// A form post of the pages (what the browser's script sends), through the
/// whole router with its guard.
async fn post_form(
    client: &emma_tests::http::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> emma_tests::http::Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    client
        .post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
        .await
}

/// The wizard's requests as the page's script makes them, through the guard
/// (session and CSRF token) on either adapter set: the announce answers a
/// presigned PUT that the blob store (S3 or the local `/blobs` route)
/// takes as it is, the mapping starts the import, the progress route
/// follows it to the end, the report page links the file, and an editor of
/// another institute finds none of it.
async fn the_wizards_requests_upload_start_and_follow_an_import(adapters: Adapters) {
    let app = emma_tests::app::spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Assistent").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let file = "E-Mail;Vorname\nerika@example.de;Erika\n"
        .as_bytes()
        .to_vec();
    let size = file.len().to_string();

    let announced = post_form(
        &editor,
        "/importe",
        &[("file_name", "kunden.csv"), ("size_bytes", size.as_str())],
    )
    .await;
    assert_eq!(announced.status, StatusCode::CREATED, "{}", announced.json);
    let next = announced.json["next"]
        .as_str()
        .expect("the next page")
        .to_owned();
    let upload = emma::ports::PresignedRequest {
        method: announced.json["method"]
            .as_str()
            .unwrap()
            .parse()
            .expect("a method"),
        url: announced.json["url"].as_str().unwrap().to_owned(),
        headers: serde_json::from_value(announced.json["headers"].clone()).expect("headers"),
        expires_at: chrono::Utc::now(),
    };
    let (status, _) = app.perform_presigned(&upload, file).await;
    assert!(status.is_success(), "the upload: {status}");

    let mapping = editor.get(&next).await;
    assert_eq!(mapping.status, StatusCode::OK);
    let page = String::from_utf8_lossy(&mapping.body).into_owned();
    assert!(page.contains("<form id=\"import-mapping\""), "{page}");
    assert!(page.contains("<td>erika@example.de</td>"), "{page}");

    let started = post_form(
        &editor,
        &next,
        &[
            ("spalte_0", "email"),
            ("spalte_1", "first_name"),
            ("mode", "add_or_update"),
            ("new_status", "unconfirmed"),
        ],
    )
    .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    emma_tests::sent::deliver_queued_jobs(&app).await;

    let progress = editor.get(&format!("{next}/fortschritt")).await;
    assert_eq!(progress.status, StatusCode::OK);
    assert_eq!(progress.json["status"], "finished", "{}", progress.json);
    assert_eq!(progress.json["added"], 1);
    let report = editor.get(&format!("{next}/bericht")).await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&report.body).contains("id=\"download-link\""));

    let other = create_tenant(&app, "Sparkasse Nebenan").await;
    let stranger = app.signed_in(Role::Editor, Some(&other)).await;
    for path in [
        next.clone(),
        format!("{next}/fortschritt"),
        format!("{next}/bericht"),
    ] {
        let reply = stranger.get(&path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!String::from_utf8_lossy(&reply.body).contains("kunden.csv"));
    }
}

emma_tests::on_both_adapter_sets!(the_wizards_requests_upload_start_and_follow_an_import);
