//! The cloud item store on DynamoDB: one table with `pk`/`sk`, the `gsi1`
//! index on `gsi1pk`/`gsi1sk`, TTL on `ttl`. Expired items are hidden from
//! every read and count as absent in conditions, before DynamoDB's TTL
//! sweeper removes them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
    TimeToLiveStatus, TransactWriteItem,
};
use serde_json::Value;
use tokio::task::{JoinError, JoinSet};

use super::aws::{Failure, classify, is_throttling_code};
use super::store_cursor::{
    CursorKeys, check_item, check_key, check_transaction, expiry_from_secs, expiry_secs,
    merge_deltas, page_size, visible,
};
use crate::ports::Clock;
use crate::ports::store::{
    IndexKey, Item, ItemStore, Key, MAX_BATCH_GET, MAX_BATCH_PUT, Page, PutCondition, Query,
    StoreError, Stored, TxOp, Version, check_batch,
};

const PK: &str = "pk";
const SK: &str = "sk";
const VERSION: &str = "v";
const DATA: &str = "d";
const TTL: &str = "ttl";
const GSI1: &str = "gsi1";
const GSI1_PK: &str = "gsi1pk";
const GSI1_SK: &str = "gsi1sk";
const COUNTER_PREFIX: &str = "c_";
/// A DynamoDB item, or key, as its attributes.
type Attributes = HashMap<String, AttributeValue>;
/// How often `add` retries when an expired item changes under it.
const ADD_ATTEMPTS: usize = 5;
/// The most keys one BatchGetItem request may name (DynamoDB's limit).
const BATCH_GET_KEYS: usize = 100;
/// How many BatchGetItem rounds in a row may leave every key unprocessed
/// before `get_many` gives up as throttled.
const BATCH_GET_IDLE_ROUNDS: u32 = 6;
/// The wait before asking again for unprocessed keys; it doubles with each
/// round in a row that read nothing.
const BATCH_GET_BACKOFF: Duration = Duration::from_millis(20);
/// How many PutItem calls `put_each` keeps in flight.
const PUT_EACH_CONCURRENCY: usize = 32;

/// What became of an add to the visible item.
enum Added {
    /// Done; the item's attributes after it.
    Done(Attributes),
    /// The item is there but expired, so it counts as absent.
    Expired,
    /// The item changed between the write and its condition: try again.
    Changed,
}

/// The item store on one DynamoDB table.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            clock,
        }
    }

    /// Creates the table as the SAM template declares it (on-demand, `pk`/`sk`,
    /// index `gsi1`, TTL on `ttl`) and waits until it is active. A table
    /// that exists already is left as it is, with TTL switched on.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_err)
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(build_err)
        };
        let gsi1 = GlobalSecondaryIndex::builder()
            .index_name(GSI1)
            .key_schema(key(GSI1_PK, KeyType::Hash)?)
            .key_schema(key(GSI1_SK, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(build_err)?;
        let created = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute(PK)?)
            .attribute_definitions(attribute(SK)?)
            .attribute_definitions(attribute(GSI1_PK)?)
            .attribute_definitions(attribute(GSI1_SK)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .global_secondary_indexes(gsi1)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceInUseException") => {}
            Err(e) => return Err(sdk_err(e)),
        }
        client
            .wait_until_table_exists()
            .table_name(table)
            .wait(std::time::Duration::from_secs(120))
            .await
            .map_err(|e| StoreError::Unavailable(DisplayErrorContext(&e).to_string()))?;

        let ttl = client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(sdk_err)?;
        let status = ttl
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status());
        if !matches!(
            status,
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        ) {
            client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name(TTL)
                        .build()
                        .map_err(build_err)?,
                )
                .send()
                .await
                .map_err(sdk_err)?;
        }
        Ok(())
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// The PutItem call that writes a checked item if its condition holds,
    /// ready to send, and the version it writes.
    fn put_item_call(
        &self,
        item: &Item,
        condition: PutCondition,
        now: i64,
    ) -> (PutItemFluentBuilder, Version) {
        let version = Version::fresh();
        let put = self.put_request(item, version, put_condition(condition, now));
        let call = self
            .client
            .put_item()
            .table_name(put.table_name)
            .set_item(Some(put.item))
            .set_condition_expression(put.condition_expression)
            .set_expression_attribute_names(put.expression_attribute_names)
            .set_expression_attribute_values(put.expression_attribute_values);
        (call, version)
    }

    fn put_request(&self, item: &Item, version: Version, condition: Option<Condition>) -> Put {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item_attributes(item, version)));
        if let Some(cond) = condition {
            put = put
                .condition_expression(cond.text)
                .set_expression_attribute_names(Some(cond.names))
                .set_expression_attribute_values(non_empty(cond.values));
        }
        put.build().expect("table, item given")
    }

    async fn read_page(
        &self,
        query: &Query,
        start: Option<Attributes>,
        limit: usize,
        now: i64,
    ) -> Result<(Vec<Attributes>, Option<Attributes>), StoreError> {
        let (part, sort) = if query.on_index {
            (GSI1_PK, GSI1_SK)
        } else {
            (PK, SK)
        };
        let mut expr = Expr::default();
        let mut key_condition = format!(
            "{} = {}",
            expr.name(part),
            expr.value(text(query.prefix.pk()))
        );
        if !query.prefix.sk_prefix().is_empty() {
            key_condition = format!(
                "{key_condition} AND begins_with({}, {})",
                expr.name(sort),
                expr.value(text(query.prefix.sk_prefix()))
            );
        }
        let filter = visible_condition(&mut expr, now);
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .filter_expression(filter)
            .set_expression_attribute_names(Some(expr.names))
            .set_expression_attribute_values(Some(expr.values))
            .scan_index_forward(!query.descending)
            .limit(limit)
            .set_exclusive_start_key(start);
        request = if query.on_index {
            request.index_name(GSI1)
        } else {
            request.consistent_read(true)
        };
        let out = request.send().await.map_err(sdk_err)?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
    }

    /// Adds the deltas to the item if it is visible or absent, and only if
    /// no counter would leave the 64-bit range (DynamoDB's numbers would go
    /// past it, and the item could not be read back).
    async fn add_to_visible(
        &self,
        key: &Key,
        deltas: &BTreeMap<String, i64>,
        now: i64,
    ) -> Result<Added, StoreError> {
        let mut expr = Expr::default();
        let mut update = format!(
            "SET {v} = if_not_exists({v}, {fresh}), {d} = if_not_exists({d}, {empty})",
            v = expr.name(VERSION),
            fresh = expr.value(version_value(Version::fresh())),
            d = expr.name(DATA),
            empty = expr.value(AttributeValue::M(HashMap::new())),
        );
        let adds: Vec<String> = deltas
            .iter()
            .map(|(name, delta)| {
                format!(
                    "{} {}",
                    expr.name(&counter_attribute(name)),
                    expr.value(number(*delta))
                )
            })
            .collect();
        if !adds.is_empty() {
            update = format!("{update} ADD {}", adds.join(", "));
        }
        let mut conditions = vec![format!(
            "(attribute_not_exists({}) OR {})",
            expr.name(PK),
            visible_condition(&mut expr, now)
        )];
        conditions.extend(
            deltas
                .iter()
                .filter_map(|(name, delta)| in_range_condition(&mut expr, name, *delta)),
        );
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .update_expression(update)
            .condition_expression(conditions.join(" AND "))
            .set_expression_attribute_names(Some(expr.names))
            .set_expression_attribute_values(Some(expr.values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let err = match result {
            Ok(out) => return Ok(Added::Done(out.attributes.unwrap_or_default())),
            Err(err) => err,
        };
        let Some(UpdateItemError::ConditionalCheckFailedException(failed)) = err.as_service_error()
        else {
            return Err(sdk_err(err));
        };
        // The condition failed on this item: if it is visible, a counter
        // would overflow; otherwise it has expired.
        let old = failed.item().cloned().unwrap_or_default();
        match visible_stored(old, now)? {
            Some(stored) => match overflowing_counter(&stored.item.counters, deltas) {
                Some(name) => Err(StoreError::InvalidItem(format!("counter {name} overflows"))),
                // It changed meanwhile: let the caller try again.
                None => Ok(Added::Changed),
            },
            None => Ok(Added::Expired),
        }
    }

    /// Replaces an expired item by a fresh one holding only the deltas, if
    /// it is still expired.
    async fn replace_expired(
        &self,
        key: &Key,
        deltas: &BTreeMap<String, i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let item = Item {
            key: key.clone(),
            data: serde_json::json!({}),
            counters: deltas.clone(),
            expires_at: None,
            index: None,
        };
        let mut expr = Expr::default();
        let condition = format!("{} <= {}", expr.name(TTL), expr.value(number(now)));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_attributes(&item, Version::fresh())))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(expr.names))
            .set_expression_attribute_values(Some(expr.values))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }
}

#[async_trait]
impl ItemStore for DynamoStore {
    fn backend(&self) -> &'static str {
        "dynamodb"
    }

    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        let now = self.now();
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        match out.item {
            Some(attributes) => visible_stored(attributes, now),
            None => Ok(None),
        }
    }

    async fn put(&self, item: Item, condition: PutCondition) -> Result<Version, StoreError> {
        check_item(&item)?;
        let (call, version) = self.put_item_call(&item, condition, self.now());
        call.send().await.map_err(sdk_err)?;
        Ok(version)
    }

    async fn add(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        check_key(key)?;
        let deltas = merge_deltas(deltas)?;
        let now = self.now();
        for _ in 0..ADD_ATTEMPTS {
            match self.add_to_visible(key, &deltas, now).await? {
                Added::Done(attributes) => {
                    return deltas
                        .keys()
                        .map(|name| {
                            let value = attributes
                                .get(&counter_attribute(name))
                                .map(counter_value)
                                .transpose()?
                                .unwrap_or_default();
                            Ok((name.clone(), value))
                        })
                        .collect();
                }
                // The item is there but expired: it counts as absent.
                Added::Expired => match self.replace_expired(key, &deltas, now).await {
                    Ok(()) => return Ok(deltas),
                    // Someone replaced or removed it meanwhile: start over.
                    Err(StoreError::ConditionFailed) => continue,
                    Err(e) => return Err(e),
                },
                Added::Changed => continue,
            }
        }
        Err(StoreError::Unavailable(
            "the item kept changing during an add".to_owned(),
        ))
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let mut start = query
            .cursor
            .as_ref()
            .map(|c| CursorKeys::decode_for(c, &query))
            .transpose()?
            .map(|keys| cursor_attributes(&keys));
        let limit = page_size(&query);
        let now = self.now();
        let mut items: Vec<Stored> = Vec::new();
        // Read until one visible item more than the page is seen (so the
        // page knows whether another follows) or the partition ends.
        loop {
            let wanted = limit + 1 - items.len();
            let (found, last) = self.read_page(&query, start, wanted, now).await?;
            for attributes in found {
                if let Some(stored) = visible_stored(attributes, now)? {
                    items.push(stored);
                }
            }
            if items.len() > limit {
                items.truncate(limit);
                let last = items.last().expect("a full page");
                let index = query.on_index.then_some(last.item.index.as_ref()).flatten();
                let next = Some(CursorKeys::after(&last.item.key, index).encode());
                return Ok(Page { items, next });
            }
            match last {
                Some(last) => start = Some(last),
                None => return Ok(Page { items, next: None }),
            }
        }
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        let now = self.now();
        let items = ops
            .iter()
            .map(|op| self.transact_item(op, now))
            .collect::<Vec<_>>();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(transaction_err(e)),
        }
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Stored>>, StoreError> {
        check_batch(keys.iter(), MAX_BATCH_GET)?;
        let now = self.now();
        let mut reads = JoinSet::new();
        for chunk in keys.chunks(BATCH_GET_KEYS) {
            let chunk = chunk.iter().map(key_attributes).collect();
            reads.spawn(batch_get(self.client.clone(), self.table.clone(), chunk));
        }
        let position: HashMap<&Key, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
        let mut found = vec![None; keys.len()];
        while let Some(read) = reads.join_next().await {
            for attributes in read.map_err(task_err)?? {
                let Some(stored) = visible_stored(attributes, now)? else {
                    continue;
                };
                let at = *position
                    .get(&stored.item.key)
                    .ok_or_else(|| corrupt("an item that was not asked for"))?;
                found[at] = Some(stored);
            }
        }
        Ok(found)
    }

    async fn put_each(
        &self,
        writes: Vec<(Item, PutCondition)>,
    ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
        check_batch(writes.iter().map(|(item, _)| &item.key), MAX_BATCH_PUT)?;
        // DynamoDB has no conditional batch write: one conditional PutItem
        // per item, a bounded number in flight. On an outer error the calls
        // still in flight are dropped, which the port allows.
        let now = self.now();
        let mut results: Vec<Option<Result<Version, StoreError>>> = vec![None; writes.len()];
        let mut calls = JoinSet::new();
        for (at, (item, condition)) in writes.iter().enumerate() {
            if let Err(invalid) = check_item(item) {
                results[at] = Some(Err(invalid));
                continue;
            }
            if calls.len() >= PUT_EACH_CONCURRENCY
                && let Some(done) = calls.join_next().await
            {
                settle(done, &mut results)?;
            }
            let (call, version) = self.put_item_call(item, *condition, now);
            calls.spawn(async move { (at, call.send().await.map(|_| version).map_err(sdk_err)) });
        }
        while let Some(done) = calls.join_next().await {
            settle(done, &mut results)?;
        }
        Ok(results
            .into_iter()
            .map(|result| result.expect("every write was answered"))
            .collect())
    }
}

/// Reads up to [`BATCH_GET_KEYS`] keys with BatchGetItem, strongly
/// consistent, asking again for the keys DynamoDB leaves unprocessed
/// (throttling, or its 16 MB answer limit) with a short backoff. Gives up
/// as `Throttled` after [`BATCH_GET_IDLE_ROUNDS`] rounds in a row that read
/// nothing; a round that reads something starts the count afresh, so the
/// loop ends after at most one round per key plus the idle ones.
async fn batch_get(
    client: Client,
    table: String,
    keys: Vec<Attributes>,
) -> Result<Vec<Attributes>, StoreError> {
    let mut items = Vec::with_capacity(keys.len());
    let mut pending = keys;
    let mut idle = 0;
    loop {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(pending))
            .consistent_read(true)
            .build()
            .map_err(build_err)?;
        let out = client
            .batch_get_item()
            .request_items(&table, request)
            .send()
            .await
            .map_err(sdk_err)?;
        let read = out
            .responses
            .and_then(|mut by_table| by_table.remove(&table))
            .unwrap_or_default();
        let unprocessed = out
            .unprocessed_keys
            .and_then(|mut by_table| by_table.remove(&table))
            .map(|rest| rest.keys)
            .unwrap_or_default();
        if unprocessed.is_empty() {
            items.extend(read);
            return Ok(items);
        }
        if read.is_empty() {
            idle += 1;
            if idle >= BATCH_GET_IDLE_ROUNDS {
                return Err(StoreError::Throttled);
            }
        } else {
            idle = 0;
        }
        items.extend(read);
        pending = unprocessed;
        tokio::time::sleep(BATCH_GET_BACKOFF * 2u32.pow(idle)).await;
    }
}

/// Records the answer of one `put_each` write: its version, or its own
/// refusal (condition, invalid item); any other failure fails the call.
fn settle(
    done: Result<(usize, Result<Version, StoreError>), JoinError>,
    results: &mut [Option<Result<Version, StoreError>>],
) -> Result<(), StoreError> {
    let (at, answer) = done.map_err(task_err)?;
    results[at] = Some(match answer {
        Ok(version) => Ok(version),
        Err(refused @ (StoreError::ConditionFailed | StoreError::InvalidItem(_))) => Err(refused),
        Err(failed) => return Err(failed),
    });
    Ok(())
}

fn task_err(e: JoinError) -> StoreError {
    StoreError::Backend(format!("a store task failed: {e}"))
}

impl DynamoStore {
    fn transact_item(&self, op: &TxOp, now: i64) -> TransactWriteItem {
        match op {
            TxOp::Put { item, condition } => TransactWriteItem::builder()
                .put(self.put_request(item, Version::fresh(), put_condition(*condition, now)))
                .build(),
            TxOp::Delete { key, condition } => {
                let mut delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(key)));
                if let Some(cond) = put_condition(*condition, now) {
                    delete = delete
                        .condition_expression(cond.text)
                        .set_expression_attribute_names(Some(cond.names))
                        .set_expression_attribute_values(non_empty(cond.values));
                }
                TransactWriteItem::builder()
                    .delete(delete.build().expect("table, key given"))
                    .build()
            }
            TxOp::Check { key, condition } => {
                let cond = put_condition(*condition, now).unwrap_or_else(|| {
                    let mut expr = Expr::default();
                    let pk = expr.name(PK);
                    expr.finish(format!(
                        "attribute_exists({pk}) OR attribute_not_exists({pk})"
                    ))
                });
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(key)))
                    .condition_expression(cond.text)
                    .set_expression_attribute_names(Some(cond.names))
                    .set_expression_attribute_values(non_empty(cond.values))
                    .build()
                    .expect("table, key, condition given");
                TransactWriteItem::builder().condition_check(check).build()
            }
        }
    }
}

/// An expression with its attribute names (`#n0`...) and values (`:v0`...),
/// so that every placeholder is used exactly once declared.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: Attributes,
}

struct Condition {
    text: String,
    names: HashMap<String, String>,
    values: Attributes,
}

/// None for an empty map: DynamoDB refuses an empty map of expression values.
fn non_empty(values: Attributes) -> Option<Attributes> {
    (!values.is_empty()).then_some(values)
}

impl Expr {
    fn name(&mut self, attribute: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, a)| *a == attribute) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn finish(self, text: String) -> Condition {
        Condition {
            text,
            names: self.names,
            values: self.values,
        }
    }
}

fn text(s: &str) -> AttributeValue {
    AttributeValue::S(s.to_owned())
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn version_value(version: Version) -> AttributeValue {
    AttributeValue::N(version.0.to_string())
}

/// "The item has no expiry, or it has not come yet."
fn visible_condition(expr: &mut Expr, now: i64) -> String {
    let ttl = expr.name(TTL);
    let now = expr.value(number(now));
    format!("(attribute_not_exists({ttl}) OR {ttl} > {now})")
}

/// The DynamoDB condition for a port condition; expired items count as absent.
fn put_condition(condition: PutCondition, now: i64) -> Option<Condition> {
    let mut expr = Expr::default();
    let text = match condition {
        PutCondition::Always => return None,
        PutCondition::NotExists => format!(
            "attribute_not_exists({}) OR {} <= {}",
            expr.name(PK),
            expr.name(TTL),
            expr.value(number(now))
        ),
        PutCondition::Version(version) => {
            let v = format!(
                "{} = {}",
                expr.name(VERSION),
                expr.value(version_value(version))
            );
            format!("{v} AND {}", visible_condition(&mut expr, now))
        }
    };
    Some(expr.finish(text))
}

/// The condition that adding `delta` keeps the counter within `i64`
/// (an absent counter counts as 0); none for a delta of 0.
fn in_range_condition(expr: &mut Expr, name: &str, delta: i64) -> Option<String> {
    let counter = expr.name(&counter_attribute(name));
    let (comparison, bound) = match delta.cmp(&0) {
        std::cmp::Ordering::Equal => return None,
        std::cmp::Ordering::Greater => ("<=", i64::MAX - delta),
        std::cmp::Ordering::Less => (">=", i64::MIN - delta),
    };
    let bound = expr.value(number(bound));
    Some(format!(
        "(attribute_not_exists({counter}) OR {counter} {comparison} {bound})"
    ))
}

/// The first counter (in name order) that adding its delta would take out
/// of the `i64` range.
fn overflowing_counter<'a>(
    counters: &BTreeMap<String, i64>,
    deltas: &'a BTreeMap<String, i64>,
) -> Option<&'a str> {
    deltas
        .iter()
        .find(|(name, delta)| {
            counters
                .get(*name)
                .copied()
                .unwrap_or_default()
                .checked_add(**delta)
                .is_none()
        })
        .map(|(name, _)| name.as_str())
}

fn counter_attribute(name: &str) -> String {
    format!("{COUNTER_PREFIX}{name}")
}

fn key_attributes(key: &Key) -> Attributes {
    HashMap::from([
        (PK.to_owned(), text(key.pk())),
        (SK.to_owned(), text(key.sk())),
    ])
}

fn cursor_attributes(keys: &CursorKeys) -> Attributes {
    let mut map = HashMap::from([
        (PK.to_owned(), text(&keys.pk)),
        (SK.to_owned(), text(&keys.sk)),
    ]);
    if let (Some(ipk), Some(isk)) = (&keys.ipk, &keys.isk) {
        map.insert(GSI1_PK.to_owned(), text(ipk));
        map.insert(GSI1_SK.to_owned(), text(isk));
    }
    map
}

fn item_attributes(item: &Item, version: Version) -> Attributes {
    let mut map = key_attributes(&item.key);
    map.insert(VERSION.to_owned(), version_value(version));
    map.insert(DATA.to_owned(), to_attribute(&item.data));
    for (name, value) in &item.counters {
        map.insert(counter_attribute(name), number(*value));
    }
    if let Some(ttl) = expiry_secs(item.expires_at) {
        map.insert(TTL.to_owned(), number(ttl));
    }
    if let Some(index) = &item.index {
        map.insert(GSI1_PK.to_owned(), text(index.pk()));
        map.insert(GSI1_SK.to_owned(), text(index.sk()));
    }
    map
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("stored item: {what}"))
}

fn string_attribute(map: &mut Attributes, name: &str) -> Option<String> {
    match map.remove(name) {
        Some(AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

fn number_text(value: &AttributeValue) -> Option<&str> {
    match value {
        AttributeValue::N(n) => Some(n.as_str()),
        _ => None,
    }
}

fn counter_value(value: &AttributeValue) -> Result<i64, StoreError> {
    number_text(value)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| corrupt("a counter is not a 64-bit integer"))
}

/// The stored item, or none if it has expired.
fn visible_stored(mut map: Attributes, now: i64) -> Result<Option<Stored>, StoreError> {
    let ttl = match map.remove(TTL) {
        Some(value) => Some(
            number_text(&value)
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| corrupt("ttl is not an integer"))?,
        ),
        None => None,
    };
    if !visible(ttl, now) {
        return Ok(None);
    }
    let pk = string_attribute(&mut map, PK).ok_or_else(|| corrupt("no pk"))?;
    let sk = string_attribute(&mut map, SK).ok_or_else(|| corrupt("no sk"))?;
    let version = map
        .get(VERSION)
        .and_then(number_text)
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| corrupt("no version"))?;
    let data = match map.get(DATA) {
        Some(value) => from_attribute(value)?,
        None => Value::Object(serde_json::Map::new()),
    };
    let index = match (
        string_attribute(&mut map, GSI1_PK),
        string_attribute(&mut map, GSI1_SK),
    ) {
        (Some(pk), Some(sk)) => Some(IndexKey::from_storage(pk, sk)),
        _ => None,
    };
    let counters = map
        .iter()
        .filter_map(|(name, value)| {
            name.strip_prefix(COUNTER_PREFIX)
                .map(|counter| Ok((counter.to_owned(), counter_value(value)?)))
        })
        .collect::<Result<BTreeMap<_, _>, StoreError>>()?;
    Ok(Some(Stored {
        item: Item {
            key: Key::from_storage(pk, sk),
            data,
            counters,
            expires_at: expiry_from_secs(ttl)?,
            index,
        },
        version: Version(version),
    }))
}

/// JSON as a DynamoDB attribute: objects as maps, arrays as lists, numbers
/// as numbers (kept as their decimal text), null as NULL.
pub(crate) fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(values) => AttributeValue::L(values.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

/// A DynamoDB attribute back as JSON. Sets (never written by this adapter)
/// read as arrays; binary values are refused.
pub(crate) fn from_attribute(value: &AttributeValue) -> Result<Value, StoreError> {
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => Value::Number(parse_number(n)?),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(values) => Value::Array(
            values
                .iter()
                .map(from_attribute)
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), from_attribute(v)?)))
                .collect::<Result<_, StoreError>>()?,
        ),
        AttributeValue::Ss(values) => {
            Value::Array(values.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(values) => Value::Array(
            values
                .iter()
                .map(|n| parse_number(n).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(corrupt("an attribute type EMMA does not store")),
    })
}

fn parse_number(n: &str) -> Result<serde_json::Number, StoreError> {
    if let Ok(number) = n.parse::<serde_json::Number>() {
        return Ok(number);
    }
    n.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .ok_or_else(|| corrupt("a number out of range"))
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps an SDK error: throttling and transient failures to their port
/// errors, refusals by their code; the rest is a backend failure.
fn sdk_err<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match classify(&err) {
        Failure::Throttled { .. } => StoreError::Throttled,
        Failure::Transient(details) => StoreError::Unavailable(details),
        Failure::Service { code, message } => by_code(&code, &message),
        Failure::Local(details) => StoreError::Backend(details),
    }
}

/// Maps a DynamoDB error code (of a refused request, or a reason a
/// transaction was cancelled) to its port error.
fn by_code(code: &str, message: &str) -> StoreError {
    match code {
        "ConditionalCheckFailedException" | "ConditionalCheckFailed" => StoreError::ConditionFailed,
        _ if is_throttling_code(code) => StoreError::Throttled,
        "TransactionConflictException"
        | "TransactionConflict"
        | "TransactionInProgressException" => StoreError::Unavailable(format!("{code}: {message}")),
        "ValidationException" if message.contains("size") => {
            StoreError::InvalidItem(message.to_owned())
        }
        other => StoreError::Backend(format!("{other}: {message}")),
    }
}

/// A cancelled transaction fails on its first telling reason: a condition
/// beats throttling, which beats anything else.
fn transaction_err(err: SdkError<TransactWriteItemsError, HttpResponse>) -> StoreError {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        err.as_service_error()
    else {
        return sdk_err(err);
    };
    let mut codes: Vec<&str> = cancelled
        .cancellation_reasons()
        .iter()
        .filter_map(|r| r.code())
        .filter(|c| *c != "None")
        .collect();
    if codes.is_empty() {
        // No reasons given: read them from the message, as a last resort.
        let message = cancelled.message().unwrap_or_default();
        if message.contains("ConditionalCheckFailed") {
            codes.push("ConditionalCheckFailed");
        }
    }
    let errors: Vec<StoreError> = codes.iter().map(|c| by_code(c, "")).collect();
    errors
        .iter()
        .find(|e| **e == StoreError::ConditionFailed)
        .or_else(|| errors.iter().find(|e| e.is_retryable()))
        .cloned()
        .unwrap_or_else(|| {
            StoreError::Backend(format!(
                "transaction cancelled: {}",
                cancelled.message().unwrap_or_default()
            ))
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;

    use super::*;
    use crate::adapters::aws::test_support::service_error;
    use crate::domain::TenantId;
    use crate::ports::store::keys::scratch;

    #[test]
    fn json_round_trips_through_attribute_values() {
        let value = json!({
            "name": "Zoë",
            "empty": "",
            "n": 42,
            "neg": -7,
            "big": u64::MAX,
            "f": 1.5,
            "tiny": 2.5e-12,
            "yes": true,
            "none": null,
            "list": [1, "two", [3], {"four": 4}],
            "nested": {"deeper": {"deepest": []}},
            "obj": {}
        });
        assert_eq!(from_attribute(&to_attribute(&value)).unwrap(), value);
    }

    #[test]
    fn json_maps_to_the_natural_attribute_types() {
        assert_eq!(to_attribute(&json!(null)), AttributeValue::Null(true));
        assert_eq!(to_attribute(&json!(12)), AttributeValue::N("12".into()));
        assert_eq!(to_attribute(&json!("x")), AttributeValue::S("x".into()));
        assert_eq!(
            to_attribute(&json!([true])),
            AttributeValue::L(vec![AttributeValue::Bool(true)])
        );
        assert_eq!(
            to_attribute(&json!({"a": 1})),
            AttributeValue::M(HashMap::from([("a".into(), AttributeValue::N("1".into()))]))
        );
    }

    #[test]
    fn numbers_read_back_in_the_forms_dynamodb_returns() {
        for (stored, expected) in [
            ("1", json!(1)),
            ("-0.25", json!(-0.25)),
            ("1E+3", json!(1000.0)),
            ("18446744073709551615", json!(u64::MAX)),
        ] {
            assert_eq!(
                from_attribute(&AttributeValue::N(stored.into())).unwrap(),
                expected
            );
        }
        assert!(from_attribute(&AttributeValue::N("abc".into())).is_err());
        assert!(from_attribute(&AttributeValue::B(vec![1].into())).is_err());
    }

    #[test]
    fn an_item_maps_to_the_table_attributes() {
        let t = TenantId::parse("tenant-a").unwrap();
        let expiry = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let item = Item::new(scratch::key(&t, "x"), &json!({"a": 1}))
            .unwrap()
            .with_counter("sent", 3)
            .with_index(scratch::index(&t, "g", "s"))
            .expiring_at(expiry);
        let map = item_attributes(&item, Version(9));
        assert_eq!(map["pk"], text("tenant-a"));
        assert_eq!(map["sk"], text("scratch#x"));
        assert_eq!(map["v"], AttributeValue::N("9".into()));
        assert_eq!(map["c_sent"], AttributeValue::N("3".into()));
        assert_eq!(map["ttl"], AttributeValue::N("1800000000".into()));
        assert_eq!(map["gsi1pk"], text("tenant-a#scratch#g"));
        assert_eq!(map["gsi1sk"], text("s"));
        let stored = visible_stored(map.clone(), 1_799_999_999).unwrap().unwrap();
        assert_eq!(stored.item, item);
        assert_eq!(stored.version, Version(9));
        assert_eq!(visible_stored(map, 1_800_000_000).unwrap(), None);
    }

    fn answered(status: u16, code: &str, message: &str) -> StoreError {
        sdk_err(service_error(status, code, message, GetItemError::generic))
    }

    #[test]
    fn service_error_codes_map_to_port_errors() {
        assert_eq!(
            answered(400, "ConditionalCheckFailedException", ""),
            StoreError::ConditionFailed
        );
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
        ] {
            assert_eq!(answered(400, code, ""), StoreError::Throttled);
        }
        assert!(answered(500, "InternalServerError", "").is_retryable());
        assert!(answered(503, "Unknown", "").is_retryable());
        assert!(answered(400, "TransactionConflictException", "").is_retryable());
        assert!(matches!(
            answered(
                400,
                "ValidationException",
                "Item size has exceeded the maximum"
            ),
            StoreError::InvalidItem(_)
        ));
        assert!(matches!(
            answered(400, "ValidationException", "bad expression"),
            StoreError::Backend(_)
        ));
    }

    fn cancelled(codes: &[&str]) -> SdkError<TransactWriteItemsError, HttpResponse> {
        let mut error = TransactionCanceledException::builder().message("cancelled");
        for code in codes {
            error = error.cancellation_reasons(CancellationReason::builder().code(*code).build());
        }
        let error = TransactWriteItemsError::TransactionCanceledException(error.build());
        let response = HttpResponse::new(
            http::StatusCode::BAD_REQUEST.into(),
            aws_sdk_s3::primitives::SdkBody::empty(),
        );
        SdkError::service_error(error, response)
    }

    #[test]
    fn a_counter_may_reach_but_not_pass_the_ends_of_the_i64_range() {
        let deltas = |pairs: &[(&str, i64)]| -> BTreeMap<String, i64> {
            pairs.iter().map(|(n, d)| ((*n).to_owned(), *d)).collect()
        };
        let counters = deltas(&[("hi", i64::MAX - 1), ("lo", i64::MIN + 1)]);
        assert_eq!(
            overflowing_counter(&counters, &deltas(&[("hi", 1), ("lo", -1)])),
            None
        );
        assert_eq!(
            overflowing_counter(&counters, &deltas(&[("hi", 2), ("lo", -1)])),
            Some("hi")
        );
        assert_eq!(
            overflowing_counter(&counters, &deltas(&[("lo", -2), ("new", i64::MAX)])),
            Some("lo")
        );

        let mut expr = Expr::default();
        assert_eq!(in_range_condition(&mut expr, "n", 0), None);
        let up = in_range_condition(&mut expr, "n", 5).unwrap();
        assert_eq!(up, "(attribute_not_exists(#n0) OR #n0 <= :v0)");
        assert_eq!(expr.values[":v0"], number(i64::MAX - 5));
        let down = in_range_condition(&mut expr, "n", -5).unwrap();
        assert_eq!(down, "(attribute_not_exists(#n0) OR #n0 >= :v1)");
        assert_eq!(expr.values[":v1"], number(i64::MIN + 5));
    }

    #[test]
    fn a_cancelled_transaction_fails_on_its_most_telling_reason() {
        assert_eq!(
            transaction_err(cancelled(&[
                "None",
                "ThrottlingError",
                "ConditionalCheckFailed"
            ])),
            StoreError::ConditionFailed
        );
        assert_eq!(
            transaction_err(cancelled(&["None", "ThrottlingError"])),
            StoreError::Throttled
        );
        assert!(transaction_err(cancelled(&["TransactionConflict", "None"])).is_retryable());
        assert!(matches!(
            transaction_err(cancelled(&["ValidationError"])),
            StoreError::Backend(_)
        ));
    }

    #[test]
    fn a_refused_write_is_answered_alone_and_any_other_failure_fails_the_batch() {
        let mut results = vec![None; 3];
        settle(Ok((2, Ok(Version(7)))), &mut results).unwrap();
        settle(Ok((0, Err(StoreError::ConditionFailed))), &mut results).unwrap();
        let too_big = StoreError::InvalidItem("too big".into());
        settle(Ok((1, Err(too_big.clone()))), &mut results).unwrap();
        assert_eq!(
            results,
            [
                Some(Err(StoreError::ConditionFailed)),
                Some(Err(too_big)),
                Some(Ok(Version(7)))
            ]
        );
        let mut results = vec![None; 1];
        assert_eq!(
            settle(Ok((0, Err(StoreError::Throttled))), &mut results),
            Err(StoreError::Throttled)
        );
        assert_eq!(results, [None]);
    }

    #[test]
    fn expressions_declare_each_name_once() {
        let mut expr = Expr::default();
        let a = expr.name("ttl");
        let b = expr.name("ttl");
        assert_eq!(a, b);
        assert_eq!(expr.names.len(), 1);
        let c = put_condition(PutCondition::Version(Version(5)), 10).unwrap();
        assert_eq!(c.names.len(), 2);
        assert_eq!(c.values.len(), 2);
        assert!(put_condition(PutCondition::Always, 10).is_none());
    }
}
