//! The template pages (Vorlagen): the tenant's templates and the form to
//! start one; the editor of one template with its checks, its versions and
//! a live preview; and the preview itself, rendered exactly as the mail
//! would be for a chosen contact (or a sample contact), served into a
//! sandboxed frame with a policy of its own: no scripts, no forms, no
//! plug-ins, images over https only.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::admin::{date, tenant_failure};
use super::forms::{FormBody, Member, Visit, redirect};
use super::lists::member_in_tenant;
use super::view;
use crate::content::checks::{Finding, Severity};
use crate::content::template::{TemplateKind, TemplateSource};
use crate::domain::{ContactId, EmailAddress, Permission, TemplateId, TenantId};
use crate::http::access::AUDIT_OBJECT;
use crate::services::contacts;
use crate::services::templates::{self, Template, TemplateError, Version};

/// What the preview frame's document may do: show the mail's own styles
/// and images over https (and the library's own, from EMMA's address), and
/// nothing else (no script, form, plug-in or frame; `sandbox` gives it an
/// origin of its own).
fn preview_policy(visit: &Visit) -> String {
    let origin = visit.app.settings.public_url.origin().ascii_serialization();
    format!(
        "sandbox; default-src 'none'; img-src https: data: {origin}; \
         style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
}

/// The first version of a new MJML template: responsive, with the
/// greeting, a button and the unsubscribe link every mailing needs.
const MJML_STARTER: &str = r##"<mjml>
  <mj-head>
    <mj-preview>Neuigkeiten von {{ institute.name }}</mj-preview>
  </mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-text font-size="16px">{{ contact.greeting }},</mj-text>
        <mj-text>hier steht Ihr Text.</mj-text>
        <mj-button href="https://www.example.de">Mehr erfahren</mj-button>
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-text font-size="12px" color="#666666">
          Sie erhalten diese E-Mail, weil Sie den Newsletter von {{ institute.name }} abonniert haben.
          <a href="{{ unsubscribe_url }}">Vom Newsletter abmelden</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"##;

/// The first version of a new HTML template.
const HTML_STARTER: &str = r##"<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>
<body>
  <p>{{ contact.greeting }},</p>
  <p>hier steht Ihr Text.</p>
  <p style="font-size:12px;color:#666666">
    <a href="{{ unsubscribe_url }}">Vom Newsletter abmelden</a>
  </p>
</body>
</html>
"##;

fn failure(visit: &Visit, e: TemplateError) -> Response {
    match e {
        TemplateError::Tenant(t) => tenant_failure(visit, t),
        TemplateError::NotFound
        | TemplateError::VersionNotFound(_)
        | TemplateError::ContactNotFound => visit.fail(StatusCode::NOT_FOUND),
        TemplateError::Store(s) => visit.store_failure(s),
        TemplateError::Mail(m) if m.is_retryable() => visit.fail(StatusCode::SERVICE_UNAVAILABLE),
        TemplateError::InUse(_) => visit.fail(StatusCode::CONFLICT),
        TemplateError::Invalid { .. }
        | TemplateError::Compile(_)
        | TemplateError::Conflict { .. }
        | TemplateError::Message(_)
        | TemplateError::Mail(_) => visit.fail(StatusCode::BAD_REQUEST),
    }
}

/// A redirect that names the template for the audit entry.
fn redirect_naming(path: &str, template: &TemplateId) -> Response {
    let mut response = redirect(path, "/vorlagen");
    if let Ok(id) = HeaderValue::from_str(&template.to_string()) {
        response.headers_mut().insert(AUDIT_OBJECT, id);
    }
    response
}

/// The notices a redirect may ask for (`?hinweis=`): a fixed set.
fn notice_id(raw: &str) -> Option<&'static str> {
    match raw {
        "angelegt" => Some("templates-notice-created"),
        "gespeichert" => Some("templates-notice-saved"),
        "geloescht" => Some("templates-notice-deleted"),
        "test-gesendet" => Some("templates-notice-test-sent"),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    hinweis: String,
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    kontakt: String,
}

fn page_query(uri: &Uri) -> PageQuery {
    axum::extract::Query::<PageQuery>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

fn kind_of(raw: &str) -> TemplateKind {
    if raw == "html" {
        TemplateKind::Html
    } else {
        TemplateKind::Mjml
    }
}

fn kind_value(kind: TemplateKind) -> &'static str {
    match kind {
        TemplateKind::Mjml => "mjml",
        TemplateKind::Html => "html",
    }
}

/// The template as the editor form sent it.
fn source_from(body: &FormBody) -> TemplateSource {
    let text = body.get("text");
    TemplateSource {
        kind: kind_of(body.get("kind")),
        subject: body.get("subject").to_owned(),
        body: body.get("body").to_owned(),
        text: (!text.trim().is_empty()).then(|| text.to_owned()),
    }
}

// ---------------------------------------------------------------------
// Every template

#[derive(Debug, Serialize)]
struct TemplateRow {
    id: String,
    name: String,
    kind: String,
    version: u32,
    updated_at: String,
}

#[derive(Debug, Default, Serialize)]
struct TemplatesView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    may_write: bool,
    name: String,
    templates: Vec<TemplateRow>,
}

async fn templates_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    mut values: TemplatesView,
    status: StatusCode,
) -> Response {
    let all = match templates::all(&visit.app, tenant).await {
        Ok(all) => all,
        Err(e) => return failure(visit, e),
    };
    values.templates = all
        .into_iter()
        .map(|t| TemplateRow {
            id: t.id.to_string(),
            name: t.name,
            kind: visit.tr(&format!("templates-kind-{}", kind_value(t.kind))),
            version: t.current,
            updated_at: date(visit.lang, t.updated_at),
        })
        .collect();
    values.may_write = member.principal.role.may(Permission::WriteContent);
    let layout = visit.layout(member, "/vorlagen");
    view::page(status, "templates.html", &layout, &values, visit.https)
}

/// `GET /vorlagen`: the tenant's templates.
pub(super) async fn all(visit: Visit, uri: Uri) -> Response {
    let query = page_query(&uri);
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let values = TemplatesView {
        notice: notice_id(&query.hinweis).map(|id| visit.tr(id)),
        ..TemplatesView::default()
    };
    templates_page(&visit, &member, &tenant, values, StatusCode::OK).await
}

/// `POST /vorlagen`: creates a template from the starter of its kind and
/// opens it in the editor.
pub(super) async fn create(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let name = body.get("name").trim().to_owned();
    let kind = kind_of(body.get("kind"));
    let source = TemplateSource {
        kind,
        subject: "Neuigkeiten für {{ contact.first_name | default(\"Sie\") }}".to_owned(),
        body: match kind {
            TemplateKind::Mjml => MJML_STARTER,
            TemplateKind::Html => HTML_STARTER,
        }
        .to_owned(),
        text: None,
    };
    match templates::create(&visit.app, &tenant, &name, source).await {
        Ok((template, _)) => redirect_naming(
            &format!("/vorlagen/{}?hinweis=angelegt", template.id),
            &template.id,
        ),
        Err(TemplateError::Invalid { field: "name", .. }) => {
            let problem = if name.is_empty() {
                visit.tr("problem-required")
            } else {
                visit.tr_args("problem-too-long", &[("max", "100".to_owned())])
            };
            let invalid = visit.invalid("name", "templates-field-name", problem);
            let values = TemplatesView {
                alert: Some(invalid.alert),
                invalid: Some(invalid.field),
                field_error: Some(invalid.problem),
                name,
                ..TemplatesView::default()
            };
            templates_page(&visit, &member, &tenant, values, StatusCode::BAD_REQUEST).await
        }
        Err(e) => failure(&visit, e),
    }
}

// ---------------------------------------------------------------------
// One template

#[derive(Debug, Serialize)]
struct FindingRow {
    error: bool,
    text: String,
}

#[derive(Debug, Serialize)]
struct VersionRow {
    number: u32,
    subject: String,
    saved_at: String,
    shown: bool,
}

#[derive(Debug, Default, Serialize)]
struct EditorView {
    alert: Option<String>,
    notice: Option<String>,
    /// The field a refusal is about, and why.
    invalid: Option<&'static str>,
    field_error: Option<String>,
    may_write: bool,
    id: String,
    name: String,
    kind: &'static str,
    subject: String,
    body: String,
    text: String,
    /// The version the form was loaded from (`stand`), and the current one.
    based_on: u32,
    current: u32,
    /// An older version is shown (saving makes it the newest again).
    older: Option<u32>,
    /// What the checks found, errors first; none run when `None`.
    findings: Option<Vec<FindingRow>>,
    blocking: bool,
    /// The rendered subject line for the preview contact.
    preview_subject: Option<String>,
    preview_email: String,
    versions: Vec<VersionRow>,
    /// The test send form: whether it is offered, its addresses as typed,
    /// and why they were refused.
    may_test: bool,
    test_addresses: String,
    test_error: Option<String>,
}

fn finding_rows(visit: &Visit, findings: &[Finding]) -> Vec<FindingRow> {
    let mut rows: Vec<FindingRow> = findings
        .iter()
        .map(|f| FindingRow {
            error: f.severity == Severity::Error,
            text: visit.tr_args(
                &format!("templates-check-{}", f.code.replace('_', "-")),
                &[("subject", f.subject.clone())],
            ),
        })
        .collect();
    rows.sort_by_key(|r| !r.error);
    rows
}

async fn find(visit: &Visit, tenant: &TenantId, raw_id: &str) -> Result<Template, Response> {
    let id = TemplateId::parse(raw_id).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?;
    templates::get(&visit.app, tenant, &id)
        .await
        .map_err(|e| failure(visit, e))
}

/// The contact named by an address in the preview field, if there is one.
async fn preview_contact(
    visit: &Visit,
    tenant: &TenantId,
    raw: &str,
) -> Result<Option<ContactId>, ()> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let email = EmailAddress::parse(raw).map_err(drop)?;
    match contacts::find_by_email(&visit.app, tenant, &email).await {
        Ok(Some(contact)) => Ok(Some(contact.id)),
        _ => Err(()),
    }
}

/// Fills the checks and the subject line of the preview for `source`.
async fn run_checks(
    visit: &Visit,
    tenant: &TenantId,
    source: &TemplateSource,
    values: &mut EditorView,
) {
    let contact = match preview_contact(visit, tenant, &values.preview_email).await {
        Ok(contact) => contact,
        Err(()) => {
            values.alert = Some(visit.tr("templates-preview-contact-unknown"));
            None
        }
    };
    match templates::preview(&visit.app, tenant, source, contact.as_ref()).await {
        Ok(preview) => {
            values.blocking = crate::content::checks::blocks(&preview.findings);
            values.findings = Some(finding_rows(visit, &preview.findings));
            values.preview_subject = Some(preview.rendered.subject);
        }
        Err(e) => refuse(visit, values, &e),
    }
}

/// Puts a refusal of the editor's input beside its field.
fn refuse(visit: &Visit, values: &mut EditorView, e: &TemplateError) {
    let (field, problem): (&'static str, String) = match e {
        TemplateError::Compile(c) => (
            field_of(c.part.field()),
            match (c.line, c.column) {
                (Some(line), Some(column)) => visit.tr_args(
                    "templates-problem-syntax-at",
                    &[
                        ("line", line.to_string()),
                        ("column", column.to_string()),
                        ("message", c.message.clone()),
                    ],
                ),
                _ => visit.tr_args(
                    "templates-problem-syntax",
                    &[("message", c.message.clone())],
                ),
            },
        ),
        TemplateError::Invalid { field, reason } => (
            field_of(field),
            visit.tr_args("templates-problem-invalid", &[("reason", reason.clone())]),
        ),
        TemplateError::Conflict { current } => (
            "body",
            visit.tr_args(
                "templates-problem-conflict",
                &[("current", current.to_string())],
            ),
        ),
        other => ("body", other.to_string()),
    };
    let label = match field {
        "name" => "templates-field-name",
        "subject" => "templates-field-subject",
        "text" => "templates-field-text",
        _ => "templates-field-body",
    };
    let invalid = visit.invalid(field, label, problem);
    values.alert = Some(invalid.alert);
    values.invalid = Some(invalid.field);
    values.field_error = Some(invalid.problem);
}

fn field_of(raw: &str) -> &'static str {
    match raw {
        "name" => "name",
        "subject" => "subject",
        "text" => "text",
        _ => "body",
    }
}

async fn editor_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    template: &Template,
    mut values: EditorView,
    status: StatusCode,
) -> Response {
    let versions = match templates::versions(&visit.app, tenant, &template.id).await {
        Ok(versions) => versions,
        Err(e) => return failure(visit, e),
    };
    let shown = values.older.unwrap_or(template.current);
    values.versions = versions
        .into_iter()
        .map(|v| VersionRow {
            number: v.number,
            subject: v.source.subject,
            saved_at: super::admin::date_time(visit.lang, v.saved_at),
            shown: v.number == shown,
        })
        .collect();
    values.id = template.id.to_string();
    values.current = template.current;
    values.may_write = member.principal.role.may(Permission::WriteContent);
    values.may_test = member.principal.role.may(Permission::SendTestMail);
    let layout = visit.layout(member, "/vorlagen");
    view::page(status, "template.html", &layout, &values, visit.https)
}

fn loaded(template: &Template, version: &Version) -> EditorView {
    EditorView {
        name: template.name.clone(),
        kind: kind_value(version.source.kind),
        subject: version.source.subject.clone(),
        body: version.source.body.clone(),
        text: version.source.text.clone().unwrap_or_default(),
        based_on: template.current,
        older: (version.number != template.current).then_some(version.number),
        ..EditorView::default()
    }
}

/// For a reader of the tenant's content: the template and the version
/// asked for (the current one when none is).
async fn shown(
    visit: &Visit,
    raw_id: &str,
    number: Option<u32>,
) -> Result<(Member, TenantId, Template, Version), Response> {
    let (member, tenant) = member_in_tenant(visit, Permission::ReadContent).await?;
    let template = find(visit, &tenant, raw_id).await?;
    let (_, version) = templates::version(&visit.app, &tenant, &template.id, number)
        .await
        .map_err(|e| failure(visit, e))?;
    Ok((member, tenant, template, version))
}

/// `GET /vorlagen/{template_id}`: the editor with the current version (or
/// `?version=N`), its checks and the preview.
pub(super) async fn page(visit: Visit, Path(raw_id): Path<String>, uri: Uri) -> Response {
    let query = page_query(&uri);
    let (member, tenant, template, version) = match shown(&visit, &raw_id, query.version).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut values = loaded(&template, &version);
    values.notice = notice_id(&query.hinweis).map(|id| visit.tr(id));
    values.preview_email = query.kontakt;
    run_checks(&visit, &tenant, &version.source, &mut values).await;
    editor_page(&visit, &member, &tenant, &template, values, StatusCode::OK).await
}

/// The editor's fields as sent, for showing them again.
fn as_sent(template: &Template, body: &FormBody) -> EditorView {
    EditorView {
        name: body.get("name").to_owned(),
        kind: kind_value(kind_of(body.get("kind"))),
        subject: body.get("subject").to_owned(),
        body: body.get("body").to_owned(),
        text: body.get("text").to_owned(),
        based_on: body.get("stand").parse().unwrap_or(template.current),
        preview_email: body.get("vorschau_email").to_owned(),
        ..EditorView::default()
    }
}

/// `POST /vorlagen/{template_id}`: saves the form as a new version.
pub(super) async fn save(visit: Visit, Path(raw_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let template = match find(&visit, &tenant, &raw_id).await {
        Ok(template) => template,
        Err(response) => return response,
    };
    let based_on = body.get("stand").parse::<u32>().ok();
    let source = source_from(&body);
    match templates::save(
        &visit.app,
        &tenant,
        &template.id,
        body.get("name"),
        source,
        based_on,
    )
    .await
    {
        Ok((saved, _)) => {
            let email = body.get("vorschau_email").trim();
            let mut path = format!("/vorlagen/{}?hinweis=gespeichert", saved.id);
            if !email.is_empty() {
                path.push_str("&kontakt=");
                path.extend(url::form_urlencoded::byte_serialize(email.as_bytes()));
            }
            redirect_naming(&path, &saved.id)
        }
        Err(
            e @ (TemplateError::Compile(_)
            | TemplateError::Invalid { .. }
            | TemplateError::Conflict { .. }),
        ) => {
            let mut values = as_sent(&template, &body);
            refuse(&visit, &mut values, &e);
            let status = if matches!(e, TemplateError::Conflict { .. }) {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            editor_page(&visit, &member, &tenant, &template, values, status).await
        }
        Err(e) => failure(&visit, e),
    }
}

/// `POST /vorlagen/{template_id}/pruefen`: runs the checks on the form as
/// sent, without saving it.
pub(super) async fn check(visit: Visit, Path(raw_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let template = match find(&visit, &tenant, &raw_id).await {
        Ok(template) => template,
        Err(response) => return response,
    };
    let mut values = as_sent(&template, &body);
    let source = source_from(&body);
    run_checks(&visit, &tenant, &source, &mut values).await;
    let status = if values.invalid.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    editor_page(&visit, &member, &tenant, &template, values, status).await
}

/// `POST /vorlagen/{template_id}/test`: sends the shown version as a test to
/// the addresses typed (one per line, at most ten), personalised for the
/// preview's contact.
pub(super) async fn test(visit: Visit, Path(raw_id): Path<String>, body: FormBody) -> Response {
    let number = body.get("version").parse::<u32>().ok();
    let (member, tenant, template, version) = match shown(&visit, &raw_id, number).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if !member.principal.role.may(Permission::SendTestMail) {
        return visit.fail(StatusCode::FORBIDDEN);
    }
    let typed = body.get("adressen").to_owned();
    let lines: Vec<String> = typed
        .split(['\n', ',', ';'])
        .map(|l| l.trim().to_owned())
        .collect();
    let sent = match templates::test_addresses(&lines) {
        Ok(addresses) => match preview_contact(&visit, &tenant, body.get("vorschau_email")).await {
            Ok(contact) => {
                templates::test_send(
                    &visit.app,
                    &tenant,
                    &template.id,
                    Some(version.number),
                    &addresses,
                    contact.as_ref(),
                )
                .await
            }
            Err(()) => Err(TemplateError::ContactNotFound),
        },
        Err(e) => Err(e),
    };
    let problem = match sent {
        Ok(_) => {
            let mut path = format!("/vorlagen/{}?hinweis=test-gesendet", template.id);
            if version.number != template.current {
                path.push_str(&format!("&version={}", version.number));
            }
            return redirect_naming(&path, &template.id);
        }
        Err(TemplateError::Invalid {
            field: "addresses", ..
        }) => test_address_problem(&visit, &lines),
        Err(TemplateError::ContactNotFound) => visit.tr("templates-preview-contact-unknown"),
        Err(TemplateError::Mail(m)) => {
            tracing::warn!(error = %m, "page: a template test send failed");
            visit.tr("templates-problem-test-send")
        }
        Err(e) => return failure(&visit, e),
    };
    let mut values = loaded(&template, &version);
    let invalid = visit.invalid("adressen", "templates-test-addresses", problem);
    values.alert = Some(invalid.alert);
    values.test_error = Some(invalid.problem);
    values.test_addresses = typed;
    values.preview_email = body.get("vorschau_email").to_owned();
    editor_page(
        &visit,
        &member,
        &tenant,
        &template,
        values,
        StatusCode::BAD_REQUEST,
    )
    .await
}

/// Why the addresses typed for a test send are refused, in the reader's
/// language: none, one that is no address (by its place), or more than ten.
pub(super) fn test_address_problem(visit: &Visit, lines: &[String]) -> String {
    let typed: Vec<&String> = lines.iter().filter(|l| !l.trim().is_empty()).collect();
    if typed.is_empty() {
        return visit.tr("templates-problem-test-none");
    }
    if let Some(place) = typed
        .iter()
        .position(|l| crate::domain::EmailAddress::parse(l.trim()).is_err())
    {
        return visit.tr_args(
            "templates-problem-test-address",
            &[("place", (place + 1).to_string())],
        );
    }
    visit.tr_args(
        "templates-problem-test-too-many",
        &[("max", templates::MAX_TEST_ADDRESSES.to_string())],
    )
}

/// `POST /vorlagen/{template_id}/loeschen`: deletes the template with all
/// its versions, once confirmed.
pub(super) async fn delete(visit: Visit, Path(raw_id): Path<String>, body: FormBody) -> Response {
    let (_, tenant) = match member_in_tenant(&visit, Permission::WriteContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let template = match find(&visit, &tenant, &raw_id).await {
        Ok(template) => template,
        Err(response) => return response,
    };
    if body.get("bestaetigt") != "ja" {
        return redirect(&format!("/vorlagen/{}", template.id), "/vorlagen");
    }
    match templates::delete(&visit.app, &tenant, &template.id).await {
        Ok(()) => redirect_naming("/vorlagen?hinweis=geloescht", &template.id),
        Err(e) => failure(&visit, e),
    }
}

// ---------------------------------------------------------------------
// The preview frame

/// The mail's HTML as a document of its own, for the sandboxed frame.
fn preview_document(visit: &Visit, html: String) -> Response {
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&preview_policy(visit))
            .unwrap_or_else(|_| HeaderValue::from_static("sandbox; default-src 'none'")),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A short notice in the frame instead of the mail (the template does not
/// compile, the contact is unknown), escaped.
fn preview_notice(visit: &Visit, text: &str) -> Response {
    let mut response = preview_document(
        visit,
        format!(
            "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\">\
         <p style=\"font-family:sans-serif;color:#a00\">{}</p></html>",
            visit.lang.code(),
            crate::mime::escape_html(text)
        ),
    );
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

async fn render_preview(
    visit: &Visit,
    tenant: &TenantId,
    source: &TemplateSource,
    email: &str,
) -> Response {
    let contact = match preview_contact(visit, tenant, email).await {
        Ok(contact) => contact,
        Err(()) => return preview_notice(visit, &visit.tr("templates-preview-contact-unknown")),
    };
    match templates::preview(&visit.app, tenant, source, contact.as_ref()).await {
        Ok(preview) => preview_document(visit, preview.rendered.html),
        Err(e) => {
            let mut values = EditorView::default();
            refuse(visit, &mut values, &e);
            preview_notice(visit, values.field_error.as_deref().unwrap_or_default())
        }
    }
}

/// `GET /vorlagen/{template_id}/vorschau`: a saved version (`?version=N`,
/// else the current one) as the mail for `?kontakt=` (an address of the
/// tenant's contacts) or the sample contact.
pub(super) async fn preview_saved(visit: Visit, Path(raw_id): Path<String>, uri: Uri) -> Response {
    let query = page_query(&uri);
    let (_, tenant, _, version) = match shown(&visit, &raw_id, query.version).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    render_preview(&visit, &tenant, &version.source, &query.kontakt).await
}

/// `POST /vorlagen/vorschau`: the editor's form as sent, as the mail (the
/// editor's "Vorschau" button, and its live preview, aim it at the frame).
pub(super) async fn preview_draft(visit: Visit, body: FormBody) -> Response {
    let (_, tenant) = match member_in_tenant(&visit, Permission::ReadContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let source = source_from(&body);
    render_preview(&visit, &tenant, &source, body.get("vorschau_email")).await
}
