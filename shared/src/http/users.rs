//! User administration (Benutzerverwaltung) of a tenant: tenant admins
//! manage their tenant's users; product admins manage tenant admins.

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
use crate::domain::{
    EmailAddress, PersonName, Principal, Role, TenantId, User, UserId, UserStatus,
};
use crate::services::account::{self, AccountError};
use crate::services::tenants;
use crate::services::users::{self, NewUser, UserError};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user, delete_user))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub second_factor: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.to_string(),
            name: u.name.as_str().to_owned(),
            role: u.role,
            status: u.status,
            second_factor: u.second_factor.is_some(),
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    #[schema(value_type = String, format = "email")]
    pub email: EmailAddress,
    #[schema(value_type = String)]
    pub name: PersonName,
    pub role: Role,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserView,
    /// Shown this once: the user signs in with it and chooses their own.
    /// Absent when the user was invited by e-mail instead (a product admin
    /// never sees a tenant admin's password).
    pub one_time_password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    #[schema(value_type = Option<String>)]
    pub name: Option<PersonName>,
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|_| ApiError::NotFound("user"))
}

/// Whether the principal may manage a user of this role (product admins:
/// tenant admins only).
fn may_manage(principal: &Principal, role: Role) -> bool {
    principal.role.may_grant(role)
}

/// The tenant and user named in the path, if the principal may manage that
/// user: never themselves, and users they may not manage are not found.
async fn managed_target(
    app: &App,
    principal: &Principal,
    tenant: &str,
    user: &str,
) -> Result<(TenantId, UserId), ApiError> {
    let tenant = super::path_tenant(tenant)?;
    let id = user_id(user)?;
    if id == principal.user_id {
        return Err(UserError::SelfChange.into());
    }
    let target = users::get(app, Some(&tenant), &id).await?;
    if !may_manage(principal, target.role) {
        return Err(ApiError::NotFound("user"));
    }
    Ok((tenant, id))
}

/// The users of the tenant that the principal may manage.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/users", tag = "users",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The users", body = Vec<UserView>),
        (status = 403, description = "Not allowed", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn list_users(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    tenants::get(&app, &tenant).await?;
    let users = users::list(&app, Some(&tenant)).await?;
    Ok(Json(
        users
            .iter()
            .filter(|u| may_manage(&principal, u.role))
            .map(UserView::from)
            .collect(),
    ))
}

/// Creates a user with a one-time password.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/users", tag = "users",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = NewUserBody,
    responses(
        (status = 201, description = "Created", body = CreatedUser),
        (status = 400, description = "A field is invalid", body = super::Problem),
        (status = 403, description = "The role may not be granted", body = super::Problem),
        (status = 409, description = "The address has an account already", body = super::Problem),
    ))]
async fn create_user(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<CreatedUser>), ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    if !may_manage(&principal, body.role) {
        return Err(ApiError::Forbidden);
    }
    tenants::get(&app, &tenant).await?;
    let new = NewUser {
        tenant: Some(tenant),
        email: body.email,
        name: body.name,
        role: body.role,
        password_hash: None,
    };
    let (user, password) = account::create_user_for(&app, principal.role, new)
        .await
        .map_err(|e| match e {
            AccountError::User(u) => ApiError::from(u),
            AccountError::Store(s) => ApiError::from(s),
            AccountError::Mail(m) => ApiError::from(m),
            other => ApiError::Internal(other.to_string()),
        })?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, user.id.to_string())],
        Json(CreatedUser {
            user: UserView::from(&user),
            one_time_password: password,
        }),
    ))
}

/// Changes a user's role, status or name.
#[utoipa::path(patch, path = "/api/tenants/{tenant_id}/users/{user_id}", tag = "users",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("user_id" = String, Path, description = "The user"),
    ),
    request_body = UserChange,
    responses(
        (status = 200, description = "Changed", body = UserView),
        (status = 403, description = "Not allowed", body = super::Problem),
        (status = 404, description = "No such user", body = super::Problem),
    ))]
async fn update_user(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path((tenant, user)): Path<(String, String)>,
    ApiJson(change): ApiJson<UserChange>,
) -> Result<Json<UserView>, ApiError> {
    let (tenant, id) = managed_target(&app, &principal, &tenant, &user).await?;
    if change
        .role
        .is_some_and(|role| !may_manage(&principal, role))
    {
        return Err(ApiError::Forbidden);
    }
    let user = users::update(&app, Some(&tenant), &id, |u| {
        if let Some(role) = change.role {
            u.role = role;
        }
        if let Some(status) = change.status {
            u.status = status;
        }
        if let Some(name) = change.name {
            u.name = name;
        }
        Ok(())
    })
    .await?;
    Ok(Json(UserView::from(&user)))
}

/// Deletes a user and their sign-in.
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/users/{user_id}", tag = "users",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("user_id" = String, Path, description = "The user"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such user", body = super::Problem),
    ))]
async fn delete_user(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (tenant, id) = managed_target(&app, &principal, &tenant, &user).await?;
    users::delete(&app, Some(&tenant), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
