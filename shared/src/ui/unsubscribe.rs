//! The public unsubscribe page every mailing links to (`/abmelden/{token}`):
//! it shows, with the address masked, the lists the contact is on, and
//! offers to leave chosen lists or every mailing. The same URL takes the
//! RFC 8058 one-click POST that mail clients send on the person's behalf.
//!
//! Nobody signs in here: the signed token is the only credential, and it
//! names one contact of one tenant. The page's form carries a keyed hash of
//! that token as its CSRF field, so another site cannot post it blindly.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::forms::{self, Visit};
use super::view::{self, Layout};
use crate::domain::{ContactId, ListId, TenantId};
use crate::http::access::ClientIp;
use crate::services::tenants::TenantError;
use crate::services::unsubscribe::{self, Standing, UnsubscribeError};

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

/// What the page shows.
#[derive(Debug, Default, Serialize)]
struct UnsubscribeView {
    alert: Option<String>,
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
        UnsubscribeError::Conflict => visit.fail(StatusCode::SERVICE_UNAVAILABLE),
        other => {
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
    alert: Option<String>,
) -> Response {
    let values = match unsubscribe::standing(&visit.app, tenant, contact).await {
        Ok(Standing::Receiving { contact, lists }) => UnsubscribeView {
            alert,
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

/// `GET /abmelden/{token}`: the contact's lists and the ways out.
pub(super) async fn page(visit: Visit, Path(token): Path<String>) -> Response {
    let Some((tenant, contact)) = unsubscribe::verify(&visit.app, &token) else {
        return not_found(&visit);
    };
    standing_page(&visit, StatusCode::OK, &token, (&tenant, &contact), None).await
}

/// `POST /abmelden/{token}`: the page's form (`aktion=alle`, or
/// `aktion=listen` with `liste` fields), or the one-click POST of a mail
/// client (`List-Unsubscribe=One-Click`).
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
        let alert = Some(visit.tr("unsubscribe-form-expired"));
        return standing_page(&visit, StatusCode::FORBIDDEN, &token, ids, alert).await;
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
                let alert = Some(visit.tr("unsubscribe-choose-list"));
                return standing_page(&visit, StatusCode::BAD_REQUEST, &token, ids, alert).await;
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
        _ => {
            let alert = Some(visit.tr("unsubscribe-choose-list"));
            standing_page(&visit, StatusCode::BAD_REQUEST, &token, ids, alert).await
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
