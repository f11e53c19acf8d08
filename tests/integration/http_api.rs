//! The API's answers to bad input, and its OpenAPI document kept in step
//! with the routes.

use emma::domain::Role;
use emma_tests::app::{Adapters, spawn};
use http::StatusCode;
use serde_json::json;

use crate::skeleton::{create_contact, create_tenant};

fn assert_problem(reply: &emma_tests::http::Reply, status: StatusCode, kind: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.json);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.json["type"], format!("urn:emma:problem:{kind}"));
    assert_eq!(reply.json["status"], status.as_u16());
}

async fn contact_count(ed: &emma_tests::http::Client, tenant: &str) -> usize {
    let list = ed.get(&format!("/api/tenants/{tenant}/contacts")).await;
    list.json["contacts"].as_array().expect("a list").len()
}

async fn bad_input_is_refused_with_a_problem_and_changes_nothing(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Prüfstadt").await;
    create_contact(&app, &tenant, "bleibt@example.de", "Bernd").await;
    let contacts = format!("/api/tenants/{tenant}/contacts");
    let ed = app.signed_in(Role::Editor, Some(&tenant)).await;

    let unknown = ed.get("/api/no/such/route").await;
    assert_problem(&unknown, StatusCode::NOT_FOUND, "no-route");

    let malformed = ed
        .post_raw(&contacts, "application/json", b"{\"email\": ".to_vec())
        .await;
    assert_problem(&malformed, StatusCode::BAD_REQUEST, "invalid-request");
    assert_eq!(malformed.json["field"], "body");

    let bad_field = ed
        .post_json(&contacts, &json!({ "email": "keine-adresse" }))
        .await;
    assert_problem(&bad_field, StatusCode::BAD_REQUEST, "invalid-request");
    assert_eq!(bad_field.json["field"], "email");
    assert_eq!(
        bad_field.json["detail"],
        "this is not a valid e-mail address"
    );

    let wrong_type = ed
        .post_json(
            &contacts,
            &json!({ "email": "neu@example.de", "first_name": ["Anna"] }),
        )
        .await;
    assert_problem(&wrong_type, StatusCode::BAD_REQUEST, "invalid-request");
    assert_eq!(wrong_type.json["field"], "first_name");

    let padding = "x".repeat(emma::http::MAX_JSON_BODY + 1);
    let huge = ed
        .post_json(
            &contacts,
            &json!({ "email": "gross@example.de", "first_name": padding }),
        )
        .await;
    assert_problem(&huge, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");

    let not_json = ed
        .post_raw(&contacts, "text/plain", b"email=a@example.de".to_vec())
        .await;
    assert_problem(
        &not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );

    let bad_limit = ed.get(&format!("{contacts}?limit=100000")).await;
    assert_problem(&bad_limit, StatusCode::BAD_REQUEST, "invalid-request");
    assert_eq!(bad_limit.json["field"], "limit");

    let twice = ed.get(&format!("{contacts}?limit=1&limit=2")).await;
    assert_problem(&twice, StatusCode::BAD_REQUEST, "invalid-request");
    assert_eq!(twice.json["field"], "query");

    let wrong_method = ed
        .send(
            http::Request::delete(&contacts)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_problem(
        &wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
    );

    let forged_cursor = ed.get(&format!("{contacts}?cursor=bm90LWEtY3Vyc29y")).await;
    assert_problem(&forged_cursor, StatusCode::BAD_REQUEST, "invalid-request");
    assert_eq!(forged_cursor.json["field"], "cursor");

    let no_tenant = ed
        .post_json(
            "/api/tenants/no-such-tenant/contacts",
            &json!({ "email": "a@example.de" }),
        )
        .await;
    assert_problem(&no_tenant, StatusCode::NOT_FOUND, "not-found");

    assert_eq!(contact_count(&ed, &tenant).await, 1);
}

emma_tests::on_both_adapter_sets!(bad_input_is_refused_with_a_problem_and_changes_nothing,);

/// Every operation in the OpenAPI document reaches a handler (no "no-route"
/// answer), and the document is the one served at /api/openapi.json.
#[tokio::test]
async fn the_openapi_document_describes_exactly_the_served_routes() {
    let app = spawn(Adapters::Local).await;
    let ed = app.anonymous();
    let served = ed.get("/api/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.json["openapi"].as_str().unwrap().starts_with("3.1"));
    let document = serde_json::to_value(emma::http::openapi()).unwrap();
    assert_eq!(served.json, document);

    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{tenant_id}", "sparkasse-a-000000")
            .replace("{contact_id}", "0192f0c87b1e7cc39a553e1f2b4c5d6e");
        for method in item.as_object().unwrap().keys() {
            let request = http::Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&concrete)
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{}"))
                .unwrap();
            let reply = ed.send(request).await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_ne!(
                reply.json["type"], "urn:emma:problem:no-route",
                "{method} {path}"
            );
            operations += 1;
        }
    }
    assert!(operations >= 6, "{operations} operations documented");

    // Every documented operation has an access rule, and every rule is a
    // documented operation: the table in `http::access` is complete.
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    for (method, path) in &documented {
        let method = http::Method::from_bytes(method.as_bytes()).unwrap();
        assert!(
            emma::http::access::rule(&method, path).is_some(),
            "{method} {path} has no access rule"
        );
    }
    // (Pages of the browser UI are not part of the JSON API's document.)
    for rule in emma::http::access::ROUTES
        .iter()
        .filter(|r| !emma::http::access::is_page(r.path))
    {
        assert!(
            documented.contains(&(rule.method.to_string(), rule.path.to_owned())),
            "{} {} is in the access table but not documented",
            rule.method,
            rule.path
        );
    }
}
