//! Tests of the import and export pages: the pages driven through
//! `routes()` on an app built by the real bootstrap in a temporary folder,
//! with the principal the access guard would insert put in place by a test
//! layer; the background steps run by hand.

use axum::Router;
use axum::http::StatusCode;

use crate::domain::{EmailAddress, ImportId, Role, Tenant};
use crate::services::imports::{self, ImportStatus};
use crate::services::{contacts, lists};

use super::page_tests::{TestApp, get, local_app, post_form, send};

impl TestApp {
    /// An import announced through the page and its file stored as the
    /// browser's PUT would; returns its id.
    async fn uploaded(&self, pages: &Router, tenant: &Tenant, file: &[u8]) -> ImportId {
        let size = file.len().to_string();
        let answer = send(
            pages,
            post_form(
                "/importe",
                &[("file_name", "kunden.csv"), ("size_bytes", size.as_str())],
            ),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        let next = answer.json()["next"].as_str().unwrap().to_owned();
        let id = ImportId::parse(next.trim_start_matches("/importe/")).unwrap();
        self.app
            .blobs
            .put(
                &imports::upload_key(&tenant.id, &id).unwrap(),
                file.to_vec(),
                "text/csv",
            )
            .await
            .unwrap();
        id
    }

    /// Runs the queued background jobs.
    async fn run_jobs(&self) {
        while crate::local::send_once(&self.app, std::time::Duration::ZERO)
            .await
            .unwrap()
            > 0
        {}
    }
}

const PLAIN_FILE: &[u8] = b"E-Mail;Vorname;Nachname\nerika@example.de;Erika;Mustermann\n";

/// The selected option's value in the select `name`.
fn selected(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("name=\"{name}\""))?;
    let select = &body[start..start + body[start..].find("</select>")?];
    let option = select.find(" selected>")?;
    let before = &select[..option];
    let value_at = before.rfind("value=\"")? + "value=\"".len();
    Some(before[value_at..before[value_at..].find('"')? + value_at].to_owned())
}

#[tokio::test]
async fn the_mapping_page_shows_preview_cells_escaped_and_preselects_the_suggested_columns() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Vorschau").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    let file = "E-Mail;Vorname;Nachname;Notiz\n\
        anna@example.de;<script>alert(1)</script>;\"=HYPERLINK(\"\"http://böse.example\"\";\"\"klick\"\")\";x\n"
        .as_bytes();
    let id = t.uploaded(&pages, &tenant, file).await;

    let page = send(&pages, get(&format!("/importe/{id}"))).await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<form id=\"import-mapping\""));
    assert!(
        page.body
            .contains("<td>&lt;script&gt;alert(1)&lt;&#x2f;script&gt;</td>"),
        "the cell is shown as text: {}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(
        page.body.contains(
            "<td>=HYPERLINK(&quot;http:&#x2f;&#x2f;böse.example&quot;;&quot;klick&quot;)</td>"
        ),
        "the formula is shown as text in a cell: {}",
        page.body
    );
    assert!(!page.body.contains("href=\"http"));
    assert_eq!(selected(&page.body, "spalte_0").as_deref(), Some("email"));
    assert_eq!(
        selected(&page.body, "spalte_1").as_deref(),
        Some("first_name")
    );
    assert_eq!(
        selected(&page.body, "spalte_2").as_deref(),
        Some("last_name")
    );
    assert_eq!(selected(&page.body, "spalte_3").as_deref(), Some(""));
    assert!(
        page.body
            .contains("Die Einwilligungen der importierten Kontakte liegen vor")
    );
}

#[tokio::test]
async fn starting_without_an_email_column_shows_the_problem_and_queues_nothing() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Ohne Adresse").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    let id = t.uploaded(&pages, &tenant, PLAIN_FILE).await;

    let answer = send(
        &pages,
        post_form(
            &format!("/importe/{id}"),
            &[
                ("spalte_0", ""),
                ("spalte_1", "first_name"),
                ("spalte_2", "last_name"),
                ("mode", "add_or_update"),
                ("new_status", "unconfirmed"),
            ],
        ),
    )
    .await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.body.contains(
            "<p class=\"field-error\" id=\"import-mapping-error\" role=\"alert\">Bitte ordnen Sie einer Spalte die E-Mail-Adresse zu.</p>"
        ),
        "{}",
        answer.body
    );
    // What was chosen stays chosen.
    assert_eq!(selected(&answer.body, "spalte_0").as_deref(), Some(""));
    assert_eq!(
        selected(&answer.body, "spalte_1").as_deref(),
        Some("first_name")
    );
    let import = imports::get(&t.app, &tenant.id, &id).await.unwrap();
    assert_eq!(import.status, ImportStatus::AwaitingUpload);
    t.run_jobs().await;
    assert!(
        contacts::list(&t.app, &tenant.id, &contacts::Listing::default(), 10, None)
            .await
            .unwrap()
            .0
            .is_empty()
    );
}

#[tokio::test]
async fn a_column_mapped_twice_is_named_beside_the_second_column() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Doppelt").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    let id = t.uploaded(&pages, &tenant, PLAIN_FILE).await;

    let answer = send(
        &pages,
        post_form(
            &format!("/importe/{id}"),
            &[
                ("spalte_0", "email"),
                ("spalte_1", "last_name"),
                ("spalte_2", "last_name"),
                ("mode", "add"),
                ("new_status", "unconfirmed"),
            ],
        ),
    )
    .await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.body.contains(
            "<p class=\"field-error\" id=\"spalte-2-error\">„Nachname“ ist schon Spalte 2 zugeordnet.</p>"
        ),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("id=\"spalte-1-error\""));
    assert_eq!(
        imports::get(&t.app, &tenant.id, &id).await.unwrap().status,
        ImportStatus::AwaitingUpload
    );
}

#[tokio::test]
async fn subscribed_contacts_need_the_consent_box_ticked() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Einwilligung").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    let id = t.uploaded(&pages, &tenant, PLAIN_FILE).await;
    let mut fields = vec![
        ("spalte_0", "email"),
        ("spalte_1", "first_name"),
        ("spalte_2", "last_name"),
        ("mode", "add_or_update"),
        ("new_status", "subscribed"),
    ];

    let refused = send(&pages, post_form(&format!("/importe/{id}"), &fields)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("id=\"import-consent-error\""),
        "{}",
        refused.body
    );
    assert_eq!(
        imports::get(&t.app, &tenant.id, &id).await.unwrap().status,
        ImportStatus::AwaitingUpload
    );

    fields.push(("consent", "ja"));
    let started = send(&pages, post_form(&format!("/importe/{id}"), &fields)).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    t.run_jobs().await;
    let (found, _) = contacts::list(&t.app, &tenant.id, &contacts::Listing::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].status, crate::domain::ContactStatus::Subscribed);
}

#[tokio::test]
async fn a_started_import_answers_its_progress_as_json_and_ends_with_the_summary_and_report() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Fortschritt").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    let list = lists::create(&t.app, &tenant.id, "Newsletter")
        .await
        .unwrap();
    let file = b"E-Mail;Vorname\nerika@example.de;Erika\nkaputt;Kai\nerika@example.de;Doppelt\n";
    let id = t.uploaded(&pages, &tenant, file).await;
    let list_id = list.id.to_string();

    let started = send(
        &pages,
        post_form(
            &format!("/importe/{id}"),
            &[
                ("spalte_0", "email"),
                ("spalte_1", "first_name"),
                ("mode", "add"),
                ("list", list_id.as_str()),
                ("new_status", "unconfirmed"),
            ],
        ),
    )
    .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert_eq!(
        started.location(),
        format!("/importe/{id}?hinweis=gestartet")
    );

    let queued = send(&pages, get(&format!("/importe/{id}/fortschritt"))).await;
    assert_eq!(queued.status, StatusCode::OK);
    assert_eq!(queued.json()["status"], "queued");
    assert_eq!(queued.json()["done"], false);
    let running_page = send(&pages, get(&format!("/importe/{id}"))).await;
    assert!(
        running_page
            .body
            .contains("data-import-progress=\"/importe/")
    );
    assert!(
        running_page
            .body
            .contains("<meta http-equiv=\"refresh\" content=\"2\">")
    );

    t.run_jobs().await;

    let done = send(&pages, get(&format!("/importe/{id}/fortschritt"))).await;
    let json = done.json();
    assert_eq!(json["status"], "finished", "{json}");
    assert_eq!(json["done"], true);
    assert_eq!(json["rows"], 3);
    assert_eq!(json["added"], 1);
    assert_eq!(json["skipped"], 2);
    assert_eq!(json["percent"], 100);
    let summary = send(&pages, get(&format!("/importe/{id}"))).await;
    assert!(
        summary.body.contains("id=\"import-summary\""),
        "{}",
        summary.body
    );
    assert!(
        summary
            .body
            .contains(&format!("href=\"/importe/{id}/bericht\""))
    );
    assert!(!summary.body.contains("http-equiv=\"refresh\""));
    let report = send(&pages, get(&format!("/importe/{id}/bericht"))).await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(
        report
            .body
            .contains("id=\"download-link\" class=\"button\" href=\"http:&#x2f;&#x2f;127.0.0.1:8080&#x2f;blobs&#x2f;")
    );
    let listed = send(&pages, get("/importe")).await;
    assert!(listed.body.contains("kunden.csv"));
    assert_eq!(
        lists::get(&t.app, &tenant.id, &list.id)
            .await
            .unwrap()
            .members,
        1
    );
}

#[tokio::test]
async fn announcing_answers_the_upload_and_a_file_over_the_limit_gets_a_german_error() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Grenze").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);

    let fine = send(
        &pages,
        post_form(
            "/importe",
            &[("file_name", "kunden.csv"), ("size_bytes", "1234")],
        ),
    )
    .await;
    assert_eq!(fine.status, StatusCode::CREATED);
    let json = fine.json();
    assert_eq!(json["method"], "PUT");
    assert!(
        json["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:8080/blobs/")
    );
    assert!(json["next"].as_str().unwrap().starts_with("/importe/"));

    let too_large = send(
        &pages,
        post_form(
            "/importe",
            &[("file_name", "riesig.csv"), ("size_bytes", "2000000000")],
        ),
    )
    .await;
    assert_eq!(too_large.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_large.json()["field"], "size_bytes");
    assert_eq!(
        too_large.json()["message"],
        "Die Datei ist zu groß: Ein Import nimmt höchstens 500 MB. Bitte teilen Sie die Datei auf."
    );
    let (listed, _) = imports::list(&t.app, &tenant.id, 10, None).await.unwrap();
    assert_eq!(listed.len(), 1, "the refused file left no import behind");

    // The form sent without the script carries no size.
    let without_script = send(&pages, post_form("/importe", &[("datei", "kunden.csv")])).await;
    assert_eq!(without_script.status, StatusCode::BAD_REQUEST);
    assert!(
        without_script
            .body
            .contains("Das Hochladen braucht JavaScript.")
    );
}

#[tokio::test]
async fn another_tenants_import_and_export_are_not_found() {
    let t = local_app().await;
    let a = t.tenant("Sparkasse A").await;
    let b = t.tenant("Sparkasse B").await;
    let editor_a = t.user(Role::Editor, &a).await;
    let editor_b = t.user(Role::Editor, &b).await;
    let pages_b = t.pages_of(&editor_b);
    let import_b = t.uploaded(&pages_b, &b, PLAIN_FILE).await;
    let export_b = crate::services::exports::request(
        &t.app,
        &b.id,
        editor_b.id,
        vec![crate::services::exports::ExportField::Email],
    )
    .await
    .unwrap();
    t.run_jobs().await;
    let pages_a = t.pages_of(&editor_a);

    for path in [
        format!("/importe/{import_b}"),
        format!("/importe/{import_b}/fortschritt"),
        format!("/importe/{import_b}/bericht"),
        format!("/exporte/{}/datei", export_b.id),
        "/importe/kein-import".to_owned(),
    ] {
        let answer = send(&pages_a, get(&path)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!answer.body.contains("kunden.csv"), "{path}");
    }
    let start = send(
        &pages_a,
        post_form(&format!("/importe/{import_b}"), &[("spalte_0", "email")]),
    )
    .await;
    assert_eq!(start.status, StatusCode::NOT_FOUND);
    assert_eq!(
        imports::get(&t.app, &b.id, &import_b).await.unwrap().status,
        ImportStatus::AwaitingUpload
    );
    let listed = send(&pages_a, get("/importe")).await;
    assert!(!listed.body.contains(&import_b.to_string()));
    let exports = send(&pages_a, get("/exporte")).await;
    assert!(!exports.body.contains(&export_b.id.to_string()));
}

#[tokio::test]
async fn an_export_needs_a_field_and_a_finished_one_is_listed_with_its_download() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Export").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);

    let form = send(&pages, get("/exporte")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body
            .contains("name=\"feld_email\" type=\"checkbox\" value=\"ja\" checked")
    );
    assert!(form.body.contains("name=\"feld_first_name\""));

    let nothing = send(&pages, post_form("/exporte", &[])).await;
    assert_eq!(nothing.status, StatusCode::BAD_REQUEST);
    assert!(nothing.body.contains("id=\"export-fields-error\""));
    assert!(
        nothing
            .body
            .contains("Bitte wählen Sie mindestens ein Feld.")
    );

    let requested = send(
        &pages,
        post_form(
            "/exporte",
            &[("feld_email", "ja"), ("feld_last_name", "ja")],
        ),
    )
    .await;
    assert_eq!(requested.status, StatusCode::SEE_OTHER);
    assert_eq!(requested.location(), "/exporte?hinweis=angefordert");
    let pending = send(&pages, get("/exporte?hinweis=angefordert")).await;
    assert!(pending.body.contains("wird erstellt"), "{}", pending.body);
    assert!(pending.body.contains("E-Mail-Adresse, Nachname"));
    assert!(pending.body.contains("data-refresh-while-pending"));

    t.run_jobs().await;

    let listed = send(&pages, get("/exporte")).await;
    let start = listed
        .body
        .find("href=\"/exporte/")
        .expect("a download link")
        + 6;
    let link = &listed.body[start..start + listed.body[start..].find('"').unwrap()];
    assert!(link.ends_with("/datei"), "{link}");
    assert!(!listed.body.contains("data-refresh-while-pending"));
    let download = send(&pages, get(link)).await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(
        download
            .body
            .contains("href=\"http:&#x2f;&#x2f;127.0.0.1:8080&#x2f;blobs&#x2f;")
    );
}

#[tokio::test]
async fn editors_see_imports_and_exports_in_the_navigation_and_viewers_do_not() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Navigation").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let viewer = t.user(Role::Viewer, &tenant).await;

    let editors = send(&t.pages_of(&editor), get("/importe")).await;
    assert!(
        editors
            .body
            .contains("<a href=\"&#x2f;importe\" aria-current=\"page\">Importe</a>")
    );
    assert!(
        editors
            .body
            .contains("<a href=\"&#x2f;exporte\">Exporte</a>")
    );
    assert!(editors.body.contains("id=\"new-import\""));

    let viewers = send(&t.pages_of(&viewer), get("/importe")).await;
    assert_eq!(viewers.status, StatusCode::OK);
    assert!(!viewers.body.contains("href=\"&#x2f;importe\""));
    assert!(!viewers.body.contains("href=\"&#x2f;exporte\""));
    assert!(!viewers.body.contains("id=\"new-import\""));
    assert_eq!(
        send(&t.pages_of(&viewer), get("/exporte")).await.status,
        StatusCode::FORBIDDEN
    );
}

#[test]
fn counts_are_grouped_in_thousands_as_each_language_writes_them() {
    use super::i18n::Lang;
    assert_eq!(super::imports::number(Lang::De, 0), "0");
    assert_eq!(super::imports::number(Lang::De, 999), "999");
    assert_eq!(super::imports::number(Lang::De, 1234), "1.234");
    assert_eq!(super::imports::number(Lang::De, 1_000_000), "1.000.000");
    assert_eq!(super::imports::number(Lang::En, 1234567), "1,234,567");
}

#[test]
fn every_export_field_has_a_label_in_both_catalogues() {
    use super::i18n::{self, Lang};
    for field in crate::services::exports::ExportField::ALL {
        let id = super::exports::field_label_id(&field);
        for lang in Lang::ALL {
            assert!(i18n::has(lang, &id), "{id} missing in {lang:?}");
        }
    }
}

#[tokio::test]
async fn an_export_of_a_list_holds_its_members_only_and_offers_the_custom_attributes() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Verteiler").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    crate::services::attributes::create(
        &t.app,
        &tenant.id,
        "kundennummer",
        "Kundennummer",
        crate::domain::AttributeKind::Text,
    )
    .await
    .unwrap();
    let list = lists::create(&t.app, &tenant.id, "Newsletter Privatkunden")
        .await
        .unwrap();
    let mut ids = Vec::new();
    for address in ["mitglied@example.de", "aussen@example.de"] {
        let draft = crate::domain::ContactDraft::new(EmailAddress::parse(address).unwrap());
        ids.push(
            contacts::create(&t.app, &tenant.id, draft)
                .await
                .unwrap()
                .id,
        );
    }
    lists::add_member(&t.app, &tenant.id, &list.id, &ids[0])
        .await
        .unwrap();

    let form = send(&pages, get("/exporte")).await;
    let list_value = format!("liste:{}", list.id);
    assert!(
        form.body.contains(&format!(
            "<option value=\"{list_value}\">Newsletter Privatkunden</option>"
        )),
        "{}",
        form.body
    );
    assert!(form.body.contains("name=\"attribut_kundennummer\""));
    assert!(form.body.contains("Feld „Kundennummer“"));

    let unknown = send(
        &pages,
        post_form(
            "/exporte",
            &[("feld_email", "ja"), ("quelle", "liste:kaputt")],
        ),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("id=\"export-source-error\""));

    let requested = send(
        &pages,
        post_form(
            "/exporte",
            &[
                ("feld_email", "ja"),
                ("attribut_kundennummer", "ja"),
                ("quelle", list_value.as_str()),
            ],
        ),
    )
    .await;
    assert_eq!(
        requested.status,
        StatusCode::SEE_OTHER,
        "{}",
        requested.body
    );
    t.run_jobs().await;
    let listed = send(&pages, get("/exporte")).await;
    assert!(
        listed.body.contains("<td>Newsletter Privatkunden</td>"),
        "{}",
        listed.body
    );
    assert!(
        listed.body.contains("<td class=\"number\">1</td>"),
        "{}",
        listed.body
    );
}

#[tokio::test]
async fn a_column_named_like_a_custom_attribute_is_mapped_to_it_and_imported() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Felder").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    crate::services::attributes::create(
        &t.app,
        &tenant.id,
        "kundennummer",
        "Kundennummer",
        crate::domain::AttributeKind::Text,
    )
    .await
    .unwrap();
    let file = b"E-Mail;Kundennummer\nkunde@example.de;K-4711\n";
    let id = t.uploaded(&pages, &tenant, file).await;

    let page = send(&pages, get(&format!("/importe/{id}"))).await;
    assert_eq!(
        selected(&page.body, "spalte_1").as_deref(),
        Some("attribute:kundennummer")
    );

    let started = send(
        &pages,
        post_form(
            &format!("/importe/{id}"),
            &[
                ("spalte_0", "email"),
                ("spalte_1", "attribute:kundennummer"),
                ("mode", "add"),
                ("new_status", "unconfirmed"),
            ],
        ),
    )
    .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    t.run_jobs().await;
    let (found, _) = contacts::list(&t.app, &tenant.id, &contacts::Listing::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let name = crate::domain::AttributeName::parse("kundennummer").unwrap();
    assert!(
        found[0].attributes.contains_key(&name),
        "{:?}",
        found[0].attributes
    );
}
