//! The browser UI: server-rendered pages in German (English on request)
//! for sign-in, the overview, contacts, user and tenant administration, the
//! audit log and the user's own account, built on the same use cases as the
//! JSON API.
//!
//! The access guard authenticates every page request and checks the
//! permission the access table (`http::access::ROUTES`) names; handlers read the principal it inserted and
//! nothing else for identity. Forms post `application/x-www-form-urlencoded`
//! with a hidden `csrf_token`: the session's token (which the guard checks)
//! on signed-in pages, and on the sign-in form a token bound to the short
//! `emma_presession` cookie, which the sign-in handler checks itself.

mod account;
mod admin;
mod assets;
mod attributes;
mod campaigns;
mod contacts;
mod dev_idp;
mod exports;
mod forms;
mod gdpr;
mod i18n;
mod imports;
mod library;
mod lists;
mod reset;
mod segments;
mod sign_in;
mod signup;
mod suppressions;
mod templates;
mod tenant;
mod tracking;
mod unsubscribe;
mod view;

#[cfg(test)]
mod page_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_attributes;
#[cfg(test)]
mod tests_campaigns;
#[cfg(test)]
mod tests_imports;
#[cfg(test)]
mod tests_library;
#[cfg(test)]
mod tests_templates;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;

use crate::App;

pub use dev_idp::dev_idp_routes;
pub use forms::form_field;
pub use i18n::{LANG_COOKIE, Lang};

/// The hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// The pages and assets of the UI.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(admin::overview))
        .route("/anmelden", get(sign_in::page).post(sign_in::submit))
        .route("/anmelden/sso", get(sign_in::sso_start))
        .route("/anmelden/sso/rueckkehr", get(sign_in::sso_return))
        .route("/abmelden", post(sign_in::sign_out))
        .route(
            "/abmelden/{token}",
            get(unsubscribe::page).post(unsubscribe::submit),
        )
        .route("/k/{token}", get(tracking::click))
        .route("/o/{token}", get(tracking::open))
        .route("/sprache", get(sign_in::language))
        .route(
            "/kennwort-vergessen",
            get(reset::forgot_page).post(reset::forgot_submit),
        )
        .route(
            "/kennwort-zuruecksetzen",
            get(reset::reset_form).post(reset::reset_submit),
        )
        .route("/benutzer", get(admin::users).post(admin::create_user))
        .route("/benutzer/{user_id}", post(admin::update_user))
        .route("/benutzer/{user_id}/loeschen", post(admin::delete_user))
        .route("/mandanten", get(admin::tenants).post(admin::create_tenant))
        .route(
            "/mandanten/{tenant_id}",
            get(tenant::page).post(tenant::update),
        )
        .route("/protokoll", get(admin::audit))
        .route("/kontakte", get(contacts::list).post(contacts::create))
        .route(
            "/kontakte/{contact_id}",
            get(contacts::page).post(contacts::update),
        )
        .route("/kontakte/{contact_id}/loeschen", post(contacts::delete))
        .route("/listen", get(lists::all).post(lists::create))
        .route("/listen/{list_id}", get(lists::page).post(lists::rename))
        .route("/listen/{list_id}/loeschen", post(lists::delete))
        .route("/listen/{list_id}/mitglieder", post(lists::add_member))
        .route(
            "/listen/{list_id}/mitglieder/{contact_id}/entfernen",
            post(lists::remove_member),
        )
        .route("/segmente", get(segments::all).post(segments::create))
        .route("/segmente/entwurf", post(segments::draft))
        .route("/segmente/zaehlen", post(segments::count))
        .route(
            "/segmente/{segment_id}",
            get(segments::page).post(segments::update),
        )
        .route("/segmente/{segment_id}/loeschen", post(segments::delete))
        .route("/kampagnen", get(campaigns::all).post(campaigns::create))
        .route("/kampagnen/neu", get(campaigns::new))
        .route("/kampagnen/zaehlen", post(campaigns::count))
        .route("/kampagnen/{campaign_id}", get(campaigns::page))
        .route(
            "/kampagnen/{campaign_id}/bearbeiten",
            get(campaigns::edit).post(campaigns::update),
        )
        .route("/kampagnen/{campaign_id}/planen", post(campaigns::schedule))
        .route("/kampagnen/{campaign_id}/pausieren", post(campaigns::pause))
        .route(
            "/kampagnen/{campaign_id}/fortsetzen",
            post(campaigns::resume),
        )
        .route(
            "/kampagnen/{campaign_id}/abbrechen",
            post(campaigns::cancel),
        )
        .route("/kampagnen/{campaign_id}/test", post(campaigns::test))
        .route("/bilder", get(library::all).post(library::announce))
        .route(
            "/bilder/{asset_id}",
            get(library::page).post(library::rename),
        )
        .route("/bilder/{asset_id}/pruefen", post(library::finish))
        .route("/bilder/{asset_id}/loeschen", post(library::delete))
        .route("/img/{tenant_id}/{file}", get(library::public))
        .route("/vorlagen", get(templates::all).post(templates::create))
        .route("/vorlagen/vorschau", post(templates::preview_draft))
        .route(
            "/vorlagen/{template_id}",
            get(templates::page).post(templates::save),
        )
        .route("/vorlagen/{template_id}/pruefen", post(templates::check))
        .route("/vorlagen/{template_id}/test", post(templates::test))
        .route("/vorlagen/{template_id}/loeschen", post(templates::delete))
        .route(
            "/vorlagen/{template_id}/vorschau",
            get(templates::preview_saved),
        )
        .route("/kontakte/{contact_id}/einwilligung", get(signup::evidence))
        .route("/anmeldeformulare", get(signup::list).post(signup::create))
        .route(
            "/anmeldeformulare/{form_id}",
            get(signup::page).post(signup::update),
        )
        .route("/anmeldeformulare/{form_id}/loeschen", post(signup::delete))
        .route(
            "/anmeldung/{tenant_id}/{form_id}",
            get(signup::form_page).post(signup::form_submit),
        )
        .route(
            "/anmeldung/bestaetigen/{token}",
            get(signup::confirm_page).post(signup::confirm_submit),
        )
        .route("/kontakte/{contact_id}/auskunft", get(gdpr::page))
        .route(
            "/sperrliste",
            get(suppressions::page).post(suppressions::add),
        )
        .route("/sperrliste/import", post(suppressions::import))
        .route(
            "/sperrliste/{entry_id}/entfernen",
            post(suppressions::remove),
        )
        .route("/felder", get(attributes::page).post(attributes::create))
        .route("/felder/{attribute_name}", post(attributes::relabel))
        .route(
            "/felder/{attribute_name}/loeschen",
            post(attributes::delete),
        )
        .route("/importe", get(imports::list).post(imports::announce))
        .route(
            "/importe/{import_id}",
            get(imports::page).post(imports::start),
        )
        .route("/importe/{import_id}/fortschritt", get(imports::progress))
        .route("/importe/{import_id}/bericht", get(imports::report))
        .route("/exporte", get(exports::page).post(exports::request))
        .route("/exporte/{export_id}/datei", get(exports::download))
        .route("/konto", get(account::page))
        .route("/konto/kennwort", post(account::change_password))
        .route("/konto/totp", post(account::start_totp))
        .route("/konto/totp/bestaetigen", post(account::confirm_totp))
        .route("/static/emma.css", get(assets::css))
        .route("/static/emma.js", get(assets::js))
        .route("/static/segments.js", get(assets::segments_js))
        .route("/static/templates.js", get(assets::templates_js))
}

/// The page routes a user who still holds a one-time password may use
/// (everything else sends them to `/konto` first).
pub const OPEN_BEFORE_PASSWORD_CHANGE: &[&str] = &[
    "/konto",
    "/konto/kennwort",
    "/abmelden",
    "/anmelden",
    "/sprache",
    "/static/emma.css",
    "/static/emma.js",
];

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Lets a page's script send files straight to the blob store (the import
/// wizard's presigned PUT): when the store's presigned URLs point to
/// another origin (S3), the page's CSP names exactly that origin in
/// `connect-src`; the local blob store answers on our own origin, which
/// `default-src 'self'` covers. Presigning is computed locally, without a
/// request to the store.
pub(crate) async fn allow_uploads_to_blob_store(
    app: &App,
    tenant: &crate::domain::TenantId,
    response: &mut Response,
) {
    use crate::ports::blobs::BlobKey;
    let Ok(key) = BlobKey::new(tenant, "uploads/origin-probe") else {
        return;
    };
    let Ok(probe) = app
        .blobs
        .presign_get(&key, std::time::Duration::from_secs(60))
        .await
    else {
        return;
    };
    let Ok(url) = url::Url::parse(&probe.url) else {
        return; // a relative URL: our own origin
    };
    let origin = url.origin().ascii_serialization();
    if origin == "null" {
        return;
    }
    let policy = format!("{CSP}; connect-src 'self' {origin}");
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Sets the security headers of an HTML response; HSTS only over TLS.
pub fn security_headers(response: &mut Response, https: bool) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

#[derive(Serialize)]
struct ErrorView {
    title: String,
    message: String,
    sign_in_link: bool,
}

/// An error page in the layout (without navigation): the status's title as
/// `h1` ("Keine Berechtigung" for 403, "Nicht gefunden" for 404,
/// "Anmeldung erforderlich" for 401, ...) and `message` below it, or the
/// status's standard explanation when `message` is empty. Carries the
/// security headers without HSTS; call [`security_headers`] again with
/// `https` to add it.
pub fn error_page(status: StatusCode, lang: Lang, message: &str) -> Response {
    let code = match status.as_u16() {
        code @ (400 | 401 | 403 | 404 | 405 | 413 | 415 | 429 | 500 | 503) => code.to_string(),
        _ => "other".to_owned(),
    };
    let view = ErrorView {
        title: i18n::tr(lang, &format!("error-title-{code}")),
        message: if message.is_empty() {
            i18n::tr(lang, &format!("error-message-{code}"))
        } else {
            message.to_owned()
        },
        sign_in_link: status == StatusCode::UNAUTHORIZED,
    };
    let layout = view::Layout::anonymous(lang, String::new());
    let body = view::render("error.html", &layout, &view).unwrap_or_else(|e| {
        tracing::error!(error = %format!("{e:#}"), "the error page did not render");
        format!(
            "<!DOCTYPE html><html lang=\"{}\"><title>EMMA</title><h1>{}</h1>",
            lang.code(),
            status.as_u16()
        )
    });
    view::html(status, body, false)
}
