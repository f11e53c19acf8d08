//! The item store port: a DynamoDB-shaped store of items under a partition
//! key and a sort key, with conditional writes, atomic counters, prefix
//! queries, one secondary index, small transactions and a TTL.
//!
//! Keys cannot be built outside [`keys`]: every key starts with a tenant id
//! (or the one platform partition), so no use case can reach another tenant's
//! items by constructing a key by hand.

pub mod keys;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Serialize, de::DeserializeOwned};

/// The most operations one transaction may carry (as in DynamoDB).
pub const MAX_TRANSACTION_OPS: usize = 25;
/// The most items one query page may return.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// The largest item the store accepts, in bytes of its JSON data (DynamoDB's limit is 400 KB).
pub const MAX_ITEM_BYTES: usize = 350 * 1024;
/// The most keys one [`ItemStore::get_many`] may name.
pub const MAX_BATCH_GET: usize = 1000;
/// The most items one [`ItemStore::put_each`] may carry.
pub const MAX_BATCH_PUT: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the write's condition did not hold")]
    ConditionFailed,
    #[error("a transaction takes 1 to {MAX_TRANSACTION_OPS} operations, got {0}")]
    TransactionSize(usize),
    #[error("a transaction names the same item more than once")]
    DuplicateInTransaction,
    #[error("a batch takes at most {max} entries, got {got}")]
    BatchSize { got: usize, max: usize },
    #[error("a batch names the same item more than once")]
    DuplicateInBatch,
    #[error("the cursor does not belong to this query")]
    InvalidCursor,
    #[error("invalid item: {0}")]
    InvalidItem(String),
    #[error("the store is throttling requests")]
    Throttled,
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("the store failed: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether trying the same call again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Throttled | Self::Unavailable(_))
    }
}

/// The primary key of an item: partition key and sort key. Built only by
/// the functions in [`keys`]; adapters read it through the accessors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pk: String,
    sk: String,
}

impl Key {
    pub fn pk(&self) -> &str {
        &self.pk
    }

    pub fn sk(&self) -> &str {
        &self.sk
    }

    /// Rebuilds a key read back from storage. Only adapters call this, on
    /// keys that `keys` built when the item was written.
    pub(crate) fn from_storage(pk: String, sk: String) -> Self {
        Self { pk, sk }
    }
}

/// A key in the secondary index ("gsi1"): its own partition and sort key.
/// Several items may share one index key; the order among them is
/// unspecified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexKey {
    pk: String,
    sk: String,
}

impl IndexKey {
    pub fn pk(&self) -> &str {
        &self.pk
    }

    pub fn sk(&self) -> &str {
        &self.sk
    }

    pub(crate) fn from_storage(pk: String, sk: String) -> Self {
        Self { pk, sk }
    }
}

/// One partition and a sort-key prefix: what a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrefix {
    pk: String,
    sk_prefix: String,
}

impl KeyPrefix {
    pub fn pk(&self) -> &str {
        &self.pk
    }

    pub fn sk_prefix(&self) -> &str {
        &self.sk_prefix
    }
}

/// An opaque version of a stored item, new on every put. Compare it, never
/// compute with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version(pub(crate) u64);

impl Version {
    /// A fresh version for a write (random, never zero).
    pub(crate) fn fresh() -> Self {
        let n = u64::from_le_bytes(
            uuid::Uuid::new_v4().as_bytes()[..8]
                .try_into()
                .expect("eight bytes"),
        );
        Self(n.max(1))
    }

    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// An item to write: data as JSON, named counters, an optional expiry and an
/// optional secondary-index key.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: Key,
    pub data: serde_json::Value,
    pub counters: BTreeMap<String, i64>,
    /// After this instant the item is invisible to every read; the backend
    /// deletes it some time later. Whole seconds.
    pub expires_at: Option<DateTime<Utc>>,
    pub index: Option<IndexKey>,
}

impl Item {
    pub fn new<T: Serialize>(key: Key, data: &T) -> Result<Self, StoreError> {
        let data =
            serde_json::to_value(data).map_err(|e| StoreError::InvalidItem(e.to_string()))?;
        Ok(Self {
            key,
            data,
            counters: BTreeMap::new(),
            expires_at: None,
            index: None,
        })
    }

    pub fn with_index(mut self, index: IndexKey) -> Self {
        self.index = Some(index);
        self
    }

    pub fn expiring_at(mut self, at: DateTime<Utc>) -> Self {
        self.expires_at = Some(at);
        self
    }

    pub fn with_counter(mut self, name: &str, value: i64) -> Self {
        self.counters.insert(name.to_owned(), value);
        self
    }

    /// The data, read back into a domain type.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        // serde's message can quote stored values (personal data): name
        // the item and the kind of mismatch only.
        serde_json::from_value(self.data.clone()).map_err(|e| {
            StoreError::InvalidItem(format!(
                "{}: stored data does not fit its type ({:?} error)",
                self.key.sk,
                e.classify()
            ))
        })
    }
}

/// An item for bulk writes whose data is serialised to JSON text at once,
/// without a `serde_json::Value` tree per item (a tree takes several times
/// the memory of its text and many allocations). No counters, no expiry.
/// Built only from a serialisable value, so its text is always valid JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonItem {
    pub key: Key,
    json: String,
    pub index: Option<IndexKey>,
}

impl JsonItem {
    pub fn new<T: Serialize>(key: Key, data: &T) -> Result<Self, StoreError> {
        let mut json =
            serde_json::to_string(data).map_err(|e| StoreError::InvalidItem(e.to_string()))?;
        // The text grew by doubling: kept until written, it should take
        // only what it needs.
        json.shrink_to_fit();
        Ok(Self {
            key,
            json,
            index: None,
        })
    }

    pub fn with_index(mut self, index: IndexKey) -> Self {
        self.index = Some(index);
        self
    }

    /// The data as JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The same item as an [`Item`] (what adapters without a text path write).
    pub fn into_item(self) -> Result<Item, StoreError> {
        let data = serde_json::from_str(&self.json)
            .map_err(|e| StoreError::InvalidItem(format!("item data: {:?} error", e.classify())))?;
        Ok(Item {
            key: self.key,
            data,
            counters: BTreeMap::new(),
            expires_at: None,
            index: self.index,
        })
    }
}

/// An item as read back, with its current version.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub item: Item,
    pub version: Version,
}

/// The condition a write needs to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutCondition {
    /// No condition.
    Always,
    /// No visible item has this key (an expired item counts as absent).
    NotExists,
    /// The visible item has exactly this version.
    Version(Version),
}

/// An opaque position in a query's results, handed back to read the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// Accepts a cursor handed back by a client; the adapter checks it
    /// belongs to the query it is used with.
    pub fn from_client(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub(crate) fn from_adapter(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A read of one partition (of the table or of the index), by sort-key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub prefix: KeyPrefix,
    /// Read the secondary index instead of the table. Index reads are
    /// eventually consistent on DynamoDB: a write may show up there (or an
    /// overwritten or deleted item leave it) shortly after it succeeded.
    /// Table reads see every write that succeeded before them.
    pub on_index: bool,
    pub descending: bool,
    /// 1 to [`MAX_PAGE_SIZE`]; adapters clamp other values into that range.
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

impl Query {
    pub fn table(prefix: KeyPrefix) -> Self {
        Self {
            prefix,
            on_index: false,
            descending: false,
            limit: 100,
            cursor: None,
        }
    }

    pub fn index(prefix: KeyPrefix) -> Self {
        Self {
            on_index: true,
            ..Self::table(prefix)
        }
    }

    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One page of results, sorted by sort key: the table's sort key, or on the
/// index the index sort key. Items sharing one index sort key come in an
/// unspecified order, but paging with the cursor still returns each of them
/// once. A cursor comes exactly when another visible item follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Stored>,
    pub next: Option<Cursor>,
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TxOp {
    Put {
        item: Item,
        condition: PutCondition,
    },
    Delete {
        key: Key,
        condition: PutCondition,
    },
    /// Writes nothing; the transaction fails unless the condition holds.
    Check {
        key: Key,
        condition: PutCondition,
    },
}

impl TxOp {
    pub fn key(&self) -> &Key {
        match self {
            Self::Put { item, .. } => &item.key,
            Self::Delete { key, .. } | Self::Check { key, .. } => key,
        }
    }
}

#[async_trait]
pub trait ItemStore: Send + Sync + 'static {
    /// A short name of the backend, e.g. "sqlite" or "dynamodb".
    fn backend(&self) -> &'static str;

    /// The visible item under `key`, if any.
    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError>;

    /// Writes the whole item (data, counters, expiry, index key) if the
    /// condition holds; returns the new version.
    async fn put(&self, item: Item, condition: PutCondition) -> Result<Version, StoreError>;

    /// Adds each delta to its counter atomically and returns the new values
    /// of the named counters. An absent (or expired) item is created with
    /// data `{}`, no expiry and no index key, and a fresh version; otherwise
    /// the version does not change. Deltas naming one counter twice are summed.
    /// An add that would take a counter beyond the `i64` range is refused
    /// with `InvalidItem` and changes nothing.
    async fn add(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
    ) -> Result<BTreeMap<String, i64>, StoreError>;

    /// Removes the item; removing an absent item is not an error.
    async fn delete(&self, key: &Key) -> Result<(), StoreError>;

    /// One page of visible items whose sort key starts with the prefix.
    /// On the index the read is eventually consistent (see [`Query::on_index`]).
    async fn query(&self, query: Query) -> Result<Page, StoreError>;

    /// All operations or none. 1 to [`MAX_TRANSACTION_OPS`] operations, each
    /// on a different item; fails with `ConditionFailed` when any condition
    /// does not hold.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError>;

    /// The visible items under `keys`, in the order of `keys`: `None` where
    /// an item is absent or expired. Strongly consistent, like [`get`](Self::get).
    /// 0 to [`MAX_BATCH_GET`] keys, each at most once: more are refused with
    /// `BatchSize`, a repeated key with `DuplicateInBatch`, before anything
    /// is read.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Stored>>, StoreError>;

    /// Writes each item if its own condition holds, each on its own: this
    /// is NOT a transaction, so some writes may succeed while others fail.
    /// 0 to [`MAX_BATCH_PUT`] items, each key at most once: more are refused
    /// with `BatchSize`, a repeated key with `DuplicateInBatch`, before
    /// anything is written.
    ///
    /// Answers one result per item, in the order given: its new version, or
    /// `ConditionFailed` / `InvalidItem` for that item alone (it is not
    /// written). A failure of the whole call (`Unavailable`, `Throttled`
    /// after the backend's own retries, `Backend`) is the outer `Err`; then
    /// any subset of the writes may have happened, and repeating the call
    /// is safe for writes conditioned on `NotExists` or `Version`.
    async fn put_each(
        &self,
        writes: Vec<(Item, PutCondition)>,
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError>;

    /// [`put_each`](Self::put_each) for items whose data is JSON text
    /// already: the same limits, checks, answers and stored items. By
    /// default each item is turned into an [`Item`]; an adapter that stores
    /// JSON text writes the text as it is.
    async fn put_each_json(
        &self,
        writes: Vec<(JsonItem, PutCondition)>,
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
        let writes = writes
            .into_iter()
            .map(|(item, condition)| Ok((item.into_item()?, condition)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.put_each(writes).await
    }
}

/// Every item the query finds, page after page, parsed: for the short
/// per-tenant collections (templates, images, campaigns) a page shows whole.
pub async fn parse_all<T: serde::de::DeserializeOwned>(
    store: &dyn ItemStore,
    query: Query,
) -> Result<Vec<T>, StoreError> {
    let mut found = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.query(query.clone().after(cursor)).await?;
        for stored in &page.items {
            found.push(stored.item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(found),
        }
    }
}

/// Deletes every item under the prefix (e.g. a contact's records at an
/// erasure); answers how many there were.
pub async fn delete_all(store: &dyn ItemStore, prefix: KeyPrefix) -> Result<usize, StoreError> {
    let mut deleted = 0;
    loop {
        let page = store.query(Query::table(prefix.clone())).await?;
        if page.items.is_empty() {
            return Ok(deleted);
        }
        for stored in &page.items {
            store.delete(&stored.item.key).await?;
            deleted += 1;
        }
    }
}

/// Checks the shape of a batch before an adapter reads or writes anything:
/// at most `max` entries (`BatchSize`), each key at most once
/// (`DuplicateInBatch`).
pub(crate) fn check_batch<'a>(
    mut keys: impl ExactSizeIterator<Item = &'a Key>,
    max: usize,
) -> Result<(), StoreError> {
    let got = keys.len();
    if got > max {
        return Err(StoreError::BatchSize { got, max });
    }
    let mut seen = std::collections::HashSet::with_capacity(got);
    if keys.all(|key| seen.insert(key)) {
        Ok(())
    } else {
        Err(StoreError::DuplicateInBatch)
    }
}

/// Checks a counter name: 1 to 64 characters of a-z, 0-9 and '_', starting with a letter.
pub fn valid_counter_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
