//! What every page handler shares: the visit (app, language, principal,
//! CSRF token), the signed-in user, form bodies, the pre-session that
//! protects the sign-in form, the cookies, and answers for failures.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use fluent_bundle::FluentArgs;

use super::i18n::{self, Lang};
use super::view::{self, Badge, Layout};
use crate::App;
use crate::domain::{Principal, User};
use crate::http::access;
use crate::ports::StoreError;
use crate::services::sessions;
use crate::services::users::{self, UserError};

/// One page request: who asks (as the guard established), in which
/// language, and the CSRF token for the page's forms.
pub(super) struct Visit {
    pub app: App,
    pub lang: Lang,
    pub method: Method,
    pub headers: HeaderMap,
    /// Inserted by the access guard; nothing else counts for identity.
    pub principal: Option<Principal>,
    /// The session's CSRF token; empty without a session cookie (a bearer
    /// token of the identity provider needs none).
    pub csrf_token: String,
    pub https: bool,
}

impl FromRequestParts<App> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let csrf_token = access::session_token(app, &parts.headers)
            .map(|token| sessions::csrf_token(app, &token))
            .unwrap_or_default();
        Ok(Self {
            app: app.clone(),
            lang: Lang::from_headers(&parts.headers),
            method: parts.method.clone(),
            headers: parts.headers.clone(),
            principal: parts.extensions.get::<Principal>().cloned(),
            csrf_token,
            https: app.settings.public_url.scheme() == "https",
        })
    }
}

/// A signed-in user on a page.
pub(super) struct Member {
    pub principal: Principal,
    pub user: User,
}

impl Visit {
    /// An error page for this visit.
    pub fn fail(&self, status: StatusCode) -> Response {
        let mut response = super::error_page(status, self.lang, "");
        super::security_headers(&mut response, self.https);
        response
    }

    /// A store that failed: busy (503) or broken (500), logged.
    pub fn store_failure(&self, e: StoreError) -> Response {
        if e.is_retryable() {
            tracing::warn!(error = %e, "page: store busy");
            self.fail(StatusCode::SERVICE_UNAVAILABLE)
        } else {
            tracing::error!(error = %e, "page: store failed");
            self.fail(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }

    pub fn user_failure(&self, e: UserError) -> Response {
        match e {
            UserError::Store(s) => self.store_failure(s),
            UserError::NotFound => self.fail(StatusCode::NOT_FOUND),
            other => {
                tracing::error!(error = %other, "page: user use case failed");
                self.fail(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// The signed-in user. Without a principal: to the sign-in page (a GET)
    /// or 401. A user who still holds a one-time password is sent to the
    /// account page first, unless `open_before_password_change`.
    pub async fn member(&self, open_before_password_change: bool) -> Result<Member, Response> {
        let Some(principal) = self.principal.clone() else {
            return Err(if self.method == Method::GET {
                see_other("/anmelden")
            } else {
                self.fail(StatusCode::UNAUTHORIZED)
            });
        };
        let user = match users::get(&self.app, principal.tenant.as_ref(), &principal.user_id).await
        {
            Ok(user) => user,
            Err(UserError::NotFound) => return Err(self.fail(StatusCode::UNAUTHORIZED)),
            Err(e) => return Err(self.user_failure(e)),
        };
        if principal.must_change_password && !open_before_password_change {
            return Err(see_other("/konto"));
        }
        Ok(Member { principal, user })
    }

    /// The layout for a signed-in page; `current` is its navigation path.
    pub fn layout(&self, member: &Member, current: &str) -> Layout {
        Layout {
            user: Some(Badge {
                name: member.user.name.as_str().to_owned(),
                role: view::role_label(member.principal.role),
            }),
            nav: view::nav(member.principal.role, current),
            ..Layout::anonymous(self.lang, self.csrf_token.clone())
        }
    }

    pub fn tr(&self, id: &str) -> String {
        i18n::tr(self.lang, id)
    }

    pub fn tr_args(&self, id: &str, args: &[(&'static str, String)]) -> String {
        let mut fluent = FluentArgs::new();
        for (key, value) in args {
            fluent.set(*key, value.clone());
        }
        i18n::message(self.lang, id, Some(&fluent))
    }

    /// A form field that did not hold: the alert naming the field, and the
    /// problem for the text beside it.
    pub fn invalid(&self, field: &'static str, label_id: &str, problem: String) -> Invalid {
        let alert = self.tr_args(
            "form-error",
            &[("field", self.tr(label_id)), ("problem", problem.clone())],
        );
        Invalid {
            field,
            alert,
            problem,
        }
    }
}

/// A field that did not hold.
#[derive(Debug, Clone)]
pub(super) struct Invalid {
    /// The form field's name, e.g. `email`.
    pub field: &'static str,
    /// The alert at the top of the form, naming the field.
    pub alert: String,
    /// The problem alone, shown beside the field.
    pub problem: String,
}

/// A `303 See Other` to a path of ours.
pub(super) fn see_other(location: &'static str) -> Response {
    see_other_to(HeaderValue::from_static(location))
}

/// A 303 to `location`, e.g. another site's URL.
/// A 303 to one of our paths built from ids and fixed words; to
/// `fallback` should the path not be a valid header value.
pub(super) fn redirect(path: &str, fallback: &'static str) -> Response {
    match HeaderValue::from_str(path) {
        Ok(location) => see_other_to(location),
        Err(_) => see_other_to(HeaderValue::from_static(fallback)),
    }
}

pub(super) fn see_other_to(location: HeaderValue) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// The fields of an `application/x-www-form-urlencoded` body.
pub(super) struct FormBody(Vec<(String, String)>);

impl FormBody {
    /// The first value of the field, or "" when it is missing.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a field sent more than once (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_headers(request.headers());
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(super::error_page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                lang,
                "",
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| super::error_page(rejection.status(), lang, ""))?;
        Ok(Self(
            url::form_urlencoded::parse(&body).into_owned().collect(),
        ))
    }
}

/// The notice a redirect asked a page to show (`?hinweis=`), empty when
/// none; each page maps it to its own fixed set of messages.
pub(super) fn notice_param(uri: &axum::http::Uri) -> String {
    #[derive(serde::Deserialize)]
    struct Notice {
        #[serde(default)]
        hinweis: String,
    }
    axum::extract::Query::<Notice>::try_from_uri(uri)
        .map(|q| q.0.hinweis)
        .unwrap_or_default()
}

/// The first value of a field in an `application/x-www-form-urlencoded`
/// body: what the guard reads `csrf_token` with.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn secure_suffix(app: &App) -> &'static str {
    if app.settings.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    }
}

/// How long a sign-in form stays usable.
const PRESESSION_SECONDS: i64 = 2 * 60 * 60;

/// The pre-session cookie's name: `__Host-` over TLS, like the session's.
pub(super) fn presession_cookie_name(app: &App) -> &'static str {
    if app.settings.public_url.scheme() == "https" {
        "__Host-emma_presession"
    } else {
        "emma_presession"
    }
}

/// The pre-session value the browser holds, if it is well-formed.
pub(super) fn presession(app: &App, headers: &HeaderMap) -> Option<String> {
    access::cookie(headers, presession_cookie_name(app))
        .filter(|v| sessions::SessionToken::from_cookie(v).is_some())
        .map(str::to_owned)
}

/// A new pre-session value: 32 random bytes, base64url.
pub(super) fn new_presession() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The sign-in form's CSRF token: a keyed hash of the pre-session, so a
/// page of another origin can neither read nor compute it.
pub(super) fn presession_token(app: &App, presession: &str) -> String {
    app.pseudonyms
        .hash(&format!("presession-csrf:{presession}"))
}

/// Whether the sign-in form's token belongs to the browser's pre-session.
pub(super) fn presession_matches(app: &App, headers: &HeaderMap, presented: &str) -> bool {
    let Some(presession) = presession(app, headers) else {
        return false;
    };
    let expected = presession_token(app, &presession);
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), presented.as_bytes())
        .is_ok()
}

/// The pre-session cookie (`max_age` 0 clears it). SameSite=Strict: only
/// our own pages send it back.
pub(super) fn presession_cookie(app: &App, value: &str, max_age: i64) -> HeaderValue {
    let cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        presession_cookie_name(app),
        secure_suffix(app),
    );
    HeaderValue::from_str(&cookie).expect("a cookie of safe characters")
}

pub(super) fn fresh_presession_cookie(app: &App, value: &str) -> HeaderValue {
    presession_cookie(app, value, PRESESSION_SECONDS)
}

/// Whether a request comes from our own pages, as far as the browser says:
/// an `Origin` must be ours; without one, `Sec-Fetch-Site` must not name
/// another site.
pub(super) fn from_our_pages(app: &App, headers: &HeaderMap) -> bool {
    let ours = app.settings.public_url.origin().ascii_serialization();
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin == ours,
        None => headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|site| matches!(site, "same-origin" | "none")),
    }
}
