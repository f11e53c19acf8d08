//! The local item store: one SQLite file (WAL) shaped like the DynamoDB
//! table, with the same conditions, ordering (UTF-8 bytes), cursors and
//! expiry rules as the cloud adapter. Items live in a rowid table, so new
//! items are appended rather than pushed into the middle of a large B-tree;
//! partition names are interned as small integers, and the primary key and
//! the secondary index are two indexes over that table.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{
    CachedStatement, Connection, OptionalExtension, Row, ToSql, TransactionBehavior, params,
    params_from_iter,
};

use super::store_cursor::{
    self, CursorKeys, check_item, check_item_into, check_json_item, check_key, check_transaction,
    expiry_from_secs, expiry_secs, merge_deltas, page_size,
};
use crate::ports::Clock;
use crate::ports::store::{
    Cursor, IndexKey, Item, ItemStore, JsonItem, Key, MAX_BATCH_GET, MAX_BATCH_PUT, Page,
    PutCondition, Query, StoreError, Stored, TxOp, Version, check_batch,
};

/// The schema: partition names (of the table and of the index) interned in
/// `partitions`; items in a rowid table with a unique index on their key,
/// a partial index for the secondary index (ties among items sharing an
/// index sort key are ordered by row id, which an item keeps for its life:
/// an explicit `INTEGER PRIMARY KEY` survives a VACUUM) and one on expiry
/// for the sweeper.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS partitions (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS items_v2 (
    id         INTEGER PRIMARY KEY,
    pk_id      INTEGER NOT NULL,
    sk         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    data       TEXT    NOT NULL,
    counters   TEXT    NOT NULL,
    expires_at INTEGER,
    gsi_pk_id  INTEGER,
    gsi_sk     TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS items_v2_key ON items_v2 (pk_id, sk);
CREATE INDEX IF NOT EXISTS items_v2_gsi1 ON items_v2 (gsi_pk_id, gsi_sk)
    WHERE gsi_pk_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_v2_expiry ON items_v2 (expires_at)
    WHERE expires_at IS NOT NULL;
";

/// Whether the file still holds the first schema: one WITHOUT ROWID table
/// `items` keyed by the partition and sort key as text.
const HAS_V1: &str = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'items'";

/// Moves every row of the first schema into [`SCHEMA`] and drops the old table.
const MIGRATE_V1: &str = "
INSERT OR IGNORE INTO partitions (name)
    SELECT pk FROM items UNION SELECT gsi1pk FROM items WHERE gsi1pk IS NOT NULL;
INSERT INTO items_v2 (pk_id, sk, version, data, counters, expires_at, gsi_pk_id, gsi_sk)
    SELECT p.id, i.sk, i.version, i.data, i.counters, i.expires_at, g.id, i.gsi1sk
    FROM items AS i
    JOIN partitions AS p ON p.name = i.pk
    LEFT JOIN partitions AS g ON g.name = i.gsi1pk
    ORDER BY i.pk, i.sk;
DROP TABLE items;
";

/// The columns an item is written to, in the order of the parameters of
/// the writes below.
macro_rules! columns {
    () => {
        "pk_id, sk, version, data, counters, expires_at, gsi_pk_id, gsi_sk"
    };
}
/// The columns of a row read back, in the order `Row9::read` reads them.
const COLUMNS: &str = concat!("id, ", columns!());
/// One row by its key.
const SELECT_ROW: &str = concat!(
    "SELECT id, ",
    columns!(),
    " FROM items_v2 WHERE pk_id = ?1 AND sk = ?2"
);
/// What a condition needs of a row: its version and expiry.
const SELECT_VERSION: &str =
    "SELECT version, expires_at FROM items_v2 WHERE pk_id = ?1 AND sk = ?2";
/// What an `add` needs of a row: where it is, its counters and expiry.
const SELECT_COUNTERS: &str =
    "SELECT id, counters, expires_at FROM items_v2 WHERE pk_id = ?1 AND sk = ?2";
const UPDATE_COUNTERS: &str = "UPDATE items_v2 SET counters = ?2 WHERE id = ?1";
const DELETE_ROW: &str = "DELETE FROM items_v2 WHERE pk_id = ?1 AND sk = ?2";

/// The three writes of a whole item, one statement each. They share their
/// parameters: ?1 to ?8 are the row (as in `columns!`), ?9 the current
/// second, ?10 the version the write expects; each takes the first 8, 9 or
/// 10 of them. A write changed a row exactly when its condition held.
///
/// No condition: insert, or replace the row in place.
const UPSERT: &str = concat!(
    "INSERT INTO items_v2 (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (pk_id, sk) DO UPDATE SET ",
    "version = excluded.version, data = excluded.data, counters = excluded.counters, ",
    "expires_at = excluded.expires_at, gsi_pk_id = excluded.gsi_pk_id, gsi_sk = excluded.gsi_sk"
);
/// `NotExists`: insert, or replace a row that has expired; a visible row stays.
const INSERT_ABSENT: &str = concat!(
    "INSERT INTO items_v2 (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (pk_id, sk) DO UPDATE SET ",
    "version = excluded.version, data = excluded.data, counters = excluded.counters, ",
    "expires_at = excluded.expires_at, gsi_pk_id = excluded.gsi_pk_id, gsi_sk = excluded.gsi_sk ",
    "WHERE items_v2.expires_at IS NOT NULL AND items_v2.expires_at <= ?9"
);
/// `Version`: replace the visible row of that version.
const REPLACE_VERSION: &str = "UPDATE items_v2 SET version = ?3, data = ?4, counters = ?5, \
    expires_at = ?6, gsi_pk_id = ?7, gsi_sk = ?8 \
    WHERE pk_id = ?1 AND sk = ?2 AND version = ?10 AND (expires_at IS NULL OR expires_at > ?9)";

/// The page size of a new store file. Bulk imports insert into both
/// indexes at scattered places, so every batch dirties a large part of
/// them; large pages make that far fewer pages to cache, write to the WAL
/// and checkpoint (measured: 64 KiB pages import about twice as fast as
/// 4 KiB ones). A file keeps the page size it was created with.
const PAGE_BYTES: i64 = 64 * 1024;
/// The page cache, in KiB (SQLite's default is 2 MiB): it keeps the
/// indexes' upper levels and many of their leaves in memory during an
/// import. Measured on the 1M-row import: 16 MiB imports as fast as 32 or
/// 64 MiB (once the indexes outgrow the cache, every batch touches nearly
/// all their leaves anyway, and the operating system caches the file),
/// at 13 MiB less peak memory; 8 MiB and less is slower.
const CACHE_KIB: i64 = 16 * 1024;
/// How much the WAL grows before a commit checkpoints it into the file
/// (SQLite's default is 4 MiB): fewer, larger checkpoints copy a page
/// dirtied by several batches once. After a checkpoint the WAL file is cut
/// back to this size.
const CHECKPOINT_BYTES: i64 = 256 * 1024 * 1024;

/// Statements kept prepared per connection: the fixed ones above plus the
/// few shapes of query `page_sql` builds.
const STATEMENT_CACHE: usize = 32;

/// The item store on a SQLite file. Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Mutex<Inner>>,
    clock: Arc<dyn Clock>,
}

/// The connection and what it knows of the file's partitions.
struct Inner {
    conn: Connection,
    partitions: Partitions,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (and creates, with its folder and schema) the store file at
    /// `path`. A file of the first schema is converted in one transaction.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Unavailable(format!("creating the data folder: {e}")))?;
        }
        let conn = Connection::open(path).map_err(sql_err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql_err)?;
        // Only a new file takes the page size, and only before WAL mode.
        conn.pragma_update(None, "page_size", PAGE_BYTES)
            .map_err(sql_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(sql_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "the store file refused WAL mode ({mode})"
            )));
        }
        // WAL with synchronous=NORMAL: a commit does not wait for the disk;
        // the WAL is synced at checkpoints. A crash of the process loses
        // nothing; a power cut may lose the last commits but never leaves
        // the file inconsistent. Acceptable for the local mode (production
        // runs on DynamoDB); temp_store and mmap stay at their defaults, as
        // mapped pages would count against the import's memory.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql_err)?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(sql_err)?;
        let page: i64 = conn
            .pragma_query_value(None, "page_size", |row| row.get(0))
            .map_err(sql_err)?;
        conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_BYTES / page)
            .map_err(sql_err)?;
        conn.pragma_update(None, "journal_size_limit", CHECKPOINT_BYTES)
            .map_err(sql_err)?;
        Self::with_connection(conn, clock)
    }

    /// A store that lives in memory only, for unit tests.
    pub fn in_memory(clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory().map_err(sql_err)?, clock)
    }

    fn with_connection(mut conn: Connection, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        tx.execute_batch(SCHEMA).map_err(sql_err)?;
        let v1: i64 = tx
            .query_row(HAS_V1, [], |row| row.get(0))
            .map_err(sql_err)?;
        if v1 > 0 {
            tx.execute_batch(MIGRATE_V1).map_err(sql_err)?;
        }
        tx.commit().map_err(sql_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                conn,
                partitions: Partitions::default(),
            })),
            clock,
        })
    }

    /// Deletes the items that have expired (they are invisible already);
    /// returns how many. The local server calls this now and then, as
    /// DynamoDB's TTL sweeper would.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        self.run(|inner, now| {
            inner
                .conn
                .execute(
                    "DELETE FROM items_v2 WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                    [now],
                )
                .map_err(sql_err)
        })
        .await
    }

    /// Runs blocking SQLite work off the async runtime, with the clock's
    /// current second.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Inner, i64) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let now = self.clock.now().timestamp();
        tokio::task::spawn_blocking(move || {
            let mut guard = inner.lock().unwrap_or_else(|poisoned| {
                // A panic mid-call left no open transaction (it rolls back
                // on drop), but may have left partitions remembered that
                // its transaction created: forget them all.
                inner.clear_poison();
                let mut guard = poisoned.into_inner();
                guard.partitions = Partitions::default();
                guard
            });
            work(&mut guard, now)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("the store task failed: {e}")))?
    }
}

fn sql_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Runs `work` in one write transaction: commits what it did when it
/// succeeds, rolls everything back when it fails. The partitions it created
/// are remembered only once they are committed.
fn write_tx<T>(
    inner: &mut Inner,
    work: impl FnOnce(&Connection, &mut Partitions) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let Inner { conn, partitions } = inner;
    let result = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err)
        .and_then(|tx| {
            let done = work(&tx, partitions)?;
            tx.commit().map_err(sql_err)?;
            Ok(done)
        });
    partitions.settle(result.is_ok());
    result
}

/// Partition names (of the table and the index) interned as integers.
/// They are never deleted and never renamed, so once an id is known it
/// stays right; only ids committed to the file are kept.
#[derive(Default)]
struct Partitions {
    ids: HashMap<String, i64>,
    names: HashMap<i64, String>,
    /// Ids created by the write transaction under way.
    created: Vec<i64>,
}

impl Partitions {
    /// The id of a partition, if the file has it.
    fn find(&mut self, conn: &Connection, name: &str) -> Result<Option<i64>, StoreError> {
        if let Some(id) = self.ids.get(name) {
            return Ok(Some(*id));
        }
        let id = conn
            .prepare_cached("SELECT id FROM partitions WHERE name = ?1")
            .map_err(sql_err)?
            .query_row([name], |row| row.get(0))
            .optional()
            .map_err(sql_err)?;
        if let Some(id) = id {
            self.remember(name, id);
        }
        Ok(id)
    }

    /// The id of a partition, created if the file has none yet. Only
    /// inside a write transaction (see [`write_tx`]).
    fn ensure(&mut self, conn: &Connection, name: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.find(conn, name)? {
            return Ok(id);
        }
        conn.prepare_cached("INSERT INTO partitions (name) VALUES (?1)")
            .map_err(sql_err)?
            .execute([name])
            .map_err(sql_err)?;
        let id = conn.last_insert_rowid();
        self.remember(name, id);
        self.created.push(id);
        Ok(id)
    }

    /// The name of a partition a stored row refers to.
    fn name(&mut self, conn: &Connection, id: i64) -> Result<String, StoreError> {
        if let Some(name) = self.names.get(&id) {
            return Ok(name.clone());
        }
        let name: String = conn
            .prepare_cached("SELECT name FROM partitions WHERE id = ?1")
            .map_err(sql_err)?
            .query_row([id], |row| row.get(0))
            .optional()
            .map_err(sql_err)?
            .ok_or_else(|| StoreError::Backend(format!("stored item in unknown partition {id}")))?;
        self.remember(&name, id);
        Ok(name)
    }

    fn remember(&mut self, name: &str, id: i64) {
        self.ids.insert(name.to_owned(), id);
        self.names.insert(id, name.to_owned());
    }

    /// Ends a write transaction: keeps the partitions it created when it
    /// committed, forgets them when it rolled back.
    fn settle(&mut self, committed: bool) {
        for id in self.created.drain(..) {
            if !committed && let Some(name) = self.names.remove(&id) {
                self.ids.remove(&name);
            }
        }
    }
}

/// The interned partitions of one item: its key's and its index key's.
#[derive(Debug, Clone, Copy)]
struct PartitionIds {
    pk: i64,
    gsi: Option<i64>,
}

impl PartitionIds {
    fn ensure(
        conn: &Connection,
        partitions: &mut Partitions,
        item: &Item,
    ) -> Result<Self, StoreError> {
        Self::ensure_keys(conn, partitions, &item.key, item.index.as_ref())
    }

    fn ensure_keys(
        conn: &Connection,
        partitions: &mut Partitions,
        key: &Key,
        index: Option<&IndexKey>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            pk: partitions.ensure(conn, key.pk())?,
            gsi: match index {
                Some(index) => Some(partitions.ensure(conn, index.pk())?),
                None => None,
            },
        })
    }
}

/// One row as stored.
struct Row9 {
    id: i64,
    pk_id: i64,
    sk: String,
    version: i64,
    data: String,
    counters: String,
    expires_at: Option<i64>,
    gsi_pk_id: Option<i64>,
    gsi_sk: Option<String>,
}

impl Row9 {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            pk_id: row.get(1)?,
            sk: row.get(2)?,
            version: row.get(3)?,
            data: row.get(4)?,
            counters: row.get(5)?,
            expires_at: row.get(6)?,
            gsi_pk_id: row.get(7)?,
            gsi_sk: row.get(8)?,
        })
    }

    fn visible(&self, now: i64) -> bool {
        store_cursor::visible(self.expires_at, now)
    }

    fn into_stored(
        self,
        conn: &Connection,
        partitions: &mut Partitions,
    ) -> Result<Stored, StoreError> {
        let index = match (self.gsi_pk_id, self.gsi_sk) {
            (Some(id), Some(sk)) => Some(IndexKey::from_storage(partitions.name(conn, id)?, sk)),
            _ => None,
        };
        Ok(Stored {
            item: Item {
                key: Key::from_storage(partitions.name(conn, self.pk_id)?, self.sk),
                data: serde_json::from_str(&self.data).map_err(corrupt)?,
                counters: serde_json::from_str(&self.counters).map_err(corrupt)?,
                expires_at: expiry_from_secs(self.expires_at)?,
                index,
            },
            // Versions are u64 stored bit for bit in SQLite's i64.
            version: Version(self.version as u64),
        })
    }
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("stored item: {e}"))
}

/// The visible item under `key`, read with a prepared [`SELECT_ROW`].
fn read_visible(
    select: &mut CachedStatement<'_>,
    conn: &Connection,
    partitions: &mut Partitions,
    key: &Key,
    now: i64,
) -> Result<Option<Stored>, StoreError> {
    let Some(pk_id) = partitions.find(conn, key.pk())? else {
        return Ok(None);
    };
    select
        .query_row(params![pk_id, key.sk()], Row9::read)
        .optional()
        .map_err(sql_err)?
        .filter(|row| row.visible(now))
        .map(|row| row.into_stored(conn, partitions))
        .transpose()
}

/// The visible item's version, if there is a visible item.
fn visible_version(
    conn: &Connection,
    partitions: &mut Partitions,
    key: &Key,
    now: i64,
) -> Result<Option<u64>, StoreError> {
    let Some(pk_id) = partitions.find(conn, key.pk())? else {
        return Ok(None);
    };
    let row = conn
        .prepare_cached(SELECT_VERSION)
        .map_err(sql_err)?
        .query_row(params![pk_id, key.sk()], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?))
        })
        .optional()
        .map_err(sql_err)?;
    // Versions are u64 stored bit for bit in SQLite's i64.
    Ok(row
        .filter(|(_, expires_at)| store_cursor::visible(*expires_at, now))
        .map(|(version, _)| version as u64))
}

fn condition_holds(current: Option<u64>, condition: PutCondition) -> bool {
    match condition {
        PutCondition::Always => true,
        PutCondition::NotExists => current.is_none(),
        PutCondition::Version(v) => current == Some(v.0),
    }
}

/// Writes whole items, one statement each, reusing its prepared statements
/// and its buffers for the JSON of data and counters.
struct Writer<'c> {
    conn: &'c Connection,
    /// [`UPSERT`], [`INSERT_ABSENT`] and [`REPLACE_VERSION`], once prepared.
    statements: [Option<CachedStatement<'c>>; 3],
    /// The JSON of the data of the item being written.
    data: Vec<u8>,
    counters: Vec<u8>,
    versions: Versions,
}

/// The versions one writer hands out: a random start, then counting up,
/// so a batch draws randomness once rather than per item. Versions of one
/// writer are distinct; versions of different writers collide as rarely as
/// random ones.
struct Versions {
    next: u64,
}

impl Versions {
    fn new() -> Self {
        Self {
            next: Version::fresh().0,
        }
    }

    fn draw(&mut self) -> Version {
        // Never zero, as `Version::fresh`.
        if self.next == 0 {
            self.next = 1;
        }
        let version = Version(self.next);
        self.next = self.next.wrapping_add(1);
        version
    }
}

impl<'c> Writer<'c> {
    fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            statements: [None, None, None],
            data: Vec::new(),
            counters: Vec::new(),
            versions: Versions::new(),
        }
    }

    /// Writes the item if the condition holds. The inner `Err` refuses this
    /// item alone (invalid, or its condition does not hold) and wrote
    /// nothing; the outer `Err` is a failure of the store.
    fn write(
        &mut self,
        ids: PartitionIds,
        item: &Item,
        condition: PutCondition,
        now: i64,
    ) -> Result<Result<Version, StoreError>, StoreError> {
        self.data.clear();
        if let Err(e) = serde_json::to_writer(&mut self.data, &item.data) {
            return Ok(Err(StoreError::InvalidItem(e.to_string())));
        }
        self.write_serialised(ids, item, condition, now)
    }

    /// As [`Writer::write`], for an item whose data `self.data` holds as
    /// JSON already (left there by `check_item_into`).
    fn write_serialised(
        &mut self,
        ids: PartitionIds,
        item: &Item,
        condition: PutCondition,
        now: i64,
    ) -> Result<Result<Version, StoreError>, StoreError> {
        self.counters.clear();
        if let Err(e) = serde_json::to_writer(&mut self.counters, &item.counters) {
            return Ok(Err(StoreError::InvalidItem(e.to_string())));
        }
        let Writer {
            conn,
            statements,
            data,
            counters,
            versions,
        } = self;
        let parts = RowParts {
            sk: item.key.sk(),
            data: utf8(data)?,
            counters: utf8(counters)?,
            expires_at: expiry_secs(item.expires_at),
            gsi_sk: item.index.as_ref().map(IndexKey::sk),
        };
        execute(conn, statements, versions, ids, &parts, condition, now)
    }

    /// Writes an item whose data is JSON text already (checked by
    /// `check_json_item`): no counters, no expiry.
    fn write_json(
        &mut self,
        ids: PartitionIds,
        item: &JsonItem,
        condition: PutCondition,
        now: i64,
    ) -> Result<Result<Version, StoreError>, StoreError> {
        let parts = RowParts {
            sk: item.key.sk(),
            data: item.json(),
            counters: "{}",
            expires_at: None,
            gsi_sk: item.index.as_ref().map(IndexKey::sk),
        };
        execute(
            self.conn,
            &mut self.statements,
            &mut self.versions,
            ids,
            &parts,
            condition,
            now,
        )
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, StoreError> {
    std::str::from_utf8(bytes).map_err(|e| StoreError::Backend(format!("JSON text: {e}")))
}

/// What a row holds besides its partitions and version.
struct RowParts<'a> {
    sk: &'a str,
    data: &'a str,
    counters: &'a str,
    expires_at: Option<i64>,
    gsi_sk: Option<&'a str>,
}

/// Runs the statement of `condition` for one row with a fresh version.
fn execute<'c>(
    conn: &'c Connection,
    statements: &mut [Option<CachedStatement<'c>>; 3],
    versions: &mut Versions,
    ids: PartitionIds,
    parts: &RowParts<'_>,
    condition: PutCondition,
    now: i64,
) -> Result<Result<Version, StoreError>, StoreError> {
    // Which statement, and how many of the parameters below it takes.
    let (slot, sql, taken, expected) = match condition {
        PutCondition::Always => (0, UPSERT, 8, None),
        PutCondition::NotExists => (1, INSERT_ABSENT, 9, None),
        PutCondition::Version(v) => (2, REPLACE_VERSION, 10, Some(v.0 as i64)),
    };
    let statement = match &mut statements[slot] {
        Some(statement) => statement,
        empty => empty.insert(conn.prepare_cached(sql).map_err(sql_err)?),
    };
    let version = versions.draw();
    // Versions are u64 stored bit for bit in SQLite's i64.
    let stored_version = version.0 as i64;
    let values: [&dyn ToSql; 10] = [
        &ids.pk,
        &parts.sk,
        &stored_version,
        &parts.data,
        &parts.counters,
        &parts.expires_at,
        &ids.gsi,
        &parts.gsi_sk,
        &now,
        &expected,
    ];
    let changed = statement.execute(&values[..taken]).map_err(sql_err)?;
    Ok(if changed == 1 {
        Ok(version)
    } else {
        Err(StoreError::ConditionFailed)
    })
}

/// The smallest byte string above every string that starts with `prefix`,
/// or none for the empty prefix. Compared byte-wise, as DynamoDB does.
fn prefix_end(prefix: &str) -> Option<Vec<u8>> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Where the next page starts, in the order of the rows read: after a
/// table sort key, or after an index sort key and, among the items sharing
/// it, after a row id.
#[derive(Debug, Clone, PartialEq, Eq)]
enum After {
    Table { sk: String },
    Index { isk: String, id: i64 },
}

/// Separates the row id an index cursor carries from the keys the cloud
/// adapter's cursor carries too (not a base64url character).
const ROW_ID_MARK: char = '.';

impl After {
    /// Reads a client's cursor and checks it belongs to `query`. A table
    /// cursor is the keys alone; an index cursor adds the row id of the
    /// last item, which orders the items sharing its index sort key.
    fn decode_for(cursor: &Cursor, query: &Query) -> Result<Self, StoreError> {
        if !query.on_index {
            let keys = CursorKeys::decode_for(cursor, query)?;
            return Ok(Self::Table { sk: keys.sk });
        }
        let (keys, id) = cursor
            .as_str()
            .rsplit_once(ROW_ID_MARK)
            .ok_or(StoreError::InvalidCursor)?;
        let id = id.parse().map_err(|_| StoreError::InvalidCursor)?;
        let keys = CursorKeys::decode_for(&Cursor::from_client(keys), query)?;
        Ok(Self::Index {
            isk: keys.isk.unwrap_or_default(),
            id,
        })
    }

    /// The cursor after the last row of a page.
    fn encode(last: &Stored, id: i64, on_index: bool) -> Cursor {
        let index = on_index.then_some(last.item.index.as_ref()).flatten();
        let keys = CursorKeys::after(&last.item.key, index).encode();
        if on_index {
            Cursor::from_adapter(format!("{}{ROW_ID_MARK}{id}", keys.as_str()))
        } else {
            keys
        }
    }
}

/// The SQL and parameters of one page of partition `part_id`: a key range
/// on the key index or on the secondary index, never a scan. Fetches one
/// row more than the page to know whether another page follows.
fn page_sql(
    query: &Query,
    part_id: i64,
    after: Option<&After>,
    now: i64,
    fetch: usize,
) -> (String, Vec<SqlValue>) {
    let (part, sort, order) = if query.on_index {
        ("gsi_pk_id", "gsi_sk", ["gsi_sk", "id"].as_slice())
    } else {
        ("pk_id", "sk", ["sk"].as_slice())
    };
    let dir = if query.descending { "DESC" } else { "ASC" };
    let mut sql = format!("SELECT {COLUMNS} FROM items_v2 WHERE {part} = ?1 AND {sort} >= ?2");
    let mut args = vec![
        SqlValue::Integer(part_id),
        SqlValue::Text(query.prefix.sk_prefix().to_owned()),
    ];
    if let Some(end) = prefix_end(query.prefix.sk_prefix()) {
        // The bound may not be valid UTF-8: bound as bytes, compared as text (memcmp).
        args.push(SqlValue::Blob(end));
        sql.push_str(&format!(" AND {sort} < CAST(?{} AS TEXT)", args.len()));
    }
    if let Some(after) = after {
        let cmp = if query.descending { "<" } else { ">" };
        let values = match after {
            After::Table { sk } => vec![SqlValue::Text(sk.clone())],
            After::Index { isk, id } => vec![SqlValue::Text(isk.clone()), SqlValue::Integer(*id)],
        };
        let first = args.len() + 1;
        args.extend(values);
        let slots: Vec<String> = (first..=args.len()).map(|i| format!("?{i}")).collect();
        sql.push_str(&format!(
            " AND ({}) {cmp} ({})",
            order.join(", "),
            slots.join(", ")
        ));
    }
    args.push(SqlValue::Integer(now));
    sql.push_str(&format!(
        " AND (expires_at IS NULL OR expires_at > ?{})",
        args.len()
    ));
    let order_by: Vec<String> = order.iter().map(|c| format!("{c} {dir}")).collect();
    args.push(SqlValue::Integer(fetch as i64));
    sql.push_str(&format!(
        " ORDER BY {} LIMIT ?{}",
        order_by.join(", "),
        args.len()
    ));
    (sql, args)
}

#[async_trait]
impl ItemStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        let key = key.clone();
        self.run(move |inner, now| {
            let Inner { conn, partitions } = inner;
            let mut select = conn.prepare_cached(SELECT_ROW).map_err(sql_err)?;
            read_visible(&mut select, conn, partitions, &key, now)
        })
        .await
    }

    async fn put(&self, item: Item, condition: PutCondition) -> Result<Version, StoreError> {
        check_item(&item)?;
        self.run(move |inner, now| {
            write_tx(inner, |conn, partitions| {
                let ids = PartitionIds::ensure(conn, partitions, &item)?;
                Writer::new(conn).write(ids, &item, condition, now)?
            })
        })
        .await
    }

    async fn add(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        check_key(key)?;
        let deltas = merge_deltas(deltas)?;
        let key = key.clone();
        self.run(move |inner, now| {
            write_tx(inner, |conn, partitions| {
                let pk_id = partitions.ensure(conn, key.pk())?;
                let visible = conn
                    .prepare_cached(SELECT_COUNTERS)
                    .map_err(sql_err)?
                    .query_row(params![pk_id, key.sk()], |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, Option<i64>>(2)?,
                        ))
                    })
                    .optional()
                    .map_err(sql_err)?
                    .filter(|(_, _, expires_at)| store_cursor::visible(*expires_at, now));
                let (rowid, mut counters) = match visible {
                    Some((rowid, counters, _)) => (
                        Some(rowid),
                        serde_json::from_str::<BTreeMap<String, i64>>(&counters)
                            .map_err(corrupt)?,
                    ),
                    None => (None, BTreeMap::new()),
                };
                let mut result = BTreeMap::new();
                for (name, delta) in deltas {
                    let value = counters.entry(name.clone()).or_default();
                    *value = value.checked_add(delta).ok_or_else(|| {
                        StoreError::InvalidItem(format!("counter {name} overflows"))
                    })?;
                    result.insert(name, *value);
                }
                match rowid {
                    // A visible item keeps everything but its counters, version included.
                    Some(rowid) => {
                        let counters = serde_json::to_string(&counters)
                            .map_err(|e| StoreError::InvalidItem(e.to_string()))?;
                        conn.prepare_cached(UPDATE_COUNTERS)
                            .map_err(sql_err)?
                            .execute(params![rowid, counters])
                            .map_err(sql_err)?;
                    }
                    None => {
                        let item = Item {
                            key,
                            data: serde_json::json!({}),
                            counters,
                            expires_at: None,
                            index: None,
                        };
                        let ids = PartitionIds {
                            pk: pk_id,
                            gsi: None,
                        };
                        Writer::new(conn).write(ids, &item, PutCondition::Always, now)??;
                    }
                }
                Ok(result)
            })
        })
        .await
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        let key = key.clone();
        self.run(move |inner, _| {
            let Inner { conn, partitions } = inner;
            if let Some(pk_id) = partitions.find(conn, key.pk())? {
                delete_row(conn, pk_id, key.sk())?;
            }
            Ok(())
        })
        .await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let after = query
            .cursor
            .as_ref()
            .map(|c| After::decode_for(c, &query))
            .transpose()?;
        let limit = page_size(&query);
        self.run(move |inner, now| {
            let Inner { conn, partitions } = inner;
            let Some(part_id) = partitions.find(conn, query.prefix.pk())? else {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                });
            };
            let (sql, args) = page_sql(&query, part_id, after.as_ref(), now, limit + 1);
            let rows = conn
                .prepare_cached(&sql)
                .map_err(sql_err)?
                .query_map(params_from_iter(args), Row9::read)
                .map_err(sql_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            let more = rows.len() > limit;
            let mut last_id = None;
            let items = rows
                .into_iter()
                .take(limit)
                .map(|row| {
                    last_id = Some(row.id);
                    row.into_stored(conn, partitions)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let next = match (items.last(), last_id) {
                (Some(last), Some(id)) if more => Some(After::encode(last, id, query.on_index)),
                _ => None,
            };
            Ok(Page { items, next })
        })
        .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        self.run(move |inner, now| {
            write_tx(inner, |conn, partitions| {
                // Every condition is judged on the state before the transaction.
                for op in &ops {
                    let condition = match op {
                        TxOp::Put { condition, .. }
                        | TxOp::Delete { condition, .. }
                        | TxOp::Check { condition, .. } => *condition,
                    };
                    let current = visible_version(conn, partitions, op.key(), now)?;
                    if !condition_holds(current, condition) {
                        return Err(StoreError::ConditionFailed);
                    }
                }
                let mut writer = Writer::new(conn);
                for op in &ops {
                    match op {
                        TxOp::Put { item, .. } => {
                            let ids = PartitionIds::ensure(conn, partitions, item)?;
                            writer.write(ids, item, PutCondition::Always, now)??;
                        }
                        TxOp::Delete { key, .. } => {
                            if let Some(pk_id) = partitions.find(conn, key.pk())? {
                                delete_row(conn, pk_id, key.sk())?;
                            }
                        }
                        TxOp::Check { .. } => {}
                    }
                }
                Ok(())
            })
        })
        .await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Stored>>, StoreError> {
        check_batch(keys.iter(), MAX_BATCH_GET)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = keys.to_vec();
        self.run(move |inner, now| {
            let Inner { conn, partitions } = inner;
            // One read transaction: every key is read from the same snapshot.
            let tx = conn.transaction().map_err(sql_err)?;
            let found = {
                let mut select = tx.prepare_cached(SELECT_ROW).map_err(sql_err)?;
                keys.iter()
                    .map(|key| read_visible(&mut select, &tx, partitions, key, now))
                    .collect::<Result<Vec<_>, _>>()?
            };
            tx.commit().map_err(sql_err)?;
            Ok(found)
        })
        .await
    }

    async fn put_each(
        &self,
        writes: Vec<(Item, PutCondition)>,
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
        check_batch(writes.iter().map(|(item, _)| &item.key), MAX_BATCH_PUT)?;
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        self.run(move |inner, now| {
            write_tx(inner, |conn, partitions| {
                let mut writer = Writer::new(conn);
                let mut results = Vec::with_capacity(writes.len());
                // Each item is dropped as soon as it is written.
                for (item, condition) in writes {
                    results.push(put_one(
                        conn,
                        partitions,
                        &mut writer,
                        &item,
                        condition,
                        now,
                    )?);
                }
                Ok(results)
            })
        })
        .await
    }

    async fn put_each_json(
        &self,
        writes: Vec<(JsonItem, PutCondition)>,
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
        check_batch(writes.iter().map(|(item, _)| &item.key), MAX_BATCH_PUT)?;
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        self.run(move |inner, now| {
            write_tx(inner, |conn, partitions| {
                let mut writer = Writer::new(conn);
                let mut results = Vec::with_capacity(writes.len());
                // Each item is dropped as soon as it is written.
                for (item, condition) in writes {
                    if let Err(invalid) = check_json_item(&item) {
                        results.push(Err(invalid));
                        continue;
                    }
                    let ids = PartitionIds::ensure_keys(
                        conn,
                        partitions,
                        &item.key,
                        item.index.as_ref(),
                    )?;
                    results.push(writer.write_json(ids, &item, condition, now)?);
                }
                Ok(results)
            })
        })
        .await
    }
}

fn delete_row(conn: &Connection, pk_id: i64, sk: &str) -> Result<(), StoreError> {
    conn.prepare_cached(DELETE_ROW)
        .map_err(sql_err)?
        .execute(params![pk_id, sk])
        .map_err(sql_err)?;
    Ok(())
}

/// One write of a batch, inside its transaction: the inner `Err` refuses
/// this item alone (invalid, or its condition does not hold) and writes
/// nothing; the outer `Err` fails the whole batch.
fn put_one(
    conn: &Connection,
    partitions: &mut Partitions,
    writer: &mut Writer<'_>,
    item: &Item,
    condition: PutCondition,
    now: i64,
) -> Result<Result<Version, StoreError>, StoreError> {
    if let Err(invalid) = check_item_into(item, &mut writer.data) {
        return Ok(Err(invalid));
    }
    let ids = PartitionIds::ensure(conn, partitions, item)?;
    writer.write_serialised(ids, item, condition, now)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::json;

    use super::*;
    use crate::domain::TenantId;
    use crate::ports::ManualClock;
    use crate::ports::store::keys::scratch;

    #[test]
    fn a_writer_never_hands_out_version_zero_even_when_counting_wraps() {
        let mut versions = Versions { next: u64::MAX };
        assert_eq!(versions.draw(), Version(u64::MAX));
        assert_eq!(versions.draw(), Version(1));
        assert_eq!(versions.draw(), Version(2));
    }

    #[tokio::test]
    async fn every_write_of_a_batch_gets_a_version_of_its_own_and_reads_back_with_it() {
        let (store, _) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        let writes: Vec<(Item, PutCondition)> = (0..50)
            .map(|i| {
                let item = Item::new(scratch::key(&t, &format!("v-{i:02}")), &json!({"i": i}));
                (item.unwrap(), PutCondition::NotExists)
            })
            .collect();
        let keys: Vec<Key> = writes.iter().map(|(item, _)| item.key.clone()).collect();
        let versions: Vec<Version> = store
            .put_each(writes)
            .await
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let distinct: std::collections::HashSet<Version> = versions.iter().copied().collect();
        assert_eq!(distinct.len(), versions.len());
        let stored = store.get_many(&keys).await.unwrap();
        for (read, written) in stored.into_iter().zip(&versions) {
            assert_eq!(read.unwrap().version, *written);
        }
    }

    #[tokio::test]
    async fn items_written_as_json_text_read_back_as_items_written_as_trees() {
        let (store, _) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        let data = json!({"name": "Jörg \"J\" Weiß", "n": [1, 2.5, null], "ok": true});
        let index = scratch::index(&t, "g", "weiss|joerg");
        let as_tree = Item::new(scratch::key(&t, "tree"), &data)
            .unwrap()
            .with_index(index.clone());
        let as_text = JsonItem::new(scratch::key(&t, "text"), &data)
            .unwrap()
            .with_index(index.clone());
        store
            .put(as_tree.clone(), PutCondition::NotExists)
            .await
            .unwrap();
        let results = store
            .put_each_json(vec![(as_text.clone(), PutCondition::NotExists)])
            .await
            .unwrap();
        let version = results[0].clone().unwrap();

        let read = store.get(&as_text.key).await.unwrap().unwrap();
        assert_eq!(read.version, version);
        assert_eq!(
            read.item,
            Item {
                key: as_text.key.clone(),
                ..as_tree.clone()
            }
        );
        let page = store
            .query(Query::index(scratch::index_prefix(&t, "g", "weiss")))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2, "both are in the index");

        // Conditions hold as for trees: the item exists now.
        let again = store
            .put_each_json(vec![
                (as_text.clone(), PutCondition::NotExists),
                (
                    as_text.clone().with_index(index),
                    PutCondition::Version(version),
                ),
            ])
            .await;
        assert_eq!(again, Err(StoreError::DuplicateInBatch));
        let again = store
            .put_each_json(vec![(as_text, PutCondition::NotExists)])
            .await
            .unwrap();
        assert_eq!(again, [Err(StoreError::ConditionFailed)]);
    }

    #[tokio::test]
    async fn an_invalid_json_item_is_refused_alone_and_the_rest_are_written() {
        let (store, _) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        let mut deep = json!(1);
        // One level deeper than DynamoDB's limit of 32.
        for _ in 0..=32 {
            deep = json!([deep]);
        }
        let writes = vec![
            (
                JsonItem::new(scratch::key(&t, "a"), &json!({"a": 1})).unwrap(),
                PutCondition::NotExists,
            ),
            (
                JsonItem::new(scratch::key(&t, "b"), &deep).unwrap(),
                PutCondition::NotExists,
            ),
            (
                JsonItem::new(scratch::key(&t, "c"), &json!({"c": 1e200})).unwrap(),
                PutCondition::Always,
            ),
        ];
        let results = store.put_each_json(writes).await.unwrap();
        assert!(results[0].is_ok());
        assert!(matches!(results[1], Err(StoreError::InvalidItem(_))));
        assert!(matches!(results[2], Err(StoreError::InvalidItem(_))));
        assert!(store.get(&scratch::key(&t, "b")).await.unwrap().is_none());
        assert!(store.get(&scratch::key(&t, "a")).await.unwrap().is_some());
    }

    fn store() -> (SqliteStore, ManualClock) {
        let clock = ManualClock::new(DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        let store = SqliteStore::in_memory(Arc::new(clock.clone())).unwrap();
        (store, clock)
    }

    fn count(store: &SqliteStore, sql: &str) -> i64 {
        let inner = store.inner.lock().unwrap();
        inner.conn.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    fn plan(query: &Query, after: Option<&After>) -> String {
        let (store, _) = store();
        let (sql, args) = page_sql(query, 1, after, 0, 11);
        let inner = store.inner.lock().unwrap();
        let mut stmt = inner
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows = stmt
            .query_map(params_from_iter(args), |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows.join("\n")
    }

    #[test]
    fn the_end_of_a_prefix_is_the_next_byte_string() {
        assert_eq!(prefix_end("ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end("a\u{7f}"), Some(b"a\x80".to_vec()));
        assert_eq!(prefix_end("é"), Some(vec![0xC3, 0xAA]));
        assert_eq!(prefix_end(""), None);
    }

    #[test]
    fn a_prefix_query_searches_a_key_range_and_never_scans() {
        let t = TenantId::parse("tenant-a").unwrap();
        let table = Query::table(scratch::prefix(&t, "item-"));
        let index = Query::index(scratch::index_prefix(&t, "group", "s-"));
        let after_table = After::Table {
            sk: "scratch#item-3".into(),
        };
        let after_index = After::Index {
            isk: "s-3".into(),
            id: 7,
        };
        for (query, after) in [
            (&table, None),
            (&table, Some(&after_table)),
            (&table.clone().descending(), Some(&after_table)),
            (&index, None),
            (&index, Some(&after_index)),
            (&index.clone().descending(), Some(&after_index)),
        ] {
            let plan = plan(query, after);
            assert!(plan.starts_with("SEARCH"), "{plan}");
            assert!(!plan.contains("SCAN"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
            let expected = if query.on_index {
                "items_v2_gsi1"
            } else {
                "items_v2_key"
            };
            assert!(plan.contains(expected), "{plan}");
            assert!(plan.contains(">") && plan.contains("<"), "{plan}");
        }
    }

    #[tokio::test]
    async fn a_store_file_is_created_with_its_folder_and_reopens_with_its_items() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("items.db");
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Utc::now()));
        let key = scratch::key(&TenantId::parse("tenant-a").unwrap(), "kept");
        {
            let store = SqliteStore::open(&path, Arc::clone(&clock)).unwrap();
            let item = Item::new(key.clone(), &json!({"n": 1})).unwrap();
            store.put(item, PutCondition::Always).await.unwrap();
        }
        let store = SqliteStore::open(&path, clock).unwrap();
        let stored = store.get(&key).await.unwrap().unwrap();
        assert_eq!(stored.item.data, json!({"n": 1}));
    }

    #[test]
    fn a_new_store_file_has_large_pages_a_large_cache_and_checkpoints_rarely() {
        let dir = tempfile::tempdir().unwrap();
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Utc::now()));
        let store = SqliteStore::open(&dir.path().join("items.db"), clock).unwrap();
        let inner = store.inner.lock().unwrap();
        let pragma = |name: &str| -> i64 {
            inner
                .conn
                .pragma_query_value(None, name, |row| row.get(0))
                .unwrap()
        };
        assert_eq!(pragma("page_size"), 65536);
        assert_eq!(pragma("cache_size"), -16384, "16 MiB");
        assert_eq!(
            pragma("wal_autocheckpoint"),
            4096,
            "256 MiB of 64 KiB pages"
        );
        assert_eq!(pragma("journal_size_limit"), 256 * 1024 * 1024);
    }

    #[test]
    fn an_existing_store_file_keeps_its_page_size_and_checkpoints_by_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small-pages.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA page_size = 4096; CREATE TABLE t (x);")
            .unwrap();
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Utc::now()));
        let store = SqliteStore::open(&path, clock).unwrap();
        let inner = store.inner.lock().unwrap();
        let pragma = |name: &str| -> i64 {
            inner
                .conn
                .pragma_query_value(None, name, |row| row.get(0))
                .unwrap()
        };
        assert_eq!(pragma("page_size"), 4096);
        assert_eq!(pragma("wal_autocheckpoint"), 65536);
    }

    /// The first schema, as the adapter created it before items moved to a
    /// rowid table with interned partitions.
    const SCHEMA_V1: &str = "
        CREATE TABLE items (
            pk TEXT NOT NULL, sk TEXT NOT NULL, version INTEGER NOT NULL,
            data TEXT NOT NULL, counters TEXT NOT NULL, expires_at INTEGER,
            gsi1pk TEXT, gsi1sk TEXT,
            PRIMARY KEY (pk, sk)
        ) WITHOUT ROWID;
        CREATE INDEX items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
        CREATE INDEX items_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
    ";

    #[tokio::test]
    async fn a_store_file_of_the_first_schema_is_converted_on_open_with_all_its_items() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let a = TenantId::parse("tenant-a").unwrap();
        let b = TenantId::parse("tenant-b").unwrap();
        let indexed = scratch::index(&a, "group", "s-1");
        let now = 1_800_000_000;
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            let mut insert = conn
                .prepare("INSERT INTO items VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
                .unwrap();
            let mut row = |key: Key, version: i64, counters: &str, expires_at, index| {
                let index: Option<&IndexKey> = index;
                insert
                    .execute(params![
                        key.pk(),
                        key.sk(),
                        version,
                        json!({ "name": key.sk() }).to_string(),
                        counters,
                        expires_at,
                        index.map(IndexKey::pk),
                        index.map(IndexKey::sk),
                    ])
                    .unwrap();
            };
            row(
                scratch::key(&a, "one"),
                7,
                r#"{"sent":3}"#,
                None,
                Some(&indexed),
            );
            row(scratch::key(&a, "two"), -5, "{}", Some(now + 60), None);
            row(scratch::key(&b, "one"), 9, "{}", Some(now - 60), None);
        }
        let clock = ManualClock::new(DateTime::from_timestamp(now, 0).unwrap());
        let store = SqliteStore::open(&path, Arc::new(clock)).unwrap();

        let one = store.get(&scratch::key(&a, "one")).await.unwrap().unwrap();
        assert_eq!(one.version, Version(7));
        assert_eq!(one.item.data, json!({ "name": "scratch#one" }));
        assert_eq!(one.item.counters, BTreeMap::from([("sent".into(), 3)]));
        assert_eq!(one.item.index, Some(indexed));
        let two = store.get(&scratch::key(&a, "two")).await.unwrap().unwrap();
        assert_eq!(
            two.version,
            Version(-5_i64 as u64),
            "versions keep every bit"
        );
        assert_eq!(
            two.item.expires_at,
            DateTime::from_timestamp(now + 60, 0),
            "expiry is kept"
        );
        assert_eq!(
            store.get(&scratch::key(&b, "one")).await.unwrap(),
            None,
            "an expired item stays invisible"
        );
        let on_index = store
            .query(Query::index(scratch::index_prefix(&a, "group", "")))
            .await
            .unwrap();
        assert_eq!(on_index.items, [one]);
        assert_eq!(count(&store, HAS_V1), 0, "the old table is gone");
        assert_eq!(count(&store, "SELECT count(*) FROM items_v2"), 3);
        assert_eq!(store.purge_expired().await.unwrap(), 1);
        drop(store);

        // Reopening converts nothing twice.
        let clock = ManualClock::new(DateTime::from_timestamp(now, 0).unwrap());
        let store = SqliteStore::open(&path, Arc::new(clock)).unwrap();
        assert_eq!(count(&store, "SELECT count(*) FROM items_v2"), 2);
    }

    #[tokio::test]
    async fn a_failed_write_to_a_new_partition_leaves_no_partition_behind() {
        let (store, _) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        let item = Item::new(scratch::key(&t, "x"), &json!({}))
            .unwrap()
            .with_index(scratch::index(&t, "group", "s"));
        let stale = PutCondition::Version(Version(42));
        assert_eq!(
            store.put(item.clone(), stale).await,
            Err(StoreError::ConditionFailed)
        );
        assert_eq!(count(&store, "SELECT count(*) FROM partitions"), 0);
        {
            let inner = store.inner.lock().unwrap();
            assert!(inner.partitions.ids.is_empty(), "no id is remembered");
            assert!(inner.conn.is_autocommit(), "no transaction is left open");
        }
        // A later write creates the partitions again and reads back whole.
        let version = store.put(item.clone(), PutCondition::Always).await.unwrap();
        let stored = store.get(&item.key).await.unwrap().unwrap();
        assert_eq!(stored, Stored { item, version });
        assert_eq!(count(&store, "SELECT count(*) FROM partitions"), 2);
    }

    #[tokio::test]
    async fn a_write_that_panics_leaves_no_partition_remembered() {
        let (store, _) = store();
        let failed = store
            .run(|inner, _| {
                write_tx(inner, |conn, partitions| -> Result<(), StoreError> {
                    partitions.ensure(conn, "tenant-a")?;
                    panic!("a bug in the middle of a write");
                })
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Backend(_))), "{failed:?}");
        let remembered = store
            .run(|inner, _| Ok(inner.partitions.ids.len()))
            .await
            .unwrap();
        assert_eq!(remembered, 0);
        assert_eq!(count(&store, "SELECT count(*) FROM partitions"), 0);
    }

    #[tokio::test]
    async fn index_ties_across_partitions_are_each_read_once_across_pages() {
        let (store, _) = store();
        let a = TenantId::parse("tenant-a").unwrap();
        let b = TenantId::parse("tenant-b").unwrap();
        // Partition b is interned first, so ids and names order differently.
        for (t, name) in [(&b, "2"), (&a, "1"), (&b, "1"), (&a, "2")] {
            let item = Item::new(scratch::key(t, name), &json!({}))
                .unwrap()
                .with_index(scratch::index(&a, "same", "tie"));
            store.put(item, PutCondition::Always).await.unwrap();
        }
        for query in [
            Query::index(scratch::index_prefix(&a, "same", "")).limit(1),
            Query::index(scratch::index_prefix(&a, "same", ""))
                .limit(1)
                .descending(),
        ] {
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let page = store
                    .query(query.clone().after(cursor.take()))
                    .await
                    .unwrap();
                seen.extend(page.items.into_iter().map(|s| s.item.key));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            seen.sort();
            let mut all = [(&a, "1"), (&a, "2"), (&b, "1"), (&b, "2")]
                .map(|(t, name)| scratch::key(t, name))
                .to_vec();
            all.sort();
            assert_eq!(seen, all, "{query:?}");
        }
    }

    #[tokio::test]
    async fn an_index_page_continues_after_its_last_item_even_when_that_item_is_gone() {
        let (store, _) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        for name in ["a", "b", "c", "d"] {
            let item = Item::new(scratch::key(&t, name), &json!({}))
                .unwrap()
                .with_index(scratch::index(&t, "same", "tie"));
            store.put(item, PutCondition::Always).await.unwrap();
        }
        let query = Query::index(scratch::index_prefix(&t, "same", "")).limit(2);
        let first = store.query(query.clone()).await.unwrap();
        let last = first.items.last().unwrap().item.key.clone();
        store.delete(&last).await.unwrap();
        let second = store.query(query.after(first.next)).await.unwrap();
        let mut seen: Vec<Key> = first
            .items
            .into_iter()
            .chain(second.items)
            .map(|s| s.item.key)
            .collect();
        seen.sort();
        let all = ["a", "b", "c", "d"].map(|name| scratch::key(&t, name));
        assert_eq!(
            seen, all,
            "each item once, the deleted one on the first page"
        );
        assert_eq!(second.next, None);
    }

    #[tokio::test]
    async fn an_index_cursor_without_its_row_id_is_refused() {
        let (store, _) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        for name in ["a", "b"] {
            let item = Item::new(scratch::key(&t, name), &json!({}))
                .unwrap()
                .with_index(scratch::index(&t, "group", name));
            store.put(item, PutCondition::Always).await.unwrap();
        }
        let query = Query::index(scratch::index_prefix(&t, "group", "")).limit(1);
        let next = store.query(query.clone()).await.unwrap().next.unwrap();
        let (keys, id) = next.as_str().rsplit_once(ROW_ID_MARK).unwrap();
        assert!(id.parse::<i64>().is_ok(), "{}", next.as_str());
        for raw in [keys.to_owned(), format!("{keys}.x"), format!("{keys}.")] {
            let cursor = Some(Cursor::from_client(raw));
            assert_eq!(
                store.query(query.clone().after(cursor)).await,
                Err(StoreError::InvalidCursor)
            );
        }
    }

    #[tokio::test]
    async fn a_query_of_a_partition_never_written_is_empty() {
        let (store, _) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        for query in [
            Query::table(scratch::prefix(&t, "")),
            Query::index(scratch::index_prefix(&t, "group", "")),
        ] {
            let page = store.query(query).await.unwrap();
            assert!(page.items.is_empty() && page.next.is_none());
        }
        assert_eq!(count(&store, "SELECT count(*) FROM partitions"), 0);
    }

    #[tokio::test]
    async fn a_batch_write_keeps_the_writes_whose_conditions_hold_in_one_commit() {
        let (store, _) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        let taken = scratch::key(&t, "taken");
        store
            .put(
                Item::new(taken.clone(), &json!({"n": 0})).unwrap(),
                PutCondition::Always,
            )
            .await
            .unwrap();
        let writes = ["a", "taken", "b"]
            .map(|name| {
                let item = Item::new(scratch::key(&t, name), &json!({"n": 1})).unwrap();
                (item, PutCondition::NotExists)
            })
            .to_vec();
        let answers = store.put_each(writes).await.unwrap();
        assert!(answers[0].is_ok() && answers[2].is_ok());
        assert_eq!(answers[1], Err(StoreError::ConditionFailed));
        assert!(store.inner.lock().unwrap().conn.is_autocommit());
        assert_eq!(count(&store, "SELECT count(*) FROM items_v2"), 3);
        let kept = store.get(&taken).await.unwrap().unwrap();
        assert_eq!(
            kept.item.data,
            json!({"n": 0}),
            "the refused write changed nothing"
        );
    }

    #[tokio::test]
    async fn a_write_replaces_an_item_in_place_and_keeps_one_row_per_key() {
        let (store, clock) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        let key = scratch::key(&t, "x");
        let rowid = || count(&store, "SELECT rowid FROM items_v2 WHERE sk = 'scratch#x'");
        let soon = clock.now() + chrono::Duration::seconds(5);
        let first = Item::new(key.clone(), &json!({"n": 1}))
            .unwrap()
            .expiring_at(soon);
        let v1 = store.put(first, PutCondition::NotExists).await.unwrap();
        let row = rowid();
        let second = Item::new(key.clone(), &json!({"n": 2})).unwrap();
        let v2 = store.put(second, PutCondition::Version(v1)).await.unwrap();
        assert_ne!(v1, v2);
        let third = Item::new(key.clone(), &json!({"n": 3}))
            .unwrap()
            .expiring_at(soon);
        store.put(third, PutCondition::Always).await.unwrap();
        clock.advance(chrono::Duration::seconds(5));
        let fourth = Item::new(key.clone(), &json!({"n": 4})).unwrap();
        store.put(fourth, PutCondition::NotExists).await.unwrap();
        assert_eq!(rowid(), row);
        assert_eq!(count(&store, "SELECT count(*) FROM items_v2"), 1);
        let stored = store.get(&key).await.unwrap().unwrap();
        assert_eq!(stored.item.data, json!({"n": 4}));
        assert_eq!(stored.item.expires_at, None);
    }

    #[tokio::test]
    async fn purging_removes_only_expired_items() {
        let (store, clock) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        let soon = clock.now() + chrono::Duration::seconds(10);
        for (name, expiry) in [("short", Some(soon)), ("long", None)] {
            let mut item = Item::new(scratch::key(&t, name), &json!({})).unwrap();
            item.expires_at = expiry;
            store.put(item, PutCondition::Always).await.unwrap();
        }
        assert_eq!(store.purge_expired().await.unwrap(), 0);
        clock.advance(chrono::Duration::seconds(10));
        assert_eq!(store.purge_expired().await.unwrap(), 1);
        let left = store
            .query(Query::table(scratch::prefix(&t, "")))
            .await
            .unwrap();
        assert_eq!(left.items.len(), 1);
        assert_eq!(left.items[0].item.key, scratch::key(&t, "long"));
    }
}
