//! The Art. 15 page of a contact (`/kontakte/{contact_id}/auskunft`):
//! everything stored about the contact, readable and printable in German —
//! the same document the API answers as JSON, which the page offers as a
//! download. Opening it is on the audit log, like the download.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::admin::{date_time, tenant_failure};
use super::contacts::status_label;
use super::forms::Visit;
use super::view;
use crate::domain::{ContactId, Language, Permission, Salutation};
use crate::services::gdpr::{self, ContactData, GdprError};
use crate::services::sending::RecordState;

/// One line of a record: its label and its value.
#[derive(Debug, Serialize)]
struct Line {
    label: String,
    value: String,
}

#[derive(Debug, Serialize)]
struct EventRow {
    kind: String,
    at: String,
    message_id: String,
}

/// A campaign the contact was a recipient of, and what became of it.
#[derive(Debug, Serialize)]
struct SendingRow {
    campaign: String,
    state: String,
    at: String,
    reason: String,
}

#[derive(Debug, Serialize)]
struct ListRow {
    name: String,
}

#[derive(Debug, Serialize)]
struct DataView {
    id: String,
    heading: String,
    generated_at: String,
    tenant_name: String,
    contact: Vec<Line>,
    attributes: Vec<Line>,
    lists: Vec<ListRow>,
    suppression: Option<String>,
    events: Vec<EventRow>,
    /// The contact's send records, per campaign.
    sending: Vec<SendingRow>,
    consent: Vec<Vec<Line>>,
    /// Sign-ups still waiting for their confirmation.
    pending: Vec<Vec<Line>>,
    audit_note: String,
    /// The tenant, for the JSON download's link (the API's route).
    tenant_id: String,
}

fn failure(visit: &Visit, e: GdprError) -> Response {
    match e {
        GdprError::Tenant(t) => tenant_failure(visit, t),
        GdprError::NotFound => visit.fail(StatusCode::NOT_FOUND),
        GdprError::Store(s) => visit.store_failure(s),
    }
}

/// A JSON value as one line of text: strings as they are, nothing for
/// null, other values as JSON.
fn text_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(true) => Some("ja".to_owned()),
        serde_json::Value::Bool(false) => Some("nein".to_owned()),
        other => Some(other.to_string()),
    }
}

/// The fields of a stored record as lines; a nested record (the
/// confirmation mail) is flattened, its fields named `mail.message_id`.
fn lines_of(prefix: &str, value: &serde_json::Value, out: &mut Vec<Line>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (name, field) in fields {
                let label = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                lines_of(&label, field, out);
            }
        }
        other => {
            if let Some(value) = text_of(other) {
                out.push(Line {
                    label: prefix.to_owned(),
                    value,
                });
            }
        }
    }
}

fn view_of(visit: &Visit, data: ContactData) -> DataView {
    let c = &data.contact;
    let none = || visit.tr("contact-none-given");
    let salutation = match c.salutation {
        Some(Salutation::Female) => visit.tr("contact-salutation-female"),
        Some(Salutation::Male) => visit.tr("contact-salutation-male"),
        Some(Salutation::Diverse) => visit.tr("contact-salutation-diverse"),
        None => none(),
    };
    let language = match c.language {
        Language::De => visit.tr("contact-language-de"),
        Language::En => visit.tr("contact-language-en"),
    };
    let line = |id: &str, value: String| Line {
        label: visit.tr(id),
        value,
    };
    let contact = vec![
        line("contact-data-id", c.id.clone()),
        line("field-email", c.email.clone()),
        line("contact-field-salutation", salutation),
        line(
            "contact-field-first-name",
            c.first_name.clone().unwrap_or_else(none),
        ),
        line(
            "contact-field-last-name",
            c.last_name.clone().unwrap_or_else(none),
        ),
        line("contact-field-language", language),
        line("field-status", visit.tr(status_label(c.status))),
        line("field-created-at", date_time(visit.lang, c.created_at)),
        line(
            "contact-field-updated-at",
            date_time(visit.lang, c.updated_at),
        ),
    ];
    let attributes = c
        .attributes
        .iter()
        .map(|(name, value)| Line {
            label: name.clone(),
            value: text_of(value).unwrap_or_default(),
        })
        .collect();
    let consent = data.consent.iter().map(record_lines).collect();
    let pending = data.pending_signups.iter().map(record_lines).collect();
    DataView {
        id: c.id.clone(),
        heading: visit.tr_args("contact-data-heading", &[("address", c.email.clone())]),
        generated_at: date_time(visit.lang, data.generated_at),
        tenant_name: data.tenant_name.clone(),
        contact,
        attributes,
        lists: data
            .lists
            .iter()
            .map(|l| ListRow {
                name: l.name.clone(),
            })
            .collect(),
        suppression: data.suppression.as_ref().map(|s| {
            visit.tr_args(
                "contact-data-suppressed",
                &[
                    ("reason", s.reason_label.clone()),
                    ("date", date_time(visit.lang, s.added_at)),
                ],
            )
        }),
        events: data
            .delivery_events
            .iter()
            .map(|e| EventRow {
                kind: e.kind.clone(),
                at: date_time(visit.lang, e.at),
                message_id: e.provider_message_id.clone(),
            })
            .collect(),
        sending: data
            .sending
            .iter()
            .map(|r| SendingRow {
                campaign: r.campaign_name.clone(),
                state: visit.tr(record_state_label(r.state)),
                at: date_time(visit.lang, r.updated_at),
                reason: r.reason.clone().unwrap_or_default(),
            })
            .collect(),
        consent,
        pending,
        audit_note: data.audit_log.note.clone(),
        tenant_id: data.tenant_id.clone(),
    }
}

/// The message id of a send record's state.
fn record_state_label(state: RecordState) -> &'static str {
    match state {
        RecordState::Queued => "contact-data-sending-queued",
        RecordState::Sending => "contact-data-sending-sending",
        RecordState::Sent => "contact-data-sending-sent",
        RecordState::Failed => "contact-data-sending-failed",
        RecordState::Skipped => "contact-data-sending-skipped",
        RecordState::Unknown => "contact-data-sending-unknown",
    }
}

/// `GET /kontakte/{contact_id}/auskunft`: the contact's Art. 15 page.
pub(super) async fn page(visit: Visit, Path(contact_id): Path<String>) -> Response {
    let member = match visit.member(false).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    if !member.principal.role.may(Permission::WriteContacts) {
        return visit.fail(StatusCode::FORBIDDEN);
    }
    let Some(tenant) = member.principal.tenant.clone() else {
        return visit.fail(StatusCode::FORBIDDEN);
    };
    let Ok(id) = ContactId::parse(&contact_id) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    let data = match gdpr::contact_data(&visit.app, &tenant, &id).await {
        Ok(data) => data,
        Err(e) => return failure(&visit, e),
    };
    let values = view_of(&visit, data);
    let layout = visit.layout(&member, "/kontakte");
    view::page(
        StatusCode::OK,
        "contact_data.html",
        &layout,
        &values,
        visit.https,
    )
}

/// A record of the document as label/value lines, every field shown.
fn record_lines<T: Serialize>(record: &T) -> Vec<Line> {
    let mut lines = Vec::new();
    if let Ok(value) = serde_json::to_value(record) {
        lines_of("", &value, &mut lines);
    }
    lines
}
