//! The AWS emulator (moto) the test command starts. Tests that need it fail
//! loudly when it is not there; they are never skipped.

use aws_config::SdkConfig;

/// The emulator's endpoint. Panics, naming the fix, when the test command
/// did not start one; refuses anything that is not on this machine, so no
/// test can reach a real AWS account.
pub fn endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL is not set: these tests need the AWS emulator. \
             Run the suite with ./scripts/test, which starts moto and sets it."
        )
    });
    assert!(
        endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://localhost:"),
        "AWS_ENDPOINT_URL must point at the local emulator, not {endpoint}"
    );
    endpoint
}

/// SDK configuration for the emulator.
pub async fn config() -> SdkConfig {
    emma::adapters::aws::sdk_config(Some(&endpoint())).await
}

/// A name no other test uses, for tables, buckets and queues: tests share
/// one emulator and run in parallel.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}
