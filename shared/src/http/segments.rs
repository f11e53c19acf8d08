//! Segment routes of a tenant: saved filters over its contacts — create,
//! read, change, delete; the live count of a saved segment or of a filter
//! being edited; and the matching contacts page by page.
//!
//! A count is a pass over all the tenant's contacts; it is kept for a
//! minute per filter (the answer's `counted_at` says when it was taken),
//! see `services::segments`. A change carries the `version` it was made
//! on, and one made on an older version is refused with 409.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contacts::ContactView;
use super::{ApiError, ApiJson, ApiQuery};
use crate::App;
use crate::domain::SegmentId;
use crate::ports::store::Cursor;
use crate::services::segments::{self, Segment, SegmentFilter};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_segment, all_segments))
        .routes(routes!(count_filter))
        .routes(routes!(get_segment, update_segment, delete_segment))
        .routes(routes!(count_segment))
        .routes(routes!(segment_contacts))
}

fn segment_id(raw: &str) -> Result<SegmentId, ApiError> {
    SegmentId::parse(raw).map_err(|_| ApiError::NotFound("segment"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSegment {
    #[schema(example = "Privatkunden mit Newsletter")]
    pub name: String,
    pub filter: SegmentFilter,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentChange {
    /// A new name; the old one stays when absent.
    pub name: Option<String>,
    /// A new filter; the old one stays when absent.
    pub filter: Option<SegmentFilter>,
    /// The `version` of the segment as read. When given, a segment changed
    /// since is refused with 409 instead of overwritten.
    #[schema(example = "5f1c2a9e0b7d4c13")]
    pub version: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentView {
    pub id: String,
    pub name: String,
    pub filter: SegmentFilter,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The version read: send it back with a change (an opaque token).
    pub version: String,
}

impl From<Segment> for SegmentView {
    fn from(s: Segment) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name,
            filter: s.filter,
            created_at: s.created_at,
            updated_at: s.updated_at,
            version: s.version,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentsView {
    pub segments: Vec<SegmentView>,
}

/// How many contacts match: counted by one pass over the tenant's
/// contacts, and kept for a minute per filter.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentCount {
    pub count: u64,
    /// When the count was taken (at most a minute ago).
    pub counted_at: DateTime<Utc>,
}

impl From<segments::Counted> for SegmentCount {
    fn from(c: segments::Counted) -> Self {
        Self {
            count: c.count,
            counted_at: c.counted_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SegmentContactsPage {
    pub contacts: Vec<ContactView>,
    /// More may follow; a page may hold fewer contacts than asked (even
    /// none) while a cursor follows.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ContactsParams {
    /// 1 to 200; 50 when absent.
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// Saves a segment (a filter over the tenant's contacts).
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/segments", tag = "segments",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = NewSegment,
    responses(
        (status = 201, description = "Created", body = SegmentView),
        (status = 400, description = "The name or a condition is invalid (`field` names it, e.g. `conditions[2].value`)", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn create_segment(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewSegment>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<SegmentView>), ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let segment = segments::create(&app, &tenant, &body.name, body.filter).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, segment.id.to_string())],
        Json(segment.into()),
    ))
}

/// Every segment of the tenant, oldest first.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/segments", tag = "segments",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The segments", body = SegmentsView),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn all_segments(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Json<SegmentsView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    Ok(Json(SegmentsView {
        segments: segments::all(&app, &tenant)
            .await?
            .into_iter()
            .map(SegmentView::from)
            .collect(),
    }))
}

/// Counts the contacts a filter matches, without saving it: the live count
/// while a segment is edited.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/segments/count", tag = "segments",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = SegmentFilter,
    responses(
        (status = 200, description = "The count", body = SegmentCount),
        (status = 400, description = "A condition is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn count_filter(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(filter): ApiJson<SegmentFilter>,
) -> Result<Json<SegmentCount>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    Ok(Json(segments::count(&app, &tenant, &filter).await?.into()))
}

/// One segment.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/segments/{segment_id}", tag = "segments",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("segment_id" = String, Path, description = "The segment"),
    ),
    responses(
        (status = 200, description = "The segment", body = SegmentView),
        (status = 404, description = "No such tenant or segment", body = super::Problem),
    ))]
async fn get_segment(
    State(app): State<App>,
    Path((tenant, segment)): Path<(String, String)>,
) -> Result<Json<SegmentView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let segment = segment_id(&segment)?;
    Ok(Json(segments::get(&app, &tenant, &segment).await?.into()))
}

/// Renames a segment or replaces its filter.
#[utoipa::path(patch, path = "/api/tenants/{tenant_id}/segments/{segment_id}", tag = "segments",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("segment_id" = String, Path, description = "The segment"),
    ),
    request_body = SegmentChange,
    responses(
        (status = 200, description = "Changed", body = SegmentView),
        (status = 400, description = "The name or a condition is invalid", body = super::Problem),
        (status = 404, description = "No such tenant or segment", body = super::Problem),
        (status = 409, description = "Changed since the `version` sent (or meanwhile)", body = super::Problem),
    ))]
async fn update_segment(
    State(app): State<App>,
    Path((tenant, segment)): Path<(String, String)>,
    ApiJson(body): ApiJson<SegmentChange>,
) -> Result<Json<SegmentView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let segment = segment_id(&segment)?;
    Ok(Json(
        segments::update(
            &app,
            &tenant,
            &segment,
            body.name.as_deref(),
            body.filter,
            body.version.as_deref(),
        )
        .await?
        .into(),
    ))
}

/// Deletes a segment (the contacts stay).
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/segments/{segment_id}", tag = "segments",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("segment_id" = String, Path, description = "The segment"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such tenant or segment", body = super::Problem),
    ))]
async fn delete_segment(
    State(app): State<App>,
    Path((tenant, segment)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let segment = segment_id(&segment)?;
    segments::delete(&app, &tenant, &segment).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many contacts a saved segment matches now.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/segments/{segment_id}/count", tag = "segments",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("segment_id" = String, Path, description = "The segment"),
    ),
    responses(
        (status = 200, description = "The count", body = SegmentCount),
        (status = 400, description = "A list or attribute the segment names is gone", body = super::Problem),
        (status = 404, description = "No such tenant or segment", body = super::Problem),
    ))]
async fn count_segment(
    State(app): State<App>,
    Path((tenant, segment)): Path<(String, String)>,
) -> Result<Json<SegmentCount>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let segment = segment_id(&segment)?;
    Ok(Json(
        segments::count_saved(&app, &tenant, &segment).await?.into(),
    ))
}

/// One page of the contacts a saved segment matches, in name order.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/segments/{segment_id}/contacts", tag = "segments",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("segment_id" = String, Path, description = "The segment"),
        ContactsParams,
    ),
    responses(
        (status = 200, description = "A page of contacts", body = SegmentContactsPage),
        (status = 400, description = "A bad limit or cursor", body = super::Problem),
        (status = 404, description = "No such tenant or segment", body = super::Problem),
    ))]
async fn segment_contacts(
    State(app): State<App>,
    Path((tenant, segment)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<ContactsParams>,
) -> Result<Json<SegmentContactsPage>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let segment = segment_id(&segment)?;
    let limit = super::page_limit(params.limit.as_deref(), 50, 200)?;
    let cursor = params.cursor.map(Cursor::from_client);
    let saved = segments::get(&app, &tenant, &segment).await?;
    let (contacts, next) = segments::members(&app, &tenant, &saved.filter, limit, cursor).await?;
    let definitions = crate::services::attributes::list(&app, &tenant).await?;
    Ok(Json(SegmentContactsPage {
        contacts: contacts
            .into_iter()
            .map(|c| ContactView::with_definitions(c, &definitions))
            .collect(),
        next_cursor: next.map(|c| c.as_str().to_owned()),
    }))
}
