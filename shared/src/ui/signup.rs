//! Double opt-in pages: the public hosted sign-up form
//! (`/anmeldung/{tenant}/{form}`, which also takes the post of the snippet
//! embedded on another site), the confirmation link's page with its button
//! (`/anmeldung/bestaetigen/{token}`: opening the link confirms nothing, so
//! mail scanners that prefetch it do no harm), the staff pages that manage
//! the forms (`/anmeldeformulare`) and the printable consent evidence of a
//! contact (`/kontakte/{contact_id}/einwilligung`).
//!
//! The public pages need no session and carry no CSRF token: the snippet
//! posts from other sites by design. They are protected by the honeypot,
//! the signed start time and the rate limits of `services::signup`.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::admin::{date_time, tenant_failure};
use super::forms::{FormBody, Member, Visit};
use super::view::{self, Layout};
use crate::domain::{ContactId, Permission, SignupFormId, TenantId};
use crate::http::access::{AUDIT_OBJECT, ClientIp};
use crate::services::consent::{self, ConsentKind};
use crate::services::contacts::{self, ContactError};
use crate::services::lists;
use crate::services::signup::{self, FormSettings, SignupError, SignupForm, Submission};

// ---------------------------------------------------------------------
// Shared

/// A user of a tenant whose role holds `permission`.
async fn member_in_tenant(
    visit: &Visit,
    permission: Permission,
) -> Result<(Member, TenantId), Response> {
    let member = visit.member(false).await?;
    if !member.principal.role.may(permission) {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    }
    let Some(tenant) = member.principal.tenant.clone() else {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    };
    Ok((member, tenant))
}

fn redirect(path: &str) -> Response {
    super::forms::redirect(path, "/anmeldeformulare")
}

fn signup_failure(visit: &Visit, e: SignupError) -> Response {
    match e {
        SignupError::Tenant(t) => tenant_failure(visit, t),
        SignupError::NotFound | SignupError::InvalidLink => visit.fail(StatusCode::NOT_FOUND),
        SignupError::Store(s) => visit.store_failure(s),
        SignupError::Conflict => visit.fail(StatusCode::CONFLICT),
        SignupError::Throttled { .. } => visit.fail(StatusCode::TOO_MANY_REQUESTS),
        SignupError::Invalid { .. } => visit.fail(StatusCode::BAD_REQUEST),
        SignupError::Mail(m) if m.is_retryable() => visit.fail(StatusCode::SERVICE_UNAVAILABLE),
        other => {
            tracing::error!(error = %other, "page: sign-up failed");
            visit.fail(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The message id of a form field's label.
fn label_of(field: &str) -> &'static str {
    match field {
        "name" => "signup-field-name",
        "list_id" => "signup-field-list",
        "consent_text" => "signup-field-consent-text",
        "from_name" => "signup-field-from-name",
        "mail_subject" => "signup-field-mail-subject",
        "mail_text" => "signup-field-mail-text",
        "thank_you_text" => "signup-field-thank-you",
        "link_validity_hours" => "signup-field-link-hours",
        "expiry_days" => "signup-field-expiry-days",
        "email" => "field-email",
        "salutation" => "contact-field-salutation",
        "first_name" => "contact-field-first-name",
        _ => "contact-field-last-name",
    }
}

// ---------------------------------------------------------------------
// The public form

#[derive(Debug, Default, Serialize)]
struct PublicFormView {
    alert: Option<String>,
    invalid: Option<String>,
    title: String,
    action: String,
    consent_text: String,
    ask_salutation: bool,
    ask_first_name: bool,
    ask_last_name: bool,
    started: String,
    honeypot: &'static str,
    email: String,
    salutation: String,
    first_name: String,
    last_name: String,
}

fn public_form_view(visit: &Visit, tenant: &TenantId, form: &SignupForm) -> PublicFormView {
    PublicFormView {
        title: form.name.clone(),
        action: format!("/anmeldung/{tenant}/{}", form.id),
        consent_text: form.consent_text.clone(),
        ask_salutation: form.ask_salutation,
        ask_first_name: form.ask_first_name,
        ask_last_name: form.ask_last_name,
        started: signup::started_token(&visit.app, tenant, &form.id, visit.app.clock.now()),
        honeypot: signup::HONEYPOT_FIELD,
        ..PublicFormView::default()
    }
}

fn public_page(
    visit: &Visit,
    status: StatusCode,
    template: &str,
    values: impl Serialize,
) -> Response {
    let layout = Layout::anonymous(visit.lang, String::new());
    let mut response = view::page(status, template, &layout, values, visit.https);
    response.headers_mut().insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

fn public_ids(raw_tenant: &str, raw_form: &str) -> Option<(TenantId, SignupFormId)> {
    Some((
        TenantId::parse(raw_tenant).ok()?,
        SignupFormId::parse(raw_form).ok()?,
    ))
}

/// `GET /anmeldung/{tenant_id}/{form_id}`: the hosted form.
pub(super) async fn form_page(
    visit: Visit,
    Path((raw_tenant, raw_form)): Path<(String, String)>,
) -> Response {
    let Some((tenant, form_id)) = public_ids(&raw_tenant, &raw_form) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    match signup::public_form(&visit.app, &tenant, &form_id).await {
        Ok((_, form)) => {
            let values = public_form_view(&visit, &tenant, &form);
            public_page(&visit, StatusCode::OK, "signup_form.html", values)
        }
        Err(e) => signup_failure(&visit, e),
    }
}

#[derive(Debug, Serialize)]
struct DoneView {
    /// `sent`, `confirm`, `confirmed` or `invalid`.
    state: &'static str,
    message: String,
    token: String,
}

/// `POST /anmeldung/{tenant_id}/{form_id}`: a sign-up, from the hosted
/// page or an embedded snippet.
pub(super) async fn form_submit(
    visit: Visit,
    ClientIp(ip): ClientIp,
    Path((raw_tenant, raw_form)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some((tenant, form_id)) = public_ids(&raw_tenant, &raw_form) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let header_text = |name: header::HeaderName| {
        visit
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let page = Some(field("page"))
        .filter(|p| !p.trim().is_empty())
        .or_else(|| header_text(header::REFERER));
    let started = Some(field(signup::STARTED_FIELD)).filter(|s| !s.is_empty());
    let submission = Submission {
        email: field("email"),
        salutation: field("salutation"),
        first_name: field("first_name"),
        last_name: field("last_name"),
        honeypot: field(signup::HONEYPOT_FIELD),
        started,
        page,
        user_agent: header_text(header::USER_AGENT),
        ip,
    };
    let entered = submission.clone();
    match signup::submit(&visit.app, &tenant, &form_id, submission).await {
        Ok(()) => {
            let message = match signup::public_form(&visit.app, &tenant, &form_id).await {
                Ok((_, form)) => form.thank_you_text,
                Err(_) => visit.tr("signup-sent"),
            };
            let values = DoneView {
                state: "sent",
                message,
                token: String::new(),
            };
            public_page(&visit, StatusCode::OK, "signup_done.html", values)
        }
        Err(SignupError::Invalid { field, .. }) => {
            let form = match signup::public_form(&visit.app, &tenant, &form_id).await {
                Ok((_, form)) => form,
                Err(e) => return signup_failure(&visit, e),
            };
            let mut values = public_form_view(&visit, &tenant, &form);
            values.alert = Some(visit.tr_args(
                "form-error",
                &[
                    ("field", visit.tr(label_of(field))),
                    ("problem", visit.tr("signup-problem-public")),
                ],
            ));
            values.invalid = Some(field.to_owned());
            values.email = entered.email;
            values.salutation = entered.salutation;
            values.first_name = entered.first_name;
            values.last_name = entered.last_name;
            public_page(&visit, StatusCode::BAD_REQUEST, "signup_form.html", values)
        }
        Err(SignupError::Throttled {
            retry_after_seconds,
        }) => {
            let mut response = super::error_page(
                StatusCode::TOO_MANY_REQUESTS,
                visit.lang,
                &visit.tr("signup-throttled"),
            );
            super::security_headers(&mut response, visit.https);
            if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(e) => signup_failure(&visit, e),
    }
}

fn invalid_link(visit: &Visit) -> Response {
    let values = DoneView {
        state: "invalid",
        message: visit.tr("signup-link-invalid"),
        token: String::new(),
    };
    // 400, not 404: the route exists, the link in it does not hold.
    public_page(visit, StatusCode::BAD_REQUEST, "signup_done.html", values)
}

/// `GET /anmeldung/bestaetigen/{token}`: the page with the button that
/// confirms. Opening it changes nothing.
pub(super) async fn confirm_page(visit: Visit, Path(token): Path<String>) -> Response {
    let Some(claims) = signup::verify_link(&visit.app, &token, visit.app.clock.now()) else {
        return invalid_link(&visit);
    };
    match signup::public_form(&visit.app, &claims.tenant, &claims.form).await {
        Ok(_) => {}
        Err(SignupError::Store(s)) => return visit.store_failure(s),
        Err(_) => return invalid_link(&visit),
    }
    let values = DoneView {
        state: "confirm",
        message: visit.tr("signup-confirm-intro"),
        token,
    };
    public_page(&visit, StatusCode::OK, "signup_done.html", values)
}

/// `POST /anmeldung/bestaetigen/{token}`: confirms (once; again changes
/// nothing).
pub(super) async fn confirm_submit(
    visit: Visit,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
) -> Response {
    let user_agent = visit
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match signup::confirm(&visit.app, &token, ip, user_agent.as_deref()).await {
        Ok(confirmed) => {
            let message = if confirmed.already {
                visit.tr("signup-already-confirmed")
            } else {
                visit.tr("signup-confirmed")
            };
            let values = DoneView {
                state: "confirmed",
                message,
                token: String::new(),
            };
            public_page(&visit, StatusCode::OK, "signup_done.html", values)
        }
        Err(SignupError::InvalidLink | SignupError::NotFound) => invalid_link(&visit),
        Err(e) => signup_failure(&visit, e),
    }
}

// ---------------------------------------------------------------------
// Staff pages: the forms

#[derive(Debug, Serialize)]
struct FormRow {
    id: String,
    name: String,
    list: String,
    consent_version: u32,
    updated_at: String,
}

#[derive(Debug, Serialize)]
struct ListChoice {
    id: String,
    name: String,
}

/// The fields of the form settings as entered.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SettingsForm {
    name: String,
    list_id: String,
    consent_text: String,
    ask_salutation: bool,
    ask_first_name: bool,
    ask_last_name: bool,
    from_name: String,
    mail_subject: String,
    mail_text: String,
    thank_you_text: String,
    link_validity_hours: String,
    expiry_days: String,
}

impl SettingsForm {
    fn of(form: &SignupForm) -> Self {
        Self {
            name: form.name.clone(),
            list_id: form.list_id.to_string(),
            consent_text: form.consent_text.clone(),
            ask_salutation: form.ask_salutation,
            ask_first_name: form.ask_first_name,
            ask_last_name: form.ask_last_name,
            from_name: form.from_name.clone().unwrap_or_default(),
            mail_subject: form.mail_subject.clone(),
            mail_text: form.mail_text.clone(),
            thank_you_text: form.thank_you_text.clone(),
            link_validity_hours: form.link_validity_hours.to_string(),
            expiry_days: form.expiry_days.to_string(),
        }
    }

    fn read(body: &FormBody, full: bool) -> Self {
        let text = |name: &str| body.get(name).to_owned();
        Self {
            name: text("name"),
            list_id: text("list_id"),
            consent_text: text("consent_text"),
            ask_salutation: body.get("ask_salutation") == "ja",
            ask_first_name: body.get("ask_first_name") == "ja",
            ask_last_name: body.get("ask_last_name") == "ja",
            from_name: if full {
                text("from_name")
            } else {
                String::new()
            },
            mail_subject: if full {
                text("mail_subject")
            } else {
                String::new()
            },
            mail_text: if full {
                text("mail_text")
            } else {
                String::new()
            },
            thank_you_text: if full {
                text("thank_you_text")
            } else {
                String::new()
            },
            link_validity_hours: if full {
                text("link_validity_hours")
            } else {
                String::new()
            },
            expiry_days: if full {
                text("expiry_days")
            } else {
                String::new()
            },
        }
    }

    /// The settings to store; empty optional fields take the defaults.
    fn settings(&self) -> Result<FormSettings, SignupError> {
        let number = |field: &'static str, raw: &str| -> Result<Option<u32>, SignupError> {
            let raw = raw.trim();
            if raw.is_empty() {
                return Ok(None);
            }
            raw.parse::<u32>()
                .map(Some)
                .map_err(|_| SignupError::Invalid {
                    field,
                    problem: "is not a whole number".to_owned(),
                })
        };
        let optional = |raw: &str| Some(raw.to_owned()).filter(|s| !s.trim().is_empty());
        Ok(FormSettings {
            name: self.name.clone(),
            list_id: self.list_id.clone(),
            consent_text: self.consent_text.clone(),
            ask_salutation: self.ask_salutation,
            ask_first_name: self.ask_first_name,
            ask_last_name: self.ask_last_name,
            from_name: optional(&self.from_name),
            mail_subject: optional(&self.mail_subject),
            mail_text: optional(&self.mail_text),
            thank_you_text: optional(&self.thank_you_text),
            link_validity_hours: number("link_validity_hours", &self.link_validity_hours)?,
            expiry_days: number("expiry_days", &self.expiry_days)?,
        })
    }
}

#[derive(Debug, Default, Serialize)]
struct FormsView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    may_write: bool,
    forms: Vec<FormRow>,
    lists: Vec<ListChoice>,
    form: SettingsForm,
}

/// The notices a redirect may ask for (`?hinweis=`).
fn notice_id(raw: &str) -> Option<&'static str> {
    match raw {
        "angelegt" => Some("signup-notice-created"),
        "gespeichert" => Some("signup-notice-saved"),
        "geloescht" => Some("signup-notice-deleted"),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    #[serde(default)]
    hinweis: String,
}

fn notice_of(visit: &Visit, uri: &Uri) -> Option<String> {
    axum::extract::Query::<NoticeQuery>::try_from_uri(uri)
        .ok()
        .and_then(|q| notice_id(&q.0.hinweis))
        .map(|id| visit.tr(id))
}

async fn list_choices(visit: &Visit, tenant: &TenantId) -> Result<Vec<ListChoice>, Response> {
    match lists::all(&visit.app, tenant).await {
        Ok(all) => Ok(all
            .into_iter()
            .map(|l| ListChoice {
                id: l.id.to_string(),
                name: l.name,
            })
            .collect()),
        Err(lists::ListError::Store(s)) => Err(visit.store_failure(s)),
        Err(lists::ListError::Tenant(t)) => Err(tenant_failure(visit, t)),
        Err(_) => Err(visit.fail(StatusCode::INTERNAL_SERVER_ERROR)),
    }
}

async fn forms_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    mut values: FormsView,
    status: StatusCode,
) -> Response {
    let forms = match signup::all(&visit.app, tenant).await {
        Ok(forms) => forms,
        Err(e) => return signup_failure(visit, e),
    };
    let lists = match list_choices(visit, tenant).await {
        Ok(lists) => lists,
        Err(response) => return response,
    };
    values.forms = forms
        .iter()
        .map(|f| FormRow {
            id: f.id.to_string(),
            name: f.name.clone(),
            list: lists
                .iter()
                .find(|l| l.id == f.list_id.to_string())
                .map_or_else(|| visit.tr("signup-list-gone"), |l| l.name.clone()),
            consent_version: f.consent_version,
            updated_at: date_time(visit.lang, f.updated_at),
        })
        .collect();
    values.lists = lists;
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    let layout = visit.layout(member, "/anmeldeformulare");
    view::page(status, "signup_forms.html", &layout, &values, visit.https)
}

/// `GET /anmeldeformulare`: the tenant's sign-up forms, and for editors
/// the form for a new one.
pub(super) async fn list(visit: Visit, uri: Uri) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let values = FormsView {
        notice: notice_of(&visit, &uri),
        ..FormsView::default()
    };
    forms_page(&visit, &member, &tenant, values, StatusCode::OK).await
}

/// The alert for a field the service refused.
fn refusal(visit: &Visit, field: &'static str) -> String {
    visit.tr_args(
        "form-error",
        &[
            ("field", visit.tr(label_of(field))),
            (
                "problem",
                visit.tr(&format!("signup-problem-{}", field.replace('_', "-"))),
            ),
        ],
    )
}

/// `POST /anmeldeformulare`: creates a form (the other settings take their
/// defaults) and goes to its page.
pub(super) async fn create(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let entered = SettingsForm::read(&body, false);
    let result = match entered.settings() {
        Ok(settings) => signup::create(&visit.app, &tenant, &settings).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(form) => {
            let mut response = redirect(&format!("/anmeldeformulare/{}?hinweis=angelegt", form.id));
            if let Ok(id) = HeaderValue::from_str(&form.id.to_string()) {
                response.headers_mut().insert(AUDIT_OBJECT, id);
            }
            response
        }
        Err(SignupError::Invalid { field, .. }) => {
            let values = FormsView {
                alert: Some(refusal(&visit, field)),
                invalid: Some(field),
                form: entered,
                ..FormsView::default()
            };
            forms_page(&visit, &member, &tenant, values, StatusCode::BAD_REQUEST).await
        }
        Err(e) => signup_failure(&visit, e),
    }
}

#[derive(Debug, Default, Serialize)]
struct EditView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    id: String,
    name: String,
    may_write: bool,
    consent_version: u32,
    public_url: String,
    embed_html: String,
    lists: Vec<ListChoice>,
    form: SettingsForm,
}

async fn edit_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    form: &SignupForm,
    mut values: EditView,
    status: StatusCode,
) -> Response {
    values.lists = match list_choices(visit, tenant).await {
        Ok(lists) => lists,
        Err(response) => return response,
    };
    values.id = form.id.to_string();
    values.name = form.name.clone();
    values.consent_version = form.consent_version;
    values.public_url = signup::action_url(&visit.app, tenant, &form.id);
    values.embed_html = signup::embed_snippet(&visit.app, tenant, form);
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    if values.form.name.is_empty() && values.invalid.is_none() {
        values.form = SettingsForm::of(form);
    }
    let layout = visit.layout(member, "/anmeldeformulare");
    view::page(
        status,
        "signup_form_edit.html",
        &layout,
        &values,
        visit.https,
    )
}

async fn find_form(visit: &Visit, tenant: &TenantId, raw: &str) -> Result<SignupForm, Response> {
    let id = SignupFormId::parse(raw).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?;
    signup::get(&visit.app, tenant, &id)
        .await
        .map_err(|e| signup_failure(visit, e))
}

/// `GET /anmeldeformulare/{form_id}`: a form's settings, its public link
/// and the snippet to embed.
pub(super) async fn page(visit: Visit, Path(form_id): Path<String>, uri: Uri) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = match find_form(&visit, &tenant, &form_id).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let values = EditView {
        notice: notice_of(&visit, &uri),
        ..EditView::default()
    };
    edit_page(&visit, &member, &tenant, &form, values, StatusCode::OK).await
}

/// `POST /anmeldeformulare/{form_id}`: saves the settings.
pub(super) async fn update(visit: Visit, Path(form_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = match find_form(&visit, &tenant, &form_id).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let entered = SettingsForm::read(&body, true);
    let result = match entered.settings() {
        Ok(settings) => signup::update(&visit.app, &tenant, &form.id, &settings).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(saved) => redirect(&format!(
            "/anmeldeformulare/{}?hinweis=gespeichert",
            saved.id
        )),
        Err(SignupError::Invalid { field, .. }) => {
            let values = EditView {
                alert: Some(refusal(&visit, field)),
                invalid: Some(field),
                form: entered,
                ..EditView::default()
            };
            edit_page(
                &visit,
                &member,
                &tenant,
                &form,
                values,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => signup_failure(&visit, e),
    }
}

/// `POST /anmeldeformulare/{form_id}/loeschen`: deletes the form once the
/// box is ticked.
pub(super) async fn delete(visit: Visit, Path(form_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = match find_form(&visit, &tenant, &form_id).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    if body.get("bestaetigt") != "ja" {
        let values = EditView {
            alert: Some(visit.tr("signup-problem-confirm-delete")),
            ..EditView::default()
        };
        return edit_page(
            &visit,
            &member,
            &tenant,
            &form,
            values,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    match signup::delete(&visit.app, &tenant, &form.id).await {
        Ok(()) => redirect("/anmeldeformulare?hinweis=geloescht"),
        Err(e) => signup_failure(&visit, e),
    }
}

// ---------------------------------------------------------------------
// The evidence page

#[derive(Debug, Serialize)]
struct RecordView {
    /// Message id of the kind's label.
    kind: &'static str,
    at: String,
    at_utc: String,
    ip: Option<String>,
    user_agent: Option<String>,
    form_name: Option<String>,
    form_id: Option<String>,
    page: Option<String>,
    consent_text: Option<String>,
    consent_version: Option<u32>,
    consent_text_sha256: Option<String>,
    mail_message_id: Option<String>,
    mail_sha256: Option<String>,
    mail_size: Option<u64>,
    mail_sent_sha256: Option<String>,
    mail_sent_size: Option<u64>,
    mail_link_sha256: Option<String>,
    mail_headers: Option<String>,
    mail_text: Option<String>,
}

#[derive(Debug, Serialize)]
struct EvidenceView {
    id: String,
    heading: String,
    email: String,
    status: &'static str,
    printed_at: String,
    records: Vec<RecordView>,
}

/// `GET /kontakte/{contact_id}/einwilligung`: every piece of the contact's
/// consent evidence, printable. It shows full IP addresses and user
/// agents: for editors, and on the audit log (`contact.consent_read`).
pub(super) async fn evidence(visit: Visit, Path(contact_id): Path<String>) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(id) = ContactId::parse(&contact_id) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    let contact = match contacts::get(&visit.app, &tenant, &id).await {
        Ok(contact) => contact,
        Err(ContactError::NotFound) => return visit.fail(StatusCode::NOT_FOUND),
        Err(ContactError::Store(s)) => return visit.store_failure(s),
        Err(ContactError::Tenant(t)) => return tenant_failure(&visit, t),
        Err(_) => return visit.fail(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let records = match consent::records(&visit.app, &tenant, &id).await {
        Ok(records) => records,
        Err(consent::ConsentError::Store(s)) => return visit.store_failure(s),
        Err(consent::ConsentError::Blob(_)) => {
            return visit.fail(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let mut shown = Vec::with_capacity(records.len());
    for record in records {
        let raw = match consent::mail_bytes(&visit.app, &tenant, &record).await {
            Ok(raw) => raw,
            Err(e) => {
                tracing::warn!(error = %e, "page: a consent mail could not be read");
                None
            }
        };
        shown.push(RecordView {
            kind: match record.kind {
                ConsentKind::Signup => "consent-kind-signup",
                ConsentKind::Confirmation => "consent-kind-confirmation",
            },
            at: date_time(visit.lang, record.at),
            at_utc: record
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ip: record.ip,
            user_agent: record.user_agent,
            form_name: record.form_name,
            form_id: record.form_id.map(|f| f.to_string()),
            page: record.page,
            consent_text: record.consent_text,
            consent_version: record.consent_version,
            consent_text_sha256: record.consent_text_sha256,
            mail_message_id: record.mail.as_ref().map(|m| m.message_id.clone()),
            mail_sha256: record.mail.as_ref().map(|m| m.sha256.clone()),
            mail_size: record.mail.as_ref().map(|m| m.size_bytes),
            mail_sent_sha256: record.mail.as_ref().map(|m| m.sent_sha256.clone()),
            mail_sent_size: record.mail.as_ref().map(|m| m.sent_size_bytes),
            mail_link_sha256: record.mail.as_ref().map(|m| m.link_sha256.clone()),
            mail_headers: raw.as_deref().map(consent::header_block),
            mail_text: record.mail.map(|m| m.text),
        });
    }
    let values = EvidenceView {
        id: contact.id.to_string(),
        heading: contact.display_name(),
        email: contact.email.to_string(),
        status: super::contacts::status_label(contact.status),
        printed_at: date_time(visit.lang, visit.app.clock.now()),
        records: shown,
    };
    let layout = visit.layout(&member, "/kontakte");
    view::page(
        StatusCode::OK,
        "consent.html",
        &layout,
        &values,
        visit.https,
    )
}
