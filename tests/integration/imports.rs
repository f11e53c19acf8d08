//! CSV imports on both adapter sets: German Excel files in every shape the
//! issue names, the three modes, the per-row report, and the promise that
//! an import never re-subscribes anyone and never half-writes a row.

use emma::domain::{ContactDraft, ContactStatus, EmailAddress, TenantId};
use emma::import::mapping::ColumnMapping;
use emma::import::run::{ImportMode, ImportPlan, Progress, Report, run};
use emma::import::source::sniff;
use emma::services::contacts::{self, ContactChange, Listing};
use emma_tests::app::{Adapters, TestApp, spawn};

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
    };
    let mut report = Report::new(Vec::new()).unwrap();
    let progress = run(
        app.app(),
        tenant,
        std::io::Cursor::new(file.to_vec()),
        &plan,
        &mut report,
        async |_| {},
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

emma_tests::on_both_adapter_sets!(
    a_windows_1252_excel_export_with_umlauts_imports_its_names,
    a_utf8_file_with_bom_and_commas_imports_and_reports_each_bad_row,
    the_modes_add_update_and_both_touch_only_what_they_may,
    an_import_never_resubscribes_an_unsubscribed_contact,
    an_empty_file_or_a_header_alone_imports_nothing,
    a_large_file_goes_through_in_batches,
);
