//! Running an import: the file is read on a blocking thread (decode, split,
//! validate, derive each contact's id, drop repeats) while the store writes
//! the previous batch, so parsing and writing overlap. Each batch looks up
//! the contacts and suppression entries it touches in one `get_many` per
//! thousand rows and writes its contacts in key order with one `put_each`.
//! Memory stays bounded: two batches in flight and a set of the ids seen.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::mapping::{ColumnMapping, RowProblem, draft_from};
use super::source::{Record, RecordReader, Separator, SourceError, TextEncoding};
use crate::App;
use crate::domain::{Contact, ContactDraft, ContactId, ContactStatus, ListId, TenantId};
use crate::ports::store::{
    Item, Key, MAX_BATCH_GET, PutCondition, StoreError, Stored, Version, keys,
};
use crate::services::lists;

/// Rows per batch: large enough that key-ordered writes share pages,
/// small enough that two batches in flight stay a few megabytes.
pub const BATCH_ROWS: usize = 20_000;

/// What an import does with the rows of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// New addresses only; existing contacts stay as they are.
    Add,
    /// Existing contacts only; unknown addresses are not created.
    Update,
    /// Both.
    AddOrUpdate,
}

/// How to read the file and what to make of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPlan {
    pub encoding: TextEncoding,
    pub separator: Separator,
    pub mapping: ColumnMapping,
    pub mode: ImportMode,
    /// The status of contacts the import creates: `subscribed` when the
    /// institute holds their consent, else `unconfirmed`.
    pub new_status: ContactStatus,
    /// The list every imported contact (new, updated or, in mode `add`,
    /// already there) becomes a member of.
    #[serde(default)]
    pub list: Option<ListId>,
}

/// How far an import has come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub added: u64,
    pub updated: u64,
    /// Rows not taken, each with a line in the report.
    pub skipped: u64,
    /// Bytes of the file read so far.
    pub bytes_read: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file could not be read: {0}")]
    Source(#[from] SourceError),
    #[error("the report could not be written: {0}")]
    Report(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the reading thread stopped unexpectedly")]
    Reader,
}

/// One data row as the reader hands it on.
enum Row {
    Draft {
        line: u64,
        id: ContactId,
        draft: ContactDraft,
    },
    Problem {
        line: u64,
        problem: RowProblem,
    },
}

struct Batch {
    rows: Vec<Row>,
    bytes_read: u64,
}

/// The per-row report: `Zeile;Code;Grund` for every row not taken, as CSV
/// for German Excel. It names lines, never addresses.
pub struct Report<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> Report<W> {
    pub fn new(out: W) -> Result<Self, ImportError> {
        let mut writer =
            crate::excel::writer(out).map_err(|e| ImportError::Report(e.to_string()))?;
        writer
            .write_record(["Zeile", "Code", "Grund"])
            .map_err(|e| ImportError::Report(e.to_string()))?;
        Ok(Self { writer })
    }

    fn row(&mut self, line: u64, problem: &RowProblem) -> Result<(), ImportError> {
        self.writer
            .write_record([
                line.to_string(),
                problem.code().to_owned(),
                crate::excel::excel_safe(&problem.reason()).into_owned(),
            ])
            .map_err(|e| ImportError::Report(e.to_string()))
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> Result<W, ImportError> {
        self.writer
            .into_inner()
            .map_err(|e| ImportError::Report(e.to_string()))
    }
}

/// An import under way: call [`ImportRun::next_batch`] until it answers
/// `None`, storing the progress it hands back in between.
pub struct ImportRun<'a, W: Write> {
    app: &'a App,
    tenant: &'a TenantId,
    plan: &'a ImportPlan,
    report: &'a mut Report<W>,
    batches: tokio::sync::mpsc::Receiver<Batch>,
    reader: Option<tokio::task::JoinHandle<Result<(), ImportError>>>,
    progress: Progress,
}

impl<'a, W: Write> ImportRun<'a, W> {
    /// Starts reading `input` on a blocking thread.
    pub fn start<R: Read + Send + 'static>(
        app: &'a App,
        tenant: &'a TenantId,
        input: R,
        plan: &'a ImportPlan,
        report: &'a mut Report<W>,
    ) -> Self {
        let (sender, batches) = tokio::sync::mpsc::channel::<Batch>(1);
        let reader = {
            let app = app.clone();
            let tenant = tenant.clone();
            let plan = plan.clone();
            tokio::task::spawn_blocking(move || read_batches(&app, &tenant, input, &plan, &sender))
        };
        Self {
            app,
            tenant,
            plan,
            report,
            batches,
            reader: Some(reader),
            progress: Progress::default(),
        }
    }

    /// Writes the next batch and answers the progress after it; `None` once
    /// the whole file is in (or the reading failed: then the error).
    pub async fn next_batch(&mut self) -> Result<Option<Progress>, ImportError> {
        match self.batches.recv().await {
            Some(batch) => {
                write_batch(
                    self.app,
                    self.tenant,
                    self.plan,
                    batch.rows,
                    self.report,
                    &mut self.progress,
                )
                .await?;
                self.progress.bytes_read = batch.bytes_read;
                Ok(Some(self.progress))
            }
            None => {
                if let Some(reader) = self.reader.take() {
                    reader.await.map_err(|_| ImportError::Reader)??;
                }
                Ok(None)
            }
        }
    }
}

/// Imports the file `input` into the tenant's contacts in one go; every row
/// not taken gets a line in `report`.
pub async fn run<R, W>(
    app: &App,
    tenant: &TenantId,
    input: R,
    plan: &ImportPlan,
    report: &mut Report<W>,
) -> Result<Progress, ImportError>
where
    R: Read + Send + 'static,
    W: Write,
{
    let mut run = ImportRun::start(app, tenant, input, plan, report);
    let mut progress = Progress::default();
    while let Some(next) = run.next_batch().await? {
        progress = next;
    }
    Ok(progress)
}

/// The reading side: records into batches of rows, each with its draft or
/// its problem. Stops early (quietly) when the writing side is gone.
fn read_batches<R: Read>(
    app: &App,
    tenant: &TenantId,
    input: R,
    plan: &ImportPlan,
    sender: &tokio::sync::mpsc::Sender<Batch>,
) -> Result<(), ImportError> {
    let mut reader = RecordReader::new(input, plan.encoding, plan.separator);
    let mut record = Record::new();
    let mut seen: HashSet<u128> = HashSet::new();
    let mut rows = Vec::with_capacity(BATCH_ROWS);
    while reader.read(&mut record)? {
        if record.index() == 0 {
            continue; // the header
        }
        let line = record.line();
        let row = match draft_from(&record, &plan.mapping, plan.new_status) {
            Ok(draft) => {
                let id = app.pseudonyms.contact_id(tenant, &draft.email);
                let bits = u128::from_str_radix(id.as_str(), 16).expect("an id is hex");
                if seen.insert(bits) {
                    Row::Draft { line, id, draft }
                } else {
                    Row::Problem {
                        line,
                        problem: RowProblem::DuplicateInFile,
                    }
                }
            }
            Err(problem) => Row::Problem { line, problem },
        };
        rows.push(row);
        if rows.len() == BATCH_ROWS {
            let batch = Batch {
                rows: std::mem::replace(&mut rows, Vec::with_capacity(BATCH_ROWS)),
                bytes_read: reader.bytes_read(),
            };
            if sender.blocking_send(batch).is_err() {
                return Ok(());
            }
        }
    }
    if !rows.is_empty() {
        let _ = sender.blocking_send(Batch {
            rows,
            bytes_read: reader.bytes_read(),
        });
    }
    Ok(())
}

/// What becomes of one row of a batch.
enum Outcome {
    Add(Contact),
    Update(Contact, Version),
    Problem(RowProblem),
}

/// The writing side of one batch.
async fn write_batch<W: Write>(
    app: &App,
    tenant: &TenantId,
    plan: &ImportPlan,
    rows: Vec<Row>,
    report: &mut Report<W>,
    progress: &mut Progress,
) -> Result<(), ImportError> {
    progress.rows += rows.len() as u64;
    let ids: Vec<&ContactId> = rows
        .iter()
        .filter_map(|row| match row {
            Row::Draft { id, .. } => Some(id),
            Row::Problem { .. } => None,
        })
        .collect();
    let existing = lookup(app, ids.iter().map(|id| keys::contact(tenant, id))).await?;
    let suppressed = lookup(app, ids.iter().map(|id| keys::suppression(tenant, id))).await?;
    let now = app.clock.now();

    let mut lines: Vec<(u64, Outcome)> = Vec::with_capacity(rows.len());
    // Contacts that end up in the list, if the import fills one.
    let mut members: Vec<ContactId> = Vec::new();
    for row in rows {
        let (line, id, draft) = match row {
            Row::Problem { line, problem } => {
                lines.push((line, Outcome::Problem(problem)));
                continue;
            }
            Row::Draft { line, id, draft } => (line, id, draft),
        };
        // An unsubscribed, bounced or complained contact says why; an address
        // on the list without a contact (erased, or added by hand) too.
        let current = existing.get(&keys::contact(tenant, &id));
        let final_status = match current {
            Some(stored) => {
                let contact: Contact = stored.item.parse()?;
                contact.status.is_final().then_some(contact.status)
            }
            None => None,
        };
        let outcome = if let Some(status) = final_status {
            Outcome::Problem(RowProblem::Final(status))
        } else if suppressed.contains_key(&keys::suppression(tenant, &id)) {
            Outcome::Problem(RowProblem::Suppressed)
        } else {
            match current {
                Some(_) if plan.mode == ImportMode::Add => {
                    members.push(id);
                    Outcome::Problem(RowProblem::Exists)
                }
                Some(stored) => {
                    let contact: Contact = stored.item.parse()?;
                    let language = plan.mapping.language.is_some();
                    Outcome::Update(merged(contact, draft, language, now), stored.version)
                }
                None if plan.mode == ImportMode::Update => Outcome::Problem(RowProblem::NotFound),
                None => Outcome::Add(Contact::new(id, draft, now)),
            }
        };
        lines.push((line, outcome));
    }

    // Writes in key order; the outcome of each stays beside its line.
    let mut writes: Vec<(usize, Item, PutCondition)> = Vec::new();
    for (position, (_, outcome)) in lines.iter().enumerate() {
        let (contact, condition) = match outcome {
            Outcome::Add(contact) => (contact, PutCondition::NotExists),
            Outcome::Update(contact, version) => (contact, PutCondition::Version(*version)),
            Outcome::Problem(_) => continue,
        };
        let item = Item::new(keys::contact(tenant, &contact.id), contact)?
            .with_index(keys::contact_by_name(tenant, &contact.name_sort_key()));
        writes.push((position, item, condition));
    }
    writes.sort_by(|a, b| a.1.key.cmp(&b.1.key));
    let positions: Vec<usize> = writes.iter().map(|(p, _, _)| *p).collect();
    let results = app
        .store
        .put_each(writes.into_iter().map(|(_, i, c)| (i, c)).collect())
        .await?;
    for (position, result) in positions.into_iter().zip(results) {
        let outcome = &mut lines[position].1;
        match (result, &outcome) {
            (Ok(_), Outcome::Add(contact)) => {
                progress.added += 1;
                members.push(contact.id.clone());
            }
            (Ok(_), Outcome::Update(contact, _)) => {
                progress.updated += 1;
                members.push(contact.id.clone());
            }
            (Ok(_), Outcome::Problem(_)) => {}
            // Someone else wrote the contact between lookup and write.
            (Err(StoreError::ConditionFailed), Outcome::Add(_)) => {
                *outcome = Outcome::Problem(RowProblem::Exists);
            }
            (Err(StoreError::ConditionFailed), _) => {
                *outcome = Outcome::Problem(RowProblem::ChangedMeanwhile);
            }
            (Err(e), _) => return Err(e.into()),
        }
    }
    if let Some(list) = &plan.list {
        let mut writes: Vec<(Item, PutCondition)> = members
            .iter()
            .map(|id| {
                Ok((
                    lists::membership(tenant, list, id, now)?,
                    PutCondition::NotExists,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        writes.sort_by(|a, b| a.0.key.cmp(&b.0.key));
        let results = app.store.put_each(writes).await?;
        let mut added = 0;
        for result in results {
            match result {
                Ok(_) => added += 1,
                Err(StoreError::ConditionFailed) => {} // a member already
                Err(e) => return Err(e.into()),
            }
        }
        lists::count_added(app, tenant, list, added).await?;
    }
    for (line, outcome) in &lines {
        if let Outcome::Problem(problem) = outcome {
            progress.skipped += 1;
            report.row(*line, problem)?;
        }
    }
    Ok(())
}

/// The visible items under `keys`, by key, read a thousand at a time.
async fn lookup(
    app: &App,
    keys: impl Iterator<Item = Key>,
) -> Result<HashMap<Key, Stored>, StoreError> {
    let keys: Vec<Key> = keys.collect();
    let mut found = HashMap::new();
    for chunk in keys.chunks(MAX_BATCH_GET) {
        let items = app.store.get_many(chunk).await?;
        for (key, item) in chunk.iter().zip(items) {
            if let Some(item) = item {
                found.insert(key.clone(), item);
            }
        }
    }
    Ok(found)
}

/// An existing contact with what the row says: a filled cell replaces, an
/// empty one keeps (an empty language cell means German, as for new
/// contacts); the status never changes by import.
fn merged(
    mut contact: Contact,
    draft: ContactDraft,
    language_mapped: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Contact {
    if draft.salutation.is_some() {
        contact.salutation = draft.salutation;
    }
    if draft.first_name.is_some() {
        contact.first_name = draft.first_name;
    }
    if draft.last_name.is_some() {
        contact.last_name = draft.last_name;
    }
    if language_mapped {
        contact.language = draft.language;
    }
    contact.updated_at = now;
    contact
}
