//! The export page (Exporte): request a CSV export of the tenant's contacts
//! (all of them, a list's or a segment's) with the chosen fields and custom
//! attributes (it runs in the background), see the recent
//! exports with their state, and fetch a finished file through a
//! short-lived link. Built on the export use cases of the API; every
//! handler acts on the signed-in user's own tenant only.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::admin::{date_time, tenant_failure};
use super::forms::{FormBody, Member, Visit, see_other_to};
use super::imports::number;
use super::view;
use crate::domain::{AttributeDefinition, ExportId, ListId, Permission, SegmentId, TenantId};
use crate::http::access::AUDIT_OBJECT;
use crate::ports::BlobError;
use crate::ports::store::{Query, keys};
use crate::services::exports::{
    self, Export, ExportError, ExportField, ExportRequest, ExportSource, ExportStatus,
};
use crate::services::{attributes, lists, segments};

/// How many recent exports the page lists (they expire after a day).
const RECENT: u32 = 20;

/// A field's form value: its name in the API (`first_name`).
pub(super) fn field_value(field: &ExportField) -> String {
    match serde_json::to_value(field) {
        Ok(serde_json::Value::String(value)) => value,
        _ => String::new(),
    }
}

/// The message id of a field's label: `export-field-first-name`.
pub(super) fn field_label_id(field: &ExportField) -> String {
    format!("export-field-{}", field_value(field).replace('_', "-"))
}

/// A field's label in the page's language.
fn field_label(visit: &Visit, field: &ExportField) -> String {
    visit.tr(&field_label_id(field))
}

fn state_label(status: ExportStatus) -> &'static str {
    match status {
        ExportStatus::Queued => "export-state-queued",
        ExportStatus::Finished => "export-state-finished",
        ExportStatus::Failed => "export-state-failed",
    }
}

/// What the guard established, checked again: a user of a tenant whose
/// role may export (exports carry every contact's personal data).
async fn exporter(visit: &Visit) -> Result<(Member, TenantId), Response> {
    let member = visit.member(false).await?;
    if !member.principal.role.may(Permission::WriteContacts) {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    }
    let Some(tenant) = member.principal.tenant.clone() else {
        return Err(visit.fail(StatusCode::FORBIDDEN));
    };
    Ok((member, tenant))
}

fn export_failure(visit: &Visit, e: ExportError) -> Response {
    match e {
        ExportError::Tenant(t) => tenant_failure(visit, t),
        ExportError::NotFound => visit.fail(StatusCode::NOT_FOUND),
        ExportError::NotFinished => visit.fail(StatusCode::CONFLICT),
        ExportError::Store(s) => visit.store_failure(s),
        ExportError::Blob(BlobError::Unavailable(reason)) => {
            tracing::warn!(%reason, "page: blob store unavailable");
            visit.fail(StatusCode::SERVICE_UNAVAILABLE)
        }
        other => {
            tracing::error!(error = %other, "page: export use case failed");
            visit.fail(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The tenant's most recent exports, newest first.
async fn recent(visit: &Visit, tenant: &TenantId) -> Result<Vec<Export>, ExportError> {
    crate::services::tenants::get(&visit.app, tenant).await?;
    let page = visit
        .app
        .store
        .query(
            Query::table(keys::exports(tenant))
                .descending()
                .limit(RECENT),
        )
        .await?;
    Ok(page
        .items
        .iter()
        .filter_map(|stored| stored.item.parse::<Export>().ok())
        .collect())
}

#[derive(Debug, Serialize)]
struct FieldChoice {
    /// The form field's name: `feld_first_name`.
    name: String,
    label: String,
    checked: bool,
}

/// A list or segment to export, as the source select offers it: the
/// value is `liste:<id>` or `segment:<id>`.
#[derive(Debug, Serialize)]
struct SourceChoice {
    value: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct ExportRow {
    id: String,
    created_at: String,
    fields: String,
    /// The list's or segment's name; none for every contact.
    source: Option<String>,
    state: &'static str,
    finished: bool,
    failed: bool,
    rows: String,
}

#[derive(Debug, Default, Serialize)]
struct ExportsView {
    alert: Option<String>,
    notice: Option<String>,
    fields_error: Option<String>,
    fields: Vec<FieldChoice>,
    /// The tenant's custom attributes, as further columns.
    attributes: Vec<FieldChoice>,
    lists: Vec<SourceChoice>,
    segments: Vec<SourceChoice>,
    /// The chosen source ("" for every contact).
    source: String,
    source_error: Option<String>,
    exports: Vec<ExportRow>,
    /// Whether an export is still being written (the page refreshes).
    pending: bool,
    /// On the download page: the short-lived link.
    download_url: Option<String>,
}

async fn exports_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    chosen: Option<(&[ExportField], &[String])>,
    mut values: ExportsView,
    status: StatusCode,
) -> Response {
    let listed = match recent(visit, tenant).await {
        Ok(listed) => listed,
        Err(e) => return export_failure(visit, e),
    };
    let offered = match sources(visit, tenant).await {
        Ok(offered) => offered,
        Err(response) => return response,
    };
    let (definitions, all_lists, all_segments) = offered;
    values.attributes = definitions
        .iter()
        .map(|d| FieldChoice {
            name: format!("attribut_{}", d.name),
            label: d.label.clone(),
            checked: chosen.is_some_and(|(_, names)| names.iter().any(|n| n == d.name.as_str())),
        })
        .collect();
    let source_name = |source: &Option<ExportSource>| match source {
        None => None,
        Some(ExportSource::List(id)) => Some(
            all_lists
                .iter()
                .find(|(l, _)| l == id)
                .map_or_else(|| visit.tr("exports-source-gone"), |(_, name)| name.clone()),
        ),
        Some(ExportSource::Segment(id)) => Some(
            all_segments
                .iter()
                .find(|(s, _)| s == id)
                .map_or_else(|| visit.tr("exports-source-gone"), |(_, name)| name.clone()),
        ),
    };
    values.fields = ExportField::ALL
        .iter()
        .map(|f| FieldChoice {
            name: format!("feld_{}", field_value(f)),
            label: field_label(visit, f),
            checked: chosen.is_none_or(|(fields, _)| fields.contains(f)),
        })
        .collect();
    values.pending = listed.iter().any(|e| e.status == ExportStatus::Queued);
    values.exports = listed
        .iter()
        .map(|e| ExportRow {
            id: e.id.to_string(),
            created_at: date_time(visit.lang, e.created_at),
            fields: e
                .fields
                .iter()
                .map(|f| field_label(visit, f))
                .collect::<Vec<_>>()
                .join(", "),
            source: source_name(&e.source),
            state: state_label(e.status),
            finished: e.status == ExportStatus::Finished,
            failed: e.status == ExportStatus::Failed,
            rows: number(visit.lang, e.rows),
        })
        .collect();
    values.lists = all_lists
        .iter()
        .map(|(id, name)| SourceChoice {
            value: format!("liste:{id}"),
            name: name.clone(),
        })
        .collect();
    values.segments = all_segments
        .iter()
        .map(|(id, name)| SourceChoice {
            value: format!("segment:{id}"),
            name: name.clone(),
        })
        .collect();
    let layout = visit.layout(member, "/exporte");
    view::page(status, "exports.html", &layout, &values, visit.https)
}

/// What the tenant offers for an export besides the fields: its custom
/// attributes, its lists and its segments (by name).
type Offered = (
    Vec<AttributeDefinition>,
    Vec<(ListId, String)>,
    Vec<(SegmentId, String)>,
);

async fn sources(visit: &Visit, tenant: &TenantId) -> Result<Offered, Response> {
    let unavailable = |what: &str, e: String| {
        tracing::error!(error = %e, what, "page: the export choices could not be read");
        visit.fail(StatusCode::SERVICE_UNAVAILABLE)
    };
    let definitions = attributes::list(&visit.app, tenant)
        .await
        .map_err(|e| unavailable("attributes", e.to_string()))?;
    let mut all_lists: Vec<(ListId, String)> = lists::all(&visit.app, tenant)
        .await
        .map_err(|e| unavailable("lists", e.to_string()))?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    all_lists.sort_by_key(|(_, name)| name.to_lowercase());
    let mut all_segments: Vec<(SegmentId, String)> = segments::all(&visit.app, tenant)
        .await
        .map_err(|e| unavailable("segments", e.to_string()))?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    all_segments.sort_by_key(|(_, name)| name.to_lowercase());
    Ok((definitions, all_lists, all_segments))
}

/// The source a form value names: `liste:<id>`, `segment:<id>`, or "" for
/// every contact; None for anything else.
fn parse_source(raw: &str) -> Option<Option<ExportSource>> {
    if raw.is_empty() {
        return Some(None);
    }
    if let Some(id) = raw.strip_prefix("liste:") {
        return ListId::parse(id)
            .ok()
            .map(|id| Some(ExportSource::List(id)));
    }
    let id = raw.strip_prefix("segment:")?;
    SegmentId::parse(id)
        .ok()
        .map(|id| Some(ExportSource::Segment(id)))
}

/// `GET /exporte`: the form for a new export and the recent ones.
pub(super) async fn page(visit: Visit, uri: axum::http::Uri) -> Response {
    let (member, tenant) = match exporter(&visit).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let requested = uri.query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "hinweis" && v == "angefordert")
    });
    let values = ExportsView {
        notice: requested.then(|| visit.tr("exports-notice-requested")),
        ..ExportsView::default()
    };
    exports_page(&visit, &member, &tenant, None, values, StatusCode::OK).await
}

/// `POST /exporte`: requests an export of the ticked fields and attributes
/// of the chosen contacts; back to the page, where it shows up in the list.
pub(super) async fn request(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match exporter(&visit).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let fields: Vec<ExportField> = ExportField::ALL
        .iter()
        .filter(|f| body.get(&format!("feld_{}", field_value(f))) == "ja")
        .cloned()
        .collect();
    let definitions = match attributes::list(&visit.app, &tenant).await {
        Ok(definitions) => definitions,
        Err(e) => {
            tracing::error!(error = %e, "page: the attributes could not be read");
            return visit.fail(StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let chosen_attributes: Vec<String> = definitions
        .iter()
        .filter(|d| body.get(&format!("attribut_{}", d.name)) == "ja")
        .map(|d| d.name.as_str().to_owned())
        .collect();
    let raw_source = body.get("quelle").to_owned();
    let mut values = ExportsView {
        source: raw_source.clone(),
        ..ExportsView::default()
    };
    let refuse = |field: &str, problem: String| {
        visit.tr_args(
            "form-error",
            &[("field", visit.tr(field)), ("problem", problem)],
        )
    };
    let source = parse_source(&raw_source);
    if fields.is_empty() && chosen_attributes.is_empty() {
        let problem = visit.tr("exports-problem-no-field");
        values.alert = Some(refuse("exports-fields", problem.clone()));
        values.fields_error = Some(problem);
    } else if source.is_none() {
        let problem = visit.tr("problem-choose-option");
        values.alert = Some(refuse("exports-source", problem.clone()));
        values.source_error = Some(problem);
    }
    let (Some(source), None) = (source, &values.alert) else {
        return exports_page(
            &visit,
            &member,
            &tenant,
            Some((&fields, &chosen_attributes)),
            values,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let wanted = ExportRequest {
        fields: fields.clone(),
        attributes: chosen_attributes.clone(),
        source,
    };
    match exports::request_from(&visit.app, &tenant, member.principal.user_id, wanted).await {
        Ok(export) => {
            let mut response =
                see_other_to(HeaderValue::from_static("/exporte?hinweis=angefordert"));
            if let Ok(id) = HeaderValue::from_str(&export.id.to_string()) {
                response.headers_mut().insert(AUDIT_OBJECT, id);
            }
            response
        }
        Err(ExportError::NoSuchList | ExportError::NoSuchSegment | ExportError::Segment(_)) => {
            let problem = visit.tr("exports-problem-source");
            values.alert = Some(refuse("exports-source", problem.clone()));
            values.source_error = Some(problem);
            exports_page(
                &visit,
                &member,
                &tenant,
                Some((&fields, &chosen_attributes)),
                values,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => export_failure(&visit, e),
    }
}

/// `GET /exporte/{export_id}/datei`: a finished export's file. The page
/// sends the browser on to a short-lived link of the blob store (a link,
/// not a redirect of ours, so the file may come from another origin).
pub(super) async fn download(visit: Visit, Path(export_id): Path<String>) -> Response {
    let (member, tenant) = match exporter(&visit).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(id) = ExportId::parse(&export_id) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    let link = match exports::link(&visit.app, &tenant, &id).await {
        Ok(link) => link,
        Err(e) => return export_failure(&visit, e),
    };
    let values = ExportsView {
        download_url: Some(link.url),
        ..ExportsView::default()
    };
    let layout = visit.layout(&member, "/exporte");
    view::page(
        StatusCode::OK,
        "exports.html",
        &layout,
        &values,
        visit.https,
    )
}
