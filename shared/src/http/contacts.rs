//! Contact routes of a tenant: create, list (name order, search), read,
//! change, delete, and send a test mail. Custom attribute values travel as
//! an `attributes` object of plain JSON values, checked against the
//! tenant's definitions.

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
use crate::domain::{
    AttributeDefinition, Contact, ContactDraft, ContactId, ContactStatus, EmailAddress, Language,
    PersonName, Salutation,
};
use crate::ports::store::Cursor;
use crate::services::attributes;
use crate::services::contacts::{self, ContactChange, Listing};
use crate::services::test_mail::{self, TestMailReceipt};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_contact, list_contacts))
        .routes(routes!(get_contact, update_contact, delete_contact))
        .routes(routes!(send_test_mail))
}

fn contact_id(raw: &str) -> Result<ContactId, ApiError> {
    ContactId::parse(raw).map_err(|_| ApiError::NotFound("contact"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    #[schema(value_type = String, format = "email", example = "erika.mustermann@example.de")]
    pub email: EmailAddress,
    pub salutation: Option<Salutation>,
    #[schema(value_type = Option<String>, example = "Erika")]
    pub first_name: Option<PersonName>,
    #[schema(value_type = Option<String>, example = "Mustermann")]
    pub last_name: Option<PersonName>,
    /// `de` when absent.
    pub language: Option<Language>,
    /// `unconfirmed` (the default: not mailed until the person confirms) or
    /// `subscribed` (the institute holds the person's documented consent).
    pub status: Option<ContactStatus>,
    /// Values of the tenant's attributes by name: a string for text, a
    /// number, a boolean, a date as `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<Object>, example = json!({"kundennummer": "4711", "geburtstag": "1980-05-17"}))]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A change to a contact: a field left out stays as it is; `null` clears a
/// name or the salutation. The address cannot change (another address is
/// another contact); the status can only become `unsubscribed`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Salutation>)]
    pub salutation: Option<Option<Salutation>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<PersonName>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<PersonName>>,
    pub language: Option<Language>,
    pub status: Option<ContactStatus>,
    /// Attribute values to set; `null` removes one, attributes left out
    /// stay as they are.
    #[serde(default)]
    #[schema(value_type = Option<Object>, example = json!({"vip": true, "kundennummer": null}))]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A field that is present: `null` is `Some(None)`, absent is `None`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    pub email: String,
    pub salutation: Option<Salutation>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language: Language,
    pub status: ContactStatus,
    /// Values of the tenant's attributes by name (attributes without a
    /// value are left out).
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ContactView {
    /// The contact with the values of the attributes defined now (values
    /// of deleted definitions are not shown).
    pub fn with_definitions(contact: Contact, definitions: &[AttributeDefinition]) -> Self {
        let attributes = attributes::to_json(definitions, &contact.attributes);
        Self {
            attributes,
            ..Self::from(contact)
        }
    }
}

/// The contact with every stored attribute value; routes that know the
/// tenant's definitions use [`ContactView::with_definitions`].
impl From<Contact> for ContactView {
    fn from(c: Contact) -> Self {
        Self {
            attributes: c
                .attributes
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_json()))
                .collect(),
            id: c.id.to_string(),
            email: c.email.to_string(),
            salutation: c.salutation,
            first_name: c.first_name.map(String::from),
            last_name: c.last_name.map(String::from),
            language: c.language,
            status: c.status,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactPage {
    pub contacts: Vec<ContactView>,
    /// Pass as `cursor` to read the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// 1 to 200; 50 when absent.
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// An address (finds exactly that contact) or the start of a last name
    /// (`müll` finds Müller and Muller).
    pub search: Option<String>,
    /// `name` (A to Z, the default) or `-name` (Z to A).
    pub sort: Option<String>,
}

/// Stores a new contact for the tenant.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/contacts", tag = "contacts",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = NewContact,
    responses(
        (status = 201, description = "Created", body = ContactView),
        (status = 400, description = "A field is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
        (status = 409, description = "The address exists already", body = super::Problem),
        (status = 413, description = "Body over 1 MiB", body = super::Problem),
    ))]
async fn create_contact(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewContact>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<ContactView>), ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let definitions = attributes::list(&app, &tenant).await?;
    let values = match &body.attributes {
        Some(json) => attributes::read_values(&definitions, json).map_err(attributes_problem)?,
        None => Default::default(),
    };
    let draft = ContactDraft {
        attributes: values,
        salutation: body.salutation,
        first_name: body.first_name,
        last_name: body.last_name,
        language: body.language.unwrap_or_default(),
        status: body.status.unwrap_or(ContactStatus::Unconfirmed),
        ..ContactDraft::new(body.email)
    };
    let contact = contacts::create(&app, &tenant, draft).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, contact.id.to_string())],
        Json(ContactView::with_definitions(contact, &definitions)),
    ))
}

fn attributes_problem(problem: attributes::ValueProblem) -> ApiError {
    ApiError::bad_request(problem.field(), problem.reason)
}

/// One page of the tenant's contacts in name order.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/contacts", tag = "contacts",
    params(("tenant_id" = String, Path, description = "The tenant"), ListParams),
    responses(
        (status = 200, description = "A page of contacts", body = ContactPage),
        (status = 400, description = "A parameter is invalid", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn list_contacts(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ContactPage>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let limit = super::page_limit(params.limit.as_deref(), 50, 200)?;
    let descending = match params.sort.as_deref() {
        None | Some("name") => false,
        Some("-name") => true,
        Some(_) => return Err(ApiError::bad_request("sort", "name or -name")),
    };
    let search = params.search.filter(|s| !s.trim().is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 254) {
        return Err(ApiError::bad_request(
            "search",
            "is longer than 254 characters",
        ));
    }
    let listing = Listing { search, descending };
    let cursor = params.cursor.map(Cursor::from_client);
    let (page, next) = contacts::list(&app, &tenant, &listing, limit, cursor).await?;
    let definitions = attributes::list(&app, &tenant).await?;
    Ok(Json(ContactPage {
        contacts: page
            .into_iter()
            .map(|c| ContactView::with_definitions(c, &definitions))
            .collect(),
        next_cursor: next.map(|c| c.as_str().to_owned()),
    }))
}

/// One contact of the tenant.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/contacts/{contact_id}", tag = "contacts",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("contact_id" = String, Path, description = "The contact"),
    ),
    responses(
        (status = 200, description = "The contact", body = ContactView),
        (status = 404, description = "No such tenant or contact", body = super::Problem),
    ))]
async fn get_contact(
    State(app): State<App>,
    Path((tenant, contact)): Path<(String, String)>,
) -> Result<Json<ContactView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let contact = contact_id(&contact)?;
    let contact = contacts::get(&app, &tenant, &contact).await?;
    let definitions = attributes::list(&app, &tenant).await?;
    Ok(Json(ContactView::with_definitions(contact, &definitions)))
}

/// Changes a contact's salutation, names, language, or ends its
/// subscription.
#[utoipa::path(patch, path = "/api/tenants/{tenant_id}/contacts/{contact_id}", tag = "contacts",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("contact_id" = String, Path, description = "The contact"),
    ),
    request_body = ContactPatch,
    responses(
        (status = 200, description = "The contact as changed", body = ContactView),
        (status = 400, description = "A field is invalid, or a status change is not allowed", body = super::Problem),
        (status = 404, description = "No such tenant or contact", body = super::Problem),
        (status = 409, description = "Changed meanwhile", body = super::Problem),
    ))]
async fn update_contact(
    State(app): State<App>,
    Path((tenant, contact)): Path<(String, String)>,
    ApiJson(body): ApiJson<ContactPatch>,
) -> Result<Json<ContactView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let contact = contact_id(&contact)?;
    let definitions = attributes::list(&app, &tenant).await?;
    let changes = match &body.attributes {
        Some(json) => attributes::read_changes(&definitions, json).map_err(attributes_problem)?,
        None => Default::default(),
    };
    let change = ContactChange {
        salutation: body.salutation,
        first_name: body.first_name,
        last_name: body.last_name,
        language: body.language,
        status: body.status,
        attributes: changes,
    };
    let updated = contacts::update(&app, &tenant, &contact, change).await?;
    Ok(Json(ContactView::with_definitions(updated, &definitions)))
}

/// Deletes a contact.
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/contacts/{contact_id}", tag = "contacts",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("contact_id" = String, Path, description = "The contact"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such tenant or contact", body = super::Problem),
    ))]
async fn delete_contact(
    State(app): State<App>,
    Path((tenant, contact)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let contact = contact_id(&contact)?;
    contacts::delete(&app, &tenant, &contact).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends one test mail to the contact, now.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/contacts/{contact_id}/test-mail", tag = "contacts",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("contact_id" = String, Path, description = "The contact"),
    ),
    responses(
        (status = 200, description = "Sent", body = TestMailReceipt),
        (status = 404, description = "No such tenant or contact", body = super::Problem),
        (status = 422, description = "The mail service refused the message", body = super::Problem),
        (status = 503, description = "The mail service is busy", body = super::Problem),
    ))]
async fn send_test_mail(
    State(app): State<App>,
    Path((tenant, contact)): Path<(String, String)>,
) -> Result<Json<TestMailReceipt>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let contact = contact_id(&contact)?;
    Ok(Json(test_mail::send(&app, &tenant, &contact).await?))
}
