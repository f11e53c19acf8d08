//! Running an import: the file is read on a blocking thread (decode, split,
//! validate, derive each contact's id, drop repeats) while the store writes
//! the previous batch, so parsing and writing overlap. Each batch looks up
//! the contacts and suppression entries it touches, in key order, in one
//! `get_many` per thousand rows and writes its contacts in key order with
//! one `put_each_json` (contacts serialised straight to JSON text).
//! Memory stays bounded: two batches in flight (the one being written and
//! the next, ready) and the ids seen, 8 bytes each in one sorted vector.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::mapping::{ColumnMapping, RowProblem, draft_from};
use super::source::{Record, RecordReader, Separator, SourceError, TextEncoding};
use crate::App;
use crate::domain::{Contact, ContactDraft, ContactId, ContactStatus, ListId, TenantId};
use crate::ports::store::{
    Item, JsonItem, Key, MAX_BATCH_GET, PutCondition, StoreError, Stored, Version, keys,
};
use crate::services::lists;

/// Rows per batch: each batch is one write transaction, and once the
/// store's indexes outgrow its cache every commit rewrites nearly all
/// their leaves (and every lookup pass reads them), so fewer, larger
/// batches import faster; but the two batches in flight take about 1.2 KB
/// a row. Measured on 1M rows (2 cores): 20,000 rows gave 92–98k rows/s,
/// 30,000 gives 104–106k at 87–90 MiB peak, 50,000 about 115k at 160 MiB.
pub const BATCH_ROWS: usize = 30_000;

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
///
/// A batch is filled only once the channel has room for it: while the
/// writing side works on one batch, the next waits ready, and no third
/// one is read (it would only take memory).
fn read_batches<R: Read>(
    app: &App,
    tenant: &TenantId,
    input: R,
    plan: &ImportPlan,
    sender: &tokio::sync::mpsc::Sender<Batch>,
) -> Result<(), ImportError> {
    let runtime = tokio::runtime::Handle::current();
    let mut reader = RecordReader::new(input, plan.encoding, plan.separator);
    let mut record = Record::new();
    let mut seen = SeenIds::default();
    let mut more = true;
    while more {
        let Ok(room) = runtime.block_on(sender.reserve()) else {
            return Ok(());
        };
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        while rows.len() < BATCH_ROWS {
            if !reader.read(&mut record)? {
                more = false;
                break;
            }
            if record.index() == 0 {
                continue; // the header
            }
            let line = record.line();
            rows.push(match draft_from(&record, &plan.mapping, plan.new_status) {
                Ok(draft) => {
                    let id = app.pseudonyms.contact_id(tenant, &draft.email);
                    Row::Draft { line, id, draft }
                }
                Err(problem) => Row::Problem { line, problem },
            });
        }
        if !rows.is_empty() {
            seen.mark_repeats(&mut rows);
            room.send(Batch {
                rows,
                bytes_read: reader.bytes_read(),
            });
        }
    }
    Ok(())
}

/// The contact ids the rows of earlier batches carried, as one sorted
/// vector of fingerprints: the first 64 of an id's 128 bits. 8 bytes an
/// id, so a million rows take 8 MB (the whole ids would take twice that,
/// a hash set about six times).
///
/// Ids are keyed hashes, evenly spread, so two different addresses share
/// a fingerprint by chance only: in a file of n distinct addresses with
/// probability about n² / 2⁶⁵ (1 in 37 million for a million rows). Then
/// the later row is reported as a duplicate of the file, with its line,
/// and can be imported again. Repeats within a batch are compared whole.
#[derive(Default)]
struct SeenIds {
    sorted: Vec<u64>,
}

impl SeenIds {
    /// Turns every row of `rows` whose contact an earlier row (of this
    /// batch or of an earlier one) carried into a `DuplicateInFile`
    /// problem, and remembers the ids of the others.
    fn mark_repeats(&mut self, rows: &mut [Row]) {
        // (id, position), sorted: the first row of an id comes first.
        let mut ids: Vec<(u128, usize)> = rows
            .iter()
            .enumerate()
            .filter_map(|(position, row)| match row {
                Row::Draft { id, .. } => Some((id_bits(id), position)),
                Row::Problem { .. } => None,
            })
            .collect();
        ids.sort_unstable();
        let mut fresh: Vec<u64> = Vec::with_capacity(ids.len());
        let mut previous = None;
        for (bits, position) in ids {
            let print = fingerprint(bits);
            if previous == Some(bits) || self.sorted.binary_search(&print).is_ok() {
                let line = match &rows[position] {
                    Row::Draft { line, .. } | Row::Problem { line, .. } => *line,
                };
                rows[position] = Row::Problem {
                    line,
                    problem: RowProblem::DuplicateInFile,
                };
            } else if fresh.last() != Some(&print) {
                fresh.push(print);
            }
            previous = Some(bits);
        }
        self.merge(&fresh);
    }

    /// Merges sorted fingerprints that are not in the set yet, in place
    /// from the back: no second vector. The set grows by an eighth at a
    /// time, not by doubling: it is the largest thing an import keeps.
    fn merge(&mut self, fresh: &[u64]) {
        let old = self.sorted.len();
        let wanted = old + fresh.len();
        if wanted > self.sorted.capacity() {
            self.sorted.reserve_exact(fresh.len().max(old / 8));
        }
        self.sorted.resize(wanted, 0);
        let (mut i, mut j, mut k) = (old, fresh.len(), self.sorted.len());
        while j > 0 {
            k -= 1;
            if i > 0 && self.sorted[i - 1] > fresh[j - 1] {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = fresh[j - 1];
                j -= 1;
            }
        }
    }
}

/// A contact id's 128 bits (an id is 32 hex digits).
fn id_bits(id: &ContactId) -> u128 {
    u128::from_str_radix(id.as_str(), 16).expect("an id is hex")
}

/// What the set of seen ids keeps of an id: its first 64 bits.
fn fingerprint(bits: u128) -> u64 {
    (bits >> 64) as u64
}

/// What becomes of one row of a batch. A contact is boxed: most rows of
/// a batch carry one, and inline it would make every row as large.
enum Outcome {
    Add(Box<Contact>),
    Update(Box<Contact>, Version),
    /// Handed to the store: a new contact (`added`) or an update.
    Written {
        id: ContactId,
        added: bool,
    },
    Problem(RowProblem),
}

/// The writing side of one batch. Reads and writes go in key order (the
/// order of the contact ids), so that neighbouring keys share pages.
async fn write_batch<W: Write>(
    app: &App,
    tenant: &TenantId,
    plan: &ImportPlan,
    rows: Vec<Row>,
    report: &mut Report<W>,
    progress: &mut Progress,
) -> Result<(), ImportError> {
    progress.rows += rows.len() as u64;
    // The positions of the rows with a draft, in the order of their ids.
    let mut order: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter_map(|(position, row)| matches!(row, Row::Draft { .. }).then_some(position))
        .collect();
    let id_of = |position: usize| match &rows[position] {
        Row::Draft { id, .. } => id,
        Row::Problem { .. } => unreachable!("only rows with a draft are ordered"),
    };
    order.sort_unstable_by(|a, b| id_of(*a).as_str().cmp(id_of(*b).as_str()));
    // What the store holds for each row with a draft, in the order of
    // `order`; `rank` finds a row's place in it.
    let contact_keys = order.iter().map(|p| keys::contact(tenant, id_of(*p)));
    // Boxed: in a fresh tenant nearly all are `None`, which then takes a
    // word instead of the size of an item.
    let mut existing = lookup(app, contact_keys, |stored| stored.map(Box::new)).await?;
    let suppression_keys = order.iter().map(|p| keys::suppression(tenant, id_of(*p)));
    let suppressed = lookup(app, suppression_keys, |stored| stored.is_some()).await?;
    let mut rank = vec![usize::MAX; rows.len()];
    for (place, position) in order.iter().enumerate() {
        rank[*position] = place;
    }
    let now = app.clock.now();

    let mut lines: Vec<(u64, Outcome)> = Vec::with_capacity(rows.len());
    // Contacts that end up in the list, if the import fills one.
    let mut members: Vec<ContactId> = Vec::new();
    for (row, place) in rows.into_iter().zip(rank) {
        let (line, id, draft) = match row {
            Row::Problem { line, problem } => {
                lines.push((line, Outcome::Problem(problem)));
                continue;
            }
            Row::Draft { line, id, draft } => (line, id, draft),
        };
        let suppressed = suppressed[place];
        let current = existing[place]
            .take()
            .map(|stored| Ok::<_, StoreError>((stored.item.parse::<Contact>()?, stored.version)))
            .transpose()?;
        // An unsubscribed, bounced or complained contact says why; an address
        // on the list without a contact (erased, or added by hand) too.
        let final_status = current
            .as_ref()
            .and_then(|(contact, _)| contact.status.is_final().then_some(contact.status));
        let outcome = if let Some(status) = final_status {
            Outcome::Problem(RowProblem::Final(status))
        } else if suppressed {
            Outcome::Problem(RowProblem::Suppressed)
        } else {
            match current {
                Some(_) if plan.mode == ImportMode::Add => {
                    members.push(id);
                    Outcome::Problem(RowProblem::Exists)
                }
                Some((contact, version)) => {
                    let language = plan.mapping.language.is_some();
                    Outcome::Update(Box::new(merged(contact, draft, language, now)), version)
                }
                None if plan.mode == ImportMode::Update => Outcome::Problem(RowProblem::NotFound),
                None => Outcome::Add(Box::new(Contact::new(id, draft, now))),
            }
        };
        lines.push((line, outcome));
    }

    // Writes in key order; each contact is dropped once its item is built.
    let mut positions: Vec<usize> = Vec::with_capacity(order.len());
    // Straight to JSON text: a tree per contact would take several times
    // the memory of the batch.
    let mut writes: Vec<(JsonItem, PutCondition)> = Vec::with_capacity(order.len());
    for position in order {
        let outcome = &mut lines[position].1;
        let (contact, condition, added) =
            match std::mem::replace(outcome, Outcome::Problem(RowProblem::DuplicateInFile)) {
                Outcome::Add(contact) => (contact, PutCondition::NotExists, true),
                Outcome::Update(contact, version) => {
                    (contact, PutCondition::Version(version), false)
                }
                other => {
                    *outcome = other;
                    continue;
                }
            };
        let item = JsonItem::new(keys::contact(tenant, &contact.id), &contact)?
            .with_index(keys::contact_by_name(tenant, &contact.name_sort_key()));
        *outcome = Outcome::Written {
            id: contact.id,
            added,
        };
        positions.push(position);
        writes.push((item, condition));
    }
    let results = app.store.put_each_json(writes).await?;
    for (position, result) in positions.into_iter().zip(results) {
        let outcome = &mut lines[position].1;
        let Outcome::Written { id, added } = outcome else {
            unreachable!("only written rows have a result");
        };
        match result {
            Ok(_) => {
                if *added {
                    progress.added += 1;
                } else {
                    progress.updated += 1;
                }
                members.push(id.clone());
            }
            // Someone else wrote the contact between lookup and write.
            Err(StoreError::ConditionFailed) if *added => {
                *outcome = Outcome::Problem(RowProblem::Exists);
            }
            Err(StoreError::ConditionFailed) => {
                *outcome = Outcome::Problem(RowProblem::ChangedMeanwhile);
            }
            Err(e) => return Err(e.into()),
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

/// What `keep` makes of the visible item under each of `keys` (`None`
/// where there is none), in the order of `keys`, read a thousand at a time.
async fn lookup<T>(
    app: &App,
    mut keys: impl Iterator<Item = Key>,
    keep: impl Fn(Option<Stored>) -> T,
) -> Result<Vec<T>, StoreError> {
    let mut found = Vec::with_capacity(keys.size_hint().0);
    loop {
        let chunk: Vec<Key> = keys.by_ref().take(MAX_BATCH_GET).collect();
        if chunk.is_empty() {
            return Ok(found);
        }
        found.extend(app.store.get_many(&chunk).await?.into_iter().map(&keep));
    }
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
    // A filled attribute cell replaces the value; an empty one keeps it.
    contact.attributes.extend(draft.attributes);
    contact.updated_at = now;
    contact
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;

    /// A row whose contact id is `print` twice over: 64 bits each.
    fn draft(line: u64, print: u64) -> Row {
        draft_with_bits(line, (u128::from(print) << 64) | u128::from(print))
    }

    fn draft_with_bits(line: u64, bits: u128) -> Row {
        Row::Draft {
            line,
            id: ContactId::parse(&format!("{bits:032x}")).unwrap(),
            draft: ContactDraft::new(EmailAddress::parse(&format!("k{line}@example.de")).unwrap()),
        }
    }

    fn blank(line: u64) -> Row {
        Row::Problem {
            line,
            problem: RowProblem::Blank,
        }
    }

    /// Each row as (line, whether it still carries a draft).
    fn kept(rows: &[Row]) -> Vec<(u64, bool)> {
        rows.iter()
            .map(|row| match row {
                Row::Draft { line, .. } => (*line, true),
                Row::Problem { line, problem } => {
                    assert!(matches!(
                        problem,
                        RowProblem::DuplicateInFile | RowProblem::Blank
                    ));
                    (*line, false)
                }
            })
            .collect()
    }

    #[test]
    fn a_repeat_within_a_batch_is_a_duplicate_only_after_its_first_row() {
        let mut seen = SeenIds::default();
        let mut rows = vec![draft(2, 9), draft(3, 4), blank(4), draft(5, 9), draft(6, 4)];
        seen.mark_repeats(&mut rows);
        assert_eq!(
            kept(&rows),
            [(2, true), (3, true), (4, false), (5, false), (6, false)]
        );
    }

    #[test]
    fn a_repeat_of_an_earlier_batch_is_a_duplicate() {
        let mut seen = SeenIds::default();
        let mut first = vec![draft(2, 30), draft(3, 10), draft(4, 20)];
        seen.mark_repeats(&mut first);
        let mut second = vec![draft(5, 15), draft(6, 20), draft(7, u64::MAX), draft(8, 0)];
        seen.mark_repeats(&mut second);
        let mut third = vec![draft(9, 0), draft(10, 15), draft(11, 25), draft(12, 30)];
        seen.mark_repeats(&mut third);
        assert_eq!(kept(&first), [(2, true), (3, true), (4, true)]);
        assert_eq!(kept(&second), [(5, true), (6, false), (7, true), (8, true)]);
        assert_eq!(
            kept(&third),
            [(9, false), (10, false), (11, true), (12, false)]
        );
    }

    #[test]
    fn the_seen_ids_stay_sorted_and_once_each_across_merges() {
        let mut seen = SeenIds::default();
        for batch in [[7u64, 3, 11], [1, 12, 5], [3, 6, 13]] {
            let mut rows: Vec<Row> = batch.iter().map(|id| draft(1, *id)).collect();
            seen.mark_repeats(&mut rows);
        }
        assert_eq!(seen.sorted, [1, 3, 5, 6, 7, 11, 12, 13]);
    }

    #[test]
    fn ids_sharing_a_fingerprint_are_told_apart_within_a_batch_only() {
        let mut seen = SeenIds::default();
        let (a, b) = ((5u128 << 64) | 1, (5u128 << 64) | 2);
        let mut first = vec![draft_with_bits(2, a), draft_with_bits(3, b)];
        seen.mark_repeats(&mut first);
        assert_eq!(kept(&first), [(2, true), (3, true)]);
        assert_eq!(seen.sorted, [5], "one fingerprint for both");
        // In a later batch only the fingerprint is known: the documented
        // chance of a false repeat.
        let mut second = vec![draft_with_bits(4, (5u128 << 64) | 3)];
        seen.mark_repeats(&mut second);
        assert_eq!(kept(&second), [(4, false)]);
    }
}
