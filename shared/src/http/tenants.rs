//! Tenant administration for the platform: the operator creates, renames,
//! suspends, resumes and configures tenants; product admins read them.

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
use crate::domain::{Tenant, TenantName, TenantSettings, TenantStatus};
use crate::services::tenants::{self, TenantChange};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(get_tenant, update_tenant))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub status: TenantStatus,
    pub created_at: DateTime<Utc>,
    pub settings: TenantSettings,
}

impl From<Tenant> for TenantView {
    fn from(t: Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.as_str().to_owned(),
            status: t.status,
            created_at: t.created_at,
            settings: t.settings,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    #[schema(value_type = String, example = "Sparkasse Musterstadt")]
    pub name: TenantName,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    #[schema(value_type = Option<String>)]
    pub name: Option<TenantName>,
    /// `suspended` stops sign-in and sending; `active` resumes.
    pub status: Option<TenantStatus>,
    pub settings: Option<TenantSettings>,
}

/// Checks settings an operator enters: domains and the sender name.
pub(crate) fn check_settings(settings: &TenantSettings) -> Result<(), ApiError> {
    for domain in &settings.sender_domains {
        let probe = format!("probe@{domain}");
        let ok = crate::domain::EmailAddress::parse(&probe).is_ok_and(|a| a.domain() == domain);
        if !ok {
            return Err(ApiError::bad_request(
                "settings.sender_domains",
                format!("'{domain}' is not a domain name in lower case"),
            ));
        }
    }
    if let Some(name) = &settings.default_from_name
        && (name.chars().count() > 100 || name.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "settings.default_from_name",
            "at most 100 characters, no control characters",
        ));
    }
    for (field, days) in [
        (
            "settings.audit_retention_days",
            settings.audit_retention_days,
        ),
        (
            "settings.unconfirmed_contact_retention_days",
            settings.unconfirmed_contact_retention_days,
        ),
    ] {
        if !(1..=3650).contains(&days) {
            return Err(ApiError::bad_request(
                field,
                "a number of days from 1 to 3650",
            ));
        }
    }
    Ok(())
}

/// Every tenant.
#[utoipa::path(get, path = "/api/platform/tenants", tag = "platform",
    responses((status = 200, description = "The tenants", body = Vec<TenantView>)))]
async fn list_tenants(State(app): State<App>) -> Result<Json<Vec<TenantView>>, ApiError> {
    let tenants = tenants::list(&app).await?;
    Ok(Json(tenants.into_iter().map(TenantView::from).collect()))
}

/// Registers a new tenant.
#[utoipa::path(post, path = "/api/platform/tenants", tag = "platform",
    request_body = NewTenant,
    responses(
        (status = 201, description = "Created", body = TenantView),
        (status = 400, description = "The name is invalid", body = super::Problem),
    ))]
async fn create_tenant(
    State(app): State<App>,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<TenantView>), ApiError> {
    let tenant = tenants::create(&app, body.name).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, tenant.id.to_string())],
        Json(tenant.into()),
    ))
}

/// One tenant and its settings.
#[utoipa::path(get, path = "/api/platform/tenants/{tenant_id}", tag = "platform",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn get_tenant(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(
        tenants::get(&app, &super::path_tenant(&tenant)?)
            .await?
            .into(),
    ))
}

/// Renames, suspends, resumes or configures a tenant.
#[utoipa::path(patch, path = "/api/platform/tenants/{tenant_id}", tag = "platform",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = TenantPatch,
    responses(
        (status = 200, description = "Changed", body = TenantView),
        (status = 400, description = "A field is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn update_tenant(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(patch): ApiJson<TenantPatch>,
) -> Result<Json<TenantView>, ApiError> {
    if let Some(settings) = &patch.settings {
        check_settings(settings)?;
    }
    let change = TenantChange {
        name: patch.name,
        status: patch.status,
        settings: patch.settings,
    };
    Ok(Json(
        tenants::update(&app, &super::path_tenant(&tenant)?, change)
            .await?
            .into(),
    ))
}
