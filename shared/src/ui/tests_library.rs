//! Tests of the image library pages (Bilder): driven through `routes()` on
//! an app built by the real bootstrap in a temporary folder, with the
//! principal the access guard would insert put in place by a test layer.

use axum::http::StatusCode;

use crate::content::template::{TemplateKind, TemplateSource};
use crate::domain::{AssetId, Role, Tenant};
use crate::services::{assets, templates};

use super::page_tests::{TestApp, get, local_app, post_form, send};

/// Announces a file on the page, puts it where the presigned PUT would,
/// and asks for the check; answers the asset's id and the check's answer.
async fn upload(
    t: &TestApp,
    tenant: &Tenant,
    pages: &axum::Router,
    name: &str,
    bytes: &[u8],
) -> (String, super::page_tests::Answer) {
    let size = bytes.len().to_string();
    let announced = send(
        pages,
        post_form("/bilder", &[("file_name", name), ("size_bytes", &size)]),
    )
    .await;
    assert_eq!(announced.status, StatusCode::CREATED, "{}", announced.body);
    let answer = announced.json();
    let finish = answer["finish"].as_str().unwrap().to_owned();
    let id = finish
        .strip_prefix("/bilder/")
        .and_then(|rest| rest.strip_suffix("/pruefen"))
        .unwrap()
        .to_owned();
    let key = assets::upload_key(&tenant.id, &AssetId::parse(&id).unwrap()).unwrap();
    t.app
        .blobs
        .put(&key, bytes.to_vec(), "application/octet-stream")
        .await
        .unwrap();
    let checked = send(pages, post_form(&finish, &[])).await;
    (id, checked)
}

const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";

#[tokio::test]
async fn an_editor_uploads_an_image_finds_its_address_and_renames_it() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Bilder").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);

    let empty = send(&pages, get("/bilder")).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("Noch keine Bilder."));
    assert!(
        empty
            .body
            .contains("data-upload data-max-bytes=\"4194304\"")
    );

    let (id, checked) = upload(&t, &tenant, &pages, "Stern.gif", GIF).await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    assert_eq!(
        checked.json()["next"],
        format!("/bilder/{id}?hinweis=hochgeladen")
    );
    let page = send(&pages, get(&format!("/bilder/{id}?hinweis=hochgeladen"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Das Bild ist geprüft und hochgeladen."));
    let url = format!("http://127.0.0.1:8080/img/{}/{id}.gif", tenant.id);
    assert!(
        page.body
            .contains(&format!("value=\"{}\"", url.replace('/', "&#x2f;"))),
        "the address to copy: {}",
        page.body
    );
    assert!(page.body.contains("keiner Vorlage"));

    let list = send(&pages, get("/bilder")).await;
    assert!(list.body.contains("Stern.gif"));
    assert!(list.body.contains("class=\"asset-thumbnail\""));

    let renamed = send(
        &pages,
        post_form(&format!("/bilder/{id}"), &[("name", "Stern")]),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        renamed.location(),
        format!("/bilder/{id}?hinweis=umbenannt")
    );
    let page = send(&pages, get(&format!("/bilder/{id}"))).await;
    assert!(page.body.contains("<h1>Stern</h1>"));
}

#[tokio::test]
async fn a_large_file_and_an_svg_with_a_script_are_refused_in_words() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Abgelehnt").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);

    let size = (20 * 1024 * 1024).to_string();
    let refused = send(
        &pages,
        post_form(
            "/bilder",
            &[("file_name", "riesig.jpg"), ("size_bytes", &size)],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json()["message"],
        "Das Bild ist zu groß: höchstens 4 MB sind erlaubt."
    );

    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
    let (id, checked) = upload(&t, &tenant, &pages, "logo.svg", svg).await;
    assert_eq!(checked.status, StatusCode::BAD_REQUEST);
    let message = checked.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("Das Bild wurde abgelehnt:"),
        "{message}"
    );
    assert!(message.contains("onload"), "{message}");
    let gone = send(&pages, get(&format!("/bilder/{id}"))).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(assets::all(&t.app, &tenant.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn deleting_a_used_image_asks_a_second_time_and_names_the_templates() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Löschen").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let pages = t.pages_of(&editor);
    let (id, _) = upload(&t, &tenant, &pages, "logo.gif", GIF).await;
    let asset = assets::get(&t.app, &tenant.id, &AssetId::parse(&id).unwrap())
        .await
        .unwrap();
    let url = asset.public_url(&t.app, &tenant.id).unwrap();
    templates::create(
        &t.app,
        &tenant.id,
        "Dezember",
        TemplateSource {
            kind: TemplateKind::Html,
            subject: "Logo".into(),
            body: format!("<img src=\"{url}\" alt=\"Logo\">{{{{ unsubscribe_url }}}}"),
            text: None,
        },
    )
    .await
    .unwrap();

    let page = send(&pages, get(&format!("/bilder/{id}"))).await;
    assert!(page.body.contains("<dd id=\"asset-used-by\">Dezember</dd>"));
    let asked = send(
        &pages,
        post_form(&format!("/bilder/{id}/loeschen"), &[("bestaetigt", "ja")]),
    )
    .await;
    assert_eq!(asked.status, StatusCode::CONFLICT);
    assert!(
        asked
            .body
            .contains("Dieses Bild wird verwendet in: Dezember.")
    );
    assert!(asked.body.contains("name=\"trotzdem\""));
    assert_eq!(assets::all(&t.app, &tenant.id).await.unwrap().len(), 1);

    let deleted = send(
        &pages,
        post_form(
            &format!("/bilder/{id}/loeschen"),
            &[("bestaetigt", "ja"), ("trotzdem", "ja")],
        ),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.location(), "/bilder?hinweis=geloescht");
    assert!(assets::all(&t.app, &tenant.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_viewer_sees_the_images_but_no_upload_form_and_may_not_delete() {
    let t = local_app().await;
    let tenant = t.tenant("Sparkasse Ansicht").await;
    let editor = t.user(Role::Editor, &tenant).await;
    let (id, _) = upload(&t, &tenant, &t.pages_of(&editor), "logo.gif", GIF).await;
    let viewer = t.user(Role::Viewer, &tenant).await;
    let pages = t.pages_of(&viewer);
    let list = send(&pages, get("/bilder")).await;
    assert!(list.body.contains("logo.gif"));
    assert!(!list.body.contains("<form id=\"new-asset\""));
    let refused = send(
        &pages,
        post_form(&format!("/bilder/{id}/loeschen"), &[("bestaetigt", "ja")]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(assets::all(&t.app, &tenant.id).await.unwrap().len(), 1);
}
