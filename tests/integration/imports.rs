//! CSV imports and exports on both adapter sets: German Excel files in every
//! shape the issue names, the three modes, the per-row report, the promise
//! that an import never re-subscribes anyone and never half-writes a row,
//! and exports that Excel opens without running anything.

use emma::domain::Role;
use emma::domain::{ContactDraft, ContactStatus, EmailAddress, TenantId};
use emma::import::mapping::ColumnMapping;
use emma::import::run::{ImportMode, ImportPlan, Progress, Report, run};
use emma::import::source::sniff;
use emma::ports::PresignedRequest;
use emma::services::contacts::{self, ContactChange, Listing};
use emma_tests::app::{Adapters, TestApp, spawn};
use emma_tests::http::Client;
use http::StatusCode;
use serde_json::{Value, json};

use crate::skeleton::create_tenant;

/// Imports `file` as its head suggests, with `mode`; answers the progress
/// and the report's lines after its header.
async fn import(
    app: &TestApp,
    tenant: &TenantId,
    file: &[u8],
    mode: ImportMode,
) -> (Progress, Vec<String>) {
    let sniffed = sniff(file, 5).expect("a readable file");
    let plan = ImportPlan {
        encoding: sniffed.encoding,
        separator: sniffed.separator,
        mapping: ColumnMapping::suggest(&sniffed.header).expect("an address column"),
        mode,
        new_status: ContactStatus::Subscribed,
        list: None,
    };
    let mut report = Report::new(Vec::new()).unwrap();
    let progress = run(
        app.app(),
        tenant,
        std::io::Cursor::new(file.to_vec()),
        &plan,
        &mut report,
    )
    .await
    .expect("the import runs");
    let bytes = report.finish().unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    (progress, lines)
}

async fn tenant(app: &TestApp, name: &str) -> TenantId {
    TenantId::parse(&create_tenant(app, name).await).unwrap()
}

async fn names_in(app: &TestApp, tenant: &TenantId) -> Vec<String> {
    let (contacts, _) = contacts::list(app.app(), tenant, &Listing::default(), 100, None)
        .await
        .unwrap();
    contacts
        .iter()
        .map(|c| {
            format!(
                "{} {} <{}> {:?}",
                c.first_name.as_ref().map_or("", |n| n.as_str()),
                c.last_name.as_ref().map_or("", |n| n.as_str()),
                c.email,
                c.status
            )
        })
        .collect()
}

async fn a_windows_1252_excel_export_with_umlauts_imports_its_names(adapters: Adapters) {
    let app = spawn(adapters).await;
    let t = tenant(&app, "Sparkasse Umlaut").await;
    // "Jürgen;Größe;..." in Windows-1252, CRLF, as German Excel saves it.
    let mut file = b"Vorname;Nachname;E-Mail\r\n".to_vec();
    file.extend_from_slice(b"J\xfcrgen;Gr\xf6\xdfe;juergen@example.de\r\n");
    file.extend_from_slice(b"\"M\xfcller; Anna\";\"Stra\xdfe\";anna@example.de\r\n");

    let (progress, report) = import(&app, &t, &file, ImportMode::Add).await;

    assert_eq!(
        (progress.rows, progress.added, progress.skipped),
        (2, 2, 0),
        "{report:?}"
    );
    let names = names_in(&app, &t).await;
    assert_eq!(
        names,
        [
            "Jürgen Größe <juergen@example.de> Subscribed",
            "Müller; Anna Straße <anna@example.de> Subscribed",
        ]
    );
}

async fn a_utf8_file_with_bom_and_commas_imports_and_reports_each_bad_row(adapters: Adapters) {
    let app = spawn(adapters).await;
    let t = tenant(&app, "Sparkasse Bericht").await;
    let file = "\u{feff}E-Mail,Vorname,Nachname\n\
        erika@example.de,Erika,Mustermann\n\
        ,,\n\
        kein-at-zeichen,Kai,Kaputt\n\
        ERIKA@EXAMPLE.DE,Erika,Doppelt\n\
        \"boese@example.de\r\nBcc: alle@example.de\",Bea,Böse\n\
        formel@example.de,=HYPERLINK(\"http://x\"),Formel\n";

    let (progress, report) = import(&app, &t, file.as_bytes(), ImportMode::Add).await;

    assert_eq!(progress.rows, 6);
    assert_eq!(progress.added, 2);
    assert_eq!(progress.skipped, 4);
    assert_eq!(
        report,
        [
            "3;blank;leere Zeile",
            "4;invalid_email;ungültige E-Mail-Adresse: keine gültige Adresse",
            "5;duplicate_in_file;Adresse steht weiter oben schon in der Datei",
            // CR/LF and a Bcc header inside the quoted cell: refused.
            "6;invalid_email;ungültige E-Mail-Adresse: keine gültige Adresse",
        ]
    );
    // The formula is stored as text; exports make it inert.
    let formula = contacts::find_by_email(
        app.app(),
        &t,
        &EmailAddress::parse("formel@example.de").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        formula.first_name.unwrap().as_str(),
        "=HYPERLINK(\"http://x\")"
    );
}

async fn the_modes_add_update_and_both_touch_only_what_they_may(adapters: Adapters) {
    let app = spawn(adapters).await;
    let t = tenant(&app, "Sparkasse Modus").await;
    let first = "E-Mail;Vorname;Nachname\nalt@example.de;Alma;Alt\n";
    import(&app, &t, first.as_bytes(), ImportMode::Add).await;
    let second = "E-Mail;Vorname;Nachname\nalt@example.de;Alma;Neu\nneu@example.de;Nina;Neu\n";

    let (added, report) = import(&app, &t, second.as_bytes(), ImportMode::Add).await;
    assert_eq!((added.added, added.updated, added.skipped), (1, 0, 1));
    assert_eq!(report, ["2;exists;Kontakt gibt es schon (nicht geändert)"]);

    let third = "E-Mail;Nachname\nalt@example.de;Anders\nunbekannt@example.de;Unbekannt\n";
    let (updated, report) = import(&app, &t, third.as_bytes(), ImportMode::Update).await;
    assert_eq!((updated.added, updated.updated, updated.skipped), (0, 1, 1));
    assert_eq!(
        report,
        ["3;not_found;kein Kontakt mit dieser Adresse (nicht angelegt)"]
    );

    let fourth = "E-Mail;Nachname\nalt@example.de;Zuletzt\nletzt@example.de;Letzt\n";
    let (both, _) = import(&app, &t, fourth.as_bytes(), ImportMode::AddOrUpdate).await;
    assert_eq!((both.added, both.updated, both.skipped), (1, 1, 0));
    let names = names_in(&app, &t).await;
    assert_eq!(
        names,
        [
            " Letzt <letzt@example.de> Subscribed",
            "Nina Neu <neu@example.de> Subscribed",
            "Alma Zuletzt <alt@example.de> Subscribed",
        ],
        "an empty or missing cell keeps what was there (Alma)"
    );
}

async fn an_import_never_resubscribes_an_unsubscribed_contact(adapters: Adapters) {
    let app = spawn(adapters).await;
    let t = tenant(&app, "Sparkasse Abgemeldet").await;
    let email = EmailAddress::parse("weg@example.de").unwrap();
    let mut draft = ContactDraft::new(email.clone());
    draft.status = ContactStatus::Subscribed;
    let contact = contacts::create(app.app(), &t, draft).await.unwrap();
    contacts::update(
        app.app(),
        &t,
        &contact.id,
        ContactChange {
            status: Some(ContactStatus::Unsubscribed),
            ..ContactChange::default()
        },
    )
    .await
    .unwrap();
    let file = "E-Mail;Nachname\nweg@example.de;Zurück\n";

    for mode in [ImportMode::Add, ImportMode::AddOrUpdate, ImportMode::Update] {
        let (progress, report) = import(&app, &t, file.as_bytes(), mode).await;
        assert_eq!(progress.skipped, 1, "{mode:?}");
        assert_eq!(
            report,
            [
                "2;unsubscribed;Kontakt ist abgemeldet und wird durch einen Import nicht wieder angemeldet"
            ],
            "{mode:?}"
        );
    }
    let after = contacts::get(app.app(), &t, &contact.id).await.unwrap();
    assert_eq!(after.status, ContactStatus::Unsubscribed);
    assert_eq!(after.last_name, None, "nothing of the row was written");
}

async fn an_empty_file_or_a_header_alone_imports_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let t = tenant(&app, "Sparkasse Leer").await;
    assert!(
        sniff(b"", 5).is_err(),
        "an empty file is refused at analysis"
    );
    let (progress, report) = import(&app, &t, b"E-Mail;Vorname\r\n", ImportMode::Add).await;
    assert_eq!(
        progress,
        Progress {
            bytes_read: progress.bytes_read,
            ..Progress::default()
        }
    );
    assert!(report.is_empty());
    assert!(names_in(&app, &t).await.is_empty());
}

async fn a_large_file_goes_through_in_batches(adapters: Adapters) {
    let app = spawn(adapters).await;
    let t = tenant(&app, "Sparkasse Gross").await;
    let rows = if adapters == Adapters::Local {
        45_000
    } else {
        2_500
    };
    let mut file = String::from("E-Mail;Vorname;Nachname\n");
    for i in 0..rows {
        file.push_str(&format!("person{i}@example.de;Vor{i};Nach{i}\n"));
    }
    // The last row repeats the first: caught across batches.
    file.push_str("person0@example.de;Wieder;Da\n");

    let (progress, report) = import(&app, &t, file.as_bytes(), ImportMode::Add).await;

    assert_eq!(progress.added, rows);
    assert_eq!(progress.skipped, 1);
    assert_eq!(progress.bytes_read, file.len() as u64);
    assert_eq!(
        report,
        [format!(
            "{};duplicate_in_file;Adresse steht weiter oben schon in der Datei",
            rows + 2
        )]
    );
    let (page, _) = contacts::list(
        app.app(),
        &t,
        &Listing {
            search: Some("nach1".into()),
            descending: false,
        },
        5,
        None,
    )
    .await
    .unwrap();
    assert_eq!(page.len(), 5, "the name index holds the imported contacts");
}

/// A presigned request from an API answer (`upload`) or a redirect.
fn presigned(method: http::Method, url: &str, headers: &Value) -> PresignedRequest {
    PresignedRequest {
        method,
        url: url.to_owned(),
        headers: headers
            .as_array()
            .map(|pairs| {
                pairs
                    .iter()
                    .map(|p| {
                        (
                            p[0].as_str().unwrap().to_owned(),
                            p[1].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        expires_at: chrono::Utc::now(),
    }
}

/// Announces and uploads `file` through the API; answers the import's path.
async fn uploaded(app: &TestApp, editor: &Client, tenant: &str, file: &[u8]) -> String {
    let announced = editor
        .post_json(
            &format!("/api/tenants/{tenant}/imports"),
            &json!({ "file_name": "kunden.csv", "size_bytes": file.len() }),
        )
        .await;
    assert_eq!(announced.status, StatusCode::CREATED, "{}", announced.json);
    let upload = &announced.json["upload"];
    let request = presigned(
        http::Method::PUT,
        upload["url"].as_str().unwrap(),
        &upload["headers"],
    );
    let (status, _) = app.perform_presigned(&request, file.to_vec()).await;
    assert!(status.is_success(), "the upload: {status}");
    format!(
        "/api/tenants/{tenant}/imports/{}",
        announced.json["import"]["id"].as_str().unwrap()
    )
}

async fn an_upload_is_analysed_started_run_in_the_background_and_reported(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Ablauf").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let mut file = b"Anrede;Vorname;Nachname;E-Mail
"
    .to_vec();
    file.extend_from_slice(
        b"Frau;J\xfclia;K\xf6nig;julia@example.de
",
    );
    file.extend_from_slice(
        b"Herr;Kai;Kaputt;kein-at
",
    );
    let path = uploaded(&app, &editor, &tenant, &file).await;

    let analysis = editor.get(&format!("{path}/analysis")).await;
    assert_eq!(analysis.status, StatusCode::OK, "{}", analysis.json);
    assert_eq!(analysis.json["encoding"], "windows1252");
    assert_eq!(analysis.json["separator"], "semicolon");
    assert_eq!(
        analysis.json["header"],
        json!(["Anrede", "Vorname", "Nachname", "E-Mail"])
    );
    assert_eq!(analysis.json["preview"][0][1], "Jülia");
    let mapping = analysis.json["suggested_mapping"].clone();
    assert_eq!(mapping["email"], 3);

    let started = editor
        .post_json(
            &format!("{path}/start"),
            &json!({ "mapping": mapping, "mode": "add", "new_status": "subscribed" }),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.json);
    assert_eq!(started.json["status"], "queued");
    let again = editor
        .post_json(
            &format!("{path}/start"),
            &json!({ "mapping": mapping, "mode": "add", "new_status": "subscribed" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "started once only");

    emma_tests::sent::deliver_queued_jobs(&app).await;

    let done = editor.get(&path).await;
    assert_eq!(done.json["status"], "finished", "{}", done.json);
    assert_eq!(done.json["progress"]["rows"], 2);
    assert_eq!(done.json["progress"]["added"], 1);
    assert_eq!(done.json["progress"]["skipped"], 1);
    let report = editor.get(&format!("{path}/report")).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.json);
    let link = report.json["url"].as_str().unwrap();
    let (status, body) = app
        .perform_presigned(
            &presigned(http::Method::GET, link, &Value::Null),
            Vec::new(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert_eq!(
        text,
        "\u{feff}Zeile;Code;Grund\n3;invalid_email;ungültige E-Mail-Adresse: keine gültige Adresse\n"
    );
    // The uploaded file, with its personal data, is gone.
    let after = editor.get(&format!("{path}/analysis")).await;
    assert_eq!(after.status, StatusCode::CONFLICT, "{}", after.json);
    let contacts = editor.get(&format!("/api/tenants/{tenant}/contacts")).await;
    assert_eq!(contacts.json["contacts"][0]["first_name"], "Jülia");
    assert_eq!(contacts.json["contacts"][0]["status"], "subscribed");
}

async fn an_import_fills_a_list_with_new_and_existing_contacts_once(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Liste").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let existing = editor
        .post_json(
            &format!("/api/tenants/{tenant}/contacts"),
            &json!({ "email": "da@example.de", "status": "subscribed" }),
        )
        .await;
    assert_eq!(existing.status, StatusCode::CREATED);
    let list = editor
        .post_json(
            &format!("/api/tenants/{tenant}/lists"),
            &json!({ "name": "Aktion" }),
        )
        .await;
    let list_id = list.json["id"].as_str().unwrap().to_owned();
    let file = b"E-Mail\nda@example.de\nneu@example.de\nneu@example.de\n";

    for _ in 0..2 {
        let path = uploaded(&app, &editor, &tenant, file).await;
        let started = editor
            .post_json(
                &format!("{path}/start"),
                &json!({
                    "mapping": { "email": 0 }, "mode": "add",
                    "new_status": "subscribed", "list_id": list_id,
                }),
            )
            .await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.json);
        emma_tests::sent::deliver_queued_jobs(&app).await;
    }

    let list = editor
        .get(&format!("/api/tenants/{tenant}/lists/{list_id}"))
        .await;
    assert_eq!(
        list.json["members"], 2,
        "each contact once, however often imported"
    );
    let unknown = uploaded(&app, &editor, &tenant, file).await;
    let refused = editor
        .post_json(
            &format!("{unknown}/start"),
            &json!({
                "mapping": { "email": 0 }, "mode": "add", "new_status": "subscribed",
                "list_id": "0192f0c8-7b1e-7cc3-9a55-3e1f2b4c5d6e",
            }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json["field"], "list_id");
}

async fn bad_uploads_and_mappings_are_refused_by_name(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Grenzen").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let imports = format!("/api/tenants/{tenant}/imports");

    for (body, field) in [
        (
            json!({ "file_name": "riesig.csv", "size_bytes": 2_000_000_000u64 }),
            "size_bytes",
        ),
        (
            json!({ "file_name": "leer.csv", "size_bytes": 0 }),
            "size_bytes",
        ),
        (json!({ "file_name": "", "size_bytes": 10 }), "file_name"),
        (
            json!({ "file_name": "a\u{7}.csv", "size_bytes": 10 }),
            "file_name",
        ),
    ] {
        let refused = editor.post_json(&imports, &body).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            refused.json
        );
        assert_eq!(refused.json["field"], field, "{body}");
    }
    assert_eq!(
        editor.get(&imports).await.json["imports"],
        json!([]),
        "nothing stored"
    );

    // A file of only a byte order mark is empty.
    let empty = uploaded(&app, &editor, &tenant, "\u{feff}".as_bytes()).await;
    let analysis = editor.get(&format!("{empty}/analysis")).await;
    assert_eq!(
        analysis.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        analysis.json
    );

    // A mapping naming a column the file does not have.
    let path = uploaded(
        &app,
        &editor,
        &tenant,
        b"E-Mail;Vorname\na@example.de;Anna\n",
    )
    .await;
    let wrong = editor
        .post_json(
            &format!("{path}/start"),
            &json!({ "mapping": { "email": 0, "last_name": 5 }, "mode": "add", "new_status": "subscribed" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.json);
    assert_eq!(wrong.json["field"], "mapping.last_name");
    assert_eq!(editor.get(&path).await.json["status"], "awaiting_upload");
}

/// The wizard's script PUTs the file straight to the blob store: the
/// import page's CSP lets it reach exactly the origin of the presigned
/// URLs (S3's), and no other.
async fn the_import_page_lets_its_script_reach_the_blob_store_and_no_other_origin(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Hochladen").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    let announced = editor
        .post_json(
            &format!("/api/tenants/{tenant}/imports"),
            &json!({ "file_name": "kunden.csv", "size_bytes": 10 }),
        )
        .await;
    assert_eq!(announced.status, StatusCode::CREATED, "{}", announced.json);
    let upload = announced.json["upload"]["url"].as_str().unwrap();
    let page = editor.get("/importe").await;
    assert_eq!(page.status, StatusCode::OK);
    let policy = page.headers[http::header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    match url::Url::parse(upload) {
        Ok(url) => {
            let origin = url.origin().ascii_serialization();
            assert!(
                policy.ends_with(&format!("; connect-src 'self' {origin}")),
                "{policy}"
            );
        }
        Err(_) => assert!(!policy.contains("connect-src"), "{policy}"),
    }
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert_eq!(
        policy.matches("connect-src").count(),
        policy.contains("connect-src") as usize
    );
}

emma_tests::on_both_adapter_sets!(
    the_import_page_lets_its_script_reach_the_blob_store_and_no_other_origin,
    an_import_fills_a_list_with_new_and_existing_contacts_once,
    an_export_writes_the_chosen_fields_for_german_excel_with_formulas_made_inert,
    an_upload_is_analysed_started_run_in_the_background_and_reported,
    bad_uploads_and_mappings_are_refused_by_name,
    a_windows_1252_excel_export_with_umlauts_imports_its_names,
    a_utf8_file_with_bom_and_commas_imports_and_reports_each_bad_row,
    the_modes_add_update_and_both_touch_only_what_they_may,
    an_import_never_resubscribes_an_unsubscribed_contact,
    an_empty_file_or_a_header_alone_imports_nothing,
    a_large_file_goes_through_in_batches,
    an_import_fills_attribute_columns_from_german_numbers_and_dates_and_reports_a_bad_date,
);

/// The attribute values of the tenant's contact with this address.
async fn attributes_of(editor: &Client, tenant: &str, email: &str) -> Value {
    let found = editor
        .get(&format!("/api/tenants/{tenant}/contacts?search={email}"))
        .await;
    found.json["contacts"][0]["attributes"].clone()
}

async fn an_import_fills_attribute_columns_from_german_numbers_and_dates_and_reports_a_bad_date(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Felder-Import").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    for (name, label, kind) in [
        ("kundennummer", "Kunden-Nr.", "text"),
        ("anlagevolumen", "Anlagevolumen", "number"),
        ("geburtstag", "Geburtsdatum", "date"),
        ("privatkunde", "Privatkunde", "boolean"),
    ] {
        let defined = editor
            .post_json(
                &format!("/api/tenants/{tenant}/attributes"),
                &json!({ "name": name, "label": label, "kind": kind }),
            )
            .await;
        assert_eq!(defined.status, StatusCode::CREATED, "{}", defined.json);
    }
    let existing = editor
        .post_json(
            &format!("/api/tenants/{tenant}/contacts"),
            &json!({
                "email": "bestand@example.de",
                "attributes": { "kundennummer": "alt", "anlagevolumen": 1 },
            }),
        )
        .await;
    assert_eq!(existing.status, StatusCode::CREATED, "{}", existing.json);
    let file = concat!(
        "E-Mail;KUNDEN-NR.;Anlagevolumen;geburtsdatum;privatkunde;Ort\r\n",
        "neu@example.de;4711;1.234,56;17.05.1980;ja;Kiel\r\n",
        "bestand@example.de;;2.000,00;;nein;Kiel\r\n",
        "kaputt@example.de;1;5;31.02.1980;ja;Kiel\r\n",
    );
    let path = uploaded(&app, &editor, &tenant, file.as_bytes()).await;

    let analysis = editor.get(&format!("{path}/analysis")).await;
    assert_eq!(analysis.status, StatusCode::OK, "{}", analysis.json);
    let mapping = analysis.json["suggested_mapping"].clone();
    assert_eq!(
        mapping["attributes"],
        json!([
            { "column": 1, "name": "kundennummer", "kind": "text" },
            { "column": 2, "name": "anlagevolumen", "kind": "number" },
            { "column": 3, "name": "geburtstag", "kind": "date" },
            { "column": 4, "name": "privatkunde", "kind": "boolean" },
        ])
    );

    // A mapping naming an attribute the institute does not have, or with
    // another kind, is refused by name, and the import stays startable.
    for (attribute, field) in [
        (
            json!({ "column": 5, "name": "wohnort", "kind": "text" }),
            "mapping.attributes.wohnort",
        ),
        (
            json!({ "column": 5, "name": "kundennummer", "kind": "number" }),
            "mapping.attributes.kundennummer",
        ),
    ] {
        let refused = editor
            .post_json(
                &format!("{path}/start"),
                &json!({
                    "mapping": { "email": 0, "attributes": [attribute] },
                    "mode": "add_or_update",
                    "new_status": "subscribed",
                }),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.json);
        assert_eq!(refused.json["field"], field);
    }

    let started = editor
        .post_json(
            &format!("{path}/start"),
            &json!({ "mapping": mapping, "mode": "add_or_update", "new_status": "subscribed" }),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.json);
    emma_tests::sent::deliver_queued_jobs(&app).await;

    let done = editor.get(&path).await;
    assert_eq!(done.json["status"], "finished", "{}", done.json);
    assert_eq!(done.json["progress"]["added"], 1);
    assert_eq!(done.json["progress"]["updated"], 1);
    assert_eq!(done.json["progress"]["skipped"], 1);
    let report = editor.get(&format!("{path}/report")).await;
    let (_, body) = app
        .perform_presigned(
            &presigned(
                http::Method::GET,
                report.json["url"].as_str().unwrap(),
                &Value::Null,
            ),
            Vec::new(),
        )
        .await;
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "\u{feff}Zeile;Code;Grund\n4;invalid_attribute;Spalte 4 (geburtstag): kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT erwartet)\n"
    );
    assert_eq!(
        attributes_of(&editor, &tenant, "neu@example.de").await,
        json!({
            "kundennummer": "4711",
            "anlagevolumen": 1234.56,
            "geburtstag": "1980-05-17",
            "privatkunde": true,
        })
    );
    // A filled cell replaces a value, an empty one keeps it.
    assert_eq!(
        attributes_of(&editor, &tenant, "bestand@example.de").await,
        json!({ "kundennummer": "alt", "anlagevolumen": 2000.0, "privatkunde": false })
    );
    assert_eq!(
        attributes_of(&editor, &tenant, "kaputt@example.de").await,
        Value::Null,
        "the bad row stored nothing"
    );
}

async fn an_export_writes_the_chosen_fields_for_german_excel_with_formulas_made_inert(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Ausfuhr").await;
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    for body in [
        json!({ "email": "jueli@example.de", "salutation": "female", "first_name": "Jülia", "last_name": "König", "status": "subscribed" }),
        json!({ "email": "formel@example.de", "last_name": "=HYPERLINK(\"http://x\")" }),
    ] {
        let created = editor
            .post_json(&format!("/api/tenants/{tenant}/contacts"), &body)
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    }
    let exports = format!("/api/tenants/{tenant}/exports");
    for (body, what) in [
        (json!({ "fields": [] }), "no field"),
        (json!({ "fields": ["email", "email"] }), "a field twice"),
    ] {
        let refused = editor.post_json(&exports, &body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(refused.json["field"], "fields", "{what}");
    }

    let requested = editor
        .post_json(
            &exports,
            &json!({ "fields": ["last_name", "first_name", "salutation", "email", "status"] }),
        )
        .await;
    assert_eq!(requested.status, StatusCode::ACCEPTED, "{}", requested.json);
    let path = format!("{exports}/{}", requested.json["id"].as_str().unwrap());
    assert_eq!(
        editor.get(&format!("{path}/file")).await.status,
        StatusCode::CONFLICT,
        "not finished yet"
    );
    emma_tests::sent::deliver_queued_jobs(&app).await;

    let done = editor.get(&path).await;
    assert_eq!(done.json["status"], "finished", "{}", done.json);
    assert_eq!(done.json["rows"], 2);
    let link = editor.get(&format!("{path}/file")).await;
    assert_eq!(link.status, StatusCode::OK);
    let (status, body) = app
        .perform_presigned(
            &presigned(
                http::Method::GET,
                link.json["url"].as_str().unwrap(),
                &Value::Null,
            ),
            Vec::new(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "\u{feff}Nachname;Vorname;Anrede;E-Mail-Adresse;Status\n\
         \"'=HYPERLINK(\"\"http://x\"\")\";;;formel@example.de;unbestätigt\n\
         König;Jülia;Frau;jueli@example.de;angemeldet\n"
    );
}
