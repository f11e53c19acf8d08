//! The import pages (Importe): the tenant's imports with their state and
//! counts, the start of a new one (the browser asks for a presigned upload
//! and sends the file straight to the blob store), the mapping step with a
//! preview of the first rows, the progress while the background step runs
//! (a small JSON answer for the script, a refresh without it) and the
//! summary with the report. Built on the import use cases of the API; every
//! handler acts on the signed-in user's own tenant only.

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::admin::{date_time, tenant_failure};
use super::forms::{FormBody, Member, Visit};
use super::i18n::Lang;
use super::view;
use crate::domain::{AttributeDefinition, ContactStatus, ImportId, ListId, Permission, TenantId};
use crate::http::access::AUDIT_OBJECT;
use crate::import::mapping::{AttributeColumn, ColumnMapping};
use crate::import::run::{ImportMode, Progress};
use crate::import::source::{Separator, TextEncoding};
use crate::ports::BlobError;
use crate::ports::store::Cursor;
use crate::services::imports::{self, Analysis, Import, ImportError, ImportStatus};
use crate::services::{attributes, lists};

/// How many imports one page of the list shows.
const PAGE_SIZE: u32 = 20;

/// The form value of a custom attribute as a column's target starts with
/// this, followed by the attribute's name.
const ATTRIBUTE_TARGET: &str = "attribute:";

/// What a column of the file can be imported as (besides the tenant's
/// custom attributes): the form value, the message id of its label. The
/// empty value leaves the column out.
pub(super) const TARGETS: [(&str, &str); 6] = [
    ("", "import-target-ignore"),
    ("email", "import-target-email"),
    ("salutation", "import-target-salutation"),
    ("first_name", "import-target-first-name"),
    ("last_name", "import-target-last-name"),
    ("language", "import-target-language"),
];

/// The modes an import runs in: value, message id.
pub(super) const MODES: [(ImportMode, &str, &str); 3] = [
    (
        ImportMode::AddOrUpdate,
        "add_or_update",
        "import-mode-add-or-update",
    ),
    (ImportMode::Add, "add", "import-mode-add"),
    (ImportMode::Update, "update", "import-mode-update"),
];

/// The statuses new contacts of an import may get: value, message id.
pub(super) const NEW_STATUSES: [(ContactStatus, &str, &str); 2] = [
    (
        ContactStatus::Unconfirmed,
        "unconfirmed",
        "import-status-unconfirmed",
    ),
    (
        ContactStatus::Subscribed,
        "subscribed",
        "import-status-subscribed",
    ),
];

/// The message id of an import's state.
pub(super) fn status_label(status: ImportStatus) -> &'static str {
    match status {
        ImportStatus::AwaitingUpload => "import-state-awaiting-upload",
        ImportStatus::Queued => "import-state-queued",
        ImportStatus::Running => "import-state-running",
        ImportStatus::Finished => "import-state-finished",
        ImportStatus::Failed => "import-state-failed",
    }
}

fn encoding_label(encoding: TextEncoding) -> &'static str {
    match encoding {
        TextEncoding::Utf8 => "UTF-8",
        TextEncoding::Windows1252 => "Windows-1252",
    }
}

fn separator_label(separator: Separator) -> &'static str {
    match separator {
        Separator::Semicolon => "import-separator-semicolon",
        Separator::Comma => "import-separator-comma",
        Separator::Tab => "import-separator-tab",
    }
}

/// A count as the page shows it: "1.234" in German, "1,234" in English.
pub(super) fn number(lang: Lang, n: u64) -> String {
    let separator = match lang {
        Lang::De => '.',
        Lang::En => ',',
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

/// How much of the file the import has read, in whole percent (0 to 100).
fn percent(import: &Import) -> u64 {
    match import.status {
        ImportStatus::Finished => 100,
        _ if import.size_bytes == 0 => 0,
        _ => (import.progress.bytes_read.min(import.size_bytes) * 100) / import.size_bytes,
    }
}

/// What the guard established, checked again: a user of a tenant whose
/// role holds `permission`.
async fn member_in_tenant(
    visit: &Visit,
    permission: Permission,
) -> Result<(Member, TenantId), Response> {
    let member = visit.member(false).await?;
    if !member.principal.role.may(permission) {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    }
    let Some(tenant) = member.principal.tenant.clone() else {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    };
    Ok((member, tenant))
}

fn import_failure(visit: &Visit, e: ImportError) -> Response {
    match e {
        ImportError::Tenant(t) => tenant_failure(visit, t),
        ImportError::NotFound => visit.fail(StatusCode::NOT_FOUND),
        ImportError::Store(s) => visit.store_failure(s),
        ImportError::Blob(BlobError::Unavailable(reason)) => {
            tracing::warn!(%reason, "page: blob store unavailable");
            visit.fail(StatusCode::SERVICE_UNAVAILABLE)
        }
        ImportError::Conflict | ImportError::NotStartable(_) | ImportError::NotUploaded => {
            visit.fail(StatusCode::CONFLICT)
        }
        other => {
            tracing::error!(error = %other, "page: import use case failed");
            visit.fail(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The tenant's import named in the path; a malformed id, or one of
/// another tenant, is simply not found.
async fn find(visit: &Visit, tenant: &TenantId, raw_id: &str) -> Result<Import, Response> {
    let id = ImportId::parse(raw_id).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?;
    imports::get(&visit.app, tenant, &id)
        .await
        .map_err(|e| import_failure(visit, e))
}

/// A 303 to a path built from an import id (hex) and fixed words.
fn redirect(path: &str) -> Response {
    super::forms::redirect(path, "/importe")
}

/// The counts of an import as the pages show them.
#[derive(Debug, Default, Serialize)]
struct Counts {
    rows: String,
    added: String,
    updated: String,
    skipped: String,
    percent: u64,
}

impl Counts {
    fn of(lang: Lang, import: &Import) -> Self {
        let p: &Progress = &import.progress;
        Self {
            rows: number(lang, p.rows),
            added: number(lang, p.added),
            updated: number(lang, p.updated),
            skipped: number(lang, p.skipped),
            percent: percent(import),
        }
    }
}

// ---------------------------------------------------------------------
// The list and the start of a new import

#[derive(Debug, Serialize)]
struct ImportRow {
    id: String,
    file_name: String,
    created_at: String,
    state: &'static str,
    /// Still to be mapped and started.
    open: bool,
    running: bool,
    finished: bool,
    counts: Counts,
}

#[derive(Debug, Default, Serialize)]
struct ImportsView {
    alert: Option<String>,
    imports: Vec<ImportRow>,
    may_write: bool,
    max_size: String,
    max_bytes: u64,
    next_query: Option<String>,
    later_page: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    weiter: String,
}

async fn imports_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    cursor: Option<Cursor>,
    mut values: ImportsView,
    status: StatusCode,
) -> Response {
    let later_page = cursor.is_some();
    let listed = match imports::list(&visit.app, tenant, PAGE_SIZE, cursor).await {
        // A cursor of something else (or garbage): the first page instead.
        Err(ImportError::Store(crate::ports::StoreError::InvalidCursor)) if later_page => {
            imports::list(&visit.app, tenant, PAGE_SIZE, None).await
        }
        other => other,
    };
    let (page, next) = match listed {
        Ok(listed) => listed,
        Err(e) => return import_failure(visit, e),
    };
    values.imports = page
        .iter()
        .map(|i| ImportRow {
            id: i.id.to_string(),
            file_name: i.file_name.clone(),
            created_at: date_time(visit.lang, i.created_at),
            state: status_label(i.status),
            open: i.status == ImportStatus::AwaitingUpload,
            running: matches!(i.status, ImportStatus::Queued | ImportStatus::Running),
            finished: i.status == ImportStatus::Finished,
            counts: Counts::of(visit.lang, i),
        })
        .collect();
    values.next_query = next.map(|cursor| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("weiter", cursor.as_str())
            .finish()
    });
    values.later_page = later_page;
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    values.max_bytes = imports::MAX_IMPORT_BYTES;
    values.max_size = number(visit.lang, imports::MAX_IMPORT_BYTES / (1024 * 1024));
    let layout = visit.layout(member, "/importe");
    view::page(status, "imports.html", &layout, &values, visit.https)
}

/// `GET /importe`: the tenant's imports, newest first, and for editors the
/// start of a new one.
pub(super) async fn list(visit: Visit, uri: Uri) -> Response {
    let query = axum::extract::Query::<ListQuery>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let cursor = (!query.weiter.is_empty()).then(|| Cursor::from_client(query.weiter));
    let mut response = imports_page(
        &visit,
        &member,
        &tenant,
        cursor,
        ImportsView::default(),
        StatusCode::OK,
    )
    .await;
    super::allow_uploads_to_blob_store(&visit.app, &tenant, &mut response).await;
    response
}

/// The answer to the script that announces an upload.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Announced {
    /// The page to go to once the file is up (and checked).
    pub next: String,
    /// Where to ask for the file's check (a POST) before going on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<String>,
    pub method: String,
    pub url: String,
    /// Headers the PUT must carry (the browser sets Content-Length itself).
    pub headers: Vec<(String, String)>,
}

/// A refusal the script shows as it is.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Refused {
    pub field: &'static str,
    pub message: String,
}

fn refused(status: StatusCode, field: &'static str, message: String) -> Response {
    (status, Json(Refused { field, message })).into_response()
}

/// `POST /importe`: announces a file (its name and size, sent by the
/// page's script) and answers, as JSON, where to PUT it. A form sent
/// without the script (no size) shows the list with the hint that the
/// upload needs JavaScript.
pub(super) async fn announce(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let raw_size = body.get("size_bytes");
    if raw_size.is_empty() {
        let values = ImportsView {
            alert: Some(visit.tr("imports-needs-javascript")),
            ..ImportsView::default()
        };
        return imports_page(
            &visit,
            &member,
            &tenant,
            None,
            values,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let max = number(visit.lang, imports::MAX_IMPORT_BYTES / (1024 * 1024));
    let Ok(size) = raw_size.trim().parse::<u64>() else {
        return refused(
            StatusCode::BAD_REQUEST,
            "size_bytes",
            visit.tr_args("imports-problem-size", &[("max", max)]),
        );
    };
    let file_name = body.get("file_name");
    match imports::announce(
        &visit.app,
        &tenant,
        member.principal.user_id,
        file_name,
        size,
    )
    .await
    {
        Ok((import, upload)) => {
            let answer = Announced {
                next: format!("/importe/{}", import.id),
                finish: None,
                method: upload.method.to_string(),
                url: upload.url,
                headers: upload.headers,
            };
            let mut response = (StatusCode::CREATED, Json(answer)).into_response();
            if let Ok(id) = HeaderValue::from_str(&import.id.to_string()) {
                response.headers_mut().insert(AUDIT_OBJECT, id);
            }
            response
        }
        Err(ImportError::Size) => {
            let message = if size == 0 {
                visit.tr("imports-problem-empty-file")
            } else {
                visit.tr_args("imports-problem-size", &[("max", max)])
            };
            refused(StatusCode::BAD_REQUEST, "size_bytes", message)
        }
        Err(ImportError::FileName(_)) => refused(
            StatusCode::BAD_REQUEST,
            "file_name",
            visit.tr("imports-problem-file-name"),
        ),
        Err(e) => {
            let status = match &e {
                ImportError::Tenant(_) => StatusCode::NOT_FOUND,
                ImportError::Store(s) if s.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
                ImportError::Blob(BlobError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            tracing::error!(error = %e, "page: announcing an import failed");
            refused(status, "", visit.tr("imports-problem-announce"))
        }
    }
}

// ---------------------------------------------------------------------
// One import: the mapping step, the progress, the summary

#[derive(Debug, Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
}

/// A target of the column selects, its label in the page's language.
#[derive(Debug, Serialize)]
struct Target {
    value: String,
    label: String,
}

#[derive(Debug, Serialize)]
struct ListChoice {
    id: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct ColumnView {
    index: usize,
    /// The column's heading in the file (the number when it has none).
    heading: String,
    /// The chosen target (a value of [`TARGETS`]).
    target: String,
    error: Option<String>,
}

/// The mapping form's values, as sent or as suggested.
#[derive(Debug, Default, Serialize)]
struct MappingForm {
    mode: String,
    list: String,
    new_status: String,
    consent: bool,
}

#[derive(Debug, Default, Serialize)]
struct ImportView {
    alert: Option<String>,
    notice: Option<String>,
    id: String,
    file_name: String,
    created_at: String,
    size: String,
    state: &'static str,
    /// One of `mapping`, `waiting_for_upload`, `unreadable`, `running`,
    /// `finished`, `failed`.
    stage: &'static str,
    may_write: bool,
    counts: Counts,
    error: Option<String>,
    // The mapping step
    encoding: &'static str,
    separator: &'static str,
    columns: Vec<ColumnView>,
    preview: Vec<Vec<String>>,
    mapping_error: Option<String>,
    consent_error: Option<String>,
    list_error: Option<String>,
    /// The report's short-lived link, on the download page.
    download_url: Option<String>,
    targets: Vec<Target>,
    modes: Vec<Choice>,
    statuses: Vec<Choice>,
    lists: Vec<ListChoice>,
    form: MappingForm,
}

/// The columns of the analysed file with the suggested targets (custom
/// attributes found by their names or labels included).
fn suggested_columns(analysis: &Analysis, definitions: &[AttributeDefinition]) -> Vec<ColumnView> {
    let suggested = ColumnMapping::suggest_with(&analysis.header, definitions);
    let suggested = suggested.as_ref().or(analysis.suggested_mapping.as_ref());
    analysis
        .header
        .iter()
        .enumerate()
        .map(|(index, heading)| ColumnView {
            index,
            heading: heading_or_number(heading, index),
            target: suggested
                .and_then(|m| target_of(m, index))
                .unwrap_or_default(),
            error: None,
        })
        .collect()
}

fn heading_or_number(heading: &str, index: usize) -> String {
    if heading.trim().is_empty() {
        format!("#{}", index + 1)
    } else {
        heading.to_owned()
    }
}

/// The target a mapping gives the column, if any.
fn target_of(mapping: &ColumnMapping, column: usize) -> Option<String> {
    let standard = [
        ("email", Some(mapping.email)),
        ("salutation", mapping.salutation),
        ("first_name", mapping.first_name),
        ("last_name", mapping.last_name),
        ("language", mapping.language),
    ]
    .into_iter()
    .find(|(_, c)| *c == Some(column))
    .map(|(target, _)| target.to_owned());
    standard.or_else(|| {
        mapping
            .attributes
            .iter()
            .find(|a| a.column == column)
            .map(|a| format!("{ATTRIBUTE_TARGET}{}", a.name))
    })
}

/// The tenant's custom attributes (for the column selects).
async fn definitions(
    visit: &Visit,
    tenant: &TenantId,
) -> Result<Vec<AttributeDefinition>, Response> {
    attributes::list(&visit.app, tenant).await.map_err(|e| {
        tracing::error!(error = %e, "page: the attribute definitions could not be read");
        visit.fail(StatusCode::SERVICE_UNAVAILABLE)
    })
}

/// Every target a column may get: the standard fields, then the custom
/// attributes by their labels.
fn targets(visit: &Visit, definitions: &[AttributeDefinition]) -> Vec<Target> {
    TARGETS
        .iter()
        .map(|(value, label)| Target {
            value: (*value).to_owned(),
            label: visit.tr(label),
        })
        .chain(definitions.iter().map(|d| Target {
            value: format!("{ATTRIBUTE_TARGET}{}", d.name),
            label: visit.tr_args("import-target-attribute", &[("label", d.label.clone())]),
        }))
        .collect()
}

/// The preview rows, each as long as the header (short rows padded).
fn preview_rows(analysis: &Analysis) -> Vec<Vec<String>> {
    let width = analysis.header.len();
    analysis
        .preview
        .iter()
        .take(imports::PREVIEW_ROWS)
        .map(|row| {
            let mut cells: Vec<String> = row.iter().take(width).cloned().collect();
            cells.resize(width, String::new());
            cells
        })
        .collect()
}

/// Fills in what every view of one import shows.
fn describe(visit: &Visit, member: &Member, import: &Import, values: &mut ImportView) {
    values.id = import.id.to_string();
    values.file_name = import.file_name.clone();
    values.created_at = date_time(visit.lang, import.created_at);
    values.size = number(visit.lang, import.size_bytes);
    values.state = status_label(import.status);
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    values.counts = Counts::of(visit.lang, import);
    values.error = import.error.clone();
    if values.stage.is_empty() {
        values.stage = match import.status {
            ImportStatus::AwaitingUpload => "mapping",
            ImportStatus::Queued | ImportStatus::Running => "running",
            ImportStatus::Finished => "finished",
            ImportStatus::Failed => "failed",
        };
    }
}

/// Adds the choices of the mapping form (and the tenant's lists).
async fn offer_choices(
    visit: &Visit,
    tenant: &TenantId,
    definitions: &[AttributeDefinition],
    values: &mut ImportView,
) -> Result<(), Response> {
    values.targets = targets(visit, definitions);
    values.modes = MODES
        .iter()
        .map(|(_, value, label)| Choice { value, label })
        .collect();
    values.statuses = NEW_STATUSES
        .iter()
        .map(|(_, value, label)| Choice { value, label })
        .collect();
    let mut all = lists::all(&visit.app, tenant).await.map_err(|e| {
        tracing::error!(error = %e, "page: the lists could not be read");
        visit.fail(StatusCode::SERVICE_UNAVAILABLE)
    })?;
    all.sort_by_key(|l| l.name.to_lowercase());
    values.lists = all
        .into_iter()
        .map(|l| ListChoice {
            id: l.id.to_string(),
            name: l.name,
        })
        .collect();
    if values.form.mode.is_empty() {
        values.form.mode = MODES[0].1.to_owned();
    }
    if values.form.new_status.is_empty() {
        values.form.new_status = NEW_STATUSES[0].1.to_owned();
    }
    Ok(())
}

/// The page of one import in its current state. In the mapping step the
/// file is analysed (again) for the preview; `columns` keeps what the user
/// chose when the form comes back with a problem.
async fn import_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    import: &Import,
    mut values: ImportView,
    status: StatusCode,
) -> Response {
    describe(visit, member, import, &mut values);
    if values.stage == "mapping" && values.may_write {
        match imports::analyse(&visit.app, tenant, &import.id).await {
            Ok(analysis) => {
                let definitions = match definitions(visit, tenant).await {
                    Ok(definitions) => definitions,
                    Err(response) => return response,
                };
                values.encoding = encoding_label(analysis.encoding);
                values.separator = separator_label(analysis.separator);
                values.preview = preview_rows(&analysis);
                if values.columns.len() != analysis.header.len() {
                    values.columns = suggested_columns(&analysis, &definitions);
                }
                if let Err(response) = offer_choices(visit, tenant, &definitions, &mut values).await
                {
                    return response;
                }
            }
            Err(ImportError::NotUploaded) => values.stage = "waiting_for_upload",
            Err(ImportError::EmptyFile) => {
                values.stage = "unreadable";
                values.alert = Some(visit.tr("import-problem-empty"));
            }
            Err(ImportError::NotCsv) => {
                values.stage = "unreadable";
                values.alert = Some(visit.tr("import-problem-not-csv"));
            }
            Err(e) => return import_failure(visit, e),
        }
    } else if values.stage == "mapping" {
        values.stage = "waiting_for_upload";
    }
    let template = if values.stage == "mapping" {
        "import_mapping.html"
    } else {
        "import.html"
    };
    let layout = visit.layout(member, "/importe");
    view::page(status, template, &layout, &values, visit.https)
}

/// The notices a redirect may ask for (`?hinweis=`): a fixed set.
fn notice_id(raw: &str) -> Option<&'static str> {
    match raw {
        "gestartet" => Some("import-notice-started"),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    hinweis: String,
}

/// `GET /importe/{import_id}`: the mapping step of an uploaded file, the
/// progress of a running import, or the summary of a finished one.
pub(super) async fn page(visit: Visit, Path(import_id): Path<String>, uri: Uri) -> Response {
    let query = axum::extract::Query::<PageQuery>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let import = match find(&visit, &tenant, &import_id).await {
        Ok(import) => import,
        Err(response) => return response,
    };
    let values = ImportView {
        notice: notice_id(&query.hinweis).map(|id| visit.tr(id)),
        ..ImportView::default()
    };
    import_page(&visit, &member, &tenant, &import, values, StatusCode::OK).await
}

/// The mapping form read: the mapping, or the columns with the problems
/// beside them (and the problem of the whole mapping).
fn read_mapping(
    visit: &Visit,
    columns: &mut [ColumnView],
    definitions: &[AttributeDefinition],
) -> Result<ColumnMapping, Option<String>> {
    let offered = targets(visit, definitions);
    let mut email = None;
    let mut mapping = ColumnMapping {
        email: 0,
        salutation: None,
        first_name: None,
        last_name: None,
        language: None,
        attributes: Vec::new(),
    };
    let mut fine = true;
    let mut taken: Vec<(String, usize)> = Vec::new();
    for column in columns.iter_mut() {
        let target = column.target.clone();
        if target.is_empty() {
            continue;
        }
        let Some(offer) = offered.iter().find(|t| t.value == target) else {
            column.error = Some(visit.tr("problem-choose-option"));
            fine = false;
            continue;
        };
        if let Some((_, first)) = taken.iter().find(|(t, _)| *t == target) {
            column.error = Some(visit.tr_args(
                "import-problem-target-twice",
                &[
                    ("target", offer.label.clone()),
                    ("column", columns_heading_number(*first)),
                ],
            ));
            fine = false;
            continue;
        }
        taken.push((target.clone(), column.index));
        match target.as_str() {
            "email" => email = Some(column.index),
            "salutation" => mapping.salutation = Some(column.index),
            "first_name" => mapping.first_name = Some(column.index),
            "last_name" => mapping.last_name = Some(column.index),
            "language" => mapping.language = Some(column.index),
            other => {
                let name = other.strip_prefix(ATTRIBUTE_TARGET).unwrap_or_default();
                if let Some(definition) = definitions.iter().find(|d| d.name.as_str() == name) {
                    mapping.attributes.push(AttributeColumn {
                        column: column.index,
                        name: definition.name.clone(),
                        kind: definition.kind,
                    });
                }
            }
        }
    }
    let Some(email) = email else {
        return Err(Some(visit.tr("import-problem-no-email")));
    };
    mapping.email = email;
    if fine { Ok(mapping) } else { Err(None) }
}

/// "Spalte 3" is column index 2: people count from one.
fn columns_heading_number(index: usize) -> String {
    (index + 1).to_string()
}

/// `POST /importe/{import_id}`: starts the import with the chosen mapping,
/// mode, list and status; problems are shown beside their fields.
pub(super) async fn start(visit: Visit, Path(import_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let import = match find(&visit, &tenant, &import_id).await {
        Ok(import) => import,
        Err(response) => return response,
    };
    if import.status != ImportStatus::AwaitingUpload {
        // Started already (a second click, another tab): show where it is.
        return redirect(&format!("/importe/{}", import.id));
    }
    let analysis = match imports::analyse(&visit.app, &tenant, &import.id).await {
        Ok(analysis) => analysis,
        Err(ImportError::NotUploaded | ImportError::EmptyFile | ImportError::NotCsv) => {
            return import_page(
                &visit,
                &member,
                &tenant,
                &import,
                ImportView::default(),
                StatusCode::CONFLICT,
            )
            .await;
        }
        Err(e) => return import_failure(&visit, e),
    };
    let mut columns: Vec<ColumnView> = analysis
        .header
        .iter()
        .enumerate()
        .map(|(index, heading)| ColumnView {
            index,
            heading: heading_or_number(heading, index),
            target: body.get(&format!("spalte_{index}")).to_owned(),
            error: None,
        })
        .collect();
    let form = MappingForm {
        mode: body.get("mode").to_owned(),
        list: body.get("list").to_owned(),
        new_status: body.get("new_status").to_owned(),
        consent: body.get("consent") == "ja",
    };
    let definitions = match definitions(&visit, &tenant).await {
        Ok(definitions) => definitions,
        Err(response) => return response,
    };
    let mut values = ImportView::default();
    let mapping = match read_mapping(&visit, &mut columns, &definitions) {
        Ok(mapping) => Some(mapping),
        Err(whole) => {
            values.mapping_error = whole;
            None
        }
    };
    let mode = MODES.iter().find(|(_, v, _)| *v == form.mode).map(|m| m.0);
    let new_status = NEW_STATUSES
        .iter()
        .find(|(_, v, _)| *v == form.new_status)
        .map(|s| s.0);
    let list = if form.list.is_empty() {
        Ok(None)
    } else {
        ListId::parse(&form.list).map(Some)
    };
    if new_status == Some(ContactStatus::Subscribed) && !form.consent {
        values.consent_error = Some(visit.tr("import-problem-consent"));
    }
    if list.is_err() {
        values.list_error = Some(visit.tr("problem-choose-option"));
    }
    let (Some(mapping), Some(mode), Some(new_status), Ok(list), None) =
        (mapping, mode, new_status, list, &values.consent_error)
    else {
        if mode.is_none() || new_status.is_none() {
            values.alert = Some(visit.tr("problem-choose-option"));
        }
        return refuse(&visit, &member, &tenant, &import, columns, form, values).await;
    };
    match imports::start(
        &visit.app, &tenant, &import.id, mapping, mode, new_status, list,
    )
    .await
    {
        Ok(started) => redirect(&format!("/importe/{}?hinweis=gestartet", started.id)),
        Err(ImportError::NoSuchList) => {
            values.list_error = Some(visit.tr("import-problem-no-such-list"));
            refuse(&visit, &member, &tenant, &import, columns, form, values).await
        }
        Err(ImportError::Mapping(problem)) => {
            // Checked above already; the file may have changed in between.
            tracing::info!(error = %problem, "page: the mapping did not fit the file");
            values.mapping_error = Some(visit.tr("import-problem-mapping"));
            refuse(&visit, &member, &tenant, &import, columns, form, values).await
        }
        Err(ImportError::NotStartable(_) | ImportError::Conflict) => {
            redirect(&format!("/importe/{}", import.id))
        }
        Err(e) => import_failure(&visit, e),
    }
}

/// The mapping step again, with what was chosen and the problems.
async fn refuse(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    import: &Import,
    columns: Vec<ColumnView>,
    form: MappingForm,
    mut values: ImportView,
) -> Response {
    if values.alert.is_none() {
        values.alert = Some(visit.tr("import-problem-alert"));
    }
    values.columns = columns;
    values.form = form;
    import_page(
        visit,
        member,
        tenant,
        import,
        values,
        StatusCode::BAD_REQUEST,
    )
    .await
}

/// What the progress route answers.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ProgressAnswer {
    /// The state, as the API names it (`running`, `finished`, ...).
    pub status: ImportStatus,
    /// The state in the page's language.
    pub state: String,
    /// Whether the import has ended (finished or failed).
    pub done: bool,
    pub rows: u64,
    pub added: u64,
    pub updated: u64,
    pub skipped: u64,
    /// Of the file read, 0 to 100.
    pub percent: u64,
    /// The counts as the page shows them ("1.234").
    pub shown: ProgressShown,
    /// The progress in a sentence, as the page shows it.
    pub text: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ProgressShown {
    pub rows: String,
    pub added: String,
    pub updated: String,
    pub skipped: String,
}

/// `GET /importe/{import_id}/fortschritt`: the progress as JSON, for the
/// page's script to show while the import runs.
pub(super) async fn progress(visit: Visit, Path(import_id): Path<String>) -> Response {
    let (_, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let import = match find(&visit, &tenant, &import_id).await {
        Ok(import) => import,
        Err(response) => return response,
    };
    let p = import.progress;
    let answer = ProgressAnswer {
        status: import.status,
        state: visit.tr(status_label(import.status)),
        done: matches!(import.status, ImportStatus::Finished | ImportStatus::Failed),
        rows: p.rows,
        added: p.added,
        updated: p.updated,
        skipped: p.skipped,
        percent: percent(&import),
        text: visit.tr_args(
            "import-progress-text",
            &[
                ("rows", number(visit.lang, p.rows)),
                ("percent", percent(&import).to_string()),
            ],
        ),
        shown: ProgressShown {
            rows: number(visit.lang, p.rows),
            added: number(visit.lang, p.added),
            updated: number(visit.lang, p.updated),
            skipped: number(visit.lang, p.skipped),
        },
    };
    let mut response = Json(answer).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    response
}

/// `GET /importe/{import_id}/bericht`: the report of a finished import. The
/// page sends the browser on to a short-lived link of the blob store (a
/// link, not a redirect of ours, so the file may come from another origin).
pub(super) async fn report(visit: Visit, Path(import_id): Path<String>) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let import = match find(&visit, &tenant, &import_id).await {
        Ok(import) => import,
        Err(response) => return response,
    };
    let link = match imports::report_link(&visit.app, &tenant, &import.id).await {
        Ok(link) => link,
        Err(e) => return import_failure(&visit, e),
    };
    let mut values = ImportView {
        stage: "download",
        download_url: Some(link.url),
        ..ImportView::default()
    };
    describe(&visit, &member, &import, &mut values);
    let layout = visit.layout(&member, "/importe");
    view::page(StatusCode::OK, "import.html", &layout, &values, visit.https)
}
