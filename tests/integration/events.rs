//! The sample events in events/ fed to the functions exactly as Lambda
//! would: API Gateway requests through `lambda_http::request::from_str` into
//! the function's router, and SQS and EventBridge events as `LambdaEvent`s
//! into the function's handler.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use emma::domain::Role;
use emma::http::{contacts, system};
use emma_tests::app::{Adapters, spawn};
use emma_tests::sent;
use http::StatusCode;
use lambda_runtime::{Context, LambdaEvent};

use crate::skeleton::{create_contact, create_tenant};

/// The sample tenant id the events carry; tests put a real one in its place.
const SAMPLE_TENANT: &str = "sparkasse-musterstadt-a1b2c3";
const SAMPLE_CONTACT: &str = "0192f0c87b1e7cc39a553e1f2b4c5d6e";

fn sample(name: &str) -> String {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Invokes an HTTP function with an API Gateway (HTTP API v2) event exactly
/// as the Lambda runtime does: the event through `lambda_http`'s adapter
/// into the function's router, and the answer back into the API Gateway
/// response shape. Returns the status and the body as JSON.
async fn invoke_http(function: axum::Router, event_json: &str) -> (u16, serde_json::Value) {
    use lambda_http::request::LambdaRequest;
    use lambda_http::tower::ServiceExt;
    let request: LambdaRequest = serde_json::from_str(event_json).expect("an API Gateway event");
    let response = lambda_http::Adapter::from(function)
        .oneshot(LambdaEvent::new(request, Context::default()))
        .await
        .expect("the function answers");
    // What the runtime hands back to API Gateway.
    let response = serde_json::to_value(&response).expect("a serializable response");
    let status = response["statusCode"].as_u64().expect("a status code") as u16;
    assert_eq!(response["isBase64Encoded"], false);
    let body = response["body"]
        .as_str()
        .map(|text| serde_json::from_str(text).expect("a JSON body"))
        .unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// The event as a signed-in browser would send it: API Gateway carries the
/// cookies in `cookies`, the CSRF token and the origin as headers.
fn signed_in_event(event_json: &str, client: &emma_tests::http::Client) -> String {
    let session = client.session.as_ref().expect("a signed-in client");
    let mut event: serde_json::Value = serde_json::from_str(event_json).unwrap();
    event["cookies"] = serde_json::json!([session.cookie]);
    event["headers"]["x-csrf-token"] = session.csrf_token.clone().into();
    event["headers"]["origin"] = client.origin.clone().into();
    event.to_string()
}

async fn the_health_event_answers_through_the_system_function(adapters: Adapters) {
    let app = spawn(adapters).await;
    let function = emma::http::router(app.app().clone(), &[system::routes]);
    let (status, body) = invoke_http(function, &sample("apigw-health.json")).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let expected_store = match adapters {
        Adapters::Local => "sqlite",
        Adapters::Cloud => "dynamodb",
    };
    assert_eq!(body["adapters"]["store"], expected_store);
}

async fn the_create_contact_event_stores_a_contact_through_the_contacts_function(
    adapters: Adapters,
) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Musterstadt").await;
    let ed = app.signed_in(Role::Editor, Some(&tenant)).await;
    let event = signed_in_event(
        &sample("apigw-create-contact.json").replace(SAMPLE_TENANT, &tenant),
        &ed,
    );
    let function = emma::http::router(app.app().clone(), &[contacts::routes]);
    let (status, body) = invoke_http(function.clone(), &event).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap();
    let read = ed
        .get(&format!("/api/tenants/{tenant}/contacts/{id}"))
        .await;
    assert_eq!(read.json["email"], "erika.mustermann@example.de");
    // The contacts function serves only its own group.
    let health = emma_tests::http::get(&function, "/health").await;
    assert_eq!(health.status, StatusCode::NOT_FOUND);
}

async fn the_sqs_batch_event_sends_and_reports_only_retryable_failures(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Musterstadt").await;
    // The emulator keeps every message it was sent: an address of this run.
    let address = format!("jobs-{}@example.de", uuid::Uuid::new_v4().simple());
    let contact = create_contact(&app, &tenant, &address, "Jana").await;
    let json = sample("sqs-send-batch.json").replace(SAMPLE_TENANT, &tenant);
    let mut event: SqsEvent = serde_json::from_str(&json).expect("an SQS event");
    assert_eq!(event.records.len(), 2);
    // First record: a contact that exists. Second: one that does not (a
    // permanent failure: logged, not retried). Third, added: not a job at
    // all, which must come back as a batch item failure.
    event.records[0].body = event.records[0]
        .body
        .as_ref()
        .map(|b| b.replace(SAMPLE_CONTACT, &contact));
    let mut broken = event.records[1].clone();
    broken.message_id = Some("broken-1".to_owned());
    broken.body = Some("{\"kind\":\"no_such_job\"}".to_owned());
    event.records.push(broken);

    let response = emma::lambda::send(
        app.app().clone(),
        LambdaEvent::new(event, Context::default()),
    )
    .await
    .expect("the handler answers");
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["broken-1"]);

    let mails = sent::messages_containing(&app, &address).await;
    assert_eq!(mails.len(), 1);
}

async fn the_schedule_event_ticks_the_scheduler_and_health_shows_it(adapters: Adapters) {
    let app = spawn(adapters).await;
    let ed = app.anonymous();
    let before = ed.get("/health").await;
    assert_eq!(before.json["scheduler_last_tick"], serde_json::Value::Null);
    let event: EventBridgeEvent<serde_json::Value> =
        serde_json::from_str(&sample("eventbridge-schedule.json")).expect("an EventBridge event");
    let heartbeat = emma::lambda::scheduler(
        app.app().clone(),
        LambdaEvent::new(event, Context::default()),
    )
    .await
    .expect("the tick runs");
    let after = ed.get("/health").await;
    let shown: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(after.json["scheduler_last_tick"].clone()).expect("a time");
    assert_eq!(shown, heartbeat.last_tick);
}

async fn the_ses_events_through_sns_are_stored_once_and_without_addresses(adapters: Adapters) {
    let app = spawn(adapters).await;
    let tenant = create_tenant(&app, "Sparkasse Musterstadt").await;
    let tenant_id = emma::domain::TenantId::parse(&tenant).unwrap();
    for name in ["sns-ses-bounce.json", "sns-ses-complaint.json"] {
        let json = sample(name).replace(SAMPLE_TENANT, &tenant);
        // SNS may deliver the same notification twice.
        for _ in 0..2 {
            let event: SnsEvent = serde_json::from_str(&json).expect("an SNS event");
            let outcome = emma::lambda::webhook(
                app.app().clone(),
                LambdaEvent::new(event, Context::default()),
            )
            .await
            .expect("the webhook stores the event");
            assert_eq!(outcome.stored, 1);
        }
    }
    let events = emma::services::feedback::list(app.app(), &tenant_id, 100)
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    let bounce = events
        .iter()
        .find(|e| e.kind == "Bounce")
        .expect("the bounce");
    assert!(bounce.hard_bounce);
    let complaint = events
        .iter()
        .find(|e| e.kind == "Complaint")
        .expect("the complaint");
    assert!(complaint.complaint);
    // Filed under each recipient's contact id: a keyed hash, no address.
    for (kind, address) in [
        ("Bounce", "erika.mustermann@example.de"),
        ("Complaint", "max.mustermann@example.de"),
    ] {
        let address = emma::domain::EmailAddress::parse(address).unwrap();
        let contact = app.app().pseudonyms.contact_id(&tenant_id, &address);
        let of_contact = emma::services::feedback::of_contact(app.app(), &tenant_id, &contact)
            .await
            .unwrap();
        assert_eq!(of_contact.len(), 1, "{of_contact:?}");
        assert_eq!(of_contact[0].kind, kind);
    }
    let stored = serde_json::to_string(&events).unwrap();
    assert!(!stored.contains('@'), "{stored}");
}

async fn an_sns_record_that_is_not_an_ses_event_fails_the_invocation(adapters: Adapters) {
    let app = spawn(adapters).await;
    let mut event: SnsEvent = serde_json::from_str(&sample("sns-ses-bounce.json")).unwrap();
    event.records[0].sns.message = "{\"hello\": \"world\"}".to_owned();
    let result = emma::lambda::webhook(
        app.app().clone(),
        LambdaEvent::new(event, Context::default()),
    )
    .await;
    assert!(
        result.is_err(),
        "SNS must retry it and park it in the dead-letter queue"
    );
}

emma_tests::on_both_adapter_sets!(
    the_health_event_answers_through_the_system_function,
    the_create_contact_event_stores_a_contact_through_the_contacts_function,
    the_sqs_batch_event_sends_and_reports_only_retryable_failures,
    the_schedule_event_ticks_the_scheduler_and_health_shows_it,
    the_ses_events_through_sns_are_stored_once_and_without_addresses,
    an_sns_record_that_is_not_an_ses_event_fails_the_invocation,
);

/// On AWS the webhook takes delivery events only from the configured topic.
#[tokio::test]
async fn an_sns_record_from_another_topic_is_refused_and_nothing_is_stored() {
    let app = spawn(Adapters::Cloud).await;
    let tenant = create_tenant(&app, "Sparkasse Musterstadt").await;
    let json = sample("sns-ses-bounce.json").replace(SAMPLE_TENANT, &tenant);
    let mut event: SnsEvent = serde_json::from_str(&json).unwrap();
    event.records[0].sns.topic_arn =
        "arn:aws:sns:eu-central-1:999999999999:someone-else".to_owned();
    let result = emma::lambda::webhook(
        app.app().clone(),
        LambdaEvent::new(event, Context::default()),
    )
    .await;
    let error = result.expect_err("a foreign topic is refused");
    assert!(error.to_string().contains("someone-else"), "{error}");
    let tenant_id = emma::domain::TenantId::parse(&tenant).unwrap();
    let stored = emma::services::feedback::list(app.app(), &tenant_id, 10)
        .await
        .unwrap();
    assert!(stored.is_empty());
}
