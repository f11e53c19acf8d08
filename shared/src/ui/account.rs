//! The user's own account (Konto): changing the password, and setting up
//! the TOTP second factor with a QR code.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde::Serialize;

use super::forms::{FormBody, Invalid, Member, Visit};
use super::view;
use crate::auth::password::{PasswordPolicy, PasswordProblem};
use crate::services::account::{self, AccountError};
use crate::services::users;

#[derive(Debug, Serialize)]
struct TotpView {
    qr_data_uri: String,
    secret: String,
}

#[derive(Debug, Default, Serialize)]
struct AccountView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    totp_setup: Option<TotpView>,
    email: String,
    must_change_password: bool,
    totp_active: bool,
    totp_pending: bool,
    min_password: usize,
}

impl AccountView {
    fn refuse(mut self, invalid: Invalid) -> Self {
        self.alert = Some(invalid.alert);
        self.invalid = Some(invalid.field);
        self.field_error = Some(invalid.problem);
        self
    }
}

/// The account page as the member's stored state now is.
async fn account_page(
    visit: &Visit,
    member: &Member,
    mut values: AccountView,
    status: StatusCode,
) -> Response {
    // Re-read: the handler may just have changed the user.
    let user = match users::get(
        &visit.app,
        member.principal.tenant.as_ref(),
        &member.principal.user_id,
    )
    .await
    {
        Ok(user) => user,
        Err(e) => return visit.user_failure(e),
    };
    values.email = user.email.to_string();
    values.must_change_password = user.must_change_password;
    values.totp_active = user.second_factor.is_some();
    values.totp_pending = user.pending_second_factor.is_some();
    values.min_password = PasswordPolicy::default().min_chars;
    let member = Member {
        principal: member.principal.clone(),
        user,
    };
    let layout = visit.layout(&member, "/konto");
    view::page(status, "account.html", &layout, &values, visit.https)
}

fn account_failure(visit: &Visit, e: AccountError) -> Response {
    match e {
        AccountError::User(u) => visit.user_failure(u),
        AccountError::Store(s) => visit.store_failure(s),
        AccountError::SecondFactorActive => visit.fail(StatusCode::CONFLICT),
        AccountError::Throttled(_) => visit.fail(StatusCode::TOO_MANY_REQUESTS),
        other => {
            tracing::error!(error = %other, "page: account use case failed");
            visit.fail(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// `GET /konto`: the password form and the second factor's state.
pub(super) async fn page(visit: Visit) -> Response {
    let member = match visit.member(true).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    account_page(&visit, &member, AccountView::default(), StatusCode::OK).await
}

pub(super) fn password_problem(visit: &Visit, problem: &PasswordProblem) -> String {
    match problem {
        PasswordProblem::TooShort { min } => {
            visit.tr_args("problem-password-too-short", &[("min", min.to_string())])
        }
        PasswordProblem::TooLong { max } => {
            visit.tr_args("problem-password-too-long", &[("max", max.to_string())])
        }
        PasswordProblem::TooCommon => visit.tr("problem-password-too-common"),
        PasswordProblem::ContainsPersonalData => visit.tr("problem-password-personal"),
    }
}

/// `POST /konto/kennwort`: checks the current password, then sets the new
/// one if the policy accepts it (this also ends a one-time password).
pub(super) async fn change_password(visit: Visit, body: FormBody) -> Response {
    let member = match visit.member(true).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let token = crate::http::access::session_token(&visit.app, &visit.headers);
    let changed = account::change_password(
        &visit.app,
        &member.user,
        body.get("current_password"),
        body.get("new_password"),
        token.as_ref(),
    )
    .await;
    let invalid = match changed {
        Ok(()) => None,
        Err(AccountError::WrongCurrentPassword) => Some(visit.invalid(
            "current_password",
            "field-current-password",
            visit.tr("problem-password-wrong"),
        )),
        Err(AccountError::Password(problem)) => Some(visit.invalid(
            "new_password",
            "field-new-password",
            password_problem(&visit, &problem),
        )),
        Err(AccountError::User(e)) => return visit.user_failure(e),
        Err(AccountError::Throttled(_)) => return visit.fail(StatusCode::TOO_MANY_REQUESTS),
        Err(e) => {
            tracing::error!(error = %e, "page: password change failed");
            return visit.fail(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    if let Some(invalid) = invalid {
        let values = AccountView::default().refuse(invalid);
        return account_page(&visit, &member, values, StatusCode::BAD_REQUEST).await;
    }
    let values = AccountView {
        notice: Some(visit.tr("account-password-changed")),
        ..AccountView::default()
    };
    account_page(&visit, &member, values, StatusCode::OK).await
}

/// `POST /konto/totp`: a new secret, shown as a QR code (an SVG in a
/// `data:` URI, which the CSP allows for images) and as text.
pub(super) async fn start_totp(visit: Visit) -> Response {
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let setup = match account::start_totp(&visit.app, &member.user).await {
        Ok(setup) => setup,
        Err(e) => return account_failure(&visit, e),
    };
    let svg = base64::engine::general_purpose::STANDARD.encode(setup.qr_svg.as_bytes());
    let values = AccountView {
        totp_setup: Some(TotpView {
            qr_data_uri: format!("data:image/svg+xml;base64,{svg}"),
            secret: setup.secret,
        }),
        ..AccountView::default()
    };
    account_page(&visit, &member, values, StatusCode::OK).await
}

/// `POST /konto/totp/bestaetigen`: confirms the pending secret with a code.
pub(super) async fn confirm_totp(visit: Visit, body: FormBody) -> Response {
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let code = body.get("code").trim();
    let problem = match account::confirm_totp(&visit.app, &member.user, code).await {
        Ok(()) => {
            let values = AccountView {
                notice: Some(visit.tr("account-totp-confirmed")),
                ..AccountView::default()
            };
            return account_page(&visit, &member, values, StatusCode::OK).await;
        }
        Err(AccountError::InvalidCode) => visit.tr("problem-code-invalid"),
        Err(AccountError::NothingToConfirm) => visit.tr("problem-nothing-to-confirm"),
        Err(e) => return account_failure(&visit, e),
    };
    let values = AccountView::default().refuse(visit.invalid("code", "field-code", problem));
    account_page(&visit, &member, values, StatusCode::BAD_REQUEST).await
}
