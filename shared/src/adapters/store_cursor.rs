//! What the two item store adapters (SQLite and DynamoDB) must agree on: the
//! format of the query cursor both hand out and check, and the checks every
//! item passes before either of them writes it.

use std::collections::{BTreeMap, HashSet};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::store::{
    Cursor, IndexKey, Item, JsonItem, Key, MAX_ITEM_BYTES, MAX_PAGE_SIZE, MAX_TRANSACTION_OPS,
    Query, StoreError, TxOp, valid_counter_name,
};

/// DynamoDB's limit on a partition key value, in bytes.
const MAX_PK_BYTES: usize = 2048;
/// DynamoDB's limit on a sort key value, in bytes.
const MAX_SK_BYTES: usize = 1024;
/// DynamoDB's limit on nested attributes; the data attribute itself is the first level.
const MAX_DEPTH: usize = 32;
/// The largest cursor accepted from a client, before decoding.
const MAX_CURSOR_CHARS: usize = 8 * 1024;

/// The keys of the last item a page returned: where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CursorKeys {
    pub pk: String,
    pub sk: String,
    /// The index key, present exactly when the query read the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isk: Option<String>,
}

impl CursorKeys {
    /// The position after `key` (and its index key, on an index query).
    pub fn after(key: &Key, index: Option<&IndexKey>) -> Self {
        Self {
            pk: key.pk().to_owned(),
            sk: key.sk().to_owned(),
            ipk: index.map(|i| i.pk().to_owned()),
            isk: index.map(|i| i.sk().to_owned()),
        }
    }

    pub fn encode(&self) -> Cursor {
        let json = serde_json::to_vec(self).expect("cursor keys serialize");
        Cursor::from_adapter(URL_SAFE_NO_PAD.encode(json))
    }

    /// Reads a client's cursor and checks it belongs to `query`: same kind
    /// (table or index), same partition, and a position inside the prefix.
    /// Anything else, garbage included, is `InvalidCursor`.
    pub fn decode_for(cursor: &Cursor, query: &Query) -> Result<Self, StoreError> {
        let raw = cursor.as_str();
        if raw.len() > MAX_CURSOR_CHARS {
            return Err(StoreError::InvalidCursor);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| StoreError::InvalidCursor)?;
        let keys: Self = serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
        let (partition, position) = match (query.on_index, &keys.ipk, &keys.isk) {
            (false, None, None) => (&keys.pk, &keys.sk),
            (true, Some(ipk), Some(isk)) => (ipk, isk),
            _ => return Err(StoreError::InvalidCursor),
        };
        if partition != query.prefix.pk() || !position.starts_with(query.prefix.sk_prefix()) {
            return Err(StoreError::InvalidCursor);
        }
        Ok(keys)
    }
}

/// The page size a query asks for, kept within 1 to [`MAX_PAGE_SIZE`].
pub(crate) fn page_size(query: &Query) -> usize {
    query.limit.clamp(1, MAX_PAGE_SIZE) as usize
}

/// Expiry as stored: whole epoch seconds.
pub(crate) fn expiry_secs(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(|t| t.timestamp())
}

/// Expiry as read back from whole epoch seconds.
pub(crate) fn expiry_from_secs(secs: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    secs.map(|s| {
        DateTime::from_timestamp(s, 0)
            .ok_or_else(|| StoreError::Backend(format!("stored expiry {s} is out of range")))
    })
    .transpose()
}

/// Whether an item with this stored expiry is visible at `now_secs`: it
/// expires once its expiry is at or before now.
pub(crate) fn visible(expires_at: Option<i64>, now_secs: i64) -> bool {
    expires_at.is_none_or(|t| t > now_secs)
}

/// Checks a key fits DynamoDB's limits.
pub(crate) fn check_key(key: &Key) -> Result<(), StoreError> {
    check_key_parts(key.pk(), key.sk(), "key")
}

fn check_key_parts(pk: &str, sk: &str, what: &str) -> Result<(), StoreError> {
    if pk.is_empty() || sk.is_empty() {
        return Err(StoreError::InvalidItem(format!("an empty {what} part")));
    }
    if pk.len() > MAX_PK_BYTES || sk.len() > MAX_SK_BYTES {
        return Err(StoreError::InvalidItem(format!("the {what} is too long")));
    }
    Ok(())
}

/// Checks an item before any write: keys, counter names, and data that
/// DynamoDB stores as it is (size, nesting, number range).
pub(crate) fn check_item(item: &Item) -> Result<(), StoreError> {
    check_item_into(item, &mut Vec::new())
}

/// Checks an item as [`check_item`] does, and leaves the JSON of its data
/// in `json` (replacing what it held), so that a writer that stores the
/// data as JSON text need not serialise it a second time. On an error,
/// `json` holds nothing of use.
pub(crate) fn check_item_into(item: &Item, json: &mut Vec<u8>) -> Result<(), StoreError> {
    check_key(&item.key)?;
    if let Some(index) = &item.index {
        check_key_parts(index.pk(), index.sk(), "index key")?;
    }
    for name in item.counters.keys() {
        check_counter_name(name)?;
    }
    json.clear();
    serde_json::to_writer(&mut *json, &item.data)
        .map_err(|e| StoreError::InvalidItem(e.to_string()))?;
    let size = json.len();
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::InvalidItem(format!(
            "the data takes {size} bytes, more than {MAX_ITEM_BYTES}"
        )));
    }
    check_value(&item.data, 1)
}

/// Checks an item whose data is JSON text as [`check_item`] checks an
/// [`Item`] (keys, size, nesting, number range), reading the text once
/// without building a tree.
pub(crate) fn check_json_item(item: &JsonItem) -> Result<(), StoreError> {
    use serde::de::DeserializeSeed;
    check_key(&item.key)?;
    if let Some(index) = &item.index {
        check_key_parts(index.pk(), index.sk(), "index key")?;
    }
    let size = item.json().len();
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::InvalidItem(format!(
            "the data takes {size} bytes, more than {MAX_ITEM_BYTES}"
        )));
    }
    let mut reader = serde_json::Deserializer::from_str(item.json());
    // The check's own error comes back through serde's custom message.
    let read = JsonCheck { depth: 1 }
        .deserialize(&mut reader)
        .and_then(|()| reader.end());
    read.map_err(|e| {
        if e.is_data() {
            StoreError::InvalidItem(e.to_string())
        } else {
            StoreError::InvalidItem(format!("item data: {:?} error", e.classify()))
        }
    })
}

/// Walks JSON text with the checks of [`check_value`] at nesting `depth`.
#[derive(Clone, Copy)]
struct JsonCheck {
    depth: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonCheck {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, reader: D) -> Result<(), D::Error> {
        reader.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonCheck {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON data")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => check_number(&n).map_err(E::custom),
            None => Err(E::custom("a number that is not finite")),
        }
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        check_depth(self.depth).map_err(serde::de::Error::custom)?;
        let inner = JsonCheck {
            depth: self.depth + 1,
        };
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        check_depth(self.depth).map_err(serde::de::Error::custom)?;
        let inner = JsonCheck {
            depth: self.depth + 1,
        };
        while map.next_key::<serde::de::IgnoredAny>()?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

fn check_counter_name(name: &str) -> Result<(), StoreError> {
    if valid_counter_name(name) {
        Ok(())
    } else {
        Err(StoreError::InvalidItem(format!(
            "invalid counter name {name:?}"
        )))
    }
}

fn check_value(value: &serde_json::Value, depth: usize) -> Result<(), StoreError> {
    use serde_json::Value;
    match value {
        Value::Array(values) => {
            check_depth(depth)?;
            values.iter().try_for_each(|v| check_value(v, depth + 1))
        }
        Value::Object(map) => {
            check_depth(depth)?;
            map.values().try_for_each(|v| check_value(v, depth + 1))
        }
        Value::Number(n) => check_number(n),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

fn check_depth(depth: usize) -> Result<(), StoreError> {
    if depth > MAX_DEPTH {
        Err(StoreError::InvalidItem(format!(
            "the data nests deeper than {MAX_DEPTH} levels"
        )))
    } else {
        Ok(())
    }
}

/// DynamoDB numbers: magnitudes from 1e-130 to below 1e126.
fn check_number(n: &serde_json::Number) -> Result<(), StoreError> {
    if n.is_i64() || n.is_u64() {
        return Ok(());
    }
    let magnitude = n.as_f64().unwrap_or(f64::INFINITY).abs();
    if magnitude == 0.0 || (1e-130..1e126).contains(&magnitude) {
        Ok(())
    } else {
        Err(StoreError::InvalidItem(format!(
            "the number {n} is out of the store's range"
        )))
    }
}

/// The deltas of an `add`, summed per counter name and checked.
pub(crate) fn merge_deltas(deltas: &[(&str, i64)]) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut merged = BTreeMap::new();
    for (name, delta) in deltas {
        check_counter_name(name)?;
        let sum: &mut i64 = merged.entry((*name).to_owned()).or_default();
        *sum = sum
            .checked_add(*delta)
            .ok_or_else(|| StoreError::InvalidItem(format!("counter {name} overflows")))?;
    }
    Ok(merged)
}

/// Checks a transaction's size, that it names each item once, and every item it writes.
pub(crate) fn check_transaction(ops: &[TxOp]) -> Result<(), StoreError> {
    if ops.is_empty() || ops.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::TransactionSize(ops.len()));
    }
    let mut seen = HashSet::with_capacity(ops.len());
    if !ops.iter().all(|op| seen.insert(op.key())) {
        return Err(StoreError::DuplicateInTransaction);
    }
    for op in ops {
        match op {
            TxOp::Put { item, .. } => check_item(item)?,
            TxOp::Delete { key, .. } | TxOp::Check { key, .. } => check_key(key)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::TenantId;
    use crate::ports::store::keys::scratch;

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }

    #[test]
    fn a_cursor_reads_back_for_its_own_query() {
        let t = tenant("tenant-a");
        let keys = CursorKeys::after(&scratch::key(&t, "item-7"), None);
        let query = Query::table(scratch::prefix(&t, "item-"));
        assert_eq!(CursorKeys::decode_for(&keys.encode(), &query), Ok(keys));
    }

    #[test]
    fn a_cursor_of_another_tenant_is_refused() {
        let keys = CursorKeys::after(&scratch::key(&tenant("tenant-b"), "item-7"), None);
        let query = Query::table(scratch::prefix(&tenant("tenant-a"), "item-"));
        assert_eq!(
            CursorKeys::decode_for(&keys.encode(), &query),
            Err(StoreError::InvalidCursor)
        );
    }

    #[test]
    fn a_table_cursor_is_refused_on_the_index_and_the_other_way_round() {
        let t = tenant("tenant-a");
        let key = scratch::key(&t, "item-7");
        let index = scratch::index(&t, "group", "s-1");
        let table_cursor = CursorKeys::after(&key, None).encode();
        let index_cursor = CursorKeys::after(&key, Some(&index)).encode();
        let on_index = Query::index(scratch::index_prefix(&t, "group", ""));
        let on_table = Query::table(scratch::prefix(&t, ""));
        assert_eq!(
            CursorKeys::decode_for(&table_cursor, &on_index),
            Err(StoreError::InvalidCursor)
        );
        assert_eq!(
            CursorKeys::decode_for(&index_cursor, &on_table),
            Err(StoreError::InvalidCursor)
        );
        assert!(CursorKeys::decode_for(&index_cursor, &on_index).is_ok());
    }

    #[test]
    fn a_cursor_outside_the_query_prefix_is_refused() {
        let t = tenant("tenant-a");
        let keys = CursorKeys::after(&scratch::key(&t, "other-1"), None);
        let query = Query::table(scratch::prefix(&t, "item-"));
        assert_eq!(
            CursorKeys::decode_for(&keys.encode(), &query),
            Err(StoreError::InvalidCursor)
        );
    }

    #[test]
    fn a_garbage_cursor_is_refused() {
        let query = Query::table(scratch::prefix(&tenant("tenant-a"), ""));
        for raw in ["", "not base64!", "e30", &"A".repeat(MAX_CURSOR_CHARS + 4)] {
            assert_eq!(
                CursorKeys::decode_for(&Cursor::from_client(raw), &query),
                Err(StoreError::InvalidCursor),
                "{raw:.20}"
            );
        }
    }

    #[test]
    fn an_item_with_data_nested_too_deep_is_refused() {
        let key = scratch::key(&tenant("tenant-a"), "deep");
        let mut ok = json!(1);
        for _ in 0..MAX_DEPTH {
            ok = json!([ok]);
        }
        assert_eq!(check_item(&Item::new(key.clone(), &ok).unwrap()), Ok(()));
        let too_deep = json!({ "x": ok });
        assert!(matches!(
            check_item(&Item::new(key, &too_deep).unwrap()),
            Err(StoreError::InvalidItem(_))
        ));
    }

    #[test]
    fn numbers_beyond_the_store_range_are_refused() {
        let key = scratch::key(&tenant("tenant-a"), "n");
        for bad in [json!(1e200), json!(-1e-200)] {
            assert!(check_item(&Item::new(key.clone(), &bad).unwrap()).is_err());
        }
        for good in [json!(0.0), json!(1.5e100), json!(u64::MAX), json!(i64::MIN)] {
            assert_eq!(check_item(&Item::new(key.clone(), &good).unwrap()), Ok(()));
        }
    }

    #[test]
    fn the_checked_json_is_the_data_as_serde_writes_it() {
        let key = scratch::key(&tenant("tenant-a"), "j");
        let data = json!({"name": "Jürgen \"J\" Müller", "n": [1, 2.5, null]});
        let mut buffer = b"left over".to_vec();
        check_item_into(&Item::new(key, &data).unwrap(), &mut buffer).unwrap();
        assert_eq!(buffer, serde_json::to_vec(&data).unwrap());
    }

    #[test]
    fn an_item_too_large_is_refused_whatever_the_buffer_held() {
        let key = scratch::key(&tenant("tenant-a"), "big");
        let big = json!("x".repeat(MAX_ITEM_BYTES));
        let mut buffer = Vec::new();
        assert!(matches!(
            check_item_into(&Item::new(key, &big).unwrap(), &mut buffer),
            Err(StoreError::InvalidItem(_))
        ));
    }

    /// What `check_item` says of the data, and what `check_json_item`
    /// says of the same data as text.
    fn both_checks(data: &serde_json::Value) -> (bool, bool) {
        let key = scratch::key(&tenant("tenant-a"), "j");
        let item = Item::new(key.clone(), data).unwrap();
        let text = JsonItem::new(key, data).unwrap();
        (check_item(&item).is_ok(), check_json_item(&text).is_ok())
    }

    #[test]
    fn json_text_passes_exactly_the_checks_its_tree_passes() {
        let mut deep = json!(1);
        for _ in 0..MAX_DEPTH {
            deep = json!([deep]);
        }
        let cases = [
            (json!({"a": "Jürgen", "n": [1, -2, 2.5, null, true]}), true),
            (json!([1.5e100, 0.0, u64::MAX, i64::MIN]), true),
            (deep.clone(), true),
            (json!({ "x": deep }), false),
            (json!({"big": 1e200}), false),
            (json!([-1e-200]), false),
            (json!("x".repeat(MAX_ITEM_BYTES)), false),
        ];
        for (data, ok) in cases {
            assert_eq!(both_checks(&data), (ok, ok), "{data:.60}");
        }
    }

    #[test]
    fn an_empty_index_sort_key_is_refused() {
        let t = tenant("tenant-a");
        let item = Item::new(scratch::key(&t, "x"), &json!({}))
            .unwrap()
            .with_index(scratch::index(&t, "g", ""));
        assert!(matches!(check_item(&item), Err(StoreError::InvalidItem(_))));
    }

    #[test]
    fn deltas_on_one_counter_are_summed() {
        let merged = merge_deltas(&[("sent", 2), ("opened", 1), ("sent", 3)]).unwrap();
        assert_eq!(
            merged,
            BTreeMap::from([("opened".into(), 1), ("sent".into(), 5)])
        );
        assert!(merge_deltas(&[("Bad-Name", 1)]).is_err());
        assert!(merge_deltas(&[("n", i64::MAX), ("n", 1)]).is_err());
    }

    #[test]
    fn an_item_expires_at_its_expiry_second() {
        assert!(visible(None, 100));
        assert!(visible(Some(101), 100));
        assert!(!visible(Some(100), 100));
        assert!(!visible(Some(99), 100));
    }
}
