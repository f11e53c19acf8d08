//! Contact exports of a tenant: the chosen fields of every contact, in name
//! order, as CSV for German Excel (BOM, `;`, formula cells made inert).
//! An export of a large tenant takes longer than an HTTP request may, so it
//! runs as a background job into the blob store; the file is fetched with
//! a short-lived link. The record expires after a day; the file (personal
//! data) is deleted with it by the retention step.
//!
//! The source is every contact (in name order), one list (its members, in
//! membership order) or one segment (a pass over every contact, keeping
//! those that match, in name order). Custom attributes are columns after
//! the standard fields, headed by their labels.

use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{
    AttributeDefinition, AttributeName, Contact, ContactStatus, ExportId, Language, ListId,
    Salutation, SegmentId, TenantId, UserId,
};
use crate::ports::blobs::{BlobError, BlobKey, PresignedRequest};
use crate::ports::store::{Item, PutCondition, Query, StoreError, Version, keys};
use crate::services::attributes::{self, AttributeError};
use crate::services::jobs::Job;
use crate::services::lists::{self, ListError};
use crate::services::segments::{self, SegmentError};
use crate::services::tenants::{self, TenantError};

/// How long a download link works.
const LINK_TTL: Duration = Duration::minutes(5);
/// Contacts read per page of the name index.
const PAGE: u32 = 1000;

/// A column of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportField {
    Email,
    Salutation,
    FirstName,
    LastName,
    Language,
    Status,
    CreatedAt,
    UpdatedAt,
}

impl ExportField {
    /// Every field, in the default order.
    pub const ALL: [Self; 8] = [
        Self::Email,
        Self::Salutation,
        Self::FirstName,
        Self::LastName,
        Self::Language,
        Self::Status,
        Self::CreatedAt,
        Self::UpdatedAt,
    ];

    /// The column's heading (German, as the file is for German Excel).
    fn heading(self) -> &'static str {
        match self {
            Self::Email => "E-Mail-Adresse",
            Self::Salutation => "Anrede",
            Self::FirstName => "Vorname",
            Self::LastName => "Nachname",
            Self::Language => "Sprache",
            Self::Status => "Status",
            Self::CreatedAt => "Angelegt",
            Self::UpdatedAt => "Geändert",
        }
    }

    fn cell(self, contact: &Contact) -> String {
        let name = |n: &Option<crate::domain::PersonName>| {
            n.as_ref()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default()
        };
        let time = |at: DateTime<Utc>| {
            at.with_timezone(&chrono_tz::Europe::Berlin)
                .format("%d.%m.%Y %H:%M")
                .to_string()
        };
        match self {
            Self::Email => contact.email.to_string(),
            Self::Salutation => match contact.salutation {
                Some(Salutation::Female) => "Frau",
                Some(Salutation::Male) => "Herr",
                Some(Salutation::Diverse) => "Divers",
                None => "",
            }
            .to_owned(),
            Self::FirstName => name(&contact.first_name),
            Self::LastName => name(&contact.last_name),
            Self::Language => match contact.language {
                Language::De => "de",
                Language::En => "en",
            }
            .to_owned(),
            Self::Status => match contact.status {
                ContactStatus::Unconfirmed => "unbestätigt",
                ContactStatus::Subscribed => "angemeldet",
                ContactStatus::Unsubscribed => "abgemeldet",
                ContactStatus::Bounced => "unzustellbar",
                ContactStatus::Complained => "Beschwerde",
            }
            .to_owned(),
            Self::CreatedAt => time(contact.created_at),
            Self::UpdatedAt => time(contact.updated_at),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no export with this id")]
    NotFound,
    #[error("fields: name 1 to {} distinct fields", ExportField::ALL.len())]
    Fields,
    #[error("attributes: {0}")]
    Attributes(String),
    #[error("list_id: no list with this id")]
    NoSuchList,
    #[error("segment_id: no segment with this id")]
    NoSuchSegment,
    #[error(transparent)]
    Segment(SegmentError),
    #[error("the export is not finished")]
    NotFinished,
    #[error("the export failed: {0}")]
    Run(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Queued,
    Finished,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub id: ExportId,
    pub tenant: TenantId,
    pub fields: Vec<ExportField>,
    /// Custom attribute columns, after the fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeName>,
    /// Whose contacts: every contact when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ExportSource>,
    pub status: ExportStatus,
    pub rows: u64,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

fn file_key(tenant: &TenantId, id: &ExportId) -> Result<BlobKey, BlobError> {
    BlobKey::new(tenant, &format!("exports/{id}/kontakte.csv"))
}

/// Whose contacts an export holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportSource {
    List(ListId),
    Segment(SegmentId),
}

/// What an export holds: the columns and the source.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    pub fields: Vec<ExportField>,
    /// Attribute names, as columns after the fields.
    pub attributes: Vec<String>,
    /// Every contact when `None`.
    pub source: Option<ExportSource>,
}

fn attribute_failure(e: AttributeError) -> ExportError {
    match e {
        AttributeError::Tenant(t) => ExportError::Tenant(t),
        AttributeError::Store(s) => ExportError::Store(s),
        other => ExportError::Run(other.to_string()),
    }
}

fn list_failure(e: ListError) -> ExportError {
    match e {
        ListError::Tenant(t) => ExportError::Tenant(t),
        ListError::NotFound => ExportError::NoSuchList,
        ListError::Store(s) => ExportError::Store(s),
        other => ExportError::Run(other.to_string()),
    }
}

fn segment_failure(e: SegmentError) -> ExportError {
    match e {
        SegmentError::Tenant(t) => ExportError::Tenant(t),
        SegmentError::NotFound => ExportError::NoSuchSegment,
        SegmentError::Store(s) => ExportError::Store(s),
        other => ExportError::Segment(other),
    }
}

/// The definitions of the named attributes, in the order named.
fn chosen_attributes(
    definitions: &[AttributeDefinition],
    names: &[AttributeName],
) -> Vec<AttributeDefinition> {
    names
        .iter()
        .filter_map(|n| definitions.iter().find(|d| d.name == *n).cloned())
        .collect()
}

/// Queues an export of `fields` of every contact of the tenant.
pub async fn request(
    app: &App,
    tenant: &TenantId,
    created_by: UserId,
    fields: Vec<ExportField>,
) -> Result<Export, ExportError> {
    request_from(
        app,
        tenant,
        created_by,
        ExportRequest {
            fields,
            ..ExportRequest::default()
        },
    )
    .await
}

/// Queues an export of the chosen fields and attributes of the source's
/// contacts. The list or segment is checked now (a segment's filter too),
/// and again when the export runs.
pub async fn request_from(
    app: &App,
    tenant: &TenantId,
    created_by: UserId,
    wanted: ExportRequest,
) -> Result<Export, ExportError> {
    tenants::get_active(app, tenant).await?;
    let ExportRequest {
        fields,
        attributes: attribute_names,
        source,
    } = wanted;
    let mut attributes = Vec::new();
    if !attribute_names.is_empty() {
        let definitions = attributes::list(app, tenant)
            .await
            .map_err(attribute_failure)?;
        for raw in &attribute_names {
            let known = AttributeName::parse(raw)
                .ok()
                .filter(|n| definitions.iter().any(|d| d.name == *n));
            match known {
                Some(name) if !attributes.contains(&name) => attributes.push(name),
                Some(_) => {
                    return Err(ExportError::Attributes(format!("{raw} is named twice")));
                }
                None => {
                    return Err(ExportError::Attributes(format!(
                        "{raw} is no attribute of this tenant"
                    )));
                }
            }
        }
    }
    match &source {
        Some(ExportSource::List(list)) => {
            lists::get(app, tenant, list).await.map_err(list_failure)?;
        }
        Some(ExportSource::Segment(segment)) => {
            segments::checked_filter_of(app, tenant, segment)
                .await
                .map_err(segment_failure)?;
        }
        None => {}
    }
    let distinct = fields
        .iter()
        .enumerate()
        .all(|(i, f)| !fields[..i].contains(f));
    if (fields.is_empty() && attributes.is_empty()) || !distinct {
        return Err(ExportError::Fields);
    }
    let now = app.clock.now();
    let export = Export {
        id: ExportId::generate(),
        tenant: tenant.clone(),
        fields,
        attributes,
        source,
        status: ExportStatus::Queued,
        rows: 0,
        created_by,
        created_at: now,
        finished_at: None,
        error: None,
    };
    // The record goes with the file: both are gone after a day.
    let item =
        Item::new(keys::export(tenant, &export.id), &export)?.expiring_at(now + Duration::days(1));
    app.store.put(item, PutCondition::NotExists).await?;
    let job = Job::Export {
        tenant_id: tenant.clone(),
        export_id: export.id,
    };
    app.jobs
        .send(&job.to_body(), std::time::Duration::ZERO)
        .await
        .map_err(|e| ExportError::Run(e.to_string()))?;
    Ok(export)
}

async fn load(
    app: &App,
    tenant: &TenantId,
    id: &ExportId,
) -> Result<(Export, Version, Option<DateTime<Utc>>), ExportError> {
    let stored = app
        .store
        .get(&keys::export(tenant, id))
        .await?
        .ok_or(ExportError::NotFound)?;
    Ok((stored.item.parse()?, stored.version, stored.item.expires_at))
}

/// One export of the tenant.
pub async fn get(app: &App, tenant: &TenantId, id: &ExportId) -> Result<Export, ExportError> {
    tenants::get(app, tenant).await?;
    Ok(load(app, tenant, id).await?.0)
}

/// A short-lived link to the finished file.
pub async fn link(
    app: &App,
    tenant: &TenantId,
    id: &ExportId,
) -> Result<PresignedRequest, ExportError> {
    let export = get(app, tenant, id).await?;
    if export.status != ExportStatus::Finished {
        return Err(ExportError::NotFinished);
    }
    Ok(app
        .blobs
        .presign_get(
            &file_key(tenant, id)?,
            LINK_TTL.to_std().expect("a positive duration"),
        )
        .await?)
}

/// The background step: writes the file page by page from the name index
/// (constant memory) and publishes it. A job delivered again after the
/// export ended does nothing.
pub async fn run_queued(app: &App, tenant: &TenantId, id: &ExportId) -> Result<(), ExportError> {
    let (mut export, version, expires_at) = load(app, tenant, id).await?;
    if export.status != ExportStatus::Queued {
        return Ok(());
    }
    let path = std::env::temp_dir().join(format!("emma-export-{id}.csv"));
    let result = write_file(app, tenant, &export, &path).await;
    let published = match result {
        Ok(rows) => app
            .blobs
            .put_file(&file_key(tenant, id)?, &path, "text/csv; charset=utf-8")
            .await
            .map(|()| rows)
            .map_err(ExportError::from),
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&path);
    export.finished_at = Some(app.clock.now());
    match &published {
        Ok(rows) => {
            export.status = ExportStatus::Finished;
            export.rows = *rows;
        }
        Err(e) => {
            export.status = ExportStatus::Failed;
            export.error = Some(e.to_string());
        }
    }
    let mut item = Item::new(keys::export(tenant, id), &export)?;
    if let Some(at) = expires_at {
        item = item.expiring_at(at);
    }
    app.store.put(item, PutCondition::Version(version)).await?;
    tracing::info!(tenant = %tenant, export = %id, rows = export.rows, "export ended");
    published.map(|_| ())
}

/// The rows of an export as it is written: the columns, and one line per
/// contact.
struct Sheet<W: Write> {
    writer: csv::Writer<W>,
    fields: Vec<ExportField>,
    attributes: Vec<AttributeDefinition>,
    rows: u64,
}

impl<W: Write> Sheet<W> {
    fn row(&mut self, contact: &Contact) -> Result<(), ExportError> {
        let standard = self.fields.iter().map(|f| f.cell(contact));
        let custom = self.attributes.iter().map(|d| {
            // A stale value of another kind (the attribute was deleted and
            // defined anew) is no value of this attribute.
            contact
                .attributes
                .get(&d.name)
                .filter(|v| v.kind() == d.kind)
                .map(|v| v.display_de())
                .unwrap_or_default()
        });
        self.writer
            .write_record(
                standard
                    .chain(custom)
                    .map(|cell| crate::excel::excel_safe(&cell).into_owned()),
            )
            .map_err(|e| ExportError::Run(format!("the export file: {e}")))?;
        self.rows += 1;
        Ok(())
    }
}

async fn write_file(
    app: &App,
    tenant: &TenantId,
    export: &Export,
    path: &std::path::Path,
) -> Result<u64, ExportError> {
    let io = |e: std::io::Error| ExportError::Run(format!("the export file: {e}"));
    let file = std::fs::File::create(path).map_err(io)?;
    let mut writer = crate::excel::writer(std::io::BufWriter::new(file)).map_err(io)?;
    let csv = |e: csv::Error| ExportError::Run(format!("the export file: {e}"));
    let attributes = if export.attributes.is_empty() {
        Vec::new()
    } else {
        let definitions = attributes::list(app, tenant)
            .await
            .map_err(attribute_failure)?;
        chosen_attributes(&definitions, &export.attributes)
    };
    let headings = export
        .fields
        .iter()
        .map(|f| f.heading().to_owned())
        .chain(attributes.iter().map(|d| d.label.clone()));
    writer
        .write_record(headings.map(|h| crate::excel::excel_safe(&h).into_owned()))
        .map_err(csv)?;
    let mut sheet = Sheet {
        writer,
        fields: export.fields.clone(),
        attributes,
        rows: 0,
    };
    match &export.source {
        None => {
            let mut cursor = None;
            loop {
                let page = app
                    .store
                    .query(
                        Query::index(keys::contacts_by_name(tenant, ""))
                            .limit(PAGE)
                            .after(cursor),
                    )
                    .await?;
                for stored in &page.items {
                    sheet.row(&stored.item.parse()?)?;
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Some(ExportSource::List(list)) => {
            let mut cursor = None;
            loop {
                let (contacts, next) = lists::members(app, tenant, list, PAGE, cursor)
                    .await
                    .map_err(list_failure)?;
                for contact in &contacts {
                    sheet.row(contact)?;
                }
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Some(ExportSource::Segment(segment)) => {
            let filter = segments::checked_filter_of(app, tenant, segment)
                .await
                .map_err(segment_failure)?;
            let mut pass = segments::members_of(app, tenant, filter);
            while let Some(batch) = pass.next_batch().await.map_err(segment_failure)? {
                for contact in &batch {
                    sheet.row(contact)?;
                }
            }
        }
    }
    let rows = sheet.rows;
    sheet
        .writer
        .into_inner()
        .map_err(|e| ExportError::Run(e.to_string()))?
        .flush()
        .map_err(io)?;
    Ok(rows)
}
