//! The list pages (Verteiler): the tenant's lists with their live member
//! counts and the forms to create one; one list's members page by page,
//! with the forms to rename it, delete it, add a contact by address and
//! remove a member. Every handler acts on the signed-in user's own tenant.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::admin::{date, tenant_failure};
use super::forms::{FormBody, Invalid, Member, Visit, redirect};
use super::view;
use crate::domain::{Contact, ContactStatus, EmailAddress, ListId, Permission, TenantId};
use crate::http::access::AUDIT_OBJECT;
use crate::ports::store::Cursor;
use crate::services::contacts;
use crate::services::lists::{self, List, ListError};

/// How many members one page of a list shows.
const PAGE_SIZE: u32 = 50;

/// What the guard established, checked again: a user of a tenant whose
/// role holds `permission`.
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

/// A redirect that names the object for the audit entry.
fn redirect_naming(path: &str, object: &str) -> Response {
    let mut response = redirect(path, "/listen");
    if let Ok(id) = HeaderValue::from_str(object) {
        response.headers_mut().insert(AUDIT_OBJECT, id);
    }
    response
}

fn list_failure(visit: &Visit, e: ListError) -> Response {
    match e {
        ListError::Tenant(t) => tenant_failure(visit, t),
        ListError::NotFound | ListError::ContactNotFound => visit.fail(StatusCode::NOT_FOUND),
        ListError::Store(s) => visit.store_failure(s),
        ListError::Name(_) | ListError::InvalidCursor => visit.fail(StatusCode::BAD_REQUEST),
    }
}

/// The notices a redirect may ask for (`?hinweis=`): a fixed set.
fn notice_id(raw: &str) -> Option<&'static str> {
    match raw {
        "angelegt" => Some("lists-notice-created"),
        "umbenannt" => Some("lists-notice-renamed"),
        "geloescht" => Some("lists-notice-deleted"),
        "hinzugefuegt" => Some("lists-notice-added"),
        "entfernt" => Some("lists-notice-removed"),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    weiter: String,
    #[serde(default)]
    hinweis: String,
}

fn page_query(uri: &Uri) -> PageQuery {
    axum::extract::Query::<PageQuery>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

fn name_problem(visit: &Visit, reason: &str) -> Invalid {
    let problem = if reason == "is empty" {
        visit.tr("problem-required")
    } else if reason.contains("longer") {
        visit.tr_args("problem-too-long", &[("max", "100".to_owned())])
    } else {
        visit.tr("problem-control-characters")
    };
    visit.invalid("name", "lists-field-name", problem)
}

// ---------------------------------------------------------------------
// Every list

#[derive(Debug, Serialize)]
struct ListRow {
    id: String,
    name: String,
    members: i64,
    created_at: String,
}

#[derive(Debug, Default, Serialize)]
struct ListsView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    may_write: bool,
    name: String,
    lists: Vec<ListRow>,
}

async fn lists_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    mut values: ListsView,
    status: StatusCode,
) -> Response {
    let all = match lists::all(&visit.app, tenant).await {
        Ok(all) => all,
        Err(e) => return list_failure(visit, e),
    };
    values.lists = all
        .into_iter()
        .map(|l| ListRow {
            id: l.id.to_string(),
            name: l.name,
            members: l.members,
            created_at: date(visit.lang, l.created_at),
        })
        .collect();
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    let layout = visit.layout(member, "/listen");
    view::page(status, "lists.html", &layout, &values, visit.https)
}

/// `GET /listen`: the tenant's lists with their member counts.
pub(super) async fn all(visit: Visit, uri: Uri) -> Response {
    let query = page_query(&uri);
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let values = ListsView {
        notice: notice_id(&query.hinweis).map(|id| visit.tr(id)),
        ..ListsView::default()
    };
    lists_page(&visit, &member, &tenant, values, StatusCode::OK).await
}

/// `POST /listen`: creates a list and goes to its page.
pub(super) async fn create(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let name = body.get("name").trim().to_owned();
    match lists::create(&visit.app, &tenant, &name).await {
        Ok(list) => redirect_naming(
            &format!("/listen/{}?hinweis=angelegt", list.id),
            &list.id.to_string(),
        ),
        Err(ListError::Name(reason)) => {
            let invalid = name_problem(&visit, reason);
            let values = ListsView {
                alert: Some(invalid.alert),
                invalid: Some(invalid.field),
                field_error: Some(invalid.problem),
                name,
                ..ListsView::default()
            };
            lists_page(&visit, &member, &tenant, values, StatusCode::BAD_REQUEST).await
        }
        Err(e) => list_failure(&visit, e),
    }
}

// ---------------------------------------------------------------------
// One list

#[derive(Debug, Serialize)]
struct MemberRow {
    id: String,
    name: String,
    email: String,
    status: &'static str,
}

#[derive(Debug, Default, Serialize)]
struct ListView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    may_write: bool,
    id: String,
    name: String,
    members: i64,
    /// The rename form's value.
    new_name: String,
    /// The add-member form's value.
    email: String,
    rows: Vec<MemberRow>,
    next_cursor: Option<String>,
    later_page: bool,
}

impl ListView {
    fn refuse(&mut self, invalid: Invalid) {
        self.alert = Some(invalid.alert);
        self.invalid = Some(invalid.field);
        self.field_error = Some(invalid.problem);
    }
}

/// The name as the member table shows it: first and last name, or the
/// address when no name is known.
fn shown_name(contact: &Contact) -> String {
    let names: Vec<&str> = [&contact.first_name, &contact.last_name]
        .into_iter()
        .flatten()
        .map(|n| n.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        contact.email.to_string()
    } else {
        names.join(" ")
    }
}

fn status_label(status: ContactStatus) -> &'static str {
    super::contacts::status_label(status)
}

async fn find(visit: &Visit, tenant: &TenantId, raw_id: &str) -> Result<List, Response> {
    let id = ListId::parse(raw_id).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?;
    lists::get(&visit.app, tenant, &id)
        .await
        .map_err(|e| list_failure(visit, e))
}

async fn list_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    list: &List,
    cursor: Option<Cursor>,
    mut values: ListView,
    status: StatusCode,
) -> Response {
    let later = cursor.is_some();
    let paged = match lists::members(&visit.app, tenant, &list.id, PAGE_SIZE, cursor).await {
        Err(ListError::InvalidCursor) => {
            lists::members(&visit.app, tenant, &list.id, PAGE_SIZE, None)
                .await
                .map(|page| (page, false))
        }
        other => other.map(|page| (page, later)),
    };
    let ((page, next), later) = match paged {
        Ok(paged) => paged,
        Err(e) => return list_failure(visit, e),
    };
    values.rows = page
        .iter()
        .map(|c| MemberRow {
            id: c.id.to_string(),
            name: shown_name(c),
            email: c.email.to_string(),
            status: status_label(c.status),
        })
        .collect();
    values.next_cursor = next
        .map(|c| url::form_urlencoded::byte_serialize(c.as_str().as_bytes()).collect::<String>());
    values.later_page = later;
    values.id = list.id.to_string();
    values.name = list.name.clone();
    values.members = list.members;
    if values.new_name.is_empty() {
        values.new_name = list.name.clone();
    }
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    let layout = visit.layout(member, "/listen");
    view::page(status, "list.html", &layout, &values, visit.https)
}

/// `GET /listen/{list_id}`: one page of the list's members.
pub(super) async fn page(visit: Visit, Path(list_id): Path<String>, uri: Uri) -> Response {
    let query = page_query(&uri);
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let list = match find(&visit, &tenant, &list_id).await {
        Ok(list) => list,
        Err(response) => return response,
    };
    let cursor = (!query.weiter.is_empty()).then(|| Cursor::from_client(query.weiter.clone()));
    let values = ListView {
        notice: notice_id(&query.hinweis).map(|id| visit.tr(id)),
        ..ListView::default()
    };
    list_page(
        &visit,
        &member,
        &tenant,
        &list,
        cursor,
        values,
        StatusCode::OK,
    )
    .await
}

/// `POST /listen/{list_id}`: renames the list.
pub(super) async fn rename(visit: Visit, Path(list_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let list = match find(&visit, &tenant, &list_id).await {
        Ok(list) => list,
        Err(response) => return response,
    };
    let name = body.get("name").trim().to_owned();
    match lists::rename(&visit.app, &tenant, &list.id, &name).await {
        Ok(_) => redirect(&format!("/listen/{}?hinweis=umbenannt", list.id), "/listen"),
        Err(ListError::Name(reason)) => {
            let mut values = ListView {
                new_name: name,
                ..ListView::default()
            };
            values.refuse(name_problem(&visit, reason));
            list_page(
                &visit,
                &member,
                &tenant,
                &list,
                None,
                values,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => list_failure(&visit, e),
    }
}

/// `POST /listen/{list_id}/loeschen`: deletes the list (not its contacts)
/// once the box is ticked.
pub(super) async fn delete(visit: Visit, Path(list_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let list = match find(&visit, &tenant, &list_id).await {
        Ok(list) => list,
        Err(response) => return response,
    };
    if body.get("bestaetigt") != "ja" {
        let mut values = ListView::default();
        values.refuse(visit.invalid(
            "bestaetigt",
            "lists-delete-confirm",
            visit.tr("lists-problem-confirm-delete"),
        ));
        return list_page(
            &visit,
            &member,
            &tenant,
            &list,
            None,
            values,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    match lists::delete(&visit.app, &tenant, &list.id).await {
        Ok(()) => redirect("/listen?hinweis=geloescht", "/listen"),
        Err(e) => list_failure(&visit, e),
    }
}

/// `POST /listen/{list_id}/mitglieder`: adds the tenant's contact with the
/// address given; an address without a contact is shown as a problem.
pub(super) async fn add_member(
    visit: Visit,
    Path(list_id): Path<String>,
    body: FormBody,
) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let list = match find(&visit, &tenant, &list_id).await {
        Ok(list) => list,
        Err(response) => return response,
    };
    let raw = body.get("email").trim().to_owned();
    let found = match EmailAddress::parse(&raw) {
        Ok(email) => match contacts::find_by_email(&visit.app, &tenant, &email).await {
            Ok(found) => found,
            Err(contacts::ContactError::Store(s)) => return visit.store_failure(s),
            Err(_) => None,
        },
        Err(_) => None,
    };
    let Some(contact) = found else {
        let mut values = ListView {
            email: raw,
            ..ListView::default()
        };
        values.refuse(visit.invalid("email", "field-email", visit.tr("lists-problem-no-contact")));
        return list_page(
            &visit,
            &member,
            &tenant,
            &list,
            None,
            values,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    match lists::add_member(&visit.app, &tenant, &list.id, &contact.id).await {
        Ok(()) => redirect_naming(
            &format!("/listen/{}?hinweis=hinzugefuegt", list.id),
            &list.id.to_string(),
        ),
        Err(e) => list_failure(&visit, e),
    }
}

/// `POST /listen/{list_id}/mitglieder/{contact_id}/entfernen`: removes a
/// member (the contact stays).
pub(super) async fn remove_member(
    visit: Visit,
    Path((list_id, contact_id)): Path<(String, String)>,
) -> Response {
    let (_, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let list = match find(&visit, &tenant, &list_id).await {
        Ok(list) => list,
        Err(response) => return response,
    };
    let Ok(contact) = crate::domain::ContactId::parse(&contact_id) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    match lists::remove_member(&visit.app, &tenant, &list.id, &contact).await {
        Ok(()) => redirect(&format!("/listen/{}?hinweis=entfernt", list.id), "/listen"),
        Err(e) => list_failure(&visit, e),
    }
}
