//! The item store conformance suite: every case runs once against the SQLite
//! adapter (a temporary file) and once against the DynamoDB adapter (a fresh
//! table on the emulator). Both must behave the same, case by case.
//!
//! Index (gsi1) reads: real DynamoDB updates a global secondary index
//! eventually, so an item may show up there (or leave it) shortly after the
//! write. SQLite and the emulator update it at once, and the cases that
//! query the index right after writing rely on that; each says so. They
//! hold for the port's contract only once the index has caught up. The
//! order of items sharing one index sort key is unspecified, so those are
//! compared as sets.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use emma::adapters::dynamo::DynamoStore;
use emma::adapters::sqlite::SqliteStore;
use emma::domain::TenantId;
use emma::ports::store::keys::scratch;
use emma::ports::store::{MAX_BATCH_GET, MAX_BATCH_PUT, MAX_ITEM_BYTES, MAX_TRANSACTION_OPS};
use emma::ports::{
    Clock, Cursor, Item, ItemStore, Key, KeyPrefix, ManualClock, PutCondition, Query, StoreError,
    Stored, TxOp, Version,
};
use serde_json::{Value, json};

/// One store under test, with the clock it reads and whatever must live as
/// long as it (the temporary folder of the SQLite file).
struct Fixture {
    store: Arc<dyn ItemStore>,
    clock: ManualClock,
    _dir: Option<tempfile::TempDir>,
}

fn clock() -> ManualClock {
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now");
    ManualClock::new(now)
}

async fn local() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = clock();
    let store = SqliteStore::open(&dir.path().join("items.db"), Arc::new(clock.clone()))
        .expect("open the SQLite store");
    assert_eq!(store.backend(), "sqlite");
    Fixture {
        store: Arc::new(store),
        clock,
        _dir: Some(dir),
    }
}

async fn cloud() -> Fixture {
    let config = emma_tests::aws::config().await;
    let client = emma::adapters::aws::dynamodb_client(&config);
    let table = emma_tests::aws::unique_name("store");
    DynamoStore::create_table(&client, &table)
        .await
        .expect("create the table");
    // Creating it again is harmless.
    DynamoStore::create_table(&client, &table)
        .await
        .expect("create the table twice");
    let clock = clock();
    let store = DynamoStore::new(client, table, Arc::new(clock.clone()));
    assert_eq!(store.backend(), "dynamodb");
    Fixture {
        store: Arc::new(store),
        clock,
        _dir: None,
    }
}

/// Expands each case into one test per adapter: `local::<case>` and `cloud::<case>`.
macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let fixture = super::local().await;
                    super::$case(fixture.store.clone(), fixture.clock.clone()).await;
                }
            )+
        }
        mod cloud {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let fixture = super::cloud().await;
                    super::$case(fixture.store.clone(), fixture.clock.clone()).await;
                }
            )+
        }
    };
}

conformance!(
    a_put_item_reads_back_with_its_data_counters_expiry_and_index_key,
    a_get_of_an_absent_key_finds_nothing,
    a_put_that_must_not_exist_is_refused_when_the_item_is_there,
    a_put_that_must_not_exist_is_allowed_when_the_item_has_expired,
    a_put_with_the_current_version_succeeds_and_a_stale_version_is_refused,
    a_version_condition_fails_on_a_deleted_or_expired_item,
    an_unconditional_put_replaces_the_whole_item_and_changes_its_version,
    add_creates_an_absent_item_with_empty_data_and_the_deltas,
    add_changes_only_the_counters_of_a_visible_item,
    add_treats_an_expired_item_as_absent,
    twenty_concurrent_adds_of_one_give_twenty,
    an_add_past_either_end_of_the_counter_range_is_refused_and_changes_nothing,
    an_invalid_counter_name_is_refused,
    a_deleted_item_is_gone_and_deleting_an_absent_item_is_fine,
    a_prefix_query_returns_items_in_key_order_both_ways,
    paging_with_a_cursor_visits_every_item_exactly_once,
    a_prefix_query_never_returns_items_outside_the_prefix,
    keys_sort_by_their_utf8_bytes,
    items_of_another_tenant_are_never_returned,
    a_cursor_from_another_partition_or_query_is_refused,
    an_index_query_orders_items_by_the_index_sort_key,
    items_sharing_an_index_sort_key_are_each_read_once_across_pages,
    an_expired_item_is_invisible_to_get_and_query,
    paging_skips_expired_items_and_still_visits_every_visible_one,
    a_transaction_writes_all_or_nothing,
    a_transaction_check_guards_the_writes,
    a_transaction_deletes_items_when_their_conditions_hold,
    a_transaction_of_more_than_25_operations_is_refused,
    a_transaction_naming_one_item_twice_is_refused,
    an_item_whose_data_exceeds_the_size_limit_is_refused,
    get_many_answers_in_the_order_asked_with_none_for_absent_and_expired_keys,
    get_many_of_no_keys_is_empty_and_too_many_or_repeated_keys_are_refused,
    get_many_reads_more_keys_than_one_backend_request_takes,
    put_each_writes_the_items_whose_conditions_hold_and_refuses_only_the_others,
    put_each_refuses_an_invalid_item_alone_and_writes_the_others,
    put_each_of_no_items_is_fine_and_too_many_or_repeated_keys_are_refused_before_any_write,
    items_written_by_put_each_are_found_on_the_index,
    put_each_writes_two_thousand_items_and_a_repeat_changes_none_of_them,
    put_each_json_stores_the_same_items_as_put_each_with_their_conditions_and_index,
);

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).expect("a tenant id")
}

fn item(key: Key, data: Value) -> Item {
    Item::new(key, &data).expect("an item")
}

/// The scratch names (sort keys without "scratch#") of some items.
fn names(items: &[Stored]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.item.key.sk().trim_start_matches("scratch#").to_owned())
        .collect()
}

async fn put_named(store: &dyn ItemStore, tenant: &TenantId, names: &[&str]) {
    for name in names {
        let data = json!({ "name": name });
        store
            .put(item(scratch::key(tenant, name), data), PutCondition::Always)
            .await
            .expect("put");
    }
}

/// Reads a whole query page by page; returns the pages' sizes and the items.
async fn read_all(store: &dyn ItemStore, query: Query) -> (Vec<usize>, Vec<Stored>) {
    let mut sizes = Vec::new();
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query(query.clone().after(cursor))
            .await
            .expect("a page");
        sizes.push(page.items.len());
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (sizes, items),
        }
        assert!(sizes.len() < 100, "paging does not end");
    }
}

async fn query_names(store: &dyn ItemStore, query: Query) -> Vec<String> {
    names(&read_all(store, query).await.1)
}

async fn a_put_item_reads_back_with_its_data_counters_expiry_and_index_key(
    store: Arc<dyn ItemStore>,
    clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let data = json!({
        "name": "Zoë Müller",
        "n": 42,
        "big": u64::MAX,
        "neg": -7,
        "f": 1.5,
        "tags": ["a", "b", 3],
        "nested": { "ok": true, "none": null, "list": [] },
        "empty": "",
    });
    let original = item(scratch::key(&t, "round-trip"), data)
        .with_counter("sent", 3)
        .with_counter("opened", 0)
        .with_index(scratch::index(&t, "group", "sort-1"))
        .expiring_at(clock.now() + Duration::hours(1));
    let version = store
        .put(original.clone(), PutCondition::Always)
        .await
        .unwrap();

    let stored = store.get(&original.key).await.unwrap().expect("the item");
    assert_eq!(stored.item, original);
    assert_eq!(stored.version, version);
}

async fn a_get_of_an_absent_key_finds_nothing(store: Arc<dyn ItemStore>, _clock: ManualClock) {
    let key = scratch::key(&tenant("tenant-a"), "never-written");
    assert_eq!(store.get(&key).await.unwrap(), None);
}

async fn a_put_that_must_not_exist_is_refused_when_the_item_is_there(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let key = scratch::key(&tenant("tenant-a"), "unique");
    let first = store
        .put(item(key.clone(), json!({"n": 1})), PutCondition::NotExists)
        .await
        .expect("absent, so allowed");
    let second = store
        .put(item(key.clone(), json!({"n": 2})), PutCondition::NotExists)
        .await;
    assert_eq!(second, Err(StoreError::ConditionFailed));
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.item.data, json!({"n": 1}));
    assert_eq!(stored.version, first);
}

async fn a_put_that_must_not_exist_is_allowed_when_the_item_has_expired(
    store: Arc<dyn ItemStore>,
    clock: ManualClock,
) {
    let key = scratch::key(&tenant("tenant-a"), "lease");
    let lease =
        item(key.clone(), json!({"holder": 1})).expiring_at(clock.now() + Duration::seconds(30));
    store.put(lease, PutCondition::NotExists).await.unwrap();
    clock.advance(Duration::seconds(29));
    let early = store
        .put(
            item(key.clone(), json!({"holder": 2})),
            PutCondition::NotExists,
        )
        .await;
    assert_eq!(early, Err(StoreError::ConditionFailed));

    clock.advance(Duration::seconds(1));
    store
        .put(
            item(key.clone(), json!({"holder": 2})),
            PutCondition::NotExists,
        )
        .await
        .expect("the expired item counts as absent");
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.item.data, json!({"holder": 2}));
    assert_eq!(stored.item.expires_at, None);
}

async fn a_put_with_the_current_version_succeeds_and_a_stale_version_is_refused(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let key = scratch::key(&tenant("tenant-a"), "versioned");
    let v1 = store
        .put(item(key.clone(), json!({"step": 1})), PutCondition::Always)
        .await
        .unwrap();
    let v2 = store
        .put(
            item(key.clone(), json!({"step": 2})),
            PutCondition::Version(v1),
        )
        .await
        .expect("the current version");
    assert_ne!(v1, v2);

    let stale = store
        .put(
            item(key.clone(), json!({"step": 3})),
            PutCondition::Version(v1),
        )
        .await;
    assert_eq!(stale, Err(StoreError::ConditionFailed));
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.item.data, json!({"step": 2}));
    assert_eq!(stored.version, v2);
}

async fn a_version_condition_fails_on_a_deleted_or_expired_item(
    store: Arc<dyn ItemStore>,
    clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let deleted = scratch::key(&t, "deleted");
    let v = store
        .put(item(deleted.clone(), json!({})), PutCondition::Always)
        .await
        .unwrap();
    store.delete(&deleted).await.unwrap();
    let after_delete = store
        .put(item(deleted.clone(), json!({})), PutCondition::Version(v))
        .await;
    assert_eq!(after_delete, Err(StoreError::ConditionFailed));
    assert_eq!(store.get(&deleted).await.unwrap(), None);

    let expired = scratch::key(&t, "expired");
    let expiring = item(expired.clone(), json!({})).expiring_at(clock.now() + Duration::seconds(5));
    let v = store.put(expiring, PutCondition::Always).await.unwrap();
    clock.advance(Duration::seconds(5));
    let after_expiry = store
        .put(item(expired.clone(), json!({})), PutCondition::Version(v))
        .await;
    assert_eq!(after_expiry, Err(StoreError::ConditionFailed));
}

async fn an_unconditional_put_replaces_the_whole_item_and_changes_its_version(
    store: Arc<dyn ItemStore>,
    clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let key = scratch::key(&t, "replaced");
    let first = item(key.clone(), json!({"old": true}))
        .with_counter("sent", 9)
        .with_index(scratch::index(&t, "group", "s"))
        .expiring_at(clock.now() + Duration::hours(1));
    let v1 = store.put(first, PutCondition::Always).await.unwrap();
    let second = item(key.clone(), json!({"new": true}));
    let v2 = store
        .put(second.clone(), PutCondition::Always)
        .await
        .unwrap();
    assert_ne!(v1, v2);

    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        stored.item, second,
        "no counter, index key or expiry is left"
    );
    assert_eq!(stored.version, v2);
    // Real DynamoDB may still show the old index entry for a moment.
    let on_index = store
        .query(Query::index(scratch::index_prefix(&t, "group", "")))
        .await
        .unwrap();
    assert!(on_index.items.is_empty());
}

async fn add_creates_an_absent_item_with_empty_data_and_the_deltas(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let key = scratch::key(&tenant("tenant-a"), "counters");
    let values = store
        .add(&key, &[("sent", 2), ("opened", 1)])
        .await
        .unwrap();
    assert_eq!(
        values,
        BTreeMap::from([("opened".into(), 1), ("sent".into(), 2)])
    );

    let stored = store.get(&key).await.unwrap().expect("created");
    assert_eq!(stored.item.data, json!({}));
    assert_eq!(stored.item.counters, values);
    assert_eq!(stored.item.expires_at, None);
    assert_eq!(stored.item.index, None);
    store
        .put(
            item(key.clone(), json!({"set": 1})),
            PutCondition::Version(stored.version),
        )
        .await
        .expect("the created item has a usable version");
}

async fn add_changes_only_the_counters_of_a_visible_item(
    store: Arc<dyn ItemStore>,
    clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let key = scratch::key(&t, "report");
    let original = item(key.clone(), json!({"campaign": "x"}))
        .with_counter("sent", 5)
        .with_index(scratch::index(&t, "reports", "x"))
        .expiring_at(clock.now() + Duration::days(1));
    let version = store
        .put(original.clone(), PutCondition::Always)
        .await
        .unwrap();

    let values = store
        .add(&key, &[("sent", 2), ("clicked", 1), ("sent", 1)])
        .await
        .unwrap();
    assert_eq!(
        values,
        BTreeMap::from([("clicked".into(), 1), ("sent".into(), 8)])
    );
    let values = store.add(&key, &[("sent", -3)]).await.unwrap();
    assert_eq!(values, BTreeMap::from([("sent".into(), 5)]));

    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.version, version, "add keeps the version");
    assert_eq!(stored.item.data, original.data);
    assert_eq!(stored.item.index, original.index);
    assert_eq!(stored.item.expires_at, original.expires_at);
    assert_eq!(
        stored.item.counters,
        BTreeMap::from([("clicked".into(), 1), ("sent".into(), 5)])
    );
}

async fn add_treats_an_expired_item_as_absent(store: Arc<dyn ItemStore>, clock: ManualClock) {
    let key = scratch::key(&tenant("tenant-a"), "window");
    let old = item(key.clone(), json!({"old": true}))
        .with_counter("hits", 50)
        .expiring_at(clock.now() + Duration::seconds(60));
    store.put(old, PutCondition::Always).await.unwrap();
    clock.advance(Duration::seconds(60));

    let values = store.add(&key, &[("hits", 1)]).await.unwrap();
    assert_eq!(values, BTreeMap::from([("hits".into(), 1)]));
    let stored = store.get(&key).await.unwrap().expect("a fresh item");
    assert_eq!(stored.item.data, json!({}));
    assert_eq!(stored.item.counters, values);
    assert_eq!(stored.item.expires_at, None);
}

async fn twenty_concurrent_adds_of_one_give_twenty(store: Arc<dyn ItemStore>, _clock: ManualClock) {
    let key = scratch::key(&tenant("tenant-a"), "race");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            let key = key.clone();
            tokio::spawn(async move { store.add(&key, &[("n", 1)]).await })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.expect("the task").expect("the add")["n"]);
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=20).collect::<Vec<i64>>(),
        "each add saw its own value"
    );
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.item.counters["n"], 20);
}

async fn an_add_past_either_end_of_the_counter_range_is_refused_and_changes_nothing(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let key = scratch::key(&tenant("tenant-a"), "extremes");
    let original = item(key.clone(), json!({"keep": true}))
        .with_counter("high", i64::MAX - 1)
        .with_counter("low", i64::MIN + 1)
        .with_counter("other", 5);
    let version = store.put(original, PutCondition::Always).await.unwrap();

    let values = store
        .add(&key, &[("high", 1), ("low", -1)])
        .await
        .expect("the ends themselves are reachable");
    assert_eq!(
        values,
        BTreeMap::from([("high".into(), i64::MAX), ("low".into(), i64::MIN)])
    );

    for deltas in [
        vec![("other", 1), ("high", 1)],
        vec![("low", -1)],
        vec![("other", 1), ("low", i64::MIN)],
    ] {
        let refused = store.add(&key, &deltas).await;
        assert!(
            matches!(refused, Err(StoreError::InvalidItem(_))),
            "{deltas:?}: {refused:?}"
        );
    }
    let stored = store.get(&key).await.unwrap().expect("the item");
    assert_eq!(stored.version, version);
    assert_eq!(stored.item.data, json!({"keep": true}));
    assert_eq!(
        stored.item.counters,
        BTreeMap::from([
            ("high".into(), i64::MAX),
            ("low".into(), i64::MIN),
            ("other".into(), 5),
        ]),
        "a refused add changes no counter"
    );
    let values = store
        .add(&key, &[("high", -1), ("low", 1)])
        .await
        .expect("back into the range");
    assert_eq!(
        values,
        BTreeMap::from([("high".into(), i64::MAX - 1), ("low".into(), i64::MIN + 1)])
    );
}

async fn an_invalid_counter_name_is_refused(store: Arc<dyn ItemStore>, _clock: ManualClock) {
    let key = scratch::key(&tenant("tenant-a"), "named");
    for name in ["", "Sent", "1st", "with-dash", &"x".repeat(65)] {
        assert!(
            matches!(
                store.add(&key, &[(name, 1)]).await,
                Err(StoreError::InvalidItem(_))
            ),
            "add {name:?}"
        );
        let bad = item(key.clone(), json!({})).with_counter(name, 1);
        assert!(
            matches!(
                store.put(bad, PutCondition::Always).await,
                Err(StoreError::InvalidItem(_))
            ),
            "put {name:?}"
        );
    }
    assert_eq!(store.get(&key).await.unwrap(), None);
}

async fn a_deleted_item_is_gone_and_deleting_an_absent_item_is_fine(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let key = scratch::key(&t, "doomed");
    store
        .put(item(key.clone(), json!({})), PutCondition::Always)
        .await
        .unwrap();
    store.delete(&key).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);
    store.delete(&key).await.expect("deleting again is fine");
    store
        .delete(&scratch::key(&t, "never-was"))
        .await
        .expect("deleting an absent item is fine");
}

async fn a_prefix_query_returns_items_in_key_order_both_ways(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    put_named(&*store, &t, &["item-b", "item-c", "item-a"]).await;
    let ascending = store
        .query(Query::table(scratch::prefix(&t, "item-")))
        .await
        .unwrap();
    assert_eq!(names(&ascending.items), ["item-a", "item-b", "item-c"]);
    assert_eq!(ascending.next, None);
    assert_eq!(ascending.items[0].item.data, json!({"name": "item-a"}));

    let descending = store
        .query(Query::table(scratch::prefix(&t, "item-")).descending())
        .await
        .unwrap();
    assert_eq!(names(&descending.items), ["item-c", "item-b", "item-a"]);
    assert_eq!(descending.next, None);

    let empty = store
        .query(Query::table(scratch::prefix(&t, "nothing-")))
        .await
        .unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(empty.next, None);
}

async fn paging_with_a_cursor_visits_every_item_exactly_once(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let all: Vec<String> = (0..25).map(|i| format!("page-{i:02}")).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    put_named(&*store, &t, &refs).await;
    put_named(&*store, &t, &["pagf-outside", "pag-outside"]).await;

    let query = Query::table(scratch::prefix(&t, "page-")).limit(10);
    let (sizes, items) = read_all(&*store, query.clone()).await;
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(names(&items), all);

    let (sizes, items) = read_all(&*store, query.descending()).await;
    assert_eq!(sizes, [10, 10, 5]);
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(names(&items), reversed);

    let (sizes, items) =
        read_all(&*store, Query::table(scratch::prefix(&t, "page-")).limit(5)).await;
    assert_eq!(sizes, [5, 5, 5, 5, 5], "a full last page has no cursor");
    assert_eq!(names(&items), all);
}

async fn a_prefix_query_never_returns_items_outside_the_prefix(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let inside = ["ab", "ab-1", "abc", "abé", "ab\u{10FFFF}z"];
    let outside = ["a", "aa", "aB", "ac", "b", "AB", "a b", "\u{0}ab"];
    put_named(&*store, &t, &inside).await;
    put_named(&*store, &t, &outside).await;

    let mut expected: Vec<String> = inside.iter().map(|s| s.to_string()).collect();
    expected.sort();
    let found = query_names(&*store, Query::table(scratch::prefix(&t, "ab")).limit(2)).await;
    assert_eq!(found, expected);
    expected.reverse();
    let found = query_names(
        &*store,
        Query::table(scratch::prefix(&t, "ab"))
            .limit(2)
            .descending(),
    )
    .await;
    assert_eq!(found, expected);
}

async fn keys_sort_by_their_utf8_bytes(store: Arc<dyn ItemStore>, _clock: ManualClock) {
    let t = tenant("tenant-a");
    // U+FF5E sorts before U+1F600 by UTF-8 bytes (and code points), after it by UTF-16 units.
    let names_in = [
        "z",
        "B",
        "é",
        "a",
        "\u{1F600}",
        "\u{FF5E}",
        "ä",
        "Z",
        "10",
        "9",
    ];
    put_named(&*store, &t, &names_in).await;
    let mut expected: Vec<String> = names_in.iter().map(|s| s.to_string()).collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));

    let found = query_names(&*store, Query::table(scratch::prefix(&t, "")).limit(3)).await;
    assert_eq!(found, expected);
    expected.reverse();
    let found = query_names(
        &*store,
        Query::table(scratch::prefix(&t, "")).limit(3).descending(),
    )
    .await;
    assert_eq!(found, expected);
}

async fn items_of_another_tenant_are_never_returned(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let a = tenant("tenant-a");
    let b = tenant("tenant-ab");
    for (t, owner) in [(&a, "a"), (&b, "b")] {
        for name in ["x-1", "x-2"] {
            let it = item(scratch::key(t, name), json!({"owner": owner}))
                .with_index(scratch::index(t, "group", name));
            store.put(it, PutCondition::Always).await.unwrap();
        }
    }
    // The index is read right after the writes: real DynamoDB may lag.
    for query in [
        Query::table(scratch::prefix(&a, "")),
        Query::index(scratch::index_prefix(&a, "group", "")),
    ] {
        let items = read_all(&*store, query.limit(1)).await.1;
        assert_eq!(items.len(), 2);
        for stored in items {
            assert_eq!(stored.item.key.pk(), a.as_str());
            assert_eq!(stored.item.data, json!({"owner": "a"}));
        }
    }
}

async fn a_cursor_from_another_partition_or_query_is_refused(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let a = tenant("tenant-a");
    let b = tenant("tenant-b");
    for t in [&a, &b] {
        for name in ["c-1", "c-2", "d-1"] {
            let it =
                item(scratch::key(t, name), json!({})).with_index(scratch::index(t, "group", name));
            store.put(it, PutCondition::Always).await.unwrap();
        }
    }
    let first_page = |prefix: KeyPrefix, on_index: bool| {
        let store = Arc::clone(&store);
        async move {
            let query = if on_index {
                Query::index(prefix)
            } else {
                Query::table(prefix)
            };
            let page = store.query(query.limit(1)).await.unwrap();
            page.next.expect("a cursor")
        }
    };
    // The index is read right after the writes: real DynamoDB may lag.
    let b_table = first_page(scratch::prefix(&b, "c-"), false).await;
    let b_index = first_page(scratch::index_prefix(&b, "group", ""), true).await;
    let a_table = first_page(scratch::prefix(&a, "c-"), false).await;
    let a_index = first_page(scratch::index_prefix(&a, "group", ""), true).await;

    let refused: [(Query, Cursor); 6] = [
        (Query::table(scratch::prefix(&a, "c-")), b_table.clone()),
        (
            Query::index(scratch::index_prefix(&a, "group", "")),
            b_index,
        ),
        (
            Query::index(scratch::index_prefix(&a, "group", "")),
            a_table.clone(),
        ),
        (Query::table(scratch::prefix(&a, "")), a_index),
        (Query::table(scratch::prefix(&a, "d-")), a_table.clone()),
        (
            Query::table(scratch::prefix(&a, "c-")),
            Cursor::from_client("not-a-cursor"),
        ),
    ];
    for (query, cursor) in refused {
        let result = store.query(query.clone().after(Some(cursor))).await;
        assert_eq!(result, Err(StoreError::InvalidCursor), "{query:?}");
    }
    let own = store
        .query(Query::table(scratch::prefix(&a, "c-")).after(Some(a_table)))
        .await
        .expect("its own cursor");
    assert_eq!(names(&own.items), ["c-2"]);
}

async fn an_index_query_orders_items_by_the_index_sort_key(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    // Table order is the reverse of index order.
    for (name, sort) in [
        ("n-1", "s-5"),
        ("n-2", "s-4"),
        ("n-3", "s-3"),
        ("n-4", "s-2"),
        ("n-5", "s-1"),
    ] {
        let it = item(scratch::key(&t, name), json!({"sort": sort}))
            .with_index(scratch::index(&t, "by-sort", sort));
        store.put(it, PutCondition::Always).await.unwrap();
    }
    let other_group =
        item(scratch::key(&t, "n-6"), json!({})).with_index(scratch::index(&t, "other", "s-0"));
    store.put(other_group, PutCondition::Always).await.unwrap();
    put_named(&*store, &t, &["n-7-unindexed"]).await;

    // Read right after the writes: real DynamoDB may lag here.
    let query = Query::index(scratch::index_prefix(&t, "by-sort", "s-")).limit(2);
    let (sizes, items) = read_all(&*store, query.clone()).await;
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(names(&items), ["n-5", "n-4", "n-3", "n-2", "n-1"]);
    assert_eq!(
        items[0].item.index,
        Some(scratch::index(&t, "by-sort", "s-1"))
    );
    let descending = query_names(&*store, query.descending()).await;
    assert_eq!(descending, ["n-1", "n-2", "n-3", "n-4", "n-5"]);

    let narrowed = query_names(
        &*store,
        Query::index(scratch::index_prefix(&t, "by-sort", "s-4")),
    )
    .await;
    assert_eq!(narrowed, ["n-2"]);
}

async fn items_sharing_an_index_sort_key_are_each_read_once_across_pages(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    for name in ["e", "c", "a", "d", "b"] {
        let it = item(scratch::key(&t, name), json!({})).with_index(scratch::index(
            &t,
            "same",
            "same-sort",
        ));
        store.put(it, PutCondition::Always).await.unwrap();
    }
    // Read right after the writes: real DynamoDB may lag here (see the top).
    let all: BTreeSet<String> = ["a", "b", "c", "d", "e"].map(String::from).into();
    let query = Query::index(scratch::index_prefix(&t, "same", "")).limit(2);
    for query in [query.clone(), query.descending()] {
        let (sizes, items) = read_all(&*store, query.clone()).await;
        assert_eq!(sizes, [2, 2, 1], "{query:?}");
        let found = names(&items);
        let distinct: BTreeSet<String> = found.iter().cloned().collect();
        assert_eq!(found.len(), distinct.len(), "each item once: {found:?}");
        // Their order among themselves is unspecified.
        assert_eq!(distinct, all, "{query:?}");
    }
}

async fn an_expired_item_is_invisible_to_get_and_query(
    store: Arc<dyn ItemStore>,
    clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let key = scratch::key(&t, "session");
    let session = item(key.clone(), json!({"user": "u-1"}))
        .with_index(scratch::index(&t, "sessions", "u-1"))
        .expiring_at(clock.now() + Duration::seconds(60));
    store.put(session, PutCondition::Always).await.unwrap();
    put_named(&*store, &t, &["session-forever"]).await;

    let table = Query::table(scratch::prefix(&t, "session"));
    // Read right after the write: real DynamoDB may lag on the index.
    let index = Query::index(scratch::index_prefix(&t, "sessions", ""));
    clock.advance(Duration::seconds(59));
    assert!(store.get(&key).await.unwrap().is_some());
    assert_eq!(
        query_names(&*store, table.clone()).await,
        ["session", "session-forever"]
    );
    assert_eq!(query_names(&*store, index.clone()).await, ["session"]);

    clock.advance(Duration::seconds(1));
    assert_eq!(store.get(&key).await.unwrap(), None);
    assert_eq!(query_names(&*store, table).await, ["session-forever"]);
    assert!(query_names(&*store, index).await.is_empty());
}

async fn paging_skips_expired_items_and_still_visits_every_visible_one(
    store: Arc<dyn ItemStore>,
    clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let mut visible = Vec::new();
    for i in 0..12 {
        let name = format!("mixed-{i:02}");
        let mut it = item(scratch::key(&t, &name), json!({}));
        // Runs of expiring items, so whole pages of the backend are expired.
        if i % 4 != 0 {
            it = it.expiring_at(clock.now() + Duration::seconds(10));
        } else {
            visible.push(name);
        }
        store.put(it, PutCondition::Always).await.unwrap();
    }
    clock.advance(Duration::seconds(10));
    let (sizes, items) = read_all(
        &*store,
        Query::table(scratch::prefix(&t, "mixed-")).limit(2),
    )
    .await;
    assert_eq!(sizes, [2, 1]);
    assert_eq!(names(&items), visible);
}

async fn a_transaction_writes_all_or_nothing(store: Arc<dyn ItemStore>, clock: ManualClock) {
    let t = tenant("tenant-a");
    let taken = scratch::key(&t, "taken");
    store
        .put(
            item(taken.clone(), json!({"owner": 1})),
            PutCondition::Always,
        )
        .await
        .unwrap();
    let fresh = |name: &str| TxOp::Put {
        item: item(scratch::key(&t, name), json!({"owner": 2})),
        condition: PutCondition::NotExists,
    };
    let refused = store
        .transact(vec![fresh("new-1"), fresh("new-2"), fresh("taken")])
        .await;
    assert_eq!(refused, Err(StoreError::ConditionFailed));
    assert_eq!(store.get(&scratch::key(&t, "new-1")).await.unwrap(), None);
    assert_eq!(store.get(&scratch::key(&t, "new-2")).await.unwrap(), None);
    assert_eq!(
        store.get(&taken).await.unwrap().unwrap().item.data,
        json!({"owner": 1})
    );

    // An expired item counts as absent inside a transaction too.
    let expiring =
        item(scratch::key(&t, "lapsed"), json!({})).expiring_at(clock.now() + Duration::seconds(1));
    store.put(expiring, PutCondition::Always).await.unwrap();
    clock.advance(Duration::seconds(1));
    let indexed = item(scratch::key(&t, "new-3"), json!({"owner": 2}))
        .with_counter("n", 7)
        .with_index(scratch::index(&t, "tx", "3"));
    store
        .transact(vec![
            fresh("new-1"),
            fresh("new-2"),
            fresh("lapsed"),
            TxOp::Put {
                item: indexed.clone(),
                condition: PutCondition::Always,
            },
        ])
        .await
        .expect("every condition holds");
    for name in ["new-1", "new-2", "lapsed"] {
        let stored = store.get(&scratch::key(&t, name)).await.unwrap().unwrap();
        assert_eq!(stored.item.data, json!({"owner": 2}));
    }
    assert_eq!(
        store.get(&indexed.key).await.unwrap().unwrap().item,
        indexed
    );
}

async fn a_transaction_check_guards_the_writes(store: Arc<dyn ItemStore>, _clock: ManualClock) {
    let t = tenant("tenant-a");
    let guard = scratch::key(&t, "guard");
    let v1 = store
        .put(
            item(guard.clone(), json!({"open": true})),
            PutCondition::Always,
        )
        .await
        .unwrap();
    let write = |name: &str| TxOp::Put {
        item: item(scratch::key(&t, name), json!({})),
        condition: PutCondition::Always,
    };
    store
        .transact(vec![
            TxOp::Check {
                key: guard.clone(),
                condition: PutCondition::Version(v1),
            },
            TxOp::Check {
                key: scratch::key(&t, "absent"),
                condition: PutCondition::NotExists,
            },
            TxOp::Check {
                key: scratch::key(&t, "anything"),
                condition: PutCondition::Always,
            },
            write("w-1"),
        ])
        .await
        .expect("the checks hold");
    assert!(store.get(&scratch::key(&t, "w-1")).await.unwrap().is_some());
    assert_eq!(
        store.get(&guard).await.unwrap().unwrap().version,
        v1,
        "a check writes nothing"
    );
    assert_eq!(
        store.get(&scratch::key(&t, "anything")).await.unwrap(),
        None
    );

    store
        .put(
            item(guard.clone(), json!({"open": false})),
            PutCondition::Always,
        )
        .await
        .unwrap();
    let stale = store
        .transact(vec![
            TxOp::Check {
                key: guard.clone(),
                condition: PutCondition::Version(v1),
            },
            write("w-2"),
        ])
        .await;
    assert_eq!(stale, Err(StoreError::ConditionFailed));
    assert_eq!(store.get(&scratch::key(&t, "w-2")).await.unwrap(), None);

    let present = store
        .transact(vec![
            TxOp::Check {
                key: guard.clone(),
                condition: PutCondition::NotExists,
            },
            write("w-3"),
        ])
        .await;
    assert_eq!(present, Err(StoreError::ConditionFailed));
    assert_eq!(store.get(&scratch::key(&t, "w-3")).await.unwrap(), None);
}

async fn a_transaction_deletes_items_when_their_conditions_hold(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let (a, b) = (scratch::key(&t, "del-a"), scratch::key(&t, "del-b"));
    store
        .put(item(a.clone(), json!({})), PutCondition::Always)
        .await
        .unwrap();
    let vb = store
        .put(item(b.clone(), json!({})), PutCondition::Always)
        .await
        .unwrap();
    store
        .put(
            item(b.clone(), json!({"changed": true})),
            PutCondition::Always,
        )
        .await
        .unwrap();

    let stale = store
        .transact(vec![
            TxOp::Delete {
                key: a.clone(),
                condition: PutCondition::Always,
            },
            TxOp::Delete {
                key: b.clone(),
                condition: PutCondition::Version(vb),
            },
        ])
        .await;
    assert_eq!(stale, Err(StoreError::ConditionFailed));
    assert!(
        store.get(&a).await.unwrap().is_some(),
        "nothing was deleted"
    );
    assert!(store.get(&b).await.unwrap().is_some());

    let current = store.get(&b).await.unwrap().unwrap().version;
    store
        .transact(vec![
            TxOp::Delete {
                key: a.clone(),
                condition: PutCondition::Always,
            },
            TxOp::Delete {
                key: b.clone(),
                condition: PutCondition::Version(current),
            },
            TxOp::Delete {
                key: scratch::key(&t, "del-absent"),
                condition: PutCondition::Always,
            },
        ])
        .await
        .expect("the conditions hold");
    assert_eq!(store.get(&a).await.unwrap(), None);
    assert_eq!(store.get(&b).await.unwrap(), None);
}

async fn a_transaction_of_more_than_25_operations_is_refused(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let ops = |n: usize| -> Vec<TxOp> {
        (0..n)
            .map(|i| TxOp::Put {
                item: item(scratch::key(&t, &format!("bulk-{i:02}")), json!({})),
                condition: PutCondition::NotExists,
            })
            .collect()
    };
    let too_many = store.transact(ops(MAX_TRANSACTION_OPS + 1)).await;
    assert_eq!(
        too_many,
        Err(StoreError::TransactionSize(MAX_TRANSACTION_OPS + 1))
    );
    assert_eq!(store.get(&scratch::key(&t, "bulk-00")).await.unwrap(), None);
    assert_eq!(
        store.transact(Vec::new()).await,
        Err(StoreError::TransactionSize(0))
    );

    store
        .transact(ops(MAX_TRANSACTION_OPS))
        .await
        .expect("25 operations are allowed");
    let (_, items) = read_all(&*store, Query::table(scratch::prefix(&t, "bulk-"))).await;
    assert_eq!(items.len(), MAX_TRANSACTION_OPS);
}

async fn a_transaction_naming_one_item_twice_is_refused(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let key = scratch::key(&t, "twice");
    let result = store
        .transact(vec![
            TxOp::Put {
                item: item(scratch::key(&t, "once"), json!({})),
                condition: PutCondition::Always,
            },
            TxOp::Put {
                item: item(key.clone(), json!({})),
                condition: PutCondition::Always,
            },
            TxOp::Check {
                key: key.clone(),
                condition: PutCondition::NotExists,
            },
        ])
        .await;
    assert_eq!(result, Err(StoreError::DuplicateInTransaction));
    assert_eq!(store.get(&key).await.unwrap(), None);
    assert_eq!(store.get(&scratch::key(&t, "once")).await.unwrap(), None);
}

async fn an_item_whose_data_exceeds_the_size_limit_is_refused(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let key = scratch::key(&t, "big");
    // The JSON text of a string is its bytes and two quotes.
    let too_big = item(key.clone(), json!("x".repeat(MAX_ITEM_BYTES - 1)));
    assert!(matches!(
        store.put(too_big.clone(), PutCondition::Always).await,
        Err(StoreError::InvalidItem(_))
    ));
    assert!(matches!(
        store
            .transact(vec![TxOp::Put {
                item: too_big,
                condition: PutCondition::Always,
            }])
            .await,
        Err(StoreError::InvalidItem(_))
    ));
    assert_eq!(store.get(&key).await.unwrap(), None);

    let largest = item(key.clone(), json!("x".repeat(MAX_ITEM_BYTES - 2)))
        .with_counter("n", 1)
        .with_index(scratch::index(&t, "big", "1"));
    store
        .put(largest.clone(), PutCondition::Always)
        .await
        .expect("data at the limit fits");
    assert_eq!(store.get(&key).await.unwrap().unwrap().item, largest);
}

/// The scratch name of one item.
fn name(stored: &Stored) -> String {
    names(std::slice::from_ref(stored)).remove(0)
}

/// The scratch names of a batch's answers, `None` where nothing was found.
fn found_names(found: &[Option<Stored>]) -> Vec<Option<String>> {
    found.iter().map(|s| s.as_ref().map(name)).collect()
}

async fn get_many_answers_in_the_order_asked_with_none_for_absent_and_expired_keys(
    store: Arc<dyn ItemStore>,
    clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let full = item(scratch::key(&t, "full"), json!({"name": "full"}))
        .with_counter("sent", 2)
        .with_index(scratch::index(&t, "many", "f"))
        .expiring_at(clock.now() + Duration::hours(1));
    store.put(full, PutCondition::Always).await.unwrap();
    put_named(&*store, &t, &["plain"]).await;
    let lapsing = item(scratch::key(&t, "lapsing"), json!({}))
        .expiring_at(clock.now() + Duration::seconds(10));
    store.put(lapsing, PutCondition::Always).await.unwrap();
    clock.advance(Duration::seconds(10));

    let asked = ["plain", "absent", "full", "lapsing"].map(|name| scratch::key(&t, name));
    let found = store.get_many(&asked).await.expect("a batch read");
    assert_eq!(
        found_names(&found),
        [
            Some("plain".to_owned()),
            None,
            Some("full".to_owned()),
            None
        ]
    );
    for (key, batch) in asked.iter().zip(&found) {
        assert_eq!(
            batch,
            &store.get(key).await.unwrap(),
            "the batch answers what get answers for {key:?}"
        );
    }
}

async fn get_many_of_no_keys_is_empty_and_too_many_or_repeated_keys_are_refused(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    assert_eq!(store.get_many(&[]).await, Ok(Vec::new()));

    let keys: Vec<Key> = (0..=MAX_BATCH_GET)
        .map(|i| scratch::key(&t, &format!("k-{i:04}")))
        .collect();
    assert_eq!(
        store.get_many(&keys).await,
        Err(StoreError::BatchSize {
            got: MAX_BATCH_GET + 1,
            max: MAX_BATCH_GET
        })
    );
    let most = store
        .get_many(&keys[..MAX_BATCH_GET])
        .await
        .expect("the largest batch is allowed");
    assert_eq!(most.len(), MAX_BATCH_GET);
    assert!(most.iter().all(Option::is_none));

    put_named(&*store, &t, &["twice"]).await;
    let repeated = [
        scratch::key(&t, "twice"),
        scratch::key(&t, "other"),
        scratch::key(&t, "twice"),
    ];
    assert_eq!(
        store.get_many(&repeated).await,
        Err(StoreError::DuplicateInBatch)
    );
}

async fn get_many_reads_more_keys_than_one_backend_request_takes(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let writes = (0..250)
        .map(|i| {
            let name = format!("wide-{i:03}");
            let data = json!({ "name": name });
            (item(scratch::key(&t, &name), data), PutCondition::Always)
        })
        .collect();
    let written = store.put_each(writes).await.expect("a batch write");
    assert!(written.iter().all(Result::is_ok));

    // Newest first, with an absent key after every fifth one.
    let mut expected = Vec::new();
    for i in (0..250).rev() {
        expected.push(Some(format!("wide-{i:03}")));
        if i % 5 == 0 {
            expected.push(None);
        }
    }
    let asked: Vec<Key> = expected
        .iter()
        .enumerate()
        .map(|(at, name)| match name {
            Some(name) => scratch::key(&t, name),
            None => scratch::key(&t, &format!("missing-{at}")),
        })
        .collect();
    assert_eq!(asked.len(), 300);
    let found = store.get_many(&asked).await.expect("a batch read");
    assert_eq!(found_names(&found), expected);
    for stored in found.iter().flatten() {
        assert_eq!(stored.item.data, json!({ "name": name(stored) }));
    }
}

async fn put_each_writes_the_items_whose_conditions_hold_and_refuses_only_the_others(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let key = |name: &str| scratch::key(&t, name);
    let before = |n: u32| json!({ "before": n });
    let present = store
        .put(item(key("present"), before(1)), PutCondition::Always)
        .await
        .unwrap();
    let current = store
        .put(item(key("current"), before(2)), PutCondition::Always)
        .await
        .unwrap();
    let stale = store
        .put(item(key("stale"), before(3)), PutCondition::Always)
        .await
        .unwrap();
    let latest = store
        .put(item(key("stale"), before(4)), PutCondition::Always)
        .await
        .unwrap();
    let overwritten = store
        .put(item(key("overwritten"), before(5)), PutCondition::Always)
        .await
        .unwrap();

    let after = json!({ "after": true });
    let writes: Vec<(Item, PutCondition)> = [
        ("fresh", PutCondition::NotExists),
        ("present", PutCondition::NotExists),
        ("current", PutCondition::Version(current)),
        ("stale", PutCondition::Version(stale)),
        ("overwritten", PutCondition::Always),
        ("never-written", PutCondition::Version(present)),
        ("unconditional", PutCondition::Always),
    ]
    .into_iter()
    .map(|(name, condition)| (item(key(name), after.clone()), condition))
    .collect();
    let answers = store.put_each(writes).await.expect("a batch write");
    assert_eq!(answers.len(), 7);
    let refused: Vec<bool> = answers
        .iter()
        .map(|a| a == &Err(StoreError::ConditionFailed))
        .collect();
    assert_eq!(refused, [false, true, false, true, false, true, false]);

    for (at, name) in [
        (0, "fresh"),
        (2, "current"),
        (4, "overwritten"),
        (6, "unconditional"),
    ] {
        let stored = store.get(&key(name)).await.unwrap().expect(name);
        assert_eq!(stored.item.data, after, "{name}");
        assert_eq!(Ok(stored.version), answers[at], "{name}");
    }
    assert_ne!(answers[2], Ok(current), "a write makes a new version");
    assert_ne!(answers[4], Ok(overwritten), "a write makes a new version");
    for (name, data, version) in [
        ("present", before(1), present),
        ("stale", before(4), latest),
    ] {
        let stored = store.get(&key(name)).await.unwrap().expect(name);
        assert_eq!(stored.item.data, data, "{name} is unchanged");
        assert_eq!(stored.version, version, "{name} keeps its version");
    }
    assert_eq!(store.get(&key("never-written")).await.unwrap(), None);
}

async fn put_each_refuses_an_invalid_item_alone_and_writes_the_others(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    // The JSON text of a string is its bytes and two quotes.
    let too_big = item(
        scratch::key(&t, "big"),
        json!("x".repeat(MAX_ITEM_BYTES - 1)),
    );
    let bad_counter = item(scratch::key(&t, "bad-counter"), json!({})).with_counter("Bad-Name", 1);
    let writes = vec![
        (
            item(scratch::key(&t, "small-1"), json!({"n": 1})),
            PutCondition::NotExists,
        ),
        (too_big, PutCondition::NotExists),
        (bad_counter, PutCondition::Always),
        (
            item(scratch::key(&t, "small-2"), json!({"n": 2})),
            PutCondition::NotExists,
        ),
    ];
    let answers = store.put_each(writes).await.expect("a batch write");
    assert_eq!(answers.len(), 4);
    assert!(answers[0].is_ok() && answers[3].is_ok(), "{answers:?}");
    assert!(
        matches!(answers[1], Err(StoreError::InvalidItem(_))),
        "{:?}",
        answers[1]
    );
    assert!(
        matches!(answers[2], Err(StoreError::InvalidItem(_))),
        "{:?}",
        answers[2]
    );
    for (name, n) in [("small-1", 1), ("small-2", 2)] {
        let stored = store
            .get(&scratch::key(&t, name))
            .await
            .unwrap()
            .expect(name);
        assert_eq!(stored.item.data, json!({ "n": n }));
    }
    assert_eq!(store.get(&scratch::key(&t, "big")).await.unwrap(), None);
    assert_eq!(
        store.get(&scratch::key(&t, "bad-counter")).await.unwrap(),
        None
    );
}

async fn put_each_of_no_items_is_fine_and_too_many_or_repeated_keys_are_refused_before_any_write(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    assert_eq!(store.put_each(Vec::new()).await, Ok(Vec::new()));

    let writes: Vec<(Item, PutCondition)> = (0..=MAX_BATCH_PUT)
        .map(|i| {
            (
                item(scratch::key(&t, &format!("many-{i:05}")), json!({})),
                PutCondition::Always,
            )
        })
        .collect();
    assert_eq!(
        store.put_each(writes).await,
        Err(StoreError::BatchSize {
            got: MAX_BATCH_PUT + 1,
            max: MAX_BATCH_PUT
        })
    );
    assert_eq!(
        store.get(&scratch::key(&t, "many-00000")).await.unwrap(),
        None
    );

    let once = |name: &str| {
        (
            item(scratch::key(&t, name), json!({})),
            PutCondition::Always,
        )
    };
    let repeated = store
        .put_each(vec![once("first"), once("twice"), once("twice")])
        .await;
    assert_eq!(repeated, Err(StoreError::DuplicateInBatch));
    assert_eq!(store.get(&scratch::key(&t, "first")).await.unwrap(), None);
    assert_eq!(store.get(&scratch::key(&t, "twice")).await.unwrap(), None);
}

async fn items_written_by_put_each_are_found_on_the_index(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    // Table order is the reverse of index order.
    let writes = [("i-1", "s-3"), ("i-2", "s-2"), ("i-3", "s-1")]
        .into_iter()
        .map(|(name, sort)| {
            let it = item(scratch::key(&t, name), json!({ "sort": sort }))
                .with_index(scratch::index(&t, "batch", sort));
            (it, PutCondition::NotExists)
        })
        .chain([(
            item(scratch::key(&t, "i-4"), json!({})),
            PutCondition::NotExists,
        )])
        .collect();
    let answers = store.put_each(writes).await.expect("a batch write");
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");

    // Read right after the writes: real DynamoDB may lag here (see the top).
    let (_, on_index) = read_all(
        &*store,
        Query::index(scratch::index_prefix(&t, "batch", "")),
    )
    .await;
    assert_eq!(names(&on_index), ["i-3", "i-2", "i-1"]);
    assert_eq!(
        on_index[0].item.index,
        Some(scratch::index(&t, "batch", "s-1"))
    );
    assert_eq!(on_index[0].item.data, json!({ "sort": "s-1" }));
}

async fn put_each_writes_two_thousand_items_and_a_repeat_changes_none_of_them(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let writes = || -> Vec<(Item, PutCondition)> {
        (0..2000)
            .map(|i| {
                let it = item(scratch::key(&t, &format!("bulk-{i:04}")), json!({ "i": i }));
                (it, PutCondition::NotExists)
            })
            .collect()
    };
    let answers = store.put_each(writes()).await.expect("a batch write");
    let versions: Vec<Version> = answers
        .into_iter()
        .map(|a| a.expect("every item is new"))
        .collect();
    assert_eq!(versions.len(), 2000);

    let (_, items) = read_all(
        &*store,
        Query::table(scratch::prefix(&t, "bulk-")).limit(1000),
    )
    .await;
    assert_eq!(items.len(), 2000);
    for (i, (stored, version)) in items.iter().zip(&versions).enumerate() {
        assert_eq!(stored.item.data, json!({ "i": i }));
        assert_eq!(stored.version, *version, "bulk-{i:04}");
    }

    // Repeating the call (as after an outer error) writes nothing twice.
    let again = store.put_each(writes()).await.expect("a batch write");
    assert!(again.iter().all(|a| a == &Err(StoreError::ConditionFailed)));
    let sample: Vec<Key> = (0..2000)
        .step_by(10)
        .map(|i| scratch::key(&t, &format!("bulk-{i:04}")))
        .collect();
    let found = store.get_many(&sample).await.expect("a batch read");
    for (at, stored) in found.iter().enumerate() {
        let stored = stored.as_ref().expect("written");
        assert_eq!(stored.version, versions[at * 10], "unchanged by the repeat");
    }
}

async fn put_each_json_stores_the_same_items_as_put_each_with_their_conditions_and_index(
    store: Arc<dyn ItemStore>,
    _clock: ManualClock,
) {
    let t = tenant("tenant-a");
    let key = |name: &str| scratch::key(&t, name);
    let present = store
        .put(
            item(key("present"), json!({ "before": 1 })),
            PutCondition::Always,
        )
        .await
        .unwrap();
    let data = json!({ "name": "Müller", "n": 7, "tags": ["a", "b"], "none": null });
    let json_item = |name: &str, sort: &str| {
        emma::ports::store::JsonItem::new(key(name), &data)
            .unwrap()
            .with_index(scratch::index(&t, "group", sort))
    };
    let too_big =
        emma::ports::store::JsonItem::new(key("big"), &json!("x".repeat(MAX_ITEM_BYTES - 1)))
            .unwrap();
    let answers = store
        .put_each_json(vec![
            (json_item("fresh", "b"), PutCondition::NotExists),
            (json_item("present", "c"), PutCondition::NotExists),
            (too_big, PutCondition::Always),
            (json_item("replaced", "a"), PutCondition::Always),
            (json_item("current", "d"), PutCondition::Version(present)),
        ])
        .await
        .expect("a batch write");

    assert!(answers[0].is_ok(), "{:?}", answers[0]);
    assert_eq!(answers[1], Err(StoreError::ConditionFailed));
    assert!(
        matches!(answers[2], Err(StoreError::InvalidItem(_))),
        "{:?}",
        answers[2]
    );
    assert!(answers[3].is_ok(), "{:?}", answers[3]);
    // `current` does not exist: a version of another item does not hold.
    assert_eq!(answers[4], Err(StoreError::ConditionFailed));
    let fresh = store.get(&key("fresh")).await.unwrap().expect("fresh");
    assert_eq!(fresh.item.data, data);
    assert_eq!(Ok(fresh.version), answers[0]);
    assert_eq!(
        store.get(&key("present")).await.unwrap().unwrap().item.data,
        json!({ "before": 1 }),
        "a refused write changes nothing"
    );
    assert_eq!(store.get(&key("big")).await.unwrap(), None);
    let on_index = store
        .query(Query::index(scratch::index_prefix(&t, "group", "")))
        .await
        .unwrap();
    let keys: Vec<&Key> = on_index.items.iter().map(|s| &s.item.key).collect();
    assert_eq!(keys, [&key("replaced"), &key("fresh")], "in index order");
}
