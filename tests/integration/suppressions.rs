//! The suppression list as CSV and its page, on both adapter sets: the
//! download is safe in Excel and shows erased people by their hash only;
//! an import adds the valid rows as manual entries, turns unsubscribed and
//! erased entries into manual ones and keeps bounces and complaints,
//! reports every skipped row with its line, reads Windows-1252, and
//! refuses a file over the limit without changing anything; the page
//! lists, adds, imports pasted addresses and removes; viewers may read
//! and download the list (on record) but not change it.

use emma::domain::{ContactDraft, ContactStatus, EmailAddress, Role, TenantId};
use emma::services::audit::{self, Filter};
use emma::services::suppressions::{self, SuppressionReason};
use emma::services::{contacts, unsubscribe};
use emma_tests::app::{Adapters, TestApp, spawn};
use emma_tests::http::{Client, Reply};
use http::{StatusCode, header};

use crate::skeleton::create_tenant;

async fn tenant_and_editor(app: &TestApp, name: &str) -> (TenantId, Client) {
    let tenant = create_tenant(app, name).await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    (TenantId::parse(&tenant).unwrap(), editor)
}

async fn subscribed(app: &TestApp, tenant: &TenantId, address: &str) -> emma::domain::ContactId {
    let mut draft = ContactDraft::new(EmailAddress::parse(address).unwrap());
    draft.status = ContactStatus::Subscribed;
    contacts::create(app.app(), tenant, draft).await.unwrap().id
}

async fn entry(app: &TestApp, tenant: &TenantId, address: &str) -> Option<SuppressionReason> {
    suppressions::find(app.app(), tenant, &EmailAddress::parse(address).unwrap())
        .await
        .unwrap()
        .map(|e| e.reason)
}

async fn entries_of(app: &TestApp, tenant: &TenantId) -> usize {
    suppressions::list(app.app(), tenant, 1000, None)
        .await
        .unwrap()
        .0
        .len()
}

async fn actions(app: &TestApp, tenant: &TenantId, prefix: &str) -> Vec<String> {
    let filter = Filter {
        action_prefix: Some(prefix.to_owned()),
        ..Filter::default()
    };
    let (entries, _) = audit::list(app.app(), Some(tenant), &filter, 100, None)
        .await
        .unwrap();
    entries.into_iter().map(|e| e.action).collect()
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

async fn import(editor: &Client, tenant: &TenantId, file: &[u8]) -> Reply {
    editor
        .post_raw(
            &format!("/api/tenants/{tenant}/suppressions/import"),
            "text/csv",
            file.to_vec(),
        )
        .await
}

async fn the_download_is_safe_in_excel_and_shows_erased_people_by_hash_only(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_and_editor(&app, "Sparkasse Sperrliste").await;
    let formula = "=cmd@example.de";
    let owner = app.create_user(Role::Editor, Some(tenant.as_str())).await;
    suppressions::add_address(
        app.app(),
        &tenant,
        &EmailAddress::parse(formula).unwrap(),
        owner.id,
    )
    .await
    .unwrap();
    let erased = subscribed(&app, &tenant, "geloescht@example.de").await;
    contacts::erase(app.app(), &tenant, &erased).await.unwrap();
    let left = subscribed(&app, &tenant, "ausgetreten@example.de").await;
    unsubscribe::leave_all(app.app(), &tenant, &left, None)
        .await
        .unwrap();

    let reply = editor
        .get(&format!("/api/tenants/{tenant}/suppressions/export"))
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert!(reply.content_type.starts_with("text/csv"));
    let disposition = reply.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(reply.body.starts_with(emma::excel::BOM));
    let csv = String::from_utf8(reply.body[emma::excel::BOM.len()..].to_vec()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0], "E-Mail-Adresse;Grund;Eingetragen am;Kennung",
        "{csv}"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        csv.contains("'=cmd@example.de;Von Hand eingetragen;"),
        "{csv}"
    );
    assert!(!csv.contains(";=cmd@"), "{csv}");
    assert!(
        csv.contains("gelöscht (nur Hashwert);Gelöscht (Art. 17);"),
        "{csv}"
    );
    assert!(csv.contains(erased.as_str()), "{csv}");
    assert!(!csv.contains("geloescht@example.de"), "{csv}");
    assert!(csv.contains("ausgetreten@example.de;Abgemeldet;"), "{csv}");
    assert_eq!(
        actions(&app, &tenant, "suppression.export").await,
        vec!["suppression.export"]
    );
}

async fn an_import_adds_valid_rows_upgrades_reopenable_entries_and_reports_skipped_lines(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_and_editor(&app, "Sparkasse Import").await;
    let left = subscribed(&app, &tenant, "ausgetreten@example.de").await;
    unsubscribe::leave_all(app.app(), &tenant, &left, None)
        .await
        .unwrap();
    let erased = subscribed(&app, &tenant, "geloescht@example.de").await;
    contacts::erase(app.app(), &tenant, &erased).await.unwrap();
    let bounced = EmailAddress::parse("bounce@example.de").unwrap();
    suppressions::add(
        app.app(),
        &tenant,
        &app.app().pseudonyms.contact_id(&tenant, &bounced),
        Some(&bounced),
        SuppressionReason::Bounced,
        None,
    )
    .await
    .unwrap();
    let file = "Name;E-Mail\n\
        Erika;erika@example.de\n\
        Kaputt;keine-adresse\n\
        Erika nochmal;ERIKA@example.de\n\
        Leer;\n\
        Alt;ausgetreten@example.de\n\
        Formel;'=neu@example.de\n\
        Geloescht;geloescht@example.de\n\
        Bounce;bounce@example.de\n";

    let reply = import(&editor, &tenant, file.as_bytes()).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let report = &reply.json;
    assert_eq!(report["rows"], 8, "{report}");
    assert_eq!(report["added"], 2, "{report}");
    assert_eq!(report["upgraded"], 2, "unsubscribed and erased: {report}");
    assert_eq!(report["already_listed"], 1, "the bounce stays: {report}");
    assert_eq!(report["skipped"], 3, "{report}");
    let problems: Vec<(u64, &str)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_u64().unwrap(), p["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        problems,
        vec![(3, "invalid_email"), (4, "duplicate"), (5, "blank")]
    );
    assert_eq!(
        entry(&app, &tenant, "erika@example.de").await,
        Some(SuppressionReason::Manual)
    );
    assert_eq!(
        entry(&app, &tenant, "=neu@example.de").await,
        Some(SuppressionReason::Manual)
    );
    for upgraded in ["ausgetreten@example.de", "geloescht@example.de"] {
        let found = suppressions::find(app.app(), &tenant, &EmailAddress::parse(upgraded).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.reason, SuppressionReason::Manual, "{upgraded}");
        if upgraded.starts_with("geloescht") {
            assert_eq!(found.email, None, "an erased person stays a hash");
        } else {
            assert_eq!(found.email.unwrap().as_str(), upgraded, "as imported");
        }
        assert!(found.added_by.is_some(), "{upgraded}: by the importer");
    }
    assert_eq!(
        entry(&app, &tenant, "bounce@example.de").await,
        Some(SuppressionReason::Bounced)
    );
    assert_eq!(entries_of(&app, &tenant).await, 5);
    // Imported again, everything is a manual entry already.
    let again = import(&editor, &tenant, file.as_bytes()).await;
    assert_eq!(again.json["added"], 0, "{}", again.json);
    assert_eq!(again.json["upgraded"], 0, "{}", again.json);
    assert_eq!(again.json["already_listed"], 5, "{}", again.json);
    assert!(
        !reply.body.windows(5).any(|w| w == b"erika"),
        "no addresses in the report"
    );
    assert_eq!(
        actions(&app, &tenant, "suppression.import").await,
        vec!["suppression.import", "suppression.import"]
    );
    // The new entries stop the addresses from becoming contacts.
    let mut draft = ContactDraft::new(EmailAddress::parse("erika@example.de").unwrap());
    draft.status = ContactStatus::Subscribed;
    assert!(matches!(
        contacts::create(app.app(), &tenant, draft).await,
        Err(contacts::ContactError::Suppressed)
    ));
}

async fn a_windows_1252_file_without_a_header_is_read(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_and_editor(&app, "Sparkasse Excel").await;
    // What German Excel writes: Windows-1252, `;`, CRLF, no header here.
    let mut file = b"m\xfcller@example.de;M\xfcller\r\n".to_vec();
    file.extend_from_slice(b"stra\xdfe@example.de;Stra\xdfe\r\n");
    file.extend_from_slice(b"schmidt@example.de;Schmidt\r\n");

    let reply = import(&editor, &tenant, &file).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    // Umlauts before the @ are no address SES can send to: reported by line.
    assert_eq!(reply.json["added"], 1, "{}", reply.json);
    assert_eq!(reply.json["skipped"], 2, "{}", reply.json);
    let lines: Vec<u64> = reply.json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![1, 2]);
    assert_eq!(
        entry(&app, &tenant, "schmidt@example.de").await,
        Some(SuppressionReason::Manual)
    );
}

async fn a_windows_1252_file_with_umlauts_in_other_columns_is_read(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_and_editor(&app, "Sparkasse Umlaut").await;
    let file = b"Nachname;E-Mail-Adresse\r\nM\xfcller;mueller@example.de\r\nB\xe4r;baer@m\xfcnchen.example\r\n";

    let reply = import(&editor, &tenant, file).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["added"], 2, "{}", reply.json);
    assert_eq!(
        entry(&app, &tenant, "mueller@example.de").await,
        Some(SuppressionReason::Manual)
    );
    // The IDN domain was decoded from Windows-1252 and normalised.
    assert_eq!(
        entry(&app, &tenant, "baer@xn--mnchen-3ya.example").await,
        Some(SuppressionReason::Manual)
    );
}

async fn a_bad_upload_is_refused_with_a_clear_error_and_changes_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_and_editor(&app, "Sparkasse Grenze").await;
    let mut big = b"E-Mail\n".to_vec();
    while big.len() <= suppressions::MAX_IMPORT_BYTES {
        big.extend_from_slice(b"gross@example.de\n");
    }

    let too_big = import(&editor, &tenant, &big).await;
    let empty = import(&editor, &tenant, b"").await;
    let as_json = editor
        .post_json(
            &format!("/api/tenants/{tenant}/suppressions/import"),
            &serde_json::json!({ "email": "x@example.de" }),
        )
        .await;

    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        too_big.json["detail"]
            .as_str()
            .unwrap()
            .contains(&suppressions::MAX_IMPORT_BYTES.to_string()),
        "{}",
        too_big.json
    );
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.json
    );
    assert!(empty.json["detail"].as_str().unwrap().contains("empty"));
    assert_eq!(as_json.status, StatusCode::BAD_REQUEST, "{}", as_json.json);
    assert_eq!(as_json.json["field"], "Content-Type");
    assert_eq!(entries_of(&app, &tenant).await, 0);
}

async fn form(client: &Client, path: &str, fields: &[(&str, &str)]) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    client
        .post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
        .await
}

async fn the_page_lists_adds_imports_and_removes_entries(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_and_editor(&app, "Sparkasse Seite").await;
    let erased = subscribed(&app, &tenant, "geloescht@example.de").await;
    contacts::erase(app.app(), &tenant, &erased).await.unwrap();

    let added = form(&editor, "/sperrliste", &[("email", "hand@example.de")]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", text(&added));
    let imported = form(
        &editor,
        "/sperrliste/import",
        &[("adressen", "eins@example.de\nkaputt\nzwei@example.de\n")],
    )
    .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", text(&imported));
    let report = text(&imported);
    assert!(report.contains("2 neu gesperrt"), "{report}");
    assert!(report.contains("keine gültige E-Mail-Adresse"), "{report}");

    let page = editor.get("/sperrliste").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = text(&page);
    for shown in [
        "hand@example.de",
        "eins@example.de",
        "gelöscht (nur Hashwert)",
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }
    assert!(!html.contains("geloescht@example.de"), "{html}");
    assert!(html.contains(&format!("/api/tenants/{tenant}/suppressions/export")));
    // Only entries added by hand can be removed.
    assert!(
        !html.contains(&format!("/sperrliste/{erased}/entfernen")),
        "{html}"
    );
    let hand = app
        .app()
        .pseudonyms
        .contact_id(&tenant, &EmailAddress::parse("hand@example.de").unwrap());
    let removed = form(&editor, &format!("/sperrliste/{hand}/entfernen"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", text(&removed));
    assert_eq!(entry(&app, &tenant, "hand@example.de").await, None);
    let refused = form(&editor, &format!("/sperrliste/{erased}/entfernen"), &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);

    // A viewer sees the list but no forms.
    let viewer = app.signed_in(Role::Viewer, Some(tenant.as_str())).await;
    let seen = text(&viewer.get("/sperrliste").await);
    assert!(seen.contains("eins@example.de"), "{seen}");
    assert!(!seen.contains("action=\"/sperrliste/import\""), "{seen}");
    let denied = form(&viewer, "/sperrliste", &[("email", "x@example.de")]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

async fn a_pasted_import_says_how_many_entries_became_manual(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_and_editor(&app, "Sparkasse Umstellung").await;
    let left = subscribed(&app, &tenant, "ausgetreten@example.de").await;
    unsubscribe::leave_all(app.app(), &tenant, &left, None)
        .await
        .unwrap();

    let imported = form(
        &editor,
        "/sperrliste/import",
        &[("adressen", "ausgetreten@example.de\nneu@example.de\n")],
    )
    .await;

    assert_eq!(imported.status, StatusCode::OK, "{}", text(&imported));
    let page = text(&imported);
    assert!(page.contains("1 neu gesperrt"), "{page}");
    assert!(
        page.contains("1 Adressen standen wegen Abmeldung oder Löschung auf der Liste"),
        "{page}"
    );
    assert_eq!(
        entry(&app, &tenant, "ausgetreten@example.de").await,
        Some(SuppressionReason::Manual)
    );
}

async fn a_viewer_may_read_and_download_the_list_on_record_but_not_change_it(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, _) = tenant_and_editor(&app, "Sparkasse Einsicht").await;
    let left = subscribed(&app, &tenant, "ausgetreten@example.de").await;
    unsubscribe::leave_all(app.app(), &tenant, &left, None)
        .await
        .unwrap();
    let viewer = app.signed_in(Role::Viewer, Some(tenant.as_str())).await;

    let listed = viewer
        .get(&format!("/api/tenants/{tenant}/suppressions"))
        .await;
    let download = viewer
        .get(&format!("/api/tenants/{tenant}/suppressions/export"))
        .await;
    let imported = import(&viewer, &tenant, b"E-Mail\nx@example.de\n").await;

    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    assert_eq!(download.status, StatusCode::OK, "{}", text(&download));
    assert!(text(&download).contains("ausgetreten@example.de;Abgemeldet;"));
    assert_eq!(
        actions(&app, &tenant, "suppression.export").await,
        vec!["suppression.export"],
        "the download is on record"
    );
    assert_eq!(imported.status, StatusCode::FORBIDDEN);
    assert_eq!(entries_of(&app, &tenant).await, 1);
    // Another tenant's viewer finds nothing there.
    let other = create_tenant(&app, "Sparkasse Fremd").await;
    let stranger = app.signed_in(Role::Viewer, Some(&other)).await;
    let foreign = stranger
        .get(&format!("/api/tenants/{tenant}/suppressions/export"))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

emma_tests::on_both_adapter_sets!(
    the_download_is_safe_in_excel_and_shows_erased_people_by_hash_only,
    an_import_adds_valid_rows_upgrades_reopenable_entries_and_reports_skipped_lines,
    a_pasted_import_says_how_many_entries_became_manual,
    a_viewer_may_read_and_download_the_list_on_record_but_not_change_it,
    a_windows_1252_file_without_a_header_is_read,
    a_windows_1252_file_with_umlauts_in_other_columns_is_read,
    a_bad_upload_is_refused_with_a_clear_error_and_changes_nothing,
    the_page_lists_adds_imports_and_removes_entries,
);
