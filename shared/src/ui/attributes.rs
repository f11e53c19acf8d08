//! The attribute page (Felder): the custom contact fields of the signed-in
//! user's tenant, with the forms that define, relabel and delete them; and
//! what the contact forms and pages need to show attribute inputs and
//! values.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::admin::{date, tenant_failure};
use super::contacts::member_in_tenant;
use super::forms::{FormBody, Invalid, Member, Visit, see_other_to};
use super::i18n::Lang;
use super::view;
use crate::domain::{
    AttributeDefinition, AttributeKind, AttributeName, AttributeValue, AttributeValues,
    MAX_ATTRIBUTES, Permission, TenantId,
};
use crate::http::access::AUDIT_OBJECT;
use crate::services::attributes::{self, AttributeError, ValueProblem};

/// The kinds as the forms offer them: value and message id.
pub(super) const KINDS: [(AttributeKind, &str); 4] = [
    (AttributeKind::Text, "attribute-kind-text"),
    (AttributeKind::Number, "attribute-kind-number"),
    (AttributeKind::Date, "attribute-kind-date"),
    (AttributeKind::Boolean, "attribute-kind-boolean"),
];

fn kind_label(kind: AttributeKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("attribute-kind-text", |(_, label)| label)
}

// ---------------------------------------------------------------------
// Attribute inputs and values on the contact pages

/// One attribute's input on a contact form.
#[derive(Debug, Clone, Serialize)]
pub(super) struct AttributeInput {
    /// The attribute's name (part of the input's id).
    pub name: String,
    /// The form field: `attributes.<name>`.
    pub field: String,
    pub label: String,
    /// `text`, `number`, `date` or `boolean`: the kind of input.
    pub kind: &'static str,
    /// What the input holds: a number as the language writes it, a date
    /// as `YYYY-MM-DD` (what a date input takes), `ja`/`nein`.
    pub value: String,
}

/// A value as a form input holds it.
fn input_value(lang: Lang, value: &AttributeValue) -> String {
    match value {
        AttributeValue::Text(text) => text.clone(),
        AttributeValue::Number(n) => match lang {
            Lang::De => n.to_string().replace('.', ","),
            Lang::En => n.to_string(),
        },
        AttributeValue::Date(d) => d.format("%Y-%m-%d").to_string(),
        AttributeValue::Boolean(true) => "ja".to_owned(),
        AttributeValue::Boolean(false) => "nein".to_owned(),
    }
}

/// The inputs of every defined attribute, filled with the contact's
/// values.
pub(super) fn inputs(
    lang: Lang,
    definitions: &[AttributeDefinition],
    values: &AttributeValues,
) -> Vec<AttributeInput> {
    definitions
        .iter()
        .map(|d| AttributeInput {
            name: d.name.to_string(),
            field: attributes::form_field(&d.name),
            label: d.label.clone(),
            kind: d.kind.as_str(),
            value: values
                .get(&d.name)
                .filter(|v| v.kind() == d.kind)
                .map(|v| input_value(lang, v))
                .unwrap_or_default(),
        })
        .collect()
}

/// The inputs of every defined attribute, holding what was sent.
pub(super) fn inputs_as_sent(
    definitions: &[AttributeDefinition],
    body: &FormBody,
) -> Vec<AttributeInput> {
    definitions
        .iter()
        .map(|d| {
            let field = attributes::form_field(&d.name);
            AttributeInput {
                name: d.name.to_string(),
                value: body.get(&field).trim().to_owned(),
                field,
                label: d.label.clone(),
                kind: d.kind.as_str(),
            }
        })
        .collect()
}

/// One attribute value as the contact page shows it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ShownValue {
    pub label: String,
    pub value: String,
}

/// The contact's values of the attributes defined now, for reading:
/// `1234,5`, `17.05.1980`, ja/nein in German.
pub(super) fn shown(
    lang: Lang,
    definitions: &[AttributeDefinition],
    values: &AttributeValues,
) -> Vec<ShownValue> {
    attributes::visible(definitions, values)
        .map(|(d, v)| ShownValue {
            label: d.label.clone(),
            value: match (lang, v) {
                (Lang::De, v) => v.display_de(),
                (Lang::En, AttributeValue::Number(n)) => n.to_string(),
                (Lang::En, AttributeValue::Date(d)) => d.format("%d/%m/%Y").to_string(),
                (Lang::En, AttributeValue::Boolean(b)) => if *b { "yes" } else { "no" }.to_owned(),
                (Lang::En, v) => v.display_de(),
            },
        })
        .collect()
}

/// An attribute value a contact form did not take: the alert names the
/// attribute's label; the field is `attribute` (the view names which).
pub(super) fn invalid_value(
    visit: &Visit,
    definitions: &[AttributeDefinition],
    problem: &ValueProblem,
) -> Invalid {
    let label = definitions
        .iter()
        .find(|d| d.name.as_str() == problem.name)
        .map_or_else(|| problem.name.clone(), |d| d.label.clone());
    let kind = definitions
        .iter()
        .find(|d| d.name.as_str() == problem.name)
        .map(|d| d.kind);
    let text = visit.tr(match kind {
        Some(AttributeKind::Number) => "attribute-problem-number",
        Some(AttributeKind::Date) => "attribute-problem-date",
        Some(AttributeKind::Boolean) => "attribute-problem-boolean",
        _ => "attribute-problem-text",
    });
    let alert = visit.tr_args("form-error", &[("field", label), ("problem", text.clone())]);
    Invalid {
        field: "attribute",
        alert,
        problem: text,
    }
}

// ---------------------------------------------------------------------
// The page

#[derive(Debug, Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
}

#[derive(Debug, Serialize)]
struct AttributeRow {
    name: String,
    label: String,
    kind: &'static str,
    created_at: String,
}

#[derive(Debug, Default, Serialize)]
struct NewAttributeForm {
    name: String,
    label: String,
    kind: String,
}

#[derive(Debug, Default, Serialize)]
struct AttributesView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    /// The attribute whose relabel form the problem is about.
    invalid_row: Option<String>,
    form: NewAttributeForm,
    attributes: Vec<AttributeRow>,
    kinds: Vec<Choice>,
    max: usize,
    full: bool,
}

impl AttributesView {
    fn refuse(&mut self, invalid: Invalid) {
        self.alert = Some(invalid.alert);
        self.invalid = Some(invalid.field);
        self.field_error = Some(invalid.problem);
    }
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    hinweis: String,
}

fn notice_id(raw: &str) -> Option<&'static str> {
    match raw {
        "angelegt" => Some("attributes-notice-created"),
        "gespeichert" => Some("attributes-notice-saved"),
        "geloescht" => Some("attributes-notice-deleted"),
        _ => None,
    }
}

fn attribute_failure(visit: &Visit, e: AttributeError) -> Response {
    match e {
        AttributeError::Tenant(t) => tenant_failure(visit, t),
        AttributeError::NotFound => visit.fail(StatusCode::NOT_FOUND),
        AttributeError::Store(s) => visit.store_failure(s),
        AttributeError::Taken | AttributeError::Conflict | AttributeError::TooMany => {
            visit.fail(StatusCode::CONFLICT)
        }
        AttributeError::Name(_) | AttributeError::Label(_) | AttributeError::Value(_) => {
            tracing::info!(error = %e, "page: attribute change refused");
            visit.fail(StatusCode::BAD_REQUEST)
        }
    }
}

async fn attributes_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    mut values: AttributesView,
    status: StatusCode,
) -> Response {
    let definitions = match attributes::list(&visit.app, tenant).await {
        Ok(definitions) => definitions,
        Err(e) => return attribute_failure(visit, e),
    };
    values.attributes = definitions
        .iter()
        .map(|d| AttributeRow {
            name: d.name.to_string(),
            label: d.label.clone(),
            kind: kind_label(d.kind),
            created_at: date(visit.lang, d.created_at),
        })
        .collect();
    values.kinds = KINDS
        .iter()
        .map(|(kind, label)| Choice {
            value: kind.as_str(),
            label,
        })
        .collect();
    if values.form.kind.is_empty() {
        values.form.kind = AttributeKind::Text.as_str().to_owned();
    }
    values.max = MAX_ATTRIBUTES;
    values.full = definitions.len() >= MAX_ATTRIBUTES;
    let layout = visit.layout(member, "/felder");
    view::page(status, "attributes.html", &layout, &values, visit.https)
}

/// `GET /felder`: the tenant's attributes and the forms that manage them.
pub(super) async fn page(visit: Visit, uri: Uri) -> Response {
    let query = axum::extract::Query::<PageQuery>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let values = AttributesView {
        notice: notice_id(&query.hinweis).map(|id| visit.tr(id)),
        ..AttributesView::default()
    };
    attributes_page(&visit, &member, &tenant, values, StatusCode::OK).await
}

fn redirect_with(notice: &'static str) -> Response {
    see_other_to(HeaderValue::from_static(notice))
}

/// `POST /felder`: defines an attribute; bad input shows the page again
/// with the problem beside the field.
pub(super) async fn create(visit: Visit, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = NewAttributeForm {
        name: body.get("name").trim().to_owned(),
        label: body.get("label").trim().to_owned(),
        kind: body.get("kind").to_owned(),
    };
    let kind = AttributeKind::parse(&form.kind);
    let mut values = AttributesView {
        form,
        ..AttributesView::default()
    };
    let Some(kind) = kind else {
        values.refuse(visit.invalid(
            "kind",
            "attribute-field-kind",
            visit.tr("problem-choose-option"),
        ));
        return attributes_page(&visit, &member, &tenant, values, StatusCode::BAD_REQUEST).await;
    };
    let created = attributes::create(
        &visit.app,
        &tenant,
        &values.form.name,
        &values.form.label,
        kind,
    )
    .await;
    let (invalid, status) = match created {
        Ok(definition) => {
            let mut response = redirect_with("/felder?hinweis=angelegt");
            if let Ok(name) = HeaderValue::from_str(definition.name.as_str()) {
                response.headers_mut().insert(AUDIT_OBJECT, name);
            }
            return response;
        }
        Err(AttributeError::Name(_)) => (
            visit.invalid(
                "name",
                "attribute-field-name",
                visit.tr("attributes-problem-name"),
            ),
            StatusCode::BAD_REQUEST,
        ),
        Err(AttributeError::Label(reason)) => (
            visit.invalid(
                "label",
                "attribute-field-label",
                label_problem(&visit, reason),
            ),
            StatusCode::BAD_REQUEST,
        ),
        Err(AttributeError::Taken) => (
            visit.invalid(
                "name",
                "attribute-field-name",
                visit.tr("attributes-problem-name-taken"),
            ),
            StatusCode::CONFLICT,
        ),
        Err(AttributeError::TooMany) => (
            visit.invalid(
                "name",
                "attribute-field-name",
                visit.tr_args(
                    "attributes-problem-too-many",
                    &[("max", MAX_ATTRIBUTES.to_string())],
                ),
            ),
            StatusCode::CONFLICT,
        ),
        Err(e) => return attribute_failure(&visit, e),
    };
    values.refuse(invalid);
    attributes_page(&visit, &member, &tenant, values, status).await
}

fn label_problem(visit: &Visit, reason: &str) -> String {
    match reason {
        "is empty" => visit.tr("problem-required"),
        "contains control characters" => visit.tr("problem-control-characters"),
        _ => visit.tr_args("problem-too-long", &[("max", "100".to_owned())]),
    }
}

/// The tenant's attribute named in the path; a malformed name is simply
/// not found.
fn path_name(raw: &str) -> Option<AttributeName> {
    AttributeName::parse(raw).ok()
}

/// `POST /felder/{attribute_name}`: gives the attribute another label.
pub(super) async fn relabel(
    visit: Visit,
    Path(attribute_name): Path<String>,
    body: FormBody,
) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(name) = path_name(&attribute_name) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    match attributes::relabel(&visit.app, &tenant, &name, body.get("label")).await {
        Ok(_) => redirect_with("/felder?hinweis=gespeichert"),
        Err(AttributeError::Label(reason)) => {
            let mut values = AttributesView {
                invalid_row: Some(name.to_string()),
                ..AttributesView::default()
            };
            values.refuse(visit.invalid(
                "label",
                "attribute-field-label",
                label_problem(&visit, reason),
            ));
            attributes_page(&visit, &member, &tenant, values, StatusCode::BAD_REQUEST).await
        }
        Err(e) => attribute_failure(&visit, e),
    }
}

/// `POST /felder/{attribute_name}/loeschen`: deletes the attribute once the
/// box is ticked; the values contacts hold are no longer shown.
pub(super) async fn delete(
    visit: Visit,
    Path(attribute_name): Path<String>,
    body: FormBody,
) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContacts).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(name) = path_name(&attribute_name) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    if body.get("bestaetigt") != "ja" {
        let mut values = AttributesView {
            invalid_row: Some(name.to_string()),
            ..AttributesView::default()
        };
        values.refuse(visit.invalid(
            "bestaetigt",
            "attributes-delete-confirm",
            visit.tr("attributes-problem-confirm-delete"),
        ));
        return attributes_page(&visit, &member, &tenant, values, StatusCode::BAD_REQUEST).await;
    }
    match attributes::delete(&visit.app, &tenant, &name).await {
        Ok(()) => redirect_with("/felder?hinweis=geloescht"),
        Err(e) => attribute_failure(&visit, e),
    }
}
