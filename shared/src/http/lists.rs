//! List routes of a tenant (Verteiler): create, read with the live member
//! count, rename, delete; add, remove and page through members.

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
use crate::domain::{ContactId, ListId};
use crate::ports::store::Cursor;
use crate::services::lists::{self, List};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_list, all_lists))
        .routes(routes!(get_list, rename_list, delete_list))
        .routes(routes!(list_members))
        .routes(routes!(add_member, remove_member))
}

fn list_id(raw: &str) -> Result<ListId, ApiError> {
    ListId::parse(raw).map_err(|_| ApiError::NotFound("list"))
}

fn contact_id(raw: &str) -> Result<ContactId, ApiError> {
    ContactId::parse(raw).map_err(|_| ApiError::NotFound("contact"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListName {
    #[schema(example = "Newsletter Privatkunden")]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListView {
    pub id: String,
    pub name: String,
    /// The live member count.
    pub members: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<List> for ListView {
    fn from(l: List) -> Self {
        Self {
            id: l.id.to_string(),
            name: l.name,
            members: l.members,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListsView {
    pub lists: Vec<ListView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberPage {
    pub contacts: Vec<ContactView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MemberParams {
    /// 1 to 200; 50 when absent.
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// Creates a list.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/lists", tag = "lists",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = ListName,
    responses(
        (status = 201, description = "Created", body = ListView),
        (status = 400, description = "The name is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn create_list(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<ListName>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<ListView>), ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let list = lists::create(&app, &tenant, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, list.id.to_string())],
        Json(list.into()),
    ))
}

/// Every list of the tenant, with its member count.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/lists", tag = "lists",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The lists", body = ListsView),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn all_lists(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Json<ListsView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    Ok(Json(ListsView {
        lists: lists::all(&app, &tenant)
            .await?
            .into_iter()
            .map(ListView::from)
            .collect(),
    }))
}

/// One list.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/lists/{list_id}", tag = "lists",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("list_id" = String, Path, description = "The list"),
    ),
    responses(
        (status = 200, description = "The list", body = ListView),
        (status = 404, description = "No such tenant or list", body = super::Problem),
    ))]
async fn get_list(
    State(app): State<App>,
    Path((tenant, list)): Path<(String, String)>,
) -> Result<Json<ListView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let list = list_id(&list)?;
    Ok(Json(lists::get(&app, &tenant, &list).await?.into()))
}

/// Renames a list.
#[utoipa::path(patch, path = "/api/tenants/{tenant_id}/lists/{list_id}", tag = "lists",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("list_id" = String, Path, description = "The list"),
    ),
    request_body = ListName,
    responses(
        (status = 200, description = "Renamed", body = ListView),
        (status = 400, description = "The name is invalid", body = super::Problem),
        (status = 404, description = "No such tenant or list", body = super::Problem),
    ))]
async fn rename_list(
    State(app): State<App>,
    Path((tenant, list)): Path<(String, String)>,
    ApiJson(body): ApiJson<ListName>,
) -> Result<Json<ListView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let list = list_id(&list)?;
    Ok(Json(
        lists::rename(&app, &tenant, &list, &body.name)
            .await?
            .into(),
    ))
}

/// Deletes a list and its memberships (the contacts stay).
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/lists/{list_id}", tag = "lists",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("list_id" = String, Path, description = "The list"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such tenant or list", body = super::Problem),
    ))]
async fn delete_list(
    State(app): State<App>,
    Path((tenant, list)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let list = list_id(&list)?;
    lists::delete(&app, &tenant, &list).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One page of the list's members.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/lists/{list_id}/members", tag = "lists",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("list_id" = String, Path, description = "The list"),
        MemberParams,
    ),
    responses(
        (status = 200, description = "A page of members", body = MemberPage),
        (status = 404, description = "No such tenant or list", body = super::Problem),
    ))]
async fn list_members(
    State(app): State<App>,
    Path((tenant, list)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<MemberParams>,
) -> Result<Json<MemberPage>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let list = list_id(&list)?;
    let limit = super::page_limit(params.limit.as_deref(), 50, 200)?;
    let cursor = params.cursor.map(Cursor::from_client);
    let (contacts, next) = lists::members(&app, &tenant, &list, limit, cursor).await?;
    let definitions = crate::services::attributes::list(&app, &tenant).await?;
    Ok(Json(MemberPage {
        contacts: contacts
            .into_iter()
            .map(|c| ContactView::with_definitions(c, &definitions))
            .collect(),
        next_cursor: next.map(|c| c.as_str().to_owned()),
    }))
}

/// Adds a contact to the list (adding a member again changes nothing).
#[utoipa::path(put, path = "/api/tenants/{tenant_id}/lists/{list_id}/members/{contact_id}", tag = "lists",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("list_id" = String, Path, description = "The list"),
        ("contact_id" = String, Path, description = "The contact"),
    ),
    responses(
        (status = 204, description = "A member"),
        (status = 404, description = "No such tenant, list or contact", body = super::Problem),
    ))]
async fn add_member(
    State(app): State<App>,
    Path((tenant, list, contact)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let list = list_id(&list)?;
    let contact = contact_id(&contact)?;
    lists::add_member(&app, &tenant, &list, &contact).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a contact from the list (removing a non-member changes nothing).
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/lists/{list_id}/members/{contact_id}", tag = "lists",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("list_id" = String, Path, description = "The list"),
        ("contact_id" = String, Path, description = "The contact"),
    ),
    responses(
        (status = 204, description = "Not a member"),
        (status = 404, description = "No such tenant or list", body = super::Problem),
    ))]
async fn remove_member(
    State(app): State<App>,
    Path((tenant, list, contact)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let list = list_id(&list)?;
    let contact = contact_id(&contact)?;
    lists::remove_member(&app, &tenant, &list, &contact).await?;
    Ok(StatusCode::NO_CONTENT)
}
