//! Sign-in routes: password sign-in (with a TOTP code when the user has a
//! second factor), sign-out, the signed-in user, and the password change.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access;
use super::{ApiError, ApiJson};
use crate::App;
use crate::domain::{Principal, Role, User};
use crate::services::account::{self, AccountError, TotpSetup};
use crate::services::sessions::{self, ABSOLUTE_TIMEOUT};
use crate::services::sign_in::{self, Attempt};
use crate::services::users;

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(start_totp, remove_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(request_password_reset))
        .routes(routes!(complete_password_reset))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    pub email: String,
    pub password: String,
    /// The 6-digit code, when the user has a second factor.
    pub totp_code: Option<String>,
}

/// The signed-in user, and the token state-changing requests must carry in
/// `X-CSRF-Token` (for the browser session).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub tenant_id: Option<String>,
    pub must_change_password: bool,
    pub second_factor: bool,
    pub csrf_token: Option<String>,
}

impl Me {
    fn of(user: &User, csrf_token: Option<String>) -> Self {
        Self {
            user_id: user.id.to_string(),
            name: user.name.as_str().to_owned(),
            email: user.email.to_string(),
            role: user.role,
            tenant_id: user.tenant.as_ref().map(ToString::to_string),
            must_change_password: user.must_change_password,
            second_factor: user.second_factor.is_some(),
            csrf_token,
        }
    }
}

/// Signs in with address and password; sets the session cookie.
#[utoipa::path(post, path = "/api/auth/sign-in", tag = "auth",
    request_body = SignInBody,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = Me),
        (status = 401, description = "Wrong address, password or code, or a code is needed", body = super::Problem),
        (status = 429, description = "Too many failed attempts", body = super::Problem),
    ))]
async fn sign_in(
    State(app): State<App>,
    access::ClientIp(ip): access::ClientIp,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response, ApiError> {
    let signed_in = sign_in::sign_in(
        &app,
        Attempt {
            email: &body.email,
            password: &body.password,
            totp_code: body.totp_code.as_deref(),
            ip,
        },
    )
    .await?;
    let csrf = sessions::csrf_token(&app, &signed_in.token);
    let cookie = access::session_cookie(
        &app,
        signed_in.token.as_str(),
        ABSOLUTE_TIMEOUT.num_seconds(),
    );
    let mut response = Json(Me::of(&signed_in.user, Some(csrf))).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Ends the session on the server and clears the cookie.
#[utoipa::path(post, path = "/api/auth/sign-out", tag = "auth",
    responses((status = 204, description = "Signed out")))]
async fn sign_out(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = access::session_token(&app, &headers) {
        sessions::end(&app, &token).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, access::session_cookie(&app, "", 0));
    Ok(response)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    responses(
        (status = 200, description = "The signed-in user", body = Me),
        (status = 401, description = "Not signed in", body = super::Problem),
    ))]
async fn me(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
) -> Result<Json<Me>, ApiError> {
    let user = signed_in_user(&app, &principal).await?;
    let csrf = access::session_token(&app, &headers).map(|t| sessions::csrf_token(&app, &t));
    Ok(Json(Me::of(&user, csrf)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the signed-in user's password (also ends a one-time password).
#[utoipa::path(post, path = "/api/auth/password", tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "The new password is not acceptable", body = super::Problem),
        (status = 401, description = "The current password is wrong", body = super::Problem),
    ))]
async fn change_password(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let user = signed_in_user(&app, &principal).await?;
    let token = access::session_token(&app, &headers);
    account::change_password(
        &app,
        &user,
        &body.current_password,
        &body.new_password,
        token.as_ref(),
    )
    .await
    .map_err(account_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's own record.
async fn signed_in_user(app: &App, principal: &Principal) -> Result<User, ApiError> {
    Ok(users::get(app, principal.tenant.as_ref(), &principal.user_id).await?)
}

fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::InvalidCode => ApiError::bad_request("code", e),
        AccountError::WrongCurrentPassword => ApiError::SignInRefused(e.to_string()),
        AccountError::Throttled(retry_after) => ApiError::TooManyAttempts {
            retry_after_seconds: retry_after.num_seconds(),
        },
        AccountError::NothingToConfirm => ApiError::Unprocessable(e.to_string()),
        AccountError::SecondFactorRequired => ApiError::Unprocessable(e.to_string()),
        AccountError::SecondFactorActive => ApiError::Conflict(e.to_string()),
        AccountError::InvalidResetLink => ApiError::bad_request("token", e),
        AccountError::Password(problem) => ApiError::bad_request("new_password", problem),
        AccountError::User(u) => u.into(),
        AccountError::Store(s) => s.into(),
        AccountError::Mail(m) => m.into(),
        AccountError::Internal(i) => ApiError::Internal(i),
    }
}

/// Starts setting up a TOTP second factor: a new secret and its QR code.
#[utoipa::path(post, path = "/api/auth/totp", tag = "auth",
    responses((status = 200, description = "The secret to add to an authenticator app", body = TotpSetup)))]
async fn start_totp(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<TotpSetup>, ApiError> {
    let user = signed_in_user(&app, &principal).await?;
    Ok(Json(
        account::start_totp(&app, &user)
            .await
            .map_err(account_error)?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// The 6-digit code the authenticator app shows.
    pub code: String,
}

/// Confirms the second factor with a code; sign-in asks for codes from now on.
#[utoipa::path(post, path = "/api/auth/totp/confirm", tag = "auth",
    request_body = TotpCode,
    responses(
        (status = 204, description = "The second factor is on"),
        (status = 400, description = "The code is not right", body = super::Problem),
    ))]
async fn confirm_totp(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<TotpCode>,
) -> Result<StatusCode, ApiError> {
    let user = signed_in_user(&app, &principal).await?;
    account::confirm_totp(&app, &user, &body.code)
        .await
        .map_err(account_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpRemoval {
    pub current_password: String,
}

/// Removes the second factor, with the current password (not where the
/// institute requires one).
#[utoipa::path(delete, path = "/api/auth/totp", tag = "auth",
    request_body = TotpRemoval,
    responses(
        (status = 204, description = "The second factor is off"),
        (status = 401, description = "The current password is wrong", body = super::Problem),
        (status = 422, description = "The institute requires a second factor", body = super::Problem),
    ))]
async fn remove_totp(
    State(app): State<App>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<TotpRemoval>,
) -> Result<StatusCode, ApiError> {
    let user = signed_in_user(&app, &principal).await?;
    account::remove_totp(&app, &user, &body.current_password)
        .await
        .map_err(account_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
}

/// Sends a one-time link to set a new password, if the address has an
/// account. Answers the same either way.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "auth",
    request_body = ResetRequest,
    responses((status = 202, description = "If the address has an account, a link is on its way")))]
async fn request_password_reset(
    State(app): State<App>,
    access::ClientIp(ip): access::ClientIp,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    account::request_reset(&app, &body.email, ip)
        .await
        .map_err(account_error)?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetCompletion {
    /// The token from the link.
    pub token: String,
    pub new_password: String,
}

/// Sets a new password with the token from a reset link.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "auth",
    request_body = ResetCompletion,
    responses(
        (status = 204, description = "The new password is set"),
        (status = 400, description = "The link is spent or expired, or the password not acceptable", body = super::Problem),
    ))]
async fn complete_password_reset(
    State(app): State<App>,
    ApiJson(body): ApiJson<ResetCompletion>,
) -> Result<StatusCode, ApiError> {
    account::complete_reset(&app, &body.token, &body.new_password)
        .await
        .map_err(account_error)?;
    Ok(StatusCode::NO_CONTENT)
}
