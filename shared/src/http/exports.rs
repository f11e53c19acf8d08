//! Contact export routes of a tenant: request an export of chosen fields
//! and attributes, of every contact, a list or a segment; follow it, fetch
//! the file through a short-lived link.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson};
use crate::App;
use crate::domain::{ExportId, ListId, Principal, SegmentId};
use crate::services::exports::{
    self, Export, ExportField, ExportRequest, ExportSource, ExportStatus,
};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(request_export))
        .routes(routes!(get_export))
        .routes(routes!(export_file))
}

fn export_id(raw: &str) -> Result<ExportId, ApiError> {
    ExportId::parse(raw).map_err(|_| ApiError::NotFound("export"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExport {
    /// The columns, in order; every field when absent.
    pub fields: Option<Vec<ExportField>>,
    /// Custom attributes (by name), as columns after the fields.
    pub attributes: Option<Vec<String>>,
    /// Only the members of this list.
    pub list_id: Option<String>,
    /// Only the contacts this segment matches when the export runs.
    pub segment_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportView {
    pub id: String,
    pub fields: Vec<ExportField>,
    pub attributes: Vec<String>,
    /// The list exported, if one was.
    pub list_id: Option<String>,
    /// The segment exported, if one was.
    pub segment_id: Option<String>,
    pub status: ExportStatus,
    pub rows: u64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Export> for ExportView {
    fn from(e: Export) -> Self {
        Self {
            id: e.id.to_string(),
            fields: e.fields,
            attributes: e.attributes.iter().map(|a| a.to_string()).collect(),
            list_id: match &e.source {
                Some(ExportSource::List(id)) => Some(id.to_string()),
                _ => None,
            },
            segment_id: match &e.source {
                Some(ExportSource::Segment(id)) => Some(id.to_string()),
                _ => None,
            },
            status: e.status,
            rows: e.rows,
            error: e.error,
            created_at: e.created_at,
            finished_at: e.finished_at,
        }
    }
}

/// A short-lived link to an export's file.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FileLink {
    /// GET it for the CSV (UTF-8 with BOM, `;`, for German Excel).
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Requests an export of the tenant's contacts; it runs in the background.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/exports", tag = "exports",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = NewExport,
    responses(
        (status = 202, description = "Queued", body = ExportView),
        (status = 400, description = "A field is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn request_export(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewExport>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<ExportView>), ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let fields = body.fields.unwrap_or_else(|| ExportField::ALL.to_vec());
    let source = match (body.list_id, body.segment_id) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "segment_id",
                "name a list or a segment, not both",
            ));
        }
        (Some(list), None) => {
            Some(ExportSource::List(ListId::parse(&list).map_err(|_| {
                ApiError::bad_request("list_id", "no list with this id")
            })?))
        }
        (None, Some(segment)) => Some(ExportSource::Segment(
            SegmentId::parse(&segment)
                .map_err(|_| ApiError::bad_request("segment_id", "no segment with this id"))?,
        )),
        (None, None) => None,
    };
    let wanted = ExportRequest {
        fields,
        attributes: body.attributes.unwrap_or_default(),
        source,
    };
    let export = exports::request_from(&app, &tenant, principal.user_id, wanted).await?;
    Ok((
        StatusCode::ACCEPTED,
        [(super::access::AUDIT_OBJECT, export.id.to_string())],
        Json(export.into()),
    ))
}

/// One export, with its status.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/exports/{export_id}", tag = "exports",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("export_id" = String, Path, description = "The export"),
    ),
    responses(
        (status = 200, description = "The export", body = ExportView),
        (status = 404, description = "No such tenant or export", body = super::Problem),
    ))]
async fn get_export(
    State(app): State<App>,
    Path((tenant, export)): Path<(String, String)>,
) -> Result<Json<ExportView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let export = export_id(&export)?;
    Ok(Json(exports::get(&app, &tenant, &export).await?.into()))
}

/// A short-lived download link to a finished export's file.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/exports/{export_id}/file", tag = "exports",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("export_id" = String, Path, description = "The export"),
    ),
    responses(
        (status = 200, description = "The download link", body = FileLink),
        (status = 404, description = "No such tenant or export", body = super::Problem),
        (status = 409, description = "Not finished yet", body = super::Problem),
    ))]
async fn export_file(
    State(app): State<App>,
    Path((tenant, export)): Path<(String, String)>,
) -> Result<Json<FileLink>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let export = export_id(&export)?;
    let link = exports::link(&app, &tenant, &export).await?;
    Ok(Json(FileLink {
        url: link.url,
        expires_at: link.expires_at,
    }))
}
