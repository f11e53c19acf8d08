//! Lambda `webhook`: SES delivery events through SNS.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_events(emma::lambda::webhook).await
}
