//! The asset library: images a tenant's newsletters show.
//!
//! An image is announced with its name and size (refused at once when it is
//! larger than the library takes), uploaded straight to the blob store by a
//! presigned PUT of exactly that size, and then checked by its first bytes
//! (PNG, JPEG, GIF, WebP) or read as XML (SVG, refused when it could run or
//! load anything). An image that fails the check is removed with its record:
//! nothing half-stored remains. A checked image is served from a public
//! address that never changes its content (renaming changes only the name
//! the library shows), so it may be cached for a year.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::content::image::{self, ImageError, ImageKind, MAX_IMAGE_BYTES};
use crate::domain::{AssetId, TenantId, short_text};
use crate::ports::blobs::{BlobError, BlobKey, PresignedRequest};
use crate::ports::store::{Item, PutCondition, Query, StoreError, keys, parse_all};
use crate::services::tenants::{self, TenantError};

/// How long a presigned upload stays valid.
const UPLOAD_TTL_MINUTES: i64 = 15;

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error("no image with this id")]
    NotFound,
    #[error("name: {0}")]
    Name(&'static str),
    #[error("the image takes {size} bytes; at most {MAX_IMAGE_BYTES} are allowed")]
    TooLarge { size: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("the image has not been uploaded yet")]
    NotUploaded,
    #[error("the image was changed meanwhile; reload it")]
    Conflict,
    /// The uploaded file is no image the library takes; it is removed.
    #[error(transparent)]
    Refused(ImageError),
    /// Templates show the image; deleting it needs a confirmation.
    #[error("the image is used by: {}", .0.join(", "))]
    InUse(Vec<String>),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    /// Announced; the upload has not been checked yet.
    AwaitingUpload,
    /// Checked and served.
    Ready,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    pub id: AssetId,
    /// What the library shows (the file's name at first).
    pub name: String,
    pub status: AssetStatus,
    /// Known once the upload is checked.
    pub kind: Option<ImageKind>,
    pub size_bytes: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn extension(kind: ImageKind) -> &'static str {
    match kind {
        ImageKind::Png => "png",
        ImageKind::Jpeg => "jpg",
        ImageKind::Gif => "gif",
        ImageKind::Webp => "webp",
        ImageKind::Svg => "svg",
    }
}

impl Asset {
    /// The path the image is served at (`/img/{tenant}/{id}.{ext}`), once
    /// it is checked.
    pub fn public_path(&self, tenant: &TenantId) -> Option<String> {
        let kind = self.kind.filter(|_| self.status == AssetStatus::Ready)?;
        Some(format!("/img/{tenant}/{}.{}", self.id, extension(kind)))
    }

    /// The absolute address to write into a template.
    pub fn public_url(&self, app: &App, tenant: &TenantId) -> Option<String> {
        let path = self.public_path(tenant)?;
        Some(
            app.settings
                .public_url
                .join(&path)
                .map(String::from)
                .unwrap_or(path),
        )
    }
}

/// Where the presigned PUT writes an image before its check.
pub fn upload_key(tenant: &TenantId, id: &AssetId) -> Result<BlobKey, BlobError> {
    BlobKey::new(tenant, &format!("assets/{id}/upload"))
}

/// Where the checked bytes are kept and served from. Only the server
/// writes here, so a second PUT of the (still valid) presigned upload can
/// never replace an image after its check.
fn image_key(tenant: &TenantId, id: &AssetId) -> Result<BlobKey, BlobError> {
    BlobKey::new(tenant, &format!("assets/{id}/image"))
}

fn conflict(e: StoreError) -> AssetError {
    match e {
        StoreError::ConditionFailed => AssetError::Conflict,
        other => other.into(),
    }
}

fn asset_name(raw: &str) -> Result<String, AssetError> {
    let name = short_text(raw).map_err(AssetError::Name)?;
    if name.is_empty() {
        return Err(AssetError::Name("is empty"));
    }
    Ok(name)
}

async fn load(
    app: &App,
    tenant: &TenantId,
    id: &AssetId,
) -> Result<(Asset, crate::ports::store::Version), AssetError> {
    let stored = app
        .store
        .get(&keys::asset(tenant, id))
        .await?
        .ok_or(AssetError::NotFound)?;
    Ok((stored.item.parse()?, stored.version))
}

/// Announces an image: the record, and a PUT for exactly `size_bytes`.
pub async fn announce(
    app: &App,
    tenant: &TenantId,
    file_name: &str,
    size_bytes: u64,
) -> Result<(Asset, PresignedRequest), AssetError> {
    tenants::get_active(app, tenant).await?;
    let name = asset_name(file_name)?;
    if size_bytes == 0 {
        return Err(AssetError::Empty);
    }
    if size_bytes > MAX_IMAGE_BYTES {
        return Err(AssetError::TooLarge { size: size_bytes });
    }
    let now = app.clock.now();
    let asset = Asset {
        id: AssetId::generate(),
        name,
        status: AssetStatus::AwaitingUpload,
        kind: None,
        size_bytes,
        created_at: now,
        updated_at: now,
    };
    app.store
        .put(
            Item::new(keys::asset(tenant, &asset.id), &asset)?,
            PutCondition::NotExists,
        )
        .await?;
    let upload = app
        .blobs
        .presign_put_sized(
            &upload_key(tenant, &asset.id)?,
            "application/octet-stream",
            size_bytes,
            Duration::minutes(UPLOAD_TTL_MINUTES)
                .to_std()
                .expect("a positive duration"),
        )
        .await?;
    Ok((asset, upload))
}

/// Checks an uploaded image and makes it servable; an image that fails the
/// check is removed with its record. Checking a served image again changes
/// nothing.
pub async fn finish(app: &App, tenant: &TenantId, id: &AssetId) -> Result<Asset, AssetError> {
    tenants::get_active(app, tenant).await?;
    let (mut asset, version) = load(app, tenant, id).await?;
    if asset.status == AssetStatus::Ready {
        return Ok(asset);
    }
    let key = upload_key(tenant, id)?;
    let Some(blob) = app.blobs.get(&key).await? else {
        return Err(AssetError::NotUploaded);
    };
    match image::check(&blob.bytes) {
        Ok(kind) => {
            // The checked bytes themselves, copied where no upload reaches.
            app.blobs
                .put(
                    &image_key(tenant, id)?,
                    blob.bytes.clone(),
                    kind.content_type(),
                )
                .await?;
            app.blobs.delete(&key).await?;
            asset.status = AssetStatus::Ready;
            asset.kind = Some(kind);
            asset.size_bytes = blob.bytes.len() as u64;
            asset.updated_at = app.clock.now();
            app.store
                .put(
                    Item::new(keys::asset(tenant, id), &asset)?,
                    PutCondition::Version(version),
                )
                .await
                .map_err(conflict)?;
            Ok(asset)
        }
        Err(refusal) => {
            app.blobs.delete(&key).await?;
            app.store.delete(&keys::asset(tenant, id)).await?;
            Err(AssetError::Refused(refusal))
        }
    }
}

/// One image of the tenant.
pub async fn get(app: &App, tenant: &TenantId, id: &AssetId) -> Result<Asset, AssetError> {
    tenants::get(app, tenant).await?;
    Ok(load(app, tenant, id).await?.0)
}

/// Every image of the tenant, oldest first.
pub async fn all(app: &App, tenant: &TenantId) -> Result<Vec<Asset>, AssetError> {
    tenants::get(app, tenant).await?;
    Ok(parse_all(
        app.store.as_ref(),
        Query::table(keys::assets(tenant)).limit(500),
    )
    .await?)
}

/// Renames an image (its address stays).
pub async fn rename(
    app: &App,
    tenant: &TenantId,
    id: &AssetId,
    name: &str,
) -> Result<Asset, AssetError> {
    tenants::get_active(app, tenant).await?;
    let name = asset_name(name)?;
    let (mut asset, version) = load(app, tenant, id).await?;
    asset.name = name;
    asset.updated_at = app.clock.now();
    app.store
        .put(
            Item::new(keys::asset(tenant, id), &asset)?,
            PutCondition::Version(version),
        )
        .await
        .map_err(conflict)?;
    Ok(asset)
}

/// The names of the templates whose current version shows the image, and
/// of the campaigns still to send whose pinned version does.
pub async fn used_by(
    app: &App,
    tenant: &TenantId,
    asset: &Asset,
) -> Result<Vec<String>, AssetError> {
    use crate::services::campaigns::{self, CampaignState};
    use crate::services::templates::{self, TemplateError};
    let Some(path) = asset.public_path(tenant) else {
        return Ok(Vec::new());
    };
    let shows = |source: &crate::content::template::TemplateSource| {
        source.body.contains(&path) || source.text.as_deref().is_some_and(|t| t.contains(&path))
    };
    let failed = |e: TemplateError| match e {
        TemplateError::Tenant(t) => AssetError::Tenant(t),
        TemplateError::Store(s) => AssetError::Store(s),
        _ => AssetError::NotFound,
    };
    let mut names = Vec::new();
    for template in templates::all(app, tenant).await.map_err(failed)? {
        if let Ok((_, version)) = templates::version(app, tenant, &template.id, None).await
            && shows(&version.source)
        {
            names.push(template.name);
        }
    }
    let pending = campaigns::all(app, tenant).await.map_err(|e| match e {
        campaigns::CampaignError::Store(s) => AssetError::Store(s),
        _ => AssetError::NotFound,
    })?;
    for campaign in pending
        .into_iter()
        .filter(|c| !matches!(c.state, CampaignState::Sent | CampaignState::Cancelled))
    {
        if let Ok((_, version)) = templates::version(
            app,
            tenant,
            &campaign.template,
            Some(campaign.template_version),
        )
        .await
            && shows(&version.source)
        {
            names.push(campaign.name);
        }
    }
    Ok(names)
}

/// Deletes an image. When a template shows it, only with `confirmed`: the
/// image then disappears from those templates and from mails already sent.
pub async fn delete(
    app: &App,
    tenant: &TenantId,
    id: &AssetId,
    confirmed: bool,
) -> Result<(), AssetError> {
    tenants::get_active(app, tenant).await?;
    let (asset, _) = load(app, tenant, id).await?;
    if !confirmed {
        let users = used_by(app, tenant, &asset).await?;
        if !users.is_empty() {
            return Err(AssetError::InUse(users));
        }
    }
    // The file first: a half-finished delete leaves a record without a
    // file (shown as missing), never a served file without a record.
    app.blobs.delete(&image_key(tenant, id)?).await?;
    app.blobs.delete(&upload_key(tenant, id)?).await?;
    app.store.delete(&keys::asset(tenant, id)).await?;
    Ok(())
}

/// A served image by its public file name (`{id}.{ext}`): its bytes and
/// media type, when it exists, is checked and the extension is its own.
pub async fn public(
    app: &App,
    tenant: &TenantId,
    file: &str,
) -> Result<Option<(Vec<u8>, &'static str)>, AssetError> {
    let Some((id, ext)) = file.split_once('.') else {
        return Ok(None);
    };
    let Ok(id) = AssetId::parse(id) else {
        return Ok(None);
    };
    let asset = match load(app, tenant, &id).await {
        Ok((asset, _)) => asset,
        Err(AssetError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(kind) = asset.kind.filter(|_| asset.status == AssetStatus::Ready) else {
        return Ok(None);
    };
    if extension(kind) != ext {
        return Ok(None);
    }
    Ok(app
        .blobs
        .get(&image_key(tenant, &id)?)
        .await?
        .map(|blob| (blob.bytes, kind.content_type())))
}
