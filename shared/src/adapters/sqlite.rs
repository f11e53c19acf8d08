//! The local item store: one SQLite file (WAL) holding one table shaped like
//! the DynamoDB table, with the same conditions, ordering (UTF-8 bytes),
//! cursors and expiry rules as the cloud adapter.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{
    Connection, OptionalExtension, Row, Statement, TransactionBehavior, params, params_from_iter,
};

use super::store_cursor::{
    self, CursorKeys, check_item, check_key, check_transaction, expiry_from_secs, expiry_secs,
    merge_deltas, page_size,
};
use crate::ports::Clock;
use crate::ports::store::{
    IndexKey, Item, ItemStore, Key, MAX_BATCH_GET, MAX_BATCH_PUT, Page, PutCondition, Query,
    StoreError, Stored, TxOp, Version, check_batch,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk         TEXT    NOT NULL,
    sk         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    data       TEXT    NOT NULL,
    counters   TEXT    NOT NULL,
    expires_at INTEGER,
    gsi1pk     TEXT,
    gsi1sk     TEXT,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk)
    WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_expiry ON items (expires_at)
    WHERE expires_at IS NOT NULL;
";

/// The columns of a row, in the order `Row8::read` reads them.
macro_rules! columns {
    () => {
        "pk, sk, version, data, counters, expires_at, gsi1pk, gsi1sk"
    };
}
const COLUMNS: &str = columns!();
/// One row by its key.
const SELECT_ROW: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM items WHERE pk = ?1 AND sk = ?2"
);
/// What a condition needs of a row: its version and expiry.
const SELECT_VERSION: &str = "SELECT version, expires_at FROM items WHERE pk = ?1 AND sk = ?2";
const UPSERT_ROW: &str = concat!(
    "INSERT OR REPLACE INTO items (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
);
/// Statements kept prepared per connection: the fixed ones above plus the
/// few shapes of query `page_sql` builds.
const STATEMENT_CACHE: usize = 32;

/// The item store on a SQLite file. Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (and creates, with its folder and schema) the store file at `path`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Unavailable(format!("creating the data folder: {e}")))?;
        }
        let conn = Connection::open(path).map_err(sql_err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(sql_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "the store file refused WAL mode ({mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql_err)?;
        // Bulk imports write many pages per transaction: a 32 MiB page
        // cache (negative means KiB) keeps the B-tree's upper levels in
        // memory, and checkpointing only every 20,000 WAL pages (instead
        // of 1,000) makes fewer, larger checkpoints that do not stall
        // every other batch.
        conn.pragma_update(None, "cache_size", -32768)
            .map_err(sql_err)?;
        conn.pragma_update(None, "wal_autocheckpoint", 20000)
            .map_err(sql_err)?;
        Self::with_connection(conn, clock)
    }

    /// A store that lives in memory only, for unit tests.
    pub fn in_memory(clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory().map_err(sql_err)?, clock)
    }

    fn with_connection(conn: Connection, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        conn.execute_batch(SCHEMA).map_err(sql_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            clock,
        })
    }

    /// Deletes the items that have expired (they are invisible already);
    /// returns how many. The local server calls this now and then, as
    /// DynamoDB's TTL sweeper would.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        self.run(|conn, now| {
            conn.execute(
                "DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1",
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
        F: FnOnce(&mut Connection, i64) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let now = self.clock.now().timestamp();
        tokio::task::spawn_blocking(move || {
            // A panic mid-call leaves no open transaction (it rolls back on
            // drop), so a poisoned lock still guards a consistent connection.
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut conn, now)
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

/// One row as stored.
struct Row8 {
    pk: String,
    sk: String,
    version: i64,
    data: String,
    counters: String,
    expires_at: Option<i64>,
    gsi1pk: Option<String>,
    gsi1sk: Option<String>,
}

impl Row8 {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            pk: row.get(0)?,
            sk: row.get(1)?,
            version: row.get(2)?,
            data: row.get(3)?,
            counters: row.get(4)?,
            expires_at: row.get(5)?,
            gsi1pk: row.get(6)?,
            gsi1sk: row.get(7)?,
        })
    }

    fn visible(&self, now: i64) -> bool {
        store_cursor::visible(self.expires_at, now)
    }

    fn into_stored(self) -> Result<Stored, StoreError> {
        let corrupt = |e: serde_json::Error| StoreError::Backend(format!("stored item: {e}"));
        let index = match (self.gsi1pk, self.gsi1sk) {
            (Some(pk), Some(sk)) => Some(IndexKey::from_storage(pk, sk)),
            _ => None,
        };
        Ok(Stored {
            item: Item {
                key: Key::from_storage(self.pk, self.sk),
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

fn read_row(conn: &Connection, key: &Key) -> Result<Option<Row8>, StoreError> {
    let mut select = conn.prepare_cached(SELECT_ROW).map_err(sql_err)?;
    read_row_with(&mut select, key)
}

/// Reads one row with a prepared [`SELECT_ROW`].
fn read_row_with(select: &mut Statement<'_>, key: &Key) -> Result<Option<Row8>, StoreError> {
    select
        .query_row(params![key.pk(), key.sk()], Row8::read)
        .optional()
        .map_err(sql_err)
}

/// The visible item's version, if there is a visible item.
fn visible_version(conn: &Connection, key: &Key, now: i64) -> Result<Option<u64>, StoreError> {
    let mut select = conn.prepare_cached(SELECT_VERSION).map_err(sql_err)?;
    visible_version_with(&mut select, key, now)
}

/// [`visible_version`] with a prepared [`SELECT_VERSION`].
fn visible_version_with(
    select: &mut Statement<'_>,
    key: &Key,
    now: i64,
) -> Result<Option<u64>, StoreError> {
    let row = select
        .query_row(params![key.pk(), key.sk()], |row| {
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

fn write_item(conn: &Connection, item: &Item, version: Version) -> Result<(), StoreError> {
    let mut upsert = conn.prepare_cached(UPSERT_ROW).map_err(sql_err)?;
    write_item_with(&mut upsert, item, version)
}

/// Writes the whole item with a prepared [`UPSERT_ROW`].
fn write_item_with(
    upsert: &mut Statement<'_>,
    item: &Item,
    version: Version,
) -> Result<(), StoreError> {
    let data =
        serde_json::to_string(&item.data).map_err(|e| StoreError::InvalidItem(e.to_string()))?;
    let counters = serde_json::to_string(&item.counters)
        .map_err(|e| StoreError::InvalidItem(e.to_string()))?;
    upsert
        .execute(params![
            item.key.pk(),
            item.key.sk(),
            version.0 as i64,
            data,
            counters,
            expiry_secs(item.expires_at),
            item.index.as_ref().map(IndexKey::pk),
            item.index.as_ref().map(IndexKey::sk),
        ])
        .map_err(sql_err)?;
    Ok(())
}

fn delete_row(conn: &Connection, key: &Key) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
        params![key.pk(), key.sk()],
    )
    .map_err(sql_err)?;
    Ok(())
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

/// The SQL and parameters of one page: a key range on the table's primary
/// key or on the index, never a scan. Fetches one row more than the page
/// to know whether another page follows.
fn page_sql(
    query: &Query,
    after: Option<&CursorKeys>,
    now: i64,
    fetch: usize,
) -> (String, Vec<SqlValue>) {
    let (part, sort, order) = if query.on_index {
        ("gsi1pk", "gsi1sk", ["gsi1sk", "pk", "sk"].as_slice())
    } else {
        ("pk", "sk", ["sk"].as_slice())
    };
    let dir = if query.descending { "DESC" } else { "ASC" };
    let mut sql = format!("SELECT {COLUMNS} FROM items WHERE {part} = ?1 AND {sort} >= ?2");
    let mut args = vec![
        SqlValue::Text(query.prefix.pk().to_owned()),
        SqlValue::Text(query.prefix.sk_prefix().to_owned()),
    ];
    if let Some(end) = prefix_end(query.prefix.sk_prefix()) {
        // The bound may not be valid UTF-8: bound as bytes, compared as text (memcmp).
        args.push(SqlValue::Blob(end));
        sql.push_str(&format!(" AND {sort} < CAST(?{} AS TEXT)", args.len()));
    }
    if let Some(after) = after {
        let cmp = if query.descending { "<" } else { ">" };
        let values = if query.on_index {
            vec![
                after.isk.clone().unwrap_or_default(),
                after.pk.clone(),
                after.sk.clone(),
            ]
        } else {
            vec![after.sk.clone()]
        };
        let first = args.len() + 1;
        args.extend(values.into_iter().map(SqlValue::Text));
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
        self.run(move |conn, now| {
            read_row(conn, &key)?
                .filter(|row| row.visible(now))
                .map(Row8::into_stored)
                .transpose()
        })
        .await
    }

    async fn put(&self, item: Item, condition: PutCondition) -> Result<Version, StoreError> {
        check_item(&item)?;
        self.run(move |conn, now| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            if !condition_holds(visible_version(&tx, &item.key, now)?, condition) {
                return Err(StoreError::ConditionFailed);
            }
            let version = Version::fresh();
            write_item(&tx, &item, version)?;
            tx.commit().map_err(sql_err)?;
            Ok(version)
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
        self.run(move |conn, now| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let current = read_row(&tx, &key)?.filter(|row| row.visible(now));
            let (mut item, version) = match current {
                Some(row) => {
                    let stored = row.into_stored()?;
                    (stored.item, stored.version)
                }
                None => (
                    Item {
                        key: key.clone(),
                        data: serde_json::json!({}),
                        counters: BTreeMap::new(),
                        expires_at: None,
                        index: None,
                    },
                    Version::fresh(),
                ),
            };
            let mut result = BTreeMap::new();
            for (name, delta) in deltas {
                let value = item.counters.entry(name.clone()).or_default();
                *value = value
                    .checked_add(delta)
                    .ok_or_else(|| StoreError::InvalidItem(format!("counter {name} overflows")))?;
                result.insert(name, *value);
            }
            write_item(&tx, &item, version)?;
            tx.commit().map_err(sql_err)?;
            Ok(result)
        })
        .await
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        let key = key.clone();
        self.run(move |conn, _| delete_row(conn, &key)).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let after = query
            .cursor
            .as_ref()
            .map(|c| CursorKeys::decode_for(c, &query))
            .transpose()?;
        let limit = page_size(&query);
        self.run(move |conn, now| {
            let (sql, args) = page_sql(&query, after.as_ref(), now, limit + 1);
            let mut stmt = conn.prepare_cached(&sql).map_err(sql_err)?;
            let rows = stmt
                .query_map(params_from_iter(args), Row8::read)
                .map_err(sql_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            let more = rows.len() > limit;
            let items = rows
                .into_iter()
                .take(limit)
                .map(Row8::into_stored)
                .collect::<Result<Vec<_>, _>>()?;
            let next = match items.last() {
                Some(last) if more => {
                    let index = query.on_index.then_some(last.item.index.as_ref()).flatten();
                    Some(CursorKeys::after(&last.item.key, index).encode())
                }
                _ => None,
            };
            Ok(Page { items, next })
        })
        .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        self.run(move |conn, now| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            // Every condition is judged on the state before the transaction.
            for op in &ops {
                let condition = match op {
                    TxOp::Put { condition, .. }
                    | TxOp::Delete { condition, .. }
                    | TxOp::Check { condition, .. } => *condition,
                };
                if !condition_holds(visible_version(&tx, op.key(), now)?, condition) {
                    return Err(StoreError::ConditionFailed);
                }
            }
            for op in &ops {
                match op {
                    TxOp::Put { item, .. } => write_item(&tx, item, Version::fresh())?,
                    TxOp::Delete { key, .. } => delete_row(&tx, key)?,
                    TxOp::Check { .. } => {}
                }
            }
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Stored>>, StoreError> {
        check_batch(keys.iter(), MAX_BATCH_GET)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = keys.to_vec();
        self.run(move |conn, now| {
            // One read transaction: every key is read from the same snapshot.
            let tx = conn.transaction().map_err(sql_err)?;
            let found = {
                let mut select = tx.prepare_cached(SELECT_ROW).map_err(sql_err)?;
                let mut found = Vec::with_capacity(keys.len());
                for key in &keys {
                    let row = read_row_with(&mut select, key)?.filter(|row| row.visible(now));
                    found.push(row.map(Row8::into_stored).transpose()?);
                }
                found
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
        self.run(move |conn, now| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let results = {
                let mut select = tx.prepare_cached(SELECT_VERSION).map_err(sql_err)?;
                let mut upsert = tx.prepare_cached(UPSERT_ROW).map_err(sql_err)?;
                let mut results = Vec::with_capacity(writes.len());
                for (item, condition) in &writes {
                    results.push(put_one(&mut select, &mut upsert, item, *condition, now)?);
                }
                results
            };
            tx.commit().map_err(sql_err)?;
            Ok(results)
        })
        .await
    }
}

/// One write of a batch, inside its transaction: the inner `Err` refuses
/// this item alone (invalid, or its condition does not hold) and writes
/// nothing; the outer `Err` fails the whole batch.
fn put_one(
    select: &mut Statement<'_>,
    upsert: &mut Statement<'_>,
    item: &Item,
    condition: PutCondition,
    now: i64,
) -> Result<Result<Version, StoreError>, StoreError> {
    if let Err(invalid) = check_item(item) {
        return Ok(Err(invalid));
    }
    if !condition_holds(visible_version_with(select, &item.key, now)?, condition) {
        return Ok(Err(StoreError::ConditionFailed));
    }
    let version = Version::fresh();
    match write_item_with(upsert, item, version) {
        Ok(()) => Ok(Ok(version)),
        Err(invalid @ StoreError::InvalidItem(_)) => Ok(Err(invalid)),
        Err(failed) => Err(failed),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::json;

    use super::*;
    use crate::domain::TenantId;
    use crate::ports::ManualClock;
    use crate::ports::store::keys::scratch;

    fn store() -> (SqliteStore, ManualClock) {
        let clock = ManualClock::new(DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        let store = SqliteStore::in_memory(Arc::new(clock.clone())).unwrap();
        (store, clock)
    }

    fn plan(store: &SqliteStore, query: &Query, after: Option<&CursorKeys>) -> String {
        let (sql, args) = page_sql(query, after, 0, 11);
        let conn = store.conn.lock().unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
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
        let (store, _) = store();
        let t = TenantId::parse("tenant-a").unwrap();
        let table = Query::table(scratch::prefix(&t, "item-"));
        let index = Query::index(scratch::index_prefix(&t, "group", "s-"));
        let after_table = CursorKeys::after(&scratch::key(&t, "item-3"), None);
        let idx = scratch::index(&t, "group", "s-3");
        let after_index = CursorKeys::after(&scratch::key(&t, "item-3"), Some(&idx));
        for (query, after) in [
            (&table, None),
            (&table, Some(&after_table)),
            (&table.clone().descending(), Some(&after_table)),
            (&index, None),
            (&index.clone().descending(), Some(&after_index)),
        ] {
            let plan = plan(&store, query, after);
            assert!(plan.starts_with("SEARCH"), "{plan}");
            assert!(!plan.contains("SCAN"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
            let expected = if query.on_index {
                "items_gsi1"
            } else {
                "PRIMARY KEY"
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
    fn a_store_file_keeps_a_large_page_cache_and_checkpoints_rarely() {
        let dir = tempfile::tempdir().unwrap();
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Utc::now()));
        let store = SqliteStore::open(&dir.path().join("items.db"), clock).unwrap();
        let conn = store.conn.lock().unwrap();
        let pragma = |name: &str| -> i64 {
            conn.pragma_query_value(None, name, |row| row.get(0))
                .unwrap()
        };
        assert_eq!(pragma("cache_size"), -32768);
        assert_eq!(pragma("wal_autocheckpoint"), 20000);
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
        let conn = store.conn.lock().unwrap();
        assert!(conn.is_autocommit(), "no transaction is left open");
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM items", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 3);
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
