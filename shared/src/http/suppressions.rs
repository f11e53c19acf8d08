//! The suppression list routes of a tenant (Sperrliste): read it, add an
//! address by hand, remove one added by hand, download it as CSV and put
//! a CSV file of addresses on it; and erasing a contact.

use axum::body::{Body, HttpBody};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiQuery};
use crate::App;
use crate::domain::{ContactId, EmailAddress, Principal};
use crate::ports::store::Cursor;
use crate::services::contacts;
use crate::services::suppressions::{
    self, MAX_IMPORT_BYTES, Suppression, SuppressionImportReport, SuppressionReason,
};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_suppressions, add_suppression))
        .routes(routes!(remove_suppression))
        .routes(routes!(export_suppressions))
        .routes(routes!(import_suppressions))
        .routes(routes!(erase_contact))
}

fn entry_id(raw: &str, what: &'static str) -> Result<ContactId, ApiError> {
    ContactId::parse(raw).map_err(|_| ApiError::NotFound(what))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuppressionView {
    /// The contact id the address has (also for erased people).
    pub id: String,
    /// The address; absent for erased people.
    pub email: Option<String>,
    pub reason: SuppressionReason,
    pub added_at: DateTime<Utc>,
}

impl From<Suppression> for SuppressionView {
    fn from(s: Suppression) -> Self {
        Self {
            id: s.id.to_string(),
            email: s.email.map(|e| e.to_string()),
            reason: s.reason,
            added_at: s.added_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuppressionPage {
    pub entries: Vec<SuppressionView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SuppressionParams {
    /// 1 to 500; 100 when absent.
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSuppression {
    #[schema(value_type = String, format = "email")]
    pub email: EmailAddress,
}

/// One page of the suppression list.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/suppressions", tag = "suppressions",
    params(("tenant_id" = String, Path, description = "The tenant"), SuppressionParams),
    responses(
        (status = 200, description = "A page of entries", body = SuppressionPage),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn list_suppressions(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiQuery(params): ApiQuery<SuppressionParams>,
) -> Result<Json<SuppressionPage>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let limit = super::page_limit(params.limit.as_deref(), 100, 500)?;
    let cursor = params.cursor.map(Cursor::from_client);
    let (entries, next) = suppressions::list(&app, &tenant, limit, cursor).await?;
    Ok(Json(SuppressionPage {
        entries: entries.into_iter().map(SuppressionView::from).collect(),
        next_cursor: next.map(|c| c.as_str().to_owned()),
    }))
}

/// Puts an address on the suppression list by hand.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/suppressions", tag = "suppressions",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = NewSuppression,
    responses(
        (status = 201, description = "On the list (or there already, with its first reason)", body = SuppressionView),
        (status = 400, description = "The address is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn add_suppression(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewSuppression>,
) -> Result<
    (
        StatusCode,
        [(&'static str, String); 1],
        Json<SuppressionView>,
    ),
    ApiError,
> {
    let tenant = super::path_tenant(&tenant)?;
    let entry = suppressions::add_address(&app, &tenant, &body.email, principal.user_id).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, entry.id.to_string())],
        Json(entry.into()),
    ))
}

/// Removes an entry added by hand (the others record a person's decision
/// or a failed delivery and stay).
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/suppressions/{entry_id}", tag = "suppressions",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("entry_id" = String, Path, description = "The entry's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such tenant or entry", body = super::Problem),
        (status = 409, description = "Not an entry added by hand", body = super::Problem),
    ))]
async fn remove_suppression(
    State(app): State<App>,
    Path((tenant, entry)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let entry = entry_id(&entry, "suppression")?;
    suppressions::remove(&app, &tenant, &entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erases a contact (GDPR Art. 17): the contact goes, only a keyed hash of
/// its address stays on the suppression list.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/contacts/{contact_id}/erase", tag = "contacts",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("contact_id" = String, Path, description = "The contact"),
    ),
    responses(
        (status = 204, description = "Erased"),
        (status = 404, description = "No such tenant or contact", body = super::Problem),
    ))]
async fn erase_contact(
    State(app): State<App>,
    Path((tenant, contact)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let contact = entry_id(&contact, "contact")?;
    contacts::erase(&app, &tenant, &contact).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The whole suppression list as a CSV download for German Excel (UTF-8
/// with BOM, `;`): address (erased people: "gelöscht (nur Hashwert)"),
/// reason, date added, entry id. Built in memory, up to 100,000 entries.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/suppressions/export", tag = "suppressions",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The list as CSV", content_type = "text/csv"),
        (status = 404, description = "No such tenant", body = super::Problem),
        (status = 422, description = "Too many entries for one download", body = super::Problem),
    ))]
async fn export_suppressions(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let (file, _) = suppressions::export_csv(&app, &tenant).await?;
    Ok(csv_download(file, &format!("sperrliste-{tenant}.csv")))
}

/// A CSV file as an attachment, never cached.
pub(crate) fn csv_download(file: Vec<u8>, file_name: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        file,
    )
        .into_response()
}

/// The media types a CSV upload may come as.
const CSV_TYPES: &[&str] = &[
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
];

/// Puts the addresses of a CSV file (the body, `text/csv`, at most 10 MiB)
/// on the suppression list as entries added by hand. Valid rows are added,
/// rows with problems are skipped and reported with their line; an address
/// on the list already keeps its entry.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/suppressions/import", tag = "suppressions",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body(content = String, content_type = "text/csv",
        description = "One address per row: the column headed E-Mail, E-Mail-Adresse or Adresse, else the first; UTF-8 (with or without BOM) or Windows-1252; `;`, `,` or tab"),
    responses(
        (status = 200, description = "What was added and which rows were skipped", body = SuppressionImportReport),
        (status = 400, description = "Not sent as CSV", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
        (status = 413, description = "Larger than 10 MiB", body = super::Problem),
        (status = 422, description = "The file is empty or not CSV", body = super::Problem),
    ))]
async fn import_suppressions(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<SuppressionImportReport>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !CSV_TYPES.contains(&media_type.as_str()) {
        return Err(ApiError::bad_request(
            "Content-Type",
            "send the file as text/csv",
        ));
    }
    let file = read_limited(&headers, body, MAX_IMPORT_BYTES).await?;
    let report = suppressions::import_csv(&app, &tenant, principal.user_id, &file).await?;
    Ok(Json(report))
}

/// The body, refused as soon as it passes `limit` bytes (a declared length
/// over it is refused before anything is read).
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = body;
    let mut file = Vec::with_capacity(declared.map_or(64 * 1024, |n| n as usize));
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|e| ApiError::bad_request("body", e))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if file.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        file.extend_from_slice(&chunk);
    }
    Ok(file)
}
