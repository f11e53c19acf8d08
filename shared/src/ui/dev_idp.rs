//! The development identity provider's pages and endpoints (local mode
//! only): an authorization endpoint whose page vouches for whoever is
//! entered, a token endpoint, its key set and its discovery document. It
//! stands in for the central user management, so browser sign-in can be
//! tried and tested without one.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use url::Url;

use super::forms::{self, FormBody};
use super::i18n::{self, Lang};
use super::view::{self, Layout};
use crate::auth::dev_issuer::{DevClaims, DevIssuer};
use crate::auth::oidc_client::{AuthorizationRequest, CodeGrant, TokenEndpoint};
use crate::bootstrap::DEV_ISSUER_PATH;

#[derive(Clone)]
struct DevIdp {
    issuer: Arc<DevIssuer>,
    /// EMMA's registered redirect URI.
    redirect_uri: Url,
    https: bool,
}

/// The development issuer's routes under `/dev-idp`, for EMMA at
/// `redirect_uri`.
pub fn dev_idp_routes(issuer: Arc<DevIssuer>, redirect_uri: Url) -> Router {
    let https = redirect_uri.scheme() == "https";
    let state = DevIdp {
        issuer,
        redirect_uri,
        https,
    };
    Router::new()
        .route(
            &format!("{DEV_ISSUER_PATH}/authorize"),
            get(authorize_page).post(authorize),
        )
        .route(&format!("{DEV_ISSUER_PATH}/token"), post(token))
        .route(&format!("{DEV_ISSUER_PATH}/jwks.json"), get(jwks))
        .route(
            &format!("{DEV_ISSUER_PATH}/.well-known/openid-configuration"),
            get(discovery),
        )
        .with_state(state)
}

#[derive(Serialize)]
struct AuthorizeView {
    action: String,
    /// The request's parameters, carried through the form.
    request: Vec<(&'static str, String)>,
    invalid: Option<String>,
}

fn request_fields(request: &AuthorizationRequest) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", request.response_type.clone()),
        ("client_id", request.client_id.clone()),
        ("redirect_uri", request.redirect_uri.clone()),
        ("scope", request.scope.clone()),
        ("state", request.state.clone()),
        ("nonce", request.nonce.clone()),
        ("code_challenge", request.code_challenge.clone()),
        (
            "code_challenge_method",
            request.code_challenge_method.clone(),
        ),
    ]
}

/// `GET /dev-idp/authorize`: the page that asks whom to vouch for.
async fn authorize_page(
    State(idp): State<DevIdp>,
    headers: HeaderMap,
    Query(request): Query<AuthorizationRequest>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    // A request EMMA would not accept is refused here, before anyone types.
    let invalid = DevIssuer::check_request(&request, &idp.redirect_uri)
        .err()
        .map(|e| invalid_message(lang, &e.to_string()));
    render(&idp, lang, &request, invalid)
}

fn invalid_message(lang: Lang, reason: &str) -> String {
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("reason", reason.to_owned());
    i18n::message(lang, "dev-idp-invalid", Some(&args))
}

fn render(
    idp: &DevIdp,
    lang: Lang,
    request: &AuthorizationRequest,
    invalid: Option<String>,
) -> Response {
    let status = if invalid.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let values = AuthorizeView {
        action: format!("{DEV_ISSUER_PATH}/authorize"),
        request: request_fields(request),
        invalid,
    };
    let layout = Layout::anonymous(lang, String::new());
    view::page(status, "dev_idp.html", &layout, &values, idp.https)
}

/// The authorization request the form carried through.
fn request_from(body: &FormBody) -> AuthorizationRequest {
    let field = |name: &str| body.get(name).to_owned();
    AuthorizationRequest {
        response_type: field("response_type"),
        client_id: field("client_id"),
        redirect_uri: field("redirect_uri"),
        scope: field("scope"),
        state: field("state"),
        nonce: field("nonce"),
        code_challenge: field("code_challenge"),
        code_challenge_method: field("code_challenge_method"),
    }
}

/// `POST /dev-idp/authorize`: vouches for the person entered and sends the
/// browser back to EMMA with a code.
async fn authorize(State(idp): State<DevIdp>, headers: HeaderMap, body: FormBody) -> Response {
    let lang = Lang::from_headers(&headers);
    let request = request_from(&body);
    let email = body.get("email").trim().to_owned();
    let optional = |name: &str| Some(body.get(name).trim().to_owned()).filter(|v| !v.is_empty());
    let claims = DevClaims {
        email: Some(email.clone()),
        name: optional("name"),
        tenant: optional("tenant"),
        role: optional("role"),
        // The subject stays the same for the same address, as at a real
        // provider.
        ..DevClaims::new(format!("dev-{}", email.to_ascii_lowercase()))
    };
    let code = match idp.issuer.issue_code(&request, &idp.redirect_uri, claims) {
        Ok(code) => code,
        Err(e) => {
            let invalid = invalid_message(lang, &e.to_string());
            return render(&idp, lang, &request, Some(invalid));
        }
    };
    let mut back = idp.redirect_uri.clone();
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &request.state);
    let location = HeaderValue::from_str(back.as_str()).expect("a URL is a valid header value");
    forms::see_other_to(location)
}

/// `POST /dev-idp/token`: redeems a code for an ID token (RFC 6749 §4.1.3).
async fn token(State(idp): State<DevIdp>, body: FormBody) -> Response {
    if body.get("grant_type") != "authorization_code" {
        return token_error("unsupported_grant_type");
    }
    let grant = CodeGrant {
        code: body.get("code").to_owned(),
        redirect_uri: body.get("redirect_uri").to_owned(),
        client_id: body.get("client_id").to_owned(),
        code_verifier: body.get("code_verifier").to_owned(),
    };
    match idp.issuer.redeem(&grant).await {
        Ok(id_token) => (
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            Json(json!({
                "token_type": "Bearer",
                "access_token": id_token,
                "id_token": id_token,
                "expires_in": 300,
            })),
        )
            .into_response(),
        Err(_) => token_error("invalid_grant"),
    }
}

fn token_error(error: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

async fn jwks(State(idp): State<DevIdp>) -> Response {
    Json(idp.issuer.jwks()).into_response()
}

/// The discovery document (OpenID Connect Discovery 1.0), for tools that
/// configure themselves from it.
async fn discovery(State(idp): State<DevIdp>) -> Response {
    let base = idp.issuer.issuer().trim_end_matches('/').to_owned();
    Json(json!({
        "issuer": idp.issuer.issuer(),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["none"],
    }))
    .into_response()
}
