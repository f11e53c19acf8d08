//! The overview, user administration (Benutzerverwaltung), tenant
//! administration (Mandanten) and the audit log page (Änderungsprotokoll).

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use fluent_bundle::FluentArgs;
use serde::Serialize;

use super::forms::{FormBody, Invalid, Member, Visit};
use super::i18n::{self, Lang};
use super::view;
use crate::domain::{
    EmailAddress, EmailAddressError, Permission, PersonName, Role, Tenant, TenantId, TenantName,
    TenantNameError, TenantStatus, UserId, UserStatus,
};
use crate::http::access::AUDIT_OBJECT;
use crate::services::account::AccountError;
use crate::services::audit::{self, Filter, Outcome};
use crate::services::tenants::{self, TenantError};
use crate::services::users::{self, NewUser, UserError};

/// How many audit entries the page shows.
const AUDIT_PAGE_SIZE: u32 = 100;

/// A time in Berlin, e.g. "27.11.2026, 14:30 Uhr".
pub(super) fn date_time(lang: Lang, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&chrono_tz::Europe::Berlin);
    let mut args = FluentArgs::new();
    args.set("date", date(lang, at));
    args.set("time", local.format("%H:%M").to_string());
    i18n::message(lang, "datetime", Some(&args))
}

/// A day in Berlin, e.g. "27.11.2026".
pub(super) fn date(lang: Lang, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&chrono_tz::Europe::Berlin);
    match lang {
        Lang::De => local.format("%d.%m.%Y").to_string(),
        Lang::En => local.format("%d/%m/%Y").to_string(),
    }
}

pub(super) fn tenant_failure(visit: &Visit, e: TenantError) -> Response {
    match e {
        TenantError::Store(s) => visit.store_failure(s),
        TenantError::NotFound | TenantError::Suspended => visit.fail(StatusCode::NOT_FOUND),
    }
}

#[derive(Serialize)]
struct OverviewView {
    overview_text: String,
}

/// `GET /`: the overview.
pub(super) async fn overview(visit: Visit) -> Response {
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let values = OverviewView {
        overview_text: format!("overview-role-{}", member.principal.role.as_str()),
    };
    let layout = visit.layout(&member, "/");
    view::page(
        StatusCode::OK,
        "overview.html",
        &layout,
        &values,
        visit.https,
    )
}

#[derive(Debug, Default, Serialize)]
struct UserRow {
    id: String,
    name: String,
    email: String,
    role: String,
    role_value: &'static str,
    status: String,
    active: bool,
    /// The member themselves: no forms to change or delete.
    is_self: bool,
}

#[derive(Debug, Serialize)]
struct RoleOption {
    value: &'static str,
    label: String,
}

#[derive(Debug, Default, Serialize)]
struct UserForm {
    email: String,
    name: String,
    role: String,
}

#[derive(Debug, Serialize)]
struct CreatedUser {
    name: String,
    password: String,
}

#[derive(Debug, Serialize)]
struct TenantChoice {
    id: String,
    name: String,
}

#[derive(Debug, Default, Serialize)]
struct UsersView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    created: Option<CreatedUser>,
    form: UserForm,
    /// For a product admin: the tenants to choose from.
    tenants: Vec<TenantChoice>,
    choose_tenant: bool,
    tenant_id: Option<String>,
    tenant_name: Option<String>,
    users: Vec<UserRow>,
    grantable: Vec<RoleOption>,
}

impl UsersView {
    fn refuse(&mut self, invalid: Invalid) {
        self.alert = Some(invalid.alert);
        self.invalid = Some(invalid.field);
        self.field_error = Some(invalid.problem);
    }
}

/// The tenant whose users the member manages: their own, or for a product
/// admin the one named by `mandant` (none yet: they choose first).
async fn managed_tenant(
    visit: &Visit,
    member: &Member,
    named: Option<&str>,
) -> Result<Option<Tenant>, Response> {
    if !member.principal.role.may(Permission::ManageUsers) {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    }
    let id = match (&member.principal.tenant, member.principal.role) {
        (Some(own), _) => own.clone(),
        (None, Role::ProductAdmin) => match named.filter(|n| !n.is_empty()) {
            None => return Ok(None),
            Some(raw) => TenantId::parse(raw).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?,
        },
        (None, _) => return Err(visit.fail(StatusCode::FORBIDDEN)),
    };
    tenants::get(&visit.app, &id)
        .await
        .map(Some)
        .map_err(|e| tenant_failure(visit, e))
}

async fn users_page(
    visit: &Visit,
    member: &Member,
    tenant: Option<Tenant>,
    mut values: UsersView,
    status: StatusCode,
) -> Response {
    let role = member.principal.role;
    values.choose_tenant = member.principal.tenant.is_none();
    if values.choose_tenant {
        match tenants::list(&visit.app).await {
            Ok(all) => {
                values.tenants = all
                    .into_iter()
                    .map(|t| TenantChoice {
                        id: t.id.to_string(),
                        name: t.name.as_str().to_owned(),
                    })
                    .collect();
            }
            Err(e) => return tenant_failure(visit, e),
        }
    }
    if let Some(tenant) = &tenant {
        let all = match users::list(&visit.app, Some(&tenant.id)).await {
            Ok(all) => all,
            Err(e) => return visit.user_failure(e),
        };
        values.users = all
            .iter()
            .filter(|u| role.may_grant(u.role))
            .map(|u| UserRow {
                id: u.id.to_string(),
                name: u.name.as_str().to_owned(),
                email: u.email.to_string(),
                role: view::role_label(u.role),
                role_value: u.role.as_str(),
                status: match u.status {
                    UserStatus::Active => "status-active",
                    UserStatus::Disabled => "status-disabled",
                }
                .to_owned(),
                active: u.status == UserStatus::Active,
                is_self: u.id == member.principal.user_id,
            })
            .collect();
        values.tenant_id = Some(tenant.id.to_string());
        values.tenant_name = Some(tenant.name.as_str().to_owned());
    }
    values.grantable = Role::ALL
        .into_iter()
        .filter(|r| role.may_grant(*r))
        .map(|r| RoleOption {
            value: r.as_str(),
            label: view::role_label(r),
        })
        .collect();
    if values.form.role.is_empty() {
        // The least the principal may grant: viewers before editors.
        values.form.role = values
            .grantable
            .last()
            .map(|r| r.value.to_owned())
            .unwrap_or_default();
    }
    let layout = visit.layout(member, "/benutzer");
    view::page(status, "users.html", &layout, &values, visit.https)
}

/// `GET /benutzer`: the tenant's users the member may manage, and the form
/// for a new one.
pub(super) async fn users(visit: Visit, Query(query): Query<HashMap<String, String>>) -> Response {
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let tenant =
        match managed_tenant(&visit, &member, query.get("mandant").map(String::as_str)).await {
            Ok(tenant) => tenant,
            Err(response) => return response,
        };
    users_page(
        &visit,
        &member,
        tenant,
        UsersView::default(),
        StatusCode::OK,
    )
    .await
}

fn check_email(visit: &Visit, raw: &str) -> Result<EmailAddress, Invalid> {
    let problem = match EmailAddress::parse(raw) {
        Ok(email) => return Ok(email),
        Err(EmailAddressError::Empty) => visit.tr("problem-required"),
        Err(EmailAddressError::TooLong) => {
            visit.tr_args("problem-too-long", &[("max", "254".to_owned())])
        }
        Err(_) => visit.tr("problem-email-invalid"),
    };
    Err(visit.invalid("email", "field-email", problem))
}

fn check_name(visit: &Visit, raw: &str) -> Result<PersonName, Invalid> {
    let trimmed = raw.trim();
    let problem = if trimmed.is_empty() {
        visit.tr("problem-required")
    } else if trimmed.chars().count() > 100 {
        visit.tr_args("problem-too-long", &[("max", "100".to_owned())])
    } else if trimmed.chars().any(char::is_control) {
        visit.tr("problem-control-characters")
    } else {
        match PersonName::parse(trimmed) {
            Ok(name) => return Ok(name),
            Err(_) => visit.tr("problem-control-characters"),
        }
    };
    Err(visit.invalid("name", "field-name", problem))
}

/// `POST /benutzer`: creates a user with a one-time password and shows it,
/// once.
pub(super) async fn create_user(visit: Visit, body: FormBody) -> Response {
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let tenant = match managed_tenant(&visit, &member, Some(body.get("mandant"))).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => return visit.fail(StatusCode::NOT_FOUND),
        Err(response) => return response,
    };
    let mut values = UsersView {
        form: UserForm {
            email: body.get("email").trim().to_owned(),
            name: body.get("name").trim().to_owned(),
            role: body.get("role").to_owned(),
        },
        ..UsersView::default()
    };
    let checked = check_email(&visit, body.get("email")).and_then(|email| {
        let name = check_name(&visit, body.get("name"))?;
        let role = Role::parse(body.get("role"))
            .filter(|r| member.principal.role.may_grant(*r))
            .ok_or_else(|| {
                visit.invalid("role", "field-role", visit.tr("problem-role-not-grantable"))
            })?;
        Ok((email, name, role))
    });
    let (email, name, role) = match checked {
        Ok(fields) => fields,
        Err(invalid) => {
            let status = if invalid.field == "role" {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_REQUEST
            };
            values.refuse(invalid);
            return users_page(&visit, &member, Some(tenant), values, status).await;
        }
    };
    let new = NewUser {
        tenant: Some(tenant.id.clone()),
        email,
        name,
        role,
        password_hash: None,
    };
    match crate::services::account::create_user_for(&visit.app, member.principal.role, new).await {
        Ok((user, password)) => {
            match password {
                Some(password) => {
                    values.created = Some(CreatedUser {
                        name: user.name.as_str().to_owned(),
                        password,
                    });
                }
                None => values.notice = Some(visit.tr("users-invited")),
            }
            values.form = UserForm::default();
            let mut response =
                users_page(&visit, &member, Some(tenant), values, StatusCode::OK).await;
            if let Ok(id) = HeaderValue::from_str(&user.id.to_string()) {
                response.headers_mut().insert(AUDIT_OBJECT, id);
            }
            response
        }
        Err(AccountError::User(UserError::DuplicateEmail)) => {
            values.refuse(visit.invalid("email", "field-email", visit.tr("problem-email-taken")));
            users_page(&visit, &member, Some(tenant), values, StatusCode::CONFLICT).await
        }
        Err(AccountError::User(UserError::RoleNotAllowed(_))) => {
            values.refuse(visit.invalid(
                "role",
                "field-role",
                visit.tr("problem-role-not-grantable"),
            ));
            users_page(
                &visit,
                &member,
                Some(tenant),
                values,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(AccountError::User(e)) => visit.user_failure(e),
        Err(AccountError::Store(e)) => visit.store_failure(e),
        Err(e) => {
            tracing::error!(error = %e, "page: user creation failed");
            visit.fail(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// A change of a user from a row of the user table.
enum UserAction {
    Update {
        role: Option<Role>,
        status: Option<UserStatus>,
    },
    Delete,
}

/// `POST /benutzer/{user_id}`: changes a user's role and/or status.
pub(super) async fn update_user(
    visit: Visit,
    Path(user_id): Path<String>,
    body: FormBody,
) -> Response {
    let status = match body.get("status") {
        "" => None,
        "active" => Some(UserStatus::Active),
        "disabled" => Some(UserStatus::Disabled),
        _ => return visit.fail(StatusCode::BAD_REQUEST),
    };
    let role = match body.get("role") {
        "" => None,
        raw => match Role::parse(raw) {
            Some(role) => Some(role),
            None => return visit.fail(StatusCode::BAD_REQUEST),
        },
    };
    if role.is_none() && status.is_none() {
        return visit.fail(StatusCode::BAD_REQUEST);
    }
    act_on_user(visit, &user_id, &body, UserAction::Update { role, status }).await
}

/// `POST /benutzer/{user_id}/loeschen`: deletes a user and their sign-in.
pub(super) async fn delete_user(
    visit: Visit,
    Path(user_id): Path<String>,
    body: FormBody,
) -> Response {
    act_on_user(visit, &user_id, &body, UserAction::Delete).await
}

/// Changes or deletes a user of the managed tenant: never the member
/// themselves, nor a user whose current or new role they may not grant.
async fn act_on_user(visit: Visit, raw_id: &str, body: &FormBody, action: UserAction) -> Response {
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let tenant = match managed_tenant(&visit, &member, Some(body.get("mandant"))).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => return visit.fail(StatusCode::NOT_FOUND),
        Err(response) => return response,
    };
    let Ok(id) = UserId::parse(raw_id) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    let role = member.principal.role;
    let refuse = |alert: String| UsersView {
        alert: Some(alert),
        ..UsersView::default()
    };
    if id == member.principal.user_id {
        let values = refuse(visit.tr("users-not-yourself"));
        return users_page(&visit, &member, Some(tenant), values, StatusCode::FORBIDDEN).await;
    }
    let target = match users::get(&visit.app, Some(&tenant.id), &id).await {
        Ok(target) => target,
        Err(e) => return visit.user_failure(e),
    };
    // Users the member may not manage are not listed, so not found either.
    if !role.may_grant(target.role) {
        return visit.fail(StatusCode::NOT_FOUND);
    }
    let name = target.name.as_str().to_owned();
    let notice = match action {
        UserAction::Update {
            role: new_role,
            status,
        } => {
            if let Some(new_role) = new_role
                && !role.may_grant(new_role)
            {
                let mut values = UsersView::default();
                values.refuse(visit.invalid(
                    "role",
                    "field-role",
                    visit.tr("problem-role-not-grantable"),
                ));
                return users_page(&visit, &member, Some(tenant), values, StatusCode::FORBIDDEN)
                    .await;
            }
            let changed = users::update(&visit.app, Some(&tenant.id), &id, |u| {
                // Re-checked on the version written: a role changed meanwhile.
                if !role.may_grant(u.role) {
                    return Err(UserError::RoleNotAllowed("the user's role"));
                }
                if let Some(new_role) = new_role {
                    u.role = new_role;
                }
                if let Some(status) = status {
                    u.status = status;
                }
                Ok(())
            })
            .await;
            let user = match changed {
                Ok(user) => user,
                Err(UserError::RoleNotAllowed(_)) => return visit.fail(StatusCode::NOT_FOUND),
                Err(e) => return visit.user_failure(e),
            };
            match status {
                None => visit.tr_args(
                    "users-role-changed",
                    &[
                        ("name", name),
                        ("role", visit.tr(&view::role_label(user.role))),
                    ],
                ),
                Some(UserStatus::Disabled) => visit.tr_args("users-disabled", &[("name", name)]),
                Some(UserStatus::Active) => visit.tr_args("users-enabled", &[("name", name)]),
            }
        }
        UserAction::Delete => match users::delete(&visit.app, Some(&tenant.id), &id).await {
            Ok(_) => visit.tr_args("users-deleted", &[("name", name)]),
            Err(e) => return visit.user_failure(e),
        },
    };
    let values = UsersView {
        notice: Some(notice),
        ..UsersView::default()
    };
    let mut response = users_page(&visit, &member, Some(tenant), values, StatusCode::OK).await;
    if let Ok(object) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(AUDIT_OBJECT, object);
    }
    response
}

#[derive(Debug, Serialize)]
struct TenantRow {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
}

#[derive(Debug, Serialize)]
struct CreatedTenant {
    id: String,
    name: String,
}

#[derive(Debug, Default, Serialize)]
struct TenantForm {
    name: String,
}

#[derive(Debug, Default, Serialize)]
struct TenantsView {
    alert: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    created: Option<CreatedTenant>,
    form: TenantForm,
    tenants: Vec<TenantRow>,
    may_create: bool,
}

async fn tenants_page(
    visit: &Visit,
    member: &Member,
    mut values: TenantsView,
    status: StatusCode,
) -> Response {
    let all = match tenants::list(&visit.app).await {
        Ok(all) => all,
        Err(e) => return tenant_failure(visit, e),
    };
    values.tenants = all
        .into_iter()
        .map(|t| TenantRow {
            id: t.id.to_string(),
            name: t.name.as_str().to_owned(),
            status: match t.status {
                TenantStatus::Active => "tenant-status-active",
                TenantStatus::Suspended => "tenant-status-suspended",
            },
            created_at: date(visit.lang, t.created_at),
        })
        .collect();
    values.may_create = member.principal.role.may(Permission::ManageTenants);
    let layout = visit.layout(member, "/mandanten");
    view::page(status, "tenants.html", &layout, &values, visit.https)
}

/// `GET /mandanten`: every tenant; the operator also gets the form for a
/// new one.
pub(super) async fn tenants(visit: Visit) -> Response {
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    if !member.principal.role.may(Permission::ReadTenants) {
        return visit.fail(StatusCode::FORBIDDEN);
    }
    tenants_page(&visit, &member, TenantsView::default(), StatusCode::OK).await
}

/// `POST /mandanten`: the operator registers a tenant.
pub(super) async fn create_tenant(visit: Visit, body: FormBody) -> Response {
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    if !member.principal.role.may(Permission::ManageTenants) {
        return visit.fail(StatusCode::FORBIDDEN);
    }
    let mut values = TenantsView {
        form: TenantForm {
            name: body.get("name").trim().to_owned(),
        },
        ..TenantsView::default()
    };
    let name = match TenantName::parse(body.get("name")) {
        Ok(name) => name,
        Err(e) => {
            let problem = match e {
                TenantNameError::Empty => visit.tr("problem-required"),
                TenantNameError::TooLong => {
                    visit.tr_args("problem-too-long", &[("max", "120".to_owned())])
                }
                TenantNameError::ControlCharacters => visit.tr("problem-control-characters"),
            };
            let invalid = visit.invalid("name", "field-tenant-name", problem);
            values.alert = Some(invalid.alert);
            values.invalid = Some(invalid.field);
            values.field_error = Some(invalid.problem);
            return tenants_page(&visit, &member, values, StatusCode::BAD_REQUEST).await;
        }
    };
    match tenants::create(&visit.app, name).await {
        Ok(tenant) => {
            values.created = Some(CreatedTenant {
                id: tenant.id.to_string(),
                name: tenant.name.as_str().to_owned(),
            });
            values.form = TenantForm::default();
            let mut response = tenants_page(&visit, &member, values, StatusCode::OK).await;
            if let Ok(id) = HeaderValue::from_str(tenant.id.as_str()) {
                response.headers_mut().insert(AUDIT_OBJECT, id);
            }
            response
        }
        Err(e) => tenant_failure(&visit, e),
    }
}

#[derive(Debug, Serialize)]
struct AuditRow {
    time: String,
    iso: String,
    action: String,
    object: String,
    outcome: &'static str,
    outcome_class: &'static str,
    role: Option<String>,
    actor: Option<String>,
    ip_network: String,
    ip_hash: String,
}

#[derive(Debug, Serialize)]
struct AuditView {
    intro: &'static str,
    csv_url: String,
    entries: Vec<AuditRow>,
    /// The filter as entered, shown again in the form.
    action: String,
    outcome: String,
    ip: String,
    /// The address entered is not one: say so beside the field.
    ip_invalid: bool,
}

/// The filter of the audit page:
/// `?aktion=<prefix>&ergebnis=<outcome>&ip=<address>`.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    aktion: String,
    #[serde(default)]
    ergebnis: String,
    #[serde(default)]
    ip: String,
}

/// `GET /protokoll`: the latest entries of the tenant's log (tenant admin)
/// or the platform's (operator); 403 for everyone else.
pub(super) async fn audit(visit: Visit, uri: axum::http::Uri) -> Response {
    // A malformed query is simply no filter.
    let query = axum::extract::Query::<AuditQuery>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let action = query.aktion.trim().chars().take(100).collect::<String>();
    let outcome = match query.ergebnis.as_str() {
        "success" => Some(Outcome::Success),
        "denied" => Some(Outcome::Denied),
        "failed" => Some(Outcome::Failed),
        _ => None,
    };
    let ip = query.ip.trim().chars().take(64).collect::<String>();
    let ip_address = ip.parse::<std::net::IpAddr>().ok();
    let ip_invalid = !ip.is_empty() && ip_address.is_none();
    let filter = Filter {
        action_prefix: (!action.is_empty()).then(|| action.clone()),
        outcome,
        ip_hash: ip_address.map(|a| audit::ip_hash(&visit.app.pseudonyms, a)),
    };
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let role = member.principal.role;
    let (scope, intro, csv_url) = if role.may(Permission::ReadAudit) {
        let Some(tenant) = member.principal.tenant.clone() else {
            return visit.fail(StatusCode::FORBIDDEN);
        };
        let url = format!("/api/tenants/{tenant}/audit?format=csv");
        (Some(tenant), "audit-intro-tenant", url)
    } else if role.may(Permission::ReadPlatformAudit) {
        (
            None,
            "audit-intro-platform",
            "/api/platform/audit?format=csv".to_owned(),
        )
    } else {
        return visit.fail(StatusCode::FORBIDDEN);
    };
    if let Some(hash) = &filter.ip_hash {
        audit::record_ip_search(&visit.app, scope.as_ref(), &member.principal, hash).await;
    }
    let entries =
        match audit::list(&visit.app, scope.as_ref(), &filter, AUDIT_PAGE_SIZE, None).await {
            Ok((entries, _)) => entries,
            Err(e) => return visit.store_failure(e),
        };
    // The CSV export carries the same filter.
    let mut csv_url = csv_url;
    if !action.is_empty() {
        csv_url.push_str("&action=");
        csv_url
            .push_str(&url::form_urlencoded::byte_serialize(action.as_bytes()).collect::<String>());
    }
    if outcome.is_some() {
        csv_url.push_str("&outcome=");
        csv_url.push_str(&query.ergebnis);
    }
    if let Some(address) = ip_address {
        csv_url.push_str("&ip=");
        csv_url.push_str(
            &url::form_urlencoded::byte_serialize(address.to_string().as_bytes())
                .collect::<String>(),
        );
    }
    let values = AuditView {
        intro,
        csv_url,
        action,
        outcome: outcome.map(|_| query.ergebnis.clone()).unwrap_or_default(),
        ip,
        ip_invalid,
        entries: entries
            .into_iter()
            .map(|e| {
                let (outcome, outcome_class) = match e.outcome {
                    Outcome::Success => ("outcome-success", "success"),
                    Outcome::Denied => ("outcome-denied", "denied"),
                    Outcome::Failed => ("outcome-failed", "failed"),
                };
                AuditRow {
                    time: date_time(visit.lang, e.at),
                    iso: e.at.to_rfc3339(),
                    action: e.action,
                    object: e.object.unwrap_or_default(),
                    outcome,
                    outcome_class,
                    role: e.actor.role.map(view::role_label),
                    actor: e
                        .actor
                        .user_id
                        .map(|u| u.to_string())
                        .or(e.actor.api_key_id),
                    ip_network: e.ip.as_ref().map(|i| i.network.clone()).unwrap_or_default(),
                    // A short prefix tells entries apart on screen; the CSV
                    // carries the whole hash.
                    ip_hash: e
                        .ip
                        .as_ref()
                        .map(|i| i.hash.chars().take(8).collect())
                        .unwrap_or_default(),
                }
            })
            .collect(),
    };
    let layout = visit.layout(&member, "/protokoll");
    view::page(StatusCode::OK, "audit.html", &layout, &values, visit.https)
}
