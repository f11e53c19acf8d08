//! Opens and clicks: a campaign's link table, what the public tracking
//! endpoints (`/k/{token}`, `/o/{token}`) do, and the campaign's counters.
//!
//! A tracked link's token (`content::links`) names the tenant, the
//! campaign, the recipient or nobody, and the link's index; the destination
//! is read from the campaign's link table, stored when the campaign starts
//! sending ([`store_links`]), never from the request. The open pixel's
//! token carries the reserved index `content::message::OPEN_LINK`.
//!
//! What is recorded follows the tracking mode in force when the event
//! comes: the campaign's own, but never more than the tenant's current
//! mode (an institute that turns tracking down stops recording at once):
//!
//! - per-person: the recipient's first open of the campaign and first click
//!   of each link (and of any link) are records filed under the contact
//!   (`keys::contact_tracking_events`), written with a condition that the
//!   record does not exist yet; the one write that creates it counts the
//!   event as unique. Totals are counters.
//! - aggregate: counters only, nothing that says who.
//! - off: nothing. A valid token still redirects (mails already sent keep
//!   working).
//!
//! A token that names a contact who no longer exists (erased) is counted
//! as aggregate: nothing new is filed about an erased person.
//!
//! The counters are one item per campaign (`keys::tracking_stats`):
//! `opens`, `unique_opens`, `clicks`, `unique_clicks`, `clicks_link_<n>`,
//! `unique_clicks_link_<n>`. A record and its counters are two writes, not
//! one transaction: a crash between them loses one unique count, never
//! counts one twice.
//!
//! Which tenants and campaigns answer: a deleted campaign or tenant, or a
//! campaign without a link table, is not found (the endpoint answers 404,
//! and the pixel records nothing). A suspended tenant's links still
//! redirect — the people who click are not the ones suspended, and the
//! destinations are the institute's own pages — but nothing is recorded
//! while it is suspended.
//!
//! Recording never fails a redirect: a store error while recording is
//! logged (tenant, campaign, the error; never an address) and the answer
//! goes out all the same. Each event costs one verification, one batch
//! read (link table, campaign, tenant, contact) and one to three writes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::App;
use crate::content::links::{LinkClaims, LinkError, LinkKey};
use crate::content::message::OPEN_LINK;
use crate::domain::{CampaignId, ContactId, Tenant, TenantId, TenantStatus, TrackingMode};
use crate::ports::store::{Item, PutCondition, Query, StoreError, keys};

/// Why a tracking token leads nowhere.
#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    /// Malformed, forged, tampered with.
    #[error(transparent)]
    Token(#[from] LinkError),
    /// The tenant, the campaign or its link table is gone (or never was:
    /// a token of one tenant naming another's campaign).
    #[error("the token's campaign is not known")]
    UnknownCampaign,
    /// The index is not in the campaign's link table (or is the pixel's on
    /// a link, a link's on the pixel).
    #[error("the campaign has no such link")]
    UnknownLink,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A campaign's link table as stored: destinations by index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LinkTable {
    links: Vec<String>,
}

/// The few fields of a campaign that tracking reads (the rest may change
/// shape without concern here).
#[derive(Debug, Deserialize)]
struct CampaignTracking {
    tracking: TrackingMode,
}

/// What a per-person record is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackingKind {
    /// The first open of the campaign.
    Open,
    /// The first click of one link.
    Click,
    /// The first click of any link of the campaign (what `unique_clicks`
    /// counts).
    FirstClick,
}

/// A per-person tracking record: who, which campaign, what, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackingRecord {
    #[schema(value_type = String)]
    pub contact: ContactId,
    #[schema(value_type = String)]
    pub campaign: CampaignId,
    pub kind: TrackingKind,
    /// The link's index in the campaign's link table (clicks).
    pub link: Option<u16>,
    /// The link's destination (clicks).
    pub url: Option<String>,
    pub at: DateTime<Utc>,
}

/// One link's clicks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LinkStats {
    pub index: u16,
    pub url: String,
    pub clicks: i64,
    /// Recipients who clicked it (per-person tracking only).
    pub unique_clicks: i64,
}

/// A campaign's opens and clicks. Unique counts are kept under per-person
/// tracking only; under aggregate tracking they stay 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TrackingStats {
    pub opens: i64,
    pub unique_opens: i64,
    pub clicks: i64,
    pub unique_clicks: i64,
    /// Every link of the campaign's link table, in its order.
    pub links: Vec<LinkStats>,
}

/// Stores a campaign's link table (`Prepared::links()`), when it starts
/// sending. Writing the same table again is fine (a restart, a second
/// worker); a different table for the same campaign is refused with
/// `ConditionFailed`, as the tokens already sent carry the first one's
/// indexes.
#[tracing::instrument(skip(app, links), fields(links = links.len()))]
pub async fn store_links(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
    links: &[String],
) -> Result<(), StoreError> {
    let table = LinkTable {
        links: links.to_vec(),
    };
    let key = keys::campaign_links(tenant, campaign);
    let item = Item::new(key.clone(), &table)?;
    match app.store.put(item, PutCondition::NotExists).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed) => {
            let stored = app
                .store
                .get(&key)
                .await?
                .ok_or(StoreError::ConditionFailed)?;
            if stored.item.parse::<LinkTable>()? == table {
                Ok(())
            } else {
                Err(StoreError::ConditionFailed)
            }
        }
        Err(e) => Err(e),
    }
}

/// A click on a tracked link: the destination from the campaign's link
/// table (never from the request), and the click recorded by the mode in
/// force. Recording failures are logged, never returned.
#[tracing::instrument(skip_all)]
pub async fn click(app: &App, token: &str) -> Result<Url, TrackingError> {
    let claims = LinkKey::new(&app.pseudonyms).verify(token)?;
    if claims.link == OPEN_LINK {
        return Err(TrackingError::UnknownLink);
    }
    let campaign = campaign_id(&claims)?;
    let found = look_up(app, &claims, &campaign, true).await?;
    let table = found.links.as_ref().ok_or(TrackingError::UnknownCampaign)?;
    let url = table
        .links
        .get(usize::from(claims.link))
        .ok_or(TrackingError::UnknownLink)?;
    let destination = Url::parse(url).map_err(|_| TrackingError::UnknownLink)?;
    if !matches!(destination.scheme(), "http" | "https") {
        return Err(TrackingError::UnknownLink);
    }
    let event = Event::Click {
        link: claims.link,
        url,
    };
    record_or_log(app, &claims, &campaign, &found, event).await;
    Ok(destination)
}

/// An open (the pixel was loaded), recorded by the mode in force.
/// Recording failures are logged, never returned; an error says the token
/// leads nowhere (the pixel is answered all the same).
#[tracing::instrument(skip_all)]
pub async fn open(app: &App, token: &str) -> Result<(), TrackingError> {
    let claims = LinkKey::new(&app.pseudonyms).verify(token)?;
    if claims.link != OPEN_LINK {
        return Err(TrackingError::UnknownLink);
    }
    let campaign = campaign_id(&claims)?;
    let found = look_up(app, &claims, &campaign, false).await?;
    record_or_log(app, &claims, &campaign, &found, Event::Open).await;
    Ok(())
}

/// A campaign's opens and clicks.
pub async fn stats(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
) -> Result<TrackingStats, StoreError> {
    let found = app
        .store
        .get_many(&[
            keys::tracking_stats(tenant, campaign),
            keys::campaign_links(tenant, campaign),
        ])
        .await?;
    let counters = found[0]
        .as_ref()
        .map(|stored| stored.item.counters.clone())
        .unwrap_or_default();
    let links = match &found[1] {
        Some(stored) => stored.item.parse::<LinkTable>()?.links,
        None => Vec::new(),
    };
    let count = |name: &str| counters.get(name).copied().unwrap_or(0);
    Ok(TrackingStats {
        opens: count(OPENS),
        unique_opens: count(UNIQUE_OPENS),
        clicks: count(CLICKS),
        unique_clicks: count(UNIQUE_CLICKS),
        links: links
            .into_iter()
            .enumerate()
            .map(|(index, url)| {
                let index = u16::try_from(index).unwrap_or(u16::MAX);
                LinkStats {
                    index,
                    url,
                    clicks: count(&link_counter(index)),
                    unique_clicks: count(&unique_link_counter(index)),
                }
            })
            .collect(),
    })
}

/// The contact's per-person records (first opens and first clicks of each
/// link), oldest campaign first: for the data subject's export.
pub async fn of_contact(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<Vec<TrackingRecord>, StoreError> {
    let mut records = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::table(keys::contact_tracking_events(tenant, contact)).after(cursor))
            .await?;
        for stored in &page.items {
            let record: TrackingRecord = stored.item.parse()?;
            if record.kind != TrackingKind::FirstClick {
                records.push(record);
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(records),
        }
    }
}

/// Deletes every per-person record of a contact (an erasure). Answers how
/// many there were. The campaign counters stay: they say nothing of who.
pub async fn delete_of_contact(
    app: &App,
    tenant: &TenantId,
    contact: &ContactId,
) -> Result<usize, StoreError> {
    crate::ports::store::delete_all(
        app.store.as_ref(),
        keys::contact_tracking_events(tenant, contact),
    )
    .await
}

const OPENS: &str = "opens";
const UNIQUE_OPENS: &str = "unique_opens";
const CLICKS: &str = "clicks";
const UNIQUE_CLICKS: &str = "unique_clicks";

fn link_counter(link: u16) -> String {
    format!("clicks_link_{link}")
}

fn unique_link_counter(link: u16) -> String {
    format!("unique_clicks_link_{link}")
}

/// The campaign a token names.
fn campaign_id(claims: &LinkClaims) -> Result<CampaignId, TrackingError> {
    CampaignId::parse(&claims.campaign.hyphenated().to_string())
        .map_err(|_| TrackingError::Token(LinkError::Malformed))
}

/// What one batch read found for an event.
struct Found {
    links: Option<LinkTable>,
    /// The mode in force: the campaign's, within the tenant's; `Off` while
    /// the tenant is suspended.
    mode: TrackingMode,
    /// Whether the token's recipient is still a contact.
    recipient_exists: bool,
}

/// Reads the campaign, its tenant, (for clicks) its link table and (for a
/// token naming someone) the contact, in one batch.
async fn look_up(
    app: &App,
    claims: &LinkClaims,
    campaign: &CampaignId,
    with_links: bool,
) -> Result<Found, TrackingError> {
    let tenant = &claims.tenant;
    let mut wanted = vec![keys::tenant(tenant), keys::campaign(tenant, campaign)];
    if with_links {
        wanted.push(keys::campaign_links(tenant, campaign));
    }
    if let Some(contact) = &claims.recipient {
        wanted.push(keys::contact(tenant, contact));
    }
    let mut found = app.store.get_many(&wanted).await?.into_iter();
    let registered: Tenant = match found.next().flatten() {
        Some(stored) => stored.item.parse()?,
        None => return Err(TrackingError::UnknownCampaign),
    };
    let sent: CampaignTracking = match found.next().flatten() {
        Some(stored) => stored.item.parse()?,
        None => return Err(TrackingError::UnknownCampaign),
    };
    let links = if with_links {
        match found.next().flatten() {
            Some(stored) => Some(stored.item.parse::<LinkTable>()?),
            None => return Err(TrackingError::UnknownCampaign),
        }
    } else {
        None
    };
    let recipient_exists = claims.recipient.is_some() && found.next().flatten().is_some();
    let mode = match registered.status {
        TenantStatus::Active => in_force(sent.tracking, registered.settings.tracking),
        TenantStatus::Suspended => TrackingMode::Off,
    };
    Ok(Found {
        links,
        mode,
        recipient_exists,
    })
}

/// The campaign's mode, never more than the tenant's.
fn in_force(campaign: TrackingMode, tenant: TrackingMode) -> TrackingMode {
    fn rank(mode: TrackingMode) -> u8 {
        match mode {
            TrackingMode::Off => 0,
            TrackingMode::Aggregate => 1,
            TrackingMode::PerPerson => 2,
        }
    }
    if rank(campaign) <= rank(tenant) {
        campaign
    } else {
        tenant
    }
}

/// An event to record.
#[derive(Debug, Clone, Copy)]
enum Event<'a> {
    Open,
    Click { link: u16, url: &'a str },
}

async fn record_or_log(
    app: &App,
    claims: &LinkClaims,
    campaign: &CampaignId,
    found: &Found,
    event: Event<'_>,
) {
    let who = match (found.mode, &claims.recipient) {
        (TrackingMode::Off, _) => return,
        (TrackingMode::PerPerson, Some(contact)) if found.recipient_exists => Some(contact),
        _ => None,
    };
    if let Err(e) = record(app, &claims.tenant, campaign, who, event).await {
        tracing::warn!(
            tenant = %claims.tenant,
            %campaign,
            error = %e,
            "tracking: the event was not recorded; answered all the same"
        );
    }
}

/// Records an event: per person when `who` is given (first events as
/// records, unique counts for those), counters always.
async fn record(
    app: &App,
    tenant: &TenantId,
    campaign: &CampaignId,
    who: Option<&ContactId>,
    event: Event<'_>,
) -> Result<(), StoreError> {
    let now = app.clock.now();
    let mut deltas: Vec<(String, i64)> = Vec::with_capacity(4);
    match event {
        Event::Open => {
            deltas.push((OPENS.to_owned(), 1));
            if let Some(contact) = who {
                let record = TrackingRecord {
                    contact: contact.clone(),
                    campaign: *campaign,
                    kind: TrackingKind::Open,
                    link: None,
                    url: None,
                    at: now,
                };
                let key = keys::tracking_open(tenant, contact, campaign);
                if first(app, key, &record).await? {
                    deltas.push((UNIQUE_OPENS.to_owned(), 1));
                }
            }
        }
        Event::Click { link, url } => {
            deltas.push((CLICKS.to_owned(), 1));
            deltas.push((link_counter(link), 1));
            if let Some(contact) = who {
                let mut record = TrackingRecord {
                    contact: contact.clone(),
                    campaign: *campaign,
                    kind: TrackingKind::Click,
                    link: Some(link),
                    url: Some(url.to_owned()),
                    at: now,
                };
                let key = keys::tracking_click(tenant, contact, campaign, Some(link));
                if first(app, key, &record).await? {
                    deltas.push((unique_link_counter(link), 1));
                    // The first click of this link may be the first of any.
                    record.kind = TrackingKind::FirstClick;
                    let key = keys::tracking_click(tenant, contact, campaign, None);
                    if first(app, key, &record).await? {
                        deltas.push((UNIQUE_CLICKS.to_owned(), 1));
                    }
                }
            }
        }
    }
    let deltas: Vec<(&str, i64)> = deltas.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    app.store
        .add(&keys::tracking_stats(tenant, campaign), &deltas)
        .await?;
    Ok(())
}

/// Files a first-event record; whether this write was the first.
async fn first(
    app: &App,
    key: crate::ports::store::Key,
    record: &TrackingRecord,
) -> Result<bool, StoreError> {
    let item = Item::new(key, record)?;
    match app.store.put(item, PutCondition::NotExists).await {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use async_trait::async_trait;
    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::domain::TenantName;
    use crate::ports::SystemClock;
    use crate::ports::store::{
        ItemStore, JsonItem, Key, Page, Stored, TxOp, Version, valid_counter_name,
    };
    use crate::services::tenants;

    #[test]
    fn every_counter_name_is_one_the_store_takes() {
        for name in [OPENS, UNIQUE_OPENS, CLICKS, UNIQUE_CLICKS] {
            assert!(valid_counter_name(name), "{name}");
        }
        for link in [0, 7, OPEN_LINK - 1] {
            assert!(valid_counter_name(&link_counter(link)));
            assert!(valid_counter_name(&unique_link_counter(link)));
        }
    }

    #[test]
    fn the_mode_in_force_is_the_campaigns_but_never_more_than_the_tenants() {
        use TrackingMode::*;
        assert_eq!(in_force(PerPerson, PerPerson), PerPerson);
        assert_eq!(in_force(PerPerson, Aggregate), Aggregate);
        assert_eq!(in_force(PerPerson, Off), Off);
        assert_eq!(in_force(Aggregate, PerPerson), Aggregate);
        assert_eq!(in_force(Aggregate, Off), Off);
        assert_eq!(in_force(Off, PerPerson), Off);
    }

    struct Local {
        app: App,
        _dir: tempfile::TempDir,
    }

    async fn local_app() -> Local {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let data_dir = dir.path().display().to_string();
        let config = Config::from_lookup(|name| match name {
            "EMMA_DATA_DIR" => Some(data_dir.clone()),
            "EMMA_PUBLIC_URL" => Some("http://127.0.0.1:8080".to_owned()),
            _ => None,
        })
        .expect("a local configuration");
        let runtime = crate::bootstrap::build(config, Arc::new(SystemClock))
            .await
            .expect("the app starts");
        Local {
            app: runtime.app,
            _dir: dir,
        }
    }

    /// A tenant with per-person tracking and a campaign of it that tracks
    /// per person, with two links.
    async fn campaign(app: &App) -> (TenantId, CampaignId) {
        let tenant = tenants::create(app, TenantName::parse("Sparkasse Spur").unwrap())
            .await
            .unwrap();
        let mut settings = tenant.settings.clone();
        settings.tracking = TrackingMode::PerPerson;
        tenants::update(
            app,
            &tenant.id,
            tenants::TenantChange {
                settings: Some(settings),
                ..tenants::TenantChange::default()
            },
        )
        .await
        .unwrap();
        let campaign = CampaignId::generate();
        // Tracking reads nothing of a campaign but its mode.
        let item = Item::new(
            keys::campaign(&tenant.id, &campaign),
            &json!({ "tracking": "per_person" }),
        )
        .unwrap();
        app.store.put(item, PutCondition::NotExists).await.unwrap();
        let links = [
            "https://a.example/".to_owned(),
            "https://b.example/".to_owned(),
        ];
        store_links(app, &tenant.id, &campaign, &links)
            .await
            .unwrap();
        (tenant.id, campaign)
    }

    fn uuid_of(campaign: &CampaignId) -> uuid::Uuid {
        uuid::Uuid::parse_str(&campaign.to_string()).unwrap()
    }

    #[tokio::test]
    async fn the_same_link_table_stores_twice_and_another_is_refused() {
        let local = local_app().await;
        let (tenant, campaign) = campaign(&local.app).await;
        let same = [
            "https://a.example/".to_owned(),
            "https://b.example/".to_owned(),
        ];
        store_links(&local.app, &tenant, &campaign, &same)
            .await
            .unwrap();
        let other = [
            "https://b.example/".to_owned(),
            "https://a.example/".to_owned(),
        ];
        assert_eq!(
            store_links(&local.app, &tenant, &campaign, &other).await,
            Err(StoreError::ConditionFailed)
        );
        let stats = stats(&local.app, &tenant, &campaign).await.unwrap();
        let urls: Vec<&str> = stats.links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(urls, ["https://a.example/", "https://b.example/"]);
    }

    /// The store, with every write failing.
    struct FailingWrites(Arc<dyn ItemStore>);

    #[async_trait]
    impl ItemStore for FailingWrites {
        fn backend(&self) -> &'static str {
            self.0.backend()
        }
        async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
            self.0.get(key).await
        }
        async fn put(&self, _: Item, _: PutCondition) -> Result<Version, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn add(&self, _: &Key, _: &[(&str, i64)]) -> Result<Counters, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn delete(&self, _: &Key) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn query(&self, query: Query) -> Result<Page, StoreError> {
            self.0.query(query).await
        }
        async fn transact(&self, _: Vec<TxOp>) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Stored>>, StoreError> {
            self.0.get_many(keys).await
        }
        async fn put_each(
            &self,
            _: Vec<(Item, PutCondition)>,
        ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn put_each_json(
            &self,
            _: Vec<(JsonItem, PutCondition)>,
        ) -> Result<Vec<Result<Version, StoreError>>, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
    }

    type Counters = BTreeMap<String, i64>;

    #[tokio::test]
    async fn a_click_redirects_even_when_recording_fails() {
        let local = local_app().await;
        let (tenant, campaign) = campaign(&local.app).await;
        let mut app = local.app.clone();
        app.store = Arc::new(FailingWrites(local.app.store.clone()));
        let signer = LinkKey::new(&app.pseudonyms).signer(&tenant, uuid_of(&campaign));
        let contact = ContactId::parse(&"c".repeat(32)).unwrap();
        let url = click(&app, &signer.token(Some(&contact), 1)).await.unwrap();
        assert_eq!(url.as_str(), "https://b.example/");
        open(&app, &signer.token(None, OPEN_LINK)).await.unwrap();
        // Nothing was written.
        let stats = stats(&local.app, &tenant, &campaign).await.unwrap();
        assert_eq!((stats.opens, stats.clicks), (0, 0));
    }

    #[tokio::test]
    async fn a_pixel_token_is_no_link_and_a_link_token_no_pixel() {
        let local = local_app().await;
        let (tenant, campaign) = campaign(&local.app).await;
        let signer = LinkKey::new(&local.app.pseudonyms).signer(&tenant, uuid_of(&campaign));
        assert!(matches!(
            click(&local.app, &signer.token(None, OPEN_LINK)).await,
            Err(TrackingError::UnknownLink)
        ));
        assert!(matches!(
            click(&local.app, &signer.token(None, 2)).await,
            Err(TrackingError::UnknownLink)
        ));
        assert!(matches!(
            open(&local.app, &signer.token(None, 0)).await,
            Err(TrackingError::UnknownLink)
        ));
        let stats = stats(&local.app, &tenant, &campaign).await.unwrap();
        assert_eq!((stats.opens, stats.clicks), (0, 0));
    }

    #[tokio::test]
    async fn a_suspended_tenants_link_still_redirects_and_records_nothing() {
        let local = local_app().await;
        let app = &local.app;
        let (tenant, campaign) = campaign(app).await;
        tenants::update(
            app,
            &tenant,
            tenants::TenantChange {
                status: Some(TenantStatus::Suspended),
                ..tenants::TenantChange::default()
            },
        )
        .await
        .unwrap();
        let signer = LinkKey::new(&app.pseudonyms).signer(&tenant, uuid_of(&campaign));
        let url = click(app, &signer.token(None, 0)).await.unwrap();
        assert_eq!(url.as_str(), "https://a.example/");
        let stats = stats(app, &tenant, &campaign).await.unwrap();
        assert_eq!(stats.clicks, 0);
    }

    #[tokio::test]
    async fn an_erased_persons_click_is_counted_but_filed_under_nobody() {
        let local = local_app().await;
        let app = &local.app;
        let (tenant, campaign) = campaign(app).await;
        // A token naming a contact the tenant does not have (any more).
        let gone = ContactId::parse(&"d".repeat(32)).unwrap();
        let signer = LinkKey::new(&app.pseudonyms).signer(&tenant, uuid_of(&campaign));
        click(app, &signer.token(Some(&gone), 0)).await.unwrap();
        let stats = stats(app, &tenant, &campaign).await.unwrap();
        assert_eq!((stats.clicks, stats.unique_clicks), (1, 0));
        assert!(of_contact(app, &tenant, &gone).await.unwrap().is_empty());
    }
}
