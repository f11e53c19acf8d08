//! Building the AWS SDK configuration and clients, once per process. With an
//! endpoint set (moto, LocalStack) every client talks to it, and S3 uses
//! path-style addressing.

use aws_config::{BehaviorVersion, SdkConfig, meta::region::RegionProviderChain};

/// The region used when none is configured.
pub const DEFAULT_REGION: &str = "eu-central-1";

/// Loads the SDK configuration from the environment (credentials, region),
/// pointing every client at `endpoint` when one is given.
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let region = RegionProviderChain::default_provider().or_else(DEFAULT_REGION);
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// The S3 client; path-style addressing when an endpoint override is set,
/// since emulators do not serve bucket subdomains.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = config.endpoint_url().is_some();
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

pub fn sesv2_client(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(config)
}

pub fn sqs_client(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}
