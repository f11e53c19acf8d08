//! Campaigns on both adapter sets: the audience counts each mailable
//! contact once (lists and segments together, without the unsubscribed and
//! the suppressed); a draft is scheduled at a Berlin time stored in UTC,
//! edited back to draft, paused, resumed and cancelled; and every bad input
//! (an unverified sender, a time in the past, an empty audience, a template
//! without unsubscribe link, a subject with a line break, more tracking
//! than the institute allows, another tenant's list) is refused by name
//! and changes nothing.

use emma::domain::{ContactDraft, ContactStatus, EmailAddress, Role, TenantId};
use emma::services::{contacts, lists, tenants};
use emma_tests::app::{Adapters, TestApp, spawn, spawn_with_clock};
use emma_tests::http::Client;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::skeleton::create_tenant;

emma_tests::on_both_adapter_sets!(
    the_audience_counts_each_mailable_contact_once,
    a_campaign_is_scheduled_edited_back_to_draft_paused_resumed_and_cancelled,
    bad_campaign_input_is_refused_by_name_and_changes_nothing,
    another_tenants_campaign_is_not_found,
    a_campaign_whose_time_passed_while_paused_is_not_resumed_and_its_template_stays,
);

pub(crate) const BODY: &str = r#"<p>{{ contact.greeting }},</p><p>Neues von uns.</p>
<a href="{{ unsubscribe_url }}">Abmelden</a>"#;

/// A tenant that may send from example.de, with an editor.
pub(crate) async fn tenant_with_sender(app: &TestApp, name: &str) -> (String, Client) {
    let tenant = create_tenant(app, name).await;
    let id = TenantId::parse(&tenant).unwrap();
    let mut settings = tenants::get(app.app(), &id).await.unwrap().settings;
    settings.sender_domains = vec!["example.de".to_owned()];
    tenants::update(
        app.app(),
        &id,
        tenants::TenantChange {
            settings: Some(settings),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let editor = app.signed_in(Role::Editor, Some(&tenant)).await;
    (tenant, editor)
}

pub(crate) async fn contact(
    app: &TestApp,
    tenant: &str,
    email: &str,
    status: ContactStatus,
) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    let mut draft = ContactDraft::new(EmailAddress::parse(email).unwrap());
    draft.status = match status {
        ContactStatus::Unconfirmed => ContactStatus::Unconfirmed,
        _ => ContactStatus::Subscribed,
    };
    let created = contacts::create(app.app(), &tenant, draft).await.unwrap();
    if status == ContactStatus::Unsubscribed {
        let change = contacts::ContactChange {
            status: Some(status),
            ..Default::default()
        };
        contacts::update(app.app(), &tenant, &created.id, change)
            .await
            .unwrap();
    }
    created.id.to_string()
}

pub(crate) async fn list_of(app: &TestApp, tenant: &str, members: &[&str]) -> String {
    let tenant = TenantId::parse(tenant).unwrap();
    let list = lists::create(app.app(), &tenant, "Newsletter")
        .await
        .unwrap();
    for member in members {
        lists::add_member(
            app.app(),
            &tenant,
            &list.id,
            &emma::domain::ContactId::parse(member).unwrap(),
        )
        .await
        .unwrap();
    }
    list.id.to_string()
}

pub(crate) async fn template(editor: &Client, tenant: &str, body: &str) -> String {
    let reply = editor
        .post_json(
            &format!("/api/tenants/{tenant}/templates"),
            &json!({ "name": "Dezember", "kind": "html", "subject": "Neues", "body": body,
                     "text": "Neues. Abmelden: {{ unsubscribe_url }}" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["template"]["id"].as_str().unwrap().to_owned()
}

pub(crate) fn campaign(template: &str, lists: &[&str]) -> Value {
    json!({
        "name": "Dezember-Newsletter",
        "template_id": template,
        "from_name": "Sparkasse Musterstadt",
        "from_email": "newsletter@example.de",
        "reply_to": "service@example.de",
        "audience": { "lists": lists },
    })
}

pub(crate) async fn created(editor: &Client, tenant: &str, body: &Value) -> Value {
    let reply = editor
        .post_json(&format!("/api/tenants/{tenant}/campaigns"), body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(reply.json["state"], "draft");
    reply.json
}

pub(crate) async fn act(
    editor: &Client,
    tenant: &str,
    id: &str,
    action: &str,
    body: Value,
) -> (StatusCode, Value) {
    let reply = editor
        .post_json(
            &format!("/api/tenants/{tenant}/campaigns/{id}/{action}"),
            &body,
        )
        .await;
    (reply.status, reply.json)
}

async fn the_audience_counts_each_mailable_contact_once(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_with_sender(&app, "Sparkasse Zählung").await;
    let anna = contact(&app, &tenant, "anna@example.de", ContactStatus::Subscribed).await;
    let ben = contact(&app, &tenant, "ben@example.de", ContactStatus::Subscribed).await;
    let carl = contact(
        &app,
        &tenant,
        "carl@example.de",
        ContactStatus::Unsubscribed,
    )
    .await;
    let dora = contact(&app, &tenant, "dora@example.de", ContactStatus::Subscribed).await;
    let emil = contact(&app, &tenant, "emil@example.de", ContactStatus::Unconfirmed).await;
    let suppressed = editor
        .post_json(
            &format!("/api/tenants/{tenant}/suppressions"),
            &json!({ "email": "dora@example.de" }),
        )
        .await;
    assert!(suppressed.status.is_success(), "{}", suppressed.json);
    let first = list_of(&app, &tenant, &[&anna, &ben, &carl, &dora, &emil]).await;
    let second = list_of(&app, &tenant, &[&ben, &anna]).await;
    let count = |body: Value| {
        let editor = &editor;
        let tenant = &tenant;
        async move {
            let reply = editor
                .post_json(
                    &format!("/api/tenants/{tenant}/campaigns/audience-count"),
                    &body,
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
            reply.json["count"].as_u64().unwrap()
        }
    };
    assert_eq!(count(json!({ "lists": [first] })).await, 2, "Anna and Ben");
    assert_eq!(
        count(json!({ "lists": [first, second] })).await,
        2,
        "each once"
    );
    // A segment of every subscribed contact overlaps both lists.
    let segment = editor
        .post_json(
            &format!("/api/tenants/{tenant}/segments"),
            &json!({ "name": "Angemeldete", "filter": { "conditions": [
                { "field": "status", "op": "is", "value": "subscribed" }] } }),
        )
        .await;
    assert_eq!(segment.status, StatusCode::CREATED, "{}", segment.json);
    let segment = segment.json["id"].as_str().unwrap();
    assert_eq!(
        count(json!({ "lists": [second], "segments": [segment] })).await,
        2,
        "the suppressed Dora is left out of the segment too"
    );
    assert_eq!(count(json!({})).await, 0);
}

async fn a_campaign_is_scheduled_edited_back_to_draft_paused_resumed_and_cancelled(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_with_sender(&app, "Sparkasse Ablauf").await;
    let anna = contact(&app, &tenant, "anna@example.de", ContactStatus::Subscribed).await;
    let list = list_of(&app, &tenant, &[&anna]).await;
    let template = template(&editor, &tenant, BODY).await;
    let draft = created(&editor, &tenant, &campaign(&template, &[&list])).await;
    let id = draft["id"].as_str().unwrap();
    assert_eq!(draft["template_version"], 1);
    assert_eq!(draft["tracking"], "aggregate", "the institute's mode");

    let (status, scheduled) = act(
        &editor,
        &tenant,
        id,
        "schedule",
        json!({ "scheduled_at": "2099-12-01T09:00" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{scheduled}");
    assert_eq!(scheduled["state"], "scheduled");
    assert_eq!(scheduled["scheduled_at"], "2099-12-01T08:00:00Z");
    assert_eq!(
        scheduled["scheduled_at_berlin"],
        "2099-12-01T09:00:00+01:00"
    );

    // Scheduling twice is refused; editing takes it back to draft.
    let (status, _) = act(
        &editor,
        &tenant,
        id,
        "schedule",
        json!({ "scheduled_at": "2099-12-02T09:00" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let mut changed = campaign(&template, &[&list]);
    changed["subject"] = json!("Neues für {{ contact.first_name | default(\"Sie\") }}");
    changed["preheader"] = json!("Alles für {{ contact.first_name | default(\"Sie\") }}");
    let edited = editor
        .json(
            Method::PUT,
            &format!("/api/tenants/{tenant}/campaigns/{id}"),
            &changed,
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    assert_eq!(edited.json["state"], "draft");

    let (status, _) = act(
        &editor,
        &tenant,
        id,
        "schedule",
        json!({ "scheduled_at": "2099-12-01T09:00:00+01:00" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, paused) = act(&editor, &tenant, id, "pause", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(paused["state"], "paused");
    let (status, resumed) = act(&editor, &tenant, id, "resume", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    assert_eq!(resumed["state"], "scheduled");
    let (status, cancelled) = act(&editor, &tenant, id, "cancel", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");

    // A cancelled campaign stays so.
    for action in ["resume", "pause", "cancel"] {
        let (status, _) = act(&editor, &tenant, id, action, json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{action}");
    }
    let edited = editor
        .json(
            Method::PUT,
            &format!("/api/tenants/{tenant}/campaigns/{id}"),
            &changed,
        )
        .await;
    assert_eq!(edited.status, StatusCode::CONFLICT);
    let listed = editor
        .get(&format!("/api/tenants/{tenant}/campaigns"))
        .await;
    assert_eq!(listed.json["campaigns"][0]["state"], "cancelled");
    // A viewer reads campaigns but may not change them.
    let viewer = app.signed_in(Role::Viewer, Some(&tenant)).await;
    assert_eq!(
        viewer
            .get(&format!("/api/tenants/{tenant}/campaigns/{id}"))
            .await
            .status,
        StatusCode::OK
    );
    let (status, _) = act(&viewer, &tenant, id, "pause", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn bad_campaign_input_is_refused_by_name_and_changes_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (tenant, editor) = tenant_with_sender(&app, "Sparkasse Fehler").await;
    let (other, _) = tenant_with_sender(&app, "Sparkasse Fremd").await;
    let anna = contact(&app, &tenant, "anna@example.de", ContactStatus::Subscribed).await;
    let carl = contact(
        &app,
        &tenant,
        "carl@example.de",
        ContactStatus::Unsubscribed,
    )
    .await;
    let list = list_of(&app, &tenant, &[&anna]).await;
    let nobody = list_of(&app, &tenant, &[&carl]).await;
    let foreign = list_of(&app, &other, &[]).await;
    let good = template(&editor, &tenant, BODY).await;
    let path = format!("/api/tenants/{tenant}/campaigns");

    for (change, field) in [
        (
            json!({ "from_email": "newsletter@nicht-verifiziert.de" }),
            "from_email",
        ),
        (json!({ "reply_to": "keine adresse" }), "reply_to"),
        (
            json!({ "subject": "Neues\r\nBcc: alle@example.de" }),
            "subject",
        ),
        (json!({ "tracking": "per_person" }), "tracking"),
        (
            json!({ "audience": { "lists": [foreign] } }),
            "audience.lists",
        ),
        (
            json!({ "template_id": uuid::Uuid::now_v7().to_string() }),
            "template_id",
        ),
        (json!({ "name": "" }), "name"),
        (json!({ "preheader": "Hallo {{ kaputt" }), "preheader"),
    ] {
        let mut body = campaign(&good, &[&list]);
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let reply = editor.post_json(&path, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            reply.json
        );
        assert_eq!(reply.json["field"], field, "{}", reply.json);
    }
    let listed = editor.get(&path).await;
    assert_eq!(listed.json["campaigns"], json!([]), "nothing was stored");

    // A time in the past: refused, still a draft.
    let draft = created(&editor, &tenant, &campaign(&good, &[&list])).await;
    let id = draft["id"].as_str().unwrap();
    let (status, problem) = act(
        &editor,
        &tenant,
        id,
        "schedule",
        json!({ "scheduled_at": "2020-01-01T09:00" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["field"], "scheduled_at");
    let (status, problem) = act(
        &editor,
        &tenant,
        id,
        "schedule",
        json!({ "scheduled_at": "bald" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");

    // Nobody to mail: refused.
    let empty = created(&editor, &tenant, &campaign(&good, &[&nobody])).await;
    let schedule = |id: String| {
        let (editor, tenant) = (&editor, &tenant);
        async move {
            act(
                editor,
                tenant,
                &id,
                "schedule",
                json!({ "scheduled_at": "2099-01-01T09:00" }),
            )
            .await
        }
    };
    let (status, problem) = schedule(empty["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("nobody"),
        "{problem}"
    );

    // A template without unsubscribe link: refused, naming the check.
    let bad = template(&editor, &tenant, "<p>Ohne Abmeldelink</p>").await;
    let blocked = created(&editor, &tenant, &campaign(&bad, &[&list])).await;
    let (status, problem) = schedule(blocked["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("unsubscribe_missing"),
        "{problem}"
    );

    for id in [
        id,
        empty["id"].as_str().unwrap(),
        blocked["id"].as_str().unwrap(),
    ] {
        let read = editor.get(&format!("{path}/{id}")).await;
        assert_eq!(read.json["state"], "draft", "nothing was scheduled");
        assert_eq!(read.json["scheduled_at"], Value::Null);
    }
}

async fn another_tenants_campaign_is_not_found(adapters: Adapters) {
    let app = spawn(adapters).await;
    let (a, editor_a) = tenant_with_sender(&app, "Sparkasse A").await;
    let (b, editor_b) = tenant_with_sender(&app, "Sparkasse B").await;
    let anna = contact(&app, &b, "anna@example.de", ContactStatus::Subscribed).await;
    let list = list_of(&app, &b, &[&anna]).await;
    let template = template(&editor_b, &b, BODY).await;
    let of_b = created(&editor_b, &b, &campaign(&template, &[&list])).await;
    let id = of_b["id"].as_str().unwrap();
    assert_eq!(
        editor_a
            .get(&format!("/api/tenants/{a}/campaigns/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for action in ["schedule", "pause", "cancel"] {
        let (status, _) = act(
            &editor_a,
            &a,
            id,
            action,
            json!({ "scheduled_at": "2099-01-01T09:00" }),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{action}");
    }
    // A's audience may not name B's list.
    let reply = editor_a
        .post_json(
            &format!("/api/tenants/{a}/campaigns/audience-count"),
            &json!({ "lists": [list] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        editor_b
            .get(&format!("/api/tenants/{b}/campaigns/{id}"))
            .await
            .json["state"],
        "draft"
    );
}

async fn a_campaign_whose_time_passed_while_paused_is_not_resumed_and_its_template_stays(
    adapters: Adapters,
) {
    let clock = emma::ports::ManualClock::new(chrono::Utc::now());
    let app = spawn_with_clock(adapters, std::sync::Arc::new(clock.clone())).await;
    let (tenant, editor) = tenant_with_sender(&app, "Sparkasse Pause").await;
    let anna = contact(&app, &tenant, "anna@example.de", ContactStatus::Subscribed).await;
    let list = list_of(&app, &tenant, &[&anna]).await;
    let template = template(&editor, &tenant, BODY).await;
    let draft = created(&editor, &tenant, &campaign(&template, &[&list])).await;
    let id = draft["id"].as_str().unwrap();

    // The template a campaign sends is not deleted.
    let refused = editor
        .delete(&format!("/api/tenants/{tenant}/templates/{template}"))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.json);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("Dezember-Newsletter"),
        "{}",
        refused.json
    );

    let soon = (app.app().clock.now() + chrono::Duration::minutes(5)).to_rfc3339();
    let (status, _) = act(
        &editor,
        &tenant,
        id,
        "schedule",
        json!({ "scheduled_at": soon }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = act(&editor, &tenant, id, "pause", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    // Ten minutes later (within the session's idle time).
    clock.advance(chrono::Duration::minutes(10));
    let (status, problem) = act(&editor, &tenant, id, "resume", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["field"], "scheduled_at");
    let paused = editor
        .get(&format!("/api/tenants/{tenant}/campaigns/{id}"))
        .await;
    assert_eq!(paused.json["state"], "paused", "nothing goes out at once");

    // Editing makes it a draft without a time, to be scheduled again.
    let edited = editor
        .json(
            Method::PUT,
            &format!("/api/tenants/{tenant}/campaigns/{id}"),
            &campaign(&template, &[&list]),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    assert_eq!(edited.json["state"], "draft");
    assert_eq!(edited.json["scheduled_at"], Value::Null);
}
