//! Template routes of a tenant (Vorlagen): create, read, save a new
//! version, list and read versions, delete, and preview (a saved version or
//! an unsaved draft) as any contact, with the content checks.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiQuery};
use crate::App;
use crate::content::checks::Finding;
use crate::content::template::{TemplateKind, TemplateSource};
use crate::domain::{ContactId, TemplateId};
use crate::services::templates::{self, Preview, Template, Version};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_template, all_templates))
        .routes(routes!(preview_draft))
        .routes(routes!(get_template, save_template, delete_template))
        .routes(routes!(all_versions))
        .routes(routes!(get_version))
        .routes(routes!(preview_saved))
        .routes(routes!(test_send))
}

fn template_id(raw: &str) -> Result<TemplateId, ApiError> {
    TemplateId::parse(raw).map_err(|_| ApiError::NotFound("template"))
}

fn contact_id(raw: &str) -> Result<ContactId, ApiError> {
    ContactId::parse(raw)
        .map_err(|_| ApiError::bad_request("contact_id", "no contact with this id"))
}

/// A template as the editor writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    #[schema(example = "Newsletter Dezember")]
    pub name: String,
    pub kind: TemplateKind,
    /// One line; merge fields allowed.
    #[schema(example = "{{ contact.first_name | default(\"Ihr\") }} Dezember-Newsletter")]
    pub subject: String,
    /// MJML or HTML; must read `{{ unsubscribe_url }}` to be sent.
    pub body: String,
    /// The plain-text part; derived from the HTML when absent or empty.
    pub text: Option<String>,
    /// The version this save is based on: when given and no longer the
    /// current one, the save is refused (409) instead of overwriting.
    pub based_on: Option<u32>,
}

impl TemplateBody {
    fn source(&self) -> TemplateSource {
        TemplateSource {
            kind: self.kind,
            subject: self.subject.clone(),
            body: self.body.clone(),
            text: self.text.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateView {
    pub id: String,
    pub name: String,
    pub kind: TemplateKind,
    /// The current (newest) version.
    pub current_version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Template> for TemplateView {
    fn from(t: Template) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            kind: t.kind,
            current_version: t.current,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// One saved version with its content.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionView {
    pub number: u32,
    pub kind: TemplateKind,
    pub subject: String,
    pub body: String,
    /// The written text part; absent when it is derived from the HTML.
    pub text: Option<String>,
    pub saved_at: DateTime<Utc>,
}

impl From<Version> for VersionView {
    fn from(v: Version) -> Self {
        Self {
            number: v.number,
            kind: v.source.kind,
            subject: v.source.subject,
            body: v.source.body,
            text: v.source.text,
            saved_at: v.saved_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateWithVersion {
    pub template: TemplateView,
    pub version: VersionView,
}

impl From<(Template, Version)> for TemplateWithVersion {
    fn from((template, version): (Template, Version)) -> Self {
        Self {
            template: template.into(),
            version: version.into(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplatesView {
    pub templates: Vec<TemplateView>,
}

/// A version in the list: when it was saved.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionSummary {
    pub number: u32,
    pub subject: String,
    pub saved_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionsView {
    /// Newest first.
    pub versions: Vec<VersionSummary>,
}

/// The message as one contact would get it, and what the checks found.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Errors block scheduling; warnings are shown.
    pub findings: Vec<Finding>,
}

impl From<Preview> for PreviewView {
    fn from(p: Preview) -> Self {
        Self {
            subject: p.rendered.subject,
            html: p.rendered.html,
            text: p.rendered.text,
            findings: p.findings,
        }
    }
}

/// An unsaved template to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftPreview {
    pub kind: TemplateKind,
    pub subject: String,
    pub body: String,
    pub text: Option<String>,
    /// The contact to render for; a sample contact when absent.
    pub contact_id: Option<String>,
}

/// A test send of a template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSendBody {
    /// 1 to 10 addresses.
    #[schema(example = json!(["redaktion@sparkasse.example"]))]
    pub addresses: Vec<String>,
    /// The version to send; the current one when absent.
    pub version: Option<u32>,
    /// The contact to render for; a sample contact when absent.
    pub contact_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TestSentView {
    pub to: String,
    /// The Message-ID header of the sent message.
    pub message_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TestSendView {
    pub sent: Vec<TestSentView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PreviewParams {
    /// The version to preview; the current one when absent.
    pub version: Option<u32>,
    /// The contact to render for; a sample contact when absent.
    pub contact_id: Option<String>,
}

/// Creates a template with its first version (refused when it does not
/// compile: the problem names part, line and column).
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/templates", tag = "templates",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = TemplateBody,
    responses(
        (status = 201, description = "Created", body = TemplateWithVersion),
        (status = 400, description = "The template is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn create_template(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Result<
    (
        StatusCode,
        [(&'static str, String); 1],
        Json<TemplateWithVersion>,
    ),
    ApiError,
> {
    let tenant = super::path_tenant(&tenant)?;
    let created = templates::create(&app, &tenant, &body.name, body.source()).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, created.0.id.to_string())],
        Json(created.into()),
    ))
}

/// Every template of the tenant.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/templates", tag = "templates",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The templates", body = TemplatesView),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn all_templates(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Json<TemplatesView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    Ok(Json(TemplatesView {
        templates: templates::all(&app, &tenant)
            .await?
            .into_iter()
            .map(TemplateView::from)
            .collect(),
    }))
}

/// Renders an unsaved template for a contact (nothing is stored).
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/templates/preview", tag = "templates",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = DraftPreview,
    responses(
        (status = 200, description = "The rendered message and the checks", body = PreviewView),
        (status = 400, description = "The template is invalid", body = super::Problem),
        (status = 404, description = "No such tenant or contact", body = super::Problem),
    ))]
async fn preview_draft(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<DraftPreview>,
) -> Result<Json<PreviewView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let contact = body.contact_id.as_deref().map(contact_id).transpose()?;
    let source = TemplateSource {
        kind: body.kind,
        subject: body.subject,
        body: body.body,
        text: body.text.filter(|t| !t.trim().is_empty()),
    };
    let preview = templates::preview(&app, &tenant, &source, contact.as_ref()).await?;
    Ok(Json(preview.into()))
}

/// A template with its current version.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/templates/{template_id}", tag = "templates",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("template_id" = String, Path, description = "The template"),
    ),
    responses(
        (status = 200, description = "The template", body = TemplateWithVersion),
        (status = 404, description = "No such tenant or template", body = super::Problem),
    ))]
async fn get_template(
    State(app): State<App>,
    Path((tenant, template)): Path<(String, String)>,
) -> Result<Json<TemplateWithVersion>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let template = template_id(&template)?;
    Ok(Json(
        templates::version(&app, &tenant, &template, None)
            .await?
            .into(),
    ))
}

/// Saves a new version; the previous ones are kept unchanged.
#[utoipa::path(put, path = "/api/tenants/{tenant_id}/templates/{template_id}", tag = "templates",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("template_id" = String, Path, description = "The template"),
    ),
    request_body = TemplateBody,
    responses(
        (status = 200, description = "Saved as a new version", body = TemplateWithVersion),
        (status = 400, description = "The template is invalid", body = super::Problem),
        (status = 404, description = "No such tenant or template", body = super::Problem),
        (status = 409, description = "Another version was saved meanwhile", body = super::Problem),
    ))]
async fn save_template(
    State(app): State<App>,
    Path((tenant, template)): Path<(String, String)>,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Result<Json<TemplateWithVersion>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let template = template_id(&template)?;
    let saved = templates::save(
        &app,
        &tenant,
        &template,
        &body.name,
        body.source(),
        body.based_on,
    )
    .await?;
    Ok(Json(saved.into()))
}

/// Deletes a template with all its versions.
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/templates/{template_id}", tag = "templates",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("template_id" = String, Path, description = "The template"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such tenant or template", body = super::Problem),
    ))]
async fn delete_template(
    State(app): State<App>,
    Path((tenant, template)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let template = template_id(&template)?;
    templates::delete(&app, &tenant, &template).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The saved versions of a template, newest first.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/templates/{template_id}/versions", tag = "templates",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("template_id" = String, Path, description = "The template"),
    ),
    responses(
        (status = 200, description = "The versions", body = VersionsView),
        (status = 404, description = "No such tenant or template", body = super::Problem),
    ))]
async fn all_versions(
    State(app): State<App>,
    Path((tenant, template)): Path<(String, String)>,
) -> Result<Json<VersionsView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let template = template_id(&template)?;
    Ok(Json(VersionsView {
        versions: templates::versions(&app, &tenant, &template)
            .await?
            .into_iter()
            .map(|v| VersionSummary {
                number: v.number,
                subject: v.source.subject,
                saved_at: v.saved_at,
            })
            .collect(),
    }))
}

/// One saved version, exactly as it was saved.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/templates/{template_id}/versions/{version}", tag = "templates",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("template_id" = String, Path, description = "The template"),
        ("version" = u32, Path, description = "The version number"),
    ),
    responses(
        (status = 200, description = "The version", body = TemplateWithVersion),
        (status = 404, description = "No such tenant, template or version", body = super::Problem),
    ))]
async fn get_version(
    State(app): State<App>,
    Path((tenant, template, version)): Path<(String, String, String)>,
) -> Result<Json<TemplateWithVersion>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let template = template_id(&template)?;
    let number = version
        .parse::<u32>()
        .map_err(|_| ApiError::NotFound("version"))?;
    Ok(Json(
        templates::version(&app, &tenant, &template, Some(number))
            .await?
            .into(),
    ))
}

/// Renders a saved version for a contact, with the content checks.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/templates/{template_id}/preview", tag = "templates",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("template_id" = String, Path, description = "The template"),
        PreviewParams,
    ),
    responses(
        (status = 200, description = "The rendered message and the checks", body = PreviewView),
        (status = 404, description = "No such tenant, template, version or contact", body = super::Problem),
    ))]
async fn preview_saved(
    State(app): State<App>,
    Path((tenant, template)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<PreviewParams>,
) -> Result<Json<PreviewView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let template = template_id(&template)?;
    let contact = params.contact_id.as_deref().map(contact_id).transpose()?;
    let (_, version) = templates::version(&app, &tenant, &template, params.version).await?;
    let preview = templates::preview(&app, &tenant, &version.source, contact.as_ref()).await?;
    Ok(Json(preview.into()))
}

/// Sends a version as a test ("[Test]" before the subject, not tracked, an
/// unsubscribe link that names nobody) to up to ten addresses.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/templates/{template_id}/test-send", tag = "templates",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("template_id" = String, Path, description = "The template"),
    ),
    request_body = TestSendBody,
    responses(
        (status = 200, description = "Sent", body = TestSendView),
        (status = 400, description = "No address, more than ten, or one that is not an address", body = super::Problem),
        (status = 404, description = "No such tenant, template, version or contact", body = super::Problem),
        (status = 422, description = "The mail service refused the message", body = super::Problem),
    ))]
async fn test_send(
    State(app): State<App>,
    Path((tenant, template)): Path<(String, String)>,
    ApiJson(body): ApiJson<TestSendBody>,
) -> Result<Json<TestSendView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let template = template_id(&template)?;
    let contact = body.contact_id.as_deref().map(contact_id).transpose()?;
    let addresses = templates::test_addresses(&body.addresses)?;
    let sent = templates::test_send(
        &app,
        &tenant,
        &template,
        body.version,
        &addresses,
        contact.as_ref(),
    )
    .await?;
    Ok(Json(TestSendView {
        sent: sent
            .into_iter()
            .map(|s| TestSentView {
                to: s.to.to_string(),
                message_id: s.message_id,
            })
            .collect(),
    }))
}
