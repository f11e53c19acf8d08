//! The public unsubscribe page every mailing links to (`/abmelden/{token}`):
//! it shows, with the address masked, the lists the contact is on, and
//! offers to leave chosen lists or every mailing. The same URL takes the
//! RFC 8058 one-click POST that mail clients send on the person's behalf.
//!
//! The same page holds the person's preferences (section `#einstellungen`):
//! the language of the mailings, shown as it is and changed at once. One
//! page for both keeps one link per mail; a mail's "Einstellungen ändern"
//! link points to `/abmelden/{token}#einstellungen`. The link does not
//! expire and travels with every forwarded newsletter, so the page shows
//! no name and changes none: whoever holds a mail may stop it or change
//! its language, but may not read or rewrite how the person is addressed.
//!
//! Nobody signs in here: the signed token is the only credential, and it
//! names one contact of one tenant. The page's form carries a keyed hash of
//! that token as its CSRF field, so another site cannot post it blindly.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::contacts::{LANGUAGES, SALUTATIONS};
use super::forms::{self, Visit};
use super::view::{self, Layout};
use crate::domain::{Contact, ContactId, ListId, TenantId};
use crate::http::access::ClientIp;
use crate::services::tenants::TenantError;
use crate::services::unsubscribe::{self, Preferences, Standing, UnsubscribeError};

/// The field a one-click POST carries (RFC 8058, section 3.1).
const ONE_CLICK_FIELD: &str = "List-Unsubscribe";
const ONE_CLICK_VALUE: &str = "One-Click";

/// The form's CSRF token: a keyed hash of the unsubscribe token. Only a
/// page of ours, which shows the form, has it; another site that knows a
/// link still cannot compute it.
fn form_token(visit: &Visit, token: &str) -> String {
    visit
        .app
        .pseudonyms
        .hash(&format!("unsubscribe-form:{token}"))
}

/// One list the contact may leave.
#[derive(Debug, Serialize)]
struct ListChoice {
    id: String,
    name: String,
}

/// The preferences form, as shown or as sent.
#[derive(Debug, Default, Serialize)]
struct PreferencesForm {
    language: String,
}

impl PreferencesForm {
    fn of(contact: &Contact) -> Self {
        Self {
            language: LANGUAGES
                .iter()
                .find(|(l, _, _)| *l == contact.language)
                .map_or("de", |(_, value, _)| value)
                .to_owned(),
        }
    }

    /// The preferences the form asks for; the name of the field that does
    /// not hold otherwise.
    fn read(&self) -> Result<Preferences, &'static str> {
        let language = LANGUAGES
            .iter()
            .find(|(_, value, _)| *value == self.language)
            .map(|(l, _, _)| *l)
            .ok_or("language")?;
        Ok(Preferences { language })
    }
}

/// One option of a choice: its value and message id.
#[derive(Debug, Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
}

/// What the page shows.
#[derive(Debug, Default, Serialize)]
struct UnsubscribeView {
    alert: Option<String>,
    /// A confirmation above the form (preferences saved).
    notice: Option<String>,
    /// The preferences form, on the `form` page.
    preferences: Option<PreferencesForm>,
    /// The preferences field that did not hold.
    invalid: Option<&'static str>,
    salutations: Vec<Choice>,
    languages: Vec<Choice>,
    /// `form`, `ended` (nothing more to do), `left_lists` or `left_all`.
    state: &'static str,
    /// The address, masked (`e***@example.de`).
    address: String,
    lists: Vec<ListChoice>,
    token: String,
    /// How many lists were left, on the `left_lists` page.
    left: usize,
}

fn render(visit: &Visit, status: StatusCode, token: &str, values: UnsubscribeView) -> Response {
    let layout = Layout::anonymous(visit.lang, form_token(visit, token));
    let mut response = view::page(status, "unsubscribe.html", &layout, values, visit.https);
    // A page reached by a personal link: not for search engines.
    response.headers_mut().insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

/// A link that is not ours: the same neutral 404 for a forged, an altered
/// and a truncated token.
fn not_found(visit: &Visit) -> Response {
    let mut response = super::error_page(
        StatusCode::NOT_FOUND,
        visit.lang,
        &visit.tr("unsubscribe-invalid"),
    );
    super::security_headers(&mut response, visit.https);
    response
}

fn failure(visit: &Visit, e: UnsubscribeError) -> Response {
    match e {
        UnsubscribeError::Tenant(TenantError::NotFound) => not_found(visit),
        UnsubscribeError::Tenant(TenantError::Store(s)) | UnsubscribeError::Store(s) => {
            visit.store_failure(s)
        }
        // A suspended institute still honours every unsubscribe; only a
        // change of preferences waits until it is active again.
        UnsubscribeError::Conflict | UnsubscribeError::Tenant(TenantError::Suspended) => {
            visit.fail(StatusCode::SERVICE_UNAVAILABLE)
        }
        other @ UnsubscribeError::Contact(_) => {
            tracing::error!(error = %other, "page: unsubscribing failed");
            visit.fail(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The page for where the contact stands: the form, or nothing to do.
async fn standing_page(
    visit: &Visit,
    status: StatusCode,
    token: &str,
    (tenant, contact): (&TenantId, &ContactId),
    shown: Shown,
) -> Response {
    let values = match unsubscribe::standing(&visit.app, tenant, contact).await {
        Ok(Standing::Receiving { contact, lists }) => UnsubscribeView {
            alert: shown.alert,
            notice: shown.notice,
            invalid: shown.invalid,
            preferences: Some(
                shown
                    .preferences
                    .unwrap_or_else(|| PreferencesForm::of(&contact)),
            ),
            salutations: SALUTATIONS
                .iter()
                .map(|(_, value, label)| Choice { value, label })
                .collect(),
            languages: LANGUAGES
                .iter()
                .map(|(_, value, label)| Choice { value, label })
                .collect(),
            state: "form",
            address: unsubscribe::masked(&contact),
            lists: lists
                .into_iter()
                .map(|l| ListChoice {
                    id: l.id.to_string(),
                    name: l.name,
                })
                .collect(),
            token: token.to_owned(),
            left: 0,
        },
        Ok(Standing::Ended(contact)) => UnsubscribeView {
            state: "ended",
            address: unsubscribe::masked(&contact),
            ..UnsubscribeView::default()
        },
        Ok(Standing::Gone) => UnsubscribeView {
            state: "ended",
            ..UnsubscribeView::default()
        },
        Err(e) => return failure(visit, e),
    };
    let status = if values.state == "form" {
        status
    } else {
        StatusCode::OK
    };
    render(visit, status, token, values)
}

/// What the form page shows besides the contact's state.
#[derive(Debug, Default)]
struct Shown {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    /// The preferences as sent (after a problem), else the stored ones.
    preferences: Option<PreferencesForm>,
}

impl Shown {
    fn alert(alert: String) -> Self {
        Self {
            alert: Some(alert),
            ..Self::default()
        }
    }
}

/// `GET /abmelden/{token}`: the contact's lists and the ways out.
pub(super) async fn page(visit: Visit, Path(token): Path<String>) -> Response {
    let Some((tenant, contact)) = unsubscribe::verify(&visit.app, &token) else {
        return not_found(&visit);
    };
    let ids = (&tenant, &contact);
    standing_page(&visit, StatusCode::OK, &token, ids, Shown::default()).await
}

/// `POST /abmelden/{token}`: the page's forms (`aktion=alle`,
/// `aktion=listen` with `liste` fields, or `aktion=einstellungen` with
/// `language`, `salutation`, `first_name`, `last_name`), or the one-click
/// POST of a mail client (`List-Unsubscribe=One-Click`).
pub(super) async fn submit(
    visit: Visit,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let Some((tenant, contact)) = unsubscribe::verify(&visit.app, &token) else {
        return not_found(&visit);
    };
    if is_one_click(&visit.headers, &body) {
        // No CSRF token here, by design: mail clients (and their providers'
        // servers) send this POST without ever loading our page, as RFC 8058
        // prescribes. What it can do is bounded by the signed token: it
        // unsubscribes the token's own contact and nothing else, which is
        // exactly what the link was sent for — a forged request can only
        // bring about what the link's holder may do with one click anyway.
        return match unsubscribe::leave_all(&visit.app, &tenant, &contact, ip).await {
            Ok(_) => one_click_answer(&visit),
            Err(e) => failure(&visit, e),
        };
    }
    if !is_form(&visit.headers) {
        let mut response = super::error_page(StatusCode::UNSUPPORTED_MEDIA_TYPE, visit.lang, "");
        super::security_headers(&mut response, visit.https);
        return response;
    }
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let genuine = forms::from_our_pages(&visit.app, &visit.headers)
        && aws_lc_rs::constant_time::verify_slices_are_equal(
            form_token(&visit, &token).as_bytes(),
            field(super::CSRF_FIELD).as_bytes(),
        )
        .is_ok();
    let ids = (&tenant, &contact);
    if !genuine {
        let shown = Shown::alert(visit.tr("unsubscribe-form-expired"));
        return standing_page(&visit, StatusCode::FORBIDDEN, &token, ids, shown).await;
    }
    match field("aktion") {
        "alle" => match unsubscribe::leave_all(&visit.app, &tenant, &contact, ip).await {
            Ok(_) => {
                let values = UnsubscribeView {
                    state: "left_all",
                    ..UnsubscribeView::default()
                };
                render(&visit, StatusCode::OK, &token, values)
            }
            Err(e) => failure(&visit, e),
        },
        "listen" => {
            let chosen: Vec<ListId> = fields
                .iter()
                .filter(|(k, _)| k == "liste")
                .filter_map(|(_, v)| ListId::parse(v).ok())
                .collect();
            if chosen.is_empty() {
                let shown = Shown::alert(visit.tr("unsubscribe-choose-list"));
                return standing_page(&visit, StatusCode::BAD_REQUEST, &token, ids, shown).await;
            }
            match unsubscribe::leave_lists(&visit.app, &tenant, &contact, &chosen, ip).await {
                Ok(left) => {
                    let values = UnsubscribeView {
                        state: "left_lists",
                        token: token.clone(),
                        left,
                        ..UnsubscribeView::default()
                    };
                    render(&visit, StatusCode::OK, &token, values)
                }
                Err(e) => failure(&visit, e),
            }
        }
        "einstellungen" => {
            let form = PreferencesForm {
                language: field("language").to_owned(),
            };
            let wanted = match form.read() {
                Ok(wanted) => wanted,
                Err(invalid) => {
                    let shown = Shown {
                        alert: Some(visit.tr("preferences-invalid")),
                        invalid: Some(invalid),
                        preferences: Some(form),
                        ..Shown::default()
                    };
                    return standing_page(&visit, StatusCode::BAD_REQUEST, &token, ids, shown)
                        .await;
                }
            };
            match unsubscribe::change_preferences(&visit.app, &tenant, &contact, &wanted, ip).await
            {
                Ok(_) => {
                    let shown = Shown {
                        notice: Some(visit.tr("preferences-saved")),
                        ..Shown::default()
                    };
                    standing_page(&visit, StatusCode::OK, &token, ids, shown).await
                }
                Err(e) => failure(&visit, e),
            }
        }
        _ => {
            let shown = Shown::alert(visit.tr("unsubscribe-choose-list"));
            standing_page(&visit, StatusCode::BAD_REQUEST, &token, ids, shown).await
        }
    }
}

/// The short answer to a one-click POST: a mail client shows it, if at all.
fn one_click_answer(visit: &Visit) -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        visit.tr("unsubscribe-one-click-done"),
    )
        .into_response()
}

/// The media type of the request, lower-case, without parameters.
fn media_type(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_form(headers: &axum::http::HeaderMap) -> bool {
    media_type(headers) == "application/x-www-form-urlencoded"
}

/// Whether the body is RFC 8058's `List-Unsubscribe=One-Click`, form
/// encoded or as a part of `multipart/form-data` (both are allowed).
fn is_one_click(headers: &axum::http::HeaderMap, body: &[u8]) -> bool {
    match media_type(headers).as_str() {
        "application/x-www-form-urlencoded" => url::form_urlencoded::parse(body)
            .any(|(k, v)| k == ONE_CLICK_FIELD && v.trim() == ONE_CLICK_VALUE),
        "multipart/form-data" => multipart_one_click(headers, body),
        _ => false,
    }
}

/// Looks for the one-click field among the parts of a multipart body.
fn multipart_one_click(headers: &axum::http::HeaderMap, body: &[u8]) -> bool {
    let Some(boundary) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(';')
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
                .map(|(_, b)| b.trim_matches('"').to_owned())
        })
    else {
        return false;
    };
    let Ok(body) = std::str::from_utf8(body) else {
        return false;
    };
    let wanted = format!("name=\"{ONE_CLICK_FIELD}\"");
    body.split(&format!("--{boundary}")).any(|part| {
        part.split_once("\r\n\r\n").is_some_and(|(head, value)| {
            head.lines().any(|l| {
                l.to_ascii_lowercase().starts_with("content-disposition:") && l.contains(&wanted)
            }) && value.trim() == ONE_CLICK_VALUE
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn typed(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        headers
    }

    #[test]
    fn a_form_encoded_one_click_body_is_recognised_and_other_bodies_are_not() {
        let form = typed("application/x-www-form-urlencoded");
        assert!(is_one_click(&form, b"List-Unsubscribe=One-Click"));
        assert!(!is_one_click(&form, b"List-Unsubscribe=Two-Clicks"));
        assert!(!is_one_click(&form, b"aktion=alle"));
        assert!(!is_one_click(
            &typed("text/plain"),
            b"List-Unsubscribe=One-Click"
        ));
    }

    #[test]
    fn a_multipart_one_click_body_is_recognised() {
        let headers = typed("multipart/form-data; boundary=XyZ");
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
        assert!(is_one_click(&headers, body.as_bytes()));
        let other = "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
        assert!(!is_one_click(&headers, other.as_bytes()));
    }
}
