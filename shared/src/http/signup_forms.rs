//! Sign-up form routes of a tenant (double opt-in): create, list, read
//! with the embeddable HTML snippet, replace, delete; and a contact's
//! consent evidence. The public sign-up itself is a page of the UI
//! (`/anmeldung/...`).

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
use crate::domain::{ContactId, Permission, Principal, SignupFormId};
use crate::services::consent::{self, ConsentRecord};
use crate::services::contacts;
use crate::services::signup::{self, FormSettings, SignupForm};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_form, all_forms))
        .routes(routes!(get_form, replace_form, delete_form))
        .routes(routes!(contact_consent))
}

fn form_id(raw: &str) -> Result<SignupFormId, ApiError> {
    SignupFormId::parse(raw).map_err(|_| ApiError::NotFound("sign-up form"))
}

/// A sign-up form as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SignupFormView {
    pub id: String,
    pub name: String,
    pub list_id: String,
    pub consent_text: String,
    /// Counts up from 1 whenever the consent text changes.
    pub consent_version: u32,
    pub ask_salutation: bool,
    pub ask_first_name: bool,
    pub ask_last_name: bool,
    pub from_name: Option<String>,
    pub mail_subject: String,
    pub mail_text: String,
    pub thank_you_text: String,
    pub link_validity_hours: u32,
    pub expiry_days: u32,
    /// Where the form posts to (the hosted page is the same URL).
    pub action_url: String,
    /// An HTML form to embed on another site.
    pub embed_html: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SignupFormView {
    fn of(app: &App, tenant: &crate::domain::TenantId, f: SignupForm) -> Self {
        Self {
            action_url: signup::action_url(app, tenant, &f.id),
            embed_html: signup::embed_snippet(app, tenant, &f),
            id: f.id.to_string(),
            name: f.name,
            list_id: f.list_id.to_string(),
            consent_text: f.consent_text,
            consent_version: f.consent_version,
            ask_salutation: f.ask_salutation,
            ask_first_name: f.ask_first_name,
            ask_last_name: f.ask_last_name,
            from_name: f.from_name,
            mail_subject: f.mail_subject,
            mail_text: f.mail_text,
            thank_you_text: f.thank_you_text,
            link_validity_hours: f.link_validity_hours,
            expiry_days: f.expiry_days,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SignupFormsView {
    pub forms: Vec<SignupFormView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    /// Oldest first.
    pub records: Vec<ConsentRecord>,
}

/// Creates a sign-up form into one of the tenant's lists.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/signup-forms", tag = "signup-forms",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = FormSettings,
    responses(
        (status = 201, description = "Created", body = SignupFormView),
        (status = 400, description = "A field is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn create_form(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<FormSettings>,
) -> Result<
    (
        StatusCode,
        [(&'static str, String); 1],
        Json<SignupFormView>,
    ),
    ApiError,
> {
    let tenant = super::path_tenant(&tenant)?;
    let form = signup::create(&app, &tenant, &body).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, form.id.to_string())],
        Json(SignupFormView::of(&app, &tenant, form)),
    ))
}

/// Every sign-up form of the tenant.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/signup-forms", tag = "signup-forms",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The forms", body = SignupFormsView),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn all_forms(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Json<SignupFormsView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let forms = signup::all(&app, &tenant).await?;
    Ok(Json(SignupFormsView {
        forms: forms
            .into_iter()
            .map(|f| SignupFormView::of(&app, &tenant, f))
            .collect(),
    }))
}

/// One sign-up form, with its embeddable snippet.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/signup-forms/{form_id}", tag = "signup-forms",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("form_id" = String, Path, description = "The sign-up form"),
    ),
    responses(
        (status = 200, description = "The form", body = SignupFormView),
        (status = 404, description = "No such tenant or form", body = super::Problem),
    ))]
async fn get_form(
    State(app): State<App>,
    Path((tenant, form)): Path<(String, String)>,
) -> Result<Json<SignupFormView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let form = signup::get(&app, &tenant, &form_id(&form)?).await?;
    Ok(Json(SignupFormView::of(&app, &tenant, form)))
}

/// Replaces a form's settings. A changed consent text gets a new version;
/// the evidence of earlier sign-ups keeps the text they showed.
#[utoipa::path(put, path = "/api/tenants/{tenant_id}/signup-forms/{form_id}", tag = "signup-forms",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("form_id" = String, Path, description = "The sign-up form"),
    ),
    request_body = FormSettings,
    responses(
        (status = 200, description = "Saved", body = SignupFormView),
        (status = 400, description = "A field is invalid", body = super::Problem),
        (status = 404, description = "No such tenant or form", body = super::Problem),
        (status = 409, description = "Changed meanwhile", body = super::Problem),
    ))]
async fn replace_form(
    State(app): State<App>,
    Path((tenant, form)): Path<(String, String)>,
    ApiJson(body): ApiJson<FormSettings>,
) -> Result<Json<SignupFormView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let form = signup::update(&app, &tenant, &form_id(&form)?, &body).await?;
    Ok(Json(SignupFormView::of(&app, &tenant, form)))
}

/// Deletes a form: its links stop working; the evidence stays.
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/signup-forms/{form_id}", tag = "signup-forms",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("form_id" = String, Path, description = "The sign-up form"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such tenant or form", body = super::Problem),
    ))]
async fn delete_form(
    State(app): State<App>,
    Path((tenant, form)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    signup::delete(&app, &tenant, &form_id(&form)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The contact's consent evidence: every sign-up and confirmation record,
/// oldest first, with the exact consent text and the reference to the
/// confirmation mail as sent (its link removed). It carries full IP
/// addresses and user agents: for editors, and each read is on the audit
/// log (`contact.consent_read`).
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/contacts/{contact_id}/consent", tag = "contacts",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("contact_id" = String, Path, description = "The contact"),
    ),
    responses(
        (status = 200, description = "The evidence", body = ConsentView),
        (status = 403, description = "Not allowed", body = super::Problem),
        (status = 404, description = "No such tenant or contact", body = super::Problem),
    ))]
async fn contact_consent(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path((tenant, contact)): Path<(String, String)>,
) -> Result<Json<ConsentView>, ApiError> {
    if !principal.role.may(Permission::WriteContacts) {
        return Err(ApiError::Forbidden);
    }
    let tenant = super::path_tenant(&tenant)?;
    let contact = ContactId::parse(&contact).map_err(|_| ApiError::NotFound("contact"))?;
    contacts::get(&app, &tenant, &contact).await?;
    let records = consent::records(&app, &tenant, &contact).await?;
    Ok(Json(ConsentView { records }))
}
