//! Asset routes of a tenant (Bilder): announce an image and get a presigned
//! PUT for it, check it once uploaded, list, read (with the templates that
//! show it), rename and delete (a used image only when confirmed).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::imports::UploadView;
use super::{ApiError, ApiJson, ApiQuery};
use crate::App;
use crate::content::image::ImageKind;
use crate::domain::{AssetId, TenantId};
use crate::services::assets::{self, Asset, AssetStatus};

pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(announce_asset, all_assets))
        .routes(routes!(get_asset, rename_asset, delete_asset))
        .routes(routes!(finish_asset))
}

fn asset_id(raw: &str) -> Result<AssetId, ApiError> {
    AssetId::parse(raw).map_err(|_| ApiError::NotFound("asset"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnounceAsset {
    #[schema(example = "weihnachten.png")]
    pub file_name: String,
    /// The exact size of the file; at most 4 MiB.
    pub size_bytes: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetName {
    #[schema(example = "Weihnachtsbaum")]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssetView {
    pub id: String,
    pub name: String,
    pub status: AssetStatus,
    pub kind: Option<ImageKind>,
    pub size_bytes: u64,
    /// The public address to use in templates, once checked.
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AssetView {
    fn of(app: &App, tenant: &TenantId, asset: Asset) -> Self {
        Self {
            url: asset.public_url(app, tenant),
            id: asset.id.to_string(),
            name: asset.name,
            status: asset.status,
            kind: asset.kind,
            size_bytes: asset.size_bytes,
            created_at: asset.created_at,
            updated_at: asset.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AnnouncedAsset {
    pub asset: AssetView,
    pub upload: UploadView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssetsView {
    pub assets: Vec<AssetView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssetDetail {
    pub asset: AssetView,
    /// The templates whose current version shows the image.
    pub used_by: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeleteParams {
    /// Deletes the image even when templates show it.
    pub confirmed: Option<bool>,
}

/// Announces an image: refused at once when larger than 4 MiB; otherwise a
/// presigned PUT of exactly that many bytes.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/assets", tag = "assets",
    params(("tenant_id" = String, Path, description = "The tenant")),
    request_body = AnnounceAsset,
    responses(
        (status = 201, description = "Announced; upload with the PUT, then finish", body = AnnouncedAsset),
        (status = 400, description = "Too large, empty or badly named", body = super::Problem),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn announce_asset(
    State(app): State<App>,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<AnnounceAsset>,
) -> Result<
    (
        StatusCode,
        [(&'static str, String); 1],
        Json<AnnouncedAsset>,
    ),
    ApiError,
> {
    let tenant = super::path_tenant(&tenant)?;
    let (asset, upload) = assets::announce(&app, &tenant, &body.file_name, body.size_bytes).await?;
    Ok((
        StatusCode::CREATED,
        [(super::access::AUDIT_OBJECT, asset.id.to_string())],
        Json(AnnouncedAsset {
            asset: AssetView::of(&app, &tenant, asset),
            upload: upload.into(),
        }),
    ))
}

/// Every image of the tenant.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/assets", tag = "assets",
    params(("tenant_id" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The images", body = AssetsView),
        (status = 404, description = "No such tenant", body = super::Problem),
    ))]
async fn all_assets(
    State(app): State<App>,
    Path(tenant): Path<String>,
) -> Result<Json<AssetsView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let all = assets::all(&app, &tenant).await?;
    Ok(Json(AssetsView {
        assets: all
            .into_iter()
            .map(|a| AssetView::of(&app, &tenant, a))
            .collect(),
    }))
}

/// One image, with the templates that show it.
#[utoipa::path(get, path = "/api/tenants/{tenant_id}/assets/{asset_id}", tag = "assets",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("asset_id" = String, Path, description = "The image"),
    ),
    responses(
        (status = 200, description = "The image", body = AssetDetail),
        (status = 404, description = "No such tenant or image", body = super::Problem),
    ))]
async fn get_asset(
    State(app): State<App>,
    Path((tenant, asset)): Path<(String, String)>,
) -> Result<Json<AssetDetail>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let asset = assets::get(&app, &tenant, &asset_id(&asset)?).await?;
    let used_by = assets::used_by(&app, &tenant, &asset).await?;
    Ok(Json(AssetDetail {
        asset: AssetView::of(&app, &tenant, asset),
        used_by,
    }))
}

/// Checks the uploaded file: an image the library takes is served from
/// then on; anything else is refused and removed.
#[utoipa::path(post, path = "/api/tenants/{tenant_id}/assets/{asset_id}/finish", tag = "assets",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("asset_id" = String, Path, description = "The image"),
    ),
    responses(
        (status = 200, description = "Checked and served", body = AssetView),
        (status = 400, description = "Not an image the library takes (removed)", body = super::Problem),
        (status = 404, description = "No such tenant or image", body = super::Problem),
        (status = 409, description = "Not uploaded yet", body = super::Problem),
    ))]
async fn finish_asset(
    State(app): State<App>,
    Path((tenant, asset)): Path<(String, String)>,
) -> Result<Json<AssetView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let asset = assets::finish(&app, &tenant, &asset_id(&asset)?).await?;
    Ok(Json(AssetView::of(&app, &tenant, asset)))
}

/// Renames an image (its address stays).
#[utoipa::path(patch, path = "/api/tenants/{tenant_id}/assets/{asset_id}", tag = "assets",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("asset_id" = String, Path, description = "The image"),
    ),
    request_body = AssetName,
    responses(
        (status = 200, description = "Renamed", body = AssetView),
        (status = 400, description = "The name is invalid", body = super::Problem),
        (status = 404, description = "No such tenant or image", body = super::Problem),
    ))]
async fn rename_asset(
    State(app): State<App>,
    Path((tenant, asset)): Path<(String, String)>,
    ApiJson(body): ApiJson<AssetName>,
) -> Result<Json<AssetView>, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    let asset = assets::rename(&app, &tenant, &asset_id(&asset)?, &body.name).await?;
    Ok(Json(AssetView::of(&app, &tenant, asset)))
}

/// Deletes an image; one that templates show only with `confirmed=true`
/// (it then disappears from them and from mails already sent).
#[utoipa::path(delete, path = "/api/tenants/{tenant_id}/assets/{asset_id}", tag = "assets",
    params(
        ("tenant_id" = String, Path, description = "The tenant"),
        ("asset_id" = String, Path, description = "The image"),
        DeleteParams,
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such tenant or image", body = super::Problem),
        (status = 409, description = "Templates show the image; confirm to delete", body = super::Problem),
    ))]
async fn delete_asset(
    State(app): State<App>,
    Path((tenant, asset)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> Result<StatusCode, ApiError> {
    let tenant = super::path_tenant(&tenant)?;
    assets::delete(
        &app,
        &tenant,
        &asset_id(&asset)?,
        params.confirmed.unwrap_or(false),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
