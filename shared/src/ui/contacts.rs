//! The contact pages (Kontakte): the tenant's contacts in name order with a
//! search and paging, the form for a new contact, and one contact's page
//! with the forms that change it, end its subscription and delete it. Every
//! handler acts on the signed-in user's own tenant only. The forms carry
//! an input per custom attribute the tenant defined, and the contact's page
//! shows its values.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::Response;
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use super::admin::{date, date_time, tenant_failure};
use super::attributes::{AttributeInput, ShownValue, inputs, inputs_as_sent, invalid_value, shown};
use super::forms::{FormBody, Invalid, Member, Visit};
use super::view;
use crate::domain::AttributeDefinition;
use crate::domain::{
    Contact, ContactDraft, ContactId, ContactStatus, EmailAddress, EmailAddressError, Language,
    Permission, PersonName, Salutation, TenantId,
};
use crate::http::access::AUDIT_OBJECT;
use crate::ports::store::Cursor;
use crate::services::attributes::{self, AttributeError};
use crate::services::contacts::{self, ContactChange, ContactError, Listing};

/// How many contacts one page of the list shows.
const PAGE_SIZE: u32 = 50;

/// The longest search the list accepts (an address is at most 254).
const MAX_SEARCH_CHARS: usize = 254;

/// The salutations as the forms offer them: value and message id.
pub(super) const SALUTATIONS: [(Salutation, &str, &str); 3] = [
    (Salutation::Female, "female", "contact-salutation-female"),
    (Salutation::Male, "male", "contact-salutation-male"),
    (Salutation::Diverse, "diverse", "contact-salutation-diverse"),
];

/// The languages a contact is written to in: value and message id.
pub(super) const LANGUAGES: [(Language, &str, &str); 2] = [
    (Language::De, "de", "contact-language-de"),
    (Language::En, "en", "contact-language-en"),
];

/// The statuses a new contact may start with: value and message id.
pub(super) const STARTING_STATUSES: [(ContactStatus, &str, &str); 2] = [
    (
        ContactStatus::Unconfirmed,
        "unconfirmed",
        "contact-status-unconfirmed",
    ),
    (
        ContactStatus::Subscribed,
        "subscribed",
        "contact-status-subscribed",
    ),
];

/// The message id of a status's label.
pub(super) fn status_label(status: ContactStatus) -> &'static str {
    match status {
        ContactStatus::Unconfirmed => "contact-status-unconfirmed",
        ContactStatus::Subscribed => "contact-status-subscribed",
        ContactStatus::Unsubscribed => "contact-status-unsubscribed",
        ContactStatus::Bounced => "contact-status-bounced",
        ContactStatus::Complained => "contact-status-complained",
    }
}

fn language_of(language: Language) -> (&'static str, &'static str) {
    LANGUAGES
        .iter()
        .find(|(l, _, _)| *l == language)
        .map_or(("de", "contact-language-de"), |(_, value, label)| {
            (value, label)
        })
}

fn salutation_value(salutation: Option<Salutation>) -> &'static str {
    SALUTATIONS
        .iter()
        .find(|(s, _, _)| Some(*s) == salutation)
        .map_or("", |(_, value, _)| value)
}

/// The notices a redirect may ask for (`?hinweis=`): a fixed set, so the
/// query can never put text of its own on the page.
fn notice_id(raw: &str) -> Option<&'static str> {
    match raw {
        "angelegt" => Some("contacts-notice-created"),
        "gespeichert" => Some("contacts-notice-saved"),
        "abgemeldet" => Some("contacts-notice-unsubscribed"),
        "geloescht" => Some("contacts-notice-deleted"),
        _ => None,
    }
}

/// The name as the list shows it: "Frau Erika Mustermann"; the address
/// when no name is known. "Divers" is no form of address, so it is left
/// out here (letters greet such contacts by their names alone).
fn shown_name(visit: &Visit, contact: &Contact) -> String {
    let names: Vec<&str> = [&contact.first_name, &contact.last_name]
        .into_iter()
        .flatten()
        .map(PersonName::as_str)
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return contact.email.to_string();
    }
    let salutation = match contact.salutation {
        Some(Salutation::Female) => Some(visit.tr("contact-salutation-female")),
        Some(Salutation::Male) => Some(visit.tr("contact-salutation-male")),
        Some(Salutation::Diverse) | None => None,
    };
    salutation
        .into_iter()
        .chain(names.into_iter().map(str::to_owned))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the guard established, checked again: a user of a tenant whose
/// role holds `permission`. Platform roles have none of the contact
/// permissions.
pub(super) async fn member_in_tenant(
    visit: &Visit,
    permission: Permission,
) -> Result<(Member, TenantId), Response> {
    let member = visit.member(false).await?;
    if !member.principal.role.may(permission) {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    }
    let Some(tenant) = member.principal.tenant.clone() else {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    };
    Ok((member, tenant))
}

fn contact_failure(visit: &Visit, e: ContactError) -> Response {
    match e {
        ContactError::Tenant(t) => tenant_failure(visit, t),
        ContactError::NotFound => visit.fail(StatusCode::NOT_FOUND),
        ContactError::Store(s) => visit.store_failure(s),
        ContactError::Evidence(crate::services::consent::ConsentError::Store(s)) => {
            visit.store_failure(s)
        }
        ContactError::Evidence(e) => {
            tracing::error!(error = %e, "page: consent evidence not deleted");
            visit.fail(StatusCode::SERVICE_UNAVAILABLE)
        }
        ContactError::DuplicateEmail | ContactError::Conflict | ContactError::Suppressed => {
            visit.fail(StatusCode::CONFLICT)
        }
        ContactError::InvalidCursor
        | ContactError::StatusChange(_)
        | ContactError::Attribute(_) => {
            tracing::info!(error = %e, "page: contact change refused");
            visit.fail(StatusCode::BAD_REQUEST)
        }
    }
}

/// The tenant's attribute definitions, for the forms and the page.
async fn definitions(
    visit: &Visit,
    tenant: &TenantId,
) -> Result<Vec<AttributeDefinition>, Response> {
    attributes::list(&visit.app, tenant)
        .await
        .map_err(|e| match e {
            AttributeError::Tenant(t) => tenant_failure(visit, t),
            AttributeError::Store(s) => visit.store_failure(s),
            other => {
                tracing::error!(error = %other, "page: attribute definitions not read");
                visit.fail(StatusCode::INTERNAL_SERVER_ERROR)
            }
        })
}

/// The tenant's contact named in the path; a malformed id, or one of
/// another tenant, is simply not found.
async fn find(visit: &Visit, tenant: &TenantId, raw_id: &str) -> Result<Contact, Response> {
    let id = ContactId::parse(raw_id).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?;
    contacts::get(&visit.app, tenant, &id)
        .await
        .map_err(|e| contact_failure(visit, e))
}

/// A 303 to a path built from a contact id (hex) and fixed words.
fn redirect(path: &str) -> Response {
    super::forms::redirect(path, "/kontakte")
}

#[derive(Debug, Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
}

fn salutation_choices() -> Vec<Choice> {
    SALUTATIONS
        .iter()
        .map(|(_, value, label)| Choice { value, label })
        .collect()
}

fn language_choices() -> Vec<Choice> {
    LANGUAGES
        .iter()
        .map(|(_, value, label)| Choice { value, label })
        .collect()
}

/// Reads a choice of the form: "" is `empty`, anything not offered is a
/// problem for `field`.
fn choose<T: Copy>(
    visit: &Visit,
    options: &[(T, &'static str, &'static str)],
    raw: &str,
    empty: T,
    field: &'static str,
    label_id: &str,
) -> Result<T, Invalid> {
    if raw.is_empty() {
        return Ok(empty);
    }
    options
        .iter()
        .find(|(_, value, _)| *value == raw)
        .map(|(option, _, _)| *option)
        .ok_or_else(|| visit.invalid(field, label_id, visit.tr("problem-choose-option")))
}

fn check_email(visit: &Visit, raw: &str) -> Result<EmailAddress, Invalid> {
    let problem = match EmailAddress::parse(raw.trim()) {
        Ok(email) => return Ok(email),
        Err(EmailAddressError::Empty) => visit.tr("problem-required"),
        Err(EmailAddressError::TooLong) => {
            visit.tr_args("problem-too-long", &[("max", "254".to_owned())])
        }
        Err(_) => visit.tr("problem-email-invalid"),
    };
    Err(visit.invalid("email", "field-email", problem))
}

/// A first or last name: empty is none; at most 100 characters, no
/// control characters.
fn check_name(
    visit: &Visit,
    field: &'static str,
    label_id: &str,
    raw: &str,
) -> Result<Option<PersonName>, Invalid> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let problem = if trimmed.chars().count() > 100 {
        visit.tr_args("problem-too-long", &[("max", "100".to_owned())])
    } else {
        match PersonName::parse(trimmed) {
            Ok(name) => return Ok(Some(name)),
            Err(_) => visit.tr("problem-control-characters"),
        }
    };
    Err(visit.invalid(field, label_id, problem))
}

// ---------------------------------------------------------------------
// The list and the form for a new contact

#[derive(Debug, Serialize)]
struct ContactRow {
    id: String,
    name: String,
    email: String,
    status: &'static str,
    language: &'static str,
    created_at: String,
}

#[derive(Debug, Default, Serialize)]
struct NewContactForm {
    email: String,
    salutation: String,
    first_name: String,
    last_name: String,
    language: String,
    status: String,
    /// An input per attribute the tenant defined.
    attributes: Vec<AttributeInput>,
}

#[derive(Debug, Default, Serialize)]
struct ContactsView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    /// With `invalid` = `attribute`: the attribute's name.
    invalid_attribute: Option<String>,
    field_error: Option<String>,
    /// On a duplicate address: the id of the contact that has it.
    existing: Option<String>,
    may_write: bool,
    form: NewContactForm,
    contacts: Vec<ContactRow>,
    search: String,
    descending: bool,
    /// The query of the next page's link, when there is one.
    next_query: Option<String>,
    /// The query of the first page, when this is a later one.
    first_query: Option<String>,
    salutations: Vec<Choice>,
    languages: Vec<Choice>,
    statuses: Vec<Choice>,
}

impl ContactsView {
    fn refuse(&mut self, invalid: Invalid) {
        self.alert = Some(invalid.alert);
        self.invalid = Some(invalid.field);
        self.field_error = Some(invalid.problem);
    }
}

/// The list's query: `?suche=<prefix or address>&sortierung=absteigend`
/// `&weiter=<cursor>`, and `hinweis` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    suche: String,
    #[serde(default)]
    sortierung: String,
    #[serde(default)]
    weiter: String,
    #[serde(default)]
    hinweis: String,
}

/// The query of the list with this search and order, from `cursor` on.
fn list_query(search: &str, descending: bool, cursor: Option<&Cursor>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !search.is_empty() {
        query.append_pair("suche", search);
    }
    if descending {
        query.append_pair("sortierung", "absteigend");
    }
    if let Some(cursor) = cursor {
        query.append_pair("weiter", cursor.as_str());
    }
    query.finish()
}

async fn contacts_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    query: &ListQuery,
    mut values: ContactsView,
    status: StatusCode,
) -> Response {
    let search: String = query.suche.trim().chars().take(MAX_SEARCH_CHARS).collect();
    let descending = query.sortierung == "absteigend";
    let listing = Listing {
        search: (!search.is_empty()).then(|| search.clone()),
        descending,
    };
    let cursor = (!query.weiter.is_empty()).then(|| Cursor::from_client(query.weiter.clone()));
    let on_later_page = cursor.is_some();
    let listed = match contacts::list(&visit.app, tenant, &listing, PAGE_SIZE, cursor).await {
        // A cursor of another list (or garbage): the first page instead.
        Err(ContactError::InvalidCursor) => {
            contacts::list(&visit.app, tenant, &listing, PAGE_SIZE, None)
                .await
                .map(|page| (page, false))
        }
        other => other.map(|page| (page, on_later_page)),
    };
    let ((page, next), later) = match listed {
        Ok(listed) => listed,
        Err(e) => return contact_failure(visit, e),
    };
    values.contacts = page
        .iter()
        .map(|c| ContactRow {
            id: c.id.to_string(),
            name: shown_name(visit, c),
            email: c.email.to_string(),
            status: status_label(c.status),
            language: language_of(c.language).1,
            created_at: date(visit.lang, c.created_at),
        })
        .collect();
    values.next_query = next.map(|cursor| list_query(&search, descending, Some(&cursor)));
    values.first_query = later.then(|| list_query(&search, descending, None));
    values.search = search;
    values.descending = descending;
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    // A new contact starts German and unconfirmed, unless chosen otherwise.
    if values.form.language.is_empty() {
        values.form.language = language_of(Language::De).0.to_owned();
    }
    if values.form.status.is_empty() {
        values.form.status = "unconfirmed".to_owned();
    }
    if values.may_write && values.form.attributes.is_empty() {
        match definitions(visit, tenant).await {
            Ok(definitions) => {
                values.form.attributes = inputs(visit.lang, &definitions, &Default::default());
            }
            Err(response) => return response,
        }
    }
    values.salutations = salutation_choices();
    values.languages = language_choices();
    values.statuses = STARTING_STATUSES
        .iter()
        .map(|(_, value, label)| Choice { value, label })
        .collect();
    if values.notice.is_none() {
        values.notice = notice_id(&query.hinweis).map(|id| visit.tr(id));
    }
    let layout = visit.layout(member, "/kontakte");
    view::page(status, "contacts.html", &layout, &values, visit.https)
}

/// `GET /kontakte`: one page of the tenant's contacts in name order, and
/// for editors the form for a new one.
pub(super) async fn list(visit: Visit, uri: Uri) -> Response {
    // A malformed query is simply the first page, unfiltered.
    let query = axum::extract::Query::<ListQuery>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    contacts_page(
        &visit,
        &member,
        &tenant,
        &query,
        ContactsView::default(),
        StatusCode::OK,
    )
    .await
}

/// What the create and edit forms share: salutation, names, language.
type PersonFields = (
    Option<Salutation>,
    Option<PersonName>,
    Option<PersonName>,
    Language,
);

/// Reads the salutation, name and language fields of a contact form.
fn read_person(
    visit: &Visit,
    salutation: &str,
    first_name: &str,
    last_name: &str,
    language: &str,
) -> Result<PersonFields, Invalid> {
    let salutation = choose(
        visit,
        &SALUTATIONS.map(|(s, value, label)| (Some(s), value, label)),
        salutation,
        None,
        "salutation",
        "contact-field-salutation",
    )?;
    let first_name = check_name(visit, "first_name", "contact-field-first-name", first_name)?;
    let last_name = check_name(visit, "last_name", "contact-field-last-name", last_name)?;
    let language = choose(
        visit,
        &LANGUAGES,
        language,
        Language::De,
        "language",
        "contact-field-language",
    )?;
    Ok((salutation, first_name, last_name, language))
}

/// Reads the form for a new contact, field by field.
fn read_draft(visit: &Visit, form: &NewContactForm) -> Result<ContactDraft, Invalid> {
    let email = check_email(visit, &form.email)?;
    let (salutation, first_name, last_name, language) = read_person(
        visit,
        &form.salutation,
        &form.first_name,
        &form.last_name,
        &form.language,
    )?;
    let status = choose(
        visit,
        &STARTING_STATUSES,
        &form.status,
        ContactStatus::Unconfirmed,
        "status",
        "field-status",
    )?;
    Ok(ContactDraft {
        salutation,
        first_name,
        last_name,
        language,
        status,
        ..ContactDraft::new(email)
    })
}

/// `POST /kontakte`: creates a contact and goes to its page; bad input
/// shows the list again with the problem beside the field.
pub(super) async fn create(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut values = ContactsView {
        form: NewContactForm {
            email: body.get("email").trim().to_owned(),
            salutation: body.get("salutation").to_owned(),
            first_name: body.get("first_name").trim().to_owned(),
            last_name: body.get("last_name").trim().to_owned(),
            language: body.get("language").to_owned(),
            status: body.get("status").to_owned(),
            attributes: Vec::new(),
        },
        ..ContactsView::default()
    };
    let definitions = match definitions(&visit, &tenant).await {
        Ok(definitions) => definitions,
        Err(response) => return response,
    };
    values.form.attributes = inputs_as_sent(&definitions, &body);
    let first_page = ListQuery::default();
    let read = read_draft(&visit, &values.form).and_then(|mut draft| {
        match attributes::read_form(&definitions, |field| Some(body.get(field))) {
            Ok(changes) => {
                draft.attributes = changes
                    .into_iter()
                    .filter_map(|(name, value)| value.map(|v| (name, v)))
                    .collect();
                Ok(draft)
            }
            Err(problem) => {
                values.invalid_attribute = Some(problem.name.clone());
                Err(invalid_value(&visit, &definitions, &problem))
            }
        }
    });
    let draft = match read {
        Ok(draft) => draft,
        Err(invalid) => {
            values.refuse(invalid);
            return contacts_page(
                &visit,
                &member,
                &tenant,
                &first_page,
                values,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let email = draft.email.clone();
    match contacts::create(&visit.app, &tenant, draft).await {
        Ok(contact) => {
            let mut response = redirect(&format!("/kontakte/{}?hinweis=angelegt", contact.id));
            if let Ok(id) = HeaderValue::from_str(contact.id.as_str()) {
                response.headers_mut().insert(AUDIT_OBJECT, id);
            }
            response
        }
        Err(ContactError::DuplicateEmail) => {
            values.refuse(visit.invalid(
                "email",
                "field-email",
                visit.tr("contacts-problem-email-taken"),
            ));
            values.existing = Some(contacts::id_for(&visit.app, &tenant, &email).to_string());
            contacts_page(
                &visit,
                &member,
                &tenant,
                &first_page,
                values,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(ContactError::Attribute(problem)) => {
            // A definition changed while the form was filled in.
            values.refuse(invalid_value(&visit, &definitions, &problem));
            values.invalid_attribute = Some(problem.name);
            contacts_page(
                &visit,
                &member,
                &tenant,
                &first_page,
                values,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => contact_failure(&visit, e),
    }
}

// ---------------------------------------------------------------------
// One contact

#[derive(Debug, Default, Serialize)]
struct EditForm {
    salutation: String,
    first_name: String,
    last_name: String,
    language: String,
    /// The version the form was filled in on: `updated_at` to the
    /// nanosecond.
    version: String,
    /// An input per attribute the tenant defined.
    attributes: Vec<AttributeInput>,
}

impl EditForm {
    fn of(contact: &Contact) -> Self {
        Self {
            salutation: salutation_value(contact.salutation).to_owned(),
            first_name: contact
                .first_name
                .as_ref()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default(),
            last_name: contact
                .last_name
                .as_ref()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default(),
            language: language_of(contact.language).0.to_owned(),
            version: version(contact),
            attributes: Vec::new(),
        }
    }
}

fn version(contact: &Contact) -> String {
    contact
        .updated_at
        .to_rfc3339_opts(SecondsFormat::Nanos, true)
}

#[derive(Debug, Default, Serialize)]
struct ContactView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    id: String,
    /// The heading: the name, or the address when no name is known.
    heading: String,
    email: String,
    salutation: Option<&'static str>,
    first_name: Option<String>,
    last_name: Option<String>,
    language: &'static str,
    status: &'static str,
    /// The values of the attributes defined now.
    attributes: Vec<ShownValue>,
    /// With `invalid` = `attribute`: the attribute's name.
    invalid_attribute: Option<String>,
    /// Unsubscribed, bounced or complained: no form brings it back.
    status_final: bool,
    created_at: String,
    updated_at: String,
    may_write: bool,
    form: Option<EditForm>,
    salutations: Vec<Choice>,
    languages: Vec<Choice>,
}

impl ContactView {
    fn refuse(&mut self, invalid: Invalid) {
        self.alert = Some(invalid.alert);
        self.invalid = Some(invalid.field);
        self.field_error = Some(invalid.problem);
    }
}

async fn contact_page(
    visit: &Visit,
    member: &Member,
    contact: &Contact,
    mut values: ContactView,
    status: StatusCode,
) -> Response {
    let Some(tenant) = member.principal.tenant.as_ref() else {
        return visit.fail(StatusCode::FORBIDDEN);
    };
    let definitions = match definitions(visit, tenant).await {
        Ok(definitions) => definitions,
        Err(response) => return response,
    };
    values.attributes = shown(visit.lang, &definitions, &contact.attributes);
    values.id = contact.id.to_string();
    values.heading = contact.display_name();
    values.email = contact.email.to_string();
    values.salutation = SALUTATIONS
        .iter()
        .find(|(s, _, _)| Some(*s) == contact.salutation)
        .map(|(_, _, label)| *label);
    values.first_name = contact.first_name.as_ref().map(|n| n.as_str().to_owned());
    values.last_name = contact.last_name.as_ref().map(|n| n.as_str().to_owned());
    values.language = language_of(contact.language).1;
    values.status = status_label(contact.status);
    values.status_final = contact.status.is_final();
    values.created_at = date_time(visit.lang, contact.created_at);
    values.updated_at = date_time(visit.lang, contact.updated_at);
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    if values.may_write {
        values.form.get_or_insert_with(|| EditForm {
            attributes: inputs(visit.lang, &definitions, &contact.attributes),
            ..EditForm::of(contact)
        });
        values.salutations = salutation_choices();
        values.languages = language_choices();
    } else {
        values.form = None;
    }
    let layout = visit.layout(member, "/kontakte");
    view::page(status, "contact.html", &layout, &values, visit.https)
}

/// `GET /kontakte/{contact_id}`: the contact's details, and for editors the
/// forms that change it.
pub(super) async fn page(visit: Visit, Path(contact_id): Path<String>, uri: Uri) -> Response {
    let query = axum::extract::Query::<ListQuery>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let contact = match find(&visit, &tenant, &contact_id).await {
        Ok(contact) => contact,
        Err(response) => return response,
    };
    let values = ContactView {
        notice: notice_id(&query.hinweis).map(|id| visit.tr(id)),
        ..ContactView::default()
    };
    contact_page(&visit, &member, &contact, values, StatusCode::OK).await
}

/// Reads the edit form into a change of salutation, names and language.
fn read_change(visit: &Visit, form: &EditForm) -> Result<ContactChange, Invalid> {
    let (salutation, first_name, last_name, language) = read_person(
        visit,
        &form.salutation,
        &form.first_name,
        &form.last_name,
        &form.language,
    )?;
    Ok(ContactChange {
        salutation: Some(salutation),
        first_name: Some(first_name),
        last_name: Some(last_name),
        language: Some(language),
        status: None,
        attributes: Default::default(),
    })
}

/// The contact as it is now, with the alert that it changed since the form
/// was filled in; the form keeps what was entered, now for the version
/// shown (sent again, it applies to that one).
async fn changed_meanwhile(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    id: &ContactId,
    form: Option<EditForm>,
) -> Response {
    let current = match contacts::get(&visit.app, tenant, id).await {
        Ok(current) => current,
        Err(e) => return contact_failure(visit, e),
    };
    let values = ContactView {
        alert: Some(visit.tr("contacts-changed-meanwhile")),
        form: form.map(|form| EditForm {
            version: version(&current),
            ..form
        }),
        ..ContactView::default()
    };
    contact_page(visit, member, &current, values, StatusCode::CONFLICT).await
}

/// `POST /kontakte/{contact_id}`: saves the edit form, or with
/// `aktion=abmelden` ends the contact's subscription; back to the page.
pub(super) async fn update(
    visit: Visit,
    Path(contact_id): Path<String>,
    body: FormBody,
) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let contact = match find(&visit, &tenant, &contact_id).await {
        Ok(contact) => contact,
        Err(response) => return response,
    };
    match body.get("aktion") {
        "abmelden" => {
            // A contact that left or bounced already keeps its status: a
            // bounce is not turned into an unsubscription.
            if contact.status.is_final() {
                return redirect(&format!("/kontakte/{}", contact.id));
            }
            let change = ContactChange {
                status: Some(ContactStatus::Unsubscribed),
                ..ContactChange::default()
            };
            return match contacts::update(&visit.app, &tenant, &contact.id, change).await {
                Ok(_) => redirect(&format!("/kontakte/{}?hinweis=abgemeldet", contact.id)),
                Err(ContactError::Conflict) => {
                    changed_meanwhile(&visit, &member, &tenant, &contact.id, None).await
                }
                Err(e) => contact_failure(&visit, e),
            };
        }
        "" => {}
        _ => return visit.fail(StatusCode::BAD_REQUEST),
    }
    let form = EditForm {
        salutation: body.get("salutation").to_owned(),
        first_name: body.get("first_name").trim().to_owned(),
        last_name: body.get("last_name").trim().to_owned(),
        language: body.get("language").to_owned(),
        version: body.get("stand").to_owned(),
        attributes: Vec::new(),
    };
    let definitions = match definitions(&visit, &tenant).await {
        Ok(definitions) => definitions,
        Err(response) => return response,
    };
    let form = EditForm {
        attributes: inputs_as_sent(&definitions, &body),
        ..form
    };
    if form.version != version(&contact) {
        return changed_meanwhile(&visit, &member, &tenant, &contact.id, Some(form)).await;
    }
    let read = match read_change(&visit, &form) {
        Ok(mut change) => {
            match attributes::read_form(&definitions, |field| Some(body.get(field))) {
                Ok(changes) => {
                    change.attributes = changes;
                    Ok(change)
                }
                Err(problem) => Err((
                    invalid_value(&visit, &definitions, &problem),
                    Some(problem.name),
                )),
            }
        }
        Err(invalid) => Err((invalid, None)),
    };
    let change = match read {
        Ok(change) => change,
        Err((invalid, attribute)) => {
            let mut values = ContactView {
                form: Some(form),
                invalid_attribute: attribute,
                ..ContactView::default()
            };
            values.refuse(invalid);
            return contact_page(&visit, &member, &contact, values, StatusCode::BAD_REQUEST).await;
        }
    };
    match contacts::update(&visit.app, &tenant, &contact.id, change).await {
        Ok(_) => redirect(&format!("/kontakte/{}?hinweis=gespeichert", contact.id)),
        Err(ContactError::Conflict) => {
            changed_meanwhile(&visit, &member, &tenant, &contact.id, Some(form)).await
        }
        Err(e) => contact_failure(&visit, e),
    }
}

/// `POST /kontakte/{contact_id}/loeschen`: deletes the contact once the
/// box "Ja, löschen" is ticked; then to the list.
pub(super) async fn delete(
    visit: Visit,
    Path(contact_id): Path<String>,
    body: FormBody,
) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let contact = match find(&visit, &tenant, &contact_id).await {
        Ok(contact) => contact,
        Err(response) => return response,
    };
    if body.get("bestaetigt") != "ja" {
        let mut values = ContactView::default();
        values.refuse(visit.invalid(
            "bestaetigt",
            "contact-delete-confirm",
            visit.tr("contacts-problem-confirm-delete"),
        ));
        return contact_page(&visit, &member, &contact, values, StatusCode::BAD_REQUEST).await;
    }
    match contacts::delete(&visit.app, &tenant, &contact.id).await {
        Ok(()) => redirect("/kontakte?hinweis=geloescht"),
        Err(e) => contact_failure(&visit, e),
    }
}
