//! The suppression list routes of a tenant (Sperrliste): read it, add an
//! address by hand, remove one added by hand; and erasing a contact.

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
use crate::domain::{ContactId, EmailAddress, Principal};
use crate::ports::store::Cursor;
use crate::services::contacts;
use crate::services::suppressions::{self, Suppression, SuppressionReason};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_suppressions, add_suppression))
        .routes(routes!(remove_suppression))
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
