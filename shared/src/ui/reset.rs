//! The forgotten password: the form that asks for a reset link (answering
//! the same whoever asks) and the page the e-mailed link opens to set a new
//! password. Both are protected by the pre-session, like the sign-in form.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Serialize;

use super::account::password_problem;
use super::forms::{self, FormBody, Visit};
use super::view::{self, Layout};
use crate::auth::password::PasswordPolicy;
use crate::http::access::ClientIp;
use crate::services::account::{self, AccountError};
use crate::services::users::UserError;

/// The pre-session of the browser, or a new one (then `true`: set it).
fn presession_of(visit: &Visit) -> (String, bool) {
    match forms::presession(&visit.app, &visit.headers) {
        Some(presession) => (presession, false),
        None => (forms::new_presession(), true),
    }
}

/// Whether a posted form comes from our page in this browser.
fn genuine(visit: &Visit, body: &FormBody) -> bool {
    forms::from_our_pages(&visit.app, &visit.headers)
        && forms::presession_matches(&visit.app, &visit.headers, body.get(super::CSRF_FIELD))
}

/// Renders a page of the pre-session's forms, setting its cookie when new.
fn render(
    visit: &Visit,
    status: StatusCode,
    template: &str,
    values: impl Serialize,
    (presession, set_cookie): (String, bool),
) -> Response {
    let layout = Layout::anonymous(visit.lang, forms::presession_token(&visit.app, &presession));
    let mut response = view::page(status, template, &layout, values, visit.https);
    if set_cookie {
        response.headers_mut().append(
            header::SET_COOKIE,
            forms::fresh_presession_cookie(&visit.app, &presession),
        );
    }
    response
}

#[derive(Debug, Default, Serialize)]
struct ForgotView {
    alert: Option<String>,
    /// The request went out: show the confirmation instead of the form.
    sent: bool,
    email: String,
}

/// `GET /kennwort-vergessen`: the form for the e-mail address.
pub(super) async fn forgot_page(visit: Visit) -> Response {
    let presession = presession_of(&visit);
    render(
        &visit,
        StatusCode::OK,
        "forgot_password.html",
        ForgotView::default(),
        presession,
    )
}

/// `POST /kennwort-vergessen`: asks for a reset link and always answers
/// with the same confirmation, whether the address has an account or not
/// (and whether sending worked: failures are only logged).
pub(super) async fn forgot_submit(
    visit: Visit,
    ClientIp(ip): ClientIp,
    body: FormBody,
) -> Response {
    let email = body.get("email").trim().to_owned();
    if !genuine(&visit, &body) {
        let values = ForgotView {
            alert: Some(visit.tr("sign-in-expired")),
            email,
            sent: false,
        };
        let presession = (forms::new_presession(), true);
        return render(
            &visit,
            StatusCode::FORBIDDEN,
            "forgot_password.html",
            values,
            presession,
        );
    }
    if let Err(e) = account::request_reset(&visit.app, &email, ip).await {
        tracing::error!(error = %e, "page: the password reset request failed");
    }
    let values = ForgotView {
        sent: true,
        ..ForgotView::default()
    };
    render(
        &visit,
        StatusCode::OK,
        "forgot_password.html",
        values,
        presession_of(&visit),
    )
}

#[derive(Debug, Default, Serialize)]
struct ResetView {
    alert: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    /// The password is set: show the way to sign in instead of the form.
    done: bool,
    /// The link is unusable: no form, a way to ask for a new one.
    link_invalid: bool,
    token: String,
    min_password: usize,
}

fn reset_page(visit: &Visit, status: StatusCode, mut values: ResetView) -> Response {
    values.min_password = PasswordPolicy::default().min_chars;
    let presession = presession_of(visit);
    render(visit, status, "reset_password.html", values, presession)
}

/// `GET /kennwort-zuruecksetzen?token=…`: the form for the new password.
pub(super) async fn reset_form(
    visit: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let token = query.get("token").map(|t| t.trim()).unwrap_or_default();
    if token.is_empty() {
        let values = ResetView {
            alert: Some(visit.tr("reset-link-invalid")),
            link_invalid: true,
            ..ResetView::default()
        };
        return reset_page(&visit, StatusCode::BAD_REQUEST, values);
    }
    let values = ResetView {
        token: token.to_owned(),
        ..ResetView::default()
    };
    reset_page(&visit, StatusCode::OK, values)
}

/// `POST /kennwort-zuruecksetzen`: sets the new password with the link's
/// token (which is spent by it).
pub(super) async fn reset_submit(visit: Visit, body: FormBody) -> Response {
    let token = body.get("token").trim().to_owned();
    if !genuine(&visit, &body) {
        let values = ResetView {
            alert: Some(visit.tr("reset-expired-form")),
            token,
            min_password: PasswordPolicy::default().min_chars,
            ..ResetView::default()
        };
        return render(
            &visit,
            StatusCode::FORBIDDEN,
            "reset_password.html",
            values,
            (forms::new_presession(), true),
        );
    }
    let outcome = account::complete_reset(&visit.app, &token, body.get("new_password")).await;
    let values = match outcome {
        Ok(()) => {
            let values = ResetView {
                done: true,
                ..ResetView::default()
            };
            let mut response = reset_page(&visit, StatusCode::OK, values);
            // The form's pre-session has done its work.
            response.headers_mut().append(
                header::SET_COOKIE,
                forms::presession_cookie(&visit.app, "", 0),
            );
            return response;
        }
        // A user deleted since the link went out: the link is dead too.
        Err(AccountError::InvalidResetLink | AccountError::User(UserError::NotFound)) => {
            ResetView {
                alert: Some(visit.tr("reset-link-invalid")),
                link_invalid: true,
                ..ResetView::default()
            }
        }
        Err(AccountError::Password(problem)) => {
            let invalid = visit.invalid(
                "new_password",
                "field-new-password",
                password_problem(&visit, &problem),
            );
            ResetView {
                alert: Some(invalid.alert),
                invalid: Some(invalid.field),
                field_error: Some(invalid.problem),
                token,
                ..ResetView::default()
            }
        }
        Err(AccountError::Store(e)) => return visit.store_failure(e),
        Err(AccountError::User(e)) => return visit.user_failure(e),
        Err(e) => {
            tracing::error!(error = %e, "page: the password reset failed");
            return visit.fail(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    reset_page(&visit, StatusCode::BAD_REQUEST, values)
}
