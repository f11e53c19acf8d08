//! The image library pages (Bilder): the tenant's images with the upload
//! form (the page's script announces the file, PUTs it straight to the blob
//! store and asks for the check), one image with its address, the
//! templates that show it, renaming and deleting (a used image only with a
//! second confirmation); and the public address every image is served at
//! (`/img/{tenant}/{id}.{ext}`), cacheable for a year, with a policy that
//! lets an SVG opened on its own run nothing.

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::admin::{date, tenant_failure};
use super::forms::{FormBody, Member, Visit, notice_param, redirect};
use super::imports::{Announced, Refused, number};
use super::lists::member_in_tenant;
use super::view;
use crate::content::image::MAX_IMAGE_BYTES;
use crate::domain::{AssetId, Permission, TenantId};
use crate::http::access::AUDIT_OBJECT;
use crate::ports::blobs::BlobError;
use crate::services::assets::{self, Asset, AssetError, AssetStatus};

/// What an image served on its own may do: show itself, nothing else.
const IMAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

fn failure(visit: &Visit, e: AssetError) -> Response {
    match e {
        AssetError::Tenant(t) => tenant_failure(visit, t),
        AssetError::NotFound => visit.fail(StatusCode::NOT_FOUND),
        AssetError::Conflict | AssetError::InUse(_) => visit.fail(StatusCode::CONFLICT),
        AssetError::Store(s) => visit.store_failure(s),
        AssetError::Blob(BlobError::Unavailable(_)) => visit.fail(StatusCode::SERVICE_UNAVAILABLE),
        AssetError::Blob(_) => visit.fail(StatusCode::INTERNAL_SERVER_ERROR),
        _ => visit.fail(StatusCode::BAD_REQUEST),
    }
}

fn refused(status: StatusCode, field: &'static str, message: String) -> Response {
    (status, Json(Refused { field, message })).into_response()
}

fn with_object(mut response: Response, id: &AssetId) -> Response {
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(AUDIT_OBJECT, value);
    }
    response
}

/// The notices a redirect may ask for (`?hinweis=`): a fixed set.
fn notice_id(raw: &str) -> Option<&'static str> {
    match raw {
        "hochgeladen" => Some("assets-notice-uploaded"),
        "umbenannt" => Some("assets-notice-renamed"),
        "geloescht" => Some("assets-notice-deleted"),
        _ => None,
    }
}

fn megabytes(visit: &Visit) -> String {
    number(visit.lang, MAX_IMAGE_BYTES / (1024 * 1024))
}

fn size_text(visit: &Visit, bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", number(visit.lang, bytes.div_ceil(1024 * 1024)))
    } else {
        format!("{} KB", number(visit.lang, bytes.div_ceil(1024)))
    }
}

// ---------------------------------------------------------------------
// Every image

#[derive(Debug, Serialize)]
struct AssetRow {
    id: String,
    name: String,
    /// The same-origin path of a checked image (for the thumbnail).
    path: Option<String>,
    size: String,
    created_at: String,
}

#[derive(Debug, Default, Serialize)]
struct LibraryView {
    alert: Option<String>,
    notice: Option<String>,
    may_write: bool,
    max_bytes: u64,
    max_size: String,
    assets: Vec<AssetRow>,
}

/// `GET /bilder`: the tenant's images and the upload form.
pub(super) async fn all(visit: Visit, uri: Uri) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let all = match assets::all(&visit.app, &tenant).await {
        Ok(all) => all,
        Err(e) => return failure(&visit, e),
    };
    let values = LibraryView {
        notice: notice_id(&notice_param(&uri)).map(|id| visit.tr(id)),
        may_write: member.principal.role.may(Permission::WriteContent),
        max_bytes: MAX_IMAGE_BYTES,
        max_size: megabytes(&visit),
        assets: all
            .into_iter()
            .filter(|a| a.status == AssetStatus::Ready)
            .map(|a| AssetRow {
                id: a.id.to_string(),
                path: a.public_path(&tenant),
                name: a.name,
                size: size_text(&visit, a.size_bytes),
                created_at: date(visit.lang, a.created_at),
            })
            .collect(),
        ..LibraryView::default()
    };
    let layout = visit.layout(&member, "/bilder");
    let mut response = view::page(StatusCode::OK, "assets.html", &layout, &values, visit.https);
    super::allow_uploads_to_blob_store(&visit.app, &tenant, &mut response).await;
    response
}

/// `POST /bilder`: announces an image (name and size, sent by the page's
/// script) and answers, as JSON, where to PUT it and where to ask for the
/// check; a refusal (too large, empty) in words.
pub(super) async fn announce(visit: Visit, body: FormBody) -> Response {
    let (_, tenant) = match member_in_tenant(&visit, Permission::WriteContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let too_large = || visit.tr_args("assets-problem-size", &[("max", megabytes(&visit))]);
    let Ok(size) = body.get("size_bytes").trim().parse::<u64>() else {
        return refused(StatusCode::BAD_REQUEST, "size_bytes", too_large());
    };
    match assets::announce(&visit.app, &tenant, body.get("file_name"), size).await {
        Ok((asset, upload)) => {
            let answer = Announced {
                next: "/bilder?hinweis=hochgeladen".to_owned(),
                finish: Some(format!("/bilder/{}/pruefen", asset.id)),
                method: upload.method.to_string(),
                url: upload.url,
                headers: upload.headers,
            };
            with_object(
                (StatusCode::CREATED, Json(answer)).into_response(),
                &asset.id,
            )
        }
        Err(AssetError::TooLarge { .. }) => {
            refused(StatusCode::BAD_REQUEST, "size_bytes", too_large())
        }
        Err(AssetError::Empty) => refused(
            StatusCode::BAD_REQUEST,
            "size_bytes",
            visit.tr("assets-problem-empty"),
        ),
        Err(AssetError::Name(_)) => refused(
            StatusCode::BAD_REQUEST,
            "file_name",
            visit.tr("assets-problem-file-name"),
        ),
        Err(e) => {
            tracing::error!(error = %e, "page: announcing an image failed");
            refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "",
                visit.tr("assets-problem-upload"),
            )
        }
    }
}

#[derive(Debug, Serialize)]
struct Checked {
    next: String,
}

/// `POST /bilder/{asset_id}/pruefen`: checks the uploaded file; answers
/// the page to go to, or why the file was refused (and removed).
pub(super) async fn finish(visit: Visit, Path(raw_id): Path<String>) -> Response {
    let (_, tenant) = match member_in_tenant(&visit, Permission::WriteContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(id) = AssetId::parse(&raw_id) else {
        return refused(StatusCode::NOT_FOUND, "", visit.tr("error-title-404"));
    };
    match assets::finish(&visit.app, &tenant, &id).await {
        Ok(asset) => with_object(
            Json(Checked {
                next: format!("/bilder/{}?hinweis=hochgeladen", asset.id),
            })
            .into_response(),
            &asset.id,
        ),
        Err(AssetError::Refused(reason)) => with_object(
            refused(
                StatusCode::BAD_REQUEST,
                "file",
                visit.tr_args("assets-problem-refused", &[("reason", reason.to_string())]),
            ),
            &id,
        ),
        Err(AssetError::NotFound) => {
            refused(StatusCode::NOT_FOUND, "", visit.tr("error-title-404"))
        }
        Err(AssetError::NotUploaded) => refused(
            StatusCode::CONFLICT,
            "file",
            visit.tr("assets-problem-upload"),
        ),
        Err(e) => {
            tracing::error!(error = %e, "page: checking an image failed");
            refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "",
                visit.tr("assets-problem-upload"),
            )
        }
    }
}

// ---------------------------------------------------------------------
// One image

#[derive(Debug, Default, Serialize)]
struct AssetView {
    alert: Option<String>,
    notice: Option<String>,
    invalid: Option<&'static str>,
    field_error: Option<String>,
    may_write: bool,
    id: String,
    name: String,
    new_name: String,
    path: Option<String>,
    url: Option<String>,
    size: String,
    kind: String,
    created_at: String,
    used_by: Vec<String>,
    /// The delete needs the second confirmation (the image is used).
    confirm_use: bool,
}

async fn find(visit: &Visit, tenant: &TenantId, raw_id: &str) -> Result<Asset, Response> {
    let id = AssetId::parse(raw_id).map_err(|_| visit.fail(StatusCode::NOT_FOUND))?;
    assets::get(&visit.app, tenant, &id)
        .await
        .map_err(|e| failure(visit, e))
}

async fn asset_page(
    visit: &Visit,
    member: &Member,
    tenant: &TenantId,
    asset: Asset,
    mut values: AssetView,
    status: StatusCode,
) -> Response {
    values.used_by = match assets::used_by(&visit.app, tenant, &asset).await {
        Ok(names) => names,
        Err(e) => return failure(visit, e),
    };
    values.id = asset.id.to_string();
    values.path = asset.public_path(tenant);
    values.url = asset.public_url(&visit.app, tenant);
    values.size = size_text(visit, asset.size_bytes);
    values.kind = asset
        .kind
        .map(|k| k.content_type().to_owned())
        .unwrap_or_default();
    values.created_at = date(visit.lang, asset.created_at);
    if values.new_name.is_empty() {
        values.new_name = asset.name.clone();
    }
    values.name = asset.name;
    values.may_write = member.principal.role.may(Permission::WriteContent);
    let layout = visit.layout(member, "/bilder");
    view::page(status, "asset.html", &layout, &values, visit.https)
}

/// `GET /bilder/{asset_id}`: one image, its address and where it is used.
pub(super) async fn page(visit: Visit, Path(raw_id): Path<String>, uri: Uri) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::ReadContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let asset = match find(&visit, &tenant, &raw_id).await {
        Ok(asset) => asset,
        Err(response) => return response,
    };
    let values = AssetView {
        notice: notice_id(&notice_param(&uri)).map(|id| visit.tr(id)),
        ..AssetView::default()
    };
    asset_page(&visit, &member, &tenant, asset, values, StatusCode::OK).await
}

/// `POST /bilder/{asset_id}`: renames the image (its address stays).
pub(super) async fn rename(visit: Visit, Path(raw_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let asset = match find(&visit, &tenant, &raw_id).await {
        Ok(asset) => asset,
        Err(response) => return response,
    };
    let name = body.get("name").trim().to_owned();
    match assets::rename(&visit.app, &tenant, &asset.id, &name).await {
        Ok(renamed) => with_object(
            redirect(
                &format!("/bilder/{}?hinweis=umbenannt", renamed.id),
                "/bilder",
            ),
            &renamed.id,
        ),
        Err(AssetError::Name(reason)) => {
            let problem = if reason == "is empty" {
                visit.tr("problem-required")
            } else {
                visit.tr_args("problem-too-long", &[("max", "100".to_owned())])
            };
            let invalid = visit.invalid("name", "assets-field-name", problem);
            let values = AssetView {
                alert: Some(invalid.alert),
                invalid: Some(invalid.field),
                field_error: Some(invalid.problem),
                new_name: name,
                ..AssetView::default()
            };
            asset_page(
                &visit,
                &member,
                &tenant,
                asset,
                values,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => failure(&visit, e),
    }
}

/// `POST /bilder/{asset_id}/loeschen`: deletes the image once confirmed;
/// one that templates show needs the second confirmation the page then
/// offers, naming them.
pub(super) async fn delete(visit: Visit, Path(raw_id): Path<String>, body: FormBody) -> Response {
    let (member, tenant) = match member_in_tenant(&visit, Permission::WriteContent).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let asset = match find(&visit, &tenant, &raw_id).await {
        Ok(asset) => asset,
        Err(response) => return response,
    };
    if body.get("bestaetigt") != "ja" {
        return redirect(&format!("/bilder/{}", asset.id), "/bilder");
    }
    let confirmed = body.get("trotzdem") == "ja";
    match assets::delete(&visit.app, &tenant, &asset.id, confirmed).await {
        Ok(()) => with_object(redirect("/bilder?hinweis=geloescht", "/bilder"), &asset.id),
        Err(AssetError::InUse(names)) => {
            let values = AssetView {
                alert: Some(
                    visit.tr_args("assets-problem-in-use", &[("templates", names.join(", "))]),
                ),
                confirm_use: true,
                ..AssetView::default()
            };
            asset_page(
                &visit,
                &member,
                &tenant,
                asset,
                values,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => failure(&visit, e),
    }
}

// ---------------------------------------------------------------------
// The public address

/// `GET /img/{tenant_id}/{file}`: a checked image, for anyone (mail
/// clients load it), cacheable for a year: its content never changes.
pub(super) async fn public(visit: Visit, Path((tenant, file)): Path<(String, String)>) -> Response {
    let Ok(tenant) = TenantId::parse(&tenant) else {
        return visit.fail(StatusCode::NOT_FOUND);
    };
    match assets::public(&visit.app, &tenant, &file).await {
        Ok(Some((bytes, content_type))) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(IMAGE_CSP),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                "cross-origin-resource-policy",
                HeaderValue::from_static("cross-origin"),
            );
            response
        }
        Ok(None) => visit.fail(StatusCode::NOT_FOUND),
        Err(e) => failure(&visit, e),
    }
}
