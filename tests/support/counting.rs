//! Counting decorators for the cloud ports, for the cost benchmark: an
//! item store, a queue and a mailer that forward every call to the real
//! adapter and count what the call costs on AWS — DynamoDB requests and
//! on-demand read/write request units, SQS requests, SES calls — per
//! Lambda function (named with [`as_function`]) and per operation; and a
//! log writer that counts the bytes a function logs.
//!
//! The emulator reports no consumed capacity, so the units are computed
//! the way DynamoDB bills on-demand, from the size of each item as the
//! DynamoDB adapter stores it (`pk`, `sk`, `v`, `d` with the JSON data as a
//! map, `c_<name>` counters, `ttl`, `gsi1pk`/`gsi1sk`):
//!
//! - item size: attribute names plus values; strings in UTF-8 bytes,
//!   numbers one byte per two significant digits plus one, booleans and
//!   nulls one byte, maps and lists 3 bytes plus one per element plus their
//!   contents (DynamoDB's published sizing rules; an approximation);
//! - a write (PutItem, UpdateItem, DeleteItem) costs one write unit per KB
//!   of the larger of the item before and after (the item before as this
//!   decorator last saw it; unknown counts as absent); a write whose
//!   condition fails still costs the units of the item it met (at least
//!   one); inside TransactWriteItems every operation costs twice;
//! - the index `gsi1` (all attributes projected) costs its own write
//!   units: one write when an entry appears, changes or disappears, two
//!   when its key changes;
//! - a strongly consistent read (GetItem, BatchGetItem as the adapter
//!   reads, table queries) costs one read unit per 4 KB of each item read,
//!   at least one per key, also for an absent item; an index query is
//!   eventually consistent (half); a query sums the sizes of the items it
//!   returns (plus the one more item the adapter reads to know whether a
//!   page follows), at least one unit per page.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use emma::ports::store::{
    IndexKey, Item, ItemStore, JsonItem, Key, Page, PutCondition, Query, StoreError, Stored, TxOp,
    Version,
};
use emma::ports::{MailError, Mailer, OutgoingMail, Queue, QueueError, ReceivedMessage, SentMail};
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

tokio::task_local! {
    /// The Lambda function whose invocation is running in this task.
    static FUNCTION: &'static str;
}

/// The name calls are counted under outside any function (set-up, the
/// benchmark's own look at the campaign).
pub const OUTSIDE: &str = "outside";

/// Runs `work` as an invocation of the Lambda function `name`: every call
/// it makes through the decorators is counted under that name.
pub async fn as_function<F: Future>(name: &'static str, work: F) -> F::Output {
    FUNCTION.scope(name, work).await
}

fn current_function() -> &'static str {
    FUNCTION.try_with(|name| *name).unwrap_or(OUTSIDE)
}

/// What the DynamoDB calls of one kind cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DynamoTally {
    /// DynamoDB API requests.
    pub requests: u64,
    /// Items (or keys) they named.
    pub items: u64,
    /// Writes whose condition did not hold (they are billed too).
    pub failed_conditions: u64,
    pub read_units: f64,
    /// Write units on the table.
    pub write_units: f64,
    /// Write units on the index `gsi1`.
    pub index_write_units: f64,
}

impl DynamoTally {
    fn add(&mut self, other: &DynamoTally) {
        self.requests += other.requests;
        self.items += other.items;
        self.failed_conditions += other.failed_conditions;
        self.read_units += other.read_units;
        self.write_units += other.write_units;
        self.index_write_units += other.index_write_units;
    }

    /// Table and index write units.
    pub fn all_write_units(&self) -> f64 {
        self.write_units + self.index_write_units
    }
}

/// What the SQS calls of one kind cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SqsTally {
    /// Billed requests (one per 64 KB chunk of payload).
    pub requests: u64,
    /// API calls made.
    pub calls: u64,
    pub messages: u64,
}

/// Everything counted since the last reset.
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    /// By (function, DynamoDB operation).
    pub dynamo: BTreeMap<(&'static str, &'static str), DynamoTally>,
    /// By (function, kind of item: the sort key up to its first `#`).
    pub dynamo_by_item: BTreeMap<(&'static str, String), DynamoTally>,
    /// By (function, SQS operation).
    pub sqs: BTreeMap<(&'static str, &'static str), SqsTally>,
    /// By (function, SES operation): calls.
    pub ses: BTreeMap<(&'static str, &'static str), u64>,
    /// By function: bytes logged.
    pub log_bytes: BTreeMap<&'static str, u64>,
}

impl Tallies {
    /// The DynamoDB tallies of the functions `keep` selects, summed.
    pub fn dynamo_total(&self, keep: impl Fn(&str) -> bool) -> DynamoTally {
        let mut total = DynamoTally::default();
        for ((function, _), tally) in &self.dynamo {
            if keep(function) {
                total.add(tally);
            }
        }
        total
    }

    /// The billed SQS requests of the functions `keep` selects.
    pub fn sqs_requests(&self, keep: impl Fn(&str) -> bool) -> u64 {
        self.sqs
            .iter()
            .filter(|((function, _), _)| keep(function))
            .map(|(_, tally)| tally.requests)
            .sum()
    }

    /// The SES calls of one operation, by any function.
    pub fn ses_calls(&self, operation: &str) -> u64 {
        self.ses
            .iter()
            .filter(|((_, op), _)| *op == operation)
            .map(|(_, n)| n)
            .sum()
    }
}

/// What an item looks like as far as its cost goes.
#[derive(Debug, Clone)]
struct Known {
    bytes: usize,
    /// The item without its counters (what an add leaves as it is).
    base_bytes: usize,
    counters: BTreeMap<String, i64>,
    index: Option<IndexKey>,
}

impl Known {
    fn of(key: &Key, item: &Item) -> Self {
        let base_bytes = base_bytes(
            key,
            &item.data,
            item.expires_at.is_some(),
            item.index.as_ref(),
        );
        Self {
            bytes: base_bytes + counter_bytes(&item.counters),
            base_bytes,
            counters: item.counters.clone(),
            index: item.index.clone(),
        }
    }
}

/// The shared counts, and the last known size of every item seen.
#[derive(Default)]
pub struct Meter {
    tallies: Mutex<Tallies>,
    known: Mutex<HashMap<Key, Known>>,
}

impl Meter {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Forgets the counts (not the item sizes).
    pub fn reset(&self) {
        *self.tallies.lock().unwrap() = Tallies::default();
    }

    pub fn tallies(&self) -> Tallies {
        self.tallies.lock().unwrap().clone()
    }

    fn dynamo(&self, operation: &'static str, kind: String, tally: DynamoTally) {
        let function = current_function();
        let mut tallies = self.tallies.lock().unwrap();
        tallies
            .dynamo
            .entry((function, operation))
            .or_default()
            .add(&tally);
        // The request is counted once, under the operation; by item kind
        // only the items and units.
        let per_item = DynamoTally {
            requests: 0,
            ..tally
        };
        tallies
            .dynamo_by_item
            .entry((function, kind))
            .or_default()
            .add(&per_item);
    }

    fn sqs(&self, operation: &'static str, tally: SqsTally) {
        let function = current_function();
        let mut tallies = self.tallies.lock().unwrap();
        let entry = tallies.sqs.entry((function, operation)).or_default();
        entry.requests += tally.requests;
        entry.calls += tally.calls;
        entry.messages += tally.messages;
    }

    fn ses(&self, operation: &'static str) {
        let function = current_function();
        *self
            .tallies
            .lock()
            .unwrap()
            .ses
            .entry((function, operation))
            .or_default() += 1;
    }

    fn logged(&self, bytes: usize) {
        let function = current_function();
        *self
            .tallies
            .lock()
            .unwrap()
            .log_bytes
            .entry(function)
            .or_default() += bytes as u64;
    }

    fn known(&self, key: &Key) -> Option<Known> {
        self.known.lock().unwrap().get(key).cloned()
    }

    fn remember(&self, key: &Key, known: Option<Known>) {
        let mut map = self.known.lock().unwrap();
        match known {
            Some(known) => map.insert(key.clone(), known),
            None => map.remove(key),
        };
    }

    fn remember_read(&self, stored: &Stored) {
        self.remember(
            &stored.item.key,
            Some(Known::of(&stored.item.key, &stored.item)),
        );
    }
}

/// The kind of an item: its sort key up to the first `#`.
fn kind_of(key: &Key) -> String {
    key.sk().split('#').next().unwrap_or_default().to_owned()
}

/// The kind of what a query reads: the sort-key prefix up to its first
/// `#`, or on the index the part of the index partition after the tenant.
fn kind_of_query(query: &Query) -> String {
    if query.on_index {
        let pk = query.prefix.pk();
        format!("index:{}", pk.split('#').nth(1).unwrap_or(pk))
    } else {
        query
            .prefix
            .sk_prefix()
            .split('#')
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

/// A number's size: one byte per two significant digits, plus one.
fn number_bytes(text: &str) -> usize {
    let digits: String = text
        .chars()
        .take_while(|c| *c != 'e' && *c != 'E')
        .filter(char::is_ascii_digit)
        .collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.max(1).div_ceil(2) + 1
}

/// A JSON value's size as a DynamoDB attribute value.
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 1,
        Value::Number(n) => number_bytes(&n.to_string()),
        Value::String(s) => s.len(),
        Value::Array(values) => 3 + values.len() + values.iter().map(value_bytes).sum::<usize>(),
        Value::Object(map) => {
            3 + map.len()
                + map
                    .iter()
                    .map(|(k, v)| k.len() + value_bytes(v))
                    .sum::<usize>()
        }
    }
}

/// An item's size without its counters.
fn base_bytes(key: &Key, data: &Value, ttl: bool, index: Option<&IndexKey>) -> usize {
    // A version is a random 64-bit number: about 20 digits.
    const VERSION_BYTES: usize = 11;
    // Seconds since 1970: 10 digits.
    const TTL_BYTES: usize = 6;
    let mut bytes = "pk".len() + key.pk().len() + "sk".len() + key.sk().len();
    bytes += "v".len() + VERSION_BYTES;
    bytes += "d".len() + value_bytes(data);
    if ttl {
        bytes += "ttl".len() + TTL_BYTES;
    }
    if let Some(index) = index {
        bytes += "gsi1pk".len() + index.pk().len() + "gsi1sk".len() + index.sk().len();
    }
    bytes
}

fn counter_bytes(counters: &BTreeMap<String, i64>) -> usize {
    counters
        .iter()
        .map(|(name, value)| "c_".len() + name.len() + number_bytes(&value.to_string()))
        .sum()
}

/// Write units for an item of this size (1 KB each, at least one).
fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Strongly consistent read units for this many bytes (4 KB each, at least one).
fn read_units(bytes: usize) -> f64 {
    bytes.div_ceil(4096).max(1) as f64
}

/// What one write of `old` into `new` costs (`None`: absent or deleted).
fn write_cost(old: Option<&Known>, new: Option<&Known>, transactional: bool) -> DynamoTally {
    let factor = if transactional { 2.0 } else { 1.0 };
    let bytes = old.map_or(0, |k| k.bytes).max(new.map_or(0, |k| k.bytes));
    let old_index = old.and_then(|k| k.index.as_ref().map(|i| (i, k.bytes)));
    let new_index = new.and_then(|k| k.index.as_ref().map(|i| (i, k.bytes)));
    let index_write_units = match (old_index, new_index) {
        (None, None) => 0.0,
        (Some((_, before)), None) => write_units(before),
        (None, Some((_, after))) => write_units(after),
        (Some((a, before)), Some((b, after))) if a == b => write_units(before.max(after)),
        (Some((_, before)), Some((_, after))) => write_units(before) + write_units(after),
    };
    DynamoTally {
        requests: 0,
        items: 1,
        failed_conditions: 0,
        read_units: 0.0,
        write_units: write_units(bytes) * factor,
        index_write_units,
    }
}

/// What a write costs whose condition did not hold: the units of the item
/// it met, at least one.
fn refused_cost(old: Option<&Known>, transactional: bool) -> DynamoTally {
    let factor = if transactional { 2.0 } else { 1.0 };
    DynamoTally {
        items: 1,
        failed_conditions: 1,
        write_units: write_units(old.map_or(0, |k| k.bytes)) * factor,
        ..DynamoTally::default()
    }
}

/// The item store, counted.
pub struct CountingStore {
    inner: Arc<dyn ItemStore>,
    meter: Arc<Meter>,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn ItemStore>, meter: Arc<Meter>) -> Self {
        Self { inner, meter }
    }

    /// Counts one PutItem's answer and remembers the item it wrote.
    fn count_put(
        &self,
        operation: &'static str,
        condition: PutCondition,
        item_key: &Key,
        new: Known,
        answer: &Result<Version, StoreError>,
    ) {
        let old = self.meter.known(item_key);
        let mut tally = match answer {
            Ok(_) => write_cost(old.as_ref(), Some(&new), false),
            Err(StoreError::ConditionFailed) => refused_cost(old.as_ref(), false),
            // Refused before it was sent, or failed without a bill.
            Err(_) => return,
        };
        tally.requests = 1;
        let operation = match (operation, condition) {
            ("PutItem", PutCondition::Always) => "PutItem",
            ("PutItem", PutCondition::NotExists) => "PutItem if absent",
            ("PutItem", PutCondition::Version(_)) => "PutItem if version",
            (_, PutCondition::Always) => "PutItem (put_each)",
            (_, PutCondition::NotExists) => "PutItem (put_each) if absent",
            (_, PutCondition::Version(_)) => "PutItem (put_each) if version",
        };
        self.meter.dynamo(operation, kind_of(item_key), tally);
        if answer.is_ok() {
            self.meter.remember(item_key, Some(new));
        }
    }
}

#[async_trait]
impl ItemStore for CountingStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        let found = self.inner.get(key).await?;
        let bytes = found
            .as_ref()
            .map_or(0, |s| Known::of(&s.item.key, &s.item).bytes);
        self.meter.dynamo(
            "GetItem",
            kind_of(key),
            DynamoTally {
                requests: 1,
                items: 1,
                read_units: read_units(bytes),
                ..DynamoTally::default()
            },
        );
        match &found {
            Some(stored) => self.meter.remember_read(stored),
            None => self.meter.remember(key, None),
        }
        Ok(found)
    }

    async fn put(&self, item: Item, condition: PutCondition) -> Result<Version, StoreError> {
        let key = item.key.clone();
        let new = Known::of(&key, &item);
        let answer = self.inner.put(item, condition).await;
        self.count_put("PutItem", condition, &key, new, &answer);
        answer
    }

    async fn add(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let values = self.inner.add(key, deltas).await?;
        let old = self.meter.known(key);
        let mut new = old.clone().unwrap_or_else(|| Known {
            bytes: 0,
            base_bytes: base_bytes(key, &Value::Object(Default::default()), false, None),
            counters: BTreeMap::new(),
            index: None,
        });
        new.counters.extend(values.clone());
        new.bytes = new.base_bytes + counter_bytes(&new.counters);
        let mut tally = write_cost(old.as_ref(), Some(&new), false);
        tally.requests = 1;
        self.meter.dynamo("UpdateItem", kind_of(key), tally);
        self.meter.remember(key, Some(new));
        Ok(values)
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.inner.delete(key).await?;
        let old = self.meter.known(key);
        let mut tally = write_cost(old.as_ref(), None, false);
        tally.requests = 1;
        self.meter.dynamo("DeleteItem", kind_of(key), tally);
        self.meter.remember(key, None);
        Ok(())
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let kind = kind_of_query(&query);
        let on_index = query.on_index;
        let page = self.inner.query(query).await?;
        let sizes: Vec<usize> = page
            .items
            .iter()
            .map(|s| Known::of(&s.item.key, &s.item).bytes)
            .collect();
        let mut bytes: usize = sizes.iter().sum();
        if page.next.is_some() && !sizes.is_empty() {
            // The adapter reads one item more to know that a page follows.
            bytes += bytes / sizes.len();
        }
        let units = read_units(bytes) * if on_index { 0.5 } else { 1.0 };
        self.meter.dynamo(
            if on_index { "Query (index)" } else { "Query" },
            kind,
            DynamoTally {
                // One request per MB read, as DynamoDB pages.
                requests: bytes.div_ceil(1 << 20).max(1) as u64,
                items: page.items.len() as u64,
                read_units: units,
                ..DynamoTally::default()
            },
        );
        for stored in &page.items {
            self.meter.remember_read(stored);
        }
        Ok(page)
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        let planned: Vec<(Key, Option<Known>, Option<Known>, bool)> = ops
            .iter()
            .map(|op| {
                let key = op.key().clone();
                let old = self.meter.known(&key);
                match op {
                    TxOp::Put { item, .. } => (key.clone(), old, Some(Known::of(&key, item)), true),
                    TxOp::Delete { .. } => (key, old, None, true),
                    TxOp::Check { .. } => (key, old.clone(), old, false),
                }
            })
            .collect();
        let answer = self.inner.transact(ops).await;
        let billed = matches!(answer, Ok(()) | Err(StoreError::ConditionFailed));
        if billed {
            let mut first = true;
            for (key, old, new, writes) in &planned {
                let mut tally = if answer.is_ok() && *writes {
                    write_cost(old.as_ref(), new.as_ref(), true)
                } else {
                    // A condition check, or an operation of a cancelled
                    // transaction: the units of the item it met.
                    DynamoTally {
                        failed_conditions: 0,
                        ..refused_cost(old.as_ref(), true)
                    }
                };
                tally.requests = u64::from(std::mem::take(&mut first));
                self.meter.dynamo("TransactWriteItems", kind_of(key), tally);
            }
        }
        if answer.is_ok() {
            for (key, _, new, writes) in planned {
                if writes {
                    self.meter.remember(&key, new);
                }
            }
        }
        answer
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Stored>>, StoreError> {
        let found = self.inner.get_many(keys).await?;
        // BatchGetItem takes 100 keys per request; each key is billed as a
        // GetItem of its own.
        let mut requests = keys.len().div_ceil(100) as u64;
        for (key, stored) in keys.iter().zip(&found) {
            let bytes = stored
                .as_ref()
                .map_or(0, |s| Known::of(&s.item.key, &s.item).bytes);
            self.meter.dynamo(
                "BatchGetItem",
                kind_of(key),
                DynamoTally {
                    requests: std::mem::take(&mut requests),
                    items: 1,
                    read_units: read_units(bytes),
                    ..DynamoTally::default()
                },
            );
            match stored {
                Some(stored) => self.meter.remember_read(stored),
                None => self.meter.remember(key, None),
            }
        }
        Ok(found)
    }

    async fn put_each(
        &self,
        writes: Vec<(Item, PutCondition)>,
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
        let planned: Vec<(Key, Known, PutCondition)> = writes
            .iter()
            .map(|(item, condition)| (item.key.clone(), Known::of(&item.key, item), *condition))
            .collect();
        let answers = self.inner.put_each(writes).await?;
        // One conditional PutItem per item.
        for ((key, new, condition), answer) in planned.into_iter().zip(&answers) {
            self.count_put("put_each", condition, &key, new, answer);
        }
        Ok(answers)
    }

    async fn put_each_json(
        &self,
        writes: Vec<(JsonItem, PutCondition)>,
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
        let planned = writes
            .iter()
            .map(|(item, condition)| {
                let data: Value = serde_json::from_str(item.json())
                    .map_err(|e| StoreError::InvalidItem(e.to_string()))?;
                let bytes = base_bytes(&item.key, &data, false, item.index.as_ref());
                Ok((
                    item.key.clone(),
                    Known {
                        bytes,
                        base_bytes: bytes,
                        counters: BTreeMap::new(),
                        index: item.index.clone(),
                    },
                    *condition,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let answers = self.inner.put_each_json(writes).await?;
        for ((key, new, condition), answer) in planned.into_iter().zip(&answers) {
            self.count_put("put_each", condition, &key, new, answer);
        }
        Ok(answers)
    }
}

/// SQS bills a request per 64 KB chunk of payload.
fn sqs_chunks(bytes: usize) -> u64 {
    bytes.div_ceil(64 * 1024).max(1) as u64
}

/// The queue, counted; with the calls the Lambda event source mapping
/// makes on the function's behalf.
pub struct CountingQueue {
    inner: Arc<dyn Queue>,
    meter: Arc<Meter>,
}

/// The name the event source mapping's own SQS calls are counted under.
pub const EVENT_SOURCE_MAPPING: &str = "event source mapping";

impl CountingQueue {
    pub fn new(inner: Arc<dyn Queue>, meter: Arc<Meter>) -> Self {
        Self { inner, meter }
    }

    /// A poll of the event source mapping: ReceiveMessage, counted under
    /// [`EVENT_SOURCE_MAPPING`] (empty polls under their own name).
    pub async fn poll(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let messages = self.inner.receive(max, visibility, wait).await?;
        let bytes: usize = messages.iter().map(|m| m.body.len()).sum();
        let operation = if messages.is_empty() {
            "ReceiveMessage (empty)"
        } else {
            "ReceiveMessage"
        };
        FUNCTION.sync_scope(EVENT_SOURCE_MAPPING, || {
            self.meter.sqs(
                operation,
                SqsTally {
                    requests: sqs_chunks(bytes),
                    calls: 1,
                    messages: messages.len() as u64,
                },
            )
        });
        Ok(messages)
    }

    /// The event source mapping deleting the messages an invocation
    /// handled: DeleteMessageBatch, ten receipts a request.
    pub async fn delete_handled(&self, receipts: &[&str]) -> Result<(), QueueError> {
        for receipt in receipts {
            self.inner.ack(receipt).await?;
        }
        if !receipts.is_empty() {
            FUNCTION.sync_scope(EVENT_SOURCE_MAPPING, || {
                self.meter.sqs(
                    "DeleteMessageBatch",
                    SqsTally {
                        requests: receipts.len().div_ceil(10) as u64,
                        calls: receipts.len().div_ceil(10) as u64,
                        messages: receipts.len() as u64,
                    },
                )
            });
        }
        Ok(())
    }

    fn one(&self, operation: &'static str, bytes: usize, messages: u64) {
        self.meter.sqs(
            operation,
            SqsTally {
                requests: sqs_chunks(bytes),
                calls: 1,
                messages,
            },
        );
    }
}

#[async_trait]
impl Queue for CountingQueue {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn send(&self, body: &str, delay: Duration) -> Result<String, QueueError> {
        let id = self.inner.send(body, delay).await?;
        self.one("SendMessage", body.len(), 1);
        Ok(id)
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let messages = self.inner.receive(max, visibility, wait).await?;
        let bytes = messages.iter().map(|m| m.body.len()).sum();
        self.one("ReceiveMessage", bytes, messages.len() as u64);
        Ok(messages)
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.ack(receipt).await?;
        self.one("DeleteMessage", 0, 1);
        Ok(())
    }

    async fn release(&self, receipt: &str, after: Duration) -> Result<(), QueueError> {
        self.inner.release(receipt, after).await?;
        self.one("ChangeMessageVisibility", 0, 1);
        Ok(())
    }

    async fn approximate_depth(&self) -> Result<u64, QueueError> {
        let depth = self.inner.approximate_depth().await?;
        self.one("GetQueueAttributes", 0, 0);
        Ok(depth)
    }
}

/// The mailer, counted (SESv2 calls).
pub struct CountingMailer {
    inner: Arc<dyn Mailer>,
    meter: Arc<Meter>,
}

impl CountingMailer {
    pub fn new(inner: Arc<dyn Mailer>, meter: Arc<Meter>) -> Self {
        Self { inner, meter }
    }
}

#[async_trait]
impl Mailer for CountingMailer {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn register_identity(&self, identity: &str) -> Result<(), MailError> {
        self.meter.ses("CreateEmailIdentity");
        self.inner.register_identity(identity).await
    }

    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError> {
        self.meter.ses("SendEmail");
        self.inner.send(mail).await
    }

    async fn max_send_rate(&self) -> Result<Option<f64>, MailError> {
        self.meter.ses("GetAccount");
        self.inner.max_send_rate().await
    }
}

/// A log destination that counts the bytes each function writes (and
/// drops them), for the CloudWatch Logs estimate.
#[derive(Clone)]
pub struct CountingLogs(Arc<Meter>);

impl CountingLogs {
    pub fn new(meter: Arc<Meter>) -> Self {
        Self(meter)
    }
}

/// One log line's writer.
pub struct LogLine(Arc<Meter>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.logged(buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CountingLogs {
    type Writer = LogLine;

    fn make_writer(&'a self) -> Self::Writer {
        LogLine(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_a_byte_per_two_significant_digits_and_one() {
        assert_eq!(number_bytes("0"), 2);
        assert_eq!(number_bytes("7"), 2);
        assert_eq!(number_bytes("1000"), 2);
        assert_eq!(number_bytes("12345"), 4);
        assert_eq!(number_bytes("-1.25"), 3);
    }

    #[test]
    fn writes_cost_a_unit_per_started_kilobyte_of_the_larger_item() {
        let small = Known {
            bytes: 300,
            base_bytes: 300,
            counters: BTreeMap::new(),
            index: None,
        };
        let big = Known {
            bytes: 1500,
            ..small.clone()
        };
        assert_eq!(write_cost(Some(&big), Some(&small), false).write_units, 2.0);
        assert_eq!(write_cost(None, Some(&small), true).write_units, 2.0);
        assert_eq!(refused_cost(None, false).write_units, 1.0);
        assert_eq!(read_units(0), 1.0);
        assert_eq!(read_units(4097), 2.0);
    }
}
