//! Signing in and out, and choosing the language.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

use super::forms::{self, FormBody, Visit, see_other};
use super::i18n::{LANG_COOKIE, Lang};
use super::view::{self, Layout};
use crate::http::access::{self, ClientIp};
use crate::services::sessions::{self, ABSOLUTE_TIMEOUT};
use crate::services::sign_in::{self, Attempt, SignInError};
use crate::services::sso::{self, BROWSER_SIGN_IN_TTL, BrowserReturn, SsoError};
use crate::services::users::UserError;

#[derive(Debug, Default, Serialize)]
struct SignInView {
    alert: Option<String>,
    email: String,
    /// The password was right and a code is needed: focus the code field.
    second_factor: bool,
    /// Single sign-on is configured: offer it first.
    sso: bool,
}

/// Renders the sign-in form for the pre-session `presession`, setting its
/// cookie when `set_cookie`.
fn form(
    visit: &Visit,
    status: StatusCode,
    presession: &str,
    set_cookie: bool,
    mut values: SignInView,
) -> Response {
    values.sso = visit.app.sso_client.is_some();
    let layout = Layout::anonymous(visit.lang, forms::presession_token(&visit.app, presession));
    let mut response = view::page(status, "sign_in.html", &layout, &values, visit.https);
    if set_cookie {
        response.headers_mut().append(
            header::SET_COOKIE,
            forms::fresh_presession_cookie(&visit.app, presession),
        );
    }
    response
}

/// `GET /anmelden`: the sign-in form (the overview for the signed-in).
pub(super) async fn page(visit: Visit) -> Response {
    if visit.principal.is_some() {
        return see_other("/");
    }
    match forms::presession(&visit.app, &visit.headers) {
        Some(presession) => form(
            &visit,
            StatusCode::OK,
            &presession,
            false,
            SignInView::default(),
        ),
        None => {
            let presession = forms::new_presession();
            form(
                &visit,
                StatusCode::OK,
                &presession,
                true,
                SignInView::default(),
            )
        }
    }
}

/// `POST /anmelden`: checks the form's token against the pre-session,
/// signs in, sets the session cookie and goes to the overview (or to the
/// account page while a one-time password is in use).
pub(super) async fn submit(visit: Visit, ClientIp(ip): ClientIp, body: FormBody) -> Response {
    let email = body.get("email").trim().to_owned();
    let genuine = forms::from_our_pages(&visit.app, &visit.headers)
        && forms::presession_matches(&visit.app, &visit.headers, body.get(super::CSRF_FIELD));
    if !genuine {
        let presession = forms::new_presession();
        let values = SignInView {
            alert: Some(visit.tr("sign-in-expired")),
            email,
            ..SignInView::default()
        };
        return form(&visit, StatusCode::FORBIDDEN, &presession, true, values);
    }
    let totp_code = Some(body.get("totp_code").trim()).filter(|c| !c.is_empty());
    let attempt = Attempt {
        email: &email,
        password: body.get("password"),
        totp_code,
        ip,
    };
    let (refusal, second_factor) = match sign_in::sign_in(&visit.app, attempt).await {
        Ok(signed_in) => {
            let next = if signed_in.user.must_change_password {
                "/konto"
            } else {
                "/"
            };
            let mut response = see_other(next);
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                crate::http::access::session_cookie(
                    &visit.app,
                    signed_in.token.as_str(),
                    ABSOLUTE_TIMEOUT.num_seconds(),
                ),
            );
            headers.append(
                header::SET_COOKIE,
                forms::presession_cookie(&visit.app, "", 0),
            );
            return response;
        }
        Err(SignInError::Store(e)) => return visit.store_failure(e),
        Err(SignInError::InvalidCredentials) => (visit.tr("sign-in-invalid"), false),
        Err(SignInError::Throttled { retry_after }) => (
            visit.tr_args(
                "sign-in-throttled",
                &[("seconds", retry_after.num_seconds().max(1).to_string())],
            ),
            false,
        ),
        Err(SignInError::SecondFactorRequired) => (visit.tr("sign-in-second-factor"), true),
        Err(SignInError::InvalidSecondFactor) => (visit.tr("sign-in-second-factor-invalid"), true),
        Err(SignInError::TenantSuspended) => (visit.tr("sign-in-tenant-suspended"), false),
    };
    let values = SignInView {
        alert: Some(refusal),
        email,
        second_factor,
        ..SignInView::default()
    };
    // The pre-session was checked above: it is there and stays valid.
    let presession = forms::presession(&visit.app, &visit.headers).unwrap_or_default();
    form(&visit, StatusCode::OK, &presession, false, values)
}

/// The cookie that ties a browser sign-in at the identity provider to the
/// browser that started it: `__Host-` over TLS, like the session's.
fn sso_state_cookie_name(visit: &Visit) -> &'static str {
    if visit.app.settings.public_url.scheme() == "https" {
        "__Host-emma_sso_state"
    } else {
        "emma_sso_state"
    }
}

/// The state cookie's `Set-Cookie`: HttpOnly, SameSite=Lax (the provider
/// sends the browser back with a top-level GET, which carries it), Secure
/// over TLS. An empty value with `max_age` 0 clears it.
fn sso_state_cookie(visit: &Visit, value: &str, max_age: i64) -> HeaderValue {
    let secure = if visit.app.settings.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        sso_state_cookie_name(visit)
    );
    HeaderValue::from_str(&cookie).expect("a cookie of safe characters")
}

/// `GET /anmelden/sso`: starts a sign-in at the identity provider and sends
/// the browser there.
pub(super) async fn sso_start(visit: Visit) -> Response {
    if visit.principal.is_some() {
        return see_other("/");
    }
    match sso::begin_browser_sign_in(&visit.app).await {
        Ok(start) => {
            let location = HeaderValue::from_str(start.redirect.as_str())
                .expect("a URL is a valid header value");
            let mut response = forms::see_other_to(location);
            response.headers_mut().append(
                header::SET_COOKIE,
                sso_state_cookie(&visit, &start.state, BROWSER_SIGN_IN_TTL.num_seconds()),
            );
            response
        }
        Err(SsoError::User(UserError::Store(e))) => visit.store_failure(e),
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on could not start");
            sso_refused(&visit, "sign-in-sso-not-configured", StatusCode::NOT_FOUND)
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct SsoAnswer {
    state: String,
    code: Option<String>,
    error: Option<String>,
}

/// `GET /anmelden/sso/rueckkehr`: the identity provider sends the browser
/// back; a good answer becomes a session, anything else the sign-in form
/// with a message.
pub(super) async fn sso_return(
    visit: Visit,
    ClientIp(ip): ClientIp,
    Query(answer): Query<SsoAnswer>,
) -> Response {
    let cookie_state = access::cookie(&visit.headers, sso_state_cookie_name(&visit));
    let finished = sso::finish_browser_sign_in(
        &visit.app,
        BrowserReturn {
            cookie_state,
            state: &answer.state,
            code: answer.code.as_deref(),
            error: answer.error.as_deref(),
            ip,
        },
    )
    .await;
    let mut response = match finished {
        Ok((token, _)) => {
            let mut response = see_other("/");
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                access::session_cookie(&visit.app, token.as_str(), ABSOLUTE_TIMEOUT.num_seconds()),
            );
            headers.append(
                header::SET_COOKIE,
                forms::presession_cookie(&visit.app, "", 0),
            );
            response
        }
        Err(SsoError::User(UserError::Store(e))) => visit.store_failure(e),
        Err(e) => {
            let message = match &e {
                SsoError::UnknownUser | SsoError::SubjectMismatch => "sign-in-sso-unknown",
                SsoError::Inactive => "sign-in-sso-inactive",
                SsoError::ProviderRefused(_) => "sign-in-sso-cancelled",
                SsoError::NotConfigured => "sign-in-sso-not-configured",
                other if !other.is_refusal() => "sign-in-sso-unavailable",
                _ => "sign-in-sso-failed",
            };
            let status = if e.is_refusal() {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            sso_refused(&visit, message, status)
        }
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, sso_state_cookie(&visit, "", 0));
    response
}

/// The sign-in form with a message about single sign-on.
fn sso_refused(visit: &Visit, message: &str, status: StatusCode) -> Response {
    let values = SignInView {
        alert: Some(visit.tr(message)),
        ..SignInView::default()
    };
    match forms::presession(&visit.app, &visit.headers) {
        Some(presession) => form(visit, status, &presession, false, values),
        None => form(visit, status, &forms::new_presession(), true, values),
    }
}

/// `POST /abmelden`: ends the session on the server and clears the cookie.
pub(super) async fn sign_out(visit: Visit) -> Response {
    if let Some(token) = access::session_token(&visit.app, &visit.headers)
        && let Err(e) = sessions::end(&visit.app, &token).await
    {
        return visit.store_failure(e);
    }
    let mut response = see_other("/anmelden");
    response.headers_mut().append(
        header::SET_COOKIE,
        crate::http::access::session_cookie(&visit.app, "", 0),
    );
    response
}

/// `GET /sprache?lang=en|de`: remembers the language for a year and goes
/// back to the overview.
pub(super) async fn language(
    visit: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = query
        .get("lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or_default();
    let secure = if visit.https { "; Secure" } else { "" };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
        lang.code()
    );
    let mut response = see_other("/");
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("a cookie of safe characters"),
    );
    response
}
