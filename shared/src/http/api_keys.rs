//! API keys of a tenant (for integrations): a tenant admin lists them,
//! creates one (the whole key is in that answer only) and revokes one.
//! Integrations send the key as `Authorization: Bearer emma_...`.

use axum::Extension;
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
use crate::domain::{Principal, Role};
use crate::services::api_keys::{self, ApiKey, ApiKeyId, ApiKeyName};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}

/// A key as listed: never its secret, nor the secret's hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The user who created the key.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// To the minute: written at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name.as_str().to_owned(),
            role: k.role,
            created_by: k.created_by.to_string(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyBody {
    /// A label, e.g. "CRM-Anbindung": 1 to 100 characters.
    #[schema(value_type = String)]
    pub name: ApiKeyName,
    /// A tenant role: `tenant_admin`, `editor` or `viewer`.
    pub role: Role,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    /// The whole key, shown this once (only its hash is kept): send it as
    /// `Authorization: Bearer <token>`.
    pub token: String,
}

fn key_id(raw: &str) -> Result<ApiKeyId, ApiError> {
    ApiKeyId::parse(raw).ok_or(ApiError::NotFound("API key"))
}

/// The tenant's API keys, revoked ones included, oldest first.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/api-keys", tag = "api-keys",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The keys, without secrets", body = Vec<ApiKeyView>),
        (status = 403, description = "Not allowed", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn list_api_keys(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<ApiKeyView>>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let found = api_keys::list(&app, &tenant).await?;
    Ok(Json(found.iter().map(ApiKeyView::from).collect()))
}

/// Creates a key with a tenant role; the answer holds the whole key once.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/api-keys", tag = "api-keys",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = NewApiKeyBody,
    responses(
        (status = 201, description = "Created; the key is shown this once", body = CreatedApiKey),
        (status = 400, description = "A field is invalid (e.g. a platform role)", body = super::Problem),
        (status = 403, description = "Not allowed", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn create_api_key(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewApiKeyBody>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<CreatedApiKey>), ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let (key, token) = api_keys::create(&app, &principal, &tenant, body.name, body.role).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, key.id.to_string())],
        Json(CreatedApiKey {
            key: ApiKeyView::from(&key),
            token: token.into_string(),
        }),
    ))
}

/// Revokes a key: it is refused from now on; the record stays, marked.
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/api-keys/{key_id}", tag = "api-keys",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("key_id" = String, Path, description = "The key's id (the part after `emma_`)"),
    ),
    responses(
        (status = 204, description = "Revoked (or revoked already)"),
        (status = 403, description = "Not allowed", body = super::Problem),
        (status = 404, description = "No such key", body = super::Problem),
    ))]
async fn revoke_api_key(
    State(app): State<App>,
    Path((tenant, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let id = key_id(&key)?;
    api_keys::revoke(&app, &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
