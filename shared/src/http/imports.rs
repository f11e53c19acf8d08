//! Contact import routes of a tenant: announce an upload, analyse it,
//! start it with a column mapping, follow its progress, fetch its report.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiQuery};
use crate::App;
use crate::domain::{ContactStatus, ImportId, ListId, Principal};
use crate::import::mapping::ColumnMapping;
use crate::import::run::{ImportMode, Progress};
use crate::ports::store::Cursor;
use crate::services::imports::{self, Analysis, Import, ImportStatus};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(announce_import, list_imports))
        .routes(routes!(get_import))
        .routes(routes!(analyse_import))
        .routes(routes!(start_import))
        .routes(routes!(import_report))
}

fn import_id(raw: &str) -> Result<ImportId, ApiError> {
    ImportId::parse(raw).map_err(|_| ApiError::NotFound("import"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewImport {
    /// The file's name, as the user chose it (shown in the list).
    #[schema(example = "kunden-november.csv")]
    pub file_name: String,
    /// The file's exact size: the upload must be exactly this long.
    #[schema(example = 5_880_000)]
    pub size_bytes: u64,
}

impl From<crate::ports::blobs::PresignedRequest> for UploadView {
    fn from(upload: crate::ports::blobs::PresignedRequest) -> Self {
        Self {
            method: upload.method.to_string(),
            url: upload.url,
            headers: upload.headers,
            expires_at: upload.expires_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportView {
    pub id: String,
    pub file_name: String,
    pub size_bytes: u64,
    pub status: ImportStatus,
    pub mode: Option<ImportMode>,
    pub progress: Progress,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Import> for ImportView {
    fn from(i: Import) -> Self {
        Self {
            id: i.id.to_string(),
            file_name: i.file_name,
            size_bytes: i.size_bytes,
            status: i.status,
            mode: i.plan.map(|p| p.mode),
            progress: i.progress,
            error: i.error,
            created_at: i.created_at,
            updated_at: i.updated_at,
            finished_at: i.finished_at,
        }
    }
}

/// Where and how to upload the file.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadView {
    pub method: String,
    pub url: String,
    /// Headers to send with the PUT (the browser sets Content-Length).
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AnnouncedImport {
    pub import: ImportView,
    pub upload: UploadView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartImport {
    pub mapping: ColumnMapping,
    pub mode: ImportMode,
    /// The status of contacts the import creates: `subscribed` only when
    /// the institute holds their documented consent; `unconfirmed` else.
    pub new_status: ContactStatus,
    /// A list every imported contact becomes a member of.
    pub list_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportPage {
    pub imports: Vec<ImportView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportListParams {
    /// 1 to 100; 20 when absent.
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// Announces a file to import; answers where to PUT it.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/imports", tag = "imports",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = NewImport,
    responses(
        (status = 201, description = "Announced; upload the file with the request given", body = AnnouncedImport),
        (status = 400, description = "A field is invalid (e.g. the file is too large)", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn announce_import(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewImport>,
) -> Result<
    (
        StatusCode,
        [(&'static str, String); 1],
        Json<AnnouncedImport>,
    ),
    ApiError,
> {
    let tenant = super::path_tenant(&tenant)?;
    let (import, upload) = imports::announce(
        &app,
        &tenant,
        principal.user_id,
        &body.file_name,
        body.size_bytes,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, import.id.to_string())],
        Json(AnnouncedImport {
            import: import.into(),
            upload: upload.into(),
        }),
    ))
}

/// The tenant's imports, newest first.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/imports", tag = "imports",
    params(("tenant_id" = String, Path, description = "The tenant"), ImportListParams),
    responses(
        (status = 200, description = "A page of imports", body = ImportPage),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn list_imports(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiQuery(params): ApiQuery<ImportListParams>,
) -> Result<Json<ImportPage>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let limit = super::page_limit(params.limit.as_deref(), 20, 100)?;
    let cursor = params.cursor.map(Cursor::from_client);
    let (page, next) = imports::list(&app, &tenant, limit, cursor).await?;
    Ok(Json(ImportPage {
        imports: page.into_iter().map(ImportView::from).collect(),
        next_cursor: next.map(|c| c.as_str().to_owned()),
    }))
}

/// One import, with its progress.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/imports/{import_id}", tag = "imports",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("import_id" = String, Path, description = "The import"),
    ),
    responses(
        (status = 200, description = "The import", body = ImportView),
        (status = 404, description = "No such tenant or import", body = super::Problem),
    ))]
async fn get_import(
    State(app): State<App>,
    Path((tenant, import)): Path<(String, String)>,
) -> Result<Json<ImportView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let import = import_id(&import)?;
    Ok(Json(imports::get(&app, &tenant, &import).await?.into()))
}

/// How the uploaded file reads: encoding, separator, header, first rows and
/// a suggested column mapping.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/imports/{import_id}/analysis", tag = "imports",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("import_id" = String, Path, description = "The import"),
    ),
    responses(
        (status = 200, description = "The analysis", body = Analysis),
        (status = 404, description = "No such tenant or import", body = super::Problem),
        (status = 409, description = "Not uploaded yet", body = super::Problem),
        (status = 422, description = "The file is empty or not CSV", body = super::Problem),
    ))]
async fn analyse_import(
    State(app): State<App>,
    Path((tenant, import)): Path<(String, String)>,
) -> Result<Json<Analysis>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let import = import_id(&import)?;
    Ok(Json(imports::analyse(&app, &tenant, &import).await?))
}

/// Starts the import with a column mapping and a mode; it runs in the
/// background (follow it with GET).
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/imports/{import_id}/start", tag = "imports",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("import_id" = String, Path, description = "The import"),
    ),
    request_body = StartImport,
    responses(
        (status = 202, description = "Queued", body = ImportView),
        (status = 400, description = "The mapping does not fit the file", body = super::Problem),
        (status = 404, description = "No such tenant or import", body = super::Problem),
        (status = 409, description = "Not uploaded, or started already", body = super::Problem),
        (status = 422, description = "The file is empty or not CSV", body = super::Problem),
    ))]
async fn start_import(
    State(app): State<App>,
    Path((tenant, import)): Path<(String, String)>,
    ApiJson(body): ApiJson<StartImport>,
) -> Result<(StatusCode, Json<ImportView>), ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let import = import_id(&import)?;
    let list = body
        .list_id
        .map(|raw| {
            ListId::parse(&raw)
                .map_err(|_| ApiError::bad_request("list_id", "no list with this id"))
        })
        .transpose()?;
    let started = imports::start(
        &app,
        &tenant,
        &import,
        body.mapping,
        body.mode,
        body.new_status,
        list,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(started.into())))
}

/// A short-lived link to the report of a finished import.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportLink {
    /// GET it for the report: CSV for Excel (line, code, reason).
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// The report of a finished import: a short-lived download link (the file
/// itself comes from the blob store, not through the API).
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/imports/{import_id}/report", tag = "imports",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("import_id" = String, Path, description = "The import"),
    ),
    responses(
        (status = 200, description = "The download link", body = ReportLink),
        (status = 404, description = "No such tenant or finished import", body = super::Problem),
    ))]
async fn import_report(
    State(app): State<App>,
    Path((tenant, import)): Path<(String, String)>,
) -> Result<Json<ReportLink>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let import = import_id(&import)?;
    let link = imports::report_link(&app, &tenant, &import).await?;
    Ok(Json(ReportLink {
        url: link.url,
        expires_at: link.expires_at,
    }))
}
