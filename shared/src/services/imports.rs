//! Contact imports of a tenant, step by step as the UI walks them: the file
//! is announced with its name and size (a presigned PUT of exactly that
//! size comes back, so the browser uploads straight to the blob store), it
//! is analysed (encoding, separator, header, the first rows, a suggested
//! column mapping), started with a mapping and a mode (a job on the queue),
//! and run by the background worker in batches, its progress stored for
//! the UI to show. The result is a per-row report; the uploaded file, which
//! holds personal data, is deleted once the import has run.

use std::io::{Read, Write};
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use crate::App;
use crate::domain::{ContactStatus, ImportId, ListId, TenantId, UserId, short_text};
use crate::import::mapping::{ColumnMapping, MappingError};
use crate::import::run::{
    ImportError as RunError, ImportMode, ImportPlan, ImportRun, Progress, Report,
};
use crate::import::source::{SNIFF_BYTES, SourceError, sniff};
use crate::ports::blobs::{BlobError, BlobKey, BlobReader, PresignedRequest};
use crate::ports::store::{Cursor, Item, PutCondition, Query, StoreError, Version, keys};
use crate::services::jobs::Job;
use crate::services::lists::{self, ListError};
use crate::services::tenants::{self, TenantError};

/// The largest file an import takes.
pub const MAX_IMPORT_BYTES: u64 = 500 * 1024 * 1024;
/// How long the upload URL works.
const UPLOAD_TTL: Duration = Duration::minutes(30);
/// How long a report download link works.
const REPORT_LINK_TTL: Duration = Duration::minutes(5);
/// Rows of the preview in the mapping step.
pub const PREVIEW_ROWS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no import with this id")]
    NotFound,
    #[error("file_name: {0}")]
    FileName(&'static str),
    #[error("size_bytes: a file of 1 byte to {} MB is accepted", MAX_IMPORT_BYTES / 1_000_000)]
    Size,
    #[error("the file has not been uploaded yet")]
    NotUploaded,
    #[error("the file is empty")]
    EmptyFile,
    #[error("the file's first line is longer than 64 KB: it is not a CSV file")]
    NotCsv,
    #[error("{0}")]
    Mapping(#[from] MappingError),
    #[error("list_id: no list with this id")]
    NoSuchList,
    #[error("the import is {0} and cannot be started again")]
    NotStartable(&'static str),
    #[error("the import was changed meanwhile; load it again")]
    Conflict,
    #[error("the import failed: {0}")]
    Run(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Announced; the file is being uploaded.
    AwaitingUpload,
    /// Started; waiting for the worker.
    Queued,
    Running,
    Finished,
    Failed,
}

impl ImportStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingUpload => "awaiting upload",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    pub id: ImportId,
    pub tenant: TenantId,
    pub file_name: String,
    pub size_bytes: u64,
    pub status: ImportStatus,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub plan: Option<ImportPlan>,
    pub progress: Progress,
    /// Why it failed, when it did (never personal data).
    pub error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Where the uploaded file of an import lives (the presigned PUT's target).
pub fn upload_key(tenant: &TenantId, id: &ImportId) -> Result<BlobKey, BlobError> {
    BlobKey::new(tenant, &format!("imports/{id}/upload.csv"))
}

fn report_key(tenant: &TenantId, id: &ImportId) -> Result<BlobKey, BlobError> {
    BlobKey::new(tenant, &format!("imports/{id}/report.csv"))
}

async fn load(
    app: &App,
    tenant: &TenantId,
    id: &ImportId,
) -> Result<(Import, Version), ImportError> {
    let stored = app
        .store
        .get(&keys::import(tenant, id))
        .await?
        .ok_or(ImportError::NotFound)?;
    Ok((stored.item.parse()?, stored.version))
}

/// Writes the record over the version read; `None` creates it.
async fn save(app: &App, import: &Import, over: Option<Version>) -> Result<Version, ImportError> {
    let item = Item::new(keys::import(&import.tenant, &import.id), import)?;
    let condition = over.map_or(PutCondition::NotExists, PutCondition::Version);
    app.store.put(item, condition).await.map_err(|e| match e {
        StoreError::ConditionFailed => ImportError::Conflict,
        other => other.into(),
    })
}

/// Announces an upload: the record, and a PUT for exactly `size_bytes`.
pub async fn announce(
    app: &App,
    tenant: &TenantId,
    created_by: UserId,
    file_name: &str,
    size_bytes: u64,
) -> Result<(Import, PresignedRequest), ImportError> {
    tenants::get_active(app, tenant).await?;
    let file_name = short_text(file_name).map_err(ImportError::FileName)?;
    if file_name.is_empty() {
        return Err(ImportError::FileName("is empty"));
    }
    if !(1..=MAX_IMPORT_BYTES).contains(&size_bytes) {
        return Err(ImportError::Size);
    }
    let now = app.clock.now();
    let import = Import {
        id: ImportId::generate(),
        tenant: tenant.clone(),
        file_name,
        size_bytes,
        status: ImportStatus::AwaitingUpload,
        created_by,
        created_at: now,
        updated_at: now,
        plan: None,
        progress: Progress::default(),
        error: None,
        finished_at: None,
    };
    save(app, &import, None).await?;
    let upload = app
        .blobs
        .presign_put_sized(
            &upload_key(tenant, &import.id)?,
            "text/csv",
            size_bytes,
            UPLOAD_TTL.to_std().expect("a positive duration"),
        )
        .await?;
    Ok((import, upload))
}

/// One import of the tenant.
pub async fn get(app: &App, tenant: &TenantId, id: &ImportId) -> Result<Import, ImportError> {
    tenants::get(app, tenant).await?;
    Ok(load(app, tenant, id).await?.0)
}

/// The tenant's imports, newest first.
pub async fn list(
    app: &App,
    tenant: &TenantId,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Import>, Option<Cursor>), ImportError> {
    tenants::get(app, tenant).await?;
    let page = app
        .store
        .query(
            Query::table(keys::imports(tenant))
                .descending()
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let imports = page
        .items
        .iter()
        .map(|s| s.item.parse())
        .collect::<Result<Vec<Import>, _>>()?;
    Ok((imports, page.next))
}

/// What the mapping step shows: how the file reads, its header, its first
/// rows, and the mapping EMMA suggests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Analysis {
    #[schema(value_type = String, example = "utf8")]
    pub encoding: crate::import::source::TextEncoding,
    #[schema(value_type = String, example = "semicolon")]
    pub separator: crate::import::source::Separator,
    pub header: Vec<String>,
    pub preview: Vec<Vec<String>>,
    pub suggested_mapping: Option<ColumnMapping>,
}

/// Reads the head of the uploaded file and tells how it reads.
pub async fn analyse(app: &App, tenant: &TenantId, id: &ImportId) -> Result<Analysis, ImportError> {
    tenants::get(app, tenant).await?;
    load(app, tenant, id).await?;
    let mut reader = app
        .blobs
        .open(&upload_key(tenant, id)?)
        .await?
        .ok_or(ImportError::NotUploaded)?;
    let mut head = vec![0u8; SNIFF_BYTES];
    let mut filled = 0;
    while filled < head.len() {
        let n = reader
            .read(&mut head[filled..])
            .await
            .map_err(|e| ImportError::Blob(BlobError::Unavailable(e.to_string())))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    head.truncate(filled);
    let sniffed = sniff(&head, PREVIEW_ROWS).map_err(|e| match e {
        SourceError::Empty => ImportError::EmptyFile,
        _ => ImportError::NotCsv,
    })?;
    let definitions = attribute_definitions(app, tenant).await?;
    Ok(Analysis {
        suggested_mapping: ColumnMapping::suggest_with(&sniffed.header, &definitions),
        encoding: sniffed.encoding,
        separator: sniffed.separator,
        header: sniffed.header,
        preview: sniffed.preview,
    })
}

/// The tenant's custom attributes, which a mapping may name.
async fn attribute_definitions(
    app: &App,
    tenant: &TenantId,
) -> Result<Vec<crate::domain::AttributeDefinition>, ImportError> {
    use crate::services::attributes::{self, AttributeError};
    attributes::list(app, tenant).await.map_err(|e| match e {
        AttributeError::Tenant(t) => ImportError::Tenant(t),
        AttributeError::Store(s) => ImportError::Store(s),
        other => ImportError::Run(other.to_string()),
    })
}

/// Starts an analysed upload with a column mapping and a mode: the import
/// is queued for the background worker. Attribute columns must name the
/// tenant's attributes with their kinds.
pub async fn start(
    app: &App,
    tenant: &TenantId,
    id: &ImportId,
    mapping: ColumnMapping,
    mode: ImportMode,
    new_status: ContactStatus,
    list: Option<ListId>,
) -> Result<Import, ImportError> {
    tenants::get_active(app, tenant).await?;
    if let Some(list) = &list {
        lists::get(app, tenant, list).await.map_err(|e| match e {
            ListError::Store(s) => ImportError::Store(s),
            _ => ImportError::NoSuchList,
        })?;
    }
    let (mut import, version) = load(app, tenant, id).await?;
    if import.status != ImportStatus::AwaitingUpload {
        return Err(ImportError::NotStartable(import.status.as_str()));
    }
    let analysis = analyse(app, tenant, id).await?;
    mapping.check(analysis.header.len())?;
    mapping.check_attributes(&attribute_definitions(app, tenant).await?)?;
    import.plan = Some(ImportPlan {
        encoding: analysis.encoding,
        separator: analysis.separator,
        mapping,
        mode,
        new_status: if new_status == ContactStatus::Subscribed {
            ContactStatus::Subscribed
        } else {
            ContactStatus::Unconfirmed
        },
        list,
    });
    import.status = ImportStatus::Queued;
    import.updated_at = app.clock.now();
    save(app, &import, Some(version)).await?;
    let job = Job::Import {
        tenant_id: tenant.clone(),
        import_id: import.id,
    };
    if let Err(e) = app
        .jobs
        .send(&job.to_body(), std::time::Duration::ZERO)
        .await
    {
        tracing::error!(error = %e, import = %import.id, "the import could not be queued");
        import.status = ImportStatus::Failed;
        import.error = Some("the import could not be queued; please start it again".to_owned());
        let _ = save(app, &import, None).await;
        return Err(ImportError::Run(e.to_string()));
    }
    tracing::info!(tenant = %tenant, import = %import.id, "import queued");
    Ok(import)
}

/// A link to download the report of a finished import.
pub async fn report_link(
    app: &App,
    tenant: &TenantId,
    id: &ImportId,
) -> Result<PresignedRequest, ImportError> {
    let import = get(app, tenant, id).await?;
    if import.status != ImportStatus::Finished {
        return Err(ImportError::NotFound);
    }
    Ok(app
        .blobs
        .presign_get(
            &report_key(tenant, id)?,
            REPORT_LINK_TTL.to_std().expect("a positive duration"),
        )
        .await?)
}

/// The background step: runs a queued import. A job delivered again after
/// the import ended does nothing.
pub async fn run_queued(app: &App, tenant: &TenantId, id: &ImportId) -> Result<(), ImportError> {
    let (mut import, mut version) = load(app, tenant, id).await?;
    let Some(plan) = import.plan.clone() else {
        return Ok(());
    };
    if !matches!(import.status, ImportStatus::Queued | ImportStatus::Running) {
        return Ok(());
    }
    import.status = ImportStatus::Running;
    import.updated_at = app.clock.now();
    version = save(app, &import, Some(version)).await?;

    let outcome = run_file(app, &mut import, &mut version, &plan).await;
    import.updated_at = app.clock.now();
    import.finished_at = Some(import.updated_at);
    match &outcome {
        Ok(()) => {
            import.status = ImportStatus::Finished;
            // The file holds personal data: it goes once it has been read.
            app.blobs.delete(&upload_key(tenant, id)?).await?;
        }
        Err(e) => {
            tracing::warn!(import = %import.id, error = %e, "import failed");
            import.status = ImportStatus::Failed;
            import.error = Some(e.to_string());
        }
    }
    save(app, &import, Some(version)).await?;
    tracing::info!(
        tenant = %tenant,
        import = %import.id,
        rows = import.progress.rows,
        added = import.progress.added,
        updated = import.progress.updated,
        skipped = import.progress.skipped,
        "import ended"
    );
    outcome
}

/// Reads the uploaded file through the import engine into a report file,
/// storing the progress after each batch, and publishes the report.
async fn run_file(
    app: &App,
    import: &mut Import,
    version: &mut Version,
    plan: &ImportPlan,
) -> Result<(), ImportError> {
    let tenant = import.tenant.clone();
    let reader = app
        .blobs
        .open(&upload_key(&tenant, &import.id)?)
        .await?
        .ok_or(ImportError::NotUploaded)?;
    let input = BlockingReader {
        inner: reader,
        runtime: tokio::runtime::Handle::current(),
    };
    let report_path = TempFile::new(&import.id);
    let file = std::fs::File::create(&report_path.0)
        .map_err(|e| ImportError::Run(format!("the report file: {e}")))?;
    let mut report = Report::new(std::io::BufWriter::new(file)).map_err(run_error)?;
    let mut progress = Progress::default();
    {
        let mut run = ImportRun::start(app, &tenant, input, plan, &mut report);
        while let Some(next) = run.next_batch().await.map_err(run_error)? {
            progress = next;
            import.progress = next;
            import.updated_at = app.clock.now();
            *version = save(app, import, Some(*version)).await?;
        }
    }
    import.progress = progress;
    report
        .finish()
        .map_err(run_error)?
        .flush()
        .map_err(|e| ImportError::Run(format!("the report file: {e}")))?;
    app.blobs
        .put_file(
            &report_key(&tenant, &import.id)?,
            &report_path.0,
            "text/csv; charset=utf-8",
        )
        .await?;
    Ok(())
}

fn run_error(e: RunError) -> ImportError {
    match e {
        RunError::Store(s) => ImportError::Store(s),
        other => ImportError::Run(other.to_string()),
    }
}

/// A blob stream read from a blocking thread (the CSV reader's), one
/// `read` at a time through the runtime.
struct BlockingReader {
    inner: BlobReader,
    runtime: tokio::runtime::Handle,
}

impl Read for BlockingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.runtime.block_on(self.inner.read(buf))
    }
}

/// A report file in the temporary folder, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(id: &ImportId) -> Self {
        Self(std::env::temp_dir().join(format!("emma-import-{id}-report.csv")))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
