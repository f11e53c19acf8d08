//! Access control: every route, for every role — allowed gives 2xx, denied
//! gives 403, another tenant's path or object gives 404 and never its data.

use emma::domain::{ContactStatus, ImportId, Permission, Role, TenantId};
use emma::http::access::{ROUTES, RouteAccess, is_page};
use emma::import::mapping::ColumnMapping;
use emma::import::run::ImportMode;
use emma::services::exports::{self, ExportField};
use emma::services::imports;
use emma::services::lists;
use emma::services::suppressions;
use emma_tests::app::{Adapters, TEST_PASSWORD, TestApp, spawn};
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::skeleton::{create_contact, create_tenant};

/// Two tenants with a contact and users each; B's data must never show.
struct Fixture {
    app: TestApp,
    a: String,
    b: String,
    contact_a: String,
    contact_b: String,
    /// Users in A that a tenant admin, and a product admin, may manage.
    editor_a: String,
    admin_a: String,
    user_b: String,
    /// An API key of B (its id).
    key_b: String,
    /// An uploaded import of A, and a finished one; an import of B.
    import_a: String,
    import_done_a: String,
    import_b: String,
    /// A finished export of A, and one of B.
    export_a: String,
    export_b: String,
    /// An address B put on its suppression list (the entry's id).
    suppression_b: String,
    /// A list of A, and one of B.
    list_a: String,
    list_b: String,
    /// A segment of A, and one of B.
    segment_a: String,
    segment_b: String,
    /// A sign-up form of A, and one of B.
    form_a: String,
    form_b: String,
    /// An attribute of A, and one of B (a name A does not have).
    attribute_a: String,
    attribute_b: String,
    /// A template of A, and one of B (B's holds B's secret).
    template_a: String,
    template_b: String,
    /// A checked image of A, and one of B.
    asset_a: String,
    asset_b: String,
    /// A draft campaign of A (to a list with a subscribed contact), and
    /// one of B.
    campaign_a: String,
    campaign_b: String,
}

const SECRET_OF_B: &str = "nur-fuer-b@example.de";

async fn fixture(adapters: Adapters) -> Fixture {
    let app = spawn(adapters).await;
    let a = create_tenant(&app, "Sparkasse A").await;
    let b = create_tenant(&app, "Sparkasse B").await;
    let contact_a = create_contact(&app, &a, "kunde-a@example.de", "Anna").await;
    let contact_b = create_contact(&app, &b, SECRET_OF_B, "Berta").await;
    let editor_a = app.create_user(Role::Editor, Some(&a)).await.id.to_string();
    let admin_a = app
        .create_user(Role::TenantAdmin, Some(&a))
        .await
        .id
        .to_string();
    let user_b = app.create_user(Role::Editor, Some(&b)).await.id.to_string();
    let key_b = create_api_key(&app, &b).await;
    let import_a = uploaded_import(&app, &a).await;
    let import_done_a = uploaded_import(&app, &a).await;
    let tenant_a = TenantId::parse(&a).unwrap();
    let done = ImportId::parse(&import_done_a).unwrap();
    imports::start(
        app.app(),
        &tenant_a,
        &done,
        ColumnMapping::suggest(&["E-Mail".to_owned()]).unwrap(),
        ImportMode::Add,
        ContactStatus::Subscribed,
        None,
    )
    .await
    .expect("a started import");
    emma_tests::sent::deliver_queued_jobs(&app).await;
    let import_b = uploaded_import(&app, &b).await;
    let export_a = requested_export(&app, &a).await;
    let export_b = requested_export(&app, &b).await;
    emma_tests::sent::deliver_queued_jobs(&app).await;
    let suppression_b = manual_suppression(&app, &b).await;
    let list_a = new_list(&app, &a).await;
    let list_b = new_list(&app, &b).await;
    let segment_a = new_segment(&app, &a).await;
    let segment_b = new_segment(&app, &b).await;
    let form_a = new_signup_form(&app, &a, &list_a).await;
    let form_b = new_signup_form(&app, &b, &list_b).await;
    let attribute_a = new_attribute(&app, &a, "feld_a").await;
    let attribute_b = new_attribute(&app, &b, "nur_b").await;
    let template_a = new_template(&app, &a, "Newsletter A").await;
    let template_b = new_template(&app, &b, SECRET_OF_B).await;
    let asset_a = new_asset(&app, &a).await;
    let asset_b = new_asset(&app, &b).await;
    verify_sender_domain(&app, &a).await;
    verify_sender_domain(&app, &b).await;
    subscribed_member(&app, &a, &list_a).await;
    let campaign_a = new_campaign(&app, &a, &template_a, &list_a, Stage::Draft).await;
    let campaign_b = new_campaign(&app, &b, &template_b, &list_b, Stage::Draft).await;
    Fixture {
        app,
        a,
        b,
        contact_a,
        contact_b,
        editor_a,
        admin_a,
        user_b,
        key_b,
        import_a,
        import_done_a,
        import_b,
        export_a,
        export_b,
        suppression_b,
        list_a,
        list_b,
        segment_a,
        segment_b,
        form_a,
        form_b,
        attribute_a,
        attribute_b,
        template_a,
        template_b,
        asset_a,
        asset_b,
        campaign_a,
        campaign_b,
    }
}

/// Lets the tenant send from example.de.
async fn verify_sender_domain(app: &TestApp, tenant: &str) {
    let tenant = TenantId::parse(tenant).unwrap();
    let mut settings = emma::services::tenants::get(app.app(), &tenant)
        .await
        .unwrap()
        .settings;
    settings.sender_domains = vec!["example.de".to_owned()];
    emma::services::tenants::update(
        app.app(),
        &tenant,
        emma::services::tenants::TenantChange {
            settings: Some(settings),
            ..Default::default()
        },
    )
    .await
    .expect("the sender domain set");
}

/// Puts a subscribed contact on the list, so a campaign to it has someone
/// to mail.
async fn subscribed_member(app: &TestApp, tenant: &str, list: &str) {
    let tenant = TenantId::parse(tenant).unwrap();
    let mut draft = emma::domain::ContactDraft::new(
        emma::domain::EmailAddress::parse(&unique_email("abonnent")).unwrap(),
    );
    draft.status = ContactStatus::Subscribed;
    let contact = emma::services::contacts::create(app.app(), &tenant, draft)
        .await
        .expect("a subscribed contact");
    lists::add_member(
        app.app(),
        &tenant,
        &emma::domain::ListId::parse(list).unwrap(),
        &contact.id,
    )
    .await
    .expect("a member");
}

/// How far a campaign made for the walk has got.
#[derive(Clone, Copy)]
enum Stage {
    Draft,
    Scheduled,
    Paused,
}

/// The body of a campaign of the tenant to the list.
fn campaign_json(template: &str, list: &str) -> Value {
    json!({
        "name": "Dezember",
        "template_id": template,
        "from_name": "Sparkasse",
        "from_email": "newsletter@example.de",
        "audience": { "lists": [list] },
    })
}

/// Creates a campaign to the list and takes it to `stage`; returns its id.
async fn new_campaign(
    app: &TestApp,
    tenant: &str,
    template: &str,
    list: &str,
    stage: Stage,
) -> String {
    use emma::services::campaigns;
    let tenant = TenantId::parse(tenant).unwrap();
    let draft = campaigns::CampaignDraft {
        name: "Dezember".to_owned(),
        template: emma::domain::TemplateId::parse(template).unwrap(),
        template_version: None,
        subject: None,
        preheader: None,
        from_name: "Sparkasse".to_owned(),
        from_email: "newsletter@example.de".to_owned(),
        reply_to: None,
        audience: campaigns::Audience {
            lists: vec![emma::domain::ListId::parse(list).unwrap()],
            segments: Vec::new(),
        },
        tracking: emma::domain::TrackingMode::Aggregate,
    };
    let campaign = campaigns::create(app.app(), &tenant, &draft)
        .await
        .expect("a campaign");
    if matches!(stage, Stage::Scheduled | Stage::Paused) {
        let at = app.app().clock.now() + chrono::Duration::days(1);
        campaigns::schedule(app.app(), &tenant, &campaign.id, at)
            .await
            .expect("scheduled");
    }
    if matches!(stage, Stage::Paused) {
        campaigns::pause(app.app(), &tenant, &campaign.id)
            .await
            .expect("paused");
    }
    campaign.id.to_string()
}

/// Uploads and checks an image in the tenant; returns its id.
async fn new_asset(app: &TestApp, tenant: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    let (asset, upload) = emma::services::assets::announce(
        app.app(),
        &tenant,
        "pixel.png",
        crate::assets::PIXEL_PNG.len() as u64,
    )
    .await
    .expect("an announced image");
    let (status, _) = app
        .perform_presigned(&upload, crate::assets::PIXEL_PNG.to_vec())
        .await;
    assert!(status.is_success(), "the upload: {status}");
    emma::services::assets::finish(app.app(), &tenant, &asset.id)
        .await
        .expect("a checked image")
        .id
        .to_string()
}

/// A template body every check passes, naming `marker` in its text.
fn template_json(name: &str, marker: &str) -> Value {
    json!({
        "name": name,
        "kind": "html",
        "subject": "Neuigkeiten für {{ contact.first_name }}",
        "body": format!(
            "<p>{marker}</p><a href=\"{{{{ unsubscribe_url }}}}\">Abmelden</a>"
        ),
    })
}

/// Creates a template in the tenant whose body names `marker`; returns its id.
async fn new_template(app: &TestApp, tenant: &str, marker: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    emma::services::templates::create(
        app.app(),
        &tenant,
        "Newsletter",
        emma::content::template::TemplateSource {
            kind: emma::content::template::TemplateKind::Html,
            subject: "Neuigkeiten".to_owned(),
            body: format!("<p>{marker}</p><a href=\"{{{{ unsubscribe_url }}}}\">Abmelden</a>"),
            text: None,
        },
    )
    .await
    .expect("a template")
    .0
    .id
    .to_string()
}

/// Defines a text attribute in the tenant; returns its name.
async fn new_attribute(app: &TestApp, tenant: &str, name: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    emma::services::attributes::create(
        app.app(),
        &tenant,
        name,
        "Feld",
        emma::domain::AttributeKind::Text,
    )
    .await
    .expect("an attribute")
    .name
    .to_string()
}

/// Creates a sign-up form into the list; returns its id.
async fn new_signup_form(app: &TestApp, tenant: &str, list: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    let settings = emma::services::signup::FormSettings {
        name: "Website".to_owned(),
        list_id: list.to_owned(),
        consent_text: "Ja, ich möchte den Newsletter erhalten.".to_owned(),
        ..Default::default()
    };
    emma::services::signup::create(app.app(), &tenant, &settings)
        .await
        .expect("a sign-up form")
        .id
        .to_string()
}

/// Saves a segment (every contact) in the tenant; returns its id.
async fn new_segment(app: &TestApp, tenant: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    emma::services::segments::create(app.app(), &tenant, "Alle", Default::default())
        .await
        .expect("a segment")
        .id
        .to_string()
}

/// Creates a list in the tenant; returns its id.
async fn new_list(app: &TestApp, tenant: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    lists::create(app.app(), &tenant, "Newsletter")
        .await
        .expect("a list")
        .id
        .to_string()
}

/// Puts a fresh address on the tenant's suppression list by hand; returns
/// the entry's id.
async fn manual_suppression(app: &TestApp, tenant: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    let owner = app.create_user(Role::Editor, Some(tenant.as_str())).await;
    let email = emma::domain::EmailAddress::parse(&unique_email("gesperrt")).unwrap();
    suppressions::add_address(app.app(), &tenant, &email, owner.id)
        .await
        .expect("an entry")
        .id
        .to_string()
}

/// Requests an export of the tenant's contacts; returns its id.
async fn requested_export(app: &TestApp, tenant: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    let owner = app.create_user(Role::Editor, Some(tenant.as_str())).await;
    exports::request(app.app(), &tenant, owner.id, vec![ExportField::Email])
        .await
        .expect("a requested export")
        .id
        .to_string()
}

/// Announces and uploads a one-row import in the tenant; returns its id.
async fn uploaded_import(app: &TestApp, tenant: &str) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    let owner = app.create_user(Role::Editor, Some(tenant.as_str())).await;
    let file = b"E-Mail\nimport@example.de\n".to_vec();
    let (import, upload) = imports::announce(
        app.app(),
        &tenant,
        owner.id,
        "kunden.csv",
        file.len() as u64,
    )
    .await
    .expect("an announced import");
    let (status, _) = app.perform_presigned(&upload, file).await;
    assert!(status.is_success(), "the upload: {status}");
    import.id.to_string()
}

/// Creates an API key in the tenant (as a new tenant admin of it); returns
/// its id.
async fn create_api_key(app: &TestApp, tenant: &str) -> String {
    let admin = app.signed_in(Role::TenantAdmin, Some(tenant)).await;
    let reply = admin
        .post_json(
            &format!("/api/tenants/{tenant}/api-keys"),
            &json!({ "name": "Anbindung", "role": "viewer" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["key"]["id"]
        .as_str()
        .expect("a key id")
        .to_owned()
}

/// A user of the role: platform roles outside, tenant roles in A.
async fn actor(fx: &Fixture, role: Role) -> emma_tests::http::Client {
    let tenant = role.is_tenant_role().then_some(fx.a.as_str());
    fx.app.signed_in(role, tenant).await
}

fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.de", uuid::Uuid::new_v4().simple())
}

/// A valid request for the route, by this role, on `tenant`'s path, with
/// `objects` = (contact id, user id, API key id) in the path.
async fn request_for(
    fx: &Fixture,
    rule: &RouteAccess,
    role: Role,
    tenant: &str,
    objects: (&str, &str, &str),
) -> (Method, String, Option<Value>) {
    // The user a role may manage: tenant admins manage editors, product
    // admins manage tenant admins.
    let managed_role = if role == Role::ProductAdmin {
        Role::TenantAdmin
    } else {
        Role::Editor
    };
    let mut user_id = objects.1.to_owned();
    if rule.method == Method::DELETE && rule.path.contains("{user_id}") && objects.1 != fx.user_b {
        // A fresh user to delete, each time.
        user_id = fx
            .app
            .create_user(managed_role, Some(tenant))
            .await
            .id
            .to_string();
    }
    let mut contact_id = objects.0.to_owned();
    let consumes_contact = rule.method == Method::DELETE || rule.path.ends_with("/erase");
    if consumes_contact && rule.path.contains("{contact_id}") && objects.0 != fx.contact_b {
        // A fresh contact to delete or erase, each time.
        contact_id = create_contact(&fx.app, tenant, &unique_email("weg"), "Weg").await;
    }
    let of_b = objects.0 == fx.contact_b;
    let import_id = if of_b {
        fx.import_b.clone()
    } else if rule.path.ends_with("/start") {
        // A fresh upload to start, each time.
        uploaded_import(&fx.app, tenant).await
    } else if rule.path.ends_with("/report") || rule.path.ends_with("/bericht") {
        // The report (API and page) of a finished import.
        fx.import_done_a.clone()
    } else {
        fx.import_a.clone()
    };
    let list_id = if of_b {
        fx.list_b.clone()
    } else if rule.method == Method::DELETE && rule.path.ends_with("{list_id}") {
        // A fresh list to delete, each time.
        new_list(&fx.app, tenant).await
    } else {
        fx.list_a.clone()
    };
    let segment_id = if of_b {
        fx.segment_b.clone()
    } else if rule.method == Method::DELETE && rule.path.ends_with("{segment_id}") {
        // A fresh segment to delete, each time.
        new_segment(&fx.app, tenant).await
    } else {
        fx.segment_a.clone()
    };
    let entry_id = if of_b {
        fx.suppression_b.clone()
    } else if rule.path.contains("{entry_id}") {
        // A fresh entry to remove, each time.
        manual_suppression(&fx.app, tenant).await
    } else {
        String::new()
    };
    let attribute_name = if of_b {
        fx.attribute_b.clone()
    } else if rule.method == Method::DELETE && rule.path.ends_with("{attribute_name}") {
        // A fresh attribute to delete, each time.
        let name = format!("weg_{}", uuid::Uuid::new_v4().simple());
        new_attribute(&fx.app, tenant, &name).await
    } else {
        fx.attribute_a.clone()
    };
    let form_id = if of_b {
        fx.form_b.clone()
    } else if rule.method == Method::DELETE && rule.path.ends_with("{form_id}") {
        // A fresh form to delete, each time.
        new_signup_form(&fx.app, tenant, &fx.list_a).await
    } else {
        fx.form_a.clone()
    };
    let template_id = if of_b {
        fx.template_b.clone()
    } else if rule.method == Method::DELETE && rule.path.ends_with("{template_id}") {
        // A fresh template to delete, each time.
        new_template(&fx.app, tenant, "weg").await
    } else {
        fx.template_a.clone()
    };
    let asset_id = if of_b {
        fx.asset_b.clone()
    } else if rule.method == Method::DELETE && rule.path.ends_with("{asset_id}") {
        // A fresh image to delete, each time.
        new_asset(&fx.app, tenant).await
    } else {
        fx.asset_a.clone()
    };
    let campaign_id = if of_b {
        fx.campaign_b.clone()
    } else if rule.path.contains("{campaign_id}") {
        // A fresh campaign in the state each change needs.
        let stage = if rule.path.ends_with("/pause") {
            Some(Stage::Scheduled)
        } else if rule.path.ends_with("/resume") {
            Some(Stage::Paused)
        } else if rule.path.ends_with("/schedule") || rule.path.ends_with("/cancel") {
            Some(Stage::Draft)
        } else {
            None
        };
        match stage {
            Some(stage) => new_campaign(&fx.app, tenant, &fx.template_a, &fx.list_a, stage).await,
            None => fx.campaign_a.clone(),
        }
    } else {
        String::new()
    };
    let mut key_id = objects.2.to_owned();
    if rule.path.contains("{key_id}") && objects.2 != fx.key_b {
        // A fresh key to revoke, each time.
        key_id = create_api_key(&fx.app, tenant).await;
    }
    let path = rule
        .path
        .replace("{tenant_id}", tenant)
        .replace("{contact_id}", &contact_id)
        .replace("{user_id}", &user_id)
        .replace("{key_id}", &key_id)
        .replace("{import_id}", &import_id)
        .replace("{entry_id}", &entry_id)
        .replace("{list_id}", &list_id)
        .replace("{segment_id}", &segment_id)
        .replace("{form_id}", &form_id)
        .replace("{attribute_name}", &attribute_name)
        .replace("{template_id}", &template_id)
        .replace("{asset_id}", &asset_id)
        .replace("{campaign_id}", &campaign_id)
        .replace("{version}", "1")
        .replace(
            "{export_id}",
            if of_b { &fx.export_b } else { &fx.export_a },
        );
    let body = match (rule.method.as_str(), rule.path) {
        ("POST", "/api/auth/password") => Some(json!({
            "current_password": TEST_PASSWORD,
            "new_password": format!("Ein-ganz-neues-Kennwort-{}", uuid::Uuid::new_v4().simple()),
        })),
        ("DELETE", "/api/auth/totp") => Some(json!({ "current_password": TEST_PASSWORD })),
        ("POST", "/api/platform/tenants") => Some(json!({ "name": "Sparkasse Neu" })),
        ("PATCH", "/api/platform/tenants/{tenant_id}") => Some(json!({ "name": "Sparkasse A" })),
        ("POST", "/api/tenants/{tenant_id}/users") => Some(json!({
            "email": unique_email("neu"),
            "name": "Neue Kollegin",
            "role": managed_role,
        })),
        ("PATCH", "/api/tenants/{tenant_id}/users/{user_id}") => {
            Some(json!({ "name": "Umbenannt" }))
        }
        ("POST", "/api/tenants/{tenant_id}/api-keys") => Some(json!({
            "name": "Anbindung",
            "role": "editor",
        })),
        ("POST", "/api/tenants/{tenant_id}/contacts") => {
            Some(json!({ "email": unique_email("kontakt") }))
        }
        ("PATCH", "/api/tenants/{tenant_id}/contacts/{contact_id}") => {
            Some(json!({ "first_name": "Anna-Lena" }))
        }
        ("POST", "/api/tenants/{tenant_id}/exports") => Some(json!({ "fields": ["email"] })),
        ("POST", "/api/tenants/{tenant_id}/lists") => Some(json!({ "name": "Neue Liste" })),
        ("POST", "/api/tenants/{tenant_id}/segments") => Some(json!({
            "name": "Angemeldete",
            "filter": { "conditions": [{ "field": "status", "op": "is", "value": "subscribed" }] },
        })),
        ("PATCH", "/api/tenants/{tenant_id}/segments/{segment_id}") => {
            Some(json!({ "name": "Umbenannt" }))
        }
        ("POST", "/api/tenants/{tenant_id}/signup-forms")
        | ("PUT", "/api/tenants/{tenant_id}/signup-forms/{form_id}") => Some(json!({
            "name": "Website",
            "list_id": if of_b { &fx.list_b } else { &fx.list_a },
            "consent_text": "Ja, ich möchte den Newsletter erhalten.",
        })),
        ("POST", "/api/tenants/{tenant_id}/attributes") => Some(json!({
            "name": format!("neu_{}", uuid::Uuid::new_v4().simple()),
            "label": "Neues Feld",
            "kind": "text",
        })),
        ("PATCH", "/api/tenants/{tenant_id}/attributes/{attribute_name}") => {
            Some(json!({ "label": "Umbenannt" }))
        }
        ("PATCH", "/api/tenants/{tenant_id}/lists/{list_id}") => {
            Some(json!({ "name": "Umbenannt" }))
        }
        ("POST", "/api/tenants/{tenant_id}/suppressions") => {
            Some(json!({ "email": unique_email("sperre") }))
        }
        ("POST", "/api/tenants/{tenant_id}/imports") => {
            Some(json!({ "file_name": "kunden.csv", "size_bytes": 100 }))
        }
        ("POST", "/api/tenants/{tenant_id}/imports/{import_id}/start") => Some(json!({
            "mapping": { "email": 0 },
            "mode": "add",
            "new_status": "subscribed",
        })),
        ("POST", "/api/tenants/{tenant_id}/templates")
        | ("PUT", "/api/tenants/{tenant_id}/templates/{template_id}") => {
            Some(template_json("Newsletter", "Inhalt"))
        }
        ("POST", "/api/tenants/{tenant_id}/templates/{template_id}/test-send") => {
            Some(json!({ "addresses": [unique_email("test")] }))
        }
        ("POST", "/api/tenants/{tenant_id}/templates/preview") => {
            let mut draft = template_json("", "Entwurf");
            draft.as_object_mut().unwrap().remove("name");
            Some(draft)
        }
        ("POST", "/api/tenants/{tenant_id}/assets") => {
            Some(json!({ "file_name": "bild.png", "size_bytes": 100 }))
        }
        ("PATCH", "/api/tenants/{tenant_id}/assets/{asset_id}") => {
            Some(json!({ "name": "Umbenannt" }))
        }
        ("POST", "/api/tenants/{tenant_id}/campaigns")
        | ("PUT", "/api/tenants/{tenant_id}/campaigns/{campaign_id}") => {
            Some(campaign_json(&fx.template_a, &fx.list_a))
        }
        ("POST", "/api/tenants/{tenant_id}/campaigns/audience-count") => {
            Some(json!({ "lists": [fx.list_a] }))
        }
        ("POST", "/api/tenants/{tenant_id}/campaigns/{campaign_id}/schedule") => {
            Some(json!({ "scheduled_at": "2099-01-01T09:00" }))
        }
        ("POST", _) => Some(json!({})),
        _ => None,
    };
    (rule.method.clone(), path, body)
}

async fn send(
    client: &emma_tests::http::Client,
    (method, path, body): (Method, String, Option<Value>),
) -> emma_tests::http::Reply {
    // The suppression import takes a CSV file, not JSON.
    if method == Method::POST && path.ends_with("/suppressions/import") {
        let file = format!("E-Mail\n{}\n", unique_email("walk")).into_bytes();
        return client.post_raw(&path, "text/csv", file).await;
    }
    match body {
        Some(body) => client.json(method, &path, &body).await,
        None => {
            let request = client
                .request(method, &path)
                .body(axum::body::Body::empty())
                .unwrap();
            client.send(request).await
        }
    }
}

/// Starts a TOTP setup for the client's user and computes the current code.
async fn totp_code_after_setup(fx: &Fixture, client: &emma_tests::http::Client) -> String {
    let setup = client.post_json("/api/auth/totp", &json!({})).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.json);
    let secret =
        emma::auth::totp::TotpSecret::from_base32(setup.json["secret"].as_str().unwrap()).unwrap();
    secret.code_at(fx.app.app().clock.now())
}

fn allowed(role: Role, rule: &RouteAccess) -> bool {
    role.may(rule.permission)
}

async fn every_route_answers_every_role_as_the_permission_table_says(adapters: Adapters) {
    let fx = fixture(adapters).await;
    let mut checked = 0;
    // Form posts of the UI pages are walked by the UI's own tests (they
    // need a form body and the CSRF field); every page view is walked here.
    let walked = ROUTES.iter().filter(|r| {
        r.permission != Permission::Public && (!is_page(r.path) || r.method == Method::GET)
    });
    for rule in walked {
        for role in Role::ALL {
            // The object each role may act on in A.
            let user = if role == Role::ProductAdmin {
                &fx.admin_a
            } else {
                &fx.editor_a
            };
            let client = actor(&fx, role).await;
            let mut request = request_for(&fx, rule, role, &fx.a, (&fx.contact_a, user, "")).await;
            if rule.path == "/api/auth/totp/confirm" {
                // A valid code needs a secret being set up first.
                request.2 = Some(json!({ "code": totp_code_after_setup(&fx, &client).await }));
            }
            let reply = send(&client, request).await;
            let what = format!("{} {} as {}", rule.method, rule.path, role.as_str());
            if allowed(role, rule) {
                assert!(
                    reply.status.is_success(),
                    "{what}: {} {}",
                    reply.status,
                    reply.json
                );
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::FORBIDDEN,
                    "{what}: {}",
                    reply.json
                );
            }
            assert!(
                !String::from_utf8_lossy(&reply.body).contains(SECRET_OF_B),
                "{what}"
            );
            checked += 1;
        }
        // Nobody signed in: 401, whatever the route.
        let anonymous = fx.app.anonymous();
        let request = request_for(
            &fx,
            rule,
            Role::Viewer,
            &fx.a,
            (&fx.contact_a, &fx.editor_a, ""),
        )
        .await;
        let reply = send(&anonymous, request).await;
        if is_page(rule.path) {
            // A page sends the browser to the sign-in page instead.
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "{} {}",
                rule.method,
                rule.path
            );
            assert_eq!(reply.headers[http::header::LOCATION], "/anmelden");
        } else {
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{} {}",
                rule.method,
                rule.path
            );
        }
    }
    assert!(checked >= 5 * 15, "{checked} checks");
}

async fn another_tenants_path_or_object_is_not_found_and_shows_nothing(adapters: Adapters) {
    let fx = fixture(adapters).await;
    for rule in ROUTES
        .iter()
        .filter(|r| r.permission.is_tenant_scoped() && !is_page(r.path))
    {
        for role in Role::ALL.into_iter().filter(|r| r.is_tenant_role()) {
            if !allowed(role, rule) {
                continue;
            }
            let client = actor(&fx, role).await;
            let what = format!("{} {} as {}", rule.method, rule.path, role.as_str());
            // B's tenant in the path.
            let request = request_for(
                &fx,
                rule,
                role,
                &fx.b,
                (&fx.contact_b, &fx.user_b, &fx.key_b),
            )
            .await;
            let reply = send(&client, request).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{what} on B's path: {}",
                reply.json
            );
            assert!(
                !String::from_utf8_lossy(&reply.body).contains(SECRET_OF_B),
                "{what}"
            );
            // B's object under A's path.
            if rule.path.contains("{contact_id}")
                || rule.path.contains("{user_id}")
                || rule.path.contains("{key_id}")
                || rule.path.contains("{import_id}")
                || rule.path.contains("{export_id}")
                || rule.path.contains("{entry_id}")
                || rule.path.contains("{list_id}")
                || rule.path.contains("{segment_id}")
                || rule.path.contains("{form_id}")
                || rule.path.contains("{attribute_name}")
                || rule.path.contains("{template_id}")
                || rule.path.contains("{asset_id}")
                || rule.path.contains("{campaign_id}")
            {
                let request = request_for(
                    &fx,
                    rule,
                    role,
                    &fx.a,
                    (&fx.contact_b, &fx.user_b, &fx.key_b),
                )
                .await;
                let reply = send(&client, request).await;
                assert_eq!(
                    reply.status,
                    StatusCode::NOT_FOUND,
                    "{what} with B's object: {}",
                    reply.json
                );
                assert!(
                    !String::from_utf8_lossy(&reply.body).contains(SECRET_OF_B),
                    "{what}"
                );
            }
        }
    }
    // The refusals are in the refused users' own log (A's), never in B's.
    let admin_b = fx.app.signed_in(Role::TenantAdmin, Some(&fx.b)).await;
    let log_b = admin_b
        .get(&format!("/api/tenants/{}/audit?outcome=denied", fx.b))
        .await;
    assert_eq!(log_b.json["entries"], json!([]), "{}", log_b.json);
    let admin_a = fx.app.signed_in(Role::TenantAdmin, Some(&fx.a)).await;
    let log_a = admin_a
        .get(&format!("/api/tenants/{}/audit?outcome=denied", fx.a))
        .await;
    let denied = log_a.json["entries"].as_array().unwrap();
    assert!(
        denied.iter().any(|e| e["object"]
            .as_str()
            .is_some_and(|o| o.starts_with(fx.b.as_str()))),
        "{}",
        log_a.json
    );
}

emma_tests::on_both_adapter_sets!(
    every_route_answers_every_role_as_the_permission_table_says,
    another_tenants_path_or_object_is_not_found_and_shows_nothing,
);
