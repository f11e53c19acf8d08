//! The data subject's right of access over the API (GDPR Art. 15): one
//! contact's data as a JSON download.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiError;
use crate::App;
use crate::domain::ContactId;
use crate::services::gdpr::{self, ContactData};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(contact_data))
}

/// The name of the downloaded file.
pub fn file_name(contact: &ContactId) -> String {
    format!("auskunft-{contact}.json")
}

/// Everything stored about one contact (GDPR Art. 15) as a JSON
/// attachment: the contact with its custom attributes, its lists, its
/// suppression entry, its delivery events and its consent evidence.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/contacts/{contact_id}/data", tag = "contacts",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("contact_id" = String, Path, description = "The contact"),
    ),
    responses(
        (status = 200, description = "The contact's data", body = ContactData),
        (status = 404, description = "No such tenant or contact (also: erased)", body = super::Problem),
    ))]
async fn contact_data(
    State(app): State<App>,
    Path((tenant, contact)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let contact = ContactId::parse(&contact).map_err(|_| ApiError::NotFound("contact"))?;
    let data = gdpr::contact_data(&app, &tenant, &contact).await?;
    let body = serde_json::to_vec_pretty(&data).map_err(|e| ApiError::Internal(e.to_string()))?;
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file_name(&contact)))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}
