//! Attribute routes of a tenant: the custom contact fields it defines —
//! list, define, relabel, delete. Values are read and written with the
//! contacts themselves (`attributes` in the contact routes).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson};
use crate::App;
use crate::domain::{AttributeDefinition, AttributeKind, AttributeName};
use crate::services::attributes;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_attributes, create_attribute))
        .routes(routes!(relabel_attribute, delete_attribute))
}

/// The attribute named in a path: a name that cannot exist is simply not
/// found.
fn attribute_name(raw: &str) -> Result<AttributeName, ApiError> {
    AttributeName::parse(raw).map_err(|_| ApiError::NotFound("attribute"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttribute {
    /// 1 to 40 lower-case letters, digits or `_`, starting with a letter;
    /// not a standard field's name. Fixed once defined.
    #[schema(example = "kundennummer")]
    pub name: String,
    /// What the UI shows; 1 to 100 characters.
    #[schema(example = "Kundennummer")]
    pub label: String,
    /// Fixed once defined.
    pub kind: AttributeKind,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeLabel {
    #[schema(example = "Kundennummer (Kernbank)")]
    pub label: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttributeView {
    pub name: String,
    pub label: String,
    pub kind: AttributeKind,
    pub created_at: DateTime<Utc>,
}

impl From<AttributeDefinition> for AttributeView {
    fn from(d: AttributeDefinition) -> Self {
        Self {
            name: d.name.to_string(),
            label: d.label,
            kind: d.kind,
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttributesView {
    pub attributes: Vec<AttributeView>,
}

/// Every attribute the tenant defined, by name.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/attributes", tag = "attributes",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The definitions", body = AttributesView),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn list_attributes(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Json<AttributesView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    Ok(Json(AttributesView {
        attributes: attributes::list(&app, &tenant)
            .await?
            .into_iter()
            .map(AttributeView::from)
            .collect(),
    }))
}

/// Defines an attribute.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/attributes", tag = "attributes",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = NewAttribute,
    responses(
        (status = 201, description = "Defined", body = AttributeView),
        (status = 400, description = "A field is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
        (status = 409, description = "The name is taken", body = super::Problem),
        (status = 422, description = "The institute has the most attributes it may define", body = super::Problem),
    ))]
async fn create_attribute(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewAttribute>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<AttributeView>), ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let definition = attributes::create(&app, &tenant, &body.name, &body.label, body.kind).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, definition.name.to_string())],
        Json(definition.into()),
    ))
}

/// Gives an attribute another label (name and kind stay).
#[utoipa::path(patch, path = "/api/tenants/{tenant_id}/attributes/{attribute_name}", tag = "attributes",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("attribute_name" = String, Path, description = "The attribute's name"),
    ),
    request_body = AttributeLabel,
    responses(
        (status = 200, description = "Relabelled", body = AttributeView),
        (status = 400, description = "The label is invalid", body = super::Problem),
        (status = 404, description = "No such tenant or attribute", body = super::Problem),
        (status = 409, description = "Changed meanwhile", body = super::Problem),
    ))]
async fn relabel_attribute(
    State(app): State<App>,
    Path((tenant, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<AttributeLabel>,
) -> Result<Json<AttributeView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let name = attribute_name(&name)?;
    Ok(Json(
        attributes::relabel(&app, &tenant, &name, &body.label)
            .await?
            .into(),
    ))
}

/// Deletes an attribute. Values contacts hold for it are no longer shown,
/// exported or checked, and are dropped at the contact's next attribute
/// change.
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/attributes/{attribute_name}", tag = "attributes",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("attribute_name" = String, Path, description = "The attribute's name"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such tenant or attribute", body = super::Problem),
    ))]
async fn delete_attribute(
    State(app): State<App>,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let name = attribute_name(&name)?;
    attributes::delete(&app, &tenant, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
