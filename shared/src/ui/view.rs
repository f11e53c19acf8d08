//! Rendering: the templates (embedded, loaded once into one minijinja
//! environment with HTML auto-escaping for every template), the `t()`
//! function that reads the catalogue, and the layout every page shares.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::{Kwargs, Serde, Value, merge_maps};
use minijinja::{AutoEscape, Environment, State, UndefinedBehavior};
use serde::Serialize;

use super::assets;
use super::i18n::{self, Lang};
use crate::domain::{Permission, Role};

/// Every template, by name.
pub(super) const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("users.html", include_str!("templates/users.html")),
    ("tenants.html", include_str!("templates/tenants.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("account.html", include_str!("templates/account.html")),
    ("error.html", include_str!("templates/error.html")),
    (
        "forgot_password.html",
        include_str!("templates/forgot_password.html"),
    ),
    (
        "reset_password.html",
        include_str!("templates/reset_password.html"),
    ),
    ("tenant.html", include_str!("templates/tenant.html")),
    ("dev_idp.html", include_str!("templates/dev_idp.html")),
    ("contacts.html", include_str!("templates/contacts.html")),
    ("contact.html", include_str!("templates/contact.html")),
    ("lists.html", include_str!("templates/lists.html")),
    ("list.html", include_str!("templates/list.html")),
    ("segment.html", include_str!("templates/segment.html")),
    ("templates.html", include_str!("templates/templates.html")),
    ("assets.html", include_str!("templates/assets.html")),
    ("asset.html", include_str!("templates/asset.html")),
    ("campaigns.html", include_str!("templates/campaigns.html")),
    (
        "campaign_form.html",
        include_str!("templates/campaign_form.html"),
    ),
    ("campaign.html", include_str!("templates/campaign.html")),
    ("template.html", include_str!("templates/template.html")),
    ("segments.html", include_str!("templates/segments.html")),
    (
        "signup_form.html",
        include_str!("templates/signup_form.html"),
    ),
    (
        "signup_done.html",
        include_str!("templates/signup_done.html"),
    ),
    (
        "signup_forms.html",
        include_str!("templates/signup_forms.html"),
    ),
    (
        "signup_form_edit.html",
        include_str!("templates/signup_form_edit.html"),
    ),
    ("consent.html", include_str!("templates/consent.html")),
    (
        "suppressions.html",
        include_str!("templates/suppressions.html"),
    ),
    (
        "contact_data.html",
        include_str!("templates/contact_data.html"),
    ),
    ("imports.html", include_str!("templates/imports.html")),
    ("import.html", include_str!("templates/import.html")),
    (
        "import_mapping.html",
        include_str!("templates/import_mapping.html"),
    ),
    ("exports.html", include_str!("templates/exports.html")),
    ("attributes.html", include_str!("templates/attributes.html")),
    (
        "unsubscribe.html",
        include_str!("templates/unsubscribe.html"),
    ),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Every template is HTML, whatever its name: escape everything.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // A misspelt variable fails loudly instead of printing nothing.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
    }
    env.add_function("t", translate);
    env
});

/// `t("message-id", name=value, ...)`: the message in the page's language
/// (the context variable `lang`). The result is text, escaped on output.
fn translate(state: &State, id: &str, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default();
    let mut args = FluentArgs::new();
    for key in kwargs.args() {
        let value: Value = kwargs.get(key)?;
        let value = match value.as_i64() {
            Some(n) => FluentValue::from(n),
            None => FluentValue::from(value.to_string()),
        };
        args.set(key.to_owned(), value);
    }
    Ok(i18n::message(lang, id, Some(&args)))
}

/// The signed-in user as the header shows them.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Badge {
    pub name: String,
    /// The message id of the role, e.g. `role-tenant_admin`.
    pub role: String,
}

/// One link of the main navigation.
#[derive(Debug, Clone, Serialize)]
pub(super) struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub description: Option<&'static str>,
    pub current: bool,
}

/// What the layout needs on every page.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Layout {
    pub lang: &'static str,
    pub asset_version: &'static str,
    pub csrf_token: String,
    pub user: Option<Badge>,
    pub nav: Vec<NavItem>,
}

impl Layout {
    /// The layout for a visitor who is not signed in.
    pub fn anonymous(lang: Lang, csrf_token: String) -> Self {
        Self {
            lang: lang.code(),
            asset_version: assets::version(),
            csrf_token,
            user: None,
            nav: Vec::new(),
        }
    }
}

/// The message id of a role's name.
pub(super) fn role_label(role: Role) -> String {
    format!("role-{}", role.as_str())
}

/// The main navigation for a role; `current` marks the page shown.
pub(super) fn nav(role: Role, current: &str) -> Vec<NavItem> {
    let items = [
        ("/", "nav-overview", None, true),
        (
            "/kontakte",
            "nav-contacts",
            Some("nav-contacts-description"),
            role.may(Permission::ReadContacts),
        ),
        (
            "/listen",
            "nav-lists",
            Some("nav-lists-description"),
            role.may(Permission::ReadContacts),
        ),
        (
            "/segmente",
            "nav-segments",
            Some("nav-segments-description"),
            role.may(Permission::ReadContacts),
        ),
        (
            "/sperrliste",
            "nav-suppressions",
            Some("nav-suppressions-description"),
            role.may(Permission::ReadContacts),
        ),
        (
            "/importe",
            "nav-imports",
            Some("nav-imports-description"),
            role.may(Permission::WriteContacts),
        ),
        (
            "/exporte",
            "nav-exports",
            Some("nav-exports-description"),
            role.may(Permission::WriteContacts),
        ),
        (
            "/felder",
            "nav-attributes",
            Some("nav-attributes-description"),
            role.may(Permission::WriteContacts),
        ),
        (
            "/kampagnen",
            "nav-campaigns",
            Some("nav-campaigns-description"),
            role.may(Permission::ReadContent),
        ),
        (
            "/vorlagen",
            "nav-templates",
            Some("nav-templates-description"),
            role.may(Permission::ReadContent),
        ),
        (
            "/bilder",
            "nav-assets",
            Some("nav-assets-description"),
            role.may(Permission::ReadContent),
        ),
        (
            "/anmeldeformulare",
            "nav-signup-forms",
            Some("nav-signup-forms-description"),
            role.may(Permission::ReadContacts),
        ),
        (
            "/benutzer",
            "nav-users",
            Some("nav-users-description"),
            role.may(Permission::ManageUsers),
        ),
        (
            "/mandanten",
            "nav-tenants",
            Some("nav-tenants-description"),
            role.may(Permission::ReadTenants),
        ),
        (
            "/protokoll",
            "nav-audit",
            Some("nav-audit-description"),
            role.may(Permission::ReadAudit) || role.may(Permission::ReadPlatformAudit),
        ),
        (
            "/konto",
            "nav-account",
            Some("nav-account-description"),
            true,
        ),
    ];
    items
        .into_iter()
        .filter(|(_, _, _, shown)| *shown)
        .map(|(href, label, description, _)| NavItem {
            href,
            label,
            description,
            current: href == current,
        })
        .collect()
}

/// Renders a template with the layout's values and the page's own.
pub(super) fn render(
    template: &str,
    layout: &Layout,
    page: impl Serialize,
) -> Result<String, minijinja::Error> {
    let context = merge_maps([Value::from(Serde(page)), Value::from(Serde(layout))]);
    ENV.get_template(template)?.render(context)
}

/// An HTML response: the page, not to be cached (it may show a one-time
/// password), with the security headers.
pub(super) fn html(status: StatusCode, body: String, https: bool) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    super::security_headers(&mut response, https);
    response
}

/// Renders a page into a response; a template that fails is logged and
/// answered with the plain error page.
pub(super) fn page(
    status: StatusCode,
    template: &str,
    layout: &Layout,
    values: impl Serialize,
    https: bool,
) -> Response {
    let lang = Lang::parse(layout.lang).unwrap_or_default();
    match render(template, layout, values) {
        Ok(body) => html(status, body, https),
        Err(e) => {
            tracing::error!(template, error = %format!("{e:#}"), "page did not render");
            let mut response = super::error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, "");
            super::security_headers(&mut response, https);
            response
        }
    }
}
