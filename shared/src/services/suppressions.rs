//! The tenant's suppression list (Sperrliste): addresses that must never be
//! mailed — unsubscribed, hard-bounced, complained, erased, or added by
//! hand. An entry is keyed by the contact id its address has (a keyed
//! hash), so an erased person's entry keeps no address at all and still
//! stops their address from coming back by import or sign-up without a new
//! opt-in. Sending checks the list for every recipient.
//!
//! The list travels as CSV both ways: [`export_csv`] writes it for German
//! Excel (erased entries show only their hash), [`import_csv`] reads a file
//! of addresses (one per row) and puts each valid one on the list as a
//! manual entry, reporting every row it skipped. An address on the list
//! for a reason its owner can undo (unsubscribed, erased: a new opt-in
//! lifts those) becomes a manual entry, as staff importing a block list
//! expect; bounces and complaints keep their reason.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{ContactId, EmailAddress, EmailAddressError, TenantId, UserId};
use crate::import::source::{self, Record, RecordReader, SourceError};
use crate::ports::store::{
    Cursor, Item, MAX_BATCH_GET, MAX_PAGE_SIZE, PutCondition, Query, StoreError, keys,
};
use crate::services::tenants::{self, TenantError};

/// Why an address is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    Unsubscribed,
    Bounced,
    Complained,
    /// The person's data was erased (GDPR Art. 17); only the hash is left.
    Erased,
    /// Added by staff.
    Manual,
}

impl SuppressionReason {
    /// Whether the person can lift the entry by a new opt-in: an import
    /// of a block list turns such entries into manual ones.
    pub fn is_reopenable(self) -> bool {
        matches!(self, Self::Unsubscribed | Self::Erased)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub id: ContactId,
    /// The address, except for erased people.
    pub email: Option<EmailAddress>,
    pub reason: SuppressionReason,
    pub added_at: DateTime<Utc>,
    pub added_by: Option<UserId>,
}

#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("this address is not on the suppression list")]
    NotFound,
    #[error(
        "only entries added by hand can be removed; the others record a person's decision or a failed delivery"
    )]
    NotRemovable,
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SuppressionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Self::InvalidCursor,
            other => Self::Store(other),
        }
    }
}

/// Puts the address with this contact id on the list (an entry already
/// there stays as it is, with its first reason; an erasure always wins,
/// dropping any address kept).
pub async fn add(
    app: &App,
    tenant: &TenantId,
    id: &ContactId,
    email: Option<&EmailAddress>,
    reason: SuppressionReason,
    added_by: Option<UserId>,
) -> Result<Suppression, SuppressionError> {
    let key = keys::suppression(tenant, id);
    let entry = Suppression {
        id: id.clone(),
        email: if reason == SuppressionReason::Erased {
            None
        } else {
            email.cloned()
        },
        reason,
        added_at: app.clock.now(),
        added_by,
    };
    let condition = if reason == SuppressionReason::Erased {
        PutCondition::Always
    } else {
        PutCondition::NotExists
    };
    match app
        .store
        .put(Item::new(key.clone(), &entry)?, condition)
        .await
    {
        Ok(_) => Ok(entry),
        Err(StoreError::ConditionFailed) => {
            let stored = app
                .store
                .get(&key)
                .await?
                .ok_or(SuppressionError::NotFound)?;
            Ok(stored.item.parse()?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds an address by hand.
pub async fn add_address(
    app: &App,
    tenant: &TenantId,
    email: &EmailAddress,
    added_by: UserId,
) -> Result<Suppression, SuppressionError> {
    tenants::get_active(app, tenant).await?;
    let id = app.pseudonyms.contact_id(tenant, email);
    add(
        app,
        tenant,
        &id,
        Some(email),
        SuppressionReason::Manual,
        Some(added_by),
    )
    .await
}

/// The entry for this address, if it is on the list.
pub async fn find(
    app: &App,
    tenant: &TenantId,
    email: &EmailAddress,
) -> Result<Option<Suppression>, SuppressionError> {
    let id = app.pseudonyms.contact_id(tenant, email);
    match app.store.get(&keys::suppression(tenant, &id)).await? {
        Some(stored) => Ok(Some(stored.item.parse()?)),
        None => Ok(None),
    }
}

/// Whether the contact with this id must not be mailed.
pub async fn is_suppressed(
    app: &App,
    tenant: &TenantId,
    id: &ContactId,
) -> Result<bool, SuppressionError> {
    Ok(app
        .store
        .get(&keys::suppression(tenant, id))
        .await?
        .is_some())
}

/// One page of the list.
pub async fn list(
    app: &App,
    tenant: &TenantId,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Suppression>, Option<Cursor>), SuppressionError> {
    tenants::get(app, tenant).await?;
    let page = app
        .store
        .query(
            Query::table(keys::suppressions(tenant))
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let entries = page
        .items
        .iter()
        .map(|s| s.item.parse())
        .collect::<Result<Vec<Suppression>, _>>()?;
    Ok((entries, page.next))
}

/// Removes an entry added by hand; the others cannot be removed.
pub async fn remove(app: &App, tenant: &TenantId, id: &ContactId) -> Result<(), SuppressionError> {
    tenants::get_active(app, tenant).await?;
    let key = keys::suppression(tenant, id);
    let stored = app
        .store
        .get(&key)
        .await?
        .ok_or(SuppressionError::NotFound)?;
    let entry: Suppression = stored.item.parse()?;
    if entry.reason != SuppressionReason::Manual {
        return Err(SuppressionError::NotRemovable);
    }
    app.store.delete(&key).await?;
    Ok(())
}

// ---------------------------------------------------------------------
// CSV export and import

/// The largest file an import takes: 10 MiB (API Gateway's own limit for a
/// request body), some 300,000 addresses.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// The most entries one download holds. The file is built in memory (about
/// 80 bytes an entry: 8 MB at the bound); suppression lists are small next
/// to contact lists, and a longer one is refused with a clear error rather
/// than cut short.
pub const MAX_EXPORT_ENTRIES: usize = 100_000;

/// The most row problems an import report lists one by one; all of them
/// are counted.
pub const MAX_REPORTED_PROBLEMS: usize = 1_000;

/// Addresses looked up and written together during an import.
const IMPORT_BATCH: usize = MAX_BATCH_GET;

/// What can go wrong moving the list in or out as CSV.
#[derive(Debug, thiserror::Error)]
pub enum SuppressionTransferError {
    #[error(transparent)]
    List(#[from] SuppressionError),
    #[error("the file is empty")]
    EmptyFile,
    #[error("the file is larger than {limit} bytes; split it into smaller files")]
    TooLarge { limit: usize },
    #[error("the file cannot be read as CSV: {0}")]
    Unreadable(String),
    #[error(
        "the suppression list has more than {max} entries, too many for one download; ask the operator for a full export"
    )]
    TooManyEntries { max: usize },
}

impl From<StoreError> for SuppressionTransferError {
    fn from(e: StoreError) -> Self {
        Self::List(e.into())
    }
}

impl From<TenantError> for SuppressionTransferError {
    fn from(e: TenantError) -> Self {
        Self::List(e.into())
    }
}

/// A reason as the CSV and the page name it.
pub fn reason_label(reason: SuppressionReason) -> &'static str {
    match reason {
        SuppressionReason::Unsubscribed => "Abgemeldet",
        SuppressionReason::Bounced => "Unzustellbar (Bounce)",
        SuppressionReason::Complained => "Beschwerde",
        SuppressionReason::Erased => "Gelöscht (Art. 17)",
        SuppressionReason::Manual => "Von Hand eingetragen",
    }
}

/// What the address column shows for an erased person.
pub const ERASED_ADDRESS: &str = "gelöscht (nur Hashwert)";

/// The header of the exported file.
pub const EXPORT_HEADER: [&str; 4] = ["E-Mail-Adresse", "Grund", "Eingetragen am", "Kennung"];

/// The whole list as CSV for German Excel (UTF-8 with BOM, `;`, cells that
/// Excel would run made inert): address (or [`ERASED_ADDRESS`]), reason,
/// the time it was added (Berlin), and the entry's id (the keyed hash the
/// list is keyed by). Answers the file and the number of entries.
#[tracing::instrument(skip(app))]
pub async fn export_csv(
    app: &App,
    tenant: &TenantId,
) -> Result<(Vec<u8>, usize), SuppressionTransferError> {
    tenants::get(app, tenant).await?;
    let mut out = crate::excel::writer(Vec::new()).map_err(write_failed)?;
    out.write_record(EXPORT_HEADER).map_err(write_failed)?;
    let mut count = 0usize;
    let mut cursor = None;
    loop {
        let (entries, next) = list(app, tenant, MAX_PAGE_SIZE, cursor).await?;
        for entry in entries {
            count += 1;
            if count > MAX_EXPORT_ENTRIES {
                return Err(SuppressionTransferError::TooManyEntries {
                    max: MAX_EXPORT_ENTRIES,
                });
            }
            let address = entry
                .email
                .as_ref()
                .map_or_else(|| ERASED_ADDRESS.to_owned(), ToString::to_string);
            let added = entry
                .added_at
                .with_timezone(&chrono_tz::Europe::Berlin)
                .format("%d.%m.%Y %H:%M")
                .to_string();
            let cells = [
                address.as_str(),
                reason_label(entry.reason),
                added.as_str(),
                entry.id.as_str(),
            ];
            out.write_record(
                cells
                    .map(crate::excel::excel_safe)
                    .iter()
                    .map(|c| c.as_ref()),
            )
            .map_err(write_failed)?;
        }
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let bytes = out.into_inner().map_err(write_failed)?;
    tracing::info!(%tenant, entries = count, "suppression list exported");
    Ok((bytes, count))
}

/// Writing into memory failed (it does not, short of running out of it).
fn write_failed(e: impl std::fmt::Display) -> SuppressionTransferError {
    SuppressionError::Store(StoreError::Backend(format!("writing the CSV: {e}"))).into()
}

/// Why a row of an import was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowIssueCode {
    /// Not a valid e-mail address.
    InvalidEmail,
    /// The same address came earlier in the file.
    Duplicate,
    /// The row has no address.
    Blank,
    /// The row is longer than the reader keeps (64 KiB).
    TooLong,
}

/// One skipped row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowIssue {
    /// The line of the file the row starts on (1 = the first line).
    pub line: u64,
    pub code: RowIssueCode,
    /// In German, for the person who made the file.
    pub reason: String,
}

/// The outcome of an import. Valid rows are on the list when it is
/// answered; rows with problems were skipped and are named here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuppressionImportReport {
    /// Rows read after the header (blank ones included).
    pub rows: u64,
    /// Addresses newly put on the list (reason `manual`).
    pub added: u64,
    /// Addresses on the list already as manual entries, or for a bounce or
    /// a complaint: they keep their entry and its reason.
    pub already_listed: u64,
    /// Addresses on the list already because the person unsubscribed or
    /// was erased: now manual entries (by the importing user).
    pub upgraded: u64,
    /// Rows skipped, counted.
    pub skipped: u64,
    /// The first [`MAX_REPORTED_PROBLEMS`] skipped rows, in file order.
    pub problems: Vec<RowIssue>,
    /// Whether more rows were skipped than `problems` lists.
    pub problems_truncated: bool,
}

impl SuppressionImportReport {
    fn skip(&mut self, line: u64, code: RowIssueCode, reason: impl Into<String>) {
        self.skipped += 1;
        if self.problems.len() < MAX_REPORTED_PROBLEMS {
            self.problems.push(RowIssue {
                line,
                code,
                reason: reason.into(),
            });
        } else {
            self.problems_truncated = true;
        }
    }
}

/// Whether a header cell names the address column.
fn is_address_header(cell: &str) -> bool {
    let cell = cell.trim().to_lowercase().replace([' ', '_'], "-");
    matches!(
        cell.as_str(),
        "e-mail"
            | "email"
            | "e-mail-adresse"
            | "email-adresse"
            | "e-mailadresse"
            | "emailadresse"
            | "adresse"
            | "mail"
            | "e-mail-address"
            | "email-address"
    )
}

/// An address cell: trimmed, and an apostrophe that an Excel-safe export
/// put before `=`, `+`, `-` or `@` taken off again.
fn address_cell(cell: &str) -> &str {
    let cell = cell.trim();
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => cell,
    }
}

fn email_problem(e: &EmailAddressError) -> &'static str {
    match e {
        EmailAddressError::Empty => "keine Adresse",
        EmailAddressError::TooLong => "Adresse länger als 254 Zeichen",
        EmailAddressError::LocalPartTooLong => "Teil vor dem @ länger als 64 Zeichen",
        EmailAddressError::Quoted => "Anführungszeichen vor dem @",
        EmailAddressError::IpLiteral => "IP-Adresse statt Domain",
        EmailAddressError::NoDotInDomain => "Domain ohne Punkt",
        EmailAddressError::NonAsciiLocalPart => "Umlaute oder Sonderzeichen vor dem @",
        EmailAddressError::InvalidDomain => "ungültige Domain",
        EmailAddressError::Invalid => "keine gültige E-Mail-Adresse",
    }
}

/// A valid address waiting for its batch: its line and its entry id.
struct Pending {
    email: EmailAddress,
    id: ContactId,
}

/// Reads a CSV file of addresses and puts each valid one on the list as a
/// `manual` entry by `added_by`. Encoding (UTF-8 with or without BOM, or
/// Windows-1252) and separator are detected as for contact imports. The
/// address is in the column headed E-Mail / E-Mail-Adresse / Adresse (any
/// case), else in the first column; then a first row with an `@` in that
/// column is data, not a header.
///
/// The file is read as a stream, in batches of 1,000 rows: valid rows are
/// added as they come, rows with problems are skipped and reported with
/// their line. An address on the list already as unsubscribed or erased
/// becomes a manual entry (`upgraded`); any other entry stays as it is.
/// The caller bounds the size ([`MAX_IMPORT_BYTES`]).
#[tracing::instrument(skip(app, file), fields(bytes = file.len()))]
pub async fn import_csv(
    app: &App,
    tenant: &TenantId,
    added_by: UserId,
    file: &[u8],
) -> Result<SuppressionImportReport, SuppressionTransferError> {
    tenants::get_active(app, tenant).await?;
    if file.len() > MAX_IMPORT_BYTES {
        return Err(SuppressionTransferError::TooLarge {
            limit: MAX_IMPORT_BYTES,
        });
    }
    let sniffed = source::sniff(file, 0).map_err(|e| match e {
        SourceError::Empty => SuppressionTransferError::EmptyFile,
        other => SuppressionTransferError::Unreadable(other.to_string()),
    })?;
    let column = sniffed.header.iter().position(|h| is_address_header(h));
    // No header names the column: a first row with an @ in its first cell
    // is an address (valid or not), anything else a header.
    let header_is_data = column.is_none()
        && sniffed
            .header
            .first()
            .is_some_and(|first| first.contains('@'));
    let column = column.unwrap_or(0);

    let mut reader = RecordReader::new(file, sniffed.encoding, sniffed.separator);
    let mut record = Record::new();
    let mut report = SuppressionImportReport::default();
    let mut seen: HashSet<u128> = HashSet::new();
    let mut batch: Vec<Pending> = Vec::with_capacity(IMPORT_BATCH);
    let mut first = true;
    loop {
        let more = reader
            .read(&mut record)
            .map_err(|e| SuppressionTransferError::Unreadable(e.to_string()))?;
        if more {
            let is_header = std::mem::take(&mut first) && !header_is_data;
            if !is_header {
                read_row(
                    app,
                    tenant,
                    &record,
                    column,
                    &mut report,
                    &mut seen,
                    &mut batch,
                );
            }
        }
        if batch.len() >= IMPORT_BATCH || (!more && !batch.is_empty()) {
            write_batch(app, tenant, added_by, &mut batch, &mut report).await?;
        }
        if !more {
            break;
        }
    }
    tracing::info!(
        %tenant,
        rows = report.rows,
        added = report.added,
        already = report.already_listed,
        upgraded = report.upgraded,
        skipped = report.skipped,
        "suppression list imported"
    );
    Ok(report)
}

/// Checks one data row: a valid address not seen before joins the batch,
/// anything else is reported.
fn read_row(
    app: &App,
    tenant: &TenantId,
    record: &Record,
    column: usize,
    report: &mut SuppressionImportReport,
    seen: &mut HashSet<u128>,
    batch: &mut Vec<Pending>,
) {
    report.rows += 1;
    let line = record.line();
    if record.too_long() {
        report.skip(line, RowIssueCode::TooLong, "Zeile länger als 64 KiB");
        return;
    }
    let cell = record.get(column).map(address_cell).unwrap_or_default();
    if cell.is_empty() {
        report.skip(line, RowIssueCode::Blank, "keine Adresse in der Zeile");
        return;
    }
    let email = match EmailAddress::parse(cell) {
        Ok(email) => email,
        Err(e) => {
            report.skip(line, RowIssueCode::InvalidEmail, email_problem(&e));
            return;
        }
    };
    let id = app.pseudonyms.contact_id(tenant, &email);
    let fingerprint = u128::from_str_radix(id.as_str(), 16).unwrap_or_default();
    if !seen.insert(fingerprint) {
        report.skip(
            line,
            RowIssueCode::Duplicate,
            "Adresse kam weiter oben in der Datei schon vor",
        );
        return;
    }
    batch.push(Pending { email, id });
}

/// What a write of a batch is for.
#[derive(Clone, Copy)]
enum WriteKind {
    Add,
    Upgrade,
}

/// Puts the batch's addresses that are not on the list yet on it, and
/// turns entries of reopenable reasons into manual ones. Each write is
/// conditioned on what was read (absence, or the entry's version), so an
/// entry written meanwhile is read again and judged once more.
async fn write_batch(
    app: &App,
    tenant: &TenantId,
    added_by: UserId,
    batch: &mut Vec<Pending>,
    report: &mut SuppressionImportReport,
) -> Result<(), SuppressionTransferError> {
    let now = app.clock.now();
    // An entry that changed between the read and the write (rare: a
    // concurrent bounce or erasure) is judged again, at most twice.
    for _ in 0..3 {
        if batch.is_empty() {
            return Ok(());
        }
        let entry_keys: Vec<_> = batch
            .iter()
            .map(|p| keys::suppression(tenant, &p.id))
            .collect();
        let found = app.store.get_many(&entry_keys).await?;
        let mut writes = Vec::new();
        let mut written = Vec::new();
        for (pending, existing) in batch.drain(..).zip(found) {
            let (condition, kind, email) = match existing {
                None => (
                    PutCondition::NotExists,
                    WriteKind::Add,
                    Some(pending.email.clone()),
                ),
                Some(stored) => {
                    let entry: Suppression = stored.item.parse()?;
                    if !entry.reason.is_reopenable() {
                        report.already_listed += 1;
                        continue;
                    }
                    // An erased person stays a hash: the file's address is
                    // not stored again.
                    let email = if entry.reason == SuppressionReason::Erased {
                        None
                    } else {
                        Some(pending.email.clone())
                    };
                    (
                        PutCondition::Version(stored.version),
                        WriteKind::Upgrade,
                        email,
                    )
                }
            };
            let entry = Suppression {
                id: pending.id.clone(),
                email,
                reason: SuppressionReason::Manual,
                added_at: now,
                added_by: Some(added_by),
            };
            writes.push((
                Item::new(keys::suppression(tenant, &entry.id), &entry)?,
                condition,
            ));
            written.push((pending, kind));
        }
        if writes.is_empty() {
            return Ok(());
        }
        for ((pending, kind), result) in written.into_iter().zip(app.store.put_each(writes).await?)
        {
            match (result, kind) {
                (Ok(_), WriteKind::Add) => report.added += 1,
                (Ok(_), WriteKind::Upgrade) => report.upgraded += 1,
                (Err(StoreError::ConditionFailed), _) => batch.push(pending),
                (Err(e), _) => return Err(e.into()),
            }
        }
    }
    // Still changing after three reads: leave those entries as they are.
    report.already_listed += batch.len() as u64;
    batch.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_headers_of_an_address_column_are_recognised() {
        for header in [
            "E-Mail",
            "e-mail",
            "Email",
            "E-Mail-Adresse",
            " Adresse ",
            "E_Mail",
        ] {
            assert!(is_address_header(header), "{header}");
        }
        for header in ["Name", "Vorname", "E-Mail-Kennung", ""] {
            assert!(!is_address_header(header), "{header}");
        }
    }

    #[test]
    fn the_apostrophe_of_an_excel_safe_export_is_taken_off_again() {
        assert_eq!(address_cell("'=x@example.de"), "=x@example.de");
        assert_eq!(address_cell(" '-x@example.de "), "-x@example.de");
        assert_eq!(address_cell("'x@example.de"), "'x@example.de");
        assert_eq!(address_cell("x@example.de"), "x@example.de");
    }

    #[test]
    fn only_the_first_problems_are_listed_but_all_are_counted() {
        let mut report = SuppressionImportReport::default();
        for line in 0..(MAX_REPORTED_PROBLEMS as u64 + 5) {
            report.skip(line, RowIssueCode::Blank, "leer");
        }
        assert_eq!(report.problems.len(), MAX_REPORTED_PROBLEMS);
        assert_eq!(report.skipped, MAX_REPORTED_PROBLEMS as u64 + 5);
        assert!(report.problems_truncated);
    }
}
