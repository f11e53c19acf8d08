//! The segment pages: the tenant's segments, and one segment's condition
//! editor with its live count and the contacts it matches. The editor
//! works without JavaScript — each row is one choice ("Status ist
//! angemeldet", "Volumen ≥") and one value; adding or removing a row and
//! counting are form posts to `/segmente/entwurf`, which saves nothing.
//! With `segments.js` the count follows the editor through
//! `/segmente/zaehlen` (JSON), after a pause in typing and one request at
//! a time.
//!
//! A count is a pass over all the tenant's contacts, so it is kept for a
//! minute per filter (`services::segments`): opening a segment again or
//! posting the same conditions reads the kept count; the "Anzahl
//! berechnen" button counts anew. The overview shows kept counts only and
//! counts nothing. The form carries the segment's version (`stand`): a
//! save over a segment changed meanwhile is refused with 409 and the
//! entries kept.

use axum::Json;
use axum::extract::Path;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::admin::tenant_failure;
use super::forms::redirect;
use super::forms::{FormBody, Member, Visit};
use super::lists::member_in_tenant;
use super::view;
use crate::domain::{AttributeDefinition, AttributeKind, Permission, SegmentId, TenantId};
use crate::http::access::AUDIT_OBJECT;
use crate::ports::store::Cursor;
use crate::services::attributes;
use crate::services::lists;
use crate::services::segments::{
    self, Condition, ConditionField, MAX_CONDITIONS, Match, Segment, SegmentError, SegmentFilter,
};

/// How many matching contacts a segment's page shows.
const PAGE_SIZE: u32 = 50;

const STATUSES: [&str; 5] = [
    "unconfirmed",
    "subscribed",
    "unsubscribed",
    "bounced",
    "complained",
];

fn segment_failure(visit: &Visit, e: SegmentError) -> Response {
    match e {
        SegmentError::Tenant(t) => tenant_failure(visit, t),
        SegmentError::NotFound => visit.fail(StatusCode::NOT_FOUND),
        SegmentError::Store(s) => visit.store_failure(s),
        SegmentError::Conflict => visit.fail(StatusCode::CONFLICT),
        _ => visit.fail(StatusCode::BAD_REQUEST),
    }
}

/// One choice of the condition select.
#[derive(Debug, Clone, Serialize)]
struct Choice {
    value: String,
    label: String,
    /// Whether the choice takes a value in the text field.
    needs_value: bool,
}

/// Every condition the editor offers, for the tenant's lists and
/// attributes.
async fn choices(visit: &Visit, tenant: &TenantId) -> Result<Vec<Choice>, Response> {
    let mut out = Vec::new();
    let fixed = |value: String, label: String, needs_value: bool| Choice {
        value,
        label,
        needs_value,
    };
    for status in STATUSES {
        let name = visit.tr(&format!("contact-status-{status}"));
        for (op, id) in [
            ("is", "segments-op-status-is"),
            ("is_not", "segments-op-status-is-not"),
        ] {
            out.push(fixed(
                format!("status:{op}:{status}"),
                visit.tr_args(id, &[("value", name.clone())]),
                false,
            ));
        }
    }
    for language in ["de", "en"] {
        let name = visit.tr(&format!("contact-language-{language}"));
        for (op, id) in [
            ("is", "segments-op-language-is"),
            ("is_not", "segments-op-language-is-not"),
        ] {
            out.push(fixed(
                format!("language:{op}:{language}"),
                visit.tr_args(id, &[("value", name.clone())]),
                false,
            ));
        }
    }
    let all_lists = lists::all(&visit.app, tenant)
        .await
        .map_err(|_| visit.fail(StatusCode::SERVICE_UNAVAILABLE))?;
    for list in all_lists {
        for (op, id) in [
            ("member_of", "segments-op-list-member"),
            ("not_member_of", "segments-op-list-not-member"),
        ] {
            out.push(fixed(
                format!("list:{op}:{}", list.id),
                visit.tr_args(id, &[("value", list.name.clone())]),
                false,
            ));
        }
    }
    for op in ["before", "after", "within_last_days"] {
        out.push(fixed(
            format!("created_at:{op}"),
            visit.tr(&format!("segments-op-created-{}", op.replace('_', "-"))),
            true,
        ));
    }
    for definition in definitions(visit, tenant).await? {
        let ops: &[&str] = match definition.kind {
            AttributeKind::Text => &["equals", "contains", "starts_with"],
            AttributeKind::Number => &["eq", "lt", "le", "gt", "ge"],
            AttributeKind::Date => &["before", "after", "on", "within_last_days"],
            AttributeKind::Boolean => &["is_true", "is_false"],
        };
        for op in ops.iter().chain(&["is_set", "is_empty"]) {
            out.push(fixed(
                format!("attribute:{}:{op}", definition.name),
                visit.tr_args(
                    &format!("segments-op-attribute-{}", op.replace('_', "-")),
                    &[("attribute", definition.label.clone())],
                ),
                !matches!(*op, "is_true" | "is_false" | "is_set" | "is_empty"),
            ));
        }
    }
    Ok(out)
}

async fn definitions(
    visit: &Visit,
    tenant: &TenantId,
) -> Result<Vec<AttributeDefinition>, Response> {
    attributes::list(&visit.app, tenant)
        .await
        .map_err(|_| visit.fail(StatusCode::SERVICE_UNAVAILABLE))
}

/// One row of the editor as the form holds it.
#[derive(Debug, Clone, Default, Serialize)]
struct Row {
    kind: String,
    value: String,
}

/// The editor's state as posted: name, match, rows.
#[derive(Debug, Clone, Default, Serialize)]
struct Editor {
    name: String,
    any: bool,
    rows: Vec<Row>,
}

/// Reads every posted row `c0` to `c49`. A row left empty (or reset to
/// the empty choice) anywhere does not end the rows: the rows after it
/// count too. Empty rows up to the last filled one keep their place, so
/// the row numbers of the remove buttons still fit; they make no
/// condition ([`filter_of`] skips them).
fn read_editor(body: &FormBody) -> Editor {
    let mut rows: Vec<Row> = (0..MAX_CONDITIONS)
        .map(|i| Row {
            kind: body.get(&format!("c{i}_kind")).trim().to_owned(),
            value: body.get(&format!("c{i}_value")).trim().to_owned(),
        })
        .collect();
    let filled = rows
        .iter()
        .rposition(|row| !row.kind.is_empty() || !row.value.is_empty())
        .map_or(0, |last| last + 1);
    rows.truncate(filled);
    Editor {
        name: body.get("name").trim().to_owned(),
        any: body.get("match") == "any",
        rows,
    }
}

/// A form value as the service reads it: dates as `YYYY-MM-DD` (German
/// `31.12.2024` too), numbers with a decimal comma, whole days.
fn json_value(kind: Option<AttributeKind>, raw: &str) -> serde_json::Value {
    let read = kind.and_then(|k| k.read_text(raw).ok().flatten());
    match read {
        Some(v) => v.to_json(),
        None => match raw.parse::<u64>() {
            Ok(n) if kind.is_none() => serde_json::Value::from(n),
            _ => serde_json::Value::String(raw.to_owned()),
        },
    }
}

/// The filter the rows describe, and for each condition its row.
fn filter_of(
    editor: &Editor,
    definitions: &[AttributeDefinition],
) -> Result<(SegmentFilter, Vec<usize>), String> {
    let mut conditions = Vec::new();
    let mut rows = Vec::new();
    for (i, row) in editor.rows.iter().enumerate() {
        if row.kind.is_empty() {
            continue;
        }
        let parts: Vec<&str> = row.kind.split(':').collect();
        let value = (!row.value.is_empty()).then_some(row.value.as_str());
        let condition = match parts.as_slice() {
            ["status", op, v] | ["language", op, v] | ["list", op, v] => Condition {
                field: match parts[0] {
                    "status" => ConditionField::Status,
                    "language" => ConditionField::Language,
                    _ => ConditionField::List,
                },
                attribute: None,
                op: (*op).to_owned(),
                value: Some(serde_json::Value::String((*v).to_owned())),
            },
            ["created_at", op] => Condition {
                field: ConditionField::CreatedAt,
                attribute: None,
                op: (*op).to_owned(),
                value: value.map(|v| {
                    if *op == "within_last_days" {
                        json_value(None, v)
                    } else {
                        json_value(Some(AttributeKind::Date), v)
                    }
                }),
            },
            ["attribute", name, op] => {
                let kind = definitions
                    .iter()
                    .find(|d| d.name.as_str() == *name)
                    .map(|d| d.kind);
                let kind = if *op == "within_last_days" {
                    None
                } else {
                    kind
                };
                Condition {
                    field: ConditionField::Attribute,
                    attribute: Some((*name).to_owned()),
                    op: (*op).to_owned(),
                    value: value.map(|v| json_value(kind, v)),
                }
            }
            _ => return Err(format!("c{i}_kind")),
        };
        conditions.push(condition);
        rows.push(i);
    }
    Ok((
        SegmentFilter {
            matching: if editor.any { Match::Any } else { Match::All },
            conditions,
        },
        rows,
    ))
}

/// The rows that show a saved filter.
fn rows_of(filter: &SegmentFilter) -> Vec<Row> {
    filter
        .conditions
        .iter()
        .map(|c| {
            let text = |v: &Option<serde_json::Value>| match v {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            match c.field {
                ConditionField::Status | ConditionField::Language | ConditionField::List => Row {
                    kind: format!(
                        "{}:{}:{}",
                        match c.field {
                            ConditionField::Status => "status",
                            ConditionField::Language => "language",
                            _ => "list",
                        },
                        c.op,
                        text(&c.value)
                    ),
                    value: String::new(),
                },
                ConditionField::CreatedAt => Row {
                    kind: format!("created_at:{}", c.op),
                    value: text(&c.value),
                },
                ConditionField::Attribute | ConditionField::Engagement => Row {
                    kind: format!(
                        "attribute:{}:{}",
                        c.attribute.as_deref().unwrap_or_default(),
                        c.op
                    ),
                    value: text(&c.value),
                },
            }
        })
        .collect()
}

/// The form field a service problem is about: `conditions[2].value` of
/// the condition from row 4 is `c4_value`.
fn form_field(field: &str, rows: &[usize]) -> String {
    let Some(rest) = field.strip_prefix("conditions[") else {
        return field.to_owned();
    };
    let Some((index, part)) = rest.split_once("].") else {
        return field.to_owned();
    };
    let row = index
        .parse::<usize>()
        .ok()
        .and_then(|i| rows.get(i).copied())
        .unwrap_or(0);
    let part = if part == "value" { "value" } else { "kind" };
    format!("c{row}_{part}")
}

#[derive(Debug, Serialize)]
struct MemberRow {
    id: String,
    email: String,
    name: String,
}

#[derive(Debug, Default, Serialize)]
struct SegmentView {
    alert: Option<String>,
    notice: Option<String>,
    /// The form field with a problem (`name`, `c2_value`).
    invalid: Option<String>,
    may_write: bool,
    /// The saved segment's id; none for a new one.
    id: Option<String>,
    /// The version of the saved segment the form was filled in on.
    version: Option<String>,
    heading: String,
    editor: Editor,
    choices: Vec<Choice>,
    count: Option<u64>,
    members: Vec<MemberRow>,
    next_cursor: Option<String>,
    /// Every segment, for the overview.
    segments: Vec<SegmentRow>,
}

#[derive(Debug, Serialize)]
struct SegmentRow {
    id: String,
    name: String,
    conditions: usize,
    /// The count kept from the last minute, if any (the overview never
    /// counts), formatted for the page's language.
    count: Option<String>,
}

async fn editor_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    mut values: SegmentView,
    template: &str,
    status: StatusCode,
) -> Response {
    values.choices = match choices(visit, tenant).await {
        Ok(choices) => choices,
        Err(response) => return response,
    };
    if values.editor.rows.is_empty() {
        values.editor.rows.push(Row::default());
    }
    values.may_write = member.principal.role.may(Permission::WriteContacts);
    let layout = visit.layout(member, "/segmente");
    view::page(status, template, &layout, &values, visit.https)
}

/// `GET /segmente`: the tenant's segments, and for editors the editor for
/// a new one.
pub(super) async fn all(visit: Visit, uri: Uri) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let saved = match segments::all(&visit.app, &tenant).await {
        Ok(saved) => saved,
        Err(e) => return segment_failure(&visit, e),
    };
    let filters: Vec<&SegmentFilter> = saved.iter().map(|s| &s.filter).collect();
    let kept = match segments::kept_counts(&visit.app, &tenant, &filters).await {
        Ok(kept) => kept,
        Err(e) => return segment_failure(&visit, e),
    };
    let deleted = uri.query().is_some_and(|q| q.contains("hinweis=geloescht"));
    let values = SegmentView {
        notice: deleted.then(|| visit.tr("segments-notice-deleted")),
        heading: visit.tr("nav-segments"),
        segments: saved
            .into_iter()
            .zip(kept)
            .map(|(s, kept)| SegmentRow {
                id: s.id.to_string(),
                name: s.name,
                conditions: s.filter.conditions.len(),
                count: kept.map(|k| super::imports::number(visit.lang, k.count)),
            })
            .collect(),
        ..SegmentView::default()
    };
    editor_page(
        &visit,
        &member,
        &tenant,
        values,
        "segments.html",
        StatusCode::OK,
    )
    .await
}

async fn find(visit: &Visit, tenant: &TenantId, raw: &str) -> Result<Segment, Response> {
    let id = SegmentId::parse(raw).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?;
    segments::get(&visit.app, tenant, &id)
        .await
        .map_err(|e| segment_failure(visit, e))
}

/// `GET /segmente/{segment_id}`: the segment's editor, its count and a
/// page of the contacts it matches.
pub(super) async fn page(visit: Visit, Path(segment_id): Path<String>, uri: Uri) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let segment = match find(&visit, &tenant, &segment_id).await {
        Ok(segment) => segment,
        Err(response) => return response,
    };
    #[derive(Deserialize, Default)]
    struct Query {
        #[serde(default)]
        weiter: String,
        #[serde(default)]
        hinweis: String,
    }
    let query = axum::extract::Query::<Query>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let cursor = (!query.weiter.is_empty()).then(|| Cursor::from_client(query.weiter.clone()));
    let mut values = SegmentView {
        notice: match query.hinweis.as_str() {
            "angelegt" => Some(visit.tr("segments-notice-created")),
            "gespeichert" => Some(visit.tr("segments-notice-saved")),
            _ => None,
        },
        id: Some(segment.id.to_string()),
        version: Some(segment.version.clone()),
        heading: segment.name.clone(),
        editor: Editor {
            name: segment.name.clone(),
            any: segment.filter.matching == Match::Any,
            rows: rows_of(&segment.filter),
        },
        ..SegmentView::default()
    };
    match segments::count(&visit.app, &tenant, &segment.filter).await {
        Ok(counted) => values.count = Some(counted.count),
        // A list or attribute it names is gone: say so by the condition.
        Err(SegmentError::Invalid { reason, .. }) => values.alert = Some(reason),
        Err(e) => return segment_failure(&visit, e),
    }
    if values.count.is_some() {
        let listed = match segments::members(
            &visit.app,
            &tenant,
            &segment.filter,
            PAGE_SIZE,
            cursor,
        )
        .await
        {
            // A cursor of another segment (or garbage): the first page.
            Err(SegmentError::InvalidCursor) => {
                segments::members(&visit.app, &tenant, &segment.filter, PAGE_SIZE, None).await
            }
            other => other,
        };
        match listed {
            Ok((contacts, next)) => {
                values.members = contacts
                    .iter()
                    .map(|c| MemberRow {
                        id: c.id.to_string(),
                        email: c.email.to_string(),
                        name: c.display_name(),
                    })
                    .collect();
                values.next_cursor = next
                    .map(|c| url::form_urlencoded::byte_serialize(c.as_str().as_bytes()).collect());
            }
            Err(e) => return segment_failure(&visit, e),
        }
    }
    editor_page(
        &visit,
        &member,
        &tenant,
        values,
        "segment.html",
        StatusCode::OK,
    )
    .await
}

/// Reads the posted editor into a checked filter, or the view that shows
/// the problem by its field.
async fn posted_filter(
    visit: &Visit,
    tenant: &TenantId,
    editor: &Editor,
) -> Result<SegmentFilter, (String, String)> {
    let definitions = attributes::list(&visit.app, tenant)
        .await
        .map_err(|e| (String::new(), e.to_string()))?;
    let (filter, rows) = filter_of(editor, &definitions)
        .map_err(|field| (field, visit.tr("problem-choose-option")))?;
    match segments::check(&visit.app, tenant, &filter).await {
        Ok(_) => Ok(filter),
        Err(SegmentError::Invalid { field, reason }) => Err((form_field(&field, &rows), reason)),
        Err(e) => Err((String::new(), e.to_string())),
    }
}

fn refused(visit: &Visit, values: &mut SegmentView, field: String, reason: String) {
    values.alert = Some(visit.tr_args(
        "segments-problem",
        &[("field", field.clone()), ("problem", reason)],
    ));
    values.invalid = Some(field);
}

/// `POST /segmente/entwurf`: the editor again, with a row added
/// (`aktion=hinzufuegen`) or removed (`aktion=entfernen-<n>`) and the
/// count of what it describes (counted anew for `aktion=zaehlen`, else
/// the count kept from the last minute); nothing is saved.
pub(super) async fn draft(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut editor = read_editor(&body);
    let action = body.get("aktion");
    if action == "hinzufuegen" && editor.rows.len() < MAX_CONDITIONS {
        editor.rows.push(Row::default());
    } else if let Some(n) = action
        .strip_prefix("entfernen-")
        .and_then(|n| n.parse::<usize>().ok())
        && n < editor.rows.len()
    {
        editor.rows.remove(n);
    }
    let id = SegmentId::parse(body.get("segment")).ok();
    let mut values = SegmentView {
        version: id.as_ref().map(|_| body.get("stand").to_owned()),
        id: id.map(|i| i.to_string()),
        heading: if editor.name.is_empty() {
            visit.tr("nav-segments")
        } else {
            editor.name.clone()
        },
        ..SegmentView::default()
    };
    match posted_filter(&visit, &tenant, &editor).await {
        Ok(filter) => {
            let counted = if action == "zaehlen" {
                segments::count_fresh(&visit.app, &tenant, &filter).await
            } else {
                segments::count(&visit.app, &tenant, &filter).await
            };
            match counted {
                Ok(counted) => values.count = Some(counted.count),
                Err(e) => return segment_failure(&visit, e),
            }
        }
        // An empty new row is no problem while editing.
        Err((field, reason)) => refused(&visit, &mut values, field, reason),
    }
    values.editor = editor;
    editor_page(
        &visit,
        &member,
        &tenant,
        values,
        "segment.html",
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Serialize)]
struct CountAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

/// `POST /segmente/zaehlen`: the count of the posted editor (kept for a
/// minute per filter), as JSON `{"count": n}`, or `{"field", "problem"}`
/// with 400.
pub(super) async fn count(visit: Visit, body: FormBody) -> Response {
    let (_, tenant) = match member_in_tenant(&visit, Permission::ReadContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let editor = read_editor(&body);
    let answer = match posted_filter(&visit, &tenant, &editor).await {
        Ok(filter) => match segments::count(&visit.app, &tenant, &filter).await {
            Ok(counted) => (
                StatusCode::OK,
                CountAnswer {
                    count: Some(counted.count),
                    field: None,
                    problem: None,
                },
            ),
            Err(e) => return segment_failure(&visit, e),
        },
        Err((field, problem)) => (
            StatusCode::BAD_REQUEST,
            CountAnswer {
                count: None,
                field: Some(field),
                problem: Some(problem),
            },
        ),
    };
    let mut response = (answer.0, Json(answer.1)).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// Saves the posted editor as a new segment or onto `existing`.
async fn save(visit: Visit, body: FormBody, existing: Option<String>) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let segment = match &existing {
        Some(raw) => match find(&visit, &tenant, raw).await {
            Ok(segment) => Some(segment),
            Err(response) => return response,
        },
        None => None,
    };
    let editor = read_editor(&body);
    let stand = body.get("stand").to_owned();
    let mut values = SegmentView {
        id: segment.as_ref().map(|s| s.id.to_string()),
        version: segment.as_ref().map(|_| stand.clone()),
        heading: segment
            .as_ref()
            .map_or_else(|| visit.tr("nav-segments"), |s| s.name.clone()),
        ..SegmentView::default()
    };
    let filter = match posted_filter(&visit, &tenant, &editor).await {
        Ok(filter) => filter,
        Err((field, reason)) => {
            refused(&visit, &mut values, field, reason);
            values.editor = editor;
            return editor_page(
                &visit,
                &member,
                &tenant,
                values,
                "segment.html",
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let saved = match &segment {
        Some(s) => segments::update(
            &visit.app,
            &tenant,
            &s.id,
            Some(&editor.name),
            Some(filter),
            Some(&stand),
        )
        .await
        .map(|s| (s, "gespeichert")),
        None => segments::create(&visit.app, &tenant, &editor.name, filter)
            .await
            .map(|s| (s, "angelegt")),
    };
    match saved {
        Ok((s, notice)) => {
            let mut response =
                redirect(&format!("/segmente/{}?hinweis={notice}", s.id), "/segmente");
            if let Ok(id) = axum::http::HeaderValue::from_str(&s.id.to_string()) {
                response.headers_mut().insert(AUDIT_OBJECT, id);
            }
            response
        }
        Err(SegmentError::Name(_)) => {
            refused(
                &visit,
                &mut values,
                "name".to_owned(),
                visit.tr("problem-required"),
            );
            values.editor = editor;
            editor_page(
                &visit,
                &member,
                &tenant,
                values,
                "segment.html",
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(SegmentError::Conflict) => {
            // Changed since the form was filled in: keep the entries, now
            // for the version as it stands, so saving again overwrites it
            // knowingly.
            let current = match &segment {
                Some(s) => find(&visit, &tenant, &s.id.to_string()).await,
                None => return visit.fail(StatusCode::CONFLICT),
            };
            let current = match current {
                Ok(current) => current,
                Err(response) => return response,
            };
            values.alert = Some(visit.tr("segments-changed-meanwhile"));
            values.version = Some(current.version);
            values.editor = editor;
            editor_page(
                &visit,
                &member,
                &tenant,
                values,
                "segment.html",
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => segment_failure(&visit, e),
    }
}

/// `POST /segmente`: saves a new segment and goes to its page.
pub(super) async fn create(visit: Visit, body: FormBody) -> Response {
    save(visit, body, None).await
}

/// `POST /segmente/{segment_id}`: saves the segment's name and conditions.
pub(super) async fn update(
    visit: Visit,
    Path(segment_id): Path<String>,
    body: FormBody,
) -> Response {
    save(visit, body, Some(segment_id)).await
}

/// `POST /segmente/{segment_id}/loeschen`: deletes the segment once the
/// box is ticked (the contacts stay).
pub(super) async fn delete(
    visit: Visit,
    Path(segment_id): Path<String>,
    body: FormBody,
) -> Response {
    let (_, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let segment = match find(&visit, &tenant, &segment_id).await {
        Ok(segment) => segment,
        Err(response) => return response,
    };
    if body.get("bestaetigt") != "ja" {
        return redirect(&format!("/segmente/{}", segment.id), "/segmente");
    }
    match segments::delete(&visit.app, &tenant, &segment.id).await {
        Ok(()) => redirect("/segmente?hinweis=geloescht", "/segmente"),
        Err(e) => segment_failure(&visit, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_problem_points_at_the_row_it_came_from() {
        assert_eq!(form_field("conditions[1].value", &[0, 3]), "c3_value");
        assert_eq!(form_field("conditions[0].op", &[2]), "c2_kind");
        assert_eq!(form_field("name", &[]), "name");
    }

    #[test]
    fn german_dates_and_decimal_commas_reach_the_service_in_its_format() {
        assert_eq!(
            json_value(Some(AttributeKind::Date), "31.12.2024"),
            serde_json::json!("2024-12-31")
        );
        assert_eq!(
            json_value(Some(AttributeKind::Number), "1.234,5"),
            serde_json::json!(1234.5)
        );
        assert_eq!(json_value(None, "30"), serde_json::json!(30));
        assert_eq!(json_value(None, "nie"), serde_json::json!("nie"));
    }
}
