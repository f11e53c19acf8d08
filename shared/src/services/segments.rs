//! Segments of a tenant: saved filters over its contacts (status, language,
//! list membership, creation time, custom attributes; engagement once
//! tracking exists), with a live count and the matching contacts page by
//! page.
//!
//! A segment stores no members. Every count, page, export or dispatch is a
//! pass over the tenant's contacts in name order (the name index, read
//! 1,000 at a time), each contact tested against the filter; memberships
//! of the lists a filter names are read with one `get_many` per list and
//! page of contacts, never per contact. Memory stays at one page, whatever
//! the audience.
//!
//! The cost is a full pass over the tenant's contacts per count: on
//! DynamoDB the contacts' read units as an eventually consistent index
//! read (about 0.5 RCU per 4 KB, so some 60 RCU per 100,000 contacts of
//! 500 bytes, plus one `BatchGetItem` per 100 contacts and named list);
//! on the embedded default see `cargo bench -p emma --bench import`,
//! which counts a segment after each import.
//! So a count is kept for [`COUNT_TTL_SECONDS`] in a small expiring item
//! per (tenant, filter hash) ([`count`]): reloading a page or posting the
//! same filter again within that time reads one item instead of the whole
//! tenant, at the price of a count up to a minute old ([`Counted`] says
//! when it was taken). [`count_fresh`] counts again (the editor's
//! "Zählen" button); the segment overview only shows counts still kept
//! ([`kept_counts`]) and never starts a pass. The editor's script asks
//! only after a pause in typing and never with a request still running.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::domain::{
    AttributeDefinition, AttributeKind, AttributeName, AttributeValue, Contact, ContactId,
    ContactStatus, Language, ListId, SegmentId, TenantId, short_text,
};
use crate::ports::store::{
    Cursor, Item, MAX_BATCH_GET, PutCondition, Query, StoreError, Version, keys,
};
use crate::services::attributes::{self, AttributeError};
use crate::services::tenants::{self, TenantError};

/// The most conditions one filter may hold.
pub const MAX_CONDITIONS: usize = 50;
/// The longest span "within the last N days" may name (about 100 years).
pub const MAX_DAYS: u32 = 36_600;
/// Contacts read per page of the name index during a pass.
const PASS_PAGE: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no segment with this id")]
    NotFound,
    #[error("name: {0}")]
    Name(&'static str),
    /// A condition that does not hold, by its field
    /// (`conditions[2].value`).
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("the cursor is not valid for this segment")]
    InvalidCursor,
    #[error("the segment was changed meanwhile; load it again")]
    Conflict,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SegmentError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Self::InvalidCursor,
            other => Self::Store(other),
        }
    }
}

fn invalid(index: usize, part: &str, reason: impl Into<String>) -> SegmentError {
    SegmentError::Invalid {
        field: format!("conditions[{index}].{part}"),
        reason: reason.into(),
    }
}

/// Whether a contact must meet every condition or at least one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    #[default]
    All,
    Any,
}

/// What a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionField {
    /// `is` / `is_not` a status (`subscribed`, `unconfirmed`, ...).
    Status,
    /// `is` / `is_not` a language (`de`, `en`).
    Language,
    /// `member_of` / `not_member_of` the list whose id is the value.
    List,
    /// `before` / `after` a date (`YYYY-MM-DD`, Berlin time), or
    /// `within_last_days` (a whole number).
    CreatedAt,
    /// The custom attribute named in `attribute`; the operators depend on
    /// its kind: text `equals`, `contains`, `starts_with` (ignoring case);
    /// number `eq`, `lt`, `le`, `gt`, `ge`; date `before`, `after`, `on`,
    /// `within_last_days`; boolean `is_true`, `is_false`; every kind
    /// `is_empty`, `is_set`.
    Attribute,
    /// Opens and clicks (`opened_within_days`, `clicked_within_days`):
    /// reserved, refused until tracking exists.
    Engagement,
}

/// One condition of a filter, as clients write it:
/// `{"field": "attribute", "attribute": "anlagevolumen", "op": "ge", "value": 10000}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: ConditionField,
    /// The attribute's name, for `field: attribute` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    #[schema(example = "is")]
    pub op: String,
    /// A string, number or boolean, as the operator needs; absent for
    /// `is_empty`, `is_set`, `is_true`, `is_false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
}

/// A saved filter: every (`all`) or any (`any`) of the conditions. No
/// conditions match every contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentFilter {
    #[serde(rename = "match", default)]
    pub matching: Match,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub id: SegmentId,
    pub name: String,
    pub filter: SegmentFilter,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The version read (an opaque token, new on every save; not part of
    /// the stored data): a change sent with an older one is refused.
    #[serde(skip)]
    pub version: String,
}

/// A stored version as the token clients carry.
fn version_token(version: Version) -> String {
    format!("{:016x}", version.as_u64())
}

// ---------------------------------------------------------------------
// Checked filters

#[derive(Debug, Clone, Copy, PartialEq)]
enum Compare {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum AttributeTest {
    TextEquals(String),
    TextContains(String),
    TextStartsWith(String),
    Number(Compare, f64),
    DateBefore(NaiveDate),
    DateAfter(NaiveDate),
    DateOn(NaiveDate),
    DateWithinDays(u32),
    IsTrue,
    IsFalse,
    IsEmpty,
    IsSet,
}

#[derive(Debug, Clone, PartialEq)]
enum Rule {
    Status {
        is: bool,
        status: ContactStatus,
    },
    Language {
        is: bool,
        language: Language,
    },
    List {
        member: bool,
        list: ListId,
    },
    CreatedBefore(NaiveDate),
    CreatedAfter(NaiveDate),
    CreatedWithinDays(u32),
    Attribute {
        name: AttributeName,
        /// The definition's kind: a stale value of another kind (the
        /// attribute was deleted and defined anew) counts as no value.
        kind: AttributeKind,
        test: AttributeTest,
    },
}

/// A filter whose conditions were checked: what a pass evaluates.
#[derive(Debug, Clone)]
pub struct CheckedFilter {
    matching: Match,
    rules: Vec<Rule>,
}

impl CheckedFilter {
    /// The lists whose memberships the filter reads.
    fn lists(&self) -> BTreeSet<ListId> {
        self.rules
            .iter()
            .filter_map(|r| match r {
                Rule::List { list, .. } => Some(*list),
                _ => None,
            })
            .collect()
    }
}

fn enum_value<T: serde::de::DeserializeOwned>(
    index: usize,
    value: &Option<serde_json::Value>,
    allowed: &str,
) -> Result<T, SegmentError> {
    value
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| invalid(index, "value", format!("must be one of {allowed}")))
}

fn date_value(index: usize, value: &Option<serde_json::Value>) -> Result<NaiveDate, SegmentError> {
    value
        .as_ref()
        .and_then(|v| v.as_str())
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .ok_or_else(|| invalid(index, "value", "must be a date (YYYY-MM-DD)"))
}

fn days_value(index: usize, value: &Option<serde_json::Value>) -> Result<u32, SegmentError> {
    value
        .as_ref()
        .and_then(serde_json::Value::as_u64)
        .filter(|d| (1..=u64::from(MAX_DAYS)).contains(d))
        .map(|d| d as u32)
        .ok_or_else(|| {
            invalid(
                index,
                "value",
                format!("must be a whole number of days from 1 to {MAX_DAYS}"),
            )
        })
}

fn text_value(index: usize, value: &Option<serde_json::Value>) -> Result<String, SegmentError> {
    let text = value
        .as_ref()
        .and_then(|v| v.as_str())
        .ok_or_else(|| invalid(index, "value", "must be a text"))?;
    match AttributeValue::text(text) {
        Ok(AttributeValue::Text(t)) if !t.is_empty() => Ok(t.to_lowercase()),
        Ok(_) => Err(invalid(
            index,
            "value",
            "is empty (use is_empty to find contacts without a value)",
        )),
        Err(e) => Err(invalid(index, "value", e.to_string())),
    }
}

fn number_value(index: usize, value: &Option<serde_json::Value>) -> Result<f64, SegmentError> {
    value
        .as_ref()
        .and_then(serde_json::Value::as_f64)
        .filter(|n| n.is_finite())
        .ok_or_else(|| invalid(index, "value", "must be a number"))
}

fn no_value(index: usize, value: &Option<serde_json::Value>) -> Result<(), SegmentError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(_) => Err(invalid(index, "value", "must be absent for this operator")),
    }
}

fn unknown_op(index: usize, ops: &str) -> SegmentError {
    invalid(index, "op", format!("must be one of {ops}"))
}

fn check_condition(
    index: usize,
    condition: &Condition,
    definitions: &[AttributeDefinition],
    lists: &HashSet<ListId>,
) -> Result<Rule, SegmentError> {
    let op = condition.op.as_str();
    let value = &condition.value;
    if condition.field != ConditionField::Attribute && condition.attribute.is_some() {
        return Err(invalid(
            index,
            "attribute",
            "is only for conditions on an attribute",
        ));
    }
    Ok(match condition.field {
        ConditionField::Status => {
            let is = match op {
                "is" => true,
                "is_not" => false,
                _ => return Err(unknown_op(index, "is, is_not")),
            };
            let status = enum_value(
                index,
                value,
                "unconfirmed, subscribed, unsubscribed, bounced, complained",
            )?;
            Rule::Status { is, status }
        }
        ConditionField::Language => {
            let is = match op {
                "is" => true,
                "is_not" => false,
                _ => return Err(unknown_op(index, "is, is_not")),
            };
            let language = enum_value(index, value, "de, en")?;
            Rule::Language { is, language }
        }
        ConditionField::List => {
            let member = match op {
                "member_of" => true,
                "not_member_of" => false,
                _ => return Err(unknown_op(index, "member_of, not_member_of")),
            };
            let list = value
                .as_ref()
                .and_then(|v| v.as_str())
                .and_then(|s| ListId::parse(s).ok())
                .filter(|id| lists.contains(id))
                .ok_or_else(|| invalid(index, "value", "names no list of this tenant"))?;
            Rule::List { member, list }
        }
        ConditionField::CreatedAt => match op {
            "before" => Rule::CreatedBefore(date_value(index, value)?),
            "after" => Rule::CreatedAfter(date_value(index, value)?),
            "within_last_days" => Rule::CreatedWithinDays(days_value(index, value)?),
            _ => return Err(unknown_op(index, "before, after, within_last_days")),
        },
        ConditionField::Attribute => {
            let raw = condition
                .attribute
                .as_deref()
                .ok_or_else(|| invalid(index, "attribute", "is required"))?;
            let definition = AttributeName::parse(raw)
                .ok()
                .and_then(|name| definitions.iter().find(|d| d.name == name))
                .ok_or_else(|| invalid(index, "attribute", "names no attribute of this tenant"))?;
            let test = match (definition.kind, op) {
                (_, "is_empty") => no_value(index, value).map(|()| AttributeTest::IsEmpty)?,
                (_, "is_set") => no_value(index, value).map(|()| AttributeTest::IsSet)?,
                (AttributeKind::Text, "equals") => {
                    AttributeTest::TextEquals(text_value(index, value)?)
                }
                (AttributeKind::Text, "contains") => {
                    AttributeTest::TextContains(text_value(index, value)?)
                }
                (AttributeKind::Text, "starts_with") => {
                    AttributeTest::TextStartsWith(text_value(index, value)?)
                }
                (AttributeKind::Text, _) => {
                    return Err(unknown_op(
                        index,
                        "equals, contains, starts_with, is_empty, is_set",
                    ));
                }
                (AttributeKind::Number, op) => {
                    let compare = match op {
                        "eq" => Compare::Eq,
                        "lt" => Compare::Lt,
                        "le" => Compare::Le,
                        "gt" => Compare::Gt,
                        "ge" => Compare::Ge,
                        _ => return Err(unknown_op(index, "eq, lt, le, gt, ge, is_empty, is_set")),
                    };
                    AttributeTest::Number(compare, number_value(index, value)?)
                }
                (AttributeKind::Date, "before") => {
                    AttributeTest::DateBefore(date_value(index, value)?)
                }
                (AttributeKind::Date, "after") => {
                    AttributeTest::DateAfter(date_value(index, value)?)
                }
                (AttributeKind::Date, "on") => AttributeTest::DateOn(date_value(index, value)?),
                (AttributeKind::Date, "within_last_days") => {
                    AttributeTest::DateWithinDays(days_value(index, value)?)
                }
                (AttributeKind::Date, _) => {
                    return Err(unknown_op(
                        index,
                        "before, after, on, within_last_days, is_empty, is_set",
                    ));
                }
                (AttributeKind::Boolean, "is_true") => {
                    no_value(index, value).map(|()| AttributeTest::IsTrue)?
                }
                (AttributeKind::Boolean, "is_false") => {
                    no_value(index, value).map(|()| AttributeTest::IsFalse)?
                }
                (AttributeKind::Boolean, _) => {
                    return Err(unknown_op(index, "is_true, is_false, is_empty, is_set"));
                }
            };
            Rule::Attribute {
                name: definition.name.clone(),
                kind: definition.kind,
                test,
            }
        }
        ConditionField::Engagement => {
            return Err(invalid(
                index,
                "field",
                "engagement conditions (opens, clicks) are not available until tracking exists",
            ));
        }
    })
}

/// The tenant's attribute definitions, through the attributes service.
async fn definitions(
    app: &App,
    tenant: &TenantId,
) -> Result<Vec<AttributeDefinition>, SegmentError> {
    attributes::list(app, tenant).await.map_err(|e| match e {
        AttributeError::Tenant(t) => SegmentError::Tenant(t),
        AttributeError::Store(s) => s.into(),
        other => SegmentError::Store(StoreError::Backend(other.to_string())),
    })
}

/// The ids of the tenant's lists.
async fn list_ids(app: &App, tenant: &TenantId) -> Result<HashSet<ListId>, SegmentError> {
    let mut found = HashSet::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::table(keys::lists(tenant)).limit(500).after(cursor))
            .await?;
        for stored in &page.items {
            #[derive(Deserialize)]
            struct Id {
                id: ListId,
            }
            found.insert(stored.item.parse::<Id>()?.id);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(found),
        }
    }
}

/// Checks a filter against the tenant's attributes and lists: each problem
/// names its condition and part (`conditions[2].value`).
pub async fn check(
    app: &App,
    tenant: &TenantId,
    filter: &SegmentFilter,
) -> Result<CheckedFilter, SegmentError> {
    if filter.conditions.len() > MAX_CONDITIONS {
        return Err(SegmentError::Invalid {
            field: "conditions".to_owned(),
            reason: format!("at most {MAX_CONDITIONS} conditions"),
        });
    }
    let needs_attributes = filter
        .conditions
        .iter()
        .any(|c| c.field == ConditionField::Attribute);
    let needs_lists = filter
        .conditions
        .iter()
        .any(|c| c.field == ConditionField::List);
    let definitions = if needs_attributes {
        definitions(app, tenant).await?
    } else {
        Vec::new()
    };
    let lists = if needs_lists {
        list_ids(app, tenant).await?
    } else {
        HashSet::new()
    };
    let rules = filter
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| check_condition(i, c, &definitions, &lists))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CheckedFilter {
        matching: filter.matching,
        rules,
    })
}

// ---------------------------------------------------------------------
// Evaluation

/// What a contact is tested in: the time of the pass and the memberships
/// read for the page.
struct Context<'a> {
    now: DateTime<Utc>,
    today: NaiveDate,
    memberships: &'a HashSet<(ListId, ContactId)>,
}

fn berlin_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::Berlin).date_naive()
}

fn test_attribute(value: Option<&AttributeValue>, test: &AttributeTest, today: NaiveDate) -> bool {
    match (test, value) {
        (AttributeTest::IsEmpty, v) => v.is_none(),
        (AttributeTest::IsSet, v) => v.is_some(),
        (AttributeTest::TextEquals(want), Some(AttributeValue::Text(t))) => {
            t.to_lowercase() == *want
        }
        (AttributeTest::TextContains(want), Some(AttributeValue::Text(t))) => {
            t.to_lowercase().contains(want.as_str())
        }
        (AttributeTest::TextStartsWith(want), Some(AttributeValue::Text(t))) => {
            t.to_lowercase().starts_with(want.as_str())
        }
        (AttributeTest::Number(compare, want), Some(AttributeValue::Number(n))) => {
            let n = n.get();
            match compare {
                Compare::Eq => n == *want,
                Compare::Lt => n < *want,
                Compare::Le => n <= *want,
                Compare::Gt => n > *want,
                Compare::Ge => n >= *want,
            }
        }
        (AttributeTest::DateBefore(want), Some(AttributeValue::Date(d))) => d < want,
        (AttributeTest::DateAfter(want), Some(AttributeValue::Date(d))) => d > want,
        (AttributeTest::DateOn(want), Some(AttributeValue::Date(d))) => d == want,
        (AttributeTest::DateWithinDays(days), Some(AttributeValue::Date(d))) => {
            *d <= today && *d >= today - Duration::days(i64::from(*days))
        }
        (AttributeTest::IsTrue, Some(AttributeValue::Boolean(b))) => *b,
        (AttributeTest::IsFalse, Some(AttributeValue::Boolean(b))) => !*b,
        // A value of another kind (the attribute was defined anew) or none.
        _ => false,
    }
}

fn test_rule(rule: &Rule, contact: &Contact, cx: &Context<'_>) -> bool {
    match rule {
        Rule::Status { is, status } => (contact.status == *status) == *is,
        Rule::Language { is, language } => (contact.language == *language) == *is,
        Rule::List { member, list } => {
            cx.memberships.contains(&(*list, contact.id.clone())) == *member
        }
        Rule::CreatedBefore(day) => berlin_day(contact.created_at) < *day,
        Rule::CreatedAfter(day) => berlin_day(contact.created_at) > *day,
        Rule::CreatedWithinDays(days) => {
            contact.created_at >= cx.now - Duration::days(i64::from(*days))
        }
        Rule::Attribute { name, kind, test } => test_attribute(
            contact.attributes.get(name).filter(|v| v.kind() == *kind),
            test,
            cx.today,
        ),
    }
}

impl CheckedFilter {
    fn matches(&self, contact: &Contact, cx: &Context<'_>) -> bool {
        match self.matching {
            Match::All => self.rules.iter().all(|r| test_rule(r, contact, cx)),
            Match::Any => {
                self.rules.is_empty() || self.rules.iter().any(|r| test_rule(r, contact, cx))
            }
        }
    }

    /// The contacts of `page` that match, in their order; the memberships
    /// of the named lists are read in one batch per list.
    async fn select(
        &self,
        app: &App,
        tenant: &TenantId,
        page: Vec<Contact>,
    ) -> Result<Vec<Contact>, SegmentError> {
        let mut memberships = HashSet::new();
        for list in self.lists() {
            for chunk in page.chunks(MAX_BATCH_GET) {
                let member_keys: Vec<_> = chunk
                    .iter()
                    .map(|c| keys::list_member(tenant, &list, &c.id))
                    .collect();
                let found = app.store.get_many(&member_keys).await?;
                for (contact, stored) in chunk.iter().zip(found) {
                    if stored.is_some() {
                        memberships.insert((list, contact.id.clone()));
                    }
                }
            }
        }
        let now = app.clock.now();
        let cx = Context {
            now,
            today: berlin_day(now),
            memberships: &memberships,
        };
        Ok(page.into_iter().filter(|c| self.matches(c, &cx)).collect())
    }
}

/// The order a pass reads the contacts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// By name (the name index): what people read, e.g. an export.
    ByName,
    /// By id, strongly consistent: a contact renamed during the pass is
    /// neither missed nor met twice (a campaign's snapshot).
    ById,
}

/// One page of the tenant's contacts in `order`, from `cursor` on.
async fn contact_page(
    app: &App,
    tenant: &TenantId,
    order: Order,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Contact>, Option<Cursor>), SegmentError> {
    let query = match order {
        Order::ByName => Query::index(keys::contacts_by_name(tenant, "")),
        Order::ById => Query::table(keys::contacts(tenant)),
    };
    let page = app.store.query(query.limit(limit).after(cursor)).await?;
    let contacts = page
        .items
        .iter()
        .map(|s| s.item.parse())
        .collect::<Result<Vec<Contact>, _>>()?;
    Ok((contacts, page.next))
}

/// A pass over the contacts that match a filter, a batch at a time: for a
/// count or an export (in name order), and a campaign's dispatch (in id
/// order). Holds one page of contacts, however many the tenant has.
pub struct Members<'a> {
    app: &'a App,
    tenant: TenantId,
    filter: CheckedFilter,
    order: Order,
    cursor: Option<Cursor>,
    done: bool,
}

impl Members<'_> {
    /// The next batch of matching contacts (possibly empty while the pass
    /// goes on); `None` once every contact was looked at.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Contact>>, SegmentError> {
        if self.done {
            return Ok(None);
        }
        let (page, next) = contact_page(
            self.app,
            &self.tenant,
            self.order,
            PASS_PAGE,
            self.cursor.take(),
        )
        .await?;
        self.done = next.is_none();
        self.cursor = next;
        Ok(Some(
            self.filter.select(self.app, &self.tenant, page).await?,
        ))
    }
}

/// Starts a pass over the contacts that match a checked filter.
pub fn members_of<'a>(app: &'a App, tenant: &TenantId, filter: CheckedFilter) -> Members<'a> {
    Members {
        app,
        tenant: tenant.clone(),
        filter,
        order: Order::ByName,
        cursor: None,
        done: false,
    }
}

/// Goes on with a pass in id order where an earlier one stopped
/// ([`Members::position`]): a campaign's dispatch reads a large segment
/// over many steps, and must meet every contact whatever is renamed
/// meanwhile.
pub fn members_from<'a>(
    app: &'a App,
    tenant: &TenantId,
    filter: CheckedFilter,
    position: Option<Cursor>,
) -> Members<'a> {
    Members {
        app,
        tenant: tenant.clone(),
        filter,
        order: Order::ById,
        cursor: position,
        done: false,
    }
}

impl Members<'_> {
    /// Where the pass stands: `None` once it is done (or before it began).
    pub fn position(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }

    /// Whether every contact was looked at.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// How long a count is kept (see the module's note on cost).
pub const COUNT_TTL_SECONDS: i64 = 60;

/// A count and when it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub count: u64,
    pub counted_at: DateTime<Utc>,
}

/// The key a filter's kept count is stored under: a hash of the filter as
/// written (a SHA-256 of its JSON, shortened to 128 bits).
fn filter_hash(filter: &SegmentFilter) -> String {
    use sha2::Digest;
    let json = serde_json::to_vec(filter).unwrap_or_default();
    hex::encode(&sha2::Sha256::digest(&json)[..16])
}

/// How many of the tenant's contacts match the filter: the count kept from
/// the last [`COUNT_TTL_SECONDS`] if there is one, else one pass over them
/// all (see the module's note on cost). The filter is checked every time,
/// so a list or attribute deleted since is refused, not answered from the
/// kept count.
#[tracing::instrument(skip(app, filter))]
pub async fn count(
    app: &App,
    tenant: &TenantId,
    filter: &SegmentFilter,
) -> Result<Counted, SegmentError> {
    tenants::get(app, tenant).await?;
    let checked = check(app, tenant, filter).await?;
    let key = keys::segment_count(tenant, &filter_hash(filter));
    if let Some(stored) = app.store.get(&key).await? {
        return Ok(stored.item.parse()?);
    }
    count_and_keep(app, tenant, filter, checked).await
}

/// Counts the filter's contacts now (one pass), whatever count is kept,
/// and keeps the new one.
#[tracing::instrument(skip(app, filter))]
pub async fn count_fresh(
    app: &App,
    tenant: &TenantId,
    filter: &SegmentFilter,
) -> Result<Counted, SegmentError> {
    tenants::get(app, tenant).await?;
    let checked = check(app, tenant, filter).await?;
    count_and_keep(app, tenant, filter, checked).await
}

async fn count_and_keep(
    app: &App,
    tenant: &TenantId,
    filter: &SegmentFilter,
    checked: CheckedFilter,
) -> Result<Counted, SegmentError> {
    let counted_at = app.clock.now();
    let count = count_checked(app, tenant, checked).await?;
    let counted = Counted { count, counted_at };
    let item = Item::new(keys::segment_count(tenant, &filter_hash(filter)), &counted)?
        .expiring_at(counted_at + Duration::seconds(COUNT_TTL_SECONDS));
    app.store.put(item, PutCondition::Always).await?;
    Ok(counted)
}

/// The counts kept for these filters, where there is one; never counts
/// (one batch read per 100 distinct filters; segments with the same
/// filter share its count).
pub async fn kept_counts(
    app: &App,
    tenant: &TenantId,
    filters: &[&SegmentFilter],
) -> Result<Vec<Option<Counted>>, SegmentError> {
    let hashes: Vec<String> = filters.iter().map(|f| filter_hash(f)).collect();
    let distinct: Vec<&String> = hashes.iter().collect::<BTreeSet<_>>().into_iter().collect();
    let mut kept = std::collections::HashMap::new();
    for chunk in distinct.chunks(MAX_BATCH_GET) {
        let count_keys: Vec<_> = chunk
            .iter()
            .map(|h| keys::segment_count(tenant, h))
            .collect();
        for (hash, stored) in chunk.iter().zip(app.store.get_many(&count_keys).await?) {
            if let Some(stored) = stored {
                kept.insert(*hash, stored.item.parse::<Counted>()?);
            }
        }
    }
    Ok(hashes.iter().map(|h| kept.get(h).copied()).collect())
}

async fn count_checked(
    app: &App,
    tenant: &TenantId,
    checked: CheckedFilter,
) -> Result<u64, SegmentError> {
    let mut pass = members_of(app, tenant, checked);
    let mut total = 0u64;
    while let Some(batch) = pass.next_batch().await? {
        total += batch.len() as u64;
    }
    Ok(total)
}

/// A position in a filter's results: the store's cursor of the page that
/// is being read, and how many of that page's contacts were handed out.
fn encode_cursor(page_start: Option<&Cursor>, taken: usize) -> Cursor {
    Cursor::from_client(format!(
        "{taken}.{}",
        page_start.map(Cursor::as_str).unwrap_or_default()
    ))
}

fn decode_cursor(raw: &Cursor) -> Result<(Option<Cursor>, usize), SegmentError> {
    let (taken, inner) = raw
        .as_str()
        .split_once('.')
        .ok_or(SegmentError::InvalidCursor)?;
    let taken = taken
        .parse::<usize>()
        .ok()
        .filter(|t| *t < PAGE_FOR_LISTING as usize)
        .ok_or(SegmentError::InvalidCursor)?;
    let inner = (!inner.is_empty()).then(|| Cursor::from_client(inner));
    Ok((inner, taken))
}

/// Contacts read per store page when a filter's results are listed.
const PAGE_FOR_LISTING: u32 = 200;
/// The most contacts one listed page looks at; a page that found fewer
/// than asked still hands out a cursor to go on (like DynamoDB's filtered
/// queries), so no request runs through a whole large tenant.
const LISTING_BUDGET: usize = 10_000;

/// One page of the contacts that match, in name order: at most `limit`,
/// and a cursor when more may follow. A sparse filter over a large tenant
/// may answer a short (even empty) page with a cursor.
pub async fn members(
    app: &App,
    tenant: &TenantId,
    filter: &SegmentFilter,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<(Vec<Contact>, Option<Cursor>), SegmentError> {
    tenants::get(app, tenant).await?;
    let checked = check(app, tenant, filter).await?;
    let limit = limit.clamp(1, PAGE_FOR_LISTING) as usize;
    let (mut page_start, mut skip) = match &cursor {
        Some(c) => decode_cursor(c)?,
        None => (None, 0),
    };
    let mut found = Vec::new();
    let mut looked_at = 0;
    loop {
        let (page, next) = contact_page(
            app,
            tenant,
            Order::ByName,
            PAGE_FOR_LISTING,
            page_start.clone(),
        )
        .await?;
        let page_len = page.len();
        looked_at += page_len;
        // Position in the page of each contact, to know where to go on.
        let positions: Vec<ContactId> = page.iter().map(|c| c.id.clone()).collect();
        let rest: Vec<Contact> = page.into_iter().skip(skip).collect();
        let matching = checked.select(app, tenant, rest).await?;
        for contact in matching {
            if found.len() == limit {
                // Stop before this one: the next page starts here.
                let at = positions
                    .iter()
                    .position(|id| *id == contact.id)
                    .unwrap_or(page_len);
                return Ok((found, Some(encode_cursor(page_start.as_ref(), at))));
            }
            found.push(contact);
        }
        let Some(next) = next else {
            return Ok((found, None));
        };
        page_start = Some(next);
        skip = 0;
        if found.len() == limit || looked_at >= LISTING_BUDGET {
            return Ok((found, Some(encode_cursor(page_start.as_ref(), 0))));
        }
    }
}

// ---------------------------------------------------------------------
// Saved segments

fn segment_name(raw: &str) -> Result<String, SegmentError> {
    let name = short_text(raw).map_err(SegmentError::Name)?;
    if name.is_empty() {
        return Err(SegmentError::Name("is empty"));
    }
    Ok(name)
}

/// Saves a new segment after checking its filter.
pub async fn create(
    app: &App,
    tenant: &TenantId,
    name: &str,
    filter: SegmentFilter,
) -> Result<Segment, SegmentError> {
    tenants::get_active(app, tenant).await?;
    let name = segment_name(name)?;
    check(app, tenant, &filter).await?;
    let now = app.clock.now();
    let mut segment = Segment {
        id: SegmentId::generate(),
        name,
        filter,
        created_at: now,
        updated_at: now,
        version: String::new(),
    };
    let version = app
        .store
        .put(
            Item::new(keys::segment(tenant, &segment.id), &segment)?,
            PutCondition::NotExists,
        )
        .await?;
    segment.version = version_token(version);
    Ok(segment)
}

/// One segment of the tenant; another tenant's is simply not found.
pub async fn get(app: &App, tenant: &TenantId, id: &SegmentId) -> Result<Segment, SegmentError> {
    tenants::get(app, tenant).await?;
    let stored = app
        .store
        .get(&keys::segment(tenant, id))
        .await?
        .ok_or(SegmentError::NotFound)?;
    let mut segment: Segment = stored.item.parse()?;
    segment.version = version_token(stored.version);
    Ok(segment)
}

/// Every segment of the tenant, oldest first.
pub async fn all(app: &App, tenant: &TenantId) -> Result<Vec<Segment>, SegmentError> {
    tenants::get(app, tenant).await?;
    let mut segments = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::table(keys::segments(tenant))
                    .limit(500)
                    .after(cursor),
            )
            .await?;
        for stored in &page.items {
            let mut segment: Segment = stored.item.parse()?;
            segment.version = version_token(stored.version);
            segments.push(segment);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(segments),
        }
    }
}

/// Changes a segment's name, its filter, or both (`None` keeps one).
/// With `expected` (the [`Segment::version`] the change was made on), a
/// segment saved since is refused with `Conflict` instead of overwritten;
/// the write itself is conditioned on the version read either way.
pub async fn update(
    app: &App,
    tenant: &TenantId,
    id: &SegmentId,
    name: Option<&str>,
    filter: Option<SegmentFilter>,
    expected: Option<&str>,
) -> Result<Segment, SegmentError> {
    tenants::get_active(app, tenant).await?;
    let key = keys::segment(tenant, id);
    let stored = app.store.get(&key).await?.ok_or(SegmentError::NotFound)?;
    if expected.is_some_and(|e| e != version_token(stored.version)) {
        return Err(SegmentError::Conflict);
    }
    let mut segment: Segment = stored.item.parse()?;
    if let Some(name) = name {
        segment.name = segment_name(name)?;
    }
    if let Some(filter) = filter {
        check(app, tenant, &filter).await?;
        segment.filter = filter;
    }
    segment.updated_at = app.clock.now();
    match app
        .store
        .put(
            Item::new(key, &segment)?,
            PutCondition::Version(stored.version),
        )
        .await
    {
        Ok(version) => {
            segment.version = version_token(version);
            Ok(segment)
        }
        Err(StoreError::ConditionFailed) => Err(SegmentError::Conflict),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a segment (the contacts stay).
pub async fn delete(app: &App, tenant: &TenantId, id: &SegmentId) -> Result<(), SegmentError> {
    tenants::get(app, tenant).await?;
    let key = keys::segment(tenant, id);
    if app.store.get(&key).await?.is_none() {
        return Err(SegmentError::NotFound);
    }
    app.store.delete(&key).await?;
    Ok(())
}

/// How many contacts a saved segment matches (a count kept from the last
/// minute, like [`count`]).
pub async fn count_saved(
    app: &App,
    tenant: &TenantId,
    id: &SegmentId,
) -> Result<Counted, SegmentError> {
    let segment = get(app, tenant, id).await?;
    count(app, tenant, &segment.filter).await
}

/// Checks a saved segment's filter as it stands now, for a pass (an
/// export, a dispatch). A list or attribute it named that is gone since
/// makes it fail by condition, never silently widen.
pub async fn checked_filter_of(
    app: &App,
    tenant: &TenantId,
    id: &SegmentId,
) -> Result<CheckedFilter, SegmentError> {
    let segment = get(app, tenant, id).await?;
    check(app, tenant, &segment.filter).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AttributeValues, ContactDraft, EmailAddress, Number};

    fn contact(attributes: AttributeValues) -> Contact {
        let mut draft = ContactDraft::new(EmailAddress::parse("a@example.de").unwrap());
        draft.attributes = attributes;
        Contact::new(
            ContactId::parse(&"a".repeat(32)).unwrap(),
            draft,
            "2024-05-01T10:00:00Z".parse().unwrap(),
        )
    }

    fn definition(name: &str, kind: AttributeKind) -> AttributeDefinition {
        AttributeDefinition {
            name: AttributeName::parse(name).unwrap(),
            label: name.to_owned(),
            kind,
            created_at: Utc::now(),
        }
    }

    fn condition(value: serde_json::Value) -> Condition {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_bad_condition_names_its_index_and_part() {
        let defs = [definition("umsatz", AttributeKind::Number)];
        let lists = HashSet::new();
        let cases = [
            (
                serde_json::json!({"field": "status", "op": "is", "value": "happy"}),
                "conditions[3].value",
            ),
            (
                serde_json::json!({"field": "status", "op": "like", "value": "subscribed"}),
                "conditions[3].op",
            ),
            (
                serde_json::json!({"field": "attribute", "attribute": "umsatz", "op": "contains", "value": "1"}),
                "conditions[3].op",
            ),
            (
                serde_json::json!({"field": "attribute", "attribute": "gibtsnicht", "op": "is_set"}),
                "conditions[3].attribute",
            ),
            (
                serde_json::json!({"field": "attribute", "attribute": "umsatz", "op": "ge", "value": "viel"}),
                "conditions[3].value",
            ),
            (
                serde_json::json!({"field": "engagement", "op": "opened_within_days", "value": 90}),
                "conditions[3].field",
            ),
            (
                serde_json::json!({"field": "created_at", "op": "within_last_days", "value": 0}),
                "conditions[3].value",
            ),
        ];
        for (raw, want) in cases {
            match check_condition(3, &condition(raw.clone()), &defs, &lists) {
                Err(SegmentError::Invalid { field, .. }) => assert_eq!(field, want, "{raw}"),
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn attribute_tests_compare_by_kind_and_a_missing_value_is_only_empty() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
        let text = AttributeValue::Text("Privatkunde Gold".into());
        let number = AttributeValue::Number(Number::new(1500.0).unwrap());
        let date = AttributeValue::Date(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap());
        assert!(test_attribute(
            Some(&text),
            &AttributeTest::TextStartsWith("privat".into()),
            today
        ));
        assert!(test_attribute(
            Some(&text),
            &AttributeTest::TextContains("gold".into()),
            today
        ));
        assert!(!test_attribute(
            Some(&text),
            &AttributeTest::TextEquals("privatkunde".into()),
            today
        ));
        assert!(test_attribute(
            Some(&number),
            &AttributeTest::Number(Compare::Ge, 1500.0),
            today
        ));
        assert!(!test_attribute(
            Some(&number),
            &AttributeTest::Number(Compare::Lt, 1500.0),
            today
        ));
        assert!(test_attribute(
            Some(&date),
            &AttributeTest::DateWithinDays(30),
            today
        ));
        assert!(!test_attribute(
            Some(&date),
            &AttributeTest::DateWithinDays(28),
            today
        ));
        assert!(!test_attribute(None, &AttributeTest::IsFalse, today));
        assert!(test_attribute(None, &AttributeTest::IsEmpty, today));
        assert!(!test_attribute(
            Some(&number),
            &AttributeTest::TextContains("1".into()),
            today
        ));
    }

    #[test]
    fn a_stale_value_of_another_kind_counts_as_no_value() {
        // "umsatz" held a text, was deleted and defined anew as a number.
        let name = AttributeName::parse("umsatz").unwrap();
        let mut values = AttributeValues::new();
        values.insert(name.clone(), AttributeValue::Text("viel".into()));
        let person = contact(values);
        let memberships = HashSet::new();
        let now = Utc::now();
        let cx = Context {
            now,
            today: berlin_day(now),
            memberships: &memberships,
        };
        let rule = |kind, test| Rule::Attribute {
            name: name.clone(),
            kind,
            test,
        };
        assert!(!test_rule(
            &rule(AttributeKind::Number, AttributeTest::IsSet),
            &person,
            &cx
        ));
        assert!(test_rule(
            &rule(AttributeKind::Number, AttributeTest::IsEmpty),
            &person,
            &cx
        ));
        assert!(test_rule(
            &rule(AttributeKind::Text, AttributeTest::IsSet),
            &person,
            &cx
        ));
    }

    #[test]
    fn the_hash_of_a_filter_depends_on_its_conditions_only() {
        let a: SegmentFilter = serde_json::from_value(serde_json::json!({
            "conditions": [{"field": "status", "op": "is", "value": "subscribed"}]
        }))
        .unwrap();
        let same: SegmentFilter = serde_json::from_value(serde_json::json!({
            "match": "all",
            "conditions": [{"op": "is", "value": "subscribed", "field": "status"}]
        }))
        .unwrap();
        let other = SegmentFilter {
            matching: Match::Any,
            ..a.clone()
        };
        assert_eq!(filter_hash(&a), filter_hash(&same));
        assert_ne!(filter_hash(&a), filter_hash(&other));
        assert_eq!(filter_hash(&a).len(), 32);
    }

    #[test]
    fn no_conditions_match_everyone_and_any_needs_one() {
        let memberships = HashSet::new();
        let now = Utc::now();
        let cx = Context {
            now,
            today: berlin_day(now),
            memberships: &memberships,
        };
        let person = contact(AttributeValues::new());
        for matching in [Match::All, Match::Any] {
            let empty = CheckedFilter {
                matching,
                rules: vec![],
            };
            assert!(empty.matches(&person, &cx));
        }
        let rules = vec![
            Rule::Status {
                is: true,
                status: ContactStatus::Subscribed,
            },
            Rule::Language {
                is: true,
                language: Language::De,
            },
        ];
        let any = CheckedFilter {
            matching: Match::Any,
            rules: rules.clone(),
        };
        let all = CheckedFilter {
            matching: Match::All,
            rules,
        };
        assert!(any.matches(&person, &cx), "German, though unconfirmed");
        assert!(!all.matches(&person, &cx));
    }

    #[test]
    fn a_listing_cursor_reads_back_and_garbage_is_refused() {
        let inner = Cursor::from_client("abc.def");
        let (start, taken) = decode_cursor(&encode_cursor(Some(&inner), 17)).unwrap();
        assert_eq!(taken, 17);
        assert_eq!(start.unwrap().as_str(), "abc.def");
        let (start, taken) = decode_cursor(&encode_cursor(None, 0)).unwrap();
        assert!(start.is_none());
        assert_eq!(taken, 0);
        for bad in ["", "x.y", "99999.a"] {
            assert!(decode_cursor(&Cursor::from_client(bad)).is_err(), "{bad}");
        }
    }
}
